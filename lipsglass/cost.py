"""Cost model of a configuration, before anything runs: atoms, MD steps and core-hours of every
heavy rule (MD, NEB batches, analyses), the wall time of the study on N nodes, and the
``runtime``/``mem_mb`` of those rules in a SLURM profile.

    python -m lipsglass cost config/paper.yaml [--nodes N] [--cores-per-node C] [--json]
    python -m lipsglass cost config/paper.yaml --profile profiles/slurm/config.yaml   # writes the resources
    python -m lipsglass cost config/paper.yaml --measure    # MD throughput measured now instead
    python -m lipsglass cost config/workstation_transport.yaml --md-ranks 1   # an overlay, over config/config.yaml

Every per-unit cost below was measured by ``benchmarks/paper_scale_rehearsal.py`` (the real rules,
run through Snakemake on one ~8000-atom glass of config/paper.yaml with durations cut to minutes;
table in docs/scale.md): per MD step, per NEB image-step and minimisation iteration, per
analysed frame, softness window and configuration. The counts (steps, frames, windows, hops) come
from the config. Costs per step scale linearly with the atom count at fixed density and cutoff
(pair and neighbour work dominate; PPPM is O(N log N), a small correction we neglect).

Core-hours are *allocated* core-hours, tasks x wall per job, as a cluster charges them: an MPI
job's idle or waiting ranks count. An MPI job of n ranks runs at a parallel efficiency
``MPI_EFFICIENCY_2_RANKS ** log2(n)``: 2 ranks against 1 is all a 2-core machine measures, so
every further doubling is assumed to lose as much as the first (the domain of 8000 atoms per
8 ranks is still ~1000 atoms per rank, where LAMMPS usually scales well; an assumption, not a
measurement). The NEB's image-steps and end-state minimisations are counted at their step limits
(regular, climbing and refined band of a hop of the window's middle length; neither splits nor
climb retries), the time a batch may take, not a measured average.
"""

from __future__ import annotations

import math
import re
import tempfile
from pathlib import Path

import yaml

from lipsglass.builder import build_glass, write_data_file
from lipsglass.composition import composition_from_config
from lipsglass.config import neb_glasses, production_duration_ps, selected_glasses
from lipsglass.engine.protocols import production_protocol, quench_protocol
from lipsglass.engine.segments import needs_segments, segment_plan
from lipsglass.engine.settings import MDSettings
from lipsglass.engine.throughput import nvt_seconds
from lipsglass.forcefield import ForceField
from lipsglass.neb.batch import n_batches
from lipsglass.neb.settings import max_band_ranks, neb_settings

# ---- measured by benchmarks/paper_scale_rehearsal.py, run of 2026-12-07 04:02 UTC on this 2-core
# machine (Intel Xeon, 23.5 GB) while other users' jobs held the load average at 6-14: LAMMPS loop
# times are taken as CPU time (wall x LAMMPS' "% CPU use"), job times as Snakemake's cpu_time.
# Table: docs/rehearsal/paper_scale_rehearsal.{csv,md,json} and docs/scale.md. --------------
REHEARSAL = "benchmarks/paper_scale_rehearsal.py, run of 2026-12-07"
MD_CORE_S_PER_ATOM_STEP = 4.683e-06         # production, 1 rank: LAMMPS loop CPU s / (steps x atoms)
MPI_EFFICIENCY_2_RANKS = 0.8521             # production: core-s per step on 1 rank / on 2 ranks
MD_STARTUP_S = 1.294                        # production, 1 rank: job wall time - LAMMPS loop wall time (s)
MD_RSS_MB_PER_RANK = 106.9                  # quench, 2 ranks: peak RSS of the job (Python + mpiexec + lmp) / 2 (MB)
NEB_CORE_S_PER_ATOM_IMAGE_STEP = 7.184e-06  # neb_batch bands: partition loop CPU s x ranks / image-steps / atoms
NEB_CORE_S_PER_ATOM_ITERATION = 1.95e-05    # neb_batch minimisations (one rank): loop CPU s / iterations / atoms
NEB_RSS_MB_PER_RANK = 87.37                 # neb_batch: peak RSS / MPI ranks of its largest band (3) (MB)
DUMP_CORE_S_PER_ATOM_FRAME = 1.795e-06      # reading a dump frame (lipsglass.lammpsio.iter_dump), per atom
STRUCTURE_CORE_S_PER_FRAME = 4.6            # structure: CPU s per analysed frame, reading excluded
STRUCTURE_RSS_MB = 2294                     # structure: peak RSS (MB; 41 frames analysed)
SOFTNESS_DYNAMICS_CORE_S_PER_WINDOW = 148.2  # CPU s / windows, all included (inherent structure, D2min, RSF,
                                             # reading 20 frames per window, as paper.yaml's stride)
