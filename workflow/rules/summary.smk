rule structure_claims:
    """Claims C7 (Li-S distances by anion, every replica) and C13 (P-S distances by anion)."""
    input:
        rdf=expand(primary("results/{glass}/structure/partial_rdf.csv"), glass=GLASSES),
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
        criteria=config["structure"]["claims"],
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
    script:
        "../scripts/transport_claims.py"


rule scorecard:
    """The reproduction scorecard: every claim of the paper with its verdict and numbers."""
    input:
        claims=scorecard_claim_files(),
        texts=project_file("config/paper_claims.yaml"),
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
    script:
        "../scripts/scorecard.py"
