rule structure_claims:
    """Claims C7 (Li-S g(r) peaks by anion) and C13 (P-S peaks by anion), every replica a glass."""
    input:
        rdf=expand("results/{glass}/r{replica}/structure/partial_rdf.csv", glass=GLASSES, replica=REPLICAS),
        li_s_shell=expand("results/{glass}/r{replica}/structure/li_s_shell.json", glass=GLASSES, replica=REPLICAS),
    output:
        claims="results/summary/structure_claims.csv",
    log:
        "logs/summary/structure_claims.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
        n_replicas=len(REPLICAS),
        units=glass_units(),
        production_ps=production_duration_ps(config["production"], config["structure"]["temperature_K"]),
        criteria=reads("structure_claims", "claims"),
    script:
        "../scripts/structure_claims.py"


rule transport_claims:
    """Claims C1 (Arrhenius, Ea vs P2S6) and C2 (conductivity vs experiment)."""
    input:
        arrhenius=expand("results/{glass}/transport/arrhenius.json", glass=GLASSES),
        experimental=project_file("config/experimental_conductivity.csv"),
    output:
        claims="results/summary/transport_claims.csv",
    log:
        "logs/summary/transport_claims.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
        units=glass_units(),
        # the longest run (production.durations_ps may lengthen the transport temperatures)
        production_ps=max(
            production_duration_ps(config["production"], T) for T in config["production"]["temperatures_K"]
        ),
        criteria=reads("transport_claims", "claims"),
    script:
        "../scripts/transport_claims.py"


rule study_plan:
    """Per undecided claim, the study size that would decide it (alpha 0.05, power 0.8) and its
    cost; the config overlay that runs it (lipsglass.planning); from the measured runs and Tg,
    the workstation design that decides C1/C2 at this cell size (workstation_transport.yaml,
    lipsglass.workstation_design)."""
    input:
        claims=scorecard_claim_files(),
        arrhenius=expand("results/{glass}/transport/arrhenius.json", glass=GLASSES),
        barriers=expand("results/{glass}/neb/barriers.csv", glass=neb_glasses()),
        paper=project_file("config/paper.yaml"),
        runs=expand(
            "results/{glass}/r{replica}/transport/{T}K/diffusion.json",
            glass=GLASSES,
            replica=REPLICAS,
            T=temperature_labels(),
        ),
        phases=expand(
            "results/{glass}/r{replica}/transport/{T}K/phase.json",
            glass=GLASSES,
            replica=REPLICAS,
            T=temperature_labels(),
        ),
        tg=expand("results/{glass}/r{replica}/quench/tg.json", glass=GLASSES, replica=REPLICAS),
        experimental=project_file("config/experimental_conductivity.csv"),
    output:
        plan="results/summary/study_plan.csv",
        overlay="results/summary/reproduction.yaml",
        workstation="results/summary/workstation_transport.yaml",
    log:
        "logs/summary/study_plan.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
        neb_glasses=neb_glasses(),
        study={
            "replicas": config["replicas"],
            "glasses": config.get("glasses", "all"),
            **{
                k: reads("study_plan", k)
                for k in (
                    "compositions",
                    "production",
                    "md",
                    "quench",
                    "neb",
                    "claims",
                    "transport",
                    "glass_transition",
                )
            },
        },
    script:
        "../scripts/study_plan.py"


rule scorecard:
    """The reproduction scorecard: every claim of the paper with its verdict and numbers."""
    input:
        claims=scorecard_claim_files(),
        texts=project_file("config/paper_claims.yaml"),
        plan="results/summary/study_plan.csv",
    output:
        csv=report(
            "results/summary/scorecard.csv",
            caption="../report/scorecard.rst",
            category="Reproduction scorecard",
        ),
        md="results/summary/scorecard.md",
        html=report(
            "results/summary/scorecard.html",
            caption="../report/scorecard.rst",
            category="Reproduction scorecard",
        ),
    log:
        "logs/summary/scorecard.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        config_name=scorecard_config_name(),
        scale=study_size_text(config),
    script:
        "../scripts/scorecard.py"


rule validation:
    """Every kernel beside an independent implementation on a small standard case (kinisi, OVITO,
    HomCloud, Ariga's reference energies, ASE NEB): the agreement table (lipsglass.validation)."""
    output:
        csv="results/validation/agreement.csv",
        md="results/validation/agreement.md",
        html=report(
            "results/validation/agreement.html",
            caption="../report/validation.rst",
            category="Validation",
        ),
    log:
        "logs/summary/validation.log",
    benchmark:
        "results/benchmarks/summary/validation.tsv"
    conda:
        "../../envs/lipsglass.yaml"
    params:
        # Ariga's reference energies, carried by the workflow's own tests/data
        ariga_dir=str(SOURCE_ROOT / "tests" / "data" / "ariga2022"),
    script:
        "../scripts/validation.py"


rule overview_figure:
    """One page: the scorecard's verdicts beside Fig. 2A, 3B, 3E and 4C (the report's first entry)."""
    input:
        scorecard="results/summary/scorecard.csv",
        panels=list(OVERVIEW_PANELS.values()),
    output:
        png=report(
            "results/figures/overview.png",
            caption="../report/overview.rst",
            category="At a glance",
        ),
        pdf="results/figures/overview.pdf",
    log:
        "logs/figures/overview.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        titles=list(OVERVIEW_PANELS),
    script:
        "../scripts/overview_figure.py"
