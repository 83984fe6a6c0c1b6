"""Li migration barriers by the nudged elastic band (NEB) method (paper Fig. 4B, 4C, S3).

Pipeline for one hop of Li ``from_id`` to the site of Li ``to_id`` (5-10 A away):

1. **End states (one vacancy scheme).** The target Li ``to_id`` is deleted from the glass,
   leaving a vacancy at its site. Initial state = that glass with the hopping Li on its own
   site; final state = the same glass with the hopping Li moved onto the former position of
   ``to_id`` (its own site is now the vacancy). Both states therefore hold the same atoms and
   the same single vacancy, so their energies are directly comparable. Deleting a Li+ leaves
   the cell with net charge -q_Li; LAMMPS Ewald/PPPM then warns "System is not charge neutral"
   and adds the energy of a uniform neutralising background (the -pi q_tot^2 / (2 g^2 V) term
   of ``ewald.cpp``/``pppm.cpp``). That term depends only on the total charge and the volume,
   both identical in every state and replica here, so it shifts all energies equally and
   cancels in every barrier. Both states are minimised (conjugate gradient, then FIRE, at
   fixed cell, with the force field's model and the MD's kspace settings).
2. **Checks.** A hop is rejected when the minimised initial state moved the hopping Li more
   than ``relax_tolerance_A`` from its site ("initial_moved"), when the minimised final state
   put it closer to its own old site than to the target ("final_relaxed_back"), or more than
   ``relax_tolerance_A`` from the target site ("final_off_target").
3. **NEB.** LAMMPS ``neb`` (REPLICA package), one MPI rank per replica
   (``mpiexec -np R lmp -partition Rx1``), FIRE damped dynamics, ``fix neb`` with a parallel
   spring between neighbouring replicas and a perpendicular spring against kinks, then the
   climbing-image stage. The final replica
   receives the coordinates of *every* atom of the minimised final state (``neb ... final``;
   intermediate replicas are linear interpolations, minimum image), and both end replicas are
   held at their minimised states (``fix setforce`` 0 on replicas 1 and R), so the path's end
   energies are exactly the separately minimised energies.
   Convergence: ``min_modify norm max``, i.e. the largest per-atom force (including the
   nudging forces) of every replica must fall below ``ftol``; a hop is "converged" when the
   climbing stage stopped on that criterion before its step limit.
4. **Barriers** from the last line of the NEB log: forward = max_i E_i - E_initial, backward =
   max_i E_i - E_final (eV), and the path (normalised reaction coordinate, energy).

Units: lengths A, energies reported in eV (LAMMPS real: kcal/mol, converted with
``lipsglass.units``), forces eV/A in settings (converted to kcal/mol/A for LAMMPS).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from lipsglass.forcefield import ForceField
from lipsglass.lammps_runtime import lammps_executable, mpiexec_executable
from lipsglass.lammpsio import Box, read_data, read_dump
from lipsglass.md import SimulationFailed, run_lammps
from lipsglass.neighbours import neighbour_pairs
from lipsglass.simulation import setup_commands
from lipsglass.softness import ANION_TYPES, anion_environment
from lipsglass.units import EV_TO_KCAL_MOL, KCAL_MOL_TO_EV

HOP_CLASSES = ("soft->hard", "hard->soft", "soft->soft", "hard->hard")
HOP_COLUMNS = ("hop_id", "from_id", "to_id", "class", "distance_A", "S_from", "S_to")
# statuses of a finished hop (result.json "status")
CONVERGED, NOT_CONVERGED = "converged", "not_converged"
REJECTIONS = ("initial_moved", "final_relaxed_back", "final_off_target")
FAILED = "failed"
RESULT_VERSION = 1


# --- 1. hop selection ------------------------------------------------------------------------

@dataclass
class HopSelection:
    """Sampled hops and the bookkeeping of the sampling.

    rows: one dict per hop with HOP_COLUMNS (ids are LAMMPS atom ids, distance in A, softness
    dimensionless); candidates: number of ordered Li pairs in the distance window per class;
    requested / shortfall: hops asked for and missing per class (shortfall > 0 when a class
    had fewer candidates than requested).
    """

    rows: list[dict]
    candidates: dict[str, int]
    requested: dict[str, int]
    shortfall: dict[str, int]
    seed: int
    min_distance_A: float
    max_distance_A: float
    soft_threshold: float

    def write_csv(self, path: str | Path) -> None:
        write_rows_csv(path, self.rows, HOP_COLUMNS)


def write_rows_csv(path: str | Path, rows: Sequence[Mapping], columns: Sequence[str]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def read_hops_csv(path: str | Path) -> list[dict]:
    """Hops written by ``HopSelection.write_csv`` with their numeric types restored."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for r in rows:
        out.append({"hop_id": int(r["hop_id"]), "from_id": int(r["from_id"]), "to_id": int(r["to_id"]),
                    "class": r["class"], "distance_A": float(r["distance_A"]),
                    "S_from": float(r["S_from"]), "S_to": float(r["S_to"])})
    return out


