from lipsglass.stages.structure import sq_figure_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    sq_figure_job(dict(zip(snakemake.params.glasses, snakemake.input.sq)),
                  dict(zip(snakemake.params.glasses, snakemake.input.fsdp)),
                  snakemake.output.png, snakemake.output.pdf)
