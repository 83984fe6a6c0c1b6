from lipsglass.stages.homology import claims_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    claims_job(dict(zip(snakemake.params.glasses, snakemake.input.links)),
               dict(zip(snakemake.params.glasses, snakemake.input.softness)),
               snakemake.params.ring_definition, snakemake.params.criteria, snakemake.output.claims)
