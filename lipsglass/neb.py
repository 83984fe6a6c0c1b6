"""Li migration barriers by the nudged elastic band (NEB) method (paper Fig. 4B, 4C, S3).

Pipeline for one hop of Li ``from_id`` to the site of Li ``to_id`` (5-10 A away):

1. **End states (one vacancy scheme).** The glass is first minimised as it is (its inherent
   structure, once per batch: ``inherent_structure``): its atom positions are the *sites* of the
   hop and of every check below (a thermal snapshot is not a minimum: starting from it, the
   end-state minimisations moved the hopping Li 0.2-0.8 A and sent distant Li into different minima
   in the two end states). The target Li ``to_id`` is deleted from the inherent structure,
   leaving a vacancy at its site. Initial state = that glass with the hopping Li on its own
   site; final state = the same glass with the hopping Li moved onto the former position of
   ``to_id`` (its own site is now the vacancy). Both states therefore hold the same atoms and
   the same single vacancy, so their energies are directly comparable. Deleting a Li+ leaves the
   cell with net charge -q_Li; LAMMPS Ewald/PPPM then warns "System is not charge neutral" and
   adds the energy of a uniform neutralising background (the -pi q_tot^2 / (2 g^2 V) term of
   ``ewald.cpp``/``pppm.cpp``). That term depends only on the total charge and the volume, both
   identical in every state and replica here, so it shifts all energies equally and cancels in
   every barrier. Both states are minimised (conjugate gradient, then FIRE, at fixed cell, with
   the force field's model and the MD's kspace settings), the final state from the minimised
   initial state with the hopping Li moved onto the target site.
2. **Checks.** A hop is rejected when the minimised initial state moved the hopping Li more
   than ``relax_tolerance_A`` from its site ("initial_moved"), when the minimised final state
   put it closer to its own old site than to the target ("final_relaxed_back"), or more than
   ``relax_tolerance_A`` from the target site ("final_off_target"), when any *other* atom
   changed its site between the end states (its nearest inherent-structure site of its own
   species differs: another Li filled a vacancy, an anion turned) or moved more than
   ``max_other_displacement_A`` (a concerted move, not a single-Li hop: "concerted_move"), or
   when the *relaxed* hop length (hopping Li, minimised
   initial to minimised final position) lies outside [min_distance_A, max_distance_A]
   ("length_outside_window").
3. **Starting path.** Image-dependent pair potential (IDPP, Smidstrup et al. 2014) images
   between the minimised end states, one coordinates file per image (``neb ... each``): the
   straight line pushes the hopping Li through S atoms (0.5 A apart), which crashed LAMMPS.
4. **NEB.** LAMMPS ``neb`` (REPLICA package), R images by the relaxed hop length (about one
   per A, at least ``min_replicas``), ``-partition RxP`` with P MPI ranks per image
   (``neb_launch_command``, the one place the command line is built), quickmin damped dynamics
   (``band_min_style``; FIRE let climbing images run away on glass hops),
   ``fix neb`` with a parallel spring (no perpendicular spring by default: LAMMPS applies it to
   the climbing image too), then the climbing-image stage. Both end replicas are held at their
   minimised states (``fix setforce`` 0 on replicas 1 and R), so the path's end energies are
   exactly the separately minimised energies. A band has converged when the climbing stage
   stopped on ``ftol`` (largest per-atom force incl. nudging, ``min_modify norm max``) before its
   step limit (a climb that reached it is continued from where it stopped with twice the limit,
   ``climb_retries`` times: ``climbing_band``) *and* a refined band of 2R - 1 images, started
   from it with midpoints inserted, converged too and reproduced both barriers within
   ``refine_tolerance_eV``; otherwise the hop is "not_converged" with the reason. A LAMMPS
   failure is retried with half the timestep (``retries``) and then reported as "failed" with the
   error. A band whose relaxed regular stage (no climbing image yet), climbing band or refined
   band passes intermediate basins is split into elementary hops instead (``split_band``): the
   basin images are minimised and each hop between consecutive states gets its own band, climbing
   image and refinement test (a segment passing basins of its own is split again, to
   ``max_split_depth`` levels); the hop is converged when every segment is. A climbing image that
   rises more than ``climb_runaway_eV`` above the regular band has left the path
   ("climb_runaway").
5. **Barriers** from the last line of the (refined) NEB log, measured from the lowest
   preceding minimum (``path_barriers``): forward = max_i (E_i - min_{j<=i} E_j), backward =
   max_i (E_i - min_{j>=i} E_j) (eV) -- the backward barrier is the forward barrier of the
   reverse hop -- and the path (normalised reaction coordinate, energy). Intermediate minima
   are flagged.

Units: lengths A, energies reported in eV (LAMMPS real: kcal/mol, converted with
``lipsglass.units``), forces eV/A in settings (converted to kcal/mol/A for LAMMPS).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import os
import shlex
import shutil
import subprocess
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from lipsglass.forcefield import ForceField
from lipsglass.engine.runtime import LammpsRuntime
from lipsglass.lammpsio import Box, read_data, read_dump
from lipsglass.engine.runner import SimulationFailed, run_lammps
from lipsglass.neighbours import nearest_site, neighbour_pairs

log = logging.getLogger(__name__)
from lipsglass.engine.setup import setup_commands
from lipsglass.softness import ANION_TYPES, anion_environment
from lipsglass.units import EV_TO_KCAL_MOL, KCAL_MOL_TO_EV

HOP_CLASSES = ("soft->hard", "hard->soft", "soft->soft", "hard->hard")
HOP_COLUMNS = ("hop_id", "from_id", "to_id", "class", "distance_A", "S_from", "S_to")
# statuses of a finished hop (result.json "status")
CONVERGED, NOT_CONVERGED = "converged", "not_converged"
REJECTIONS = ("initial_moved", "final_relaxed_back", "final_off_target", "concerted_move", "length_outside_window")
FAILED = "failed"
# 3: end states from the glass's inherent structure, site-change check; 4: split depth, climb retries;
# 5: split also at basins that the climbing or the refined band shows
RESULT_VERSION = 5


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

    Band size: ``replicas`` images incl. both ends when set; otherwise (None, the default) by
    the relaxed hop length L: max(min_replicas, ceil(L * replicas_per_A) + 1), about one image
    per A. One MPI partition per image with ``ranks_per_replica`` ranks each
    (``-partition RxP``).
    spring_constant_eV_A2: ``fix neb`` parallel spring (``parallel neigh``).
    perp_spring_constant_eV_A2: ``fix neb ... perp`` spring against kinks; 0 (default) switches
    it off: LAMMPS applies it to the climbing image too, where it can hold a kinked band at a
    point that is not a saddle.
    etol: NEB energy tolerance (relative change per step; 0 disables it so only ftol counts).
    ftol_eV_A: NEB force tolerance, largest per-atom force incl. nudging (``min_modify norm max``).
    n_steps_neb, n_steps_climb: step limits of the regular and the climbing-image stage
    (multiples of print_every). timestep_fs: timestep of the damped dynamics.
    minimise_ftol_eV_A / minimise_max_iterations: end-state minimisation (cg then FIRE).
    kspace_style / kspace_accuracy: as in the MD (None = force-field default).
    relax_tolerance_A: end-state acceptance tolerance (see module docstring).
    min_distance_A / max_distance_A: window of the relaxed hop length (A).
    max_other_displacement_A: largest displacement of any other atom between the minimised end
    states; above it, or when any other atom changes its site (nearest inherent-structure site
    of its species), the hop is a concerted move and is rejected ("concerted_move"). Li beside
    a vacancy relax towards it by up to ~2 A without leaving their sites.
    idpp_cutoff_A: pair cutoff of the IDPP starting path (A); 0 = linear interpolation.
    refine_tolerance_eV: a band is converged only when a refined band (2R - 1 images, started
    from the converged one with midpoints inserted) reproduces both barriers within this.
    retries: further attempts of a hop whose LAMMPS run failed, each with half the timestep.
    timeout_s: wall-time limit of one NEB run (None: none).
    band_min_style: damped dynamics of the bands (``min_style`` of ``neb``): quickmin (default)
    or fire. With fire, climbing images of glass hops whose regular band had converged ran away
    (10-29 eV, also with ``min_modify tmax 2``); quickmin converged the same climbing band.
    climb_retries: a climbing stage that reached ``n_steps_climb`` without converging is run
    again this often from where it stopped, retry k with ``n_steps_climb`` * 2^k steps
    (quickmin from rest; the largest atom force of a stuck glass band swung between 0.04 and
    0.5 eV/A for 500 steps at 1 fs).
    max_split_depth: levels of splitting a band at its basins (``split_band``): 0 = never; 1 =
    the hop's band only; 2 = segments with basins of their own are split too (on the default
    glass, 2 of 3 unconverged hops had a depth-1 segment that passed a basin and whose refined
    band found it 0.08-0.14 eV deeper).
    segment_min_replicas: images of an elementary hop (segment), at least (one per A of its
    largest atom displacement otherwise; its refinement then has 2R - 1 >= 9).
    basin_separation_A: a minimised basin image is an intermediate state when it lies farther
    than this (largest atom displacement, A) from both states it separates.
    climb_runaway_eV: a climbing image this far above the highest image of its relaxed regular
    band left the valley of the path ("climb_runaway"; a saddle lies ~0.1-0.3 eV above the
    nearest image of a one-per-A band).
    """

    replicas: int | None = None
    replicas_per_A: float = 1.0
    min_replicas: int = 9
    ranks_per_replica: int = 1
    spring_constant_eV_A2: float = 0.1
    perp_spring_constant_eV_A2: float = 0.0
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
    min_distance_A: float = 0.0
    max_distance_A: float = float("inf")
    max_other_displacement_A: float = 2.0
    idpp_cutoff_A: float = 6.0
    refine_tolerance_eV: float = 0.05
    retries: int = 1
    timeout_s: float | None = None
    band_min_style: str = "quickmin"
    climb_retries: int = 1
    max_split_depth: int = 2
    segment_min_replicas: int = 5
    basin_separation_A: float = 0.3
    climb_runaway_eV: float = 1.0

    def __post_init__(self):
        if self.band_min_style not in ("quickmin", "fire"):
            raise ValueError(f"NEB setting band_min_style must be quickmin or fire, got {self.band_min_style!r}")
        if self.replicas is not None and int(self.replicas) < 3:
            raise ValueError(f"NEB setting replicas must be >= 3 (one free image at least), got {self.replicas}")
        if int(self.min_replicas) < 3:
            raise ValueError(f"NEB setting min_replicas must be >= 3, got {self.min_replicas}")
        if int(self.ranks_per_replica) < 1:
            raise ValueError(f"NEB setting ranks_per_replica must be >= 1, got {self.ranks_per_replica}")
        for name in ("spring_constant_eV_A2", "ftol_eV_A", "timestep_fs", "minimise_ftol_eV_A", "relax_tolerance_A",
                     "replicas_per_A", "max_other_displacement_A", "refine_tolerance_eV", "basin_separation_A",
                     "climb_runaway_eV"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"NEB setting {name} must be positive, got {getattr(self, name)}")
        for name in ("perp_spring_constant_eV_A2", "etol", "idpp_cutoff_A", "retries", "min_distance_A",
                     "climb_retries", "max_split_depth"):
            if float(getattr(self, name)) < 0:
                raise ValueError(f"NEB setting {name} must be >= 0, got {getattr(self, name)}")
        if int(self.segment_min_replicas) < 3:
            raise ValueError(f"NEB setting segment_min_replicas must be >= 3, got {self.segment_min_replicas}")
        if not float(self.min_distance_A) < float(self.max_distance_A):
            raise ValueError(f"NEB settings need min_distance_A < max_distance_A, got {self.min_distance_A}, "
                             f"{self.max_distance_A}")
        for name in ("n_steps_neb", "n_steps_climb"):
            n = int(getattr(self, name))
            if n < 0 or n % int(self.print_every):
                raise ValueError(f"NEB setting {name} ({n}) must be a non-negative multiple of print_every "
                                 f"({self.print_every}), as the LAMMPS neb command requires")

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

    def replicas_for(self, hop_length_A: float) -> int:
        """Images of the band of a hop of relaxed length ``hop_length_A`` (A), both ends included."""
        if self.replicas is not None:
            return int(self.replicas)
        return max(int(self.min_replicas), int(math.ceil(float(hop_length_A) * float(self.replicas_per_A))) + 1)


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
    initial_shift_A: float        # hopping Li: minimised initial position - its inherent-structure site
    final_to_target_A: float      # hopping Li: minimised final position - target (inherent-structure) site
    final_to_origin_A: float      # hopping Li: minimised final position - its minimised initial site
    hop_length_A: float           # = final_to_origin_A: the relaxed hop length
    max_other_displacement_A: float  # largest displacement of any other atom between the end states
    max_other_atom_id: int        # the atom that moved most (besides the hopping Li)
    rejection: str | None
    site_changed_ids: tuple = ()  # other atoms whose nearest inherent-structure site differs between the end states
    ids: np.ndarray = field(repr=False, default=None)          # atom ids of both states (sorted)
    initial_positions: np.ndarray = field(repr=False, default=None)  # (N, 3) A
    final_positions: np.ndarray = field(repr=False, default=None)    # (N, 3) A
    box: Box | None = field(repr=False, default=None)


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


