from lipsglass.stages.neb import collect_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    collect_job(snakemake.input.hops, snakemake.input.selection, list(snakemake.input.manifests),
                snakemake.params.workdir, dict(snakemake.output.items()))
