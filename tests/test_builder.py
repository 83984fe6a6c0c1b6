"""The glass builder: unit topology and geometry from the force field, overlap-free packing,
the written data file and its LAMMPS reading."""

import collections
import json
import math
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import reference_file
from lipsglass.builder import (PackingError, bond_angle, box_edge_A, build_glass, c3v_axial_angle,
                               c3v_equatorial_angle, dihedral_angle, random_rotations, unit_geometry,
                               unit_template, write_data_file)
from lipsglass.composition import Composition
from lipsglass.lammpsio import read_data
from lipsglass.neighbours import neighbour_pairs
from lipsglass.units import AVOGADRO

TETRAHEDRAL_DEG = math.degrees(math.acos(-1.0 / 3.0))

# Hand count of each unit's topology by force-field term.
# PS4: 4 P-S bonds; C(4,2) = 6 S-P-S angles; no path of three bonds.
# P2S7: 2 Pa-Sc + 6 Pa-S1 bonds; per Pa C(3,2) = 3 S1-Pa-S1 and 3 S1-Pa-Sc, plus the bridge
#       Pa-Sc-Pa; dihedrals S1-Pa-Sc-Pa: 3 S1 on each of the 2 Pa.
# P2S6: 1 P-P + 6 P-S bonds; per P 3 P-P-S and C(3,2) = 3 S-P-S angles; 3 x 3 S-P-P-S dihedrals.
EXPECTED = {
    "PS4": ({"P4-S4": 4}, {"S4-P4-S4": 6}, {}),
    "P2S7": ({"Pa-Sc": 2, "Pa-S1": 6}, {"S1-Pa-S1": 6, "S1-Pa-Sc": 6, "Pa-Sc-Pa": 1}, {"S1-Pa-Sc-Pa": 6}),
    "P2S6": ({"P2-P2": 1, "P2-S2": 6}, {"P2-P2-S2": 6, "S2-P2-S2": 6}, {"S2-P2-P2-S2": 9}),
    "S": ({}, {}, {}),
    "Li": ({}, {}, {}),
}
ATOMS = {"PS4": 5, "P2S7": 9, "P2S6": 8, "S": 1, "Li": 1}
TINY = {"PS4": 2, "P2S7": 2, "P2S6": 1, "S": 1}


@pytest.fixture(scope="module")
def tiny(ff):
    return build_glass(Composition("tiny", TINY), ff, seed=11, density_g_cm3=0.5)


@pytest.fixture(scope="module")
def ff():
    from lipsglass.forcefield import ForceField
    return ForceField.load("ariga2022")


# ---- unit templates ---------------------------------------------------------------------------
@pytest.mark.parametrize("unit", list(EXPECTED))
def test_unit_topology_counts(ff, unit):
    t = unit_template(unit, ff)
    bonds, angles, dihedrals = EXPECTED[unit]
    assert t.n_atoms == ATOMS[unit]
    assert collections.Counter(t.bond_names) == collections.Counter(bonds)
    assert collections.Counter(t.angle_names) == collections.Counter(angles)
    assert collections.Counter(t.dihedral_names) == collections.Counter(dihedrals)
    # no entry twice (an angle or dihedral listed forwards and backwards would count double)
    assert len({frozenset(b) for b in t.bonds}) == len(t.bonds)
    assert len({(a[1], frozenset((a[0], a[2]))) for a in t.angles}) == len(t.angles)
    assert len({frozenset([d, d[::-1]]) for d in map(tuple, t.dihedrals)}) == len(t.dihedrals)


@pytest.mark.parametrize("unit", ["PS4", "P2S7", "P2S6"])
def test_entries_are_in_force_field_key_order(ff, unit):
    t = unit_template(unit, ff)
    for members, name in [*zip(t.bonds, t.bond_names), *zip(t.angles, t.angle_names),
                          *zip(t.dihedrals, t.dihedral_names)]:
        assert "-".join(t.type_names[i] for i in members) == name