SOFTNESS_DYNAMICS_RSS_MB = 305.1            # peak RSS (MB) with REHEARSAL_WINDOWS windows
SOFTNESS_FEATURES_MB_PER_WINDOW = 3.326     # features.npz arrays per window (MB, held until written)
SOFTNESS_PROPERTIES_CORE_S = 86.25          # softness_properties: CPU s per configuration (minimisation, pe, Voronoi)
SOFTNESS_PROPERTIES_RSS_MB = 244.8          # peak RSS (MB)
HOMOLOGY_CORE_S = 14.71                     # homology: CPU s per configuration (both ring definitions, margin 10 A)
HOMOLOGY_RSS_MB = 282.6                     # peak RSS (MB)
REHEARSAL_ATOMS = 7920                      # atoms of the rehearsal glass (P2S6-25 of config/paper.yaml)
REHEARSAL_WINDOWS = 2                       # softness windows of the rehearsal

# MD throughput of one core in atom-steps per second (LAMMPS' katom-step/s x 1000 on one rank) of
# velocity Verlet (md.run_style verlet): the default of --atom-steps-per-core-s
DEFAULT_ATOM_STEPS_PER_CORE_S = 1.0 / MD_CORE_S_PER_ATOM_STEP

# ---- cost of one MD step of other md settings, relative to the rehearsal's velocity-Verlet 1 fs step
# above: LAMMPS loop CPU s per (outer) step of the setting / per step of the current input (velocity
# Verlet, 1 fs), both on one core, best of 3 interleaved rounds of benchmarks/md_settings.py on the
# 8069-atom reference glass at 500 K (docs/md_cost.md). Keys: (md.run_style, md.timestep_fs). A longer
# step costs a little more (more neighbour-list builds per step); an r-RESPA step is an outer step
# (md.timestep_fs) with the bonded terms evaluated at every inner step: it costs more than a Verlet
# step, but there are fewer of them per ps (MDSettings.steps).
MD_SETTINGS_BENCHMARK = "benchmarks/md_settings.py, run of 2026-12-07 (docs/md_cost.md)"
RESPA_2 = "respa 2 2 bond 1 angle 1 dihedral 1 pair 2 kspace 2"
STEP_COST = {
    ("verlet", 1.0): 1.0,
    # the adopted md.timestep_fs 2 (config/paper.yaml, config/config.yaml): measured 0.951 (3.72e5 vs 1.77e5
    # atom-fs per CPU-s), within the run's +-7 % scatter; a 2-fs step does the same force evaluations and more
    # neighbour-list builds than a 1-fs step, so it is costed at 1.0 (2.00x per ps; measured 2.10x)
    ("verlet", 2.0): 1.0,
    (RESPA_2, 2.0): 1.062,   # measured (3.33e5 atom-fs per CPU-s); not adopted: its Li-S g(r) failed the equivalence check
}


def step_cost(md: dict) -> float:
    """Cost of one MD step of the ``md`` settings relative to a velocity-Verlet 1 fs step: measured
    (STEP_COST), else 1.0 for velocity Verlet at another timestep (the same force evaluations per
    step); an unmeasured r-RESPA setting is refused rather than costed at a guessed rate."""
    style = md.get("run_style", "verlet")
    key = (style, float(md.get("timestep_fs", 1.0)))
    if key in STEP_COST:
        return STEP_COST[key]
    if style == "verlet":
        return 1.0
    raise ValueError(f"cost: no measured step cost of md.run_style {style!r} at timestep_fs {key[1]:g}; measure "
                     f"it with benchmarks/md_settings.py and add it to lipsglass.cost.STEP_COST")


