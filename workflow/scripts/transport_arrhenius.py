from lipsglass.stages.transport import arrhenius_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    arrhenius_job(
        run_results=list(snakemake.input.runs),
        phase_labels=list(snakemake.input.phases),
        glass_data=snakemake.input.glass,
        settings=snakemake.params.settings,
        glass=f"{snakemake.wildcards.glass} replica {snakemake.wildcards.replica}",
        outputs=dict(snakemake.output.items()),
    )