def _labelmap(ff: ForceField) -> str:
    return "labelmap atom " + " ".join(f"{n} {t}" for n, t in enumerate(ff.default_topology_types().atom, 1))


def _minimise_state_commands(settings: NEBSettings) -> list[str]:
    return ["thermo_style custom step pe fnorm fmax", "thermo 100"] + _minimise_commands(settings)


def inherent_structure(glass_data: str | Path, ff: ForceField, settings: NEBSettings,
                       workdir: str | Path) -> Path:
    """The glass minimised as it is (its inherent structure: the sites of every hop of the
    glass), as ``workdir/inherent_<key>.data``: computed once and reused by every hop of a
    batch. The key hashes what the minimum depends on (the glass file's content, the force
    field, the minimisation and kspace settings), so a changed input is never served a stale
    structure; the file appears only complete (written to a temporary name, then renamed)."""
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    glass_data = Path(glass_data).resolve()
    depends = [_sha256(glass_data), ff.name, settings.minimise_ftol_eV_A, settings.minimise_max_iterations,
               settings.timestep_fs, settings.kspace_style, settings.kspace_accuracy]
    key = hashlib.sha256(json.dumps(depends).encode()).hexdigest()[:16]
    path = workdir / f"inherent_{key}.data"
    if path.exists():
        return path
    partial = workdir / f"inherent_{key}.partial.data"
    cmds = _header(ff, glass_data, workdir, settings) + [_labelmap(ff)] + _minimise_state_commands(settings)
    cmds += [f"write_data {partial} nocoeff"]
    run_lammps(cmds, workdir / f"inherent_{key}.log", input_copy=workdir / f"in.inherent_{key}")
    partial.replace(path)
    return path


