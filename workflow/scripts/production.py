# Thin wrapper: the job lives in lipsglass.stages.md, the protocol in lipsglass.engine. md.segment_ps and the lammps section are read
# from the config, not params: they change speed and restartability, not results (no rerun).
from lipsglass.stages.md import run_production_job

run_production_job(
    glass_data=snakemake.input.data,
    outputs={k: snakemake.output[k] for k in ("trajectory", "thermo", "data", "lammps_input", "provenance")},
    forcefield=snakemake.params.forcefield,
    md_config=dict(snakemake.params.md, segment_ps=snakemake.config["md"].get("segment_ps")),
    production_config=snakemake.params.production,
    temperature=float(snakemake.wildcards.T),
    start_temperature=snakemake.params.start_T_K,
    dump_interval_ps=snakemake.params.dump_interval_ps,
    units=snakemake.params.units,
    log=snakemake.log[0],
    threads=snakemake.threads,
    glass=snakemake.wildcards.glass,
    ranks=snakemake.resources.tasks,
    # None (no mpi resource): the environment's mpiexec when tasks > 1
    mpi_launcher=snakemake.resources.get("mpi"),
    lammps=snakemake.config.get("lammps"),
)
