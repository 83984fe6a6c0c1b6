from lipsglass.stages.neb import select_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    select_job(snakemake.input.configuration, snakemake.input.softness, snakemake.params.settings,
               snakemake.output.hops, snakemake.output.selection)
