from lipsglass.stages.softness_figures import lis_gr_figure_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    lis_gr_figure_job(snakemake.wildcards.glass, snakemake.input.table, snakemake.output.png, snakemake.output.pdf)