def prepare_end_states(glass_data: str | Path, ff: ForceField, from_id: int, to_id: int,
                       settings: NEBSettings, workdir: str | Path,
                       inherent_dir: str | Path | None = None) -> EndStates:
    """Build and minimise the initial and final states of the hop from_id -> site of to_id
    (vacancy scheme of the module docstring, from the glass's inherent structure, cached in
    ``inherent_dir``, default ``workdir``) in ``workdir``; check them (rejection reason or None).
    Raises ValueError if the ids are not two different Li of the glass."""
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
    box = glass.box

    labelmap = _labelmap(ff)
    minimise = _minimise_state_commands(settings)

    # (0) the glass's inherent structure: the sites of the hop and of the checks
    inherent_data = inherent_structure(glass_data, ff, settings, workdir if inherent_dir is None else inherent_dir)
    sites = read_data(inherent_data)
    site_order = np.argsort(sites.ids)
    site_ids, site_types, site_positions = sites.ids[site_order], sites.types[site_order], sites.positions[site_order]
    origin = site_positions[np.searchsorted(site_ids, int(from_id))]
    target = site_positions[np.searchsorted(site_ids, int(to_id))]

    # (a) initial state: target Li deleted, everything relaxed
    initial_data = workdir / "initial.data"
    cmds = _header(ff, inherent_data, workdir, settings)
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
    moved = np.linalg.norm(box.minimum_image(fin.positions() - ini.positions()), axis=1)
    moved[k] = 0.0
    j = int(np.argmax(moved))
    types = site_types[np.searchsorted(site_ids, ini.ids)]
    changed = site_changes(box, site_positions, site_types, types, ini.positions(), fin.positions())
    changed = changed[ini.ids[changed] != int(from_id)]

    final_coords = write_neb_coords(workdir / "final.coords", fin.ids, fin.positions(),
                                    f"minimised final state of hop {from_id} -> site of {to_id}")

    rejection = end_state_rejection(initial_shift, to_target, to_origin, settings.relax_tolerance_A,
                                    max_other_displacement_A=float(moved[j]), settings=settings,
                                    other_site_changes=len(changed))
    return EndStates(initial_data, final_coords, e_ini, e_fin, initial_shift, to_target, to_origin, to_origin,
                     float(moved[j]), int(fin.ids[j]), rejection,
                     site_changed_ids=tuple(int(a) for a in ini.ids[changed]), ids=ini.ids.copy(),
                     initial_positions=ini.positions(), final_positions=fin.positions(), box=box)


def site_changes(box: Box, site_positions: np.ndarray, site_types: np.ndarray, types: np.ndarray,
                 initial: np.ndarray, final: np.ndarray) -> np.ndarray:
    """Indices of the atoms (rows of ``initial``/``final``, species ``types``) whose nearest site
    of their own species (``site_positions`` of species ``site_types``: the inherent structure)
    differs between the two states: the atoms that changed site rather than relaxed around it."""
    types = np.asarray(types)
    site_types = np.asarray(site_types)
    changed = np.zeros(len(types), bool)
    for t in np.unique(types):
        atoms = np.flatnonzero(types == t)
        own = site_positions[site_types == t]
        if len(own) == 0:
            raise ValueError(f"no sites of species type {t}")
        changed[atoms] = (nearest_site(box, own, initial[atoms]) != nearest_site(box, own, final[atoms]))
    return np.flatnonzero(changed)


def end_state_rejection(initial_shift_A: float, final_to_target_A: float, final_to_origin_A: float,
                        tolerance_A: float, max_other_displacement_A: float = 0.0,
                        settings: NEBSettings | None = None, other_site_changes: int = 0) -> str | None:
    """Why a hop's minimised end states do not describe the intended hop, or None if they do.

    initial_shift_A: how far the minimised initial state moved the hopping Li off its site;
    final_to_target_A / final_to_origin_A: distance of the hopping Li in the minimised final
    state to the target site / to its own (minimised initial) site (= the relaxed hop length);
    max_other_displacement_A: largest displacement of any other atom between the end states;
    other_site_changes: how many other atoms changed their site between them. In order of
    precedence: "initial_moved" (shift > tolerance: the Li left its own site
    before hopping), "final_relaxed_back" (closer to its own site than to the target),
    "final_off_target" (farther than tolerance from the target site: it settled in some other
    site), and with ``settings``: "concerted_move" (another atom changed its site or moved more
    than settings.max_other_displacement_A: not a single-Li hop), "length_outside_window" (relaxed
    hop length outside [settings.min_distance_A, settings.max_distance_A])."""
    if not tolerance_A > 0:
        raise ValueError(f"tolerance_A must be positive, got {tolerance_A}")
    if initial_shift_A > tolerance_A:
        return "initial_moved"
    if final_to_origin_A < final_to_target_A:
        return "final_relaxed_back"
    if final_to_target_A > tolerance_A:
        return "final_off_target"
    if settings is not None:
        if other_site_changes > 0 or max_other_displacement_A > settings.max_other_displacement_A:
            return "concerted_move"
        if not settings.min_distance_A <= final_to_origin_A <= settings.max_distance_A:
            return "length_outside_window"
    return None


# --- 3. starting path ------------------------------------------------------------------------------

def linear_path(box: Box, initial: np.ndarray, final: np.ndarray, n_images: int) -> np.ndarray:
    """(n_images, N, 3) positions interpolated linearly (minimum image) from initial to final."""
    x0 = np.asarray(initial, float)
    d = box.minimum_image(np.asarray(final, float) - x0)
    t = np.linspace(0.0, 1.0, int(n_images))
    return x0[None] + t[:, None, None] * d[None]


def idpp_path(box: Box, initial: np.ndarray, final: np.ndarray, n_images: int, cutoff_A: float = 6.0,
              max_iterations: int = 1000, gtol: float = 1e-4) -> np.ndarray:
    """Image-dependent pair potential (IDPP) starting path (Smidstrup et al., J. Chem. Phys. 140,
    214106 (2014)), (n_images, N, 3) in A.

    Image k (t = k / (n_images - 1)) minimises S_k(x) = sum_{pairs} w(d*) (d_ij(x) - d*_ij)^2
    with the target distances d*_ij = (1 - t) d_ij(initial) + t d_ij(final) interpolated for
    every pair closer than ``cutoff_A`` in either end state, and w = d*^-4, so close pairs (an
    atom pushed through another on the straight line) dominate. Each image is relaxed
    independently (L-BFGS) from the linear interpolation; the ends are the given states.
    Positions need not be wrapped; the result is continuous with ``initial`` (no wrapping).
    ``cutoff_A`` 0 returns the linear path.
    """
    from scipy.optimize import minimize

    path = linear_path(box, initial, final, n_images)
    if cutoff_A <= 0 or n_images < 3:
        return path
    x0, x1 = path[0], path[-1]
    pairs = set()
    for x in (x0, x1):
        i, j, _ = neighbour_pairs(box, box.wrap(x), float(cutoff_A))
        pairs.update(zip(np.minimum(i, j).tolist(), np.maximum(i, j).tolist()))
    if not pairs:
        return path
    pi, pj = np.array(sorted(pairs)).T
    r0 = np.linalg.norm(box.minimum_image(x0[pj] - x0[pi]), axis=1)
    r1 = np.linalg.norm(box.minimum_image(x1[pj] - x1[pi]), axis=1)
    n = len(x0)
    for k in range(1, int(n_images) - 1):
        t = k / (n_images - 1)
        target = (1 - t) * r0 + t * r1
        w = target ** -4
        start = path[k]
        v0 = box.minimum_image(start[pj] - start[pi])  # pair vectors of the start, fixed image

        def objective(flat, v0=v0, target=target, w=w):
            u = flat.reshape(n, 3)
            v = v0 + u[pj] - u[pi]
            d = np.linalg.norm(v, axis=1)
            diff = d - target
            g_pair = (2 * w * diff / np.maximum(d, 1e-12))[:, None] * v
            grad = np.zeros((n, 3))
            np.add.at(grad, pj, g_pair)
            np.add.at(grad, pi, -g_pair)
            return float(np.sum(w * diff * diff)), grad.ravel()

        res = minimize(objective, np.zeros(3 * n), jac=True, method="L-BFGS-B",
                       options={"maxiter": int(max_iterations), "gtol": gtol})
        path[k] = start + res.x.reshape(n, 3)
    return path


