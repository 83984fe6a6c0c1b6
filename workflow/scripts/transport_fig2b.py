from lipsglass.stages.transport import conductivity_figure_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    conductivity_figure_job(dict(zip(snakemake.params.glasses, snakemake.input.arrhenius)),
                            snakemake.input.experimental, snakemake.output.png, snakemake.output.pdf)
