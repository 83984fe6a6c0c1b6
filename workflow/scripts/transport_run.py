from lipsglass.stages.transport import diffusion_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    diffusion_job(
        trajectory=snakemake.input.trajectory,
        thermo=snakemake.input.thermo,
        temperature_K=snakemake.params.temperature_K,
        timestep_fs=snakemake.params.timestep_fs,
        settings=snakemake.params.settings,
        outputs=dict(snakemake.output.items()),
    )
