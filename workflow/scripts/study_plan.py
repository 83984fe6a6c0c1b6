from lipsglass.stages.summary import study_plan_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    study_plan_job(list(snakemake.input.claims), dict(zip(snakemake.params.glasses, snakemake.input.arrhenius)),
                   dict(zip(snakemake.params.neb_glasses, snakemake.input.barriers)), snakemake.params.study,
                   snakemake.output.plan, snakemake.output.overlay, snakemake.input.paper,
                   run_files=list(snakemake.input.runs), phase_files=list(snakemake.input.phases),
                   tg_files=list(snakemake.input.tg), experimental_csv=snakemake.input.experimental,
                   out_workstation=snakemake.output.workstation)
