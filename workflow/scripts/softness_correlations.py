from lipsglass.stages.softness_summary import correlations_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    correlations_job(dict(zip(snakemake.params.glasses, snakemake.input.softness)), snakemake.params.settings,
                     snakemake.output.table)
