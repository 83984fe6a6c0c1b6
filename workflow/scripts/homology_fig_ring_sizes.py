from lipsglass.stages.homology import ring_sizes_figure_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    ring_sizes_figure_job(dict(zip(snakemake.params.glasses, snakemake.input.pd_h1)), snakemake.params.settings,
                          snakemake.output.png, snakemake.output.pdf)
