"""Li transport analyses (lipsglass.transport) against ground truth that can be derived:
Brownian walkers of known D, the direct O(T^2) MSD, tidynamics/MDAnalysis, noise-free and
noisy synthetic Arrhenius data, and unit conversions worked out by hand."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from lipsglass import transport as tr
from lipsglass.lammpsio import Box, write_dump_frame

K_B_EV = 8.617333262e-5  # eV/K, CODATA 2018 (k_B / e)

# Random-walk system used by several tests: N_LI Brownian Li in a small periodic cube (so the
# walkers cross the boundaries and the image flags matter) plus N_S "host" S atoms vibrating
# about fixed sites. Each Li step per frame is Gaussian with variance 2 D dt per axis, so the
# exact MSD is 6 D t at every lag (no ballistic regime).
N_LI, N_S = 40, 20
BOX_L = 12.0          # A
D_TRUE = 0.3          # A^2/ps  = 3e-5 cm^2/s: 6 D t = 26 A^2 at the default window end (14.7 ps), past the
                      # cage threshold d^2 = (12^3/40)^(2/3) = 12.3 A^2 of the diffusive check
DT = 0.5              # ps between frames
N_FRAMES = 250
M_LI, M_S = 6.941, 32.066  # g/mol, as lammpsio.ELEMENT_MASSES

# Whole-system centre-of-mass removal changes the Li MSD of independent walkers: with
# dR = (m_Li sum_j dr_j + m_S sum_k dh_k)/M (host vibrations dh bounded, adding a constant),
# <|dr_i - dR|^2> = 6Dt (1 - 2 m_Li/M + N_Li m_Li^2/M^2) + const, so the recovered D is
COM_FACTOR = 1 - 2 * M_LI / (N_LI * M_LI + N_S * M_S) + N_LI * M_LI ** 2 / (N_LI * M_LI + N_S * M_S) ** 2
# = 0.98719...: a 1.3 % shift, kept in the expected value rather than hidden in a tolerance.


def walk(seed: int, n_frames: int = N_FRAMES, drift=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Unwrapped positions (n_frames, N_LI + N_S, 3): Li walkers then vibrating S."""
    rng = np.random.default_rng(seed)
    li0 = rng.uniform(0, BOX_L, size=(N_LI, 3))
    li = li0 + np.concatenate([np.zeros((1, N_LI, 3)),
                               np.cumsum(rng.normal(scale=math.sqrt(2 * D_TRUE * DT), size=(n_frames - 1, N_LI, 3)),
                                         axis=0)])
    sites = rng.uniform(0, BOX_L, size=(N_S, 3))
    host = sites + rng.normal(scale=0.1, size=(n_frames, N_S, 3))
    pos = np.concatenate([li, host], axis=1)
    t = np.arange(n_frames) * DT
    return pos + t[:, None, None] * np.asarray(drift)[None, None, :]


def write_wrapped_dump(path, pos: np.ndarray, steps_per_frame: int = 500, by_type: bool = False) -> None:
    """Dump with WRAPPED x y z and image flags ix iy iz (or xu yu zu with by_type, see below)."""
    box = Box(np.zeros(3), np.full(3, BOX_L))
    n = pos.shape[1]
    ids = np.arange(1, n + 1)
    with open(path, "w") as fh:
        for f, u in enumerate(pos):
            img = np.floor(u / BOX_L).astype(int)
            w = u - img * BOX_L
            if by_type:
                cols = {"id": ids, "type": np.array([1] * N_LI + [2] * N_S),
                        "xu": u[:, 0], "yu": u[:, 1], "zu": u[:, 2]}
            else:
                cols = {"id": ids, "element": np.array(["Li"] * N_LI + ["S"] * N_S),
                        "x": w[:, 0], "y": w[:, 1], "z": w[:, 2], "ix": img[:, 0], "iy": img[:, 1], "iz": img[:, 2]}
            write_dump_frame(fh, f * steps_per_frame, box, cols)


