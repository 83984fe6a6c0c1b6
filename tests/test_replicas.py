"""Combination of independent glass replicas, checked on constructed numbers."""

import math

import numpy as np
import pytest
from scipy import stats

from lipsglass.replicas import REPLICA_SEED_STRIDE, combine_replicas, replica_seed
from lipsglass.transport.composition import combine_temperature, composition_summary


def test_replica_seeds_distinct_and_first_unchanged():
    assert replica_seed(4928, 1) == 4928
    seeds = {replica_seed(4928, k) + T for k in range(1, 6) for T in (300, 500, 800)}
    assert len(seeds) == 15                      # no two runs share a velocity seed
    assert replica_seed(4928, 2) - replica_seed(4928, 1) == REPLICA_SEED_STRIDE
    with pytest.raises(ValueError):
        replica_seed(1, 0)


def test_mean_and_between_replica_spread():
    # spread far larger than each replica's own SE: the between-replica SE is the answer
    r = combine_replicas([1.0, 2.0, 3.0], [0.01, 0.01, 0.01])
    assert r["mean"] == pytest.approx(2.0)
    assert r["stderr"] == pytest.approx(1.0 / math.sqrt(3))
    assert r["stderr_source"] == "between-replica"
    q = stats.t.ppf(0.975, 2)
    assert r["ci95"] == pytest.approx([2.0 - q / math.sqrt(3), 2.0 + q / math.sqrt(3)])


def test_within_replica_floor_when_replicas_agree_by_chance():
    # three replicas that happen to agree: the SE cannot fall below what each replica carries
    r = combine_replicas([1.0, 1.0001, 0.9999], [0.3, 0.3, 0.3])
    assert r["stderr"] == pytest.approx(math.sqrt(3 * 0.09) / 3)
    assert r["stderr_source"] == "within-replica"


def test_single_replica_and_missing_values():
    r = combine_replicas([2.5], [0.2])
    assert r["mean"] == 2.5 and r["stderr"] == pytest.approx(0.2) and r["stderr_source"] == "within-replica"
    assert combine_replicas([2.5], None)["stderr"] is None
    bad = combine_replicas([1.0, float("nan")], [0.1, 0.1])
    assert bad["mean"] is None and "non-finite" in bad["reason"]


def test_coverage_of_combined_interval_on_a_random_effects_null():
    """Replicas drawn with glass-to-glass spread tau and noise sigma: the 95 % interval covers the
    ensemble mean at least at its nominal rate (conservative by the within-replica floor)."""
    rng = np.random.default_rng(7)
    hits, n_trials = 0, 2000
    for _ in range(n_trials):
        true = 1.0 + rng.normal(0, 0.3, size=3)          # glass-to-glass variation
        se = np.full(3, 0.1)
        obs = true + rng.normal(0, se)
        r = combine_replicas(obs, se)
        hits += r["ci95"][0] <= 1.0 <= r["ci95"][1]
    assert 0.93 <= hits / n_trials <= 0.995


def _run(T, D, se, phase="glass", diffusive=True):
    """A run record as diffusion.json has it: linear MSD (D_early = D_late); not diffusive = caged."""
    return {"temperature_K": T, "D_cm2_s": D, "D_stderr_cm2_s": se, "diffusive": diffusive,
            "diffusive_reason": "ok" if diffusive else "caged", "phase": phase, "phase_reason": "constructed",
            "sigma_NE_S_cm": D * 1e3, "sigma_NE_stderr_S_cm": se * 1e3, "D_early_cm2_s": D, "D_late_cm2_s": D,
            "D_difference_stderr_cm2_s": se, "linearity_z": 2.576, "linearity_z_score": 0.0, "linear": True,
            "past_cage": diffusive}


def test_temperature_phase_combination():
    glass = combine_temperature([_run(400, 1e-6, 1e-7), _run(400, 2e-6, 1e-7)])
    assert glass["phase"] == "glass" and glass["D_cm2_s"] == pytest.approx(1.5e-6)
    mixed = combine_temperature([_run(700, 1e-5, 1e-6), _run(700, 2e-5, 1e-6, phase="liquid")])
    assert mixed["phase"] == "mixed" and mixed["n_glass_runs"] == 1


