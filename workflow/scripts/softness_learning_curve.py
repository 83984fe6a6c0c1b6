from lipsglass.stages.softness_learning_curve import learning_curve_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    units = snakemake.params.units
    learning_curve_job(
        features=dict(zip(units, snakemake.input.features)),
        dynamics=dict(zip(units, snakemake.input.dynamics)),
        atoms=snakemake.params.atoms,
        settings=snakemake.params.settings,
        out_json=snakemake.output.curve,
    )