def test_unit_topology_matches_the_reference_glass(ff):
    """Per-unit bond/angle/dihedral counts of the distributed 70Li2S-30P2S5 model (type order of
    the README: 1 P2, 2 S2, 3 Pa, 4 S1, 5 Sc, 6 P4, 7 S4, 8 Li)."""
    data = read_data(reference_file("70Li2S-30P2S5.data"))
    names = np.array([None, "P2", "S2", "Pa", "S1", "Sc", "P4", "S4", "Li"], dtype=object)
    atom_types = names[data.types]
    index = {int(a): k for k, a in enumerate(data.ids)}
    unit_of = {("P4",): "PS4", ("Pa",): "P2S7", ("P2",): "P2S6", ("Li",): "Li"}
    mol_unit = {}
    for mol in np.unique(data.molecules):
        types = set(atom_types[data.molecules == mol])
        p_types = tuple(sorted(t for t in types if t in ("P4", "Pa", "P2", "Li")))
        mol_unit[mol] = unit_of[p_types]
    n_units = collections.Counter(mol_unit.values())
    for kind, table, width, namer in (("bonds", data.bonds, 2, ff.bond_name), ("angles", data.angles, 3, ff.angle_name),
                                      ("dihedrals", data.dihedrals, 4, ff.dihedral_name)):
        per_unit = collections.defaultdict(collections.Counter)
        for row in table:
            members = [index[int(a)] for a in row[1:1 + width]]
            mol = data.molecules[members[0]]
            per_unit[mol_unit[mol]][namer(*atom_types[members])] += 1
        for unit in ("PS4", "P2S7", "P2S6"):
            t = unit_template(unit, ff)
            ours = collections.Counter(getattr(t, kind[:-1] + "_names"))
            assert {k: v / n_units[unit] for k, v in per_unit[unit].items()} == dict(ours), (kind, unit)


def test_bonds_have_r0(ff):
    for unit in ("PS4", "P2S7", "P2S6"):
        t = unit_template(unit, ff)
        for (i, j), name in zip(t.bonds, t.bond_names):
            assert np.linalg.norm(t.positions[i] - t.positions[j]) == pytest.approx(ff.raw["bonds"][name][0], abs=1e-10)


def test_c3v_relation_is_the_tetrahedron_at_its_fixed_point():
    assert c3v_equatorial_angle(TETRAHEDRAL_DEG) == pytest.approx(TETRAHEDRAL_DEG, abs=1e-10)
    # beta = 90: the three equatorial ligands are coplanar at 120 deg
    assert c3v_equatorial_angle(90.0) == pytest.approx(120.0, abs=1e-10)


def test_ps4_is_a_regular_tetrahedron(ff):
    """Four equal angles-to-each-other are only possible at arccos(-1/3), 0.011 deg from theta0."""
    t = unit_template("PS4", ff)
    x = t.positions
    got = [bond_angle(x[i], x[j], x[k]) for i, j, k in t.angles]
    assert np.allclose(got, TETRAHEDRAL_DEG, atol=1e-6)
    assert abs(TETRAHEDRAL_DEG - ff.raw["angles"]["S4-P4-S4"]["theta0"]) < 0.012


def test_bridge_angle_is_theta0(ff):
    t = unit_template("P2S7", ff)
    (i, j, k), = [a for a, n in zip(t.angles, t.angle_names) if n == "Pa-Sc-Pa"]
    assert bond_angle(t.positions[i], t.positions[j], t.positions[k]) == pytest.approx(
        ff.raw["angles"]["Pa-Sc-Pa"]["theta0"], abs=1e-9)


@pytest.mark.parametrize("unit,axial,equatorial", [("P2S7", "S1-Pa-Sc", "S1-Pa-S1"),
                                                    ("P2S6", "P2-P2-S2", "S2-P2-S2")])
