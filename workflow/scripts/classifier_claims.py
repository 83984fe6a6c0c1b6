from lipsglass.claims.classifier import claims_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    claims_job(snakemake.input.curve, snakemake.params.criteria, snakemake.params.level, snakemake.output.table)
