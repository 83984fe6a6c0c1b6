from lipsglass.stages.softness_model import model_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    model_job(snakemake.input.features, snakemake.params.settings, snakemake.output.model)
