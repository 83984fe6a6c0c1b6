from lipsglass.stages.softness_model import transfer_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    glasses = snakemake.params.glasses
    transfer_job(dict(zip(glasses, snakemake.input.models)), dict(zip(glasses, snakemake.input.features)),
                 snakemake.params.settings, snakemake.output.table)
