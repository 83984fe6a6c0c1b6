from lipsglass.stages.softness_summary import claims_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    params = snakemake.params
    primary = dict(zip(params.glasses, snakemake.input.softness))
    # every glass: the analysed replica and the further ones (scored with its models)
    softness = {
        g: {params.primary_replica: primary[g]}
        | {r: f"results/{g}/softness/replicas/r{r}/softness.csv" for r in params.other_replicas}
        for g in params.glasses
    }
    missing = {p for per in softness.values() for p in per.values()} - set(snakemake.input.softness) - set(
        snakemake.input.replica_softness
    )
    if missing:
        raise ValueError(f"softness tables not among the rule's inputs: {sorted(missing)}")
    claims_job(
        softness=softness,
        units=params.units,
        windows=dict(zip(params.glasses, snakemake.input.windows)),
        timestep_fs=params.timestep_fs,
        claims_yaml=snakemake.input.claims,
        claims=params.claims,
        anion_assignment=params.anion_assignment,
        out_csv=snakemake.output.table,
        out_md=snakemake.output.report,
    )
