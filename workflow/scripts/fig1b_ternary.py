from lipsglass.stages.structure import ternary_figure_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    ternary_figure_job(dict(zip(snakemake.params.glasses, snakemake.input.speciation)),
                       snakemake.input.literature, snakemake.output.png, snakemake.output.pdf)
