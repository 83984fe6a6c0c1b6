"""Every claim's test calibrated in one place: on a null at its margin (with the correlations of the
study's data) each wrong verdict at most the nominal (1 - level) / 2 plus three Monte Carlo standard
errors; the power on a planted effect measured; docs/claims.md's table equal to what this run measured
(the family modules' own tests add other seeds and the checks that a mis-built test would fail)."""

from pathlib import Path

import pytest

from lipsglass.claims.calibration import SEED, calibration_functions, run_all, table, table_in

# calibration sweeps (Monte Carlo over hundreds of simulated studies): the full suite only
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
CLAIMS = [f"C{k}" for k in range(1, 14)]


@pytest.fixture(scope="module")
def calibrations():
    return {c.claim: c for c in run_all(SEED)}


def test_every_claim_of_the_paper_has_a_calibrated_test():
    assert list(calibration_functions()) == CLAIMS


@pytest.mark.parametrize("claim", CLAIMS)
def test_wrong_verdicts_at_the_margin_stay_within_the_nominal_rate(calibrations, claim):
    c = calibrations[claim]
    assert c.claim == claim and c.n_draws >= 200 and c.nominal == pytest.approx(0.05)
    assert c.false_holds <= c.mc_bound() and c.false_does_not_hold <= c.mc_bound(), c
    assert 0.0 <= c.power <= 1.0 and c.power_of in ("holds", "does not hold")
    assert c.estimand and c.unit and c.margin and c.null and c.planted


def test_the_calibration_table_of_docs_is_what_the_suite_measured(calibrations):
    documented = table_in((REPO / "docs" / "claims.md").read_text())
    assert documented == table([calibrations[c] for c in CLAIMS]), (
        "docs/claims.md differs from the measured calibration: python -m lipsglass claims-calibration --write docs/claims.md")


def test_a_calibration_over_its_bound_is_not_calibrated(calibrations):
    from dataclasses import replace

    c = calibrations["C1"]
    assert not replace(c, false_holds=c.mc_bound() + 0.01).calibrated()
    assert not replace(c, false_does_not_hold=c.mc_bound() + 0.01).calibrated()