def closest_approach(box: Box, path: np.ndarray, mover: int) -> float:
    """Smallest distance (A) between atom index ``mover`` and any other atom over the interior
    images of ``path`` (n_images, N, 3): how close the starting path pushes the hopping Li."""
    best = float("inf")
    for img in path[1:-1]:
        d = np.linalg.norm(box.minimum_image(img - img[mover]), axis=1)
        d[mover] = np.inf
        best = min(best, float(d.min()))
    return best


# --- 4. NEB -------------------------------------------------------------------------------------

def neb_launch_command(replicas: int, ranks_per_replica: int = 1, launcher: str | None = None,
                       input_file: str = "in.neb", log_file: str = "neb.log",
                       runtime: LammpsRuntime | None = None) -> list[str]:
    """The one place that builds the command line of a NEB run: ``launcher -n R*P lmp <switches>
    -partition RxP -in ... -log ...`` (R images, P MPI ranks each; LAMMPS ``-partition``).
    ``launcher``: the rule's ``mpi`` resource (Snakemake's MPI pattern; None or "mpiexec" = the
    environment's mpiexec, "srun" on a cluster). ``runtime``: the config section ``lammps``
    (``LammpsRuntime``: a site executable, a launcher template and the ``neb_batch`` switches);
    None = the environment's ``lmp``."""
    r, p = int(replicas), int(ranks_per_replica)
    if r < 2 or p < 1:
        raise ValueError(f"need >= 2 replicas and >= 1 rank per replica, got {r}, {p}")
    runtime = LammpsRuntime() if runtime is None else runtime
    # force_external: a multi-partition run is always a separate program, even on one rank each
    base = runtime.command("neb_batch", ranks=r * p, threads=1, mpi=launcher, force_external=True)
    return base + ["-partition", f"{r}x{p}", "-in", input_file, "-log", log_file, "-screen", "none", "-nocite"]


def band_commands(header: Sequence[str], settings: NEBSettings, replicas: int, coords_stem: str = "band",
                  dump_stem: str = "relaxed") -> list[str]:
    """LAMMPS input of a NEB run after the model ``header`` (which defines the initial state).
    Replica p (2..R) reads its starting coordinates from ``<coords_stem>.<p>.coords``
    (``neb ... each``); replica 1 keeps the header's state. Both end replicas are held
    (``fix setforce`` 0), so the path's end energies are the minimised end-state energies. After
    the run every replica writes its relaxed image to ``<dump_stem>.<p>.dump``."""
    r = int(replicas)
    perp = settings.perp_spring_constant_eV_A2
    return list(header) + [
        "variable p world " + " ".join(str(k) for k in range(1, r + 1)),
        "thermo_style custom step pe fnorm fmax", f"thermo {settings.print_every}",
        f"timestep {settings.timestep_fs}",
        f"min_style {settings.band_min_style}",
        # ftol tests the largest per-atom force, independent of system size
        "min_modify norm max",
        f"fix nudge all neb {_kcal(settings.spring_constant_eV_A2)!r} parallel neigh"
        + (f" perp {_kcal(perp)!r}" if perp > 0 else ""),
        "partition yes 1 fix hold_end all setforce 0.0 0.0 0.0",
        f"partition yes {r} fix hold_end all setforce 0.0 0.0 0.0",
        f"neb {settings.etol!r} {_kcal(settings.ftol_eV_A)!r} {int(settings.n_steps_neb)} "
        f"{int(settings.n_steps_climb)} {int(settings.print_every)} each {coords_stem}.${{p}}.coords",
        f"write_dump all custom {dump_stem}.${{p}}.dump id type x y z modify sort id format float %.12f",
    ]


def max_band_ranks(settings: NEBSettings) -> int:
    """MPI ranks of the largest band a hop can need: the refined band (2R - 1 images) of the
    longest hop the window admits (max_distance_A; min_replicas when it is unbounded), times
    ranks_per_replica."""
    length = settings.max_distance_A if math.isfinite(settings.max_distance_A) else 0.0
    return (2 * settings.replicas_for(length) - 1) * int(settings.ranks_per_replica)


def write_band_coords(workdir: str | Path, ids: np.ndarray, path: np.ndarray, stem: str = "band") -> None:
    """``<stem>.<p>.coords`` for images p = 2..R of ``path`` (n_images, N, 3)."""
    for p in range(2, len(path) + 1):
        write_neb_coords(Path(workdir) / f"{stem}.{p}.coords", ids, path[p - 1], f"starting image {p}")


def run_neb(commands: list[str], workdir: str | Path, replicas: int, timeout_s: float | None = None,
            ranks_per_replica: int = 1, launcher: str | None = None,
            runtime: LammpsRuntime | None = None) -> Path:
    """Run the NEB input (``neb_launch_command``) in ``workdir``; returns the universe log
    (``neb.log``; replica logs ``neb.log.0`` ...). Raises SimulationFailed with the LAMMPS error
    lines when the run fails."""
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "in.neb").write_text("\n".join(commands) + "\n")
    cmd = neb_launch_command(replicas, ranks_per_replica, launcher, runtime=runtime)
    # the batch log says how each band ran (launcher, ranks, partitions)
    log.info("band %s: %s", workdir, shlex.join(cmd))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    try:
        proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=env, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise SimulationFailed(f"NEB exceeded its time limit of {timeout_s} s in {workdir}") from exc
    errors = []
    for neb_log in sorted(workdir.glob("neb.log*")):
        errors += [ln.strip() for ln in neb_log.read_text(errors="replace").splitlines() if ln.startswith("ERROR")]
    if proc.returncode != 0 or errors:
        detail = "; ".join(dict.fromkeys(errors)) or (proc.stderr.strip()[-2000:] or proc.stdout.strip()[-2000:])
        raise SimulationFailed(f"NEB failed (exit code {proc.returncode}) in {workdir}: {detail}")
    return workdir / "neb.log"


def read_band(workdir: str | Path, replicas: int, stem: str = "relaxed") -> tuple[np.ndarray, np.ndarray]:
    """(ids, positions (R, N, 3)) of the relaxed images written by ``band_commands``."""
    frames = [read_dump(Path(workdir) / f"{stem}.{p}.dump")[-1] for p in range(1, int(replicas) + 1)]
    ids = frames[0].ids
    for f in frames:
        if not np.array_equal(f.ids, ids):
            raise SimulationFailed(f"relaxed images in {workdir} hold different atoms")
    return ids, np.stack([f.positions() for f in frames])


def refined_path(box: Box, band: np.ndarray) -> np.ndarray:
    """A band of 2R - 1 images: the R images of ``band`` with the (minimum-image) midpoint of
    every neighbouring pair inserted; images are made continuous with the first."""
    images = [np.asarray(band[0], float)]
    for nxt in band[1:]:
        prev = images[-1]
        cont = prev + box.minimum_image(np.asarray(nxt, float) - prev)
        images += [0.5 * (prev + cont), cont]
    return np.stack(images)


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


