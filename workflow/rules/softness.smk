# Softness stage (paper Fig. 3, Fig. S1; claims C4-C6, C8; C3: classifier_claims). Science in lipsglass.d2min,
# lipsglass.softness; job functions in lipsglass.stages.softness_* (shared helpers in lipsglass.stages.softness).


rule softness_dynamics:
    """D2min, D_cum, hops and mobility labels of every Li per time window of the softness run,
    and the Li radial structure functions at each window start."""
    input:
        trajectory=softness_label_run_file("trajectory.lammpstrj"),
        data=softness_label_run_file("final.data"),
        atom_labels=primary("results/{glass}/structure/atom_labels.csv"),
        partial_rdf=primary("results/{glass}/structure/partial_rdf.csv"),
    output:
        labels="results/{glass}/softness/labels.csv",
        windows="results/{glass}/softness/windows.csv",
        summary="results/{glass}/softness/dynamics.json",
        features="results/{glass}/softness/features.npz",
    log:
        job="logs/{glass}/softness_dynamics.log",
        lammps="logs/{glass}/softness_dynamics_lammps.log",
    benchmark:
        "results/benchmarks/{glass}/softness_dynamics.tsv"
    conda:
        "../../envs/lipsglass.yaml"
    params:
        settings=reads("softness_dynamics", "softness"),
        dump_interval_ps=softness_label_dump_interval_ps(),
        forcefield=config["forcefield"],
        md=reads("softness_dynamics", "md"),
    script:
        "../scripts/softness_dynamics.py"


rule softness_replica_dynamics:
    """Labelled dynamics and Li radial structure functions of a further replica glass (as
    softness_dynamics): the learning curve of C3 pools every replica."""
    input:
        trajectory=softness_label_replica_file("trajectory.lammpstrj"),
        data=softness_label_replica_file("final.data"),
        atom_labels="results/{glass}/r{replica}/structure/atom_labels.csv",
        partial_rdf="results/{glass}/r{replica}/structure/partial_rdf.csv",
    output:
        labels="results/{glass}/softness/replicas/r{replica}/labels.csv",
        windows="results/{glass}/softness/replicas/r{replica}/windows.csv",
        summary="results/{glass}/softness/replicas/r{replica}/dynamics.json",
        features="results/{glass}/softness/replicas/r{replica}/features.npz",
    log:
        job="logs/{glass}/softness_replica_dynamics_r{replica}.log",
        lammps="logs/{glass}/softness_replica_dynamics_r{replica}_lammps.log",
    benchmark:
        "results/benchmarks/{glass}/softness_replica_dynamics_r{replica}.tsv"
    conda:
        "../../envs/lipsglass.yaml"
    params:
        settings=reads("softness_replica_dynamics", "softness"),
        dump_interval_ps=softness_label_dump_interval_ps(),
        forcefield=config["forcefield"],
        md=reads("softness_replica_dynamics", "md"),
    script:
        "../scripts/softness_dynamics.py"


rule softness_learning_curve:
    """Held-out and training accuracy of the RSF classifier against the number of training Li,
    from subsamples of the pooled glass replicas, with D_cum labels (the paper's, whatever
    softness.label_recipe is) and p_hop labels: the evidence of C3."""
    input:
        features=softness_unit_files("features.npz"),
        dynamics=softness_unit_files("dynamics.json"),
    output:
        curve="results/summary/softness_learning_curve.json",
    log:
        "logs/summary/softness_learning_curve.log",
    benchmark:
        "results/benchmarks/summary/softness_learning_curve.tsv"
    conda:
        "../../envs/lipsglass.yaml"
    params:
        units=softness_units(),
        atoms=glass_atoms(),
        settings=reads("softness_learning_curve", "softness"),
    script:
        "../scripts/softness_learning_curve.py"


rule softness_model:
    """Logistic-regression softness model of one glass: cross-fitted held-out accuracy (GroupKFold over Li)
    with its interval and a Li-S coordination baseline; hyperplane fitted on all its labelled Li."""
    input:
        features="results/{glass}/softness/features.npz",
    output:
        model="results/{glass}/softness/model.json",
    log:
        "logs/{glass}/softness_model.log",
    benchmark:
        "results/benchmarks/{glass}/softness_model.tsv"
    conda:
        "../../envs/lipsglass.yaml"
    params:
        settings=reads("softness_model", "softness"),
    script:
        "../scripts/softness_model.py"


