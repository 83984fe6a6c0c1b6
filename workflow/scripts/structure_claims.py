from lipsglass.stages.summary import structure_claims_job
from lipsglass.workflow_logging import redirect_to_log

# li_s_shell files are expanded glass-major: glass 1 r1..rN, glass 2 r1..rN, ...
glasses, n = snakemake.params.glasses, snakemake.params.n_replicas
shells = list(snakemake.input.li_s_shell)
with redirect_to_log(snakemake.log[0]):
    structure_claims_job(dict(zip(glasses, snakemake.input.rdf)), snakemake.output.claims,
                         li_s_shell={g: shells[k * n:(k + 1) * n] for k, g in enumerate(glasses)},
                         criteria=snakemake.params.criteria)
