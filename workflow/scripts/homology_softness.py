from lipsglass.stages.homology import softness_rings_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    softness_rings_job(snakemake.input.pd_h1, snakemake.input.configuration, snakemake.input.softness,
                       snakemake.params.settings, snakemake.output.result)