rule softness_pooled_model:
    """One softness hyperplane for all glasses (trained on the union of their labelled Li), so
    that softness values compare across glasses."""
    input:
        features=softness_glass_files("features.npz"),
    output:
        model="results/summary/softness_model_pooled.json",
    log:
        "logs/summary/softness_pooled_model.log",
    benchmark:
        "results/benchmarks/summary/softness_pooled_model.tsv"
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
        settings=reads("softness_pooled_model", "softness"),
    script:
        "../scripts/softness_pooled_model.py"


rule softness_properties:
    """Per-atom potential energy (LAMMPS pe/atom incl. kspace) and Voronoi volume of the analysed
    structure (softness.structure) of the final configuration of the softness run."""
    input:
        data=softness_run_file("final.data"),
        trajectory=softness_run_file("trajectory.lammpstrj"),
    output:
        table="results/{glass}/softness/li_properties.csv",
    log:
        job="logs/{glass}/softness_properties.log",
        lammps="logs/{glass}/softness_properties_lammps.log",
    benchmark:
        "results/benchmarks/{glass}/softness_properties.tsv"
    conda:
        "../../envs/lipsglass.yaml"
    params:
        forcefield=config["forcefield"],
        md=reads("softness_properties", "md"),
        settings=reads("softness_properties", "softness"),
    script:
        "../scripts/softness_properties.py"


rule softness_per_li:
    """Softness, pe, Voronoi volume and anion shares of every Li of the final configuration;
    Li-S g(r) by anion type for soft and hard Li."""
    input:
        data=softness_run_file("final.data"),
        trajectory=softness_label_run_file("trajectory.lammpstrj"),
        atom_labels=primary("results/{glass}/structure/atom_labels.csv"),
        properties="results/{glass}/softness/li_properties.csv",
        features="results/{glass}/softness/features.npz",
        model="results/summary/softness_model_pooled.json",
        own_model="results/{glass}/softness/model.json",
    output:
        softness="results/{glass}/softness/softness.csv",
        gr="results/{glass}/softness/lis_gr_soft_hard.csv",
        summary="results/{glass}/softness/softness_summary.json",
    log:
        "logs/{glass}/softness_per_li.log",
    benchmark:
        "results/benchmarks/{glass}/softness_per_li.tsv"
    conda:
        "../../envs/lipsglass.yaml"
    params:
        settings=reads("softness_per_li", "softness"),
    script:
        "../scripts/softness_per_li.py"


rule softness_replica_properties:
    """Per-atom potential energy and Voronoi volume of the analysed structure of a further
    replica glass (as softness_properties)."""
    input:
        data=f"results/{{glass}}/r{{replica}}/nvt/{round(config['softness']['temperature_K'])}K/final.data",
        trajectory=f"results/{{glass}}/r{{replica}}/nvt/{round(config['softness']['temperature_K'])}K/trajectory.lammpstrj",
    output:
        table="results/{glass}/softness/replicas/r{replica}/li_properties.csv",
    log:
        job="logs/{glass}/softness_replica_properties_r{replica}.log",
        lammps="logs/{glass}/softness_replica_properties_r{replica}_lammps.log",
    benchmark:
        "results/benchmarks/{glass}/softness_replica_properties_r{replica}.tsv"
    conda:
        "../../envs/lipsglass.yaml"
    params:
        forcefield=config["forcefield"],
        md=reads("softness_replica_properties", "md"),
        settings=reads("softness_replica_properties", "softness"),
    script:
        "../scripts/softness_properties.py"


