from lipsglass.stages.summary import scorecard_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    scorecard_job(snakemake.input.texts, list(snakemake.input.claims), snakemake.output.csv, snakemake.output.md,
                  snakemake.params.config_name, snakemake.output.html, snakemake.input.plan,
                  snakemake.params.scale)
