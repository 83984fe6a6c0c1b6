from lipsglass.stages.softness_per_li import replica_softness_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    replica_softness_job(
        glass_data=snakemake.input.data,
        atom_labels=snakemake.input.atom_labels,
        properties=snakemake.input.properties,
        model=snakemake.input.model,
        own_model=snakemake.input.own_model,
        settings=snakemake.params.settings,
        out_csv=snakemake.output.softness,
    )