def select_hops(box: Box, positions: np.ndarray, li_ids: np.ndarray, softness: np.ndarray,
                n_per_class: int | Mapping[str, int], seed: int, min_distance_A: float = 5.0,
                max_distance_A: float = 10.0, soft_threshold: float = 0.0) -> HopSelection:
    """Seeded sample of Li hops from a Li to the site of another Li.

    positions (N_Li, 3, A), li_ids (N_Li atom ids) and softness (N_Li) describe the Li of one
    structure. Candidates are all ordered pairs (i -> j), i != j, whose minimum-image distance
    d satisfies min_distance_A <= d <= max_distance_A. A Li is soft when S > soft_threshold,
    hard otherwise; the class of a hop is "<from>-><to>" (HOP_CLASSES). In each class
    ``n_per_class`` hops (an int, or a dict per class) are drawn without replacement with
    ``numpy.random.default_rng(seed)``; a Li may take part in several hops. A class with fewer
    candidates than requested yields all it has and the shortfall is returned and warned about.
    hop_id runs 0, 1, ... over the classes in HOP_CLASSES order.
    """
    pos = np.asarray(positions, float)
    ids = np.asarray(li_ids, np.int64)
    s = np.asarray(softness, float)
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise ValueError(f"positions must be (N_Li, 3), got {pos.shape}")
    if ids.shape != (len(pos),) or s.shape != (len(pos),):
        raise ValueError(f"li_ids {ids.shape} and softness {s.shape} must have one entry per position ({len(pos)})")
    if len(np.unique(ids)) != len(ids):
        raise ValueError("li_ids are not unique")
    if not np.all(np.isfinite(s)) or not np.all(np.isfinite(pos)):
        raise ValueError("positions and softness must be finite")
    if not 0.0 <= min_distance_A < max_distance_A:
        raise ValueError(f"need 0 <= min_distance_A < max_distance_A, got {min_distance_A}, {max_distance_A}")
    # a hop longer than half the cell has no unique minimum image: its direction is ambiguous
    face_spacing = 1.0 / np.linalg.norm(np.linalg.inv(box.matrix), axis=0)
    if max_distance_A >= 0.5 * face_spacing.min():
        raise ValueError(f"max_distance_A {max_distance_A} A is not below half the smallest cell width "
                         f"({0.5 * face_spacing.min():.3f} A): the hop vector is ambiguous")
    if isinstance(n_per_class, Mapping):
        unknown = set(n_per_class) - set(HOP_CLASSES)
        if unknown:
            raise ValueError(f"unknown hop classes {sorted(unknown)}; classes are {HOP_CLASSES}")
        requested = {c: int(n_per_class.get(c, 0)) for c in HOP_CLASSES}
    else:
        requested = {c: int(n_per_class) for c in HOP_CLASSES}
    if any(n < 0 for n in requested.values()):
        raise ValueError(f"negative number of hops requested: {requested}")

    i, j, vec = neighbour_pairs(box, pos, max_distance_A)
    dist = np.linalg.norm(vec, axis=1)
    keep = (dist >= min_distance_A) & (dist <= max_distance_A)
    i, j, dist = i[keep], j[keep], dist[keep]
    # both directions of every unordered pair are distinct hops
    src = np.concatenate([i, j])
    dst = np.concatenate([j, i])
    d = np.concatenate([dist, dist])
    order = np.lexsort((ids[dst], ids[src]))  # deterministic candidate order, by (from_id, to_id)
    src, dst, d = src[order], dst[order], d[order]
    soft = s > soft_threshold
    label = np.where(soft, "soft", "hard")
    cls = np.char.add(np.char.add(label[src], "->"), label[dst])

    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    candidates, shortfall = {}, {}
    for c in HOP_CLASSES:
        members = np.flatnonzero(cls == c)
        candidates[c] = int(len(members))
        n = min(requested[c], len(members))
        shortfall[c] = requested[c] - n
        chosen = np.sort(rng.choice(members, size=n, replace=False)) if n else np.zeros(0, np.int64)
        for k in chosen:
            rows.append({"hop_id": len(rows), "from_id": int(ids[src[k]]), "to_id": int(ids[dst[k]]),
                         "class": c, "distance_A": float(d[k]), "S_from": float(s[src[k]]),
                         "S_to": float(s[dst[k]])})
    missing = {c: n for c, n in shortfall.items() if n > 0}
    if missing:
        warnings.warn(f"hop selection: fewer candidates than requested in {missing} "
                      f"(candidates per class: {candidates})", stacklevel=2)
    return HopSelection(rows, candidates, requested, shortfall, int(seed), float(min_distance_A),
                        float(max_distance_A), float(soft_threshold))


