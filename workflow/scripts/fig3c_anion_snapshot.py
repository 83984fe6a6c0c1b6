from lipsglass.stages.rendered import glass_figure_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    glass_figure_job(snakemake.wildcards.glass, snakemake.input.data, snakemake.input.atom_labels,
                     snakemake.output.png, snakemake.output.pdf, show_li=False, panel="Fig. 3C")
