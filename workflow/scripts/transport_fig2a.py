from lipsglass.stages.transport import arrhenius_figure_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    arrhenius_figure_job(dict(zip(snakemake.params.glasses, snakemake.input.arrhenius)),
                         dict(zip(snakemake.params.glasses, snakemake.input.tables)),
                         snakemake.output.png, snakemake.output.pdf)
