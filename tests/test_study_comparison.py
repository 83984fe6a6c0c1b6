"""Two studies compared within their SEs (lipsglass.study_comparison): the quantities read from a
study's files, the false-disagreement rate on a null with correlated quantities, the power on a
planted shift."""

import json

import numpy as np
import pytest

from lipsglass.core.tables import write_rows
from lipsglass.study_comparison import (FAMILY_LEVEL, Difference, Estimate, agreement, bonferroni_z, compare,
                                        se_from_interval, study_quantities)


def _study(root, d_500, tg_resolved=True):
    results = root / "results"
    (results / "G1" / "transport").mkdir(parents=True)
    write_rows(results / "G1" / "transport" / "diffusion.csv",
               ["T_K", "D_cm2_s", "D_stderr_cm2_s", "sigma_NE_S_cm", "sigma_NE_stderr_S_cm"],
               [[300.0, 1e-6, 2e-7, 0.1, 0.02], [500.0, d_500, 1e-6, 0.6, ""]])
    (results / "G1" / "tg.json").write_text(json.dumps({
        "glass_density": {"mean_g_cm3": 1.81, "stderr_g_cm3": 0.006},
        "volume": {"resolved": tg_resolved, "Tg_K": 675.0, "Tg_stderr_K": 100.0},
        "enthalpy": {"resolved": False, "Tg_K": None, "Tg_stderr_K": None}}))
    (results / "summary").mkdir()
    write_rows(results / "summary" / "x_claims.csv",
               ["claim", "estimand", "estimate", "ci_low", "ci_high", "level", "value_unit"],
               [["C3", "accuracy", 0.66, 0.64, 0.68, 0.9, "fraction"], ["C1", "slope", "", "", "", "", "eV"]])
    return root


def test_a_study_gives_every_quantity_with_an_se_and_nothing_without(tmp_path):
    q = study_quantities(_study(tmp_path / "a", 1e-5))
    assert set(q) == {"G1 D(Li) 300 K", "G1 D(Li) 500 K", "G1 sigma_NE 300 K", "G1 glass density",
                      "G1 Tg (volume)", "C3 estimate (accuracy)"}
    assert q["C3 estimate (accuracy)"].se == pytest.approx(0.02 / 1.6448536, rel=1e-6)
    assert q["G1 D(Li) 500 K"] == Estimate(1e-5, 1e-6, "cm^2/s")


def test_quantities_of_one_study_only_are_listed_not_compared(tmp_path):
    a = study_quantities(_study(tmp_path / "a", 1e-5))
    b = study_quantities(_study(tmp_path / "b", 1.2e-5, tg_resolved=False))
    diffs, only_one = compare(a, b)
    assert only_one == ["G1 Tg (volume)"]
    d = {x.quantity: x for x in diffs}["G1 D(Li) 500 K"]
    assert d.z == pytest.approx(2e-6 / np.hypot(1e-6, 1e-6))


def test_interval_to_se_inverts_a_normal_interval():
    assert se_from_interval(-1.959964, 1.959964, 0.95) == pytest.approx(1.0, rel=1e-6)


def _pairs(rng, n, planted_z=0.0, rho=0.5):
    """``n`` quantities measured twice with SE 1, their errors correlated (rho) across quantities
    within a study, as the quantities of one study are (one set of glasses); the first one shifted
    by ``planted_z`` combined SEs in the second study."""
    cov = np.full((n, n), rho) + (1 - rho) * np.eye(n)
    a = rng.multivariate_normal(np.zeros(n), cov)
    b = rng.multivariate_normal(np.zeros(n), cov)
    b[0] += planted_z * np.sqrt(2.0)
    return [Difference(f"q{i}", "-", a[i], 1.0, b[i], 1.0) for i in range(n)]


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_false_disagreement_rate_on_a_null_is_within_the_family_level(rho):
    rng = np.random.default_rng(2028)
    trials = 2000
    fails = sum(not agreement(_pairs(rng, 40, rho=rho))["passed"] for _ in range(trials))
    rate = fails / trials
    # Bonferroni: <= 1 - level; 3 binomial SEs of Monte Carlo margin
    assert rate <= (1 - FAMILY_LEVEL) + 3 * np.sqrt(0.05 * 0.95 / trials), rate


def test_a_planted_shift_of_five_se_in_one_of_forty_quantities_is_found():
    rng = np.random.default_rng(2029)
    trials = 500
    found = sum(not agreement(_pairs(rng, 40, planted_z=5.0))["passed"] for _ in range(trials))
    # bound 3.22 for 40 tests: a 5-SE shift passes it with probability Phi(5 - 3.22) ~ 0.96
    assert found / trials >= 0.9, found / trials


def test_the_bound_grows_with_the_family():
    assert bonferroni_z(1) == pytest.approx(1.959964, rel=1e-5)
    assert bonferroni_z(40) > bonferroni_z(10) > bonferroni_z(1)
    assert agreement([])["passed"] is None