rule softness_replica_per_li:
    """Softness (models of the analysed replica), pe, Voronoi volume and anion shares of every Li
    of a further replica glass: C4 combines a composition's glasses."""
    input:
        data=f"results/{{glass}}/r{{replica}}/nvt/{round(config['softness']['temperature_K'])}K/final.data",
        atom_labels="results/{glass}/r{replica}/structure/atom_labels.csv",
        properties="results/{glass}/softness/replicas/r{replica}/li_properties.csv",
        model="results/summary/softness_model_pooled.json",
        own_model="results/{glass}/softness/model.json",
    output:
        softness="results/{glass}/softness/replicas/r{replica}/softness.csv",
    log:
        "logs/{glass}/softness_replica_per_li_r{replica}.log",
    benchmark:
        "results/benchmarks/{glass}/softness_replica_per_li_r{replica}.tsv"
    conda:
        "../../envs/lipsglass.yaml"
    params:
        settings=reads("softness_replica_per_li", "softness"),
    script:
        "../scripts/softness_replica_per_li.py"


rule softness_transfer:
    """Accuracy of each glass's model on the labelled Li of every glass."""
    input:
        models=softness_glass_files("model.json"),
        features=softness_glass_files("features.npz"),
    output:
        table="results/summary/softness_transfer.csv",
    log:
        "logs/summary/softness_transfer.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
        settings=reads("softness_transfer", "softness"),
    script:
        "../scripts/softness_transfer.py"


rule softness_correlations:
    """Pearson r (95% CI) of softness with anion shares, pe and Voronoi volume, per glass and
    pooled."""
    input:
        softness=softness_glass_files("softness.csv"),
    output:
        table="results/summary/softness_correlations.csv",
    log:
        "logs/summary/softness_correlations.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
        settings=reads("softness_correlations", "softness"),
    script:
        "../scripts/softness_correlations.py"


rule softness_claims:
    """Claims C4, C5, C6 and C8 (lipsglass.claims.softness): interval over glasses against each
    claim's region; per-glass detail in the Markdown report. The only softness rule that reads
    config["claims"]: a margin change reruns this rule alone."""
    input:
        softness=softness_glass_files("softness.csv"),
        replica_softness=softness_replica_files("softness.csv"),
        windows=softness_glass_files("windows.csv"),
        claims=project_file("config/paper_claims.yaml"),
    output:
        table="results/summary/softness_claims.csv",
        report="results/summary/softness_claims.md",
    log:
        "logs/summary/softness_claims.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
        primary_replica=PRIMARY_REPLICA,
        other_replicas=SOFTNESS_OTHER_REPLICAS,
        units=glass_units(),
        timestep_fs=config["md"]["timestep_fs"],
        anion_assignment=config["softness"]["anion_assignment"],
        claims=reads("softness_claims", "claims"),
    script:
        "../scripts/softness_claims.py"


rule classifier_claims:
    """Claim C3: accuracy of the RSF classifier (D_cum labels) at the paper's training size, from
    the learning curve; p_hop labels beside it."""
    input:
        curve="results/summary/softness_learning_curve.json",
    output:
        table="results/summary/classifier_claims.csv",
    log:
        "logs/summary/classifier_claims.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        criteria=reads("classifier_claims", "claims")["C3"],
        level=config["claims"]["level"],
    script:
        "../scripts/classifier_claims.py"


rule figS1_accuracy:
    """Fig. S1: train and test accuracy of the softness models."""
    input:
        models=softness_glass_files("model.json"),
        pooled_model="results/summary/softness_model_pooled.json",
    output:
        png=report(
            "results/figures/figS1_accuracy.png",
            caption="../report/figS1_accuracy.rst",
            category="Figure 3 and S1 (softness)",
        ),
        pdf="results/figures/figS1_accuracy.pdf",
    log:
        "logs/figures/figS1_accuracy.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
    script:
        "../scripts/figS1_accuracy.py"


rule fig3a_softness_snapshot:
    """Fig. 3A: Li of a glass coloured by softness (rendered with OVITO), anion units faded."""
    input:
        data=softness_run_file("final.data"),
        softness="results/{glass}/softness/softness.csv",
        atom_labels=primary("results/{glass}/structure/atom_labels.csv"),
    output:
        png=report(
            "results/figures/fig3a_softness_snapshot_{glass}.png",
            caption="../report/fig3a_softness_snapshot.rst",
            category="Figure 3 and S1 (softness)",
            subcategory="{glass}",
        ),
        pdf="results/figures/fig3a_softness_snapshot_{glass}.pdf",
    log:
        "logs/figures/fig3a_softness_snapshot_{glass}.log",
    conda:
        "../../envs/lipsglass.yaml"
    script:
        "../scripts/fig3a_softness_snapshot.py"


