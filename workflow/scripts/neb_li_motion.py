from lipsglass.stages.neb import li_motion_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    li_motion_job(snakemake.input.trajectory, snakemake.input.atom_labels, snakemake.params.settings,
                  {"timestep_fs": snakemake.params.timestep_fs}, snakemake.params.radius_A,
                  snakemake.params.temperature_K, snakemake.output.table, snakemake.output.summary)
