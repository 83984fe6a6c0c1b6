from lipsglass.stages.structure import li_s_shell_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    li_s_shell_job(
        glass_data=snakemake.input.glass,
        trajectory=snakemake.input.trajectory,
        settings=snakemake.params.settings,
        out_json=snakemake.output.shell,
    )