def path_barriers(energy: Sequence[float]) -> dict:
    """Barriers of a band with energies ``energy`` (eV, images in path order), measured from the
    lowest *preceding* minimum: forward = max_i (E_i - min_{j<=i} E_j), backward = max_i (E_i -
    min_{j>=i} E_j). Without intermediate minima below the ends these are E_max - E_first and
    E_max - E_last; with an intermediate minimum they are the largest rise the hop has to climb
    out of any basin on the way (the rate-limiting elementary hop). The backward barrier is the
    forward barrier of the reverse hop. Also returns the image (0-based) of each barrier top and
    the interior local minima (images lower than both neighbours)."""
    e = np.asarray(energy, float)
    if e.ndim != 1 or len(e) < 3 or not np.all(np.isfinite(e)):
        raise ValueError(f"need >= 3 finite image energies, got {e}")
    rise_f = e - np.minimum.accumulate(e)
    rise_b = e - np.minimum.accumulate(e[::-1])[::-1]
    minima = [k for k in range(1, len(e) - 1) if e[k] < e[k - 1] and e[k] < e[k + 1]]
    return {"forward": float(rise_f.max()), "backward": float(rise_b.max()), "forward_top": int(np.argmax(rise_f)),
            "backward_top": int(np.argmax(rise_b)), "intermediate_minima": minima,
            "below_initial": bool(e[1:-1].min() < e[0]), "below_final": bool(e[1:-1].min() < e[-1])}


def neb_summary(log: NEBLog, settings: NEBSettings) -> dict:
    """Barriers (eV, ``path_barriers``) and path of the last NEB row, and the convergence verdict
    of this band.

    converged: the climbing stage ran and LAMMPS stopped it on the force (or, with etol > 0,
    energy) tolerance, i.e. before its step limit.
    """
    rd, pe = log.rd[-1], log.pe[-1]
    e = (pe - pe[0]) * KCAL_MOL_TO_EV
    b = path_barriers(e)
    climb_rows = log.stage == 2
    climb_steps = int(log.steps[climb_rows][-1] - log.steps[climb_rows][0]) if climb_rows.any() else 0
    stop = log.stop_criteria[1] if len(log.stop_criteria) >= 2 else None
    if stop is not None:
        converged = stop in ("force tolerance", "energy tolerance")
    else:  # replica log missing: judge by the step count
        converged = bool(climb_rows.any()) and climb_steps < int(settings.n_steps_climb)
    # the regular (non-climbing) band at the end of stage 1: a second estimate
    pe1 = log.pe[log.stage == 1][-1] if (log.stage == 1).any() else pe
    b1 = path_barriers((pe1 - pe1[0]) * KCAL_MOL_TO_EV)
    return {
        "forward_barrier_eV": b["forward"],
        "backward_barrier_eV": b["backward"],
        "reaction_energy_eV": float(e[-1]),
        "saddle_replica": b["forward_top"] + 1,
        "climbing_replica": log.climbing_replica,
        "converged": bool(converged),
        "stop_criteria": log.stop_criteria,
        "regular_forward_barrier_eV": b1["forward"],
        "regular_backward_barrier_eV": b1["backward"],
        "neb_steps": int(log.steps[-1] - log.steps[0]),
        "climb_steps": climb_steps,
        "final_max_force_component_eV_A": float(log.max_atom_force[-1] * KCAL_MOL_TO_EV),
        # interior images lower than both neighbours: the hop passes an intermediate basin and
        # its barriers are measured from the lowest preceding minimum (path_barriers)
        "intermediate_minima": [k + 1 for k in b["intermediate_minima"]],
        "intermediate_minimum": bool(b["intermediate_minima"]),
        "intermediate_below_ends": bool(b["below_initial"] and b["below_final"]),
        "lowest_intermediate_eV": float(e[1:-1].min()),
        "path_reaction_coordinate": [float(x) for x in rd],
        "path_energy_eV": [float(x) for x in e],
        "energy_initial_kcal_mol": float(pe[0]),
        "energy_final_kcal_mol": float(pe[-1]),
    }


# --- 5. hops, batches, caching ------------------------------------------------------------------

def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def hop_dir(workdir: str | Path, hop_id: int) -> Path:
    return Path(workdir) / f"hop_{int(hop_id)}"


def run_band(header: Sequence[str], ids: np.ndarray, path: np.ndarray, settings: NEBSettings,
             workdir: str | Path, launcher: str | None = None,
            runtime: LammpsRuntime | None = None) -> tuple[dict, np.ndarray]:
    """One NEB run of the band started from ``path`` (n_images, N, 3; atoms in ``ids`` order; the
    first image must be the state ``header`` defines) in ``workdir``: (``neb_summary`` of the
    run, relaxed images (n_images, N, 3)). Raises SimulationFailed when LAMMPS fails."""
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in [*workdir.glob("neb.log*"), *workdir.glob("relaxed.*.dump"), *workdir.glob("band.*.coords")]:
        stale.unlink()
    n = len(path)
    write_band_coords(workdir, ids, path)
    log = run_neb(band_commands(header, settings, n), workdir, n, settings.timeout_s,
                  settings.ranks_per_replica, launcher, runtime=runtime)
    summary = neb_summary(parse_neb_log(log), settings)
    got_ids, band = read_band(workdir, n)
    if not np.array_equal(got_ids, ids):
        raise SimulationFailed(f"relaxed images in {workdir} hold other atoms than the starting path")
    return summary, band


def climbing_band(header: Sequence[str], ids: np.ndarray, path: np.ndarray, settings: NEBSettings,
                  workdir: str | Path, regular_top_eV: float, launcher: str | None = None,
                  runtime: LammpsRuntime | None = None) -> tuple[dict, np.ndarray]:
    """``run_band`` of ``path`` with its climbing stage in ``workdir``; a climbing stage that
    reached its step limit is run again from where it stopped (``workdir``_retry_k, with
    ``n_steps_climb`` * 2^k steps), ``settings.climb_retries`` times, unless its climbing image
    already rose more than ``settings.climb_runaway_eV`` above ``regular_top_eV`` (the highest
    image of the relaxed regular band). Returns the last run's summary, with ``climb_steps``
    summed over the runs, ``climb_runs`` and ``band_dir`` (the folder name of the last run's
    images), and its relaxed images."""
    workdir = Path(workdir)
    summary, band = run_band(header, ids, path, settings, workdir, launcher, runtime=runtime)
    climb_steps, runs, last = summary["climb_steps"], 1, workdir
    for retry in range(1, int(settings.climb_retries) + 1):
        if summary["converged"] or max(summary["path_energy_eV"]) - regular_top_eV > float(settings.climb_runaway_eV):
            break
        # LAMMPS neb needs at least one logged block of regular steps first (N1 = 0 aborts in its
        # run summary); they pull the climbing image back down a little, so each retry gets twice
        # the previous step limit. Quickmin starts from rest. (Halving the timestep instead slowed
        # a smooth climb that needed 79 steps past 150: tests/test_neb_band.py.)
        again = replace(settings, n_steps_neb=int(settings.print_every),
                        n_steps_climb=int(settings.n_steps_climb) * 2 ** retry)
        last = workdir.with_name(f"{workdir.name}_retry_{retry}")
        summary, band = run_band(header, ids, band, again, last, launcher, runtime=runtime)
        climb_steps, runs = climb_steps + summary["climb_steps"], runs + 1
    return dict(summary, climb_steps=climb_steps, climb_runs=runs, band_dir=last.name), band