def test_c3v_centres_compromise_between_the_two_theta0(ff, unit, axial, equatorial):
    """The two theta0 of a P(S)3X centre are incompatible; the geometry is the C3v one with the
    least angle energy, so each angle lies between its theta0 and the C3v partner of the other."""
    t = unit_template(unit, ff)
    x = t.positions
    got = collections.defaultdict(list)
    for (i, j, k), name in zip(t.angles, t.angle_names):
        got[name].append(float(bond_angle(x[i], x[j], x[k])))
    beta, gamma = np.array(got[axial]), np.array(got[equatorial])
    assert np.ptp(beta) < 1e-8 and np.ptp(gamma) < 1e-8
    assert gamma[0] == pytest.approx(float(c3v_equatorial_angle(beta[0])), abs=1e-8)
    assert beta[0] == pytest.approx(c3v_axial_angle(ff, axial, equatorial), abs=1e-8)
    th_ax, th_eq = ff.raw["angles"][axial]["theta0"], ff.raw["angles"][equatorial]["theta0"]
    # beta with gamma(beta) = th_eq: the exact equatorial solution, found by bisection
    lo, hi = 90.0, 130.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if c3v_equatorial_angle(mid) > th_eq else (lo, mid)
    beta_eq = 0.5 * (lo + hi)
    assert min(th_ax, beta_eq) < beta[0] < max(th_ax, beta_eq)
    assert abs(beta[0] - th_ax) < 1.0 and abs(gamma[0] - th_eq) < 1.0


def test_p2s7_rotors_sit_at_the_torsion_minimum(ff):
    """For three S1 at 120 deg spacing only the n = 3 torsion term depends on the rotation, so
    the minimum is at phi = phi3 / 3 modulo 120 deg."""
    t = unit_template("P2S7", ff)
    phi = np.array([dihedral_angle(*t.positions[list(d)]) for d in t.dihedrals])
    phi3 = ff.raw["dihedrals"]["S1-Pa-Sc-Pa"][5]
    offset = (phi - phi3 / 3.0) % 120.0
    assert np.allclose(np.minimum(offset, 120.0 - offset), 0.0, atol=1e-6)


def test_p2s6_is_staggered(ff):
    t = unit_template("P2S6", ff)
    phi = sorted(round(float(dihedral_angle(*t.positions[list(d)])), 6) for d in t.dihedrals)
    assert phi == [-60.0] * 3 + [60.0] * 3 + [180.0] * 3


def test_dihedral_sign_convention():
    # looking from b to c (+z), d is rotated by +phi counter-clockwise seen from above = clockwise
    # seen by the viewer: IUPAC positive
    for phi in (30.0, 100.0, -150.0):
        d = np.array([math.cos(math.radians(phi)), math.sin(math.radians(phi)), 1.0])
        assert dihedral_angle([1.0, 0, 0], [0, 0, 0.0], [0, 0, 1.0], d) == pytest.approx(phi)


def test_unit_geometry_is_centred(ff):
    for unit in ATOMS:
        assert np.allclose(unit_geometry(unit, ff).mean(axis=0), 0.0, atol=1e-12)


def test_random_rotations_are_uniform_proper_rotations():
    rot = random_rotations(np.random.default_rng(0), 30000)
    assert np.allclose(np.einsum("kij,kil->kjl", rot, rot), np.eye(3), atol=1e-12)
    assert np.allclose(np.linalg.det(rot), 1.0)
    # Haar measure on SO(3): E[R] = 0 and E[R_ij^2] = 1/3 (standard error ~ 0.003)
    assert np.abs(rot.mean(axis=0)).max() < 0.02
    assert np.allclose((rot**2).mean(axis=0), 1.0 / 3.0, atol=0.02)


