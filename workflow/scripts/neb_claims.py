from lipsglass.stages.neb import claims_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    paths = iter(snakemake.input.motion)  # expand order: glass-major, then replica
    motion = {g: {r: next(paths) for r in snakemake.params.replicas} for g in snakemake.params.glasses}
    barriers = dict(zip(snakemake.params.neb_glasses, snakemake.input.barriers))
    claims_job(barriers, motion, snakemake.params.criteria, snakemake.params.level, snakemake.params.atoms,
               snakemake.output.claims)