def msd_direct(x: np.ndarray) -> np.ndarray:
    """Textbook O(T^2) all-origins MSD averaged over particles, for (T, N, 3)."""
    T = x.shape[0]
    out = np.zeros(T)
    for m in range(1, T):
        out[m] = np.mean(np.sum((x[m:] - x[:-m]) ** 2, axis=-1))
    return out


# ---------------------------------------------------------------------------------------
# MSD algorithm
# ---------------------------------------------------------------------------------------

def test_fft_msd_equals_direct_tidynamics_and_mdanalysis():
    rng = np.random.default_rng(3)
    # float32-representable data so MDAnalysis (which stores float32) sees identical numbers
    x = (np.cumsum(rng.normal(size=(60, 9, 3)), axis=0) + 25.0).astype(np.float32).astype(np.float64)
    fft = tr.msd_fft(x)
    assert np.allclose(fft, msd_direct(x), rtol=1e-10, atol=1e-10)
    per = tr.msd_fft(x, per_particle=True)
    assert per.shape == (60, 9) and np.allclose(per.mean(axis=1), fft, rtol=0, atol=1e-12)

    import tidynamics
    ref = np.stack([tidynamics.msd(x[:, i, :]) for i in range(9)], axis=1)
    # tidynamics does not centre the coordinates, so its own round-off (~1e-10 A^2 at lag 0
    # for coordinates ~25 A) sets the scale: agreement to 1e-10 of the largest MSD value.
    assert np.max(np.abs(per - ref)) <= 1e-10 * np.max(ref)

    import MDAnalysis as mda
    from MDAnalysis.analysis.msd import EinsteinMSD
    from MDAnalysis.coordinates.memory import MemoryReader
    u = mda.Universe.empty(9, trajectory=True)
    u.load_new(x.astype(np.float32), format=MemoryReader)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MDAnalysis warns that it cannot check unwrapping
        ein = EinsteinMSD(u, select="all", msd_type="xyz", fft=True).run()
    assert np.max(np.abs(ein.results.timeseries - fft)) <= 1e-10 * np.max(fft)


