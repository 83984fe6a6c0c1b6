# Thin wrapper: the job lives in lipsglass.stages.md, the protocol in lipsglass.engine. md.segment_ps and the lammps section are read
# from the config, not params: they change speed and restartability, not results (no rerun).
from lipsglass.stages.md import run_quench_job

run_quench_job(
    initial_data=snakemake.input.data,
    outputs={k: snakemake.output[k] for k in ("data", "thermo", "lammps_input", "provenance")},
    forcefield=snakemake.params.forcefield,
    md_config=dict(snakemake.params.md, segment_ps=snakemake.config["md"].get("segment_ps")),
    quench_config=snakemake.params.quench,
    units=snakemake.params.units,
    log=snakemake.log[0],
    threads=snakemake.threads,
    glass=snakemake.wildcards.glass,
    ranks=snakemake.resources.tasks,
    # None (no mpi resource): the environment's mpiexec when tasks > 1
    mpi_launcher=snakemake.resources.get("mpi"),
    lammps=snakemake.config.get("lammps"),
)
