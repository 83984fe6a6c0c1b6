# Configuration validation and every helper function of the workflow.
import os
import re
import sys
from pathlib import Path

import yaml

# Every job imports the science code of this workflow's own source folder, whatever environment
# runs it (the .venv, a `--sdm conda` environment that does not install the project, a cluster
# node, a `module` import of this workflow): its folder goes first on PYTHONPATH, and on sys.path
# of this Snakemake process (which imports lipsglass below even where it is not installed).
SOURCE_ROOT = Path(str(workflow.current_basedir)).parents[1]  # this file is workflow/rules/common.smk
if (SOURCE_ROOT / "lipsglass" / "__init__.py").is_file():
    # set, never required (so no envvars directive): an existing PYTHONPATH is kept behind it
    _inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    os.environ.update(PYTHONPATH=os.pathsep.join([str(SOURCE_ROOT.resolve())] + _inherited))
    if str(SOURCE_ROOT.resolve()) not in sys.path:
        sys.path.insert(0, str(SOURCE_ROOT.resolve()))

from lipsglass.config import (
    SCHEMA_PATH,
    cell_size_warnings,
    neb_glasses as neb_glasses_of,
    production_duration_ps,
    rule_settings,
    selected_glasses,
    validate_config,
)
from lipsglass.composition import composition_from_config
from lipsglass.replicas import replica_seed
from lipsglass.claims.scorecard import study_size_text
from lipsglass.core.settings import RuleSettings
from lipsglass.neb.batch import n_batches
from lipsglass.neb.settings import max_band_ranks, neb_settings

# Stops before any job runs, naming the offending key.
validate_config(config)
# Which rules read which key (the schema's read_by): every rule's settings params derive from it.
SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())
# Glasses too small for a claim's test run, but say so before any job starts.
for _message in cell_size_warnings(config):
    print(f"warning: {_message}", file=sys.stderr)

# The compositions this run studies (config glasses: "all" or a list; validated above).
GLASSES = selected_glasses(config)
# Independent glass realisations of every composition (own build, quench and production seeds).
REPLICAS = [str(k) for k in range(1, int(config["replicas"]) + 1)]
# The replica whose glass trains the softness models and is analysed by the homology and NEB
# stages; further replicas are scored with its models (C4 combines them); every MD, structure,
# glass-transition and transport output exists per replica.
PRIMARY_REPLICA = "1"


wildcard_constraints:
    glass="|".join(re.escape(g) for g in GLASSES),
    T=r"\d+",
    replica=r"[1-9]\d*",


def reads(rule, section):
    """The keys of config section ``section`` that ``rule`` reads (the schema's read_by): a rule's
    settings params, so it reruns exactly when a value it reads changes (tests/test_rerun.py).
    E.g. md.segment_ps (how a run is cut into restartable segments) is read by no MD rule: a new
    segment length reruns no finished MD (the scripts take it from the config)."""
    return rule_settings(config, rule, section, SCHEMA)


def replica_settings(rule, section):
    """``reads(rule, section)`` (build or quench) with its seed replaced by the replica's."""

    def settings(wildcards):
        values = reads(rule, section)
        return dict(values, seed=replica_seed(values["seed"], wildcards.replica))

    return settings


# production keys that are per-run values (the dump interval of the run's temperature, the
# lengths of the listed temperatures), passed apart
PER_RUN_PRODUCTION_KEYS = ("dump_interval_ps", "fine_T_K", "fine_dump_interval_ps", "durations_ps")


def production_run_settings(wildcards):
    """The production values one run reads (not the temperature list: adding a temperature must
    not rerun the runs that exist; not the dump intervals, passed per run), with the replica's
    velocity seed and the run's own length: production.durations_ps of its temperature, else
    duration_ps (so a study without durations_ps has the params it always had, and a listed
    temperature reruns only its own runs)."""
    values = reads("production", "production")
    run = {k: v for k, v in values.items() if k not in PER_RUN_PRODUCTION_KEYS}
    return dict(
        run,
        seed=replica_seed(values["seed"], wildcards.replica),
        duration_ps=production_duration_ps(values, int(wildcards.T)),
    )


def production_run_lengths():
    """The NVT production length (ps) of the runs: production.duration_ps, or with
    production.durations_ps {T: ps} of every production temperature (whole kelvin)."""
    p = config["production"]
    if not p.get("durations_ps"):
        return p["duration_ps"]
    return {int(T): production_duration_ps(p, T) for T in p["temperatures_K"]}