def converged_band(header: Sequence[str], ids: np.ndarray, box: Box, path: np.ndarray, settings: NEBSettings,
                   workdir: str | Path, launcher: str | None = None,
                   runtime: LammpsRuntime | None = None, depth: int = 0) -> dict:
    """NEB of ``path`` in three steps: a regular band, then either a split into elementary hops
    or a climbing-image band and its refinement test.

    1. The regular band (no climbing image) is relaxed (``workdir/regular``). When it has an
       interior image lower than both neighbours, the hop passes an intermediate basin: one
       climbing image cannot converge every peak of such a band (on the default glasses it ran
       away to 7-25 eV, or a refined band moved the barrier by 0.05-0.23 eV). The band is then
       split (``split_band``): every such image is minimised into its basin, and each elementary
       hop between consecutive states gets its own band (this function again, to
       ``settings.max_split_depth``; a segment at that depth with basins of its own keeps its
       barrier from the lowest preceding image and its refinement test).
    2. Otherwise the climbing-image band starts from the relaxed regular band (``workdir/band``).
       A climbing stage that reached its step limit is continued from where it stopped,
       ``settings.climb_retries`` times (``climbing_band``). A climbing image that rose more than
       ``settings.climb_runaway_eV`` above the highest image of the regular band left the valley
       ("climb_runaway").
       When the converged climbing band shows basins its regular band did not (the climbing
       image pulled images into them), the band is split there as in 1.
    3. Otherwise a band of 2R - 1 images started from it (``refined_path``) is run too, and the
       result is converged only when that band converged as well and both barriers agree
       within ``settings.refine_tolerance_eV``. A refined band that moved the barrier because it
       resolved basins between the coarse images is split there as in 1 (on P2S6-5, a 1.00 eV
       refined barrier against 0.85 eV coarse, with basins at two of its images).

    Returns the refined band's summary (the climbing band's when no refinement ran) with
    ``coarse`` (the climbing band's summary), ``climb_runs`` (climbing-stage runs of both bands,
    retries included; summed over the segments of a split band), ``refined_replicas``,
    ``refinement_change_eV``
    (largest |change| of the two barriers), ``segments`` (1 for an unsplit band) and
    ``not_converged_reason`` (None, "climb_step_limit", "climb_runaway",
    "refinement_not_converged", "refinement_changed_barrier", or those of segments, prefixed
    "segment k:"); a split band's summary is described in ``split_band``."""
    workdir = Path(workdir)
    regular, relaxed = run_band(header, ids, path, replace(settings, n_steps_climb=0), workdir / "regular", launcher,
                                runtime=runtime)
    if regular["intermediate_minimum"] and depth < int(settings.max_split_depth):
        split = split_band(header, ids, box, relaxed, regular, settings, workdir, launcher, runtime, depth)
        if split is not None:
            return split
    top = max(regular["path_energy_eV"])
    coarse, band = climbing_band(header, ids, relaxed, settings, workdir / "band", top, launcher, runtime)
    rise = max(coarse["path_energy_eV"]) - top
    reason = None if coarse["converged"] else "climb_step_limit"
    if rise > float(settings.climb_runaway_eV):
        reason = "climb_runaway"
    out = dict(coarse, converged=reason is None, replicas=len(path), refined_replicas=None,
               refinement_change_eV=None, coarse=None, segments=1, not_converged_reason=reason,
               climb_rise_eV=float(rise))
    if reason is not None:
        return out
    can_split = depth < int(settings.max_split_depth)
    if coarse["intermediate_minimum"] and can_split:
        # the climbing image pulled the band into basins its regular band did not show
        split = split_band(header, ids, box, band, coarse, settings, workdir, launcher, runtime, depth,
                           band_dir=coarse["band_dir"])
        if split is not None:
            return split
    fine_path = refined_path(box, band)
    fine, fine_band = climbing_band(header, ids, fine_path, settings, workdir / "refine", top, launcher, runtime)
    change = max(abs(fine["forward_barrier_eV"] - coarse["forward_barrier_eV"]),
                 abs(fine["backward_barrier_eV"] - coarse["backward_barrier_eV"]))
    if not fine["converged"]:
        reason = "refinement_not_converged"
    elif change > settings.refine_tolerance_eV:
        reason = "refinement_changed_barrier"
        if fine["intermediate_minimum"] and can_split:
            # the refined band resolved basins between the coarse band's images: the hop is not
            # elementary, and its barrier is that of its elementary hops
            split = split_band(header, ids, box, fine_band, fine, settings, workdir, launcher, runtime, depth,
                               band_dir=fine["band_dir"])
            if split is not None:
                return split
    return dict(fine, converged=reason is None, replicas=len(path), refined_replicas=len(fine_path),
                refinement_change_eV=float(change), not_converged_reason=reason, segments=1,
                climb_runs=coarse["climb_runs"] + fine["climb_runs"],
                climb_rise_eV=float(rise), coarse={k: coarse[k] for k in COARSE_KEYS})


COARSE_KEYS = ("forward_barrier_eV", "backward_barrier_eV", "saddle_replica", "neb_steps", "climb_steps",
               "climb_runs", "converged", "path_reaction_coordinate", "path_energy_eV")


def place_atoms_command(dump: str | Path) -> str:
    """LAMMPS command moving the atoms of the current model to the positions of the last frame of
    ``dump`` (a LAMMPS dump with id x y z), keeping the cell."""
    dump = Path(dump).resolve()
    return f"read_dump {dump} {int(read_dump(dump)[-1].timestep)} x y z box no replace yes"


def minimise_state(header: Sequence[str], dump: str | Path, settings: NEBSettings, prefix: str | Path,
                   ) -> tuple[np.ndarray, np.ndarray, float]:
    """Minimise the atoms of the model ``header`` placed at the last frame of ``dump`` (a LAMMPS
    dump with id x y z); writes ``<prefix>.dump`` and ``<prefix>_energy.txt``. Returns (ids,
    positions (N, 3) A, energy kcal/mol)."""
    prefix = Path(prefix).resolve()
    cmds = list(header) + [place_atoms_command(dump)] + _minimise_state_commands(settings) + _output_commands(prefix)
    run_lammps(cmds, prefix.with_suffix(".log"), input_copy=prefix.parent / f"in.{prefix.name}")
    state = read_dump(prefix.with_suffix(".dump"))[-1]
    return state.ids, state.positions(), float(Path(f"{prefix}_energy.txt").read_text().split()[-1])


