from lipsglass.stages.rendered import traces_figure_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    traces_figure_job(snakemake.params.glass, snakemake.input.trajectory[0], snakemake.input.atom_labels,
                      snakemake.input.motion, snakemake.params.settings, snakemake.params.md,
                      snakemake.params.radius_A, snakemake.output.png, snakemake.output.pdf)