# ---- the packed glass ------------------------------------------------------------------------
def test_glass_counts_charge_and_molecules(ff, tiny):
    comp = Composition("tiny", TINY)
    assert comp.n_Li == 2 * 3 + 2 * 4 + 4 + 2
    assert tiny.n_atoms == sum(ATOMS[u] * n for u, n in TINY.items()) + comp.n_Li
    assert collections.Counter(tiny.units)["Li"] == comp.n_Li
    assert abs(tiny.charges.sum()) < 1e-9
    assert len(tiny.bonds) == sum(sum(EXPECTED[u][0].values()) * n for u, n in TINY.items())
    assert len(tiny.angles) == sum(sum(EXPECTED[u][1].values()) * n for u, n in TINY.items())
    assert len(tiny.dihedrals) == sum(sum(EXPECTED[u][2].values()) * n for u, n in TINY.items())
    # one molecule per unit, made of that unit's atoms only
    n_units = sum(TINY.values()) + comp.n_Li
    assert sorted(np.unique(tiny.molecules)) == list(range(1, n_units + 1))
    for mol in np.unique(tiny.molecules):
        labels = set(tiny.units[tiny.molecules == mol])
        assert len(labels) == 1 and (tiny.molecules == mol).sum() == ATOMS[labels.pop()]
    # every topology entry stays inside one molecule
    for table in (tiny.bonds, tiny.angles, tiny.dihedrals):
        mols = tiny.molecules[table[:, 1:] - 1]
        assert (mols == mols[:, :1]).all()
    # charges and types from the force field
    q = ff.charges()
    assert np.allclose(tiny.charges, [q[t] for t in tiny.type_names], atol=0)
    assert [ff.type_names[t - 1] for t in tiny.types] == list(tiny.type_names)
    # density as requested
    assert tiny.density_g_cm3() == pytest.approx(0.5, rel=1e-12)


def test_box_edge_from_mass_and_density():
    # one mole of mass 1 g/mol at 1 g/cm3 per molecule: V = 1/N_A cm3
    assert box_edge_A(1.0, 1.0) ** 3 == pytest.approx(1e24 / AVOGADRO, rel=1e-12)


def test_angles_s1_pa_sc_are_listed_with_s1_first(ff, tiny):
    number = ff.default_topology_types().angle.index("S1-Pa-Sc") + 1
    rows = tiny.angles[tiny.angles[:, 0] == number]
    assert len(rows) == 6 * TINY["P2S7"]
    names = tiny.type_names[rows[:, 1:] - 1]
    assert (names[:, 0] == "S1").all() and (names[:, 1] == "Pa").all() and (names[:, 2] == "Sc").all()
    # and every entry of every kind carries its force-field key's atom types in key order
    topo = ff.default_topology_types()
    for table, kinds in ((tiny.bonds, topo.bond), (tiny.angles, topo.angle), (tiny.dihedrals, topo.dihedral)):
        for row in table:
            assert "-".join(tiny.type_names[row[1:] - 1]) == kinds[row[0] - 1]


def _bonded_pairs(built):
    return {frozenset(map(int, row[1:])) for row in built.bonds}


@pytest.mark.parametrize("min_distance,density", [(2.2, 1.0), (3.0, 0.5)])
def test_no_close_non_bonded_pairs(ff, min_distance, density):
    built = build_glass(Composition("g", {"PS4": 12, "P2S7": 20, "P2S6": 8, "S": 5}), ff, seed=5,
                        density_g_cm3=density, min_distance_A=min_distance)
    i, j, vec = neighbour_pairs(built.box, built.wrapped_positions(), min_distance)
    close = {frozenset((int(a) + 1, int(b) + 1)) for a, b in zip(i, j)}
    assert close <= _bonded_pairs(built)          # only bonded atoms come closer than the bound
    # wrapping + image flags reproduce the unwrapped, whole units
    assert np.allclose(built.wrapped_positions() + built.images() * built.box.lengths, built.positions)
    w = built.wrapped_positions()
    assert (w >= built.box.lo).all() and (w < built.box.hi).all()


def test_same_seed_same_glass_other_seed_other_glass(ff):
    comp = Composition("g", {"PS4": 3, "P2S7": 3, "P2S6": 2})
    a, b = build_glass(comp, ff, seed=7), build_glass(comp, ff, seed=7)
    c = build_glass(comp, ff, seed=8)
    assert np.array_equal(a.positions, b.positions)
    assert not np.allclose(a.positions, c.positions)
    assert np.array_equal(a.types, c.types) and np.array_equal(a.angles, c.angles)


