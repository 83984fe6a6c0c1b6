from lipsglass.stages.summary import structure_claims_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    structure_claims_job(dict(zip(snakemake.params.glasses, snakemake.input.rdf)), snakemake.output.claims)
