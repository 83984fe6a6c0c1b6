from lipsglass.stages.homology import persistence_figure_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    persistence_figure_job(dict(zip(snakemake.params.glasses, snakemake.input.pd_h1)),
                           snakemake.output.png, snakemake.output.pdf)
