"""The linearity part of a composition's diffusive check (``lipsglass.transport.composition``):
checked on constructed run records, and calibrated on simulated replicas analysed with the
shipped transport settings (the walker models of tests/test_transport_calibration.py).

Null with the data's correlations: Li that move in correlated groups. Each walker's path is its
own random walk plus one shared by its group of GROUP_SIZE walkers (a fraction SHARED of D), so
every walker is an exact random walk (MSD linear) but the atom bootstrap, which treats Li as
independent, underestimates the SE of D_early - D_late. The per-run z-scores then have an rms
near the 1.46 measured over the 12 runs at 500 K of the workstation overlay (docs/measurements.md),
and glasses differ in D (log-normal, GLASS_SPREAD). Planted effect: the same walkers plus a wide,
slow harmonic cage (Ornstein-Uhlenbeck), which bends the MSD down inside the fit window by a
stated fraction of D.

Measured and asserted: the old rule (every replica's own test must pass) and the composition
test, each as a false-positive rate on the null and a power on the planted bending, for 2, 3 and
6 replicas. The rates are printed (pytest -s) for the record.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from lipsglass.transport.composition import combine_temperature, composition_diffusive, composition_linearity
from test_transport_calibration import N_WALKERS, VIB_A, analyse, ornstein_uhlenbeck, random_walk

GROUP_SIZE = 5            # walkers sharing one collective path
SHARED = 0.5              # fraction of each walker's D carried by its group's path
GLASS_SPREAD = 0.15       # sd of ln D between glasses
N_COMPOSITIONS = 200      # simulated compositions per model (six replicas each)
BEND_TAU_PS = 2.0         # planted cages: relaxation time, and rms (A) -> mean (D_early - D_late) / D in the window
PLANTED = {1.5: (0.15, 0.25), 2.0: (0.30, 0.45)}


def _record(T, d_early, d_late, se_diff, *, z_level=2.576, past_cage=True, D=None):
    D = (d_early + d_late) / 2 if D is None else D
    z = (d_early - d_late) / se_diff
    return {"temperature_K": T, "D_cm2_s": D, "D_stderr_cm2_s": 0.05 * D, "diffusive": abs(z) <= z_level and past_cage,
            "diffusive_reason": "constructed", "phase": "glass", "phase_reason": "constructed",
            "D_early_cm2_s": d_early, "D_late_cm2_s": d_late, "D_difference_stderr_cm2_s": se_diff,
            "linearity_z": z_level, "linearity_z_score": z, "linear": abs(z) <= z_level, "past_cage": past_cage}


def test_one_replica_is_the_runs_own_test():
    bent = composition_linearity([_record(500, 11.1e-6, 9.2e-6, 0.5e-6)])
    assert not bent["linear"] and bent["critical"] == 2.576 and bent["statistic"] == pytest.approx(3.8)
    assert "bends down" in bent["reason"]
    assert composition_linearity([_record(500, 10.0e-6, 10.5e-6, 0.5e-6)])["linear"]


def test_replica_combined_difference_against_student_t():
    # one replica bends by 3.7 of its own SE, five do not: the replica mean is 0.6 of its SE off zero
    diffs = [1.9e-6, 0.6e-6, 0.2e-6, -0.6e-6, 0.3e-6, -0.1e-6]
    runs = [_record(500, 10e-6 + d, 10e-6, 0.5e-6) for d in diffs]
    lin = composition_linearity(runs)
    se_between = np.std(diffs, ddof=1) / math.sqrt(6)
    assert lin["D_difference_cm2_s"] == pytest.approx(np.mean(diffs))
    assert lin["D_difference_stderr_cm2_s"] == pytest.approx(se_between) and lin["stderr_source"] == "between-replica"
    assert lin["critical"] == pytest.approx(stats.t.ppf(0.995, 5), rel=1e-3)
    assert lin["linear"] and lin["runs_rejected_alone"] == ["r1 (z = 3.80)"]
    # every replica bending by the same 2 of its own SE: no single run rejects, the composition does
    same = composition_linearity([_record(500, 11e-6 + 1e-8 * k, 10e-6, 0.5e-6) for k in range(6)])
    assert not same["linear"] and same["runs_rejected_alone"] == []


def test_untested_caged_and_mixed_levels():
    runs = [_record(400, 1e-6, 1e-6, 1e-7) for _ in range(3)]
    untested = [dict(runs[0], D_early_cm2_s=None, diffusive_reason="fit window holds 4 lags")] + runs[1:]
    lin = composition_linearity(untested)
    assert not lin["linear"] and "r1" in lin["reason"] and "4 lags" in lin["reason"]
    caged = runs[:2] + [dict(runs[2], past_cage=False, diffusive_reason="caged: MSD past the cage 3 A^2")]
    ok, why, _ = composition_diffusive(caged)
    assert not ok and why.startswith("r3: caged")
    ok, why, _ = composition_diffusive(runs)
    assert ok and "every replica past the cage" in why
    combined = combine_temperature(caged)
    assert combined["diffusive"] is False and combined["composition_linearity"]["linear"]
    nan = composition_linearity([runs[0], dict(runs[1], D_late_cm2_s=float("nan"))])
    assert not nan["linear"] and "non-finite" in nan["reason"]
    with pytest.raises(ValueError, match="different linearity_z"):
        composition_linearity([runs[0], dict(runs[1], linearity_z=1.96)])


# --------------------------------------------------------------------------------------------
# Calibration on simulated replicas (the full suite only)
# --------------------------------------------------------------------------------------------


def grouped_walk(rng, d):
    """Walkers whose paths are their own random walk plus their group's: each an exact random
    walk of diffusion coefficient ``d`` (A^2/ps), correlated within groups of GROUP_SIZE."""
    own = random_walk(rng, d=d * (1 - SHARED), vib=0.0)
    shared = random_walk(rng, d=d * SHARED, vib=0.0, n=N_WALKERS // GROUP_SIZE)
    return own + np.repeat(shared, GROUP_SIZE, axis=1) + rng.normal(scale=VIB_A, size=own.shape)


def _replica_runs(seed: int, bend_rms_A: float | None) -> list[dict]:
    """N_COMPOSITIONS x 6 analysed runs (run records as diffusion.json has them); ``bend_rms_A``:
    the planted cage's rms (None: the null)."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(N_COMPOSITIONS * 6):
        d = math.exp(rng.normal(0.0, GLASS_SPREAD))
        x = grouped_walk(rng, d)
        if bend_rms_A is not None:
            x = x + ornstein_uhlenbeck(rng, bend_rms_A, BEND_TAU_PS, vib=0.0)
        r = analyse(x, k)
        out.append({**{key: getattr(r, key) for key in (
            "D_cm2_s", "D_stderr_cm2_s", "diffusive", "diffusive_reason", "D_early_cm2_s", "D_late_cm2_s",
            "D_difference_stderr_cm2_s", "linearity_z", "linearity_z_score", "linear")},
            "past_cage": True, "temperature_K": 500.0, "phase": "glass", "phase_reason": "simulated"})
    return out


