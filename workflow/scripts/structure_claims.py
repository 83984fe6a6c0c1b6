from lipsglass.stages.summary import structure_claims_job
from lipsglass.workflow_logging import redirect_to_log

# per-replica files are expanded glass-major: glass 1 r1..rN, glass 2 r1..rN, ...
glasses, n = snakemake.params.glasses, snakemake.params.n_replicas


def by_glass(files):
    files = list(files)
    return {g: files[k * n:(k + 1) * n] for k, g in enumerate(glasses)}


with redirect_to_log(snakemake.log[0]):
    structure_claims_job(by_glass(snakemake.input.rdf), by_glass(snakemake.input.li_s_shell), snakemake.params.units,
                         snakemake.params.production_ps, snakemake.params.criteria, snakemake.output.claims)