# --- settings --------------------------------------------------------------------------------

@dataclass(frozen=True)
class NEBSettings:
    """Every knob of a hop calculation (units in the names; eV-based, converted for LAMMPS).

    replicas: number of NEB images including both ends (one MPI rank each, >= 3).
    spring_constant_eV_A2: ``fix neb`` parallel spring (``parallel neigh``).
    perp_spring_constant_eV_A2: ``fix neb ... perp`` spring against kinks (Maras et al. 2016);
    0 switches it off. Without it the climbing image ran away on a 791-atom glass test hop
    (few images, kinked band); with it the same hop converged.
    etol: NEB energy tolerance (relative change per step; 0 disables it so only ftol counts).
    ftol_eV_A: NEB force tolerance, largest per-atom force incl. nudging (``min_modify norm max``).
    n_steps_neb, n_steps_climb: step limits of the regular and the climbing-image stage
    (multiples of print_every). timestep_fs: FIRE timestep.
    minimise_ftol_eV_A / minimise_max_iterations: end-state minimisation (cg then FIRE).
    kspace_style / kspace_accuracy: as in the MD (None = force-field default).
    relax_tolerance_A: end-state acceptance tolerance (see module docstring).
    timeout_s: wall-time limit of one NEB run (None: none).
    """

    replicas: int = 5
    spring_constant_eV_A2: float = 0.1
    perp_spring_constant_eV_A2: float = 0.1
    etol: float = 0.0
    ftol_eV_A: float = 0.05
    n_steps_neb: int = 1000
    n_steps_climb: int = 1000
    print_every: int = 50
    timestep_fs: float = 1.0
    minimise_ftol_eV_A: float = 0.005
    minimise_max_iterations: int = 5000
    kspace_style: str | None = None
    kspace_accuracy: float | None = None
    relax_tolerance_A: float = 1.0
    timeout_s: float | None = None

    def __post_init__(self):
        if int(self.replicas) < 3:
            raise ValueError(f"replicas must be >= 3 (one free image at least), got {self.replicas}")
        for name in ("spring_constant_eV_A2", "ftol_eV_A", "timestep_fs", "minimise_ftol_eV_A", "relax_tolerance_A"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"NEB setting {name} must be positive, got {getattr(self, name)}")
        if self.perp_spring_constant_eV_A2 < 0:
            raise ValueError(f"perp_spring_constant_eV_A2 must be >= 0, got {self.perp_spring_constant_eV_A2}")
        if self.etol < 0:
            raise ValueError(f"etol must be >= 0, got {self.etol}")
        for name in ("n_steps_neb", "n_steps_climb"):
            n = int(getattr(self, name))
            if n < 0 or n % int(self.print_every):
                raise ValueError(f"{name} ({n}) must be a non-negative multiple of print_every ({self.print_every}), "
                                 "as the LAMMPS neb command requires")

    @classmethod
    def from_config(cls, cfg: Mapping, md: Mapping | None = None) -> "NEBSettings":
        """From the ``neb`` config section; kspace falls back to the ``md`` section. Unknown keys
        raise ValueError (they would otherwise be silently ignored)."""
        known = set(cls.__dataclass_fields__)
        unknown = set(cfg) - known
        if unknown:
            raise ValueError(f"unknown NEB settings {sorted(unknown)}; known: {sorted(known)}")
        values = dict(cfg)
        if md is not None:
            values.setdefault("kspace_style", md.get("kspace_style"))
            values.setdefault("kspace_accuracy", md.get("kspace_accuracy"))
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)


def _kcal(x_eV: float) -> float:
    return float(x_eV) * EV_TO_KCAL_MOL


# --- 2. end states -----------------------------------------------------------------------------

@dataclass
class EndStates:
    """Minimised end states of one hop. Energies kcal/mol (LAMMPS real), distances A."""

    initial_data: Path
    final_coords: Path
    energy_initial_kcal_mol: float
    energy_final_kcal_mol: float
    initial_shift_A: float        # hopping Li: minimised initial position - its glass site
    final_to_target_A: float      # hopping Li: minimised final position - target site
    final_to_origin_A: float      # hopping Li: minimised final position - its minimised initial site
    rejection: str | None


def _minimise_commands(settings: NEBSettings) -> list[str]:
    """cg first (fast on a smooth surface), then FIRE, which keeps descending where the cg line
    search gives up ("linesearch alpha is zero"), to reach ``minimise_ftol`` on the largest
    per-atom force."""
    ftol = _kcal(settings.minimise_ftol_eV_A)
    n = int(settings.minimise_max_iterations)
    return ["min_modify norm max", "min_style cg", f"minimize 0.0 {ftol!r} {n} {10 * n}",
            "min_style fire", f"timestep {settings.timestep_fs}", f"minimize 0.0 {ftol!r} {n} {10 * n}"]


