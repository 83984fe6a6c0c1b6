"""End states of one Li hop (vacancy scheme) and the checks that they describe the intended hop.

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

Also the LAMMPS input pieces every minimisation of the package shares (model header, cg-then-FIRE
minimisation, state output) and the coordinates files of the ``neb`` command.

Units: lengths A, energies kcal/mol (LAMMPS real) in ``EndStates``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lipsglass.forcefield import ForceField
from lipsglass.lammpsio import Box, read_data, read_dump
from lipsglass.engine.runner import SimulationFailed, run_lammps
from lipsglass.neb.settings import NEBSettings, to_kcal_mol
from lipsglass.neighbours import nearest_site
from lipsglass.engine.setup import setup_commands


def file_sha256(path: str | Path) -> str:
    """SHA-256 of the content of ``path`` (hex): the identity of a glass file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


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


def minimise_commands(settings: NEBSettings) -> list[str]:
    """cg first (fast on a smooth surface), then FIRE, which keeps descending where the cg line
    search gives up ("linesearch alpha is zero"), to reach ``minimise_ftol`` on the largest
    per-atom force."""
    ftol = to_kcal_mol(settings.minimise_ftol_eV_A)
    n = int(settings.minimise_max_iterations)
    return ["min_modify norm max", "min_style cg", f"minimize 0.0 {ftol!r} {n} {10 * n}",
            "min_style fire", f"timestep {settings.timestep_fs}", f"minimize 0.0 {ftol!r} {n} {10 * n}"]


def output_commands(prefix: Path) -> list[str]:
    """LAMMPS commands writing the current state as ``<prefix>.dump`` (id type x y z, sorted by
    id) and its potential energy (kcal/mol) to ``<prefix>_energy.txt``."""
    return [f"write_dump all custom {prefix}.dump id type x y z modify sort id format float %.12f",
            f'print "$(pe:%.15g)" file {prefix}_energy.txt screen no']


def model_header(ff: ForceField, data: Path, workdir: Path, settings: NEBSettings) -> list[str]:
    """LAMMPS input defining the model: force field ``ff``, the state of the data file ``data``
    and the kspace settings of ``settings`` (every NEB input starts with it)."""
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


def minimise_state_commands(settings: NEBSettings) -> list[str]:
    """Thermo output and the minimisation (``minimise_commands``) of one state."""
    return ["thermo_style custom step pe fnorm fmax", "thermo 100"] + minimise_commands(settings)


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
    depends = [file_sha256(glass_data), ff.name, settings.minimise_ftol_eV_A, settings.minimise_max_iterations,
               settings.timestep_fs, settings.kspace_style, settings.kspace_accuracy]
    key = hashlib.sha256(json.dumps(depends).encode()).hexdigest()[:16]
    path = workdir / f"inherent_{key}.data"
    if path.exists():
        return path
    partial = workdir / f"inherent_{key}.partial.data"
    cmds = model_header(ff, glass_data, workdir, settings) + [_labelmap(ff)] + minimise_state_commands(settings)
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
    minimise = minimise_state_commands(settings)

    # (0) the glass's inherent structure: the sites of the hop and of the checks
    inherent_data = inherent_structure(glass_data, ff, settings, workdir if inherent_dir is None else inherent_dir)
    sites = read_data(inherent_data)
    site_order = np.argsort(sites.ids)
    site_ids, site_types, site_positions = sites.ids[site_order], sites.types[site_order], sites.positions[site_order]
    origin = site_positions[np.searchsorted(site_ids, int(from_id))]
    target = site_positions[np.searchsorted(site_ids, int(to_id))]

    # (a) initial state: target Li deleted, everything relaxed
    initial_data = workdir / "initial.data"
    cmds = model_header(ff, inherent_data, workdir, settings)
    cmds += [labelmap, f"group hop_target id {int(to_id)}",
             # molecular systems keep their ids (compress no): the NEB files address atoms by id
             "delete_atoms group hop_target compress no", "group hop_target delete"]
    cmds += minimise + [f"write_data {initial_data} nocoeff"] + output_commands(workdir / "initial")
    run_lammps(cmds, workdir / "initial.log", input_copy=workdir / "in.initial")
    ini = read_dump(workdir / "initial.dump")[-1]
    e_ini = float((workdir / "initial_energy.txt").read_text().split()[-1])
    k = int(np.flatnonzero(ini.ids == int(from_id))[0])
    start = ini.positions()[k]
    initial_shift = float(np.linalg.norm(box.minimum_image(start - origin)))

    # (b) final state: hopping Li moved onto the target site, everything relaxed
    cmds = model_header(ff, initial_data, workdir, settings)
    cmds += [labelmap, f"set atom {int(from_id)} x {float(target[0])!r} y {float(target[1])!r} z {float(target[2])!r}"]
    cmds += minimise + output_commands(workdir / "final")
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
