from lipsglass.stages.softness import snapshot_figure_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    snapshot_figure_job(snakemake.wildcards.glass, snakemake.input.data, snakemake.input.softness,
                        snakemake.output.png, snakemake.output.pdf)
