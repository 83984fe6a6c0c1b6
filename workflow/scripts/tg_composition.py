from lipsglass.stages.glass_transition import read_reference_densities, tg_composition_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    tg_composition_job(list(snakemake.input.tg), snakemake.wildcards.glass, list(snakemake.input.glasses),
                       read_reference_densities(snakemake.input.reference), snakemake.output.tg,
                       replica_thermo=list(snakemake.input.thermo), settings=snakemake.params.settings)