rule fig3c_anion_snapshot:
    """Fig. 3C: the anion units of the Fig. 3A frame, Li hidden, coloured by anion type (rendered)."""
    input:
        data=softness_run_file("final.data"),
        atom_labels=primary("results/{glass}/structure/atom_labels.csv"),
    output:
        png=report(
            "results/figures/fig3c_anion_snapshot_{glass}.png",
            caption="../report/fig3c_anion_snapshot.rst",
            category="Figure 3 and S1 (softness)",
            subcategory="{glass}",
        ),
        pdf="results/figures/fig3c_anion_snapshot_{glass}.pdf",
    log:
        "logs/figures/fig3c_anion_snapshot_{glass}.log",
    conda:
        "../../envs/lipsglass.yaml"
    script:
        "../scripts/fig3c_anion_snapshot.py"


rule fig3b_softness_distributions:
    """Fig. 3B: softness distribution of every glass (pooled model)."""
    input:
        softness=softness_glass_files("softness.csv"),
    output:
        png=report(
            "results/figures/fig3b_softness_distributions.png",
            caption="../report/fig3b_softness_distributions.rst",
            category="Figure 3 and S1 (softness)",
        ),
        pdf="results/figures/fig3b_softness_distributions.pdf",
    log:
        "logs/figures/fig3b_softness_distributions.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
        bins=config["softness"]["softness_bins"],
    script:
        "../scripts/fig3b_softness_distributions.py"


rule fig3d_lis_gr_soft_hard:
    """Fig. 3D: Li-S g(r) by anion type for soft and hard Li of a glass."""
    input:
        table="results/{glass}/softness/lis_gr_soft_hard.csv",
    output:
        png=report(
            "results/figures/fig3d_lis_gr_soft_hard_{glass}.png",
            caption="../report/fig3d_lis_gr_soft_hard.rst",
            category="Figure 3 and S1 (softness)",
            subcategory="{glass}",
        ),
        pdf="results/figures/fig3d_lis_gr_soft_hard_{glass}.pdf",
    log:
        "logs/figures/fig3d_lis_gr_soft_hard_{glass}.log",
    conda:
        "../../envs/lipsglass.yaml"
    script:
        "../scripts/fig3d_lis_gr_soft_hard.py"


rule fig3e_softness_by_anion:
    """Fig. 3E: softness of Li near each anion type (Li of all glasses)."""
    input:
        softness=softness_glass_files("softness.csv"),
    output:
        png=report(
            "results/figures/fig3e_softness_by_anion.png",
            caption="../report/fig3e_softness_by_anion.rst",
            category="Figure 3 and S1 (softness)",
        ),
        pdf="results/figures/fig3e_softness_by_anion.pdf",
    log:
        "logs/figures/fig3e_softness_by_anion.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
        settings=reads("fig3e_softness_by_anion", "softness"),
    script:
        "../scripts/fig3e_softness_by_anion.py"


rule fig3f_pe_voronoi_vs_softness:
    """Fig. 3F: per-Li potential energy and Voronoi volume against softness."""
    input:
        softness=softness_glass_files("softness.csv"),
    output:
        png=report(
            "results/figures/fig3f_pe_voronoi_vs_softness.png",
            caption="../report/fig3f_pe_voronoi_vs_softness.rst",
            category="Figure 3 and S1 (softness)",
        ),
        pdf="results/figures/fig3f_pe_voronoi_vs_softness.pdf",
    log:
        "logs/figures/fig3f_pe_voronoi_vs_softness.log",
    conda:
        "../../envs/lipsglass.yaml"
    params:
        glasses=GLASSES,
        settings=reads("fig3f_pe_voronoi_vs_softness", "softness"),
    script:
        "../scripts/fig3f_pe_voronoi_vs_softness.py"
