"""Random starting structures of Li2S-P2S5 glasses with the force field's molecular topology.

A glass is declared by its anion units (``lipsglass.composition.Composition``); Li follows from
charge neutrality. This module

1. builds each anion unit (PS4 3-, P2S7 4-, P2S6 4-, free S 2-) with the force field's atom
   types and its full bonded topology (``unit_template``), in the ideal geometry implied by the
   force field's bonded terms (``unit_geometry``);
2. packs randomly oriented copies of the units, then free S and Li, into a cubic periodic box at
   a low density without overlaps (``build_glass``);
3. writes a LAMMPS data file (atom_style full, units real) that ``lipsglass.lammpsio.read_data``
   and LAMMPS ``read_data`` read (``write_data_file``).

Units: lengths in Angstrom, angles in degrees in the public API (radians internally), masses in
g/mol, density in g/cm^3, charges in e (LAMMPS ``units real``).

Topology conventions
--------------------
* Bonds: every bonded pair of a unit. Angles: every j-centre-k triple of bonded pairs, and
  dihedrals: every i-j-k-l path of bonds, for which the force field has a term (a triple or
  quadruple without a term would get no entry; in ariga2022 every one has a term). Counts per
  unit: PS4 4 bonds, 6 angles; P2S7 8 bonds, 13 angles (6 S1-Pa-S1, 6 S1-Pa-Sc, 1 Pa-Sc-Pa),
  6 dihedrals (S1-Pa-Sc-Pa); P2S6 7 bonds, 12 angles (6 P2-P2-S2, 6 S2-P2-S2), 9 dihedrals
  (S2-P2-P2-S2); S and Li none.
* Every bond, angle and dihedral is written with its atoms in the order of the force-field key
  (``ff.bond_name`` / ``angle_name`` / ``dihedral_name``). This matters for the class2 angle
  S1-Pa-Sc, whose bond-bond and bond-angle cross terms are not symmetric (r1 and N1 belong to
  the first bond, S1-Pa): it is ALWAYS listed as ``S1 Pa Sc``, never ``Sc Pa S1``. (The data
  files distributed with the force-field paper list two thirds of these angles in the reversed
  order.)
* LAMMPS type numbers are ``ff.default_topology_types()``: atom types in force-field order, bond,
  angle and dihedral types in force-field file order. Every data file lists all of them, used
  or not, so all glasses share one type table; Masses lines name their type (``1 6.941 # Li``).
* Molecule IDs: one per anion unit (also per free S), one per Li. Atom IDs run unit by unit in
  the order PS4, P2S7, P2S6, S, Li.

Ideal unit geometries
---------------------
All bonds have their force-field r0. The angles cannot all equal their theta0 at once: four
ligands of a tetrahedral centre have five shape degrees of freedom but the force field asks for
six angles, and with three equivalent ligands (C3v) the equatorial angle gamma follows from the
axial one beta through cos(gamma) = cos^2(beta) - sin^2(beta)/2. We therefore take the C3v
geometry whose beta minimises the class2 angle polynomial
3 E(axial term, beta) + 3 E(equatorial term, gamma(beta)), E = K2 d^2 + K3 d^3 + K4 d^4
(d = theta - theta0 in radians; the bond-bond and bond-angle cross terms are left out: this is
a starting geometry that the melt relaxes). For PS4 this is the regular tetrahedron (109.47 deg
against theta0 = 109.46 deg); for P2S7 (Pa: S1-Pa-Sc 105.5, S1-Pa-S1 114.2) and P2S6 (P2:
P2-P2-S2 104.3, S2-P2-S2 115.3) the angles come within 0.7 degree of their theta0.
The P-Sc-P bridge of P2S7 has exactly theta0 of Pa-Sc-Pa. The rotation of each PS3 group about
its Pa-Sc bond minimises the force field's S1-Pa-Sc-Pa dihedral energy (for a three-fold rotor
only the n = 3 term depends on the rotation: the minimum is phi = phi3/3 = 44.6 deg, modulo
120 deg, 15 deg from exactly staggered); P2S6, whose S2-P2-P2-S2 term is zero, is staggered
(S2-P2-P2-S2 dihedrals 60 and 180 deg), the conformation with the largest S...S separations.

Packing
-------
Units get uniformly random orientations (unit quaternions) and centre positions (uniform in the
box) from ``numpy.random.default_rng(seed)``. Polyatomic anions are placed first, then free S,
then Li. Each round draws new trial placements for all pending units of a stage, finds atom
pairs closer than ``min_distance_A`` with the project's periodic KD-tree search
(``lipsglass.neighbours.neighbour_pairs``) and accepts every pending unit without a clash with
an accepted unit or with a lower-numbered pending unit; the others are drawn again. A unit that
fails ``max_attempts`` times raises ``PackingError``: a structure with overlaps is never
returned. The default ``min_distance_A`` = 2.2 A is about the closest approach of atoms of
different units in the force-field paper's 70Li2S-30P2S5 model at 500 K (Li-S contacts from
2.09 A, 1 % of the Li-S pairs within 3.2 A are closer than 2.22 A; the Li-S first peak is at
~2.45 A; no S-S or P-S pair between units is closer than 3 A): the random start then contains no
contact closer than those the equilibrated model itself visits. Rigid random insertion jams
quickly above it: at 1 g/cm3 a bound of 3 A already fails for a few hundred atoms.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar

from lipsglass.composition import Composition
from lipsglass.forcefield import ForceField, TopologyTypes
from lipsglass.lammpsio import Box
from lipsglass.neighbours import neighbour_pairs
from lipsglass.units import AMU_G, ANGSTROM3_TO_CM3
from lipsglass.units import density_g_cm3 as _density_g_cm3

DEFAULT_DENSITY_G_CM3 = 1.0
DEFAULT_MIN_DISTANCE_A = 2.2
DEFAULT_MAX_ATTEMPTS = 1000

# Atom-ID order of the units in a built glass (Li last).
UNIT_ORDER = ("PS4", "P2S7", "P2S6", "S")
LI_UNIT = "Li"


class PackingError(RuntimeError):
    """Random packing could not place every unit without overlaps."""


# --------------------------------------------------------------------------------------------
# Unit templates: types, topology, ideal geometry
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnitTemplate:
    """One unit in its ideal geometry, with local (0-based) topology.

    ``positions`` (A) are centred on the geometric centre of the unit. Topology entries are atom
    index tuples in the order of the force-field key, with the key in ``*_names``.
    """

    name: str
    type_names: tuple[str, ...]
    positions: np.ndarray
    bonds: tuple[tuple[int, int], ...] = ()
    bond_names: tuple[str, ...] = ()
    angles: tuple[tuple[int, int, int], ...] = ()
    angle_names: tuple[str, ...] = ()
    dihedrals: tuple[tuple[int, int, int, int], ...] = ()
    dihedral_names: tuple[str, ...] = ()

    @property
    def n_atoms(self) -> int:
        return len(self.type_names)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _place(a: np.ndarray, b: np.ndarray, c: np.ndarray, bond: float, angle: float, torsion: float) -> np.ndarray:
    """Position d with |c-d| = bond, angle b-c-d = ``angle`` and dihedral a-b-c-d = ``torsion``
    (radians, IUPAC sign convention as in ``dihedral_angle``); natural extension reference
    frame construction."""
    bc = _unit(c - b)
    n = _unit(np.cross(b - a, bc))
    m = np.cross(n, bc)
    local = np.array([-bond * np.cos(angle), bond * np.sin(angle) * np.cos(torsion),
                      bond * np.sin(angle) * np.sin(torsion)])
    return c + local[0] * bc + local[1] * m + local[2] * n


def dihedral_angle(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Dihedral a-b-c-d in degrees, in (-180, 180] (IUPAC sign: positive clockwise looking
    from b to c). Accepts (3,) or (n, 3) arrays."""
    b1, b2, b3 = np.asarray(b) - a, np.asarray(c) - b, np.asarray(d) - c
    n1, n2 = np.cross(b1, b2), np.cross(b2, b3)
    y = np.linalg.norm(b2, axis=-1) * np.sum(b1 * n2, axis=-1)
    x = np.sum(n1 * n2, axis=-1)
    return np.degrees(np.arctan2(y, x))