@pytest.fixture(scope="module")
def null_runs():
    return _replica_runs(31_000, None)


@pytest.fixture(scope="module", params=sorted(PLANTED))
def bent_runs(request):
    return request.param, _replica_runs(32_000 + round(100 * request.param), request.param)


def _rates(runs: list[dict], n: int) -> tuple[float, float, int]:
    """(old rule rejects, composition test rejects, compositions) over disjoint groups of n runs."""
    groups = [runs[i:i + n] for i in range(0, len(runs) - n + 1, n)]
    old = np.mean([not all(r["linear"] for r in g) for g in groups])
    new = np.mean([not composition_linearity(g)["linear"] for g in groups])
    return float(old), float(new), len(groups)


@pytest.mark.slow
def test_null_of_correlated_li_miscalibrates_the_per_run_test(null_runs):
    z = np.array([r["linearity_z_score"] for r in null_runs])
    rel = np.array([(r["D_early_cm2_s"] - r["D_late_cm2_s"]) / r["D_cm2_s"] for r in null_runs])
    print(f"\ncorrelated-Li null: per-run z rms {np.sqrt(np.mean(z ** 2)):.2f}, mean {z.mean():+.3f}; "
          f"per-run rejections {np.mean(np.abs(z) > 2.576):.3f} (nominal 0.01); mean (De - Dl)/D {rel.mean():+.4f}")
    assert abs(z.mean()) < 0.15                         # a null: no bending
    assert 1.3 < np.sqrt(np.mean(z ** 2)) < 1.7         # the atom bootstrap misses the correlation, as in the MD


@pytest.mark.slow
@pytest.mark.parametrize("n", [2, 3, 6])
def test_composition_test_false_positive_rate(null_runs, n):
    old, new, m = _rates(null_runs, n)
    # binomial 99 % upper bound of a true 1 % rate over m compositions
    bound = stats.binom.ppf(0.99, m, 0.01) / m
    print(f"\nnull, {n} replicas, {m} compositions: old rule rejects {old:.3f}, composition test {new:.3f} "
          f"(nominal 0.01, bound {bound:.3f})")
    assert new <= bound
    assert old > 0.1                                     # what the composition test replaces


@pytest.mark.slow
def test_composition_test_power_on_a_planted_bending(bent_runs):
    """Power, asserted a little below the measured value so a weaker test fails (seeded: 0.49 for
    a 19 % bend in every replica with six replicas, 0.92 for a 33 % bend). With two or three
    replicas the test finds almost nothing (t(0.995, 1) = 63.7, t(0.995, 2) = 9.9): the price of
    an SE that holds when Li move together; docs/methods.md says so."""
    rms, runs = bent_runs
    rel = np.array([(r["D_early_cm2_s"] - r["D_late_cm2_s"]) / r["D_cm2_s"] for r in runs])
    power = {n: _rates(runs, n) for n in (2, 3, 6)}
    print(f"\nplanted bending, mean (De - Dl)/D = {rel.mean():.3f} (cage {rms} A, {BEND_TAU_PS} ps): "
          + "; ".join(f"{n} replicas: composition test {p[1]:.3f}, old rule {p[0]:.3f}" for n, p in power.items()))
    low, high = PLANTED[rms]
    assert low < rel.mean() < high                       # the planted effect is the stated one
    assert power[2][1] <= power[3][1] <= power[6][1]     # power grows with the replicas
    if rms == 1.5:
        assert power[6][1] >= 0.35
    else:
        assert power[6][1] >= 0.85
