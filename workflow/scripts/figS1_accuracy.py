from lipsglass.stages.softness_figures import accuracy_figure_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    accuracy_figure_job(dict(zip(snakemake.params.glasses, snakemake.input.models)), snakemake.input.pooled_model,
                        snakemake.output.png, snakemake.output.pdf)
