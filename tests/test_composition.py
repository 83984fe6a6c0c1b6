"""Composition -> counts and neutrality (the paper's table in ../shared/STUDY.md)."""

import pytest

from lipsglass.composition import Composition
from lipsglass.forcefield import ForceField

# (PS4, P2S7, P2S6) -> (Li, P, S, atoms, S/Li): the study's composition table
PAPER_TABLE = [
    ((180, 360, 150), (2580, 1200, 4140, 7920, 1.6047)),
    ((180, 390, 120), (2580, 1200, 4170, 7950, 1.6163)),
    ((180, 420, 90), (2580, 1200, 4200, 7980, 1.6279)),
    ((180, 450, 60), (2580, 1200, 4230, 8010, 1.6395)),
    ((180, 480, 30), (2580, 1200, 4260, 8040, 1.6512)),
]


@pytest.mark.parametrize("units,expected", PAPER_TABLE)
def test_paper_compositions(units, expected):
    c = Composition("g", dict(zip(("PS4", "P2S7", "P2S6"), units)))
    li, p, s, atoms, y = expected
    assert (c.n_Li, c.n_P, c.n_S, c.n_atoms) == (li, p, s, atoms)
    assert c.n_S / c.n_Li == pytest.approx(y, abs=5e-5)
    assert c.n_P / c.n_Li == pytest.approx(0.465, abs=5e-4)
    assert c.fraction_of_P()["PS4"] == pytest.approx(0.15)


def test_li_follows_neutrality_with_free_sulfur():
    c = Composition("g", {"PS4": 2, "S": 3})
    assert c.n_Li == 2 * 3 + 3 * 2
    assert c.net_charge(ForceField.load("ariga2022")) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("units,message", [
    ({"PS4": -1}, "non-negative integer"),
    ({"PS4": 1.5}, "non-negative integer"),
    ({"S": 4}, "has no P"),
    ({"P3S9": 1}, "unknown anion units"),
])
def test_bad_compositions_are_rejected(units, message):
    with pytest.raises(ValueError, match=message):
        Composition("bad", units)


# ---- a glass from its measured speciation (python -m lipsglass composition) ----

import itertools
import subprocess
import sys

import yaml

from lipsglass.composition import units_from_p_fractions


def _counts(units):
    """Li, P, S and atoms of unit counts, by hand: PS4 3-, P2S7 4-, P2S6 4-."""
    ps4, p2s7, p2s6 = (units.get(u, 0) for u in ("PS4", "P2S7", "P2S6"))
    li = 3 * ps4 + 4 * p2s7 + 4 * p2s6
    p = ps4 + 2 * p2s7 + 2 * p2s6
    s = 4 * ps4 + 7 * p2s7 + 6 * p2s6
    return li, p, s, li + p + s


def _composition_cli(*args):
    proc = subprocess.run([sys.executable, "-m", "lipsglass", "composition", *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_default_glass_from_its_speciation():
    out = _composition_cli("--PS4", "0.15", "--P2S7", "0.60", "--P2S6", "0.25", "--atoms", "800", "--name", "P2S6-25")
    config = yaml.safe_load(out)
    assert config == {"compositions": {"P2S6-25": {"units": {"PS4": 18, "P2S7": 36, "P2S6": 15}}}}
    assert "792 (asked for about 800): Li 258, P 120, S 414" in out
    assert "LiP0.465S1.605" in out
    assert "Li2S:P2S5: 68:32" in out  # 258 / (258 + 120) = 0.683
    assert "total 0 e (formal)" in out


def test_a_second_glass_with_its_counts_charge_and_total():
    out = _composition_cli("--PS4", "0.30", "--P2S7", "0.50", "--P2S6", "0.20", "--name", "mine", "--select")
    config = yaml.safe_load(out)
    units = config["compositions"]["mine"]["units"]
    assert config["glasses"] == ["mine"]
    li, p, s, atoms = _counts(units)
    ps4, p2s7, p2s6 = units["PS4"], units["P2S7"], units["P2S6"]
    assert (ps4 / p, 2 * p2s7 / p, 2 * p2s6 / p) == pytest.approx((0.30, 0.50, 0.20), abs=0.005)
    assert li - 3 * ps4 - 4 * (p2s7 + p2s6) == 0  # neutral
    assert f"atoms: {atoms} (asked for about 800): Li {li}, P {p}, S {s}" in out
    assert f"LiP{p / li:.3f}S{s / li:.3f}" in out
    assert abs(atoms - 800) <= 30
    assert f"Li2S:P2S5: {round(100 * li / (li + p))}:" in out


@pytest.mark.parametrize("fractions,target", [
    ({"PS4": 0.15, "P2S7": 0.60, "P2S6": 0.25}, 800),
    ({"PS4": 0.30, "P2S7": 0.50, "P2S6": 0.20}, 800),
    ({"PS4": 0.22, "P2S7": 0.41, "P2S6": 0.37}, 2000),
    ({"PS4": 0.5, "P2S6": 0.5}, 500),
    ({"P2S7": 1.0}, 800),
])
@pytest.mark.slow
def test_the_cell_nearest_the_target_that_keeps_the_fractions(fractions, target):
    """Brute force over every unit triple up to twice the target: for each P count the triple with
    the nearest P fractions (largest deviation, then sum of squares); of those within 0.005 of the
    asked fractions, none lies nearer the target atom count."""
    units = units_from_p_fractions(fractions, target)
    li, p, s, atoms = _counts(units)
    share = {"PS4": units.get("PS4", 0) / p, "P2S7": 2 * units.get("P2S7", 0) / p, "P2S6": 2 * units.get("P2S6", 0) / p}
    assert all(abs(share[u] - fractions.get(u, 0.0)) <= 0.005 + 1e-12 for u in share)
    want = tuple(fractions.get(u, 0.0) for u in ("PS4", "P2S7", "P2S6"))
    nearest_by_p = {}  # P count -> (deviation key, atoms) of its nearest triple
    limit = 2 * target
    for ps4, p2s7, p2s6 in itertools.product(range(limit // 8 + 1), range(limit // 13 + 1), range(limit // 12 + 1)):
        n_p = ps4 + 2 * p2s7 + 2 * p2s6
        if n_p == 0 or 8 * ps4 + 13 * p2s7 + 12 * p2s6 > limit:
            continue
        dev = [abs(a - b) for a, b in zip((ps4 / n_p, 2 * p2s7 / n_p, 2 * p2s6 / n_p), want)]
        key = (max(dev), sum(d * d for d in dev))
        if n_p not in nearest_by_p or key < nearest_by_p[n_p][0]:
            nearest_by_p[n_p] = (key, 8 * ps4 + 13 * p2s7 + 12 * p2s6)
    gaps = [abs(n_atoms - target) for (error, _), n_atoms in nearest_by_p.values() if error <= 0.005 + 1e-12]
    assert abs(atoms - target) == min(gaps)


def test_speciation_that_does_not_add_up_is_refused():
    with pytest.raises(ValueError, match="must sum to 1"):
        units_from_p_fractions({"PS4": 0.3, "P2S7": 0.5, "P2S6": 0.3}, 800)
    with pytest.raises(ValueError, match="unknown units"):
        units_from_p_fractions({"P4S10": 1.0}, 800)
