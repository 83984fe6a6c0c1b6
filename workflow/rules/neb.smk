# NEB stage (paper Fig. 4B, 4C, 4D, S3; claims C9, C10). Science in lipsglass.neb; job
# functions in lipsglass.stages.neb. The NEB starts from the softness stage's configuration
# (final.data of the softness.temperature_K run), whose Li carry the softness of softness.csv.


wildcard_constraints:
    batch=r"\d+",


rule neb_select:
    """Seeded sample of Li hops per class (soft/hard origin and target) of one glass."""
    input:
        configuration=softness_run_file("final.data"),
        softness="results/{glass}/softness/softness.csv",
    output:
        hops="results/{glass}/neb/hops.csv",
        selection="results/{glass}/neb/selection.json",
    log:
        "logs/{glass}/neb_select.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        settings=reads("neb_select", "neb"),
    script:
        "../scripts/neb_select.py"


rule neb_batch:
    """NEB of one batch of hops. Hops are computed in the persistent folder
    results/{glass}/neb/hops/ (not an output, so Snakemake never deletes it): a killed batch
    rerun skips its finished hops. MPI: `{mpi} -n R*P lmp -partition RxP` per band
    (lipsglass.neb.band.neb_launch_command); tasks = ranks of the largest band."""
    input:
        configuration=softness_run_file("final.data"),
        hops="results/{glass}/neb/hops.csv",
    output:
        manifest="results/{glass}/neb/batches/batch_{batch}.json",
    log:
        "logs/{glass}/neb_batch_{batch}.log",
    benchmark:
        "results/benchmarks/{glass}/neb_batch_{batch}.tsv"
    conda:
        "../../envs/lipsglass.yaml"
    threads: neb_mpi_ranks()
    resources:
        # MPI launcher of the NEB bands (Snakemake's MPI pattern, as the MD rules): no mpi
        # resource here runs the environment's mpiexec; profiles/slurm sets mpi to srun
        tasks=neb_mpi_ranks(),
    params:
        settings=reads("neb_batch", "neb"),
        batch_size=config["neb"]["batch_size"],
        kspace=reads("neb_batch", "md"),
        forcefield=config["forcefield"],
        workdir=neb_hop_workdir,
    script:
        "../scripts/neb_batch.py"


rule neb_collect:
    """Barriers, status and path of every selected hop of one glass; non-converged, rejected
    and failed hops are listed with their status and excluded from statistics."""
    input:
        hops="results/{glass}/neb/hops.csv",
        selection="results/{glass}/neb/selection.json",
        manifests=neb_batch_manifests,
    output:
        barriers="results/{glass}/neb/barriers.csv",
        summary="results/{glass}/neb/barriers.json",
        paths="results/{glass}/neb/paths.csv",
    log:
        "logs/{glass}/neb_collect.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        workdir=neb_hop_workdir,
    script:
        "../scripts/neb_collect.py"


rule neb_li_motion:
    """Net displacement and path length of every Li over the first neb.trace_duration_ps of the
    neb.trajectory_temperature_K run, by nearest anion type."""
    input:
        trajectory=neb_trajectory_file("trajectory.lammpstrj"),
        atom_labels="results/{glass}/r{replica}/structure/atom_labels.csv",
    output:
        table="results/{glass}/r{replica}/neb/li_motion.csv",
        summary="results/{glass}/r{replica}/neb/li_motion.json",
    log:
        "logs/{glass}/r{replica}/neb_li_motion.log",
    benchmark:
        "results/benchmarks/{glass}/r{replica}/neb_li_motion.tsv"
    conda:
        "../../envs/lipsglass.yaml"
    params:
        settings=reads("neb_li_motion", "neb"),
        timestep_fs=config["md"]["timestep_fs"],
        radius_A=config["softness"]["anion_radius_A"],
        temperature_K=config["neb"]["trajectory_temperature_K"],
    script:
        "../scripts/neb_li_motion.py"


rule neb_summary:
    """Barrier statistics per glass and class (bootstrap CIs) and the soft->hard vs hard->soft
    test per glass and pooled."""
    input:
        barriers=neb_glass_files("barriers.csv"),
    output:
        table="results/summary/neb_summary.csv",
    log:
        "logs/summary/neb_summary.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=neb_glasses(),
        settings=reads("neb_summary", "neb"),
    script:
        "../scripts/neb_summary.py"


