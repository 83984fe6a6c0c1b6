from lipsglass.stages.neb import claims_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    claims_job(snakemake.input.summary, dict(zip(snakemake.params.glasses, snakemake.input.motion)),
               snakemake.params.settings, snakemake.output.claims)
