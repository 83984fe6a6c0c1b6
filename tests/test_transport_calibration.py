"""Calibration of the transport analysis against ground truth, on the SHIPPED settings: the frame
spacing and run length of config/config.yaml's production section and its transport section
(fit window, blocks, bootstrap), through ``lipsglass.transport.settings.analysis_options``, the
keyword form of the ``TransportSettings`` the workflow and the command line use.

Ground truth: exact 3-D random walks (Gaussian increments, per-axis variance 2 D dt, so the
MSD is exactly 6 D t) of N_WALKERS independent walkers, plus an independent Gaussian vibration
of 0.35 A per axis in every frame (MSD offset 6 x 0.35^2 = 0.735 A^2 at every lag > 0: the
cage/vibration intercept that fooled the old log-log slope gate). The walkers are the whole
diffusing species, in a cell whose site spacing d = (V / N)^(1/3) is SPACING_A; their centre
of mass is taken as fixed (a momentum-conserving host), so no centre-of-mass correction applies.

* diffusive check: random walks pass it in >= 95 % of seeded trials; caged walkers
  (Ornstein-Uhlenbeck in a cage of 1 A rms per axis, and walkers confined to a sphere of 1.5 A)
  fail it in >= 95 %; strongly sub-diffusive walkers that do move past the cage (a wide, slow
  cage) fail the linearity part in >= 95 %.
* standard error of D: the coverage of D +- 1.96 SE over N_TRIALS seeded walks lies in
  [0.90, 0.985], and the same check with SE halved or doubled fails (so the test can fail).
* collective conductivity: its SE (Brownian-model estimator, since the shipped window is longer
  than one time block) covers the truth at least at the nominal rate and is at most 1.5 x the
  true spread (it is conservative by construction, see lipsglass.transport.conductivity.einstein_conductivity).
The numbers are printed (pytest -s) for the record.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import REPO
from lipsglass import transport as tr
from lipsglass.config import load_config

# calibration sweeps (Monte Carlo over hundreds of simulated studies): the full suite only
pytestmark = pytest.mark.slow

CONFIG = load_config(REPO / "config" / "config.yaml")
DT_PS = float(CONFIG["production"]["dump_interval_ps"])
N_FRAMES = int(round(float(CONFIG["production"]["duration_ps"]) / DT_PS)) + 1   # frame 0 is dumped too
OPTIONS = tr.analysis_options(CONFIG["transport"])
FIT = {k: v for k, v in OPTIONS.items()
       if k not in ("species", "species_charge_e", "haven_ratio", "n_collective_simulations")}

N_WALKERS = 250
SPACING_A = 4.0            # d = (V / N)^(1/3), about the demonstration glasses' Li-Li spacing
VIB_A = 0.35               # per-axis Gaussian vibration per frame
D_TRUE = 1.0               # A^2/ps (1e-4 cm^2/s): 6 D t_end ~ 40 A^2 > d^2 = 16 A^2 at the shipped window end
N_TRIALS = 400             # coverage and pass rate (random walks)
N_CAGED = 100              # each caged model


def random_walk(rng, d=D_TRUE, vib=VIB_A, n=N_WALKERS):
    steps = rng.normal(scale=math.sqrt(2 * d * DT_PS), size=(N_FRAMES - 1, n, 3))
    x = np.concatenate([np.zeros((1, n, 3)), np.cumsum(steps, axis=0)])
    return x + rng.normal(scale=vib, size=x.shape)


def ornstein_uhlenbeck(rng, rms_A, tau_ps, n=N_WALKERS, vib=VIB_A):
    """Harmonic cage: stationary AR(1) with per-axis rms ``rms_A`` and relaxation time ``tau_ps``."""
    phi = math.exp(-DT_PS / tau_ps)
    x = np.empty((N_FRAMES, n, 3))
    x[0] = rng.normal(scale=rms_A, size=(n, 3))
    for k in range(1, N_FRAMES):
        x[k] = phi * x[k - 1] + rng.normal(scale=rms_A * math.sqrt(1 - phi * phi), size=(n, 3))
    return x + rng.normal(scale=vib, size=x.shape)


def sphere_walk(rng, radius_A=1.5, d=D_TRUE, n=N_WALKERS):
    """Random walk (same D) confined to a sphere: steps leaving it are reflected radially."""
    x = np.empty((N_FRAMES, n, 3))
    x[0] = 0.0
    for k in range(1, N_FRAMES):
        y = x[k - 1] + rng.normal(scale=math.sqrt(2 * d * DT_PS), size=(n, 3))
        r = np.linalg.norm(y, axis=1, keepdims=True)
        out = r > radius_A
        # reflect the radial overshoot back inside (never beyond the opposite wall for these steps)
        y = np.where(out, y / np.maximum(r, 1e-12) * np.maximum(2 * radius_A - r, 0.0), y)
        x[k] = y
    return x


def analyse(x, seed):
    return tr.diffusion_from_positions(x, DT_PS, None, site_spacing_A=SPACING_A, **{**FIT, "seed": seed})


@pytest.fixture(scope="module")
def walks():
    """N_TRIALS analysed random walks: (results, collective conductivity dicts)."""
    volume = N_WALKERS * SPACING_A ** 3
    results, coll = [], []
    for trial in range(N_TRIALS):
        rng = np.random.default_rng(10_000 + trial)
        x = random_walk(rng)
        res = analyse(x, trial)
        results.append(res)
        ref = 6.0 * N_WALKERS * max(res.D_cm2_s, 0.0) / 1e-4
        coll.append(tr.einstein_conductivity(x.sum(axis=1), DT_PS, volume, 600.0, res.fit_start_ps,
                                             res.fit_end_ps, res.n_blocks, reference_slope_e2A2_ps=ref,
                                             n_simulations=OPTIONS["n_collective_simulations"], seed=trial))
    return results, coll


def test_shipped_settings_are_the_ones_analysed():
    # the shipped window is longer than one time block: the primary SE is the atom bootstrap
    block_ps = (N_FRAMES // FIT["n_blocks"] - 1) * DT_PS
    assert FIT["end_frac"] * block_ps > block_ps
    # the walks reach past the cage threshold by the end of the shipped window (else this null tests nothing)
    assert 6 * D_TRUE * FIT["end_frac"] * block_ps > FIT["cage_multiple"] * SPACING_A ** 2


def test_random_walks_with_vibration_pass_the_diffusive_check(walks):
    results, _ = walks
    assert all(r.stderr_estimator == "bootstrap_atoms" for r in results)
    passed = np.array([r.diffusive for r in results])
    linear = np.array([r.linear for r in results])
    past = np.array([r.past_cage for r in results])
    z = np.array([r.linearity_z_score for r in results])
    old_gate = np.array([0.8 <= r.loglog_slope <= 1.2 for r in results])   # information: the retired gate
    print(f"\nrandom walks: diffusive {passed.mean():.3f}, linear {linear.mean():.3f}, past cage {past.mean():.3f}; "
          f"z mean {z.mean():+.3f} sd {z.std(ddof=1):.3f}; old slope gate passed {old_gate.mean():.3f}")
    assert passed.mean() >= 0.95
    # the linearity z-score is ~N(0, 1) under the null: the SE of the difference is calibrated
    assert abs(z.mean()) < 0.2 and 0.8 < z.std(ddof=1) < 1.25


def test_slow_random_walks_pass_the_linearity_part():
    # D = 0.1 A^2/ps: the vibration intercept (0.735 A^2) is comparable to 6 D t at the window
    # start, the regime where the log-log slope gate failed true random walks. The run does not
    # pass the cage (6 D t_end ~ 4 A^2 < d^2), but its MSD is linear and must be found so.
    linear, old_gate = [], []
    for trial in range(N_CAGED):
        r = analyse(random_walk(np.random.default_rng(20_000 + trial), d=0.1), trial)
        linear.append(r.linear)
        old_gate.append(0.8 <= r.loglog_slope <= 1.2)
    print(f"\nslow random walks (D = 0.1 A^2/ps): linear {np.mean(linear):.3f}; old slope gate {np.mean(old_gate):.3f}")
    assert np.mean(linear) >= 0.95


@pytest.mark.parametrize("model", ["ornstein_uhlenbeck_1A", "sphere_1.5A", "wide_slow_cage"])
def test_caged_walkers_fail_the_diffusive_check(model):
    fails, fails_a, fails_b = [], [], []
    for trial in range(N_CAGED):
        rng = np.random.default_rng(30_000 + trial)
        if model == "ornstein_uhlenbeck_1A":
            x = ornstein_uhlenbeck(rng, 1.0, 0.5)       # plateau 6 A^2 + vibration, < d^2 = 16 A^2
        elif model == "sphere_1.5A":
            x = sphere_walk(rng)
        else:
            x = ornstein_uhlenbeck(rng, 3.0, 3.0)       # plateau 54 A^2 > d^2, but strongly bent in the window
        r = analyse(x, trial)
        fails.append(not r.diffusive)
        fails_a.append(not r.linear)
        fails_b.append(not r.past_cage)
    print(f"\n{model}: not diffusive {np.mean(fails):.3f} (linearity failed {np.mean(fails_a):.3f}, "
          f"cage failed {np.mean(fails_b):.3f})")
    assert np.mean(fails) >= 0.95
    if model == "wide_slow_cage":
        assert np.mean(fails_a) >= 0.95      # this one is caught by the linearity part


def _coverage(values, ses, truth, scale=1.0):
    values, ses = np.asarray(values, float), np.asarray(ses, float)
    return float(np.mean(np.abs(values - truth) <= 1.96 * scale * ses))


def test_standard_error_of_D_covers_the_truth_at_its_nominal_rate(walks):
    results, _ = walks
    d = np.array([r.D_cm2_s for r in results])
    se = np.array([r.D_stderr_cm2_s for r in results])
    truth = D_TRUE * 1e-4
    cov = {s: _coverage(d, se, truth, s) for s in (0.5, 1.0, 2.0)}
    print(f"\nD coverage of +-1.96 SE over {N_TRIALS} trials: SE {cov[1.0]:.3f}, SE/2 {cov[0.5]:.3f}, "
          f"2 SE {cov[2.0]:.3f}; SE / spread of D = {se.mean() / d.std(ddof=1):.3f}")
    band = (0.90, 0.985)
    assert band[0] <= cov[1.0] <= band[1]
    # the band has power: an SE halved or doubled would fail it
    assert not band[0] <= cov[0.5] <= band[1]
    assert not band[0] <= cov[2.0] <= band[1]


def test_collective_conductivity_standard_error_covers_the_truth(walks):
    _, coll = walks
    volume = N_WALKERS * SPACING_A ** 3
    # independent walkers, fixed centre of mass: <|dP|^2> = N 6 D t (q = 1), i.e. Haven ratio 1
    truth = tr.collective_conductivity_S_cm(6.0 * N_WALKERS * D_TRUE, volume, 600.0)
    assert all(c["stderr_estimator"] == "brownian_model" and c["sigma_stderr_S_cm"] > 0 for c in coll)
    s = np.array([c["sigma_S_cm"] for c in coll])
    se = np.array([c["sigma_stderr_S_cm"] for c in coll])
    cov = {k: _coverage(s, se, truth, k) for k in (0.5, 1.0, 2.0)}
    print(f"\ncollective sigma coverage of +-1.96 SE: SE {cov[1.0]:.3f}, SE/2 {cov[0.5]:.3f}, 2 SE {cov[2.0]:.3f}; "
          f"mean sigma / truth {s.mean() / truth:.3f}; SE / spread {se.mean() / s.std(ddof=1):.3f}")
    assert abs(s.mean() / truth - 1) < 0.1
    # The Brownian-model SE scales with max(fitted slope, Haven-ratio-1 slope from the tracer D):
    # conservative by construction (measured: coverage ~1.0, SE ~1.2 x the true spread; with the
    # fitted slope alone the coverage was 0.80, since low estimates got small SEs). Checked: it
    # covers at least nominally and is not inflated by more than half.
    assert cov[1.0] >= 0.95
    assert 0.9 <= se.mean() / s.std(ddof=1) <= 1.5
