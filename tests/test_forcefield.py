"""Force-field file -> parameters -> LAMMPS commands."""

import itertools

import numpy as np
import pytest

from conftest import reference_file
from lipsglass.forcefield import ForceField, coefficient_commands, evaluate_expression, infer_topology_types
from lipsglass.lammpsio import read_data


@pytest.fixture(scope="module")
def ff():
    return ForceField.load("ariga2022")


def test_charge_expressions_follow_the_published_rules(ff):
    q = ff.charges()
    # hand-derived: q_S4 = -(3*0.61 + 0.546416)/4
    assert q["S4"] == pytest.approx(-0.594104, abs=1e-12)
    assert q["S2"] == pytest.approx(-(2 * 0.61 + 0.601676) / 3, abs=1e-15)
    assert q["Sc"] / q["S1"] == pytest.approx(0.640098, rel=1e-12)
    assert q["S0"] == pytest.approx(-1.22)


@pytest.mark.parametrize("unit,atoms,n_li", [
    ("PS4", {"P4": 1, "S4": 4}, 3),
    ("P2S7", {"Pa": 2, "S1": 6, "Sc": 1}, 4),
    ("P2S6", {"P2": 2, "S2": 6}, 4),
    ("S", {"S0": 1}, 2),
])
def test_every_unit_is_neutral_with_its_li(ff, unit, atoms, n_li):
    q = ff.charges()
    total = sum(n * q[t] for t, n in atoms.items()) + n_li * q["Li"]
    assert total == pytest.approx(0.0, abs=1e-12)
    assert ff.anions[unit]["charge"] == -n_li


def test_sixthpower_mixing(ff):
    e1, s1 = ff.raw["pair"]["lj96_self"]["P4"]
    e2, s2 = ff.raw["pair"]["lj96_self"]["S4"]
    eps, sig = ff.lj96("P4", "S4")
    assert sig == pytest.approx(((s1**6 + s2**6) / 2) ** (1 / 6))
    assert eps == pytest.approx(2 * np.sqrt(e1 * e2) * s1**3 * s2**3 / (s1**6 + s2**6))
    assert ff.lj96("S4", "S4") == pytest.approx((e2, s2))   # i-i reduces to the self term
    assert ff.lj96("S1", "Sc") == pytest.approx(ff.lj96("Sc", "S1"), rel=1e-12)
    assert ff.lj96("Li", "S2") == pytest.approx((0.761, 2.87451), rel=1e-12)   # explicit Li pairs win


def test_expression_evaluator_rejects_code():
    assert evaluate_expression("-(2*a + b)/3", {"a": 1.0, "b": 1.0}) == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        evaluate_expression("__import__('os')", {})
    with pytest.raises(ValueError):
        evaluate_expression("c + 1", {})


def _parse_sw(text, aliases=None):
    aliases = aliases or {}
    table = {}
    for line in text.splitlines():
        line = line.split("#")[0].split()
        if len(line) == 14:
            key = tuple(aliases.get(x, x) for x in line[:3])
            table[key] = tuple(float(v) for v in line[3:])
    return table


def test_sw_table_equals_the_distributed_file(ff):
    ours = _parse_sw(ff.sw_table())
    theirs = _parse_sw((reference_file("Li-S.sw")).read_text(), aliases={"S": "S0"})
    names = ff.sw_names()
    assert len(ours) == len(names) ** 3
    for key, values in theirs.items():
        assert ours[key] == pytest.approx(values), key
    # entries the distributed file omits (S0 with S1/S2/Sc) must be zero in ours
    for key in set(ours) - set(theirs):
        assert not any(ours[key]), key


def test_coefficient_commands_cover_every_pair_and_term(ff):
    topo = ff.default_topology_types()
    cmds = coefficient_commands(ff, topo, "ff.sw")
    n = len(topo.atom)
    pair = [c for c in cmds if c.startswith("pair_coeff") and "lj/class2" in c]
    assert len(pair) == n * (n + 1) // 2
    sw = [c for c in cmds if " sw " in c]
    assert sw == ["pair_coeff * * sw ff.sw Li NULL S4 NULL S1 Sc NULL S2 S0"]
    k = topo.angle.index("S1-Pa-Sc") + 1
    assert f"angle_coeff {k} bb 11.4089 2.07712 2.13569" in cmds
    assert f"angle_coeff {k} ba 17.8438 24.848 2.07712 2.13569" in cmds
    assert any(c.startswith("kspace_style pppm 1e-05") for c in cmds)


def test_topology_types_are_inferred_from_atom_types(ff):
    data = read_data(reference_file("70Li2S-30P2S5.data"))
    topo = infer_topology_types(data, ["P2", "S2", "Pa", "S1", "Sc", "P4", "S4", "Li"], ff)
    # the data file's own Bond/Angle Coeffs sections identify the types (r0 / theta0)
    assert topo.bond == ["P2-S2", "Pa-S1", "Pa-Sc", "P4-S4", "P2-P2"]
    assert topo.angle == ["P2-P2-S2", "S2-P2-S2", "Pa-Sc-Pa", "S1-Pa-S1", "S1-Pa-Sc", "S4-P4-S4"]
    assert topo.dihedral == ["S2-P2-P2-S2", "S1-Pa-Sc-Pa"]


def test_unknown_type_is_a_clear_error(ff):
    with pytest.raises(KeyError, match="not in force field"):
        ff.canonical_type("Xx")
