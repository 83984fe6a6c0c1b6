from lipsglass.stages.neb import batch_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    batch_job(snakemake.input.configuration, snakemake.input.hops, snakemake.params.forcefield,
              snakemake.params.settings, snakemake.params.md, int(snakemake.wildcards.batch),
              snakemake.params.workdir, snakemake.output.manifest)
