"""Two studies compared within their SEs (lipsglass.study_comparison): the quantities read from a
study's files, the false-disagreement rate on a null with correlated quantities, the power on a
planted shift."""

import json

import numpy as np
import pytest

from lipsglass.core.tables import write_rows
from lipsglass.study_comparison import (FAMILY_LEVEL, Difference, Estimate, agreement, compare, se_from_interval,
                                        study_quantities, welch_dof)


def _study(root, d_500, tg_resolved=True):
    results = root / "results"
    (results / "G1" / "transport").mkdir(parents=True)
    write_rows(results / "G1" / "transport" / "diffusion.csv",
               ["T_K", "D_cm2_s", "D_stderr_cm2_s", "sigma_NE_S_cm", "sigma_NE_stderr_S_cm"],
               [[300.0, 1e-6, 2e-7, 0.1, 0.02], [500.0, d_500, 1e-6, 0.6, ""]])
    with open(results / "G1" / "transport" / "diffusion.csv") as fh:     # the replica count column
        text = fh.read().splitlines()
    text = [text[0] + ",n_replicas"] + [line + ",2" for line in text[1:]]
    (results / "G1" / "transport" / "diffusion.csv").write_text("\n".join(text) + "\n")
    (results / "G1" / "tg.json").write_text(json.dumps({
        "glass_density": {"mean_g_cm3": 1.81, "stderr_g_cm3": 0.006, "n_replicas": 2},
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
    assert q["G1 D(Li) 500 K"] == Estimate(1e-5, 1e-6, "cm^2/s", 1.0, "G1", "D(Li) 500 K")
    assert q["G1 Tg (volume)"].dof == np.inf      # a profile-likelihood SE of one fit


def test_quantities_of_one_study_only_are_listed_not_compared(tmp_path):
    a = study_quantities(_study(tmp_path / "a", 1e-5))
    b = study_quantities(_study(tmp_path / "b", 1.2e-5, tg_resolved=False))
    diffs, only_one = compare(a, b)
    assert only_one == ["G1 Tg (volume)"]
    d = {x.quantity: x for x in diffs}["G1 D(Li) 500 K"]
    assert d.t == pytest.approx(2e-6 / np.hypot(1e-6, 1e-6))
    assert d.dof == pytest.approx(2.0)       # Welch: two SEs of one degree of freedom each
    assert welch_dof(1.0, np.inf, 1.0, np.inf) == np.inf


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


def test_nothing_to_compare_is_no_verdict():
    assert agreement([])["passed"] is None


def _replica_studies(rng, n_glasses=5, replicas=2, shift_sd=0.0):
    """Two studies of ``n_glasses`` glasses, each a mean of ``replicas`` replicas (replica SD 1) with
    its SE from their spread (replicas - 1 dof), glasses at different true values; the second study
    shifted by ``shift_sd`` replica SDs on every glass."""
    truth = rng.normal(0.0, 5.0, n_glasses)
    studies = []
    for shift in (0.0, shift_sd):
        est = {}
        for g in range(n_glasses):
            x = rng.normal(truth[g] + shift, 1.0, replicas)
            est[f"G{g} density"] = Estimate(x.mean(), x.std(ddof=1) / np.sqrt(replicas), "g/cm^3", replicas - 1.0,
                                            f"G{g}", "density")
        studies.append(est)
    return studies


def test_false_disagreement_rate_with_two_replica_ses_is_within_the_family_level():
    """SEs from two replicas are poor (one dof): judged as normal they would flag disagreements far
    too often; the Welch t keeps the rate within the family level."""
    rng = np.random.default_rng(2030)
    trials = 2000
    fails = sum(not agreement(compare(*_replica_studies(rng))[0])["passed"] for _ in range(trials))
    assert fails / trials <= (1 - FAMILY_LEVEL) + 3 * np.sqrt(0.05 * 0.95 / trials), fails / trials


def test_a_shift_common_to_every_glass_is_found_by_the_pooled_test():
    """A shift of 3 replica SDs on each of 5 glasses: no glass's two replicas resolve it (power of
    the per-glass tests alone about 0.15), the test across glasses in about 9 of 10 study pairs."""
    rng = np.random.default_rng(2031)
    trials = 500
    found = per_glass_only = 0
    for _ in range(trials):
        diffs, _ = compare(*_replica_studies(rng, shift_sd=3.0))
        found += not agreement(diffs)["passed"]
        per_glass_only += not agreement([d for d in diffs if "mean over" not in d.quantity])["passed"]
    assert per_glass_only / trials < 0.2, per_glass_only / trials
    assert found / trials >= 0.8, found / trials    # measured 0.89 (2000 pairs), 0.50 at 2 SDs, 0.99 at 4
