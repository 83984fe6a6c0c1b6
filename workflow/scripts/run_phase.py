from lipsglass.stages.glass_transition import phase_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    phase_job(
        trajectory=snakemake.input.trajectory,
        thermo=snakemake.input.thermo,
        glass_data=snakemake.input.glass,
        tg_replica_json=snakemake.input.tg,
        temperature_K=snakemake.params.temperature_K,
        timestep_fs=snakemake.params.timestep_fs,
        settings=snakemake.params.settings,
        out_json=snakemake.output.phase,
        out_msd_csv=snakemake.output.anion_msd,
    )
