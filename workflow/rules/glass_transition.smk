rule tg_replica:
    """Tg of one quench replica: two-line fits of V(T) and H(T) on its cooling ramp."""
    input:
        thermo="results/{glass}/r{replica}/quench/thermo.csv",
    output:
        tg="results/{glass}/r{replica}/quench/tg.json",
    log:
        "logs/{glass}/r{replica}/tg_replica.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        settings=glass_transition_settings("tg_replica"),
    script:
        "../scripts/tg_replica.py"


rule tg_composition:
    """Tg of a composition over its replicas, at the quench's scan rate, and the replicas' glass
    densities beside Ariga's models."""
    input:
        tg=replica_files("results/{{glass}}/r{replica}/quench/tg.json"),
        thermo=replica_files("results/{{glass}}/r{replica}/quench/thermo.csv"),
        glasses=replica_files("results/{{glass}}/r{replica}/quench/glass.data"),
        reference=project_file("config/reference_density.csv"),
    output:
        tg="results/{glass}/tg.json",
    log:
        "logs/{glass}/tg_composition.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        settings=glass_transition_settings("tg_composition"),
    script:
        "../scripts/tg_composition.py"


rule tg_figure:
    """Specific volume and enthalpy against T on every replica's cooling ramp, with Tg."""
    input:
        tg=expand("results/{glass}/tg.json", glass=GLASSES),
        thermo=expand("results/{glass}/r{replica}/quench/thermo.csv", glass=GLASSES, replica=REPLICAS),
    output:
        png=report(
            "results/figures/tg_volume_enthalpy.png",
            caption="../report/tg_volume_enthalpy.rst",
            category="Glass transition",
        ),
        pdf="results/figures/tg_volume_enthalpy.pdf",
    log:
        "logs/figures/tg_volume_enthalpy.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
        n_replicas=len(REPLICAS),
    script:
        "../scripts/tg_figure.py"


rule run_phase:
    """Glass or liquid for one production run: density change beyond the glass's thermal
    expansion, anion-centre (P) MSD plateau, T/Tg."""
    input:
        trajectory="results/{glass}/r{replica}/nvt/{T}K/trajectory.lammpstrj",
        thermo="results/{glass}/r{replica}/nvt/{T}K/thermo.csv",
        glass="results/{glass}/r{replica}/quench/glass.data",
        tg="results/{glass}/r{replica}/quench/tg.json",
    output:
        phase="results/{glass}/r{replica}/transport/{T}K/phase.json",
        anion_msd="results/{glass}/r{replica}/transport/{T}K/anion_msd.csv",
    log:
        "logs/{glass}/r{replica}/run_phase_{T}K.log",
    benchmark:
        "results/benchmarks/{glass}/r{replica}/run_phase_{T}K.tsv"
    conda:
        "../../envs/lipsglass.yaml"
    params:
        temperature_K=production_temperature_K,
        timestep_fs=config["md"]["timestep_fs"],
        settings=glass_transition_settings("run_phase"),
    script:
        "../scripts/run_phase.py"
