from lipsglass.stages.transport import msd_figure_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    msd_figure_job(list(snakemake.input.runs), list(snakemake.input.msd), snakemake.output.png, snakemake.output.pdf,
                   phase_files=list(snakemake.input.phases))
