from lipsglass.stages.transport_composition import composition_job
from lipsglass.workflow_logging import redirect_to_log

# inputs are expanded replica-major: r1 T1..Tn, r2 T1..Tn, ...
n = snakemake.params.n_replicas
runs, phases = list(snakemake.input.runs), list(snakemake.input.phases)
per = len(runs) // n
with redirect_to_log(snakemake.log[0]):
    composition_job(
        replica_run_files=[runs[k * per:(k + 1) * per] for k in range(n)],
        replica_phase_files=[phases[k * per:(k + 1) * per] for k in range(n)],
        replica_arrhenius_files=list(snakemake.input.replica_fits),
        replica_glass_data=list(snakemake.input.glasses),
        settings=snakemake.params.settings,
        glass=snakemake.wildcards.glass,
        duration_ps=snakemake.params.duration_ps,
        outputs=dict(snakemake.output.items()),
    )
