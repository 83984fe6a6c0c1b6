from lipsglass.stages.softness import properties_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log.job):
    properties_job(snakemake.input.data, snakemake.params.forcefield, snakemake.params.md, snakemake.output.table,
                   log_file=snakemake.log.lammps, threads=snakemake.threads, settings=snakemake.params.settings,
                   trajectory=snakemake.input.trajectory)
