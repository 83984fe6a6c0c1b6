from lipsglass.stages.neb import summary_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    summary_job(dict(zip(snakemake.params.glasses, snakemake.input.barriers)), snakemake.params.settings,
                snakemake.output.table)
