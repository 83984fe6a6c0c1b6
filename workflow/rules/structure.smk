rule structure:
    """Geometric speciation (checked against the built topology), partial g(r), S(q), FSDP, and
    first-shell Li-S distances by anion (C7) of the same frames."""
    input:
        glass="results/{glass}/r{replica}/quench/glass.data",
        trajectory=structure_trajectory,
    output:
        speciation="results/{glass}/r{replica}/structure/speciation.json",
        atom_labels="results/{glass}/r{replica}/structure/atom_labels.csv",
        partial_rdf="results/{glass}/r{replica}/structure/partial_rdf.csv",
        sq="results/{glass}/r{replica}/structure/sq.csv",
        fsdp="results/{glass}/r{replica}/structure/fsdp.json",
        li_s_shell="results/{glass}/r{replica}/structure/li_s_shell.json",
    log:
        "logs/{glass}/r{replica}/structure.log",
    benchmark:
        "results/benchmarks/{glass}/r{replica}/structure.tsv"
    conda:
        "../../envs/lipsglass.yaml"
    params:
        units=composition_units,
        settings=reads("structure", "structure"),
    script:
        "../scripts/structure.py"


rule fig1b_ternary:
    """Fig. 1B: PS4/P2S7/P2S6 fractions of P of the simulated glasses and literature glasses."""
    input:
        speciation=expand(primary("results/{glass}/structure/speciation.json"), glass=GLASSES),
        literature=project_file("config/literature_speciation.csv"),
    output:
        png=report(
            "results/figures/fig1b_ternary.png",
            caption="../report/fig1b_ternary.rst",
            category="Figure 1 (structure)",
        ),
        pdf="results/figures/fig1b_ternary.pdf",
    log:
        "logs/figures/fig1b_ternary.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
    script:
        "../scripts/fig1b_ternary.py"


rule fig1c_snapshot:
    """Fig. 1C: snapshot of a glass coloured by anion type."""
    input:
        glass=primary("results/{glass}/quench/glass.data"),
        atom_labels=primary("results/{glass}/structure/atom_labels.csv"),
    output:
        png=report(
            "results/figures/fig1c_snapshot_{glass}.png",
            caption="../report/fig1c_snapshot.rst",
            category="Figure 1 (structure)",
            subcategory="{glass}",
        ),
        pdf="results/figures/fig1c_snapshot_{glass}.pdf",
    log:
        "logs/figures/fig1c_snapshot_{glass}.log",
    conda:
        "../../envs/lipsglass.yaml"
    script:
        "../scripts/fig1c_snapshot.py"


rule fig1d_partial_rdf:
    """Fig. 1D: P-S and Li-S g(r) resolved by anion type."""
    input:
        table=primary("results/{glass}/structure/partial_rdf.csv"),
    output:
        png=report(
            "results/figures/fig1d_partial_rdf_{glass}.png",
            caption="../report/fig1d_partial_rdf.rst",
            category="Figure 1 (structure)",
            subcategory="{glass}",
        ),
        pdf="results/figures/fig1d_partial_rdf_{glass}.pdf",
    log:
        "logs/figures/fig1d_partial_rdf_{glass}.log",
    conda:
        "../../envs/lipsglass.yaml"
    script:
        "../scripts/fig1d_partial_rdf.py"


rule sq_fsdp_figure:
    """Neutron-weighted S(q) of every glass with the first sharp diffraction peak marked."""
    input:
        sq=expand(primary("results/{glass}/structure/sq.csv"), glass=GLASSES),
        fsdp=expand(primary("results/{glass}/structure/fsdp.json"), glass=GLASSES),
    output:
        png=report(
            "results/figures/sq_fsdp.png",
            caption="../report/sq_fsdp.rst",
            category="Figure 1 (structure)",
        ),
        pdf="results/figures/sq_fsdp.pdf",
    log:
        "logs/figures/sq_fsdp.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
    script:
        "../scripts/sq_fsdp.py"
