rule transport_run:
    """Li MSD, tracer D (block and bootstrap SEs), diffusive flag and conductivities of one
    production run."""
    input:
        trajectory="results/{glass}/nvt/{T}K/trajectory.lammpstrj",
        thermo="results/{glass}/nvt/{T}K/thermo.csv",
    output:
        result="results/{glass}/transport/{T}K/diffusion.json",
        msd="results/{glass}/transport/{T}K/msd.csv",
    params:
        temperature_K=production_temperature_K,
        timestep_fs=config["md"]["timestep_fs"],
        settings=config["transport"],
    conda:
        "../../envs/lipsglass.yaml"
    log:
        "logs/{glass}/transport_run_{T}K.log",
    benchmark:
        "benchmarks/{glass}/transport_run_{T}K.tsv"
    script:
        "../scripts/transport_run.py"


rule transport_arrhenius:
    """D(T) table of a glass, Arrhenius fit over its diffusive runs, D and Nernst-Einstein
    conductivity extrapolated to the configured temperature."""
    input:
        runs=transport_run_files("diffusion.json"),
        glass="results/{glass}/quench/glass.data",
    output:
        table="results/{glass}/transport/diffusion.csv",
        arrhenius="results/{glass}/transport/arrhenius.json",
    params:
        settings=config["transport"],
    conda:
        "../../envs/lipsglass.yaml"
    log:
        "logs/{glass}/transport_arrhenius.log",
    script:
        "../scripts/transport_arrhenius.py"


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
    params:
        glasses=GLASSES,
    conda:
        "../../envs/lipsglass.yaml"
    log:
        "logs/figures/fig2a_arrhenius.log",
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
    params:
        glasses=GLASSES,
    conda:
        "../../envs/lipsglass.yaml"
    log:
        "logs/figures/fig2b_conductivity.log",
    script:
        "../scripts/transport_fig2b.py"


rule msd_figure:
    """Li MSD of every production run of a glass, fit windows and local log-log slope."""
    input:
        runs=transport_run_files("diffusion.json"),
        msd=transport_run_files("msd.csv"),
    output:
        png=report(
            "results/figures/msd_{glass}.png",
            caption="../report/msd.rst",
            category="Figure 2 (transport)",
            subcategory="{glass}",
        ),
        pdf="results/figures/msd_{glass}.pdf",
    conda:
        "../../envs/lipsglass.yaml"
    log:
        "logs/figures/msd_{glass}.log",
    script:
        "../scripts/transport_msd_figure.py"
