from lipsglass.stages.neb import paths_figure_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    paths_figure_job(snakemake.params.glass, snakemake.input.barriers, snakemake.input.paths,
                     snakemake.output.png, snakemake.output.pdf)