def split_band(header: Sequence[str], ids: np.ndarray, box: Box, band: np.ndarray, summary: Mapping,
               settings: NEBSettings, workdir: Path, launcher: str | None, runtime: LammpsRuntime | None,
               depth: int, band_dir: str = "regular") -> dict | None:
    """Split a relaxed ``band`` (its NEB ``summary``; images in ``workdir/band_dir``: the regular
    band, or a climbing or refined band that showed basins the regular band did not) at its
    basins into elementary hops; None when no image minimises into a basin distinct from its
    neighbouring states.

    Each interior image lower than both neighbours is minimised (``minimise_state``); a basin
    within ``settings.basin_separation_A`` (largest atom displacement) of the previous state or of the
    final state is dropped. Each elementary hop between consecutive states starts from an IDPP
    path of one image per A of its largest atom displacement (at least ``segment_min_replicas``;
    ``settings.replicas`` when fixed) and runs through ``converged_band``. The energies of all
    segments, on the scale of the initial state, make one profile: barriers from the lowest
    preceding minimum (``path_barriers``); the reaction coordinate of each segment is scaled by
    its share of the 3N-dimensional path length. The split is converged when every segment is.
    """
    workdir = Path(workdir)
    e0 = summary["energy_initial_kcal_mol"]
    states = [(np.asarray(band[0], float), float(e0), None)]
    for m in summary["intermediate_minima"]:   # 1-based replica numbers
        basin = workdir / (f"basin_{int(m)}" if band_dir == "regular" else f"basin_{band_dir}_{int(m)}")
        got_ids, x, e = minimise_state(header, workdir / band_dir / f"relaxed.{int(m)}.dump", settings, basin)
        if not np.array_equal(got_ids, ids):
            raise SimulationFailed(f"minimised basin of image {m} in {workdir} holds other atoms")
        apart = [float(np.linalg.norm(box.minimum_image(x - y), axis=1).max()) for y in (states[-1][0], band[-1])]
        if min(apart) > float(settings.basin_separation_A):
            states.append((x, e, basin.with_suffix(".dump")))
    if len(states) == 1:
        return None
    states.append((np.asarray(band[-1], float), float(summary["energy_final_kcal_mol"]), None))
    segments, energies, coords = [], [], []
    lengths = [float(np.linalg.norm(box.minimum_image(b[0] - a[0]))) for a, b in zip(states, states[1:])]
    offset = 0.0
    for k, ((xa, _, dump_a), (xb, _, _), length) in enumerate(zip(states, states[1:], lengths)):
        seg_header = list(header) + ([place_atoms_command(dump_a)] if dump_a is not None else [])
        largest = float(np.linalg.norm(box.minimum_image(xb - xa), axis=1).max())
        n = settings.replicas_for(largest) if settings.replicas is not None else \
            max(int(settings.segment_min_replicas), int(math.ceil(largest * settings.replicas_per_A)) + 1)
        path = idpp_path(box, xa, xb, n, settings.idpp_cutoff_A) if settings.idpp_cutoff_A > 0 \
            else linear_path(box, xa, xb, n)
        seg = converged_band(seg_header, ids, box, path, settings, workdir / f"segment_{k}", launcher,
                             runtime=runtime, depth=depth + 1)
        segments.append(seg)
        e_abs = (seg["energy_initial_kcal_mol"] - e0) * KCAL_MOL_TO_EV + np.asarray(seg["path_energy_eV"])
        rd = offset + np.asarray(seg["path_reaction_coordinate"]) * length
        energies.append(e_abs if k == 0 else e_abs[1:])
        coords.append(rd if k == 0 else rd[1:])
        offset += length
    e = np.concatenate(energies)
    rd = np.concatenate(coords) / offset
    b = path_barriers(e)
    failed = [(k, s["not_converged_reason"]) for k, s in enumerate(segments) if not s["converged"]]
    changes = [s["refinement_change_eV"] for s in segments if s.get("refinement_change_eV") is not None]
    return {
        "forward_barrier_eV": b["forward"], "backward_barrier_eV": b["backward"], "reaction_energy_eV": float(e[-1]),
        "saddle_replica": b["forward_top"] + 1, "climbing_replica": None,
        "converged": not failed, "stop_criteria": [c for s in segments for c in s["stop_criteria"]],
        "regular_forward_barrier_eV": summary["regular_forward_barrier_eV"],
        "regular_backward_barrier_eV": summary["regular_backward_barrier_eV"],
        "neb_steps": sum(s["neb_steps"] for s in segments), "climb_steps": sum(s["climb_steps"] for s in segments),
        "climb_runs": sum(s.get("climb_runs", 0) for s in segments),
        "final_max_force_component_eV_A": max(s["final_max_force_component_eV_A"] for s in segments),
        "intermediate_minima": [k + 1 for k in b["intermediate_minima"]],
        "intermediate_minimum": bool(b["intermediate_minima"]),
        "intermediate_below_ends": bool(b["below_initial"] and b["below_final"]),
        "lowest_intermediate_eV": float(e[1:-1].min()),
        "path_reaction_coordinate": [float(x) for x in rd], "path_energy_eV": [float(x) for x in e],
        "energy_initial_kcal_mol": float(e0), "energy_final_kcal_mol": float(summary["energy_final_kcal_mol"]),
        "replicas": len(band), "refined_replicas": None,
        "refinement_change_eV": max(changes) if changes else None,
        "not_converged_reason": None if not failed else "; ".join(f"segment {k}: {r}" for k, r in failed),
        "segments": len(segments),
        "basin_energies_eV": [float((st[1] - e0) * KCAL_MOL_TO_EV) for st in states],
        "segment_results": [{key: s.get(key) for key in ("forward_barrier_eV", "backward_barrier_eV", "converged",
                                                         "not_converged_reason", "replicas", "refined_replicas",
                                                         "refinement_change_eV", "segments", "climb_runs")}
                            for s in segments],
        "coarse": None, "regular": {k: summary.get(k) for k in COARSE_KEYS}, "split_from": band_dir,
    }


def run_hop(hop_row: Mapping, glass_data: str | Path, ff: ForceField, settings: NEBSettings,
            workdir: str | Path, launcher: str | None = None,
            runtime: LammpsRuntime | None = None) -> dict:
    """End states, checks, IDPP starting path, NEB and refinement of one hop in
    ``workdir/hop_<id>``; writes ``path.csv`` and then ``result.json`` (atomically, last: its
    presence marks the hop as finished) and returns the result dict. A LAMMPS failure is retried
    ``settings.retries`` times with half the timestep each time; rejected hops and hops that
    still fail are finished results too, with their status and reason; nothing is dropped."""
    hop = {k: hop_row[k] for k in HOP_COLUMNS}
    out = hop_dir(workdir, hop["hop_id"]).resolve()
    # a hop is computed from scratch: bands, basins and segments of an earlier run (other
    # settings, a killed job) must not be mistaken for this run's
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    glass_data = Path(glass_data).resolve()
    result = dict(hop, version=RESULT_VERSION, glass_data=str(glass_data), glass_sha256=_sha256(glass_data),
                  forcefield=ff.name, settings=settings.to_dict())
    t0 = time.perf_counter()
    errors = []
    try:
        ends = prepare_end_states(glass_data, ff, int(hop["from_id"]), int(hop["to_id"]), settings, out,
                                  inherent_dir=Path(workdir).resolve())
    except SimulationFailed as exc:
        ends = None
        errors.append(f"end states: {exc}")
    if ends is not None:
        result.update(energy_initial_min_kcal_mol=ends.energy_initial_kcal_mol,
                      energy_final_min_kcal_mol=ends.energy_final_kcal_mol,
                      initial_shift_A=ends.initial_shift_A, final_to_target_A=ends.final_to_target_A,
                      final_to_origin_A=ends.final_to_origin_A, hop_length_A=ends.hop_length_A,
                      max_other_displacement_A=ends.max_other_displacement_A,
                      max_other_atom_id=ends.max_other_atom_id, other_site_changes=len(ends.site_changed_ids),
                      site_changed_atom_ids=list(ends.site_changed_ids), end_state_wall_s=time.perf_counter() - t0)
        result["status"] = ends.rejection
    if ends is not None and ends.rejection is None:
        t1 = time.perf_counter()
        k = int(np.flatnonzero(ends.ids == int(hop["from_id"]))[0])
        n_images = settings.replicas_for(ends.hop_length_A)
        linear = linear_path(ends.box, ends.initial_positions, ends.final_positions, n_images)
        path = idpp_path(ends.box, ends.initial_positions, ends.final_positions, n_images, settings.idpp_cutoff_A)
        result.update(linear_closest_approach_A=closest_approach(ends.box, linear, k),
                      start_closest_approach_A=closest_approach(ends.box, path, k),
                      starting_path="idpp" if settings.idpp_cutoff_A > 0 else "linear",
                      path_wall_s=time.perf_counter() - t1)
        t2 = time.perf_counter()
        band = None
        for attempt in range(int(settings.retries) + 1):
            s = replace(settings, timestep_fs=settings.timestep_fs / 2 ** attempt)
            try:
                band = converged_band(_header(ff, ends.initial_data, out, s), ends.ids, ends.box, path, s, out,
                                      launcher, runtime=runtime)
                break
            except SimulationFailed as exc:
                errors.append(f"NEB attempt {attempt + 1} (timestep {s.timestep_fs:g} fs): {exc}")
        if band is not None:
            result.update(band, neb_wall_s=time.perf_counter() - t2)
            result["status"] = CONVERGED if band["converged"] else NOT_CONVERGED
            write_rows_csv(out / "path.csv",
                           [{"replica": i + 1, "reaction_coordinate": x, "energy_eV": e}
                            for i, (x, e) in enumerate(zip(band["path_reaction_coordinate"],
                                                           band["path_energy_eV"]))],
                           ("replica", "reaction_coordinate", "energy_eV"))
    if result.get("status") is None:
        result.update(status=FAILED, error=f"failed after {len(errors)} attempts; last: {errors[-1]}")
    result.update(attempts=len(errors) + (0 if result["status"] == FAILED else 1), errors=errors,
                  wall_s=time.perf_counter() - t0)
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
              workdir: str | Path, launcher: str | None = None,
            runtime: LammpsRuntime | None = None) -> list[dict]:
    """Run every hop not already finished (see ``cached_result``), in order; a killed batch
    rerun resumes where it stopped. Returns the results in hop order. ``launcher``: MPI
    launcher of the NEB runs (``neb_launch_command``)."""
    hops = list(hops)
    results = []
    seen = set()
    computed_s = []   # wall time of each hop computed by this job (finished ones are reused)
    for k, hop in enumerate(hops):
        if hop["hop_id"] in seen:
            raise ValueError(f"hop_id {hop['hop_id']} appears twice")
        seen.add(hop["hop_id"])
        res = cached_result(hop, glass_data, ff, settings, workdir)
        label = f"hop {k + 1}/{len(hops)} (id {hop['hop_id']}, {hop['class']}, Li {hop['from_id']} -> site of Li {hop['to_id']})"
        if res is not None:
            log.info("%s: finished earlier, %s", label, res["status"])
        else:
            log.info("%s: started", label)
            started = time.perf_counter()
            res = run_hop(hop, glass_data, ff, settings, workdir, launcher, runtime=runtime)
            computed_s.append(time.perf_counter() - started)
            barrier = res.get("forward_barrier_eV")
            log.info("%s: %s%s in %.0f s; %s", label, res["status"],
                     "" if barrier is None else f", forward barrier {barrier:.3f} eV", computed_s[-1],
                     batch_time_left(computed_s, len(hops) - k - 1))
        results.append(res)
    return results


