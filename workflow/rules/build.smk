rule build_glass:
    """Random packing of the glass's anion units and Li with full force-field topology."""
    output:
        data="results/{glass}/build/initial.data",
        provenance="results/{glass}/build/provenance.json",
    params:
        units=composition_units,
        forcefield=config["forcefield"],
        build=config["build"],
    conda:
        "../../envs/lipsglass.yaml"
    log:
        "logs/{glass}/build_glass.log",
    script:
        "../scripts/build_glass.py"