def md_atom_steps_per_core_s(config: dict) -> float:
    """Atom-steps (outer steps) per second on one core for the config's md settings: the rehearsal's
    Verlet 1 fs throughput divided by the measured step cost of the settings."""
    return DEFAULT_ATOM_STEPS_PER_CORE_S / step_cost(config.get("md") or {})

# ---- margins of the SLURM profile's resources (python -m lipsglass cost --profile) ----------
# runtime: 1.5x the modelled wall time. The model's per-step costs are this 2-core machine's; a
# cluster node's cores may be slower, its file system slower to start Python and LAMMPS, and
# parallel efficiency beyond 2 ranks is assumed, not measured. A job killed at its limit is not
# lost (retries; MD resumes from its last restart segment, NEB batches skip finished hops).
TIME_MARGIN = 1.5
# mem_mb: 2x the modelled peak: SLURM kills a job at its memory limit without a restart point,
# and peak RSS varies with the MPI library and the node's page size.
MEM_MARGIN = 2.0
MIN_RUNTIME_MIN = 10       # shortest runtime written (minutes): queueing and start-up on a shared file system
MIN_MEM_MB = 1000          # smallest mem_mb written
MD_RULES = ("quench", "production")
ANALYSIS_RULES = ("structure", "softness_dynamics", "softness_properties", "softness_replica_properties", "homology")
HEAVY_RULES = MD_RULES + ("neb_batch",) + ANALYSIS_RULES


def md_steps(config: dict, temperature_K: float | None = None) -> dict[str, dict]:
    """MD steps and restart segments of the quench and of the production run at ``temperature_K``
    (default: the first production temperature; its length from production.durations_ps where
    listed), from the same protocols the jobs run (minimisation counted as its maximum iteration
    count)."""
    md = MDSettings.from_config(config["md"])
    segment_steps = md.segment_steps
    q, p = config["quench"], config["production"]
    T = p["temperatures_K"][0] if temperature_K is None else temperature_K
    protocols = {
        "quench": quench_protocol("glass.data", "out.data", md, q),
        "production": production_protocol("glass.data", "out.data", md,
                                          dict(p, duration_ps=production_duration_ps(p, T)), T, q["final_T_K"],
                                          p["dump_interval_ps"]),
    }
    extra = {"quench": q["minimise_max_iterations"], "production": 0}
    return {kind: {"steps": protocol.total_steps + extra[kind],
                   "segments": len(segment_plan(protocol, segment_steps))
                   if needs_segments(protocol, segment_steps) else 1}
            for kind, protocol in protocols.items()}


def cost_table(config: dict, atom_steps_per_core_s: float) -> list[dict]:
    """MD work: one row per composition and LAMMPS rule; ``core_hours`` covers all ``replicas``
    glasses of the composition (``core_hours_per_replica`` one of them), at perfect scaling (the
    work, not the allocation: :func:`study_cost` adds ranks, efficiency and start-up)."""
    temperatures = config["production"]["temperatures_K"]
    runs = {"quench": md_steps(config)["quench"]}
    runs.update({f"production {round(T)}K": md_steps(config, T)["production"] for T in temperatures})
    replicas = int(config.get("replicas", 1))
    rows = []
    for name, entry in config["compositions"].items():
        n = composition_from_config(name, entry).n_atoms
        for label in runs:
            one = n * runs[label]["steps"] / atom_steps_per_core_s / 3600.0
            rows.append({"glass": name, "rule": label, "atoms": n, "steps": runs[label]["steps"],
                         "segments": runs[label]["segments"], "replicas": replicas,
                         "core_hours_per_replica": one, "core_hours": one * replicas})
    return rows


def md_core_hours(config: dict, atom_steps_per_core_s: float) -> float:
    """MD core-hours of the whole study (:func:`cost_table` summed)."""
    return float(sum(r["core_hours"] for r in cost_table(dict(config), atom_steps_per_core_s)))


def mpi_efficiency(ranks: int) -> float:
    """Parallel efficiency of ``ranks`` MPI ranks: MPI_EFFICIENCY_2_RANKS per doubling (module
    docstring)."""
    return min(1.0, MPI_EFFICIENCY_2_RANKS) ** math.log2(max(1, int(ranks)))


def _dump_frames(duration_ps: float, interval_ps: float) -> int:
    return int(round(float(duration_ps) / float(interval_ps))) + 1