def temperature_labels():
    """Production temperatures as integer kelvin labels used in paths (e.g. '300')."""
    return [f"{int(T)}" for T in config["production"]["temperatures_K"]]


def production_files(glass, replica):
    return expand(
        "results/{glass}/r{replica}/nvt/{T}K/{name}",
        glass=glass,
        replica=replica,
        T=temperature_labels(),
        name=["trajectory.lammpstrj", "thermo.csv", "final.data"],
    )


def md_outputs():
    targets = []
    for glass in GLASSES:
        for replica in REPLICAS:
            targets += [
                f"results/{glass}/r{replica}/build/initial.data",
                f"results/{glass}/r{replica}/quench/glass.data",
                f"results/{glass}/r{replica}/quench/thermo.csv",
            ]
            targets += production_files(glass, replica)
    return targets


def replica_files(pattern):
    """``pattern`` (in {replica}, other wildcards escaped as {{glass}}) for every replica."""
    return expand(pattern, replica=REPLICAS)


def primary(path):
    """``path`` under the analysed replica: results/{glass}/... -> results/{glass}/r1/..."""
    return path.replace("results/{glass}/", f"results/{{glass}}/r{PRIMARY_REPLICA}/", 1)


def figure_files(name):
    """PNG and PDF of one figure under results/figures/."""
    return [f"results/figures/{name}.png", f"results/figures/{name}.pdf"]


def structure_outputs():
    targets = expand(
        "results/{glass}/r{replica}/structure/{name}",
        glass=GLASSES,
        replica=REPLICAS,
        name=["speciation.json", "atom_labels.csv", "partial_rdf.csv", "sq.csv", "fsdp.json", "li_s_shell.json"],
    )
    targets += figure_files("fig1b_ternary") + figure_files("sq_fsdp")
    for glass in GLASSES:
        targets += figure_files(f"fig1c_snapshot_{glass}") + figure_files(f"fig1d_partial_rdf_{glass}")
    return targets


def transport_outputs():
    """Per-replica and per-composition D(T) tables and Arrhenius fits, the MSD figures; Fig. 2A
    and 2B."""
    targets = expand(
        "results/{glass}/r{replica}/transport/{name}",
        glass=GLASSES,
        replica=REPLICAS,
        name=["diffusion.csv", "arrhenius.json"],
    )
    targets += expand("results/{glass}/transport/{name}", glass=GLASSES, name=["diffusion.csv", "arrhenius.json"])
    targets += figure_files("fig2a_arrhenius") + figure_files("fig2b_conductivity")
    for glass in GLASSES:
        targets += figure_files(f"msd_{glass}")
    return targets


def transport_run_files(name):
    """Per-temperature transport file ``name`` of every production run of one replica, as
    patterns in {glass} and {replica}."""
    return expand("results/{{glass}}/r{{replica}}/transport/{T}K/{name}", T=temperature_labels(), name=name)


def composition_run_files(name):
    """Per-run transport file ``name`` of every replica and temperature of a composition, as
    patterns in {glass}, replica-major (r1 at every T, then r2, ...)."""
    return expand(
        "results/{{glass}}/r{replica}/transport/{T}K/{name}",
        replica=REPLICAS,
        T=temperature_labels(),
        name=name,
    )


def transport_replica_files(name):
    """Per-replica transport file ``name`` of every replica, as patterns in {glass}."""
    return expand("results/{{glass}}/r{replica}/transport/{name}", replica=REPLICAS, name=name)


def glass_transition_outputs():
    """Per-replica and per-composition Tg, the Tg figure."""
    targets = expand("results/{glass}/r{replica}/quench/tg.json", glass=GLASSES, replica=REPLICAS)
    targets += expand("results/{glass}/tg.json", glass=GLASSES)
    return targets + figure_files("tg_volume_enthalpy")


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
    for name in [
        "figS1_accuracy",
        "fig3b_softness_distributions",
        "fig3e_softness_by_anion",
        "fig3f_pe_voronoi_vs_softness",
    ]:
        targets += figure_files(name)
    for glass in GLASSES:
        targets += figure_files(f"fig3a_softness_snapshot_{glass}") + figure_files(f"fig3d_lis_gr_soft_hard_{glass}")
        targets += figure_files(f"fig3c_anion_snapshot_{glass}")
    return targets


