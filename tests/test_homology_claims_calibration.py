"""Calibration of the C11 and C12 decisions (lipsglass.claims.homology.CALIBRATIONS) on the study's
own 792-atom glass (tests/data/glasses), with the shipped margins and level of config/config.yaml:
on a null at the margin with the data's correlations each wrong verdict at most the nominal
(1 - level) / 2 plus three Monte Carlo standard errors; power on a planted effect. The numbers
are printed (pytest -s) for docs/claims.md.

C12's null: Gaussian softness fields with correlation length 8 A on the glass' 258 Li, its real
ring-size classes (29 tested), every class at the margin (false "does not hold"); one class at the
margin (false "holds"), also on a sub-family where "holds" is reachable. C11's: five glasses whose
"large-ring atoms" are the real set placed at random on the network (same size and clustering),
their mean excess on the margin.
"""

from __future__ import annotations

import numpy as np
import pytest

from lipsglass.claims import homology as claims
from lipsglass.claims.verdict import DOES_NOT_HOLD, HOLDS

# calibration sweeps (Monte Carlo over hundreds of simulated studies): the full suite only
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("claim", ["C11", "C12"])
def test_wrong_verdicts_at_the_margin_stay_at_the_nominal_rate(claim):
    cal = claims.CALIBRATIONS[claim](seed=2027)
    print(cal)
    assert cal.n_draws >= 200 and cal.nominal == pytest.approx((1 - claims.shipped_criteria()["level"]) / 2)
    assert cal.calibrated(), f"{claim}: false holds {cal.false_holds}, false does not hold " \
                             f"{cal.false_does_not_hold} above {cal.mc_bound():.3f}"
    if claim == "C11":
        # mean excess 2x the margin over 5 glasses: t interval half width ~0.06 at the placements' spread
        assert cal.power >= 0.75
    else:
        # +0.5 sd on the 58 Li of the largest ring size: se ~0.25 sd at this cell, so the test sees
        # almost nothing (issue #27: +0.3 sd found 2.5 % of the time); the test below shows that it
        # finds what the cell resolves
        assert cal.power <= 0.2


def test_c12_finds_an_effect_the_cell_resolves_and_holds_when_none_is_there():
    """On the calibration glass with 8 A Gaussian fields: a class of many Li (the most Li short of
    every Li, se ~0.05 sd) raised to d = 0.75 sd gives "does not hold" in most draws, and with
    every class at 0 the claim never "holds" at this cell (the widest class' c x se exceeds the
    margin): the verdict is "not tested", not a hold by non-rejection."""
    from lipsglass.homology.ring_softness import ring_softness_by_size, shift_indices

    criteria = claims.shipped_criteria()
    glass = claims.calibration_glass()
    rng = np.random.default_rng(31)
    box, li_pos, coverage = glass["box"], glass["positions"][glass["li"]], glass["coverage"]
    n_li = len(li_pos)
    cos, sin = claims.gaussian_field_modes(box, li_pos, claims.CORRELATION_LENGTH_A)
    target = max((s for s, v in coverage.items() if len(v) <= 0.6 * n_li), key=lambda s: len(coverage[s]))
    shift = claims._planted_shift(0.75, len(coverage[target]) / n_li)
    found, held = 0, 0
    shifts = shift_indices(box, li_pos, 499, rng)
    for _ in range(60):
        f = cos @ rng.standard_normal(cos.shape[1]) + sin @ rng.standard_normal(sin.shape[1])
        f = (f - f.mean()) / f.std()
        null = claims.c12_decision({"g": ring_softness_by_size(coverage, f, shifts)}, criteria["C12"]["margin_sd"],
                                   criteria["C12"]["min_li"], criteria["level"])
        held += null["verdict"] == HOLDS
        f[coverage[target]] += shift
        res = claims.c12_decision({"g": ring_softness_by_size(coverage, f, shifts)}, criteria["C12"]["margin_sd"],
                                  criteria["C12"]["min_li"], criteria["level"])
        found += res["verdict"] == DOES_NOT_HOLD
    assert found >= 48 and held == 0, (found, held)


def test_the_calibration_glass_is_the_real_pipeline():
    glass = claims.calibration_glass()
    assert glass["n_atoms"] == 792 and len(glass["li"]) == 258 and len(glass["pool"]) == 534
    tested = [s for s, v in glass["coverage"].items() if 20 <= len(v) < 258]
    assert len(tested) >= 20 and max(tested) > 30              # many ring sizes compete, up to large rings
    assert 0 < len(glass["large"]) < len(glass["pool"])
    # the atom contributions add up to the network's share of S(q) in the window: all atoms' sum is S
    c = glass["contribution"]
    assert np.isfinite(c).all() and c[glass["pool"]].mean() > 0