def _output_commands(prefix: Path) -> list[str]:
    return [f"write_dump all custom {prefix}.dump id type x y z modify sort id format float %.12f",
            f'print "$(pe:%.15g)" file {prefix}_energy.txt screen no']


def _header(ff: ForceField, data: Path, workdir: Path, settings: NEBSettings) -> list[str]:
    return setup_commands(ff, data, workdir, topology=ff.default_topology_types(),
                          kspace=settings.kspace_style, kspace_accuracy=settings.kspace_accuracy)


def write_neb_coords(path: str | Path, ids: np.ndarray, positions: np.ndarray, comment: str = "") -> Path:
    """Coordinates file of the ``neb`` command: count line, then ``id x y z`` per atom (A)."""
    path = Path(path)
    lines = [f"# {comment}".rstrip(), str(len(ids))]
    lines += [f"{int(i)} {x:.12f} {y:.12f} {z:.12f}" for i, (x, y, z) in zip(ids, positions)]
    path.write_text("\n".join(lines) + "\n")
    return path


def prepare_end_states(glass_data: str | Path, ff: ForceField, from_id: int, to_id: int,
                       settings: NEBSettings, workdir: str | Path) -> EndStates:
    """Build and minimise the initial and final states of the hop from_id -> site of to_id
    (vacancy scheme of the module docstring) in ``workdir``; check them (rejection reason or
    None). Raises ValueError if the ids are not two different Li of the glass."""
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    glass_data = Path(glass_data).resolve()
    glass = read_data(glass_data)
    index = {int(a): k for k, a in enumerate(glass.ids)}
    li_type = ff.default_topology_types().atom.index(ff.cation) + 1
    for a in (from_id, to_id):
        if int(a) not in index:
            raise ValueError(f"atom id {a} is not in {glass_data}")
        if glass.types[index[int(a)]] != li_type:
            raise ValueError(f"atom {a} of {glass_data} is type {glass.types[index[int(a)]]}, not Li ({li_type})")
    if int(from_id) == int(to_id):
        raise ValueError("from_id and to_id are the same atom")
    origin = glass.positions[index[int(from_id)]]
    target = glass.positions[index[int(to_id)]]
    box = glass.box

    labelmap = "labelmap atom " + " ".join(f"{n} {t}" for n, t in enumerate(ff.default_topology_types().atom, 1))
    minimise = ["thermo_style custom step pe fnorm fmax", "thermo 100"] + _minimise_commands(settings)

    # (a) initial state: target Li deleted, everything relaxed
    initial_data = workdir / "initial.data"
    cmds = _header(ff, glass_data, workdir, settings)
    cmds += [labelmap, f"group hop_target id {int(to_id)}",
             # molecular systems keep their ids (compress no): the NEB files address atoms by id
             "delete_atoms group hop_target compress no", "group hop_target delete"]
    cmds += minimise + [f"write_data {initial_data} nocoeff"] + _output_commands(workdir / "initial")
    run_lammps(cmds, workdir / "initial.log", input_copy=workdir / "in.initial")
    ini = read_dump(workdir / "initial.dump")[-1]
    e_ini = float((workdir / "initial_energy.txt").read_text().split()[-1])
    k = int(np.flatnonzero(ini.ids == int(from_id))[0])
    start = ini.positions()[k]
    initial_shift = float(np.linalg.norm(box.minimum_image(start - origin)))

    # (b) final state: hopping Li moved onto the target site, everything relaxed
    cmds = _header(ff, initial_data, workdir, settings)
    cmds += [labelmap, f"set atom {int(from_id)} x {float(target[0])!r} y {float(target[1])!r} z {float(target[2])!r}"]
    cmds += minimise + _output_commands(workdir / "final")
    run_lammps(cmds, workdir / "final.log", input_copy=workdir / "in.final")
    fin = read_dump(workdir / "final.dump")[-1]
    e_fin = float((workdir / "final_energy.txt").read_text().split()[-1])
    if not np.array_equal(fin.ids, ini.ids):
        raise SimulationFailed("initial and final states hold different atoms")
    end = fin.positions()[k]
    to_target = float(np.linalg.norm(box.minimum_image(end - target)))
    to_origin = float(np.linalg.norm(box.minimum_image(end - start)))

    final_coords = write_neb_coords(workdir / "final.coords", fin.ids, fin.positions(),
                                    f"minimised final state of hop {from_id} -> site of {to_id}")

    rejection = end_state_rejection(initial_shift, to_target, to_origin, settings.relax_tolerance_A)
    return EndStates(initial_data, final_coords, e_ini, e_fin, initial_shift, to_target, to_origin, rejection)


