from lipsglass.stages.softness import claims_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    glasses = snakemake.params.glasses
    claims_job(
        models=dict(zip(glasses, snakemake.input.models)),
        pooled_model=snakemake.input.pooled_model,
        softness=dict(zip(glasses, snakemake.input.softness)),
        correlations=snakemake.input.correlations,
        partial_rdf=dict(zip(glasses, snakemake.input.partial_rdf)),
        units=snakemake.params.units,
        claims_yaml=snakemake.input.claims,
        settings=snakemake.params.settings,
        out_csv=snakemake.output.table,
        out_md=snakemake.output.report,
        replica_softness={g: [p for p in snakemake.input.replica_softness if p.startswith(f"results/{g}/")]
                          for g in glasses},
    )
