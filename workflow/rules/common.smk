# Configuration validation and every helper function of the workflow.
import re
from pathlib import Path

from lipsglass.config import validate_config
from lipsglass.composition import composition_from_config

# Stops before any job runs, naming the offending key.
validate_config(config)

GLASSES = list(config["compositions"])


wildcard_constraints:
    glass="|".join(re.escape(g) for g in GLASSES),
    T=r"\d+",


def temperature_labels():
    """Production temperatures as integer kelvin labels used in paths (e.g. '300')."""
    return [f"{round(T)}" for T in config["production"]["temperatures_K"]]


def production_files(glass):
    return expand(
        "results/{glass}/nvt/{T}K/{name}",
        glass=glass,
        T=temperature_labels(),
        name=["trajectory.lammpstrj", "thermo.csv", "final.data"],
    )


def md_outputs():
    targets = []
    for glass in GLASSES:
        targets += [
            f"results/{glass}/build/initial.data",
            f"results/{glass}/quench/glass.data",
            f"results/{glass}/quench/thermo.csv",
        ]
        targets += production_files(glass)
    return targets


def figure_files(name):
    """PNG and PDF of one figure under results/figures/."""
    return [f"results/figures/{name}.png", f"results/figures/{name}.pdf"]


def structure_outputs():
    targets = expand(
        "results/{glass}/structure/{name}",
        glass=GLASSES,
        name=["speciation.json", "atom_labels.csv", "partial_rdf.csv", "sq.csv", "fsdp.json"],
    )
    targets += figure_files("fig1b_ternary") + figure_files("sq_fsdp")
    for glass in GLASSES:
        targets += figure_files(f"fig1c_snapshot_{glass}") + figure_files(f"fig1d_partial_rdf_{glass}")
    return targets


def transport_outputs():
    """Per-glass D(T) table, Arrhenius fit and MSD figure; Fig. 2A and 2B."""
    targets = expand("results/{glass}/transport/{name}", glass=GLASSES, name=["diffusion.csv", "arrhenius.json"])
    targets += figure_files("fig2a_arrhenius") + figure_files("fig2b_conductivity")
    for glass in GLASSES:
        targets += figure_files(f"msd_{glass}")
    return targets


def transport_run_files(name):
    """Per-temperature transport file ``name`` of every production run, as patterns in {glass}."""
    return expand("results/{{glass}}/transport/{T}K/{name}", T=temperature_labels(), name=name)


def softness_outputs():
    """Per-glass softness files, the cross-glass summaries, Fig. S1 and Fig. 3A-3F."""
    targets = expand(
        "results/{glass}/softness/{name}",
        glass=GLASSES,
        name=["labels.csv", "windows.csv", "model.json", "softness.csv", "lis_gr_soft_hard.csv"],
    )
    targets += expand(
        "results/summary/{name}",
        name=["softness_transfer.csv", "softness_correlations.csv", "softness_claims.csv", "softness_claims.md"],
    )
    for name in ["figS1_accuracy", "fig3b_softness_distributions", "fig3e_softness_by_anion",
                 "fig3f_pe_voronoi_vs_softness"]:
        targets += figure_files(name)
    for glass in GLASSES:
        targets += figure_files(f"fig3a_softness_snapshot_{glass}") + figure_files(f"fig3d_lis_gr_soft_hard_{glass}")
    return targets


def softness_run_file(name):
    """File ``name`` of the production run the softness stage analyses (softness.temperature_K),
    as a pattern in {glass}."""
    T = round(config["softness"]["temperature_K"])
    return f"results/{{glass}}/nvt/{T}K/{name}"


def softness_glass_files(name):
    """Per-glass softness file ``name`` of every glass, in GLASSES order."""
    return expand("results/{glass}/softness/{name}", glass=GLASSES, name=name)


def glass_units():
    """Anion units of every glass, {glass: {unit: count}}."""
    return {glass: config["compositions"][glass]["units"] for glass in GLASSES}


def production_temperature_K(wildcards):
    """The configured production temperature (K) whose path label is wildcards.T."""
    matches = [T for T in config["production"]["temperatures_K"] if f"{round(T)}" == wildcards.T]
    if len(matches) != 1:
        raise ValueError(f"{wildcards.T} K is not one of production.temperatures_K")
    return float(matches[0])


def homology_glass_files(name):
    """Per-glass homology file ``name`` of every glass, in GLASSES order."""
    return expand("results/{glass}/homology/{name}", glass=GLASSES, name=name)


def homology_outputs():
    """Per-glass persistence diagrams, rings, FSDP link and softness by ring size; the figures
    (H1 diagrams, ring sizes, Fig. S4, Fig. S5)."""
    targets = homology_glass_files(
        ["pd_h0.csv", "pd_h1.csv", "pd_h2.csv", "rings.json", "fsdp_link.json", "softness_by_ring_size.json"]
    )
    for name in ["persistence_diagrams_h1", "ring_sizes", "figS4_rings_fsdp", "figS5_softness_by_ring_size"]:
        targets += figure_files(name)
    return targets


