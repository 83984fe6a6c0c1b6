rule transport_run:
    """Li MSD, tracer D (block and bootstrap SEs), diffusive check and conductivities of one
    production run."""
    input:
        trajectory="results/{glass}/r{replica}/nvt/{T}K/trajectory.lammpstrj",
        thermo="results/{glass}/r{replica}/nvt/{T}K/thermo.csv",
    output:
        result="results/{glass}/r{replica}/transport/{T}K/diffusion.json",
        msd="results/{glass}/r{replica}/transport/{T}K/msd.csv",
    log:
        "logs/{glass}/r{replica}/transport_run_{T}K.log",
    benchmark:
        "results/benchmarks/{glass}/r{replica}/transport_run_{T}K.tsv"
    conda:
        "../../envs/lipsglass.yaml"
    params:
        temperature_K=production_temperature_K,
        timestep_fs=config["md"]["timestep_fs"],
        settings=reads("transport_run", "transport"),
    script:
        "../scripts/transport_run.py"


rule transport_replica:
    """D(T) table of one replica glass and its own Arrhenius fit over its glassy diffusive runs."""
    input:
        runs=transport_run_files("diffusion.json"),
        phases=transport_run_files("phase.json"),
        glass="results/{glass}/r{replica}/quench/glass.data",
    output:
        table="results/{glass}/r{replica}/transport/diffusion.csv",
        arrhenius="results/{glass}/r{replica}/transport/arrhenius.json",
    log:
        "logs/{glass}/r{replica}/transport_replica.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        settings=reads("transport_replica", "transport"),
    script:
        "../scripts/transport_arrhenius.py"


rule transport_composition:
    """D(T) of a composition combined over its replicas (between-replica spread included), the
    Arrhenius fit behind C1/C2 over its glassy temperatures, the fits of each regime, the
    Nernst-Einstein conductivity extrapolated to the configured temperature."""
    input:
        runs=composition_run_files("diffusion.json"),
        phases=composition_run_files("phase.json"),
        replica_fits=transport_replica_files("arrhenius.json"),
        glasses=replica_files("results/{{glass}}/r{replica}/quench/glass.data"),
    output:
        table="results/{glass}/transport/diffusion.csv",
        arrhenius="results/{glass}/transport/arrhenius.json",
    log:
        "logs/{glass}/transport_composition.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        settings=reads("transport_composition", "transport"),
        n_replicas=len(REPLICAS),
        duration_ps=production_run_lengths(),
    script:
        "../scripts/transport_composition.py"


rule fig2a_arrhenius:
    """Fig. 2A: D(T) of every glass with its Arrhenius line and activation energy."""
    input:
        arrhenius=expand("results/{glass}/transport/arrhenius.json", glass=GLASSES),
        tables=expand("results/{glass}/transport/diffusion.csv", glass=GLASSES),
    output:
        png=report(
            "results/figures/fig2a_arrhenius.png",
            caption="../report/fig2a_arrhenius.rst",
            category="Figure 2 (transport)",
        ),
        pdf="results/figures/fig2a_arrhenius.pdf",
    log:
        "logs/figures/fig2a_arrhenius.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
    script:
        "../scripts/transport_fig2a.py"


rule fig2b_conductivity:
    """Fig. 2B: extrapolated Nernst-Einstein conductivity of every glass against experiments."""
    input:
        arrhenius=expand("results/{glass}/transport/arrhenius.json", glass=GLASSES),
        experimental=project_file("config/experimental_conductivity.csv"),
    output:
        png=report(
            "results/figures/fig2b_conductivity.png",
            caption="../report/fig2b_conductivity.rst",
            category="Figure 2 (transport)",
        ),
        pdf="results/figures/fig2b_conductivity.pdf",
    log:
        "logs/figures/fig2b_conductivity.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
    script:
        "../scripts/transport_fig2b.py"


rule msd_figure:
    """Li MSD of every production run of a glass, fit windows and local log-log slope."""
    input:
        runs=expand(
            primary("results/{glass}/transport/{T}K/diffusion.json"), T=temperature_labels(), allow_missing=True
        ),
        msd=expand(primary("results/{glass}/transport/{T}K/msd.csv"), T=temperature_labels(), allow_missing=True),
        phases=expand(primary("results/{glass}/transport/{T}K/phase.json"), T=temperature_labels(), allow_missing=True),
    output:
        png=report(
            "results/figures/msd_{glass}.png",
            caption="../report/msd.rst",
            category="Figure 2 (transport)",
            subcategory="{glass}",
        ),
        pdf="results/figures/msd_{glass}.pdf",
    log:
        "logs/figures/msd_{glass}.log",
    conda:
        "../../envs/lipsglass.yaml"
    script:
        "../scripts/transport_msd_figure.py"
