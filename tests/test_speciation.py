"""Speciation from geometry: hand-built units with known answers, and every reference model
whose bond topology (not used by the analysis) gives the true units."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial.transform import Rotation

from conftest import TEST_DATA, reference_file
from lipsglass import cli
from lipsglass.lammpsio import Box, read_data, write_dump_frame
from lipsglass.speciation import anion_groups, classify_units, find_bonds, speciate

SHARED = Path(__file__).parents[2] / "shared"
REFERENCE = SHARED / "reference" / "ariga2022"
needs_shared = pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"{REFERENCE} absent (no ../shared beside the repo)")

TETRA = np.degrees(np.arccos(-1.0 / 3.0))  # 109.47 deg
D_PS_TERMINAL = 2.05  # A, typical P-S(terminal) bond
D_PS_BRIDGE = 2.25  # A, P-S(bridging)
D_PP = 2.25  # A, P-P in P2S6


def _tetra_others(centre, first_dir, bond, phase=0.0):
    """The three other ligands of a tetrahedron whose first ligand lies along first_dir."""
    u = np.asarray(first_dir, float) / np.linalg.norm(first_dir)
    e1 = np.cross(u, [1.0, 0.0, 0.0] if abs(u[0]) < 0.9 else [0.0, 1.0, 0.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(u, e1)
    th = np.radians(TETRA)
    out = []
    for k in range(3):
        ph = phase + 2.0 * np.pi * k / 3.0
        d = np.cos(th) * u + np.sin(th) * (np.cos(ph) * e1 + np.sin(ph) * e2)
        out.append(np.asarray(centre) + bond * d)
    return out


def build_ps4():
    p = np.zeros(3)
    s = [p + D_PS_TERMINAL * np.array([0, 0, 1.0])] + _tetra_others(p, [0, 0, 1.0], D_PS_TERMINAL)
    return ["P"] + ["S"] * 4, np.array([p] + s)


def build_p2s7(angle_deg=115.0):
    """Two PS4 tetrahedra sharing the bridging S at the origin, P-Sb-P angle ``angle_deg``."""
    h = np.radians(angle_deg) / 2.0
    sb = np.zeros(3)
    p1 = sb + D_PS_BRIDGE * np.array([-np.sin(h), -np.cos(h), 0.0])
    p2 = sb + D_PS_BRIDGE * np.array([np.sin(h), -np.cos(h), 0.0])
    t1 = _tetra_others(p1, sb - p1, D_PS_TERMINAL)
    t2 = _tetra_others(p2, sb - p2, D_PS_TERMINAL, phase=np.pi / 3)
    return ["S", "P", "P"] + ["S"] * 6, np.array([sb, p1, p2] + t1 + t2)


def build_p2s6():
    """P-P bond along z, three terminal S on each P, staggered."""
    p1, p2 = np.zeros(3), np.array([0.0, 0.0, D_PP])
    t1 = _tetra_others(p1, p2 - p1, D_PS_TERMINAL)
    t2 = _tetra_others(p2, p1 - p2, D_PS_TERMINAL, phase=np.pi / 3)
    return ["P", "P"] + ["S"] * 6, np.array([p1, p2] + t1 + t2)


def build_edge_sharing_p2s6():
    """Edge-sharing P2S6(2-): composition P2S6 but no P-P bond (two bridging S) -> 'other'."""
    p1, p2 = np.array([-1.6, 0, 0]), np.array([1.6, 0, 0])
    y = np.sqrt(D_PS_BRIDGE ** 2 - 1.6 ** 2)
    sb = [np.array([0, y, 0]), np.array([0, -y, 0])]
    a = np.radians(55.0)
    term = [p1 + D_PS_TERMINAL * np.array([-np.cos(a), 0, z * np.sin(a)]) for z in (1, -1)]
    term += [p2 + D_PS_TERMINAL * np.array([np.cos(a), 0, z * np.sin(a)]) for z in (1, -1)]
    return ["P", "P"] + ["S"] * 6, np.array([p1, p2] + sb + term)


def assemble(parts, box_length=20.0, seed=1):
    """Place (elements, local coordinates, centre) parts in a cubic box, each randomly rotated
    about its first atom, and wrap into the box. Returns box, elements, positions, part index."""
    rng = np.random.default_rng(seed)
    els, pos, part = [], [], []
    for k, (e, x, centre) in enumerate(parts):
        rot = Rotation.random(random_state=rng).as_matrix()
        x = (np.asarray(x) - x[0]) @ rot.T + centre
        els += list(e)
        pos.append(x)
        part += [k] * len(e)
    box = Box(np.zeros(3), np.full(3, box_length))
    return box, np.array(els), box.wrap(np.vstack(pos)), np.array(part)


def mixed_system():
    return assemble([
        (*build_p2s7(), np.array([0.3, 0.2, 19.9])),  # straddles the periodic corner
        (*build_p2s6(), np.array([10.0, 10.0, 10.0])),
        (*build_ps4(), np.array([10.0, 0.5, 3.0])),  # across the y boundary
        (["S"], np.zeros((1, 3)), np.array([4.0, 12.0, 6.0])),
        (["Li"], np.zeros((1, 3)), np.array([15.0, 5.0, 15.0])),
        (["Li"], np.zeros((1, 3)), np.array([3.0, 10.0, 14.0])),
    ])


def test_hand_built_units_across_periodic_boundaries():
    box, el, pos, part = mixed_system()
    spec = speciate(box, el, pos)
    assert spec.counts == {"PS4": 1, "P2S7": 1, "P2S6": 1, "S_free": 1, "other": 0}
    assert spec.fraction_of_P == pytest.approx({"PS4": 0.2, "P2S7": 0.4, "P2S6": 0.4, "other": 0.0})
    expected_unit = np.array(["P2S7"] * 9 + ["P2S6"] * 8 + ["PS4"] * 5 + ["S_free", "Li", "Li"])
    assert list(spec.unit) == list(expected_unit)
    # the bridging S is atom 0 (built first in P2S7); every other S of an anion is terminal
    assert np.flatnonzero(spec.role == "S_bridging").tolist() == [0]
    assert np.sum(spec.role == "S_terminal") == 6 + 6 + 4
    assert spec.role[22] == "S_free" and list(spec.role[23:]) == ["Li", "Li"]
    # one unit index per built unit, -1 for Li
    for k in range(4):
        assert len(set(spec.unit_index[part == k])) == 1
    assert len(set(spec.unit_index[part < 4])) == 4
    assert spec.unit_index[part >= 4].tolist() == [-1, -1]
    # 8 P-S + 6 P-S + 1 P-P + 4 P-S bonds, lengths as built
    assert len(spec.bonds) == 19
    assert spec.bond_lengths.min() == pytest.approx(D_PS_TERMINAL)
    assert spec.bond_lengths.max() == pytest.approx(D_PS_BRIDGE)
    groups = anion_groups(spec)
    assert groups["S_P2S7"].tolist() == [0] + list(range(3, 9))
    assert groups["P_P2S6"].tolist() == [9, 10] and groups["Li"].tolist() == [23, 24]


@pytest.mark.parametrize("angle", [100.0, 140.0])
def test_p2s7_bridge_angle_does_not_matter(angle):
    box, el, pos, _ = assemble([(*build_p2s7(angle), np.array([10.0, 10.0, 10.0]))])
    spec = speciate(box, el, pos)
    assert spec.counts["P2S7"] == 1 and spec.counts["other"] == 0


def test_other_units_are_counted_not_dropped():
    el_ps4, x_ps4 = build_ps4()
    ps3 = (el_ps4[:4], x_ps4[:4])  # one S removed
    box, el, pos, _ = assemble([
        (*ps3, np.array([5.0, 5.0, 5.0])),
        (*build_edge_sharing_p2s6(), np.array([14.0, 14.0, 14.0])),
        (*build_ps4(), np.array([5.0, 14.0, 5.0])),
    ])
    spec = speciate(box, el, pos)
    assert spec.counts == {"PS4": 1, "P2S7": 0, "P2S6": 0, "S_free": 0, "other": 2}
    assert spec.other_units == {"P1S3": 1, "P2S6": 1}
    assert spec.fraction_of_P == pytest.approx({"PS4": 0.25, "P2S7": 0.0, "P2S6": 0.0, "other": 0.75})
    assert np.sum(spec.role == "S_bridging") == 2


def test_cutoffs_are_honoured_and_validated():
    box, el, pos, _ = mixed_system()
    # below every built bond length: no bonds, every S is free, every P is an 'other' unit
    spec = speciate(box, el, pos, p_s_cutoff=1.9, p_p_cutoff=1.9)
    assert spec.counts == {"PS4": 0, "P2S7": 0, "P2S6": 0, "S_free": 18, "other": 5}
    # P-P cutoff below the P-P bond only: P2S6 splits into two PS3 fragments
    spec = speciate(box, el, pos, p_p_cutoff=2.0)
    assert spec.counts["P2S6"] == 0 and spec.other_units == {"P1S3": 2}
    with pytest.raises(ValueError, match="positive"):
        speciate(box, el, pos, p_s_cutoff=-1.0)
    with pytest.raises(ValueError, match="elements"):
        speciate(box, el[:-1], pos)
    with pytest.raises(ValueError, match="only join P and S"):
        classify_units(el, np.array([[0, 23]]))


def test_cli_on_dump_with_and_without_element_column(tmp_path):
    box, el, pos, _ = mixed_system()
    n = len(el)
    type_of = {"P": 1, "S": 2, "Li": 3}
    with_el = tmp_path / "with_element.dump"
    no_el = tmp_path / "types_only.dump"
    with open(with_el, "w") as fh:
        write_dump_frame(fh, 0, box, {"id": np.arange(1, n + 1), "element": el,
                                      "x": pos[:, 0], "y": pos[:, 1], "z": pos[:, 2]})
    with open(no_el, "w") as fh:
        for step in (0, 100):  # two frames; --frame -1 takes the last
            write_dump_frame(fh, step, box, {"id": np.arange(1, n + 1), "type": [type_of[e] for e in el],
                                             "x": pos[:, 0], "y": pos[:, 1], "z": pos[:, 2]})
    for argv in (["speciation", str(with_el)],
                 ["speciation", str(no_el), "--type-elements", "P,S,Li", "--frame", "-1",
                  "--atoms-out", str(tmp_path / "atoms.csv")]):
        buf = io.StringIO()
        with redirect_stdout(buf):
            assert cli.main(argv) == 0
        out = json.loads(buf.getvalue())
        assert out["units"] == {"PS4": 1, "P2S7": 1, "P2S6": 1, "S_free": 1, "other": 0}
        assert out["fraction_of_P"]["P2S6"] == pytest.approx(0.4)
    rows = (tmp_path / "atoms.csv").read_text().splitlines()
    assert rows[0] == "id,element,unit,role,unit_index" and rows[1].startswith("1,S,P2S7,S_bridging,")
    err = io.StringIO()
    with redirect_stderr(err):
        assert cli.main(["speciation", str(no_el)]) == 2   # bad input: one-line error, exit 2
    assert "type-elements" in err.getvalue()


# ---------------------------------------------------------------- reference models

def _truth_from_topology(data):
    """Units implied by the data file's bond topology: connected components of its bond graph
    classified by composition (P count, S count, P-P bonds)."""
    el = data.elements()
    index = np.full(data.ids.max() + 1, -1)
    index[data.ids] = np.arange(data.n_atoms)
    a, b = index[data.bonds[:, 1]], index[data.bonds[:, 2]]
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(data.n_atoms, data.n_atoms))
    _, comp = connected_components(graph, directed=False)
    counts = {"PS4": 0, "P2S7": 0, "P2S6": 0, "S_free": 0, "other": 0}
    unit_of_comp = {}
    pp = (el[a] == "P") & (el[b] == "P")
    for c in np.unique(comp[(el == "P") | (el == "S")]):
        members = comp == c
        key = (int(np.sum(el[members] == "P")), int(np.sum(el[members] == "S")), int(np.sum(pp & (comp[a] == c))))
        unit = {(1, 4, 0): "PS4", (2, 7, 0): "P2S7", (2, 6, 1): "P2S6", (0, 1, 0): "S_free"}.get(key, "other")
        counts[unit] += 1
        unit_of_comp[c] = unit
    per_atom = np.where(el == "Li", "Li", np.array([unit_of_comp.get(c, "") for c in comp], dtype=object))
    return counts, per_atom.astype(str), {tuple(sorted(p)) for p in zip(a.tolist(), b.tolist())}


# the carried models (tests/data/ariga2022: the 70:30 glass and the crystal cells), and the
# 67:33 and 75:25 glasses when ../shared is present
CARRIED = sorted({p.name.removesuffix(".gz") for p in TEST_DATA.glob("*.data*")})
REFERENCE_MODELS = CARRIED + [pytest.param(name, marks=needs_shared) for name in
                              ("67Li2S-33P2S5.data", "75Li2S-25P2S5.data")]


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_reference_model_speciation_matches_topology(name):
    data = read_data(reference_file(name))
    truth, unit_truth, bonds_truth = _truth_from_topology(data)
    spec = speciate(data.box, data.elements(), data.positions)
    assert {tuple(p) for p in spec.bonds.tolist()} == bonds_truth  # every bond found, none extra
    assert spec.counts == truth
    assert list(spec.unit) == list(unit_truth)
    n_p = int(np.sum(data.elements() == "P"))
    assert spec.fraction_of_P["PS4"] == pytest.approx(truth["PS4"] / n_p)
    assert spec.fraction_of_P["P2S7"] == pytest.approx(2 * truth["P2S7"] / n_p)
    assert spec.fraction_of_P["P2S6"] == pytest.approx(2 * truth["P2S6"] / n_p)
    if name.endswith("P2S5.data"):
        # glass type order (README): 1 P2, 2 S2, 3 Pa, 4 S1, 5 Sc, 6 P4, 7 S4, 8 Li
        t = data.types
        assert spec.counts["PS4"] == np.sum(t == 6)
        assert spec.counts["P2S7"] * 2 == np.sum(t == 3)
        assert spec.counts["P2S6"] * 2 == np.sum(t == 1)
        assert np.array_equal(spec.role == "S_bridging", t == 5)
        assert np.array_equal(spec.role == "S_terminal", np.isin(t, (2, 4, 7)))


def test_reference_70_30_glass_known_numbers():
    data = read_data(reference_file("70Li2S-30P2S5.data"))
    spec = speciate(data.box, data.elements(), data.positions)
    assert spec.counts == {"PS4": 201, "P2S7": 413, "P2S6": 91, "S_free": 0, "other": 0}
    # the default cutoffs sit inside the gap between bonded and non-bonded distances: any
    # cutoff from 2.6 A to 3.0 A finds exactly the same bonds
    el, box, pos = data.elements(), data.box, data.positions
    for cut in (2.6, 3.0):
        bonds, _ = find_bonds(box, el, pos, cut, cut)
        assert np.array_equal(bonds, spec.bonds)
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert cli.main(["speciation", str(reference_file("70Li2S-30P2S5.data"))]) == 0
    out = json.loads(buf.getvalue())
    assert out["units"] == {"PS4": 201, "P2S7": 413, "P2S6": 91, "S_free": 0, "other": 0}
    assert out["fraction_of_P"]["PS4"] == pytest.approx(201 / 1209)
