# Thin wrapper: the builder lives in lipsglass.builder.
from lipsglass.stages.build import build_glass_job

build_glass_job(
    glass=snakemake.wildcards.glass,
    units=snakemake.params.units,
    forcefield=snakemake.params.forcefield,
    build_config=snakemake.params.build,
    out_data=snakemake.output.data,
    out_provenance=snakemake.output.provenance,
    log=snakemake.log[0],
)