def end_state_rejection(initial_shift_A: float, final_to_target_A: float, final_to_origin_A: float,
                        tolerance_A: float) -> str | None:
    """Why a hop's minimised end states do not describe the intended hop, or None if they do.

    initial_shift_A: how far the minimised initial state moved the hopping Li off its site;
    final_to_target_A / final_to_origin_A: distance of the hopping Li in the minimised final
    state to the target site / to its own (minimised initial) site. In order of precedence:
    "initial_moved" (shift > tolerance: the Li left its own site before hopping),
    "final_relaxed_back" (closer to its own site than to the target), "final_off_target"
    (farther than tolerance from the target site: it settled in some other site)."""
    if not tolerance_A > 0:
        raise ValueError(f"tolerance_A must be positive, got {tolerance_A}")
    if initial_shift_A > tolerance_A:
        return "initial_moved"
    if final_to_origin_A < final_to_target_A:
        return "final_relaxed_back"
    if final_to_target_A > tolerance_A:
        return "final_off_target"
    return None


# --- 3. NEB -------------------------------------------------------------------------------------

def neb_commands(ff: ForceField, initial_data: str | Path, final_coords: str | Path, workdir: str | Path,
                 settings: NEBSettings) -> list[str]:
    """LAMMPS input of the NEB run (every replica reads the same minimised initial state; the
    ``final`` file sets the final replica and the interpolated intermediate ones)."""
    r = int(settings.replicas)
    cmds = _header(ff, Path(initial_data), Path(workdir), settings)
    cmds += [
        "thermo_style custom step pe fnorm fmax", f"thermo {settings.print_every}",
        f"timestep {settings.timestep_fs}",
        "min_style fire",
        # ftol tests the largest per-atom force, independent of system size
        "min_modify norm max",
        f"fix nudge all neb {_kcal(settings.spring_constant_eV_A2)!r} parallel neigh"
        + (f" perp {_kcal(settings.perp_spring_constant_eV_A2)!r}" if settings.perp_spring_constant_eV_A2 > 0 else ""),
        # the end replicas stay at the separately minimised states
        "partition yes 1 fix hold_end all setforce 0.0 0.0 0.0",
        f"partition yes {r} fix hold_end all setforce 0.0 0.0 0.0",
        f"neb {settings.etol!r} {_kcal(settings.ftol_eV_A)!r} {int(settings.n_steps_neb)} "
        f"{int(settings.n_steps_climb)} {int(settings.print_every)} final {Path(final_coords)}",
    ]
    return cmds


