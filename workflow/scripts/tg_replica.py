from lipsglass.stages.glass_transition import tg_replica_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    tg_replica_job(snakemake.input.thermo, snakemake.params.settings, snakemake.output.tg)