def softness_run_file(name):
    """File ``name`` of the production run the softness stage analyses (softness.temperature_K),
    as a pattern in {glass}."""
    T = round(config["softness"]["temperature_K"])
    return f"results/{{glass}}/r{PRIMARY_REPLICA}/nvt/{T}K/{name}"


def softness_glass_files(name):
    """Per-glass softness file ``name`` of every glass, in GLASSES order."""
    return expand("results/{glass}/softness/{name}", glass=GLASSES, name=name)


def glass_units():
    """Anion units of every glass, {glass: {unit: count}}."""
    return {glass: config["compositions"][glass]["units"] for glass in GLASSES}


def glass_transition_settings(rule):
    """The glass_transition keys ``rule`` reads, with the barostat pressure of the quench (H = E + P V)."""
    return RuleSettings(
        "glass_transition", dict(reads(rule, "glass_transition"), pressure_atm=config["md"]["pressure_atm"])
    )


def production_temperature_K(wildcards):
    """The configured production temperature (K) whose path label is wildcards.T."""
    matches = [T for T in config["production"]["temperatures_K"] if f"{int(T)}" == wildcards.T]
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
    """Glasses with NEB hops: neb.glasses ("first" selected glass, "all" selected glasses, or the
    selected ones of a list; lipsglass.config.neb_glasses)."""
    return neb_glasses_of(config)


def neb_batch_labels():
    """Batch numbers of a glass, fixed by the config (ceil(hops requested / batch_size)) so the
    DAG is known before the hop selection runs."""
    return [str(k) for k in range(n_batches(config["neb"]))]


def neb_batch_manifests(wildcards):
    """Manifests of every NEB batch of wildcards.glass."""
    return expand("results/{glass}/neb/batches/batch_{batch}.json", glass=wildcards.glass, batch=neb_batch_labels())


def neb_glass_files(name):
    """Per-glass NEB file ``name`` of every NEB glass, in GLASSES order."""
    return expand("results/{glass}/neb/{name}", glass=neb_glasses(), name=name)


def neb_trajectory_file(name):
    """File ``name`` of the production run of the Li traces (neb.trajectory_temperature_K), as
    a pattern in {glass} and {replica}."""
    T = round(config["neb"]["trajectory_temperature_K"])
    return f"results/{{glass}}/r{{replica}}/nvt/{T}K/{name}"


def neb_figure_glass():
    """Glass of Fig. 4B and 4D: the first NEB glass."""
    return neb_glasses()[0]


def neb_mpi_ranks():
    """MPI ranks of a NEB batch job: ranks_per_replica x the images of its largest band (the
    refined band of the longest hop allowed, lipsglass.neb.settings.max_band_ranks). Declared as threads
    so Snakemake runs nothing else beside it (locally it caps the value at --cores) and as
    resources.tasks for cluster executors."""
    return max_band_ranks(neb_settings(reads("neb_batch", "neb"), {}))


def neb_hop_workdir(wildcards, input):
    """Persistent per-glass folder of the hop calculations (results/{glass}/neb/hops, beside
    hops.csv): not a rule output, so Snakemake never deletes finished hops."""
    return str(Path(input.hops).parent / "hops")


def neb_outputs():
    """Per-glass hop selection, barriers and paths; Li motion at the trace temperature for every
    glass; NEB summary and claims (C9, C10); Fig. 4B, 4C, 4D and S3."""
    targets = neb_glass_files(["hops.csv", "selection.json", "barriers.csv", "barriers.json", "paths.csv"])
    targets += expand(
        "results/{glass}/r{replica}/neb/{name}",
        glass=GLASSES,
        replica=REPLICAS,
        name=["li_motion.csv", "li_motion.json"],
    )
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
        "results/summary/classifier_claims.csv",
        "results/summary/homology_claims.csv",
        "results/summary/neb_claims.csv",
    ]


def scorecard_config_name():
    """Names of the config files of this run, for the scorecard's header."""
    return ", ".join(str(f) for f in workflow.configfiles) or "config/config.yaml"


# Key panels of the one-page overview (results/figures/overview.png), {title: PNG}
OVERVIEW_PANELS = {
    "Fig. 2A: Li diffusion, Arrhenius (C1)": "results/figures/fig2a_arrhenius.png",
    "Fig. 3B: softness distributions": "results/figures/fig3b_softness_distributions.png",
    "Fig. 3E: softness by nearby anion (C5)": "results/figures/fig3e_softness_by_anion.png",
    "Fig. 4C: NEB barriers (C9)": "results/figures/fig4c_barriers.png",
}