rule neb_claims:
    """Claims C9 (forward barriers of independent hops out of soft vs hard Li, glass as stratum)
    and C10 (long hops of Li near PS4 vs near P2S6, glass as unit), decided in
    lipsglass.claims.neb against config claims.C9 / claims.C10 (only this rule reads them)."""
    input:
        barriers=neb_glass_files("barriers.csv"),
        motion=expand("results/{glass}/r{replica}/neb/li_motion.json", glass=GLASSES, replica=REPLICAS),
    output:
        claims="results/summary/neb_claims.csv",
    log:
        "logs/summary/neb_claims.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        neb_glasses=neb_glasses(),
        glasses=GLASSES,
        replicas=REPLICAS,
        atoms={g: composition_from_config(g, config["compositions"][g]).n_atoms for g in GLASSES},
        criteria=reads("neb_claims", "claims"),
        level=config["claims"]["level"],
    script:
        "../scripts/neb_claims.py"


rule fig4b_neb_paths:
    """Fig. 4B: energy along the median-barrier soft->hard and hard->soft paths of a glass."""
    input:
        barriers=f"results/{neb_figure_glass()}/neb/barriers.csv",
        paths=f"results/{neb_figure_glass()}/neb/paths.csv",
    output:
        png=report(
            "results/figures/fig4b_neb_paths.png",
            caption="../report/fig4b_neb_paths.rst",
            category="Figure 4 and S3 (migration barriers)",
        ),
        pdf="results/figures/fig4b_neb_paths.pdf",
    log:
        "logs/figures/fig4b_neb_paths.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glass=neb_figure_glass(),
    script:
        "../scripts/fig4b_neb_paths.py"


rule fig4c_barriers:
    """Fig. 4C: forward barriers of soft->hard and hard->soft hops of every NEB glass."""
    input:
        barriers=neb_glass_files("barriers.csv"),
    output:
        png=report(
            "results/figures/fig4c_barriers.png",
            caption="../report/fig4c_barriers.rst",
            category="Figure 4 and S3 (migration barriers)",
        ),
        pdf="results/figures/fig4c_barriers.pdf",
    log:
        "logs/figures/fig4c_barriers.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=neb_glasses(),
        classes=["soft->hard", "hard->soft"],
    script:
        "../scripts/fig4c_barriers.py"


rule figS3_barriers_all_classes:
    """Fig. S3: forward barriers of all four hop classes of every NEB glass."""
    input:
        barriers=neb_glass_files("barriers.csv"),
    output:
        png=report(
            "results/figures/figS3_barriers_all_classes.png",
            caption="../report/figS3_barriers_all_classes.rst",
            category="Figure 4 and S3 (migration barriers)",
        ),
        pdf="results/figures/figS3_barriers_all_classes.pdf",
    log:
        "logs/figures/figS3_barriers_all_classes.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=neb_glasses(),
        classes=["soft->hard", "hard->soft", "soft->soft", "hard->hard"],
    script:
        "../scripts/figS3_barriers_all_classes.py"


rule fig4d_li_traces:
    """Fig. 4D: traces of Li near PS4 and near P2S6 over the first trace_duration_ps."""
    input:
        trajectory=expand(
            neb_trajectory_file("trajectory.lammpstrj"), glass=neb_figure_glass(), replica=PRIMARY_REPLICA
        ),
        atom_labels=f"results/{neb_figure_glass()}/r{PRIMARY_REPLICA}/structure/atom_labels.csv",
        motion=f"results/{neb_figure_glass()}/r{PRIMARY_REPLICA}/neb/li_motion.csv",
    output:
        png=report(
            "results/figures/fig4d_li_traces.png",
            caption="../report/fig4d_li_traces.rst",
            category="Figure 4 and S3 (migration barriers)",
        ),
        pdf="results/figures/fig4d_li_traces.pdf",
    log:
        "logs/figures/fig4d_li_traces.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glass=neb_figure_glass(),
        settings=reads("fig4d_li_traces", "neb"),
        md={"timestep_fs": config["md"]["timestep_fs"]},
        radius_A=config["softness"]["anion_radius_A"],
    script:
        "../scripts/fig4d_li_traces.py"
