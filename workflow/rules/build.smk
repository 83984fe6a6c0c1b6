rule build_glass:
    """Random packing of the glass's anion units and Li with full force-field topology; each
    replica has its own packing seed."""
    output:
        data="results/{glass}/r{replica}/build/initial.data",
        provenance="results/{glass}/r{replica}/build/provenance.json",
    log:
        "logs/{glass}/r{replica}/build_glass.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        units=composition_units,
        forcefield=config["forcefield"],
        build=replica_settings("build_glass", "build"),
    script:
        "../scripts/build_glass.py"