def neb_glasses():
    """Glasses with NEB hops: neb.glasses ("all" or a list of composition names)."""
    wanted = config["neb"]["glasses"]
    if wanted == "all":
        return list(GLASSES)
    unknown = [g for g in wanted if g not in GLASSES]
    if unknown:
        raise ValueError(f"config key neb.glasses: {unknown} are not compositions ({GLASSES})")
    return [g for g in GLASSES if g in wanted]


def neb_batch_labels():
    """Batch numbers of a glass, fixed by the config (ceil(hops requested / batch_size)) so the
    DAG is known before the hop selection runs."""
    from lipsglass.stages.neb import n_batches

    return [str(k) for k in range(n_batches(config["neb"]))]


def neb_batch_manifests(wildcards):
    """Manifests of every NEB batch of wildcards.glass."""
    return expand("results/{glass}/neb/batches/batch_{batch}.json", glass=wildcards.glass, batch=neb_batch_labels())


def neb_glass_files(name):
    """Per-glass NEB file ``name`` of every NEB glass, in GLASSES order."""
    return expand("results/{glass}/neb/{name}", glass=neb_glasses(), name=name)


def neb_trajectory_file(name):
    """File ``name`` of the production run of the Li traces (neb.trajectory_temperature_K), as
    a pattern in {glass}."""
    T = round(config["neb"]["trajectory_temperature_K"])
    return f"results/{{glass}}/nvt/{T}K/{name}"


def neb_figure_glass():
    """Glass of Fig. 4B and 4D: the first NEB glass."""
    return neb_glasses()[0]


def neb_mpi_ranks():
    """MPI ranks of a NEB batch job: one per replica (lipsglass.neb.run_neb starts
    ``mpiexec -np replicas``). Declared as threads so Snakemake runs nothing else beside it
    (locally it caps the value at --cores) and as resources.tasks for cluster executors."""
    return int(config["neb"]["replicas"])


def neb_hop_workdir(wildcards, input):
    """Persistent per-glass folder of the hop calculations (results/{glass}/neb/hops, beside
    hops.csv): not a rule output, so Snakemake never deletes finished hops."""
    return str(Path(input.hops).parent / "hops")


def neb_outputs():
    """Per-glass hop selection, barriers and paths; Li motion at the trace temperature for every
    glass; NEB summary and claims (C9, C10); Fig. 4B, 4C, 4D and S3."""
    targets = neb_glass_files(["hops.csv", "selection.json", "barriers.csv", "barriers.json", "paths.csv"])
    targets += expand("results/{glass}/neb/{name}", glass=GLASSES, name=["li_motion.csv", "li_motion.json"])
    targets += ["results/summary/neb_summary.csv", "results/summary/neb_claims.csv"]
    for name in ["fig4b_neb_paths", "fig4c_barriers", "figS3_barriers_all_classes", "fig4d_li_traces"]:
        targets += figure_files(name)
    return targets


def scorecard_claim_files():
    """Claim tables of every stage that tests claims of the paper."""
    return [
        "results/summary/structure_claims.csv",
        "results/summary/transport_claims.csv",
        "results/summary/softness_claims.csv",
        "results/summary/homology_claims.csv",
        "results/summary/neb_claims.csv",
    ]


def scorecard_config_name():
    """Names of the config files of this run, for the scorecard's header."""
    return ", ".join(str(f) for f in workflow.configfiles) or "config/config.yaml"


def summary_outputs():
    return ["results/summary/scorecard.csv", "results/summary/scorecard.md", "results/summary/scorecard.html"]


def all_outputs():
    """Every final output of the study; each stage contributes its own list."""
    return md_outputs() + structure_outputs() + transport_outputs() + softness_outputs() + homology_outputs() + neb_outputs() + summary_outputs()


def project_file(relative_path):
    """A file shipped with the project (config/...), found even when the workflow runs with
    --directory elsewhere."""
    return str(Path(workflow.basedir) / relative_path)


def structure_trajectory(wildcards):
    """Production trajectory whose frames are averaged for g(r) and S(q)."""
    T = round(config["structure"]["temperature_K"])
    return f"results/{wildcards.glass}/nvt/{T}K/trajectory.lammpstrj"


def md_threads(wildcards):
    """OpenMP threads of a LAMMPS job. Below ~2000 atoms the OMP styles gain little per thread
    (measured here: 792 atoms, 1 thread 139 steps/s, 2 threads 190), so small glasses run one
    thread per job and more jobs side by side; large glasses use up to 8 threads (Snakemake caps
    this at --cores)."""
    n_atoms = composition_from_config(wildcards.glass, config["compositions"][wildcards.glass]).n_atoms
    return 1 if n_atoms < 2000 else 8


def composition_units(wildcards):
    return config["compositions"][wildcards.glass]["units"]


def production_dump_interval_ps(wildcards):
    p = config["production"]
    if round(p["fine_T_K"]) == int(wildcards.T):
        return p["fine_dump_interval_ps"]
    return p["dump_interval_ps"]