def _run_dump_interval(config: dict, temperature_K: float) -> float:
    p = config["production"]
    return p["fine_dump_interval_ps"] if round(p["fine_T_K"]) == round(temperature_K) else p["dump_interval_ps"]


def _job(rule: str, category: str, jobs: int, tasks: int, wall_s: float, mem_mb: float, basis: str) -> dict:
    return {"rule": rule, "category": category, "jobs": int(jobs), "tasks": int(tasks), "wall_s": float(wall_s),
            "mem_mb": float(mem_mb), "core_hours": jobs * tasks * wall_s / 3600.0, "basis": basis}


def neb_batch_cost(config: dict, atoms: int) -> dict:
    """Tasks, wall time (s) of one NEB batch job and the counts it rests on: per hop, two end
    states minimised on one rank (cg then FIRE, each up to minimise_max_iterations) and the
    regular (R images, n_steps_neb), climbing (R, n_steps_neb + n_steps_climb) and refined
    (2R - 1, the same) bands, images side by side on ranks_per_replica ranks each; per batch,
    the glass's inherent structure minimised once more."""
    neb = neb_settings(config["neb"], config["md"])
    length = 0.5 * (float(neb.min_distance_A) + float(neb.max_distance_A))
    images = neb.replicas_for(length)
    per_rank = int(neb.ranks_per_replica)
    n1, n2 = int(neb.n_steps_neb), int(neb.n_steps_climb)
    iterations = 2 * 2 * int(neb.minimise_max_iterations)           # per state: cg + FIRE
    band_steps = n1 + 2 * (n1 + n2)                                  # wall steps: images run side by side
    image_steps = images * n1 + images * (n1 + n2) + (2 * images - 1) * (n1 + n2)
    step_wall = NEB_CORE_S_PER_ATOM_IMAGE_STEP * atoms / (per_rank * mpi_efficiency(per_rank))
    hop_s = iterations * NEB_CORE_S_PER_ATOM_ITERATION * atoms + band_steps * step_wall
    batch_size = int(config["neb"]["batch_size"])
    wall = MD_STARTUP_S + iterations / 2 * NEB_CORE_S_PER_ATOM_ITERATION * atoms + batch_size * hop_s
    return {"tasks": max_band_ranks(neb), "wall_s": wall, "hop_s": hop_s, "images": images, "atoms": atoms,
            "image_steps_per_hop": image_steps, "iterations_per_hop": iterations, "batch_size": batch_size}