def bond_angle(a: np.ndarray, centre: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle a-centre-b in degrees. Accepts (3,) or (n, 3) arrays."""
    u, v = np.asarray(a) - centre, np.asarray(b) - centre
    cos = np.sum(u * v, axis=-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))  # clip only guards rounding of |cos| = 1


def angle_energy(ff: ForceField, name: str, theta_deg: float | np.ndarray) -> np.ndarray:
    """Class2 angle polynomial K2 d^2 + K3 d^3 + K4 d^4 (kcal/mol), d = theta - theta0 in rad
    (no cross terms)."""
    term = ff.raw["angles"][name]
    d = np.radians(np.asarray(theta_deg, float) - term["theta0"])
    k2, k3, k4 = term["K"]
    return k2 * d**2 + k3 * d**3 + k4 * d**4


def dihedral_energy(ff: ForceField, name: str, phi_deg: float | np.ndarray) -> np.ndarray:
    """Class2 torsion sum_n K_n (1 - cos(n phi - phi_n)), n = 1..3 (kcal/mol; phi in degrees)."""
    k1, p1, k2, p2, k3, p3 = ff.raw["dihedrals"][name]
    phi = np.radians(np.asarray(phi_deg, float))
    return (k1 * (1 - np.cos(phi - np.radians(p1))) + k2 * (1 - np.cos(2 * phi - np.radians(p2)))
            + k3 * (1 - np.cos(3 * phi - np.radians(p3))))


def c3v_equatorial_angle(beta_deg: float | np.ndarray) -> np.ndarray:
    """Angle (deg) between two of three equivalent ligands that each make ``beta_deg`` with the
    axial ligand of a C3v centre: cos(gamma) = cos^2(beta) - sin^2(beta)/2."""
    beta = np.radians(np.asarray(beta_deg, float))
    return np.degrees(np.arccos(np.cos(beta) ** 2 - 0.5 * np.sin(beta) ** 2))


def c3v_axial_angle(ff: ForceField, axial_angle: str, equatorial_angle: str) -> float:
    """Axial-centre-equatorial angle beta (deg) of the C3v centre that minimises
    3 E_axial(beta) + 3 E_equatorial(gamma(beta)) (see ``angle_energy``)."""
    def energy(beta):
        return 3 * angle_energy(ff, axial_angle, beta) + 3 * angle_energy(ff, equatorial_angle,
                                                                        c3v_equatorial_angle(beta))
    # gamma is real for beta in [90, 180]; tetrahedral centres lie well inside (90, 130)
    result = minimize_scalar(energy, bounds=(90.0, 130.0), method="bounded", options={"xatol": 1e-10})
    if not result.success or not 90.0 < result.x < 130.0:
        raise ValueError(f"no C3v minimum for angles {axial_angle} / {equatorial_angle}")
    return float(result.x)


def rotor_dihedral(ff: ForceField, name: str, default_deg: float) -> float:
    """Dihedral phi (deg, in [0, 120)) minimising the summed torsion energy of a three-fold rotor,
    sum_k E(phi + 120 k). A term that is zero everywhere has no preference: ``default_deg``."""
    if not any(float(k) != 0.0 for k in ff.raw["dihedrals"][name][0::2]):
        return float(default_deg)
    grid = np.linspace(0.0, 120.0, 1201)

    def energy(phi):
        return sum(dihedral_energy(ff, name, phi + 120.0 * k) for k in range(3))

    start = grid[np.argmin(energy(grid))]
    result = minimize_scalar(energy, bounds=(start - 0.2, start + 0.2), method="bounded",
                             options={"xatol": 1e-10})
    return float(result.x % 120.0)


def _types(ff: ForceField, unit: str, role: str) -> str:
    spec = ff.anions.get(unit)
    if spec is None or role not in spec:
        raise ValueError(f"force field {ff.name}: anion {unit!r} has no {role!r} type (anions: {ff.anions})")
    return ff.canonical_type(spec[role])


def _bond_length(ff: ForceField, a: str, b: str) -> float:
    return float(ff.raw["bonds"][ff.bond_name(a, b)][0])


def _c3v_centre(ff: ForceField, centre: np.ndarray, axial: np.ndarray, reference: np.ndarray,
                ligand_type: str, centre_type: str, axial_type: str, torsion0: float) -> list[np.ndarray]:
    """Three equatorial ligands of a C3v centre whose axial ligand is at ``axial``; their
    dihedral ligand-centre-axial-reference is torsion0 + 0/120/240 deg."""
    beta = c3v_axial_angle(ff, ff.angle_name(ligand_type, centre_type, axial_type),
                           ff.angle_name(ligand_type, centre_type, ligand_type))
    r = _bond_length(ff, centre_type, ligand_type)
    return [_place(reference, axial, centre, r, np.radians(beta), np.radians(torsion0 + 120.0 * k))
            for k in range(3)]


def _geometry(unit: str, ff: ForceField) -> tuple[list[str], np.ndarray, list[tuple[int, int]]]:
    """Atom types, ideal coordinates (A) and bonded pairs of one unit."""
    if unit == "PS4":
        p, s = _types(ff, unit, "P"), _types(ff, unit, "S")
        r = _bond_length(ff, p, s)
        centre, axial = np.zeros(3), np.array([0.0, 0.0, r])
        others = _c3v_centre(ff, centre, axial, np.array([1.0, 0.0, r]), s, p, s, 0.0)
        xyz = np.array([centre, axial, *others])
        return [p, s, s, s, s], xyz, [(0, 1), (0, 2), (0, 3), (0, 4)]
    if unit == "P2S7":
        p, st, sb = _types(ff, unit, "P"), _types(ff, unit, "S_terminal"), _types(ff, unit, "S_bridging")
        r = _bond_length(ff, p, sb)
        half = np.radians(ff.raw["angles"][ff.angle_name(p, sb, p)]["theta0"]) / 2.0
        sc = np.zeros(3)
        pa = np.array([r * np.sin(half), -r * np.cos(half), 0.0])
        pb = np.array([-r * np.sin(half), -r * np.cos(half), 0.0])
        phi = rotor_dihedral(ff, ff.dihedral_name(st, p, sb, p), default_deg=60.0)
        # dihedral S1-Pa-Sc-Pb = phi + 120 k on both tetrahedra (C2-symmetric molecule)
        sa = _c3v_centre(ff, pa, sc, pb, st, p, sb, phi)
        sbb = _c3v_centre(ff, pb, sc, pa, st, p, sb, phi)
        xyz = np.array([pa, pb, sc, *sa, *sbb])
        types = [p, p, sb] + [st] * 6
        bonds = [(0, 2), (1, 2)] + [(0, k) for k in (3, 4, 5)] + [(1, k) for k in (6, 7, 8)]
        return types, xyz, bonds
    if unit == "P2S6":
        p, s = _types(ff, unit, "P"), _types(ff, unit, "S")
        r = _bond_length(ff, p, p)
        pa, pb = np.zeros(3), np.array([r, 0.0, 0.0])
        sa = _c3v_centre(ff, pa, pb, np.array([r, 1.0, 0.0]), s, p, p, 0.0)
        # S2-P2-P2-S2 relative to the first S of the other P: staggered (180 +- 120) unless the
        # force field prefers another rotation
        phi = rotor_dihedral(ff, ff.dihedral_name(s, p, p, s), default_deg=60.0)
        sbb = _c3v_centre(ff, pb, pa, sa[0], s, p, p, phi)
        xyz = np.array([pa, pb, *sa, *sbb])
        bonds = [(0, 1)] + [(0, k) for k in (2, 3, 4)] + [(1, k) for k in (5, 6, 7)]
        return [p, p] + [s] * 6, xyz, bonds
    if unit == "S":
        return [_types(ff, unit, "S")], np.zeros((1, 3)), []
    if unit == LI_UNIT:
        return [ff.canonical_type(ff.cation)], np.zeros((1, 3)), []
    raise ValueError(f"unknown unit {unit!r}; known: {list(UNIT_ORDER) + [LI_UNIT]}")


def _topology(types: list[str], bonds: list[tuple[int, int]], ff: ForceField):
    """Bonds, angles and dihedrals of a unit, each in force-field key order, with their keys."""
    bond_list, bond_names = [], []
    for i, j in bonds:
        key = ff.bond_name(types[i], types[j])
        bond_list.append((i, j) if key == f"{types[i]}-{types[j]}" else (j, i))
        bond_names.append(key)
    partners: dict[int, list[int]] = {k: [] for k in range(len(types))}
    for i, j in bonds:
        partners[i].append(j)
        partners[j].append(i)

    angle_list, angle_names = [], []
    for centre in range(len(types)):
        for a, b in itertools.combinations(sorted(partners[centre]), 2):
            try:
                key = ff.angle_name(types[a], types[centre], types[b])
            except KeyError:
                continue  # the force field has no term for this triple: no entry
            if key != f"{types[a]}-{types[centre]}-{types[b]}":
                a, b = b, a
            angle_list.append((a, centre, b))
            angle_names.append(key)

    dihedral_list, dihedral_names = [], []
    for j, k in bonds:  # every path i-j-k-l around the central bond j-k
        for i in partners[j]:
            for m in partners[k]:
                if i in (j, k) or m in (j, k) or i == m:
                    continue
                try:
                    key = ff.dihedral_name(types[i], types[j], types[k], types[m])
                except KeyError:
                    continue
                quad = (i, j, k, m)
                if key != "-".join(types[x] for x in quad):
                    quad = quad[::-1]
                dihedral_list.append(quad)
                dihedral_names.append(key)
    return bond_list, bond_names, angle_list, angle_names, dihedral_list, dihedral_names


def unit_template(unit: str, ff: ForceField) -> UnitTemplate:
    """Unit ``unit`` ('PS4', 'P2S7', 'P2S6', 'S' or 'Li') with force-field types, topology and
    ideal geometry (A), centred on its geometric centre."""
    types, xyz, bonds = _geometry(unit, ff)
    b, bn, a, an, d, dn = _topology(types, bonds, ff)
    return UnitTemplate(name=unit, type_names=tuple(types), positions=xyz - xyz.mean(axis=0),
                        bonds=tuple(b), bond_names=tuple(bn), angles=tuple(a), angle_names=tuple(an),
                        dihedrals=tuple(d), dihedral_names=tuple(dn))


def unit_geometry(unit: str, ff: ForceField) -> np.ndarray:
    """Ideal coordinates (A, shape (n_atoms, 3), centred) of a unit; atom order as in
    ``unit_template(unit, ff).type_names``."""
    return unit_template(unit, ff).positions


# --------------------------------------------------------------------------------------------
# The glass
# --------------------------------------------------------------------------------------------
@dataclass
class BuiltGlass:
    """A packed glass. Per-atom arrays are in atom-ID order (ID = index + 1).

    positions: unwrapped coordinates (A), every unit whole; ``wrapped_positions()`` and
    ``images()`` give the LAMMPS representation. types: LAMMPS atom types (1-based, the order of
    ``topology.atom``); type_names: force-field type of each atom; bonds/angles/dihedrals: rows
    [LAMMPS type, atom IDs...] in force-field key order.
    """

    name: str
    box: Box
    positions: np.ndarray
    types: np.ndarray
    type_names: np.ndarray
    charges: np.ndarray
    molecules: np.ndarray
    units: np.ndarray
    masses: np.ndarray
    bonds: np.ndarray
    angles: np.ndarray
    dihedrals: np.ndarray
    topology: TopologyTypes
    seed: int
    min_distance_A: float
    forcefield: str
    composition: dict = field(default_factory=dict)

    @property
    def n_atoms(self) -> int:
        return len(self.types)

    def wrapped_positions(self) -> np.ndarray:
        return self.positions - self.images() * self.box.lengths

    def images(self) -> np.ndarray:
        """Periodic image flags of the unwrapped positions (orthogonal box)."""
        return np.floor((self.positions - self.box.lo) / self.box.lengths).astype(np.int64)

    def density_g_cm3(self) -> float:
        return _density_g_cm3(float(self.masses.sum()), self.box.volume)


def box_edge_A(total_mass_g_mol: float, density_g_cm3: float) -> float:
    """Edge (A) of the cube holding ``total_mass_g_mol`` at ``density_g_cm3``."""
    if not density_g_cm3 > 0:
        raise ValueError(f"density must be positive, got {density_g_cm3} g/cm3")
    volume_A3 = total_mass_g_mol * AMU_G / density_g_cm3 / ANGSTROM3_TO_CM3
    return float(volume_A3 ** (1.0 / 3.0))


def random_rotations(rng: np.random.Generator, n: int) -> np.ndarray:
    """n rotation matrices (n, 3, 3) uniform on SO(3) (normalised Gaussian quaternions)."""
    q = rng.standard_normal((n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], axis=-1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], axis=-1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], axis=-1),
    ], axis=1)


def _pack(box: Box, templates: list[UnitTemplate], unit_kind: np.ndarray, offsets: np.ndarray,
          stages: list[np.ndarray], rng: np.random.Generator, min_distance: float,
          max_attempts: int) -> np.ndarray:
    """Unwrapped positions of all atoms: random rigid placement of each unit, stage by stage,
    with no atom pair of different units closer than ``min_distance`` (periodic)."""
    n_units = len(unit_kind)
    n_atoms = int(offsets[-1])
    positions = np.full((n_atoms, 3), np.nan)
    atom_unit = np.repeat(np.arange(n_units), np.diff(offsets))
    placed = np.zeros(n_units, bool)
    attempts = np.zeros(n_units, np.int64)
    for stage in stages:
        pending = np.asarray(stage, np.int64)
        while len(pending):
            # new trial placements for every pending unit, vectorised per template
            for kind in np.unique(unit_kind[pending]):
                units = pending[unit_kind[pending] == kind]
                local = templates[kind].positions
                rot = random_rotations(rng, len(units))
                centres = rng.uniform(0.0, 1.0, (len(units), 3)) * box.lengths + box.lo
                xyz = centres[:, None, :] + np.einsum("kij,nj->kni", rot, local)
                atoms = offsets[units][:, None] + np.arange(len(local))[None, :]
                positions[atoms.ravel()] = xyz.reshape(-1, 3)
            attempts[pending] += 1
            trial_atoms = np.flatnonzero(np.isin(atom_unit, pending))
            active_atoms = np.flatnonzero(placed[atom_unit] | np.isin(atom_unit, pending))
            i, j, _ = neighbour_pairs(box, positions[trial_atoms], min_distance, other=positions[active_atoms])
            ui, uj = atom_unit[trial_atoms[i]], atom_unit[active_atoms[j]]
            clash = ui != uj
            ui, uj = ui[clash], uj[clash]
            # a trial unit clashing with an accepted one is rejected; of two clashing trial
            # units the higher-numbered one is rejected (each such pair appears in both orders)
            rejected = np.union1d(ui[placed[uj]], np.maximum(ui, uj)[~placed[uj]])
            accepted = np.setdiff1d(pending, rejected)
            placed[accepted] = True
            pending = rejected
            failing = pending[attempts[pending] >= max_attempts]
            if len(failing):
                kinds = sorted({templates[unit_kind[u]].name for u in failing})
                raise PackingError(
                    f"could not place {len(failing)} unit(s) ({', '.join(kinds)}) without atoms closer than "
                    f"{min_distance} A after {max_attempts} attempts each (box edge {box.lengths[0]:.3f} A); "
                    "lower the density or min_distance_A")
    return positions


def build_glass(composition: Composition, ff: ForceField, seed: int,
                density_g_cm3: float = DEFAULT_DENSITY_G_CM3,
                min_distance_A: float = DEFAULT_MIN_DISTANCE_A,
                max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> BuiltGlass:
    """Random, overlap-free packing of ``composition`` in a cubic box at ``density_g_cm3``.

    Units are placed rigidly in their ideal geometries with random orientation and position
    (``numpy.random.default_rng(seed)``): polyatomic anions first, then free S, then Li. No two
    atoms of different units are closer than ``min_distance_A`` (A, periodic minimum image).
    Raises ``PackingError`` if a unit cannot be placed in ``max_attempts`` trials.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if not min_distance_A > 0:
        raise ValueError(f"min_distance_A must be positive, got {min_distance_A}")
    if int(max_attempts) < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    unknown = set(composition.units) - set(UNIT_ORDER)
    if unknown:
        raise ValueError(f"glass {composition.name}: the builder knows units {UNIT_ORDER}, not {sorted(unknown)}")

    topo = ff.default_topology_types()
    atom_index = {t: n for n, t in enumerate(topo.atom, start=1)}
    bond_index = {t: n for n, t in enumerate(topo.bond, start=1)}
    angle_index = {t: n for n, t in enumerate(topo.angle, start=1)}
    dihedral_index = {t: n for n, t in enumerate(topo.dihedral, start=1)}
    charges = ff.charges()

    kinds = [u for u in UNIT_ORDER if composition.units.get(u, 0) > 0] + [LI_UNIT]
    counts = [composition.units.get(u, 0) for u in kinds[:-1]] + [composition.n_Li]
    templates = [unit_template(u, ff) for u in kinds]
    unit_kind = np.repeat(np.arange(len(kinds)), counts)
    sizes = np.array([templates[k].n_atoms for k in unit_kind])
    offsets = np.concatenate([[0], np.cumsum(sizes)])

    # per-atom tables, unit by unit (IDs in UNIT_ORDER, Li last)
    type_names = np.concatenate([np.array(templates[k].type_names, dtype=object) for k in unit_kind])
    masses = np.array([ff.mass(t) for t in type_names])
    box_edge = box_edge_A(float(masses.sum()), density_g_cm3)
    extent = max(np.ptp(t.positions, axis=0).max() if t.n_atoms > 1 else 0.0 for t in templates)
    if box_edge < extent + min_distance_A:
        # a unit could then overlap its own periodic image, which the packer does not check
        raise ValueError(f"box edge {box_edge:.3f} A (density {density_g_cm3} g/cm3) is smaller than the largest "
                         f"unit ({extent:.3f} A) plus min_distance_A; build a larger glass")
    box = Box(np.zeros(3), np.full(3, box_edge))

    def topology_rows(attr: str, names_attr: str, index: dict[str, int], width: int) -> np.ndarray:
        rows = []
        for u, k in enumerate(unit_kind):
            t = templates[k]
            for members, name in zip(getattr(t, attr), getattr(t, names_attr)):
                rows.append([index[name], *(offsets[u] + np.asarray(members) + 1)])
        return np.array(rows, dtype=np.int64).reshape(-1, width + 1)

    rng = np.random.default_rng(int(seed))
    anion_kinds = [n for n, u in enumerate(kinds) if u not in ("S", LI_UNIT)]
    stages = [np.flatnonzero(np.isin(unit_kind, anion_kinds))]
    for single in ("S", LI_UNIT):
        if single in kinds:
            stages.append(np.flatnonzero(unit_kind == kinds.index(single)))
    positions = _pack(box, templates, unit_kind, offsets, stages, rng, float(min_distance_A), int(max_attempts))

    return BuiltGlass(
        name=composition.name, box=box, positions=positions,
        types=np.array([atom_index[t] for t in type_names], dtype=np.int64),
        type_names=type_names.astype(str),
        charges=np.array([charges[t] for t in type_names]),
        molecules=np.repeat(np.arange(1, len(unit_kind) + 1), sizes),
        units=np.repeat(np.array(kinds)[unit_kind], sizes),
        masses=masses,
        bonds=topology_rows("bonds", "bond_names", bond_index, 2),
        angles=topology_rows("angles", "angle_names", angle_index, 3),
        dihedrals=topology_rows("dihedrals", "dihedral_names", dihedral_index, 4),
        topology=topo, seed=int(seed), min_distance_A=float(min_distance_A), forcefield=ff.name,
        composition=dict(composition.units),
    )


def write_data_file(built: BuiltGlass, ff: ForceField, path: str | Path) -> Path:
    """Write ``built`` as a LAMMPS data file (atom_style full, units real): header with every
    force-field type, Masses with type-name comments, Atoms with image flags, Bonds, Angles,
    Dihedrals. No coefficient sections: the force-field file is the one source of parameters
    (``lipsglass.engine.setup.setup_commands`` reads with ``nocoeff``)."""
    topo = built.topology
    if topo.atom != ff.type_names:
        raise ValueError(f"glass built with atom types {topo.atom}, force field {ff.name} has {ff.type_names}")
    path = Path(path)
    lo, hi = built.box.lo, built.box.hi
    wrapped = built.wrapped_positions()
    images = built.images()

    def names(kind: list[str]) -> str:
        return ", ".join(f"{n} {t}" for n, t in enumerate(kind, start=1))

    out = [f"LAMMPS data file: glass {built.name} {built.composition} built by lipsglass.builder "
           f"(force field {built.forcefield}, seed {built.seed}, min distance {built.min_distance_A} A)", ""]
    out += [f"{built.n_atoms} atoms", f"{len(topo.atom)} atom types",
            f"{len(built.bonds)} bonds", f"{len(topo.bond)} bond types  # {names(topo.bond)}",
            f"{len(built.angles)} angles", f"{len(topo.angle)} angle types  # {names(topo.angle)}",
            f"{len(built.dihedrals)} dihedrals", f"{len(topo.dihedral)} dihedral types  # {names(topo.dihedral)}",
            ""]
    for axis, label in enumerate(("x", "y", "z")):
        out.append(f"{float(lo[axis])!r} {float(hi[axis])!r} {label}lo {label}hi")
    out += ["", "Masses", ""]
    out += [f"{n} {ff.mass(t)!r} # {t}" for n, t in enumerate(topo.atom, start=1)]
    out += ["", "Atoms # full", ""]
    for k in range(built.n_atoms):
        x, y, z = wrapped[k]
        ix, iy, iz = images[k]
        out.append(f"{k + 1} {built.molecules[k]} {built.types[k]} {float(built.charges[k])!r} "
                   f"{x:.10f} {y:.10f} {z:.10f} {ix} {iy} {iz}")
    for section, table in (("Bonds", built.bonds), ("Angles", built.angles), ("Dihedrals", built.dihedrals)):
        if len(table):
            out += ["", section, ""]
            out += [f"{n} " + " ".join(str(v) for v in row) for n, row in enumerate(table, start=1)]
    path.write_text("\n".join(out) + "\n")
    return path


def build_summary(built: BuiltGlass) -> dict:
    """Counts, box and density of a built glass (for logs and provenance)."""
    return {"glass": built.name, "units": dict(built.composition),
            "n_Li": int((built.units == LI_UNIT).sum()), "atoms": built.n_atoms, "bonds": len(built.bonds),
            "angles": len(built.angles), "dihedrals": len(built.dihedrals),
            "box_edge_A": float(built.box.lengths[0]), "density_g_cm3": built.density_g_cm3(),
            "net_charge_e": float(built.charges.sum()), "seed": built.seed,
            "min_distance_A": built.min_distance_A, "forcefield": built.forcefield}
