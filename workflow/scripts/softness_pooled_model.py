from lipsglass.stages.softness_model import pooled_model_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    pooled_model_job(dict(zip(snakemake.params.glasses, snakemake.input.features)), snakemake.params.settings,
                     snakemake.output.model)