def test_msd_single_coordinate_and_bad_input():
    x = np.arange(5.0)[:, None] * np.array([[1.0, 0.0, 0.0]])  # ballistic: MSD = m^2
    assert np.allclose(tr.msd_fft(x), np.arange(5.0) ** 2, atol=1e-12)
    with pytest.raises(ValueError, match="at least 2 frames"):
        tr.msd_fft(np.zeros((1, 3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        tr.msd_fft(np.full((4, 2, 3), np.nan))


# ---------------------------------------------------------------------------------------
# Random walks through a wrapped dump: coverage of the reported uncertainty
# ---------------------------------------------------------------------------------------

N_SEEDS = 40


@pytest.fixture(scope="module")
def walk_results(tmp_path_factory):
    """Analyse N_SEEDS random-walk dumps (wrapped coordinates + image flags) end to end."""
    d = tmp_path_factory.mktemp("walks")
    out = []
    for seed in range(N_SEEDS):
        path = d / f"walk{seed}.dump"
        write_wrapped_dump(path, walk(seed))
        res, _ = tr.analyse_trajectory(path, "Li", dt_ps=DT, temperature_K=600.0, n_bootstrap=200, seed=seed)
        out.append(res)
    return out


def test_random_walk_D_within_reported_uncertainty(walk_results):
    # The dump really is wrapped with non-trivial image flags: walkers move ~15 A rms over
    # the run in a 12 A box, so the test exercises unwrapping.
    d_true = D_TRUE * 1e-4 * COM_FACTOR  # A^2/ps -> cm^2/s
    inside = []
    for r in walk_results:
        assert r["n_atoms"] == N_LI and r["n_atoms_total"] == N_LI + N_S
        assert r["stderr_estimator"] == "blocks"
        lo, hi = r["D_ci95_cm2_s"]
        inside.append(lo <= d_true <= hi)
    coverage = np.mean(inside)
    # the linearity test at |z| <= 2.576 rejects ~1 % of true random walks (tests/test_transport_calibration.py)
    assert sum(r["diffusive"] for r in walk_results) >= N_SEEDS - 2
    # nominal 95 %; 40 seeds -> binomial sd 3.4 %. An SE too small by sqrt(n_blocks) (the
    # classic mistake) gives ~70 % and fails; an SE twice too large gives 100 % and passes
    # only the upper bound, which the block/bootstrap comparison below guards.
    assert 0.85 <= coverage <= 1.0, coverage


def test_block_and_bootstrap_se_agree_for_random_walk(walk_results):
    blocks = np.array([r["D_stderr_blocks_cm2_s"] for r in walk_results])
    boot = np.array([r["D_stderr_bootstrap_cm2_s"] for r in walk_results])
    # For independent walkers both estimate the same SE. One 5-block SE has only 4 degrees
    # of freedom (+-35 %), so compare the root-mean-square over seeds.
    ratio = math.sqrt(np.mean(blocks ** 2) / np.mean(boot ** 2))
    assert 0.5 <= ratio <= 2.0, ratio
    # and the spread of D over seeds (the true SE) matches the typical reported SE
    d = np.array([r["D_cm2_s"] for r in walk_results])
    assert 0.5 <= np.std(d, ddof=1) / math.sqrt(np.mean(blocks ** 2)) <= 2.0


def test_collective_conductivity_of_independent_walkers(walk_results):
    # The collective coordinate is P = q sum_i (r_i - R) over the Li only (q = +1, the NE charge),
    # R the whole-system centre of mass. Here the host is static (momentum is not conserved, unlike
    # MD), so R = (m_Li sum_j r_j + const) / M moves with the Li and P = (1 - N m_Li / M) sum_i r_i
    # + const: <|dP|^2> = (1 - N m_Li/M)^2 N 6 D t. Independent ions: sigma_coll / sigma_NE =
    # (1 - N m_Li / M)^2 = 0.487 (in MD, with R fixed, it is 1: Haven ratio 1).
    factor = (1 - N_LI * M_LI / (N_LI * M_LI + N_S * M_S)) ** 2
    sigma_ne, _ = tr.nernst_einstein_conductivity(D_TRUE * 1e-4, N_LI, BOX_L ** 3, 600.0)
    sigma_true = factor * sigma_ne
    ratios = np.array([r["sigma_einstein_S_cm"] / sigma_true for r in walk_results])
    # one collective coordinate per run: ~27 % scatter per seed, ~4 % on the mean of 40
    assert abs(ratios.mean() - 1.0) < 0.15, ratios.mean()
    assert all(r["sigma_einstein_stderr_estimator"] == "blocks" for r in walk_results)
    covered = [abs(r["sigma_einstein_S_cm"] - sigma_true) <= 2.776 * r["sigma_einstein_stderr_S_cm"]  # t(0.975, 4)
               for r in walk_results]
    assert np.mean(covered) >= 0.8
    r = walk_results[0]
    assert r["sigma_einstein_definition"].startswith("Li only, q = +1 e, centre-of-mass of the whole system removed")
    # measured Haven ratio = sigma_NE / sigma_coll ~ 1 / factor here, with a delta-method SE
    h = np.array([r["haven_ratio_measured"] for r in walk_results if r["haven_ratio_measured"] is not None])
    assert abs(np.median(h) * factor - 1) < 0.25
    r = next(r for r in walk_results if r["haven_ratio_measured"] is not None)
    rel = math.hypot(r["sigma_NE_stderr_S_cm"] / r["sigma_NE_S_cm"],
                     r["sigma_einstein_stderr_S_cm"] / r["sigma_einstein_S_cm"])
    assert r["haven_ratio_measured_stderr"] == pytest.approx(r["haven_ratio_measured"] * rel, rel=1e-9)


def test_uniform_drift_is_removed(tmp_path):
    pos = walk(7)
    drifted = walk(7, drift=(1.0, -0.8, 0.5))  # A/ps: 170 A over the run, far beyond diffusion
    write_wrapped_dump(tmp_path / "a.dump", pos)
    write_wrapped_dump(tmp_path / "b.dump", drifted)
    a, _ = tr.analyse_trajectory(tmp_path / "a.dump", dt_ps=DT)
    b, _ = tr.analyse_trajectory(tmp_path / "b.dump", dt_ps=DT)
    assert b["D_cm2_s"] == pytest.approx(a["D_cm2_s"], rel=1e-6)
    assert b["D_stderr_cm2_s"] == pytest.approx(a["D_stderr_cm2_s"], rel=1e-5)
    # without the correction the drift would dominate (MSD ~ v^2 t^2): the test can fail
    c, _ = tr.analyse_trajectory(tmp_path / "b.dump", dt_ps=DT, remove_com=False)
    assert c["D_cm2_s"] > 5 * a["D_cm2_s"] and not c["diffusive"]
    assert "bends up" in c["diffusive_reason"] and c["linearity_z_score"] < -2.576


def test_caged_motion_is_flagged_not_hidden():
    # Ornstein-Uhlenbeck particles (AR(1), phi = 0.8): MSD saturates at 2 var = 2*0.09/(1-0.64)
    # per axis after ~5 frames, so the log-log slope in the window is ~0.
    rng = np.random.default_rng(0)
    x = np.zeros((250, 40, 3))
    for k in range(1, 250):
        x[k] = 0.8 * x[k - 1] + rng.normal(scale=0.3, size=(40, 3))
    res = tr.diffusion_from_positions(x, DT, site_spacing_A=3.5)
    assert not res.diffusive and "caged" in res.diffusive_reason and not res.past_cage
    # MSD(end) - intercept ~ 0 (flat plateau), far below d^2 = 12.25 A^2
    assert res.msd_past_cage_A2 < 1.0 and res.cage_threshold_A2 == pytest.approx(12.25)
    assert np.isfinite(res.D_cm2_s)  # still reported
    # without a site spacing the cage part is not evaluated (and says so)
    res = tr.diffusion_from_positions(x, DT)
    assert res.past_cage is None and "not tested" in res.diffusive_reason


def test_automatic_window_starts_after_the_cage():
    # MSD = a (1 - exp(-t/tau)) + 6 D t: a cage of a = 3 A^2 reached within tau = 2 ps, then
    # diffusion. Its local log-log slope 6Dt/(a + 6Dt) is only 0.71 at the default start
    # (10 % of a 250 ps block: 6Dt = 7.5 A^2) and reaches 0.9 at t = 9a/(6D) = 90 ps, so the
    # window [25, 150] ps is not diffusive enough and the start must move later.
    t = np.arange(2001) * 0.5
    a, tau, d = 3.0, 2.0, 0.05
    msd = a * (1 - np.exp(-t / tau)) + 6 * d * t
    block = 0.25 * t[-1]
    start, end, note = tr.choose_fit_window(t, msd, block)
    assert "earliest" in note and end == pytest.approx(0.6 * block)
    assert abs(tr.loglog_slope(t[(t >= start) & (t <= end)], msd[(t >= start) & (t <= end)]) - 1) <= 0.1
    # earliest: one lag earlier the window's slope is outside the tolerance
    prev = start - 0.5
    assert abs(tr.loglog_slope(t[(t >= prev) & (t <= end)], msd[(t >= prev) & (t <= end)]) - 1) > 0.1
    assert start > 0.1 * block
    # the straight part is exactly 6 D t + a: the fit with intercept recovers D and a
    d_fit, c = tr.fit_msd_line(t, msd, start, end)
    assert d_fit == pytest.approx(d, rel=1e-9) and c == pytest.approx(a, rel=1e-9)


def test_window_longer_than_a_block_falls_back_to_bootstrap():
    pos = walk(1)[:, :N_LI]
    res = tr.diffusion_from_positions(pos, DT, fit_start_ps=10.0, fit_end_ps=60.0)  # block = 49*0.5 ps
    assert res.stderr_estimator == "bootstrap_atoms" and res.D_stderr_blocks_cm2_s is None
    assert res.D_stderr_cm2_s == res.D_stderr_bootstrap_cm2_s and "no block SE" in res.blocks_note


# ---------------------------------------------------------------------------------------
# Arrhenius
# ---------------------------------------------------------------------------------------

def test_arrhenius_noise_free_recovers_parameters_and_extrapolates():
    T = np.array([500.0, 600.0, 700.0, 800.0, 900.0])
    ea, d0 = 0.30, 2.0e-3
    D = d0 * np.exp(-ea / (K_B_EV * T))
    fit = tr.arrhenius_fit(T, D, 0.1 * D)
    assert fit.Ea_eV == pytest.approx(ea, rel=1e-10) and fit.D0_cm2_s == pytest.approx(d0, rel=1e-10)
    assert fit.chi2 == pytest.approx(0.0, abs=1e-18) and fit.dof == 3
    # D(300 K) = 2e-3 exp(-0.30 / (8.617333262e-5 * 300)) = 2e-3 exp(-11.604518)
    # = 2e-3 * 9.124768e-6 = 1.824954e-8 cm^2/s
    assert fit.predict(300.0)["D_cm2_s"] == pytest.approx(1.824954e-8, rel=1e-6)


def test_arrhenius_two_point_standard_errors_by_hand():
    # Two temperatures, SE(ln D) = s each. With x = 1/(k_B T): Ea = (ln D1 - ln D2)/(x2 - x1)
    # so var Ea = 2 s^2/(x2 - x1)^2; ln D(x) = ln D1 + (ln D2 - ln D1)(x - x1)/(x2 - x1), so with
    # lam = (x - x1)/(x2 - x1): var ln D(x) = s^2 ((1 - lam)^2 + lam^2).
    T = np.array([600.0, 800.0])
    D = np.array([1e-6, 5e-6])
    s = 0.2
    fit = tr.arrhenius_fit(T, D, s * D)
    x1, x2 = 1 / (K_B_EV * 600), 1 / (K_B_EV * 800)
    assert fit.Ea_eV == pytest.approx(math.log(D[0] / D[1]) / (x2 - x1), rel=1e-10)
    assert fit.Ea_stderr_eV == pytest.approx(math.sqrt(2) * s / abs(x2 - x1), rel=1e-10)
    x = 1 / (K_B_EV * 300)
    lam = (x - x1) / (x2 - x1)
    p = fit.predict(300.0)
    assert p["ln_D_stderr"] == pytest.approx(s * math.sqrt((1 - lam) ** 2 + lam ** 2), rel=1e-10)
    assert p["D_stderr_cm2_s"] == pytest.approx(p["D_cm2_s"] * p["ln_D_stderr"], rel=1e-12)


def test_arrhenius_noisy_recovers_Ea_within_its_SE():
    rng = np.random.default_rng(11)
    T = np.array([500.0, 600.0, 700.0, 800.0, 900.0])
    ea, d0 = 0.25, 1e-3
    rel = np.array([0.3, 0.2, 0.1, 0.08, 0.05])   # colder runs are noisier, as in MD
    hits, z = [], []
    for _ in range(400):
        D = d0 * np.exp(-ea / (K_B_EV * T)) * np.exp(rng.normal(scale=rel))
        fit = tr.arrhenius_fit(T, D, rel * D)
        z.append((fit.Ea_eV - ea) / fit.Ea_stderr_eV)
        hits.append(abs(fit.Ea_eV - ea) <= 1.96 * fit.Ea_stderr_eV)
    assert 0.92 <= np.mean(hits) <= 0.98     # nominal 95 %, binomial sd 1.1 %
    assert abs(np.mean(z)) < 0.2 and 0.85 < np.std(z) < 1.15


def test_arrhenius_bad_input():
    with pytest.raises(ValueError, match="positive"):
        tr.arrhenius_fit([500, 600], [1e-6, -1e-7], [1e-7, 1e-7])
    with pytest.raises(ValueError, match="two distinct"):
        tr.arrhenius_fit([500, 500], [1e-6, 2e-6], [1e-7, 1e-7])


# ---------------------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------------------

def test_diffusion_unit_conversion():
    # 1 A^2/ps = (1e-8 cm)^2 / 1e-12 s = 1e-16/1e-12 cm^2/s = 1e-4 cm^2/s
    assert tr.diffusion_A2ps_to_cm2s(1.0) == pytest.approx(1e-4, rel=1e-15)
    # a walker with 6 D t = 60 A^2 at t = 100 ps has D = 0.1 A^2/ps = 1e-5 cm^2/s
    t = np.arange(11) * 10.0
    d, c = tr.fit_msd_line(t, 0.6 * t, 10.0, 100.0)
    assert tr.diffusion_A2ps_to_cm2s(d) == pytest.approx(1e-5, rel=1e-12) and c == pytest.approx(0, abs=1e-12)


def test_nernst_einstein_by_hand():
    # D = 1e-6 cm^2/s, 2580 Li in V = 1e5 A^3 = 1e-19 cm^3 -> n = 2.58e22 cm^-3,
    # q^2 = (1.602176634e-19 C)^2 = 2.566969932e-38 C^2, k_B T = 1.380649e-23 * 300
    # = 4.141947e-21 J: sigma = 2.58e22 * 2.566969932e-38 * 1e-6 / 4.141947e-21
    # = 6.622782e-22 / 4.141947e-21 = 0.1598953 S/cm (C^2 cm^2 s^-1 cm^-3 J^-1 = S/cm).
    sigma, se = tr.nernst_einstein_conductivity(1e-6, 2580, 1e5, 300.0, D_stderr_cm2_s=1e-7)
    assert sigma == pytest.approx(0.1598953, rel=1e-6)
    assert se == pytest.approx(0.01598953, rel=1e-6)   # linear in D
    sigma2, _ = tr.nernst_einstein_conductivity(1e-6, 2580, 1e5, 300.0, charge_e=2.0, haven_ratio=0.5)
    assert sigma2 == pytest.approx(8 * 0.1598953, rel=1e-6)   # q^2 / H = 4 / 0.5


def test_collective_conductivity_by_hand():
    # slope d<|dP|^2>/dt = 1 e^2 A^2/ps = 2.566969932e-38 C^2 * 1e-20 m^2 / 1e-12 s
    # = 2.566969932e-46 C^2 m^2/s; 6 V k_B T with V = 1e4 A^3 = 1e-26 m^3, T = 500 K:
    # 6 * 1e-26 * 6.903245e-21 J = 4.141947e-46 J m^3 -> 0.6197497 S/m = 6.197497e-3 S/cm
    assert tr.collective_conductivity_S_cm(1.0, 1e4, 500.0) == pytest.approx(6.197497e-3, rel=1e-6)


# ---------------------------------------------------------------------------------------
# Reading and command line
# ---------------------------------------------------------------------------------------

def test_cli_diffusion_type_map_and_timestep(tmp_path, capsys):
    from lipsglass.cli import main

    path = tmp_path / "typed.dump"
    write_wrapped_dump(path, walk(3), steps_per_frame=250, by_type=True)  # 250 steps x 2 fs = 0.5 ps
    csv = tmp_path / "msd.csv"
    assert main(["diffusion", str(path), "--timestep-fs", "2", "--type-map", "1:Li,2:S", "--temperature-K", "600",
                 "--msd-out", str(csv)]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("D_cm2_s", "D_stderr_cm2_s", "loglog_slope", "fit_start_ps", "fit_end_ps", "n_atoms", "diffusive",
                "estimators", "stderr_estimator", "D_stderr_bootstrap_cm2_s", "sigma_NE_S_cm", "sigma_einstein_S_cm"):
        assert key in out, key
    assert out["n_atoms"] == N_LI and out["dt_ps"] == pytest.approx(0.5)
    assert abs(out["D_cm2_s"] - D_TRUE * 1e-4 * COM_FACTOR) < 4 * out["D_stderr_cm2_s"]
    table = np.loadtxt(csv, delimiter=",", skiprows=1)
    assert table.shape == (N_FRAMES, 3)
    # explicit window is used as given
    assert main(["diffusion", str(path), "--dt-ps", "0.5", "--type-map", "1:Li,2:S", "--fit-start-ps", "5",
                 "--fit-end-ps", "20"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["fit_start_ps"], out["fit_end_ps"], out["fit_window_rule"]) == (5.0, 20.0, "given")
    # --ff-types gives the elements per LAMMPS type; the collective conductivity uses the Li
    # only with the Nernst-Einstein charge (not the force field's partial charges)
    assert main(["diffusion", str(path), "--dt-ps", "0.5", "--ff-types", "Li,S4", "--temperature-K", "600"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_atoms"] == N_LI and "net_charge_e" not in out
    assert out["sigma_einstein_definition"].startswith("Li only, q = +1 e")


def test_reader_rejects_bad_dumps(tmp_path):
    path = tmp_path / "w.dump"
    write_wrapped_dump(path, walk(0, n_frames=30))
    with pytest.raises(ValueError, match="exactly one of dt_ps"):
        tr.read_species_trajectory(path)
    with pytest.raises(ValueError, match="no Na atoms"):
        tr.read_species_trajectory(path, "Na", dt_ps=1.0)
    # uneven frame spacing
    box = Box(np.zeros(3), np.full(3, BOX_L))
    uneven = tmp_path / "uneven.dump"
    with open(uneven, "w") as fh:
        for step in (0, 100, 300):
            write_dump_frame(fh, step, box, {"id": np.arange(1, 3), "element": np.array(["Li", "S"]),
                                             "xu": np.zeros(2), "yu": np.zeros(2), "zu": np.zeros(2)})
    with pytest.raises(ValueError, match="evenly spaced"):
        tr.read_species_trajectory(uneven, dt_ps=1.0)
    # wrapped coordinates without image flags cannot be unwrapped
    nowrap = tmp_path / "nowrap.dump"
    with open(nowrap, "w") as fh:
        for step in (0, 100):
            write_dump_frame(fh, step, box, {"id": np.arange(1, 3), "element": np.array(["Li", "S"]),
                                             "x": np.zeros(2), "y": np.zeros(2), "z": np.zeros(2)})
    with pytest.raises(ValueError, match="cannot unwrap"):
        tr.read_species_trajectory(nowrap, dt_ps=1.0)
    with pytest.raises(ValueError, match="n_blocks must be >= 4"):
        tr.diffusion_from_positions(walk(0)[:, :N_LI], DT, n_blocks=3)
    with pytest.raises(ValueError, match="bad type-map"):
        tr.parse_type_map("1=Li")


# ---------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------

def test_figures_are_written(tmp_path):
    from lipsglass.figures import transport as figs

    T = np.array([500.0, 600.0, 700.0])
    fits = {}
    for k, ea in enumerate((0.30, 0.25)):
        D = 1e-3 * np.exp(-ea / (K_B_EV * T))
        fits[f"glass {k}"] = tr.arrhenius_fit(T, D, 0.1 * D)
    figs.plot_arrhenius(fits, tmp_path / "a.png", tmp_path / "a.pdf")
    exp_csv = tmp_path / "exp.csv"
    exp_csv.write_text("label,sigma_S_cm,T_K,kind,citation\n70Li2S-30P2S5,1e-4,298,glass,Preefer 2019\n"
                       "70Li2S-30P2S5 GC,3.2e-3,298,glass-ceramic,Mizuno 2006\n")
    sims = []
    for label, fit in fits.items():
        p = fit.predict(300.0)
        s, se = tr.nernst_einstein_conductivity(p["D_cm2_s"], 2580, 1.9e5, 300.0, D_stderr_cm2_s=p["D_stderr_cm2_s"])
        sims.append({"label": label, "sigma_S_cm": s, "sigma_stderr_S_cm": se})
    figs.plot_conductivity(sims, exp_csv, tmp_path / "b.png", tmp_path / "b.pdf")
    res = tr.diffusion_from_positions(walk(2)[:, :N_LI], DT)
    figs.plot_msd({"walk": res}, tmp_path / "c.png", tmp_path / "c.pdf")
    for name in "abc":
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (tmp_path / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
    bad = tmp_path / "bad.csv"
    bad.write_text("label,sigma\nx,1\n")
    with pytest.raises(ValueError, match="missing columns"):
        figs.read_experimental_conductivity(bad)