def test_impossible_packing_raises(ff):
    comp = Composition("dense", {"PS4": 10})
    with pytest.raises(PackingError, match="could not place"):
        build_glass(comp, ff, seed=1, density_g_cm3=3.0, min_distance_A=3.5, max_attempts=20)


@pytest.mark.parametrize("kwargs,match", [({"density_g_cm3": 0.0}, "density"), ({"min_distance_A": -1.0}, "min_distance"),
                                          ({"seed": 1.5}, "seed"), ({"density_g_cm3": 50.0}, "box edge")])
def test_bad_arguments(ff, kwargs, match):
    args = {"seed": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        build_glass(Composition("g", {"PS4": 1}), ff, **args)


@pytest.mark.slow
def test_paper_scale_glass_builds(ff):
    comp = Composition("paper", {"PS4": 180, "P2S7": 360, "P2S6": 150})
    built = build_glass(comp, ff, seed=20230401)
    assert built.n_atoms == 7920
    i, j, _ = neighbour_pairs(built.box, built.wrapped_positions(), built.min_distance_A)
    assert {frozenset((int(a) + 1, int(b) + 1)) for a, b in zip(i, j)} <= _bonded_pairs(built)


# ---- the data file ---------------------------------------------------------------------------
def test_data_file_round_trip(ff, tiny, tmp_path):
    path = write_data_file(tiny, ff, tmp_path / "tiny.data")
    data = read_data(path)
    topo = ff.default_topology_types()
    assert data.n_atoms == tiny.n_atoms
    assert data.n_types == {"atom": 9, "bond": len(topo.bond), "angle": len(topo.angle), "dihedral": len(topo.dihedral)}
    assert data.type_labels == {n: t for n, t in enumerate(ff.type_names, start=1)}
    assert data.masses == {n: ff.mass(t) for n, t in enumerate(ff.type_names, start=1)}
    assert np.array_equal(data.ids, np.arange(1, tiny.n_atoms + 1))
    assert np.array_equal(data.types, tiny.types)
    assert np.array_equal(data.molecules, tiny.molecules)
    assert np.array_equal(data.charges, tiny.charges)
    assert np.allclose(data.unwrapped_positions(), tiny.positions, atol=1e-9)
    assert np.allclose(data.box.lengths, tiny.box.lengths, rtol=1e-15)
    for got, want in ((data.bonds, tiny.bonds), (data.angles, tiny.angles), (data.dihedrals, tiny.dihedrals)):
        assert np.array_equal(got, want)


def _class2_angle_energy(ff, name, x, i, j, k):
    """Class2 angle with cross terms; r1 belongs to the first atom's bond (LAMMPS angle_style class2)."""
    a = ff.raw["angles"][name]
    r1, r2 = np.linalg.norm(x[i] - x[j]), np.linalg.norm(x[k] - x[j])
    d = math.radians(float(bond_angle(x[i], x[j], x[k])) - a["theta0"])
    k2, k3, k4 = a["K"]
    m, b1, b2 = a["bb"]
    n1, n2, c1, c2 = a["ba"]
    return k2 * d**2 + k3 * d**3 + k4 * d**4 + m * (r1 - b1) * (r2 - b2) + (n1 * (r1 - c1) + n2 * (r2 - c2)) * d


def test_lammps_reads_the_file_and_gets_the_ideal_bonded_energies(ff, tiny, tmp_path):
    """run 0 of the written file: bonds at r0 cost nothing; the dihedral energy of P2S7 rotors
    at the torsion minimum is 3 (K1 + K2) per rotor (the n = 1, 2 terms average over three S1 at
    120 deg; the n = 3 term is zero); the angle energy is the class2 sum of the ideal units,
    which depends on listing S1-Pa-Sc with S1 first."""
    from lipsglass.engine.runtime import open_lammps
    from lipsglass.engine.setup import run_commands, setup_commands

    path = write_data_file(tiny, ff, tmp_path / "tiny.data")
    lmp = open_lammps(log_file=tmp_path / "log.lammps", threads=1)
    try:
        run_commands(lmp, setup_commands(ff, path, tmp_path))
        run_commands(lmp, ["thermo_style custom step pe ebond eangle edihed", "run 0"])
        energy = {t: float(lmp.get_thermo(t)) for t in ("pe", "ebond", "eangle", "edihed")}
    finally:
        lmp.close()
    assert math.isfinite(energy["pe"])
    assert abs(energy["ebond"]) < 1e-8
    k1, _, k2, _, _, _ = ff.raw["dihedrals"]["S1-Pa-Sc-Pa"]
    assert energy["edihed"] == pytest.approx(TINY["P2S7"] * 2 * 3 * (k1 + k2), rel=1e-8)
    expected_angle = 0.0
    for unit in ("PS4", "P2S7", "P2S6"):
        t = unit_template(unit, ff)
        expected_angle += TINY[unit] * sum(_class2_angle_energy(ff, n, t.positions, *a)
                                           for a, n in zip(t.angles, t.angle_names))
    assert energy["eangle"] == pytest.approx(expected_angle, rel=1e-7)


@pytest.mark.slow
def test_command_line(tmp_path):
    out = tmp_path / "cli.data"
    proc = subprocess.run([sys.executable, "-m", "lipsglass", "build-glass", str(out), "--units", "PS4=2,P2S7=1",
                           "--seed", "3", "--density", "0.8"], capture_output=True, text=True, check=True)
    summary = json.loads(proc.stdout)
    assert summary["atoms"] == 2 * 5 + 9 + (2 * 3 + 4) and summary["density_g_cm3"] == pytest.approx(0.8)
    assert read_data(out).n_atoms == summary["atoms"]


def test_workflow_job_writes_data_log_and_provenance(tmp_path):
    from lipsglass.stages.build import build_glass_job

    out = tmp_path / "build" / "initial.data"
    build_glass_job(glass="g", units={"PS4": 2, "P2S6": 1}, forcefield="ariga2022",
                    build_config={"seed": 4, "density_g_cm3": 0.9, "min_distance_A": 2.2}, out_data=str(out),
                    out_provenance=str(tmp_path / "build" / "provenance.json"), log=str(tmp_path / "build.log"))
    assert read_data(out).n_atoms == 2 * 5 + 8 + (2 * 3 + 4)
    assert not (tmp_path / "build" / "initial.data.partial").exists()
    record = json.loads((tmp_path / "build" / "provenance.json").read_text())
    assert record["seeds"] == {"build": 4} and record["summary"]["density_g_cm3"] == pytest.approx(0.9)
    with pytest.raises(ValueError, match="min_distance_A"):
        build_glass_job(glass="g", units={"PS4": 1}, forcefield="ariga2022", build_config={"seed": 1, "density_g_cm3": 1.0},
                        out_data=str(out), out_provenance=str(tmp_path / "p.json"), log=str(tmp_path / "l"))


def test_geometric_speciation_of_a_built_glass_equals_its_config():
    """The built topology, read back from geometry alone (lipsglass.speciation), is the declared one."""
    from lipsglass.forcefield import ForceField
    from lipsglass.speciation import speciate

    ff = ForceField.load("ariga2022")
    units = {"PS4": 5, "P2S7": 4, "P2S6": 3, "S": 2}
    # 3 A between units keeps every non-bonded P..S beyond the 2.8 A bond cutoff of the speciation
    built = build_glass(Composition("spec", units), ff, seed=3, density_g_cm3=0.5, min_distance_A=3.0)
    elements = np.array([ff.element(t) for t in built.type_names])
    spec = speciate(built.box, elements, built.wrapped_positions())
    assert spec.counts == {"PS4": 5, "P2S7": 4, "P2S6": 3, "S_free": 2, "other": 0}
