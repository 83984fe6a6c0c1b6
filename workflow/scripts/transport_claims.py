from lipsglass.stages.summary import transport_claims_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    transport_claims_job(dict(zip(snakemake.params.glasses, snakemake.input.arrhenius)), snakemake.params.units,
                         snakemake.input.experimental, snakemake.params.production_ps, snakemake.params.criteria,
                         snakemake.output.claims)