def batch_time_left(hop_wall_s: Sequence[float], hops_left: int) -> str:
    """The time the rest of a batch needs at the mean wall time of its hops so far (hops differ
    by 100x: a rejected hop costs its minimisations, a split one several bands)."""
    if hops_left == 0:
        return "batch done"
    mean_s = sum(hop_wall_s) / len(hop_wall_s)
    return f"{hops_left} hops left, about {hops_left * mean_s / 60:.0f} min at {mean_s / 60:.1f} min per hop so far"


RESULT_COLUMNS = HOP_COLUMNS + ("status", "forward_barrier_eV", "backward_barrier_eV", "reaction_energy_eV",
                                "regular_forward_barrier_eV", "regular_backward_barrier_eV",
                                "converged", "not_converged_reason", "replicas", "refined_replicas",
                                "refinement_change_eV", "intermediate_minimum", "intermediate_below_ends",
                                "saddle_replica", "neb_steps", "final_max_force_component_eV_A", "initial_shift_A",
                                "final_to_target_A", "final_to_origin_A", "hop_length_A",
                                "max_other_displacement_A", "max_other_atom_id", "linear_closest_approach_A",
                                "start_closest_approach_A", "attempts", "wall_s", "error")


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


# --- command line: one hop on any data file --------------------------------------------------------

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "config.yaml"


def run_single_hop(data: str | Path, from_id: int, to_id: int, settings: NEBSettings, ff: ForceField,
                   workdir: str | Path | None = None, launcher: str | None = None,
            runtime: LammpsRuntime | None = None) -> dict:
    """``run_hop`` of the hop Li ``from_id`` -> site of Li ``to_id`` (LAMMPS atom ids; ``to_id``
    is removed, as in the stage) of the data file ``data``; scratch files in ``workdir`` or, when
    None, in a temporary folder that is deleted afterwards. Returns the result dict."""
    import tempfile

    hop = {"hop_id": 0, "from_id": int(from_id), "to_id": int(to_id), "class": "", "distance_A": float("nan"),
           "S_from": float("nan"), "S_to": float("nan")}
    data = Path(data).resolve()
    if not data.exists():
        raise FileNotFoundError(f"no data file {data}")
    if workdir is not None:
        return run_hop(hop, data, ff, settings, workdir, launcher, runtime=runtime)
    with tempfile.TemporaryDirectory(prefix="lipsglass-neb-") as tmp:
        return run_hop(hop, data, ff, settings, tmp, launcher, runtime=runtime)


def _cli(args) -> int:
    import yaml

    from lipsglass.config import load_config

    cfg = load_config(args.config) if args.config != str(DEFAULT_CONFIG) else yaml.safe_load(DEFAULT_CONFIG.read_text())
    knobs = {k: v for k, v in cfg["neb"].items() if k in NEBSettings.__dataclass_fields__}
    # the user chose the hop: no length window unless asked for
    knobs.update(min_distance_A=args.min_distance if args.min_distance is not None else 0.0,
                 max_distance_A=args.max_distance if args.max_distance is not None else float("inf"))
    for key, value in (("replicas", args.replicas), ("ranks_per_replica", args.ranks_per_replica),
                       ("ftol_eV_A", args.ftol), ("refine_tolerance_eV", args.refine_tolerance)):
        if value is not None:
            knobs[key] = value
    settings = NEBSettings.from_config(knobs, cfg["md"])
    ff = ForceField.load(args.forcefield or cfg["forcefield"])
    # the config's lammps section (site executable, launcher, switches) starts the NEB, as in the stage
    result = run_single_hop(args.data, args.from_id, args.to_id, settings, ff, args.workdir, args.launcher,
                            runtime=LammpsRuntime.from_config(cfg.get("lammps")))
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0 if result["status"] != FAILED else 1


def register(subparsers) -> None:
    p = subparsers.add_parser("neb", help="NEB barrier of one Li hop in a LAMMPS data file (prints result.json)")
    p.add_argument("data", help="LAMMPS data file of this force field (atom types in the workflow's order)")
    p.add_argument("--from", dest="from_id", type=int, required=True, help="LAMMPS atom id of the hopping Li")
    p.add_argument("--to", dest="to_id", type=int, required=True,
                   help="LAMMPS atom id of the Li whose site is the target (it is removed)")
    p.add_argument("--replicas", type=int, help="images incl. both ends (default: by hop length, neb.min_replicas "
                                                "and neb.replicas_per_A of the config)")
    p.add_argument("--ranks-per-replica", type=int, help="MPI ranks per image (LAMMPS -partition RxP)")
    p.add_argument("--ftol", type=float, help="NEB force tolerance (eV/A)")
    p.add_argument("--refine-tolerance", type=float, help="refinement tolerance of the barriers (eV)")
    p.add_argument("--min-distance", type=float, help="reject hops whose relaxed length is below this (A)")
    p.add_argument("--max-distance", type=float, help="reject hops whose relaxed length is above this (A)")
    p.add_argument("--config", default=str(DEFAULT_CONFIG), help="config YAML whose neb and md sections give the "
                                                                 "defaults (default: config/config.yaml)")
    p.add_argument("--forcefield", help="force-field name or YAML (default: the config's)")
    p.add_argument("--launcher", help="MPI launcher (default: the environment's mpiexec; e.g. srun)")
    p.add_argument("--workdir", help="keep the scratch files here (default: a temporary folder, deleted)")
    p.set_defaults(func=_cli)