def run_neb(commands: list[str], workdir: str | Path, replicas: int, timeout_s: float | None = None) -> Path:
    """Run the NEB input with ``mpiexec -np R lmp -partition Rx1`` in ``workdir``; returns the
    universe log (``neb.log``; replica logs ``neb.log.0`` ...). Raises SimulationFailed with the
    LAMMPS error lines when the run fails."""
    workdir = Path(workdir).resolve()
    (workdir / "in.neb").write_text("\n".join(commands) + "\n")
    cmd = [mpiexec_executable(), "-np", str(int(replicas)), lammps_executable(),
           "-partition", f"{int(replicas)}x1", "-in", "in.neb", "-log", "neb.log",
           "-screen", "none", "-nocite"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    try:
        proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=env, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise SimulationFailed(f"NEB exceeded its time limit of {timeout_s} s in {workdir}") from exc
    errors = []
    for log in sorted(workdir.glob("neb.log*")):
        errors += [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.startswith("ERROR")]
    if proc.returncode != 0 or errors:
        detail = "; ".join(dict.fromkeys(errors)) or (proc.stderr.strip()[-2000:] or proc.stdout.strip()[-2000:])
        raise SimulationFailed(f"NEB failed (exit code {proc.returncode}) in {workdir}: {detail}")
    return workdir / "neb.log"


@dataclass
class NEBLog:
    """Rows of the NEB table of the universe log. Energies kcal/mol; rd normalised (0..1)."""

    steps: np.ndarray            # (n,)
    stage: np.ndarray            # (n,) 1 = regular NEB, 2 = climbing image
    max_atom_force: np.ndarray   # (n,) largest force component (kcal/mol/A) incl. nudging
    rd: np.ndarray               # (n, R)
    pe: np.ndarray               # (n, R)
    climbing_replica: int | None  # 1-based, None if the climbing stage never started
    stop_criteria: list[str]     # LAMMPS "Stopping criterion" of each stage (replica logs)

    @property
    def replicas(self) -> int:
        return self.rd.shape[1]


def parse_neb_log(path: str | Path, replica_log: str | Path | None = None) -> NEBLog:
    """Parse the NEB universe log: "Step MaxReplicaForce MaxAtomForce GradV0 GradV1 GradVc EBF
    EBR RDT RD1 PE1 ... RDN PEN" rows, with "Climbing replica = k" between the stages. The
    stop criteria come from ``replica_log`` (default: ``<path>.0``)."""
    path = Path(path)
    rows, stages, climbing, stage = [], [], None, 0
    n_cols = None
    for line in path.read_text(errors="replace").splitlines():
        words = line.split()
        if words[:2] == ["Step", "MaxReplicaForce"]:
            stage += 1
            n_cols = None
            continue
        if line.startswith("Climbing replica ="):
            climbing = int(words[-1])
            continue
        if stage == 0 or not words or not words[0].isdigit():
            continue
        try:
            values = [float(w) for w in words]
        except ValueError:
            continue
        if (len(values) - 9) % 2 or len(values) < 13:
            raise ValueError(f"{path}: NEB row with {len(values)} columns: {line!r}")
        if n_cols is not None and len(values) != n_cols:
            raise ValueError(f"{path}: NEB rows change width ({n_cols} -> {len(values)})")
        n_cols = len(values)
        rows.append(values)
        stages.append(stage)
    if not rows:
        raise ValueError(f"{path}: no NEB rows found")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ValueError(f"{path}: NEB rows of different widths {sorted(widths)}")
    table = np.array(rows)
    replica_log = Path(replica_log) if replica_log is not None else path.with_name(path.name + ".0")
    stops = []
    if replica_log.exists():
        stops = [ln.split("=", 1)[1].strip() for ln in replica_log.read_text(errors="replace").splitlines()
                 if "Stopping criterion =" in ln]
    return NEBLog(steps=table[:, 0].astype(np.int64), stage=np.array(stages), max_atom_force=table[:, 2],
                  rd=table[:, 9::2], pe=table[:, 10::2], climbing_replica=climbing, stop_criteria=stops)


def neb_summary(log: NEBLog, settings: NEBSettings) -> dict:
    """Barriers (eV) and path of the last NEB row, and the convergence verdict.

    converged: the climbing stage ran and LAMMPS stopped it on the force (or, with etol > 0,
    energy) tolerance, i.e. before its step limit.
    """
    rd, pe = log.rd[-1], log.pe[-1]
    e = (pe - pe[0]) * KCAL_MOL_TO_EV
    top = int(np.argmax(pe))
    climb_rows = log.stage == 2
    climb_steps = int(log.steps[climb_rows][-1] - log.steps[climb_rows][0]) if climb_rows.any() else 0
    stop = log.stop_criteria[1] if len(log.stop_criteria) >= 2 else None
    if stop is not None:
        converged = stop in ("force tolerance", "energy tolerance")
    else:  # replica log missing: judge by the step count
        converged = bool(climb_rows.any()) and climb_steps < int(settings.n_steps_climb)
    intermediate = pe[1:-1]
    # the regular (non-climbing) band at the end of stage 1: a second estimate, kept because a
    # climbing image can fail to converge (or run away) on a rugged glass landscape
    pe1 = log.pe[log.stage == 1][-1] if (log.stage == 1).any() else pe
    return {
        "forward_barrier_eV": float((pe[top] - pe[0]) * KCAL_MOL_TO_EV),
        "backward_barrier_eV": float((pe[top] - pe[-1]) * KCAL_MOL_TO_EV),
        "reaction_energy_eV": float((pe[-1] - pe[0]) * KCAL_MOL_TO_EV),
        "saddle_replica": top + 1,
        "climbing_replica": log.climbing_replica,
        "converged": bool(converged),
        "stop_criteria": log.stop_criteria,
        "regular_forward_barrier_eV": float((pe1.max() - pe1[0]) * KCAL_MOL_TO_EV),
        "regular_backward_barrier_eV": float((pe1.max() - pe1[-1]) * KCAL_MOL_TO_EV),
        "neb_steps": int(log.steps[-1] - log.steps[0]),
        "climb_steps": climb_steps,
        "final_max_force_component_eV_A": float(log.max_atom_force[-1] * KCAL_MOL_TO_EV),
        # an image below both ends means the band found another minimum: barrier is suspect
        "intermediate_below_ends": bool(len(intermediate) and intermediate.min() < min(pe[0], pe[-1])),
        # < 0: an image lies below the initial state (an intermediate minimum on the path)
        "lowest_intermediate_eV": float(e[1:-1].min()) if len(intermediate) else None,
        "path_reaction_coordinate": [float(x) for x in rd],
        "path_energy_eV": [float(x) for x in e],
        "energy_initial_kcal_mol": float(pe[0]),
        "energy_final_kcal_mol": float(pe[-1]),
    }


# --- 4. hops, batches, caching ------------------------------------------------------------------

def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def hop_dir(workdir: str | Path, hop_id: int) -> Path:
    return Path(workdir) / f"hop_{int(hop_id)}"


def run_hop(hop_row: Mapping, glass_data: str | Path, ff: ForceField, settings: NEBSettings,
            workdir: str | Path) -> dict:
    """End states, checks and NEB of one hop in ``workdir/hop_<id>``; writes ``path.csv`` and
    then ``result.json`` (atomically, last: its presence marks the hop as finished) and returns
    the result dict. Rejected hops and LAMMPS failures are finished results too, with their
    status; nothing is dropped."""
    hop = {k: hop_row[k] for k in HOP_COLUMNS}
    out = hop_dir(workdir, hop["hop_id"]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("result.json", "path.csv"):
        (out / stale).unlink(missing_ok=True)
    glass_data = Path(glass_data).resolve()
    result = dict(hop, version=RESULT_VERSION, glass_data=str(glass_data), glass_sha256=_sha256(glass_data),
                  forcefield=ff.name, settings=settings.to_dict())
    t0 = time.perf_counter()
    try:
        ends = prepare_end_states(glass_data, ff, int(hop["from_id"]), int(hop["to_id"]), settings, out)
        result.update(energy_initial_min_kcal_mol=ends.energy_initial_kcal_mol,
                      energy_final_min_kcal_mol=ends.energy_final_kcal_mol,
                      initial_shift_A=ends.initial_shift_A, final_to_target_A=ends.final_to_target_A,
                      final_to_origin_A=ends.final_to_origin_A,
                      end_state_wall_s=time.perf_counter() - t0)
        if ends.rejection is not None:
            result["status"] = ends.rejection
        else:
            t1 = time.perf_counter()
            log = run_neb(neb_commands(ff, ends.initial_data, ends.final_coords, out, settings), out,
                          settings.replicas, settings.timeout_s)
            summary = neb_summary(parse_neb_log(log), settings)
            result.update(summary, neb_wall_s=time.perf_counter() - t1)
            result["status"] = CONVERGED if summary["converged"] else NOT_CONVERGED
            write_rows_csv(out / "path.csv",
                           [{"replica": k + 1, "reaction_coordinate": x, "energy_eV": e}
                            for k, (x, e) in enumerate(zip(summary["path_reaction_coordinate"],
                                                           summary["path_energy_eV"]))],
                           ("replica", "reaction_coordinate", "energy_eV"))
    except SimulationFailed as exc:
        result.update(status=FAILED, error=str(exc))
    result["wall_s"] = time.perf_counter() - t0
    _write_atomic(out / "result.json", json.dumps(result, indent=1))
    return result


def cached_result(hop_row: Mapping, glass_data: str | Path, ff: ForceField, settings: NEBSettings,
                  workdir: str | Path) -> dict | None:
    """The finished result of this hop if ``result.json`` exists, parses, and was computed for
    the same hop, glass file (content hash), force field and settings; else None."""
    path = hop_dir(workdir, hop_row["hop_id"]) / "result.json"
    if not path.exists():
        return None
    try:
        res = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    same = (res.get("version") == RESULT_VERSION and "status" in res
            and all(res.get(k) == hop_row[k] for k in ("hop_id", "from_id", "to_id"))
            and res.get("glass_sha256") == _sha256(Path(glass_data)) and res.get("forcefield") == ff.name
            and res.get("settings") == settings.to_dict())
    if same and res["status"] in (CONVERGED, NOT_CONVERGED) and not (path.parent / "path.csv").exists():
        return None
    return res if same else None


def run_batch(hops: Iterable[Mapping], glass_data: str | Path, ff: ForceField, settings: NEBSettings,
              workdir: str | Path) -> list[dict]:
    """Run every hop not already finished (see ``cached_result``), in order; a killed batch
    rerun resumes where it stopped. Returns the results in hop order."""
    results = []
    seen = set()
    for hop in hops:
        if hop["hop_id"] in seen:
            raise ValueError(f"hop_id {hop['hop_id']} appears twice")
        seen.add(hop["hop_id"])
        res = cached_result(hop, glass_data, ff, settings, workdir)
        results.append(res if res is not None else run_hop(hop, glass_data, ff, settings, workdir))
    return results


RESULT_COLUMNS = HOP_COLUMNS + ("status", "forward_barrier_eV", "backward_barrier_eV", "reaction_energy_eV",
                                "regular_forward_barrier_eV", "regular_backward_barrier_eV",
                                "converged", "intermediate_below_ends", "saddle_replica", "neb_steps",
                                "final_max_force_component_eV_A", "initial_shift_A", "final_to_target_A",
                                "final_to_origin_A", "wall_s", "error")


def collect_results(paths: Iterable[str | Path]) -> list[dict]:
    """Flat rows (RESULT_COLUMNS; missing values None) from ``result.json`` files, sorted by
    hop_id. Barriers of rejected or failed hops are None; non-converged hops keep their
    (provisional) barriers with status "not_converged"."""
    rows = []
    for p in paths:
        res = json.loads(Path(p).read_text())
        rows.append({k: res.get(k) for k in RESULT_COLUMNS})
    return sorted(rows, key=lambda r: r["hop_id"])


def status_counts(rows: Iterable[Mapping]) -> dict[str, int]:
    """Number of hops per status (converged, not_converged, each rejection reason, failed)."""
    counts = {s: 0 for s in (CONVERGED, NOT_CONVERGED, *REJECTIONS, FAILED)}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return counts


def barriers_by_class(rows: Iterable[Mapping], converged_only: bool = True) -> dict[str, np.ndarray]:
    """Forward barriers (eV) per hop class; only converged hops unless ``converged_only`` is
    False (then non-converged ones count too; rejected and failed hops never do)."""
    keep = {CONVERGED} if converged_only else {CONVERGED, NOT_CONVERGED}
    out = {c: [] for c in HOP_CLASSES}
    for r in rows:
        if r["status"] in keep:
            out[r["class"]].append(float(r["forward_barrier_eV"]))
    return {c: np.array(v) for c, v in out.items()}


def representative_hop(rows: Sequence[Mapping], hop_class: str) -> Mapping | None:
    """The converged hop of ``hop_class`` whose forward barrier is the median of its class
    (lower median for an even count), for the example path of Fig. 4B; None if there is none."""
    members = sorted((r for r in rows if r["class"] == hop_class and r["status"] == CONVERGED),
                     key=lambda r: (r["forward_barrier_eV"], r["hop_id"]))
    if not members:
        return None
    return members[(len(members) - 1) // 2]


def read_path_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(normalised reaction coordinate, energy in eV relative to the initial state) of a hop."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return (np.array([float(r["reaction_coordinate"]) for r in rows]),
            np.array([float(r["energy_eV"]) for r in rows]))


# --- Fig. 4D: Li motion around each anion type ----------------------------------------------------

@dataclass
class LiMotion:
    """Motion of each Li over a trajectory window, and its summary per nearest anion type.

    nearest_anion: anion type of the S nearest to the Li at the first frame ("" if no S within
    radius_A); displacement_A: |r(last) - r(first)| (unwrapped); path_length_A: sum of the
    frame-to-frame displacements; hopped: displacement_A > hop_distance_A.
    by_anion[type] = {"n", "hopped_fraction", "mean_displacement_A", "mean_path_length_A"}.
    """

    li_ids: np.ndarray
    nearest_anion: np.ndarray
    displacement_A: np.ndarray
    path_length_A: np.ndarray
    hopped: np.ndarray
    hop_distance_A: float
    by_anion: dict = field(default_factory=dict)


def li_motion_by_anion(frames: Sequence, li_ids: np.ndarray, s_anion_labels: np.ndarray,
                       hop_distance_A: float, radius_A: float = 5.0) -> LiMotion:
    """Per Li: nearest anion type at the first frame, net displacement, path length and whether
    it hopped (net displacement > hop_distance_A), plus the fractions per anion type.

    frames: ``lammpsio.DumpFrame`` sequence (same atom ids in every frame, unwrapped coordinates
    or image flags available); li_ids: atom ids of the Li to follow; s_anion_labels: one label
    per atom of the frames (id order): the anion type of each S atom, "" for other atoms.
    """
    if len(frames) < 2:
        raise ValueError("need at least two frames")
    if not hop_distance_A > 0:
        raise ValueError(f"hop_distance_A must be positive, got {hop_distance_A}")
    ids0 = frames[0].ids
    labels = np.asarray(s_anion_labels).astype(str)
    if labels.shape != ids0.shape:
        raise ValueError(f"s_anion_labels has {labels.shape} entries, frames have {len(ids0)} atoms")
    li_ids = np.asarray(li_ids, np.int64)
    pos_of = {int(a): k for k, a in enumerate(ids0)}
    missing = [int(a) for a in li_ids if int(a) not in pos_of]
    if missing:
        raise ValueError(f"Li ids {missing[:5]} are not in the frames")
    centres = np.array([pos_of[int(a)] for a in li_ids], np.int64)
    traj = []
    for f in frames:
        if not np.array_equal(f.ids, ids0):
            raise ValueError(f"frame at step {f.timestep} holds different atom ids")
        traj.append(f.unwrapped_positions()[centres])
    traj = np.stack(traj)  # (T, N_Li, 3)
    env = anion_environment(frames[0].box, frames[0].positions(), centres, labels, radius=radius_A)
    disp = np.linalg.norm(traj[-1] - traj[0], axis=1)
    path = np.linalg.norm(np.diff(traj, axis=0), axis=2).sum(axis=0)
    hopped = disp > hop_distance_A
    by_anion = {}
    for a in ANION_TYPES:
        m = env.nearest == a
        by_anion[a] = {"n": int(m.sum()),
                       "hopped_fraction": float(hopped[m].mean()) if m.any() else float("nan"),
                       "mean_displacement_A": float(disp[m].mean()) if m.any() else float("nan"),
                       "mean_path_length_A": float(path[m].mean()) if m.any() else float("nan")}
    return LiMotion(li_ids, env.nearest, disp, path, hopped, float(hop_distance_A), by_anion)
