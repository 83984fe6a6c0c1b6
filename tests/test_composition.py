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
