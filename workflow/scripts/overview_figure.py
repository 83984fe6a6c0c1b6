from lipsglass.stages.summary import overview_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    overview_job(snakemake.input.scorecard, dict(zip(snakemake.params.titles, snakemake.input.panels)),
                 snakemake.output.png, snakemake.output.pdf)
