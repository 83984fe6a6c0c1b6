from lipsglass.stages.glass_transition import tg_figure_job
from lipsglass.workflow_logging import redirect_to_log

# quench thermo files are expanded glass-major: glass 1 r1..rN, glass 2 r1..rN, ...
glasses, n = snakemake.params.glasses, snakemake.params.n_replicas
thermo = list(snakemake.input.thermo)
with redirect_to_log(snakemake.log[0]):
    tg_figure_job(dict(zip(glasses, snakemake.input.tg)), {g: thermo[k * n:(k + 1) * n] for k, g in enumerate(glasses)},
                  snakemake.output.png, snakemake.output.pdf)
