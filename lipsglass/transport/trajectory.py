"""Reading what a transport analysis needs from a LAMMPS text dump: the unwrapped positions of one
species, the whole-system centre of mass and (optionally) the charge displacement, frame by frame.

Units: positions in Angstrom, times in ps, volumes in A^3, charges in units of e, masses in g/mol.
Frames must be evenly spaced and hold the same atoms; positions are unwrapped (``xu yu zu``, or
``x y z`` with image flags ``ix iy iz``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lipsglass import units
from lipsglass.lammpsio import frame_masses, iter_dump

__all__ = ["SpeciesTrajectory", "center_of_mass", "parse_type_map", "parse_charges", "read_species_trajectory"]


@dataclass
class SpeciesTrajectory:
    """What a transport analysis needs from a dump, collected frame by frame (memory ~ the
    species only): unwrapped species positions (n_frames, n_species, 3) A, whole-system
    centre of mass (n_frames, 3) A, total charge displacement sum_i q_i r_i (n_frames, 3) e*A
    (None without charges), cell volumes (A^3), times (ps) and LAMMPS timesteps."""

    species: str
    ids: np.ndarray
    positions: np.ndarray
    com: np.ndarray
    dipole: np.ndarray | None
    net_charge_e: float | None
    volumes_A3: np.ndarray
    times_ps: np.ndarray
    timesteps: np.ndarray
    n_atoms_total: int

    @property
    def dt_ps(self) -> float:
        return float(self.times_ps[1] - self.times_ps[0])

    def charge_displacement(self) -> np.ndarray:
        """sum_i q_i (r_i - R_com) per frame (e A): the collective charge coordinate in the
        centre-of-mass frame (equal to sum_i q_i r_i for a neutral system)."""
        if self.dipole is None:
            raise ValueError("no charges were given for this trajectory")
        return self.dipole - self.net_charge_e * self.com


def center_of_mass(positions: np.ndarray, masses: np.ndarray) -> np.ndarray:
    """Centre of mass (A) of every frame: positions (n_frames, n_atoms, 3) or (n_atoms, 3),
    masses (n_atoms,) in g/mol. Use unwrapped positions so the result is continuous in time."""
    pos = np.asarray(positions, float)
    m = np.asarray(masses, float)
    if pos.shape[-2] != m.shape[0]:
        raise ValueError(f"{m.shape[0]} masses for {pos.shape[-2]} atoms")
    if np.any(m <= 0):
        raise ValueError("masses must be positive")
    return np.einsum("...nd,n->...d", pos, m) / m.sum()


def parse_type_map(text: str | None) -> dict[int, str] | None:
    """'1:Li,2:P,3:S' -> {1: 'Li', 2: 'P', 3: 'S'}."""
    if not text:
        return None
    out = {}
    for item in text.split(","):
        try:
            k, v = item.split(":")
            out[int(k)] = v.strip()
        except ValueError:
            raise ValueError(f"bad type-map entry {item!r}; expected TYPE:ELEMENT, e.g. 1:Li") from None
    return out


def parse_charges(text: str | None) -> dict | None:
    """'Li:1,P:5,S:-2' (by element) or '1:0.6,2:-0.6' (by LAMMPS type) -> dict."""
    if not text:
        return None
    out: dict = {}
    for item in text.split(","):
        try:
            k, v = item.split(":")
            k = k.strip()
            out[int(k) if k.lstrip("-").isdigit() else k] = float(v)
        except ValueError:
            raise ValueError(f"bad charge entry {item!r}; expected ELEMENT:q or TYPE:q") from None
    return out


def _atom_charges(frame, elements: np.ndarray, charges) -> np.ndarray | None:
    if charges is None:
        return None
    if isinstance(charges, str):
        if charges != "q":
            raise ValueError(f"charges must be a mapping, an array or 'q' (dump column), got {charges!r}")
        if "q" not in frame.columns:
            raise ValueError("charges='q' but the dump has no q column")
        return np.asarray(frame.columns["q"], float)
    if isinstance(charges, dict):
        keys = set(charges)
        if all(isinstance(k, (int, np.integer)) for k in keys):
            if "type" not in frame.columns:
                raise ValueError("charges are given by type but the dump has no type column")
            types = frame.columns["type"]
            missing = set(np.unique(types).tolist()) - keys
            if missing:
                raise ValueError(f"no charge given for atom types {sorted(missing)}")
            return np.array([charges[int(t)] for t in types], float)
        missing = set(np.unique(elements).tolist()) - keys
        if missing:
            raise ValueError(f"no charge given for elements {sorted(missing)}")
        return np.array([charges[e] for e in elements], float)
    q = np.asarray(charges, float)
    if q.shape != (len(elements),):
        raise ValueError(f"{q.shape} charges for {len(elements)} atoms")
    return q


def read_species_trajectory(path: str | Path, species: str = "Li", *, dt_ps: float | None = None,
                            timestep_fs: float | None = None, type_to_element: dict[int, str] | None = None,
                            charges=None) -> SpeciesTrajectory:
    """Read a LAMMPS text dump (``id`` + ``element`` or ``type`` with ``type_to_element``;
    ``xu yu zu`` or ``x y z ix iy iz``) frame by frame, keeping only what transport needs.

    Time: ``dt_ps`` (time between frames) or ``timestep_fs`` (MD timestep; frame times are the
    TIMESTEP values times it). The frames must be evenly spaced and hold the same atoms.
    Masses for the centre of mass come from a ``mass`` column if present, else from elements.
    ``charges``: None, 'q' (dump column), {element: q}, {type: q} or a per-atom array (id order).
    """
    if (dt_ps is None) == (timestep_fs is None):
        raise ValueError("give exactly one of dt_ps (time between frames) or timestep_fs (MD timestep): "
                         "a text dump carries no time unit")
    frames = iter_dump(path)
    ids = sel = masses = q = None
    elements = None
    pos_l, com_l, dip_l, vol_l, step_l = [], [], [], [], []
    for frame in frames:
        if ids is None:
            ids = frame.ids.copy()
            try:
                elements = np.asarray(frame.elements(type_to_element))
            except KeyError as exc:
                raise ValueError(f"{path}: {exc.args[0]}") from None
            sel = np.flatnonzero(elements == species)
            if sel.size == 0:
                raise ValueError(f"{path}: no {species} atoms (elements present: {sorted(set(elements.tolist()))})")
            masses = frame_masses(frame, elements)
            q = _atom_charges(frame, elements, charges)
        elif frame.ids.shape != ids.shape or not np.array_equal(frame.ids, ids):
            raise ValueError(f"{path}: frame at step {frame.timestep} holds different atoms than the first frame")
        try:
            r = frame.unwrapped_positions()
        except KeyError as exc:
            raise ValueError(f"{path}: {exc.args[0]}") from None
        pos_l.append(r[sel])
        com_l.append(masses @ r / masses.sum())
        if q is not None:
            dip_l.append(q @ r)
        vol_l.append(frame.box.volume)
        step_l.append(frame.timestep)
    if ids is None:
        raise ValueError(f"{path}: no frames")
    if len(pos_l) < 2:
        raise ValueError(f"{path}: a transport analysis needs at least 2 frames, found {len(pos_l)}")
    steps = np.array(step_l, dtype=np.int64)
    dsteps = np.diff(steps)
    if np.any(dsteps <= 0):
        k = int(np.flatnonzero(dsteps <= 0)[0])
        raise ValueError(f"{path}: timesteps not increasing ({steps[k]} then {steps[k + 1]}); "
                         "remove duplicated frames of restarts first")
    if np.any(dsteps != dsteps[0]):
        raise ValueError(f"{path}: frames are not evenly spaced (timestep gaps {sorted(set(dsteps.tolist()))}); "
                         "the all-origins MSD needs a constant frame interval")
    if dt_ps is not None:
        if not dt_ps > 0:
            raise ValueError(f"dt_ps must be positive, got {dt_ps}")
        times = np.arange(len(steps)) * float(dt_ps)
    else:
        if not timestep_fs > 0:
            raise ValueError(f"timestep_fs must be positive, got {timestep_fs}")
        times = (steps - steps[0]) * float(timestep_fs) / units.FS_PER_PS
    return SpeciesTrajectory(
        species=species, ids=ids[sel], positions=np.stack(pos_l), com=np.stack(com_l),
        dipole=np.stack(dip_l) if q is not None else None,
        net_charge_e=float(q.sum()) if q is not None else None,
        volumes_A3=np.array(vol_l), times_ps=times, timesteps=steps, n_atoms_total=len(ids))
