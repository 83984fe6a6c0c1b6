from lipsglass.stages.structure import structure_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    structure_job(
        glass_data=snakemake.input.glass,
        trajectory=snakemake.input.trajectory,
        units=snakemake.params.units,
        settings=snakemake.params.settings,
        outputs=dict(snakemake.output.items()),
    )
