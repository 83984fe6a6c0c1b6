from lipsglass.stages.homology import homology_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    homology_job(snakemake.input.configuration, snakemake.params.settings, dict(snakemake.output.items()))
