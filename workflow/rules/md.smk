rule quench:
    """Minimise, melt, cool at the configured rate to 300 K under NPT, equilibrate NPT then NVT."""
    input:
        data="results/{glass}/r{replica}/build/initial.data",
    output:
        data="results/{glass}/r{replica}/quench/glass.data",
        thermo="results/{glass}/r{replica}/quench/thermo.csv",
        lammps_input="results/{glass}/r{replica}/quench/in.lammps",
        provenance="results/{glass}/r{replica}/quench/provenance.json",
    log:
        "logs/{glass}/r{replica}/quench.log",
    benchmark:
        "results/benchmarks/{glass}/r{replica}/quench.tsv"
    conda:
        "../../envs/lipsglass.yaml"
    threads: md_threads
    resources:
        runtime=120,
        # MPI ranks of LAMMPS (Snakemake's MPI pattern): tasks > 1 runs `{mpi} -n {tasks} lmp`.
        # No mpi resource here: the environment's mpiexec is used; a cluster profile sets mpi
        # (srun) together with tasks > 1, as the SLURM executor requires of MPI jobs.
        # Threads are OpenMP per rank.
        tasks=1,
    # only the model's settings are params (a changed param reruns the job). Not params,
    # so not rerun triggers: the LAMMPS build, launcher and switches (config lammps)
    # and md.segment_ps change speed and restartability, not the model; the scripts read them from
    # the config and provenance.json records them
    params:
        forcefield=config["forcefield"],
        md=reads("quench", "md"),
        quench=replica_settings("quench", "quench"),
        units=composition_units,
    script:
        "../scripts/quench.py"


rule production:
    """Heat the glass to T, equilibrate, and run NVT production with a trajectory."""
    input:
        data="results/{glass}/r{replica}/quench/glass.data",
    output:
        trajectory="results/{glass}/r{replica}/nvt/{T}K/trajectory.lammpstrj",
        thermo="results/{glass}/r{replica}/nvt/{T}K/thermo.csv",
        data="results/{glass}/r{replica}/nvt/{T}K/final.data",
        lammps_input="results/{glass}/r{replica}/nvt/{T}K/in.lammps",
        provenance="results/{glass}/r{replica}/nvt/{T}K/provenance.json",
    log:
        "logs/{glass}/r{replica}/production_{T}K.log",
    benchmark:
        "results/benchmarks/{glass}/r{replica}/production_{T}K.tsv"
    conda:
        "../../envs/lipsglass.yaml"
    threads: md_threads
    resources:
        runtime=120,
        # MPI ranks of LAMMPS (Snakemake's MPI pattern): tasks > 1 runs `{mpi} -n {tasks} lmp`.
        # No mpi resource here: the environment's mpiexec is used; a cluster profile sets mpi
        # (srun) together with tasks > 1, as the SLURM executor requires of MPI jobs.
        # Threads are OpenMP per rank.
        tasks=1,
    # only the model's settings are params (a changed param reruns the job). Not params,
    # so not rerun triggers: the LAMMPS build, launcher and switches (config lammps)
    # and md.segment_ps change speed and restartability, not the model; the scripts read them from
    # the config and provenance.json records them
    params:
        forcefield=config["forcefield"],
        md=reads("production", "md"),
        production=production_run_settings,
        start_T_K=config["quench"]["final_T_K"],
        dump_interval_ps=production_dump_interval_ps,
        units=composition_units,
    script:
        "../scripts/production.py"
