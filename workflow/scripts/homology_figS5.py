from lipsglass.stages.homology import softness_rings_figure_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    softness_rings_figure_job(dict(zip(snakemake.params.glasses, snakemake.input.results)),
                              dict(zip(snakemake.params.glasses, snakemake.input.softness)),
                              snakemake.output.png, snakemake.output.pdf)
