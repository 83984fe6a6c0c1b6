from lipsglass.stages.neb import batch_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    batch_job(snakemake.input.configuration, snakemake.input.hops, snakemake.params.forcefield,
              snakemake.params.settings, snakemake.params.kspace, int(snakemake.params.batch_size),
              int(snakemake.wildcards.batch), snakemake.params.workdir, snakemake.output.manifest,
              launcher=snakemake.resources.get("mpi"),
              # how LAMMPS starts (site build, launcher, switches) changes speed, not barriers: no rerun
              lammps=snakemake.config.get("lammps"))
