from lipsglass.stages.neb import barriers_figure_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    barriers_figure_job(dict(zip(snakemake.params.glasses, snakemake.input.barriers)), snakemake.params.classes,
                        snakemake.output.png, snakemake.output.pdf)
