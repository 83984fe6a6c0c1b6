from lipsglass.stages.homology import fsdp_link_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    fsdp_link_job(snakemake.input.pd_h1, snakemake.input.fsdp, snakemake.input.configuration, snakemake.params.settings,
                  snakemake.output.link)
