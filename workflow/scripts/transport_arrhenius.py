from lipsglass.stages.transport import arrhenius_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    arrhenius_job(
        run_results=list(snakemake.input.runs),
        glass_data=snakemake.input.glass,
        settings=snakemake.params.settings,
        glass=snakemake.wildcards.glass,
        outputs=dict(snakemake.output.items()),
    )