def study_cost(config: dict, md_ranks: int = 8, atom_steps_per_core_s: float | None = None) -> list[dict]:
    """One row per heavy rule (``HEAVY_RULES``; largest glass of the study): jobs, MPI tasks,
    wall time of one job (s), its peak memory (MB) and the allocated core-hours of all its jobs.
    ``md_ranks``: MPI ranks of a quench or production job (``tasks`` of the profile)."""
    glasses = selected_glasses(config)
    replicas = int(config.get("replicas", 1))
    atoms = max(composition_from_config(g, config["compositions"][g]).n_atoms for g in glasses)
    c_step = 1.0 / float(atom_steps_per_core_s or md_atom_steps_per_core_s(config))
    temperatures = config["production"]["temperatures_K"]
    rows = []

    def wall_s(run: dict) -> float:
        return run["segments"] * MD_STARTUP_S + run["steps"] * c_step * atoms / (md_ranks * mpi_efficiency(md_ranks))

    quench = md_steps(config)["quench"]
    rows.append(_job("quench", "MD", len(glasses) * replicas, md_ranks, wall_s(quench), MD_RSS_MB_PER_RANK * md_ranks,
                     f"{quench['steps']} steps x {atoms} atoms, {quench['segments']} segments, "
                     f"{md_ranks} ranks at efficiency {mpi_efficiency(md_ranks):.2f}"))
    # production: one job per glass, replica and temperature; with production.durations_ps the
    # temperatures differ in length: core-hours summed over them, wall/job the longest (the profile's runtime)
    production = [md_steps(config, T)["production"] for T in temperatures]
    walls = [wall_s(run) for run in production]
    row = _job("production", "MD", len(glasses) * replicas * len(temperatures), md_ranks, max(walls),
               MD_RSS_MB_PER_RANK * md_ranks, "")
    row["core_hours"] = len(glasses) * replicas * md_ranks * sum(walls) / 3600.0
    steps = sorted({run["steps"] for run in production})
    segments = max(run["segments"] for run in production)
    row["basis"] = (f"{steps[0]} steps" if len(steps) == 1 else
                    "/".join(str(run["steps"]) for run in production) + f" steps at {'/'.join(str(T) for T in temperatures)} K")
    row["basis"] += (f" x {atoms} atoms, {segments} segments, {md_ranks} ranks at efficiency "
                     f"{mpi_efficiency(md_ranks):.2f}")
    rows.append(row)

    neb_glass_count = len(neb_glasses(config))
    batch = neb_batch_cost(config, atoms)
    rows.append(_job("neb_batch", "NEB", neb_glass_count * n_batches(config["neb"]), batch["tasks"], batch["wall_s"],
                     NEB_RSS_MB_PER_RANK * batch["tasks"],
                     f"{batch['batch_size']} hops x ({batch['iterations_per_hop']} minimisation iterations + "
                     f"{batch['image_steps_per_hop']} image-steps of {batch['images']}/{2 * batch['images'] - 1}-image bands)"))

    scale = atoms / REHEARSAL_ATOMS
    s = config["structure"]
    structure_frames = _dump_frames(production_duration_ps(config["production"], s["temperature_K"]),
                                    _run_dump_interval(config, s["temperature_K"]))
    analysed = min(int(s["max_frames"]), structure_frames)
    rows.append(_job("structure", "analysis", len(glasses) * replicas, 1,
                     (analysed * STRUCTURE_CORE_S_PER_FRAME + structure_frames * DUMP_CORE_S_PER_ATOM_FRAME * REHEARSAL_ATOMS) * scale,
                     STRUCTURE_RSS_MB * scale, f"{analysed} of {structure_frames} frames"))
    soft = config["softness"]
    label_T = soft.get("label_temperature_K", soft["temperature_K"])
    label_frames = _dump_frames(production_duration_ps(config["production"], label_T), _run_dump_interval(config, label_T))
    windows = max(0, (label_frames - int(soft["window_frames"])) // int(soft["window_stride_frames"]) + 1)
    rows.append(_job("softness_dynamics", "analysis", len(glasses), 1,
                     windows * SOFTNESS_DYNAMICS_CORE_S_PER_WINDOW * scale,
                     (SOFTNESS_DYNAMICS_RSS_MB + (windows - REHEARSAL_WINDOWS) * SOFTNESS_FEATURES_MB_PER_WINDOW) * scale,
                     f"{windows} windows of {label_frames} frames"))
    for rule, jobs in (("softness_properties", len(glasses)), ("softness_replica_properties", len(glasses) * (replicas - 1))):
        rows.append(_job(rule, "analysis", jobs, 1, SOFTNESS_PROPERTIES_CORE_S * scale,
                         SOFTNESS_PROPERTIES_RSS_MB * scale, "one configuration (the same script)"))
    rows.append(_job("homology", "analysis", len(glasses), 1, HOMOLOGY_CORE_S * scale, HOMOLOGY_RSS_MB * scale,
                     "one configuration"))
    return rows


def totals(rows: list[dict], nodes: int, cores_per_node: int) -> dict:
    """Core-hours by category and in all; wall time (h) on ``nodes`` nodes: the longer of the
    core-hours spread over every core and the critical path of one glass (quench, one
    production, structure, the longer softness branch, a NEB batch; homology beside them)."""
    by = {r["rule"]: r for r in rows}
    out = {c: sum(r["core_hours"] for r in rows if r["category"] == c) for c in ("MD", "NEB", "analysis")}
    out["total"] = sum(out.values())
    critical = (by["quench"]["wall_s"] + by["production"]["wall_s"] + by["structure"]["wall_s"]
                + max(by["softness_dynamics"]["wall_s"], by["softness_properties"]["wall_s"])
                + max(by["neb_batch"]["wall_s"] if by["neb_batch"]["jobs"] else 0.0, by["homology"]["wall_s"])) / 3600.0
    spread = out["total"] / (nodes * cores_per_node)
    out.update(nodes=nodes, cores_per_node=cores_per_node, critical_path_h=critical, spread_h=spread,
               wall_h=max(critical, spread))
    return out


# ---- the SLURM profile ------------------------------------------------------------------------

def profile_resources(rows: list[dict]) -> dict[str, dict[str, int]]:
    """runtime (min) and mem_mb of every heavy rule: the model's wall time x TIME_MARGIN and peak
    memory x MEM_MARGIN, rounded up (minutes; 100 MB), at least MIN_RUNTIME_MIN and MIN_MEM_MB."""
    return {r["rule"]: {"runtime": max(MIN_RUNTIME_MIN, math.ceil(r["wall_s"] / 60.0 * TIME_MARGIN)),
                        "mem_mb": max(MIN_MEM_MB, 100 * math.ceil(r["mem_mb"] * MEM_MARGIN / 100.0))}
            for r in rows}


def profile_tasks(profile: str | Path, rule: str) -> int:
    """``tasks`` of ``rule`` under set-resources of a profile (1 when unset)."""

    data = yaml.safe_load(Path(profile).read_text())
    return int(((data.get("set-resources") or {}).get(rule) or {}).get("tasks", 1))


_KEY = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z_][\w-]*):(?P<value>[^#]*?)(?P<pad>\s*)(?P<comment>#.*)?$")


def write_profile_resources(text: str, resources: dict[str, dict[str, int]], rows: list[dict]) -> str:
    """The profile ``text`` with runtime and mem_mb of every rule of ``resources`` under
    set-resources set in place, line by line (a PyYAML round trip would drop the comments); a
    rule or key that is missing is added. Each value's comment says where it comes from; comment
    lines continuing a replaced value's comment (indented deeper than its key) are dropped."""
    lines = text.splitlines()
    start = next((k for k, line in enumerate(lines) if line.rstrip() == "set-resources:"), None)
    if start is None:
        raise ValueError("profile: no top-level 'set-resources:' section")
    end = next((k for k in range(start + 1, len(lines)) if lines[k] and not lines[k][0].isspace()
                and not lines[k].startswith("#")), len(lines))
    by = {r["rule"]: r for r in rows}

    def comment(rule: str, key: str) -> str:
        r = by[rule]
        if key == "runtime":
            return (f"# min: {r['wall_s'] / 60.0:.1f} min modelled x TIME_MARGIN {TIME_MARGIN} "
                    f"(python -m lipsglass cost --profile)")
        return f"# MB: {r['mem_mb']:.0f} MB modelled peak x MEM_MARGIN {MEM_MARGIN}"

    section = lines[start + 1:end]
    out: list[str] = []
    current, rule_indent, done = None, None, {}
    skip_deeper_than = None
    for line in section:
        m = _KEY.match(line)
        if skip_deeper_than is not None:
            if line.strip().startswith("#") and len(line) - len(line.lstrip()) > skip_deeper_than:
                continue
            skip_deeper_than = None
        if m and line.strip() and not line.strip().startswith("#"):
            indent = len(m["indent"])
            if rule_indent is None or indent <= rule_indent:
                _close(out, current, resources, done, rule_indent, comment)
                rule_indent, current = indent, m["key"]
                done[current] = set()
            elif current in resources and m["key"] in ("runtime", "mem_mb"):
                key = m["key"]
                head = f"{m['indent']}{key}: {resources[current][key]}"
                out.append(f"{head:<29}{comment(current, key)}")
                done[current].add(key)
                skip_deeper_than = indent
                continue
        out.append(line)
    _close(out, current, resources, done, rule_indent, comment)
    for rule in resources:
        if rule not in done:
            out.append(f"  {rule}:")
            for key in ("runtime", "mem_mb"):
                out.append(f"{f'    {key}: {resources[rule][key]}':<29}{comment(rule, key)}")
    return "\n".join(lines[:start + 1] + out + lines[end:]) + "\n"


def _close(out: list[str], rule: str | None, resources: dict, done: dict, rule_indent: int | None, comment) -> None:
    """Add the runtime/mem_mb keys ``rule`` lacks, after its last key line."""
    if rule is None or rule not in resources:
        return
    at = len(out)
    while at > 0 and (not out[at - 1].strip() or out[at - 1].lstrip().startswith("#")):
        at -= 1
    for key in ("runtime", "mem_mb"):
        if key not in done[rule]:
            out.insert(at, f"{' ' * (rule_indent + 2) + key + ': ' + str(resources[rule][key]):<29}{comment(rule, key)}")
            at += 1
            done[rule].add(key)


def measure_throughput(config: dict, steps: int = 200) -> float:
    """Atom-steps per second on one core for the first glass of the config (built, minimised
    briefly, then NVT at 300 K), with the config's kspace settings."""
    name, entry = next(iter(config["compositions"].items()))
    ff = ForceField.load(config["forcefield"])
    md = MDSettings.from_config(config["md"])
    glass = build_glass(composition_from_config(name, entry), ff, seed=1, density_g_cm3=1.6,
                        min_distance_A=config["build"]["min_distance_A"])
    with tempfile.TemporaryDirectory(prefix="lipsglass-cost-") as tmp:
        data = write_data_file(glass, ff, Path(tmp) / "glass.data")
        seconds = nvt_seconds(ff, data, tmp, md, steps)
    return glass.positions.shape[0] * steps / seconds


def default_md_rate(config: dict) -> tuple[float, str]:
    """MD atom-steps per second on one core for the config's md settings, and where it comes from."""
    factor = step_cost(config["md"])
    source = (f"measured by {REHEARSAL}" if factor == 1.0 else
              f"velocity Verlet 1 fs measured by {REHEARSAL} / {factor:.3f}, the cost of a step of "
              f"run_style {config['md'].get('run_style', 'verlet')!r} at {config['md']['timestep_fs']:g} fs "
              f"measured by {MD_SETTINGS_BENCHMARK}")
    return md_atom_steps_per_core_s(config), source


def profile_md_ranks(profile: str | Path) -> int:
    """MPI ranks of the MD jobs of a SLURM profile: the one ``tasks`` of quench and production."""
    if not Path(profile).is_file():
        raise ValueError(f"profile {profile} not found")
    try:
        ranks = {profile_tasks(profile, r) for r in MD_RULES}
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"{profile}: tasks of quench/production under set-resources unreadable ({exc})") from None
    if len(ranks) != 1:
        raise ValueError(f"{profile}: quench and production have different tasks {sorted(ranks)}")
    return ranks.pop()


def cost_report(config: dict, rows: list[dict], summary: dict, rate: float, source: str, nodes: int,
                cores_per_node: int) -> str:
    """The cost table as text: one line per heavy rule, the totals and the wall time on the nodes."""
    lines = [f"MD throughput: {rate:.3g} atom-steps/s per core ({source}); other per-unit costs: {REHEARSAL}",
             f"{'rule':<28} {'jobs':>5} {'tasks':>6} {'wall/job (h)':>13} {'peak/job (MB)':>14} {'core-hours':>11}  basis"]
    for r in rows:
        lines.append(f"{r['rule']:<28} {r['jobs']:>5} {r['tasks']:>6} {r['wall_s'] / 3600:>13.2f} {r['mem_mb']:>14.0f} "
                     f"{r['core_hours']:>11.1f}  {r['basis']}")
    lines.append(f"MD: {summary['MD']:.0f} core-hours; NEB: {summary['NEB']:.0f} core-hours; "
                 f"analysis: {summary['analysis']:.1f} core-hours (allocated: tasks x wall)")
    lines.append(f"total: {summary['total']:.0f} core-hours")
    if summary["NEB"]:
        batch = neb_batch_cost(config, max(composition_from_config(g, config["compositions"][g]).n_atoms
                                           for g in selected_glasses(config)))
        serial = batch["iterations_per_hop"] * NEB_CORE_S_PER_ATOM_ITERATION * batch["atoms"]
        lines.append(f"NEB is an upper bound: every minimisation and band at its iteration or step limit; "
                     f"{serial / batch['hop_s']:.0%} of a hop's wall time is its end-state minimisation on one of "
                     f"the job's {batch['tasks']} ranks")
    lines.append(f"wall time on {nodes} nodes of {cores_per_node} cores: {summary['wall_h']:.1f} h "
                 f"(the longer of {summary['spread_h']:.1f} h with every core busy and the critical path of one glass, "
                 f"{summary['critical_path_h']:.1f} h)")
    return "\n".join(lines)
