# Homology stage (paper Fig. S4, S5; claims C11, C12). Science in lipsglass.homology; job
# functions in lipsglass.stages.homology. The configuration analysed is the softness stage's,
# so that rings and Li softness share coordinates.


rule homology:
    """Periodic alpha-complex persistence (H0, H1, H2) of the anion network and its H1 rings."""
    input:
        configuration=softness_run_file("final.data"),
    output:
        pd_h0="results/{glass}/homology/pd_h0.csv",
        pd_h1="results/{glass}/homology/pd_h1.csv",
        pd_h2="results/{glass}/homology/pd_h2.csv",
        rings="results/{glass}/homology/rings.json",
    log:
        "logs/{glass}/homology.log",
    benchmark:
        "results/benchmarks/{glass}/homology.tsv"
    conda:
        "../../envs/lipsglass.yaml"
    params:
        settings=reads("homology", "homology"),
    script:
        "../scripts/homology_run.py"


rule homology_fsdp_link:
    """C11 inputs for both ring definitions: rings against the FSDP real-space window (both ring
    lengths, enrichment over persistence thresholds) and the S(q) contribution of ring atoms."""
    input:
        pd_h1="results/{glass}/homology/pd_h1.csv",
        fsdp=primary("results/{glass}/structure/fsdp.json"),
        configuration=softness_run_file("final.data"),
    output:
        link="results/{glass}/homology/fsdp_link.json",
    log:
        "logs/{glass}/homology_fsdp_link.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        settings=reads("homology_fsdp_link", "homology"),
    script:
        "../scripts/homology_fsdp_link.py"


rule homology_softness:
    """Softness of the Li covered by each ring size against all Li, and its spread over spatially
    translated softness fields (both ring definitions)."""
    input:
        pd_h1="results/{glass}/homology/pd_h1.csv",
        configuration=softness_run_file("final.data"),
        softness="results/{glass}/softness/softness.csv",
    output:
        result="results/{glass}/homology/softness_by_ring_size.json",
    log:
        "logs/{glass}/homology_softness.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        settings=reads("homology_softness", "homology"),
    script:
        "../scripts/homology_softness.py"


rule homology_claims:
    """Claims C11 (FSDP from rings larger than 8) and C12 (no ring-size dependence of softness):
    the only homology rule that reads the claims section."""
    input:
        links=homology_glass_files("fsdp_link.json"),
        softness=homology_glass_files("softness_by_ring_size.json"),
    output:
        claims="results/summary/homology_claims.csv",
    log:
        "logs/summary/homology_claims.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
        ring_definition=config["homology"]["ring_definition"],
        criteria=reads("homology_claims", "claims"),
    script:
        "../scripts/homology_claims.py"


rule persistence_diagrams_h1:
    """H1 persistence diagram of every glass."""
    input:
        pd_h1=homology_glass_files("pd_h1.csv"),
    output:
        png=report(
            "results/figures/persistence_diagrams_h1.png",
            caption="../report/persistence_diagrams_h1.rst",
            category="Figures S4 and S5 (medium-range order)",
        ),
        pdf="results/figures/persistence_diagrams_h1.pdf",
    log:
        "logs/figures/persistence_diagrams_h1.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
    script:
        "../scripts/homology_fig_persistence.py"


rule ring_sizes_figure:
    """Ring-size distribution of the persistent rings of every glass."""
    input:
        pd_h1=homology_glass_files("pd_h1.csv"),
    output:
        png=report(
            "results/figures/ring_sizes.png",
            caption="../report/ring_sizes.rst",
            category="Figures S4 and S5 (medium-range order)",
        ),
        pdf="results/figures/ring_sizes.pdf",
    log:
        "logs/figures/ring_sizes.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
        settings=reads("ring_sizes_figure", "homology"),
    script:
        "../scripts/homology_fig_ring_sizes.py"


rule figS4_rings_fsdp:
    """Fig. S4: ring length by ring size against the FSDP window."""
    input:
        links=homology_glass_files("fsdp_link.json"),
    output:
        png=report(
            "results/figures/figS4_rings_fsdp.png",
            caption="../report/figS4_rings_fsdp.rst",
            category="Figures S4 and S5 (medium-range order)",
        ),
        pdf="results/figures/figS4_rings_fsdp.pdf",
    log:
        "logs/figures/figS4_rings_fsdp.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
    script:
        "../scripts/homology_figS4.py"


rule figS5_softness_by_ring_size:
    """Fig. S5b-e: softness of Li near rings of each size against all Li."""
    input:
        results=homology_glass_files("softness_by_ring_size.json"),
        softness=softness_glass_files("softness.csv"),
    output:
        png=report(
            "results/figures/figS5_softness_by_ring_size.png",
            caption="../report/figS5_softness_by_ring_size.rst",
            category="Figures S4 and S5 (medium-range order)",
        ),
        pdf="results/figures/figS5_softness_by_ring_size.pdf",
    log:
        "logs/figures/figS5_softness_by_ring_size.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
    script:
        "../scripts/homology_figS5.py"