def test_composition_fit_uses_glassy_temperatures_and_recovers_ea():
    """Replicas of a constructed Arrhenius glass (Ea 0.3 eV) with liquid runs above 600 K that
    follow another law: the default fit uses only the glassy temperatures and recovers Ea."""
    k = 8.617333262e-5
    settings = {"arrhenius_min_T_K": 0.0, "arrhenius_exclude_T_K": [], "arrhenius_phases": ["glass"],
                "arrhenius_absolute_sigma": True, "extrapolation_T_K": 300.0, "haven_ratio": 1.0,
                "species_charge_e": 1.0, "species": "Li", "n_blocks": 5, "fit_end_frac": 3.0}
    rng = np.random.default_rng(3)
    replicas = []
    for _ in range(3):
        runs = []
        for T in (400, 450, 500, 550):
            D = 1e-2 * math.exp(-0.3 / (k * T)) * math.exp(rng.normal(0, 0.02))
            runs.append(_run(T, D, 0.03 * D))
        for T in (700, 800):
            runs.append(_run(T, 1e-4 * T / 800, 1e-6, phase="liquid"))
        replicas.append(runs)
    summary, combined, reasons = composition_summary(replicas, settings, 258, 16000.0, "constructed")
    assert summary["status"] == "ok"
    assert summary["temperatures_used_K"] == [400, 450, 500, 550]
    assert summary["phase_of_fit"] == "glass"
    assert abs(summary["Ea_eV"] - 0.3) < 3 * summary["Ea_stderr_eV"]
    assert summary["fits_by_phase"]["liquid"]["status"] == "ok"
    assert all("liquid" in (why or "") for c, why in zip(combined, reasons) if c["phase"] == "liquid")
    assert summary["fit_T_range_K"] == [400, 550]


def test_run_length_needed_from_the_measured_msd():
    """A glassy run whose intercept-corrected MSD reached 4 A^2 of a 16 A^2 cage threshold at the
    6 ps end of its window needs the window to end at 24 ps: with n_blocks 5 and fit_end_frac 3,
    a 40 ps production. A run without motion past the vibration gives no number, with a reason."""
    from lipsglass.transport.composition import run_length_needed

    settings = {"n_blocks": 5, "fit_end_frac": 3.0}
    slow = dict(_run(400, 1e-6, 5e-7, diffusive=False), msd_past_cage_A2=4.0, cage_threshold_A2=16.0, fit_end_ps=6.0)
    slower = dict(slow, msd_past_cage_A2=2.0)
    stuck = dict(slow, msd_past_cage_A2=-0.1)
    combined = [combine_temperature([slow, slower])]
    rows = run_length_needed(combined, ["not diffusive"], None, settings, 10.0)
    assert rows[0]["per_replica"][0]["duration_ps"] == pytest.approx(40.0)
    assert rows[0]["duration_ps"] == pytest.approx(80.0)          # the slower replica decides
    assert rows[0]["per_replica"][0]["relative_stderr_expected"] == pytest.approx(0.5 * math.sqrt(10 / 40))
    # per-temperature lengths (production.durations_ps): each temperature's own run length is the current one
    by_T = run_length_needed(combined, ["not diffusive"], None, settings, {400: 20.0, 500: 90.0})
    assert by_T[0]["current_duration_ps"] == 20.0 and by_T[0]["duration_ps"] == pytest.approx(80.0)
    assert by_T[0]["per_replica"][0]["relative_stderr_expected"] == pytest.approx(0.5 * math.sqrt(20 / 40))
    none = run_length_needed([combine_temperature([slow, stuck])], ["not diffusive"], None, settings, 10.0)
    assert none[0]["duration_ps"] is None and "beyond the vibration" in none[0]["reason"]
    # temperatures in the fit, or liquid ones, need nothing
    assert run_length_needed(combined, [None], None, settings, 10.0) == []
