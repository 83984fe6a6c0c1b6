from lipsglass.stages.softness_figures import distributions_figure_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    distributions_figure_job(dict(zip(snakemake.params.glasses, snakemake.input.softness)), snakemake.params.bins,
                             snakemake.output.png, snakemake.output.pdf)
