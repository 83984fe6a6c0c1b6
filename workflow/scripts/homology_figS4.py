from lipsglass.stages.homology import rings_fsdp_figure_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    rings_fsdp_figure_job(dict(zip(snakemake.params.glasses, snakemake.input.links)),
                          snakemake.output.png, snakemake.output.pdf)