def print_study_summary():
    """End of a successful run: where the scorecard and report are, and the claims' verdicts."""
    from lipsglass.claims import study_summary

    print(
        study_summary(
            "results/summary/scorecard.csv",
            "results/summary/scorecard.md",
            "results/report.html",
        )
    )


def summary_outputs():
    return figure_files("overview") + [
        "results/summary/scorecard.csv",
        "results/summary/scorecard.md",
        "results/summary/scorecard.html",
        "results/summary/study_plan.csv",
        "results/summary/reproduction.yaml",
        "results/summary/workstation_transport.yaml",
        "results/validation/agreement.csv",
        "results/validation/agreement.md",
        "results/validation/agreement.html",
    ]


def all_outputs():
    """Every final output of the study; each stage contributes its own list."""
    return (
        md_outputs()
        + glass_transition_outputs()
        + structure_outputs()
        + transport_outputs()
        + softness_outputs()
        + homology_outputs()
        + neb_outputs()
        + summary_outputs()
    )


def project_file(relative_path):
    """A file shipped with the workflow (config/...), found wherever it runs: --directory elsewhere,
    or imported as a Snakemake `module` (SOURCE_ROOT is that workflow's own folder; a remote module's
    file comes through workflow.source_path, relative to workflow/rules/ where this is called)."""
    local = SOURCE_ROOT / relative_path
    if local.is_file():  # a local checkout: a plain absolute path, the same in every run
        return str(local.resolve())
    return workflow.source_path(f"../../{relative_path}")


def structure_trajectory(wildcards):
    """Production trajectory whose frames are averaged for g(r) and S(q)."""
    T = round(config["structure"]["temperature_K"])
    return f"results/{wildcards.glass}/r{wildcards.replica}/nvt/{T}K/trajectory.lammpstrj"


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


# ---- softness stage ----


def softness_label_temperature():
    """Temperature (K) of the production run whose windows are labelled (softness.label_temperature_K)."""
    return round(config["softness"].get("label_temperature_K", config["softness"]["temperature_K"]))


def softness_label_run_file(name):
    """File ``name`` of the labelled production run (analysed replica), as a pattern in {glass}."""
    return f"results/{{glass}}/r{PRIMARY_REPLICA}/nvt/{softness_label_temperature()}K/{name}"


def softness_label_dump_interval_ps():
    """Dump interval (ps) of the labelled run: the fine one at production.fine_T_K."""
    production = config["production"]
    if round(production["fine_T_K"]) == softness_label_temperature():
        return production["fine_dump_interval_ps"]
    return production["dump_interval_ps"]


# Further replicas of every composition: scored with the models of the analysed replica (C4).
SOFTNESS_OTHER_REPLICAS = [r for r in REPLICAS if r != PRIMARY_REPLICA]


def softness_replica_files(name):
    """Per-glass lists of file ``name`` of the further replicas, in GLASSES order, flattened."""
    return expand(
        "results/{glass}/softness/replicas/r{replica}/{name}",
        glass=GLASSES,
        replica=SOFTNESS_OTHER_REPLICAS,
        name=name,
    )


def softness_label_replica_file(name):
    """File ``name`` of the labelled production run of a further replica, as a pattern in {glass}
    and {replica}."""
    return f"results/{{glass}}/r{{replica}}/nvt/{softness_label_temperature()}K/{name}"


def softness_units():
    """Every glass replica with labelled dynamics (the units of the learning curve and of C3),
    glass-major: the analysed replica's files under results/{glass}/softness/, the further
    replicas' under results/{glass}/softness/replicas/r{replica}/."""
    return [f"{glass}/r{replica}" for glass in GLASSES for replica in REPLICAS]


def softness_unit_files(name):
    """File ``name`` of every unit of softness_units(), in that order."""
    files = []
    for glass in GLASSES:
        for replica in REPLICAS:
            if replica == PRIMARY_REPLICA:
                files.append(f"results/{glass}/softness/{name}")
            else:
                files.append(f"results/{glass}/softness/replicas/r{replica}/{name}")
    return files


def glass_atoms():
    """Atoms of every glass, {glass: count}."""
    return {glass: composition_from_config(glass, config["compositions"][glass]).n_atoms for glass in GLASSES}

# ---- homology stage ----
