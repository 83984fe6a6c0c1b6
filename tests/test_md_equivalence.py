"""Pass/fail logic of the MD-setting equivalence checks (lipsglass.md_equivalence), on small
synthetic inputs: cases that must pass and cases that must fail (planted drift, planted D shift,
planted g(r) peak shift, planted force error)."""

import numpy as np
import pytest

from lipsglass.engine.protocols import Protocol, Stage, protocol_commands
from lipsglass.engine.settings import MDSettings
from lipsglass.forcefield import ForceField
from lipsglass.md_equivalence import (BOLTZMANN_KCAL_MOL_K, DRIFT_BOUND_KT_PER_ATOM_NS, QQR2E_REAL, Check,
                                      drift_check, eligibility, energy_drift, force_check, paired_check, rdf_check,
                                      rms_force_error, statistical_inefficiency)

N_ATOMS, T_K = 800, 500.0
KT = BOLTZMANN_KCAL_MOL_K * T_K


def nve_series(drift_kT_per_atom_ns: float, noise_kcal_mol: float = 0.3, seed: int = 0, span_ps: float = 10.0,
               n: int = 1001) -> tuple[np.ndarray, np.ndarray]:
    """Total energy of an NVE run: a planted linear drift plus correlated (AR(1)) fluctuations."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, span_ps, n)
    noise = np.zeros(n)
    for k in range(1, n):
        noise[k] = 0.9 * noise[k - 1] + rng.normal(0.0, noise_kcal_mol * np.sqrt(1 - 0.81))
    slope = drift_kT_per_atom_ns * N_ATOMS * KT / 1000.0        # kcal/mol per ps
    return t, -12000.0 + slope * t + noise


def test_energy_drift_recovers_a_planted_slope_in_kT_per_atom_per_ns():
    t, e = nve_series(0.5, noise_kcal_mol=0.0)
    d = energy_drift(t, e, N_ATOMS, T_K)
    assert d["drift_kT_per_atom_ns"] == pytest.approx(0.5, rel=1e-9)
    assert d["stderr_kT_per_atom_ns"] == pytest.approx(0.0, abs=1e-9)


def test_correlated_noise_inflates_the_drift_standard_error():
    t, e = nve_series(0.0, noise_kcal_mol=0.3, seed=3)
    resid = e - np.polyval(np.polyfit(t, e, 1), t)
    assert statistical_inefficiency(resid) > 5.0             # AR(1) with 0.9: g ~ 19
    assert statistical_inefficiency(np.random.default_rng(1).normal(size=2000)) < 1.5


def test_drift_check_passes_a_conserving_run_and_fails_a_planted_drift():
    good = [energy_drift(*nve_series(0.0, seed=s), N_ATOMS, T_K) for s in (1, 2)]
    check = drift_check(good)
    assert check.passed is True and check.value < DRIFT_BOUND_KT_PER_ATOM_NS
    planted = good + [energy_drift(*nve_series(1.0, seed=4), N_ATOMS, T_K)]
    bad = drift_check(planted)
    assert bad.passed is False and bad.value > DRIFT_BOUND_KT_PER_ATOM_NS


def test_drift_check_fails_when_the_noise_does_not_resolve_the_bound():
    # no drift, but fluctuations so large that |drift| + 2 SE exceeds the bound: undecided -> not passed
    noisy = [energy_drift(*nve_series(0.0, noise_kcal_mol=200.0, seed=5), N_ATOMS, T_K)]
    assert drift_check(noisy).passed is False


def test_paired_check_passes_replicas_within_their_se_and_fails_a_planted_shift():
    rng = np.random.default_rng(7)
    ref = rng.lognormal(np.log(1e-5), 0.5, size=10)           # D of 10 glasses spanning compositions
    same = ref * (1.0 + rng.normal(0.0, 0.1, size=10))         # another run of the same glasses: 10 % scatter
    assert paired_check("D", ref, same).passed is True
    shifted = same * 1.4                                       # planted 40 % D shift, far beyond the SE
    check = paired_check("D", ref, shifted)
    assert check.passed is False and check.value > check.bound


def test_paired_check_identical_runs_pass_and_any_difference_without_scatter_fails():
    ref = np.array([1.0, 2.0, 3.0])
    assert paired_check("x", ref, ref).passed is True
    assert paired_check("x", ref, ref + 0.1).passed is False


def test_paired_check_needs_two_matching_replicas():
    with pytest.raises(ValueError):
        paired_check("x", [1.0], [1.0])
    with pytest.raises(ValueError):
        paired_check("x", [1.0, 2.0], [1.0, 2.0, 3.0])


def _gr(r, peak, rng, noise=0.02):
    return np.where(r > 1.8, 1.0 + 2.0 * np.exp(-((r - peak) / 0.1) ** 2), 0.0) + np.where(
        r > 1.8, rng.normal(0.0, noise, size=r.shape), 0.0)


def test_rdf_check_passes_noise_and_fails_a_planted_peak_shift():
    rng = np.random.default_rng(11)
    r = np.arange(0.0, 8.0, 0.02) + 0.01
    ref = np.array([_gr(r, 2.45, rng) for _ in range(10)])
    same = np.array([_gr(r, 2.45, rng) for _ in range(10)])
    check = rdf_check("Li_S", r, ref, same)
    assert check.passed is True
    shifted = np.array([_gr(r, 2.50, rng) for _ in range(10)])   # first peak 0.05 A out
    assert rdf_check("Li_S", r, ref, shifted).passed is False
    # bins inside the core (g = 0 everywhere) are not tested
    assert "bins of 1.8" in check.detail or "bins of 1.9" in check.detail


def test_force_check_against_the_relative_accuracy():
    rng = np.random.default_rng(2)
    ref = rng.normal(0.0, 20.0, size=(500, 3))
    # error vectors of RMS magnitude 0.5e-5 x 332 kcal/mol/A: within 1e-5
    small = ref + rng.normal(0.0, 0.5e-5 * QQR2E_REAL / np.sqrt(3), size=ref.shape)
    err = rms_force_error(small, ref)
    assert err / QQR2E_REAL == pytest.approx(0.5e-5, rel=0.1)
    assert force_check([err], 1e-5).passed is True
    large = ref + rng.normal(0.0, 3e-5 * QQR2E_REAL / np.sqrt(3), size=ref.shape)
    assert force_check([err, rms_force_error(large, ref)], 1e-5).passed is False
    with pytest.raises(ValueError):
        rms_force_error(ref[:, :2], ref[:, :2])


def test_eligible_only_when_every_check_ran_and_passed():
    ok = [Check("nve_drift", True), Check("force_error", True), Check("D", True)]
    assert eligibility(ok)["eligible"] is True
    failed = eligibility(ok[:2] + [Check("D", False)])
    assert failed["eligible"] is False and failed["failed"] == ["D"]
    missing = eligibility(ok[:2] + [Check("D", None)])
    assert missing["eligible"] is False and missing["not_run"] == ["D"]
    assert eligibility([])["eligible"] is False
    assert drift_check([]).passed is None and force_check([], 1e-5).passed is None


def test_default_md_settings_emit_the_current_input_unchanged(tmp_path):
    """The new md keys (run_style, kspace_modify) emit nothing at their defaults; set, they emit
    run_style after the timestep and kspace_modify after the model's setup (before the labels)."""
    ff = ForceField.load("ariga2022")
    data = tmp_path / "glass.data"
    protocol = Protocol(str(data), (), (Stage("nvt", "nvt temp 500 500 100", 10),), ())
    base = protocol_commands(ff, protocol, str(tmp_path), MDSettings(), "thermo.csv")
    assert not any(c.startswith(("run_style", "kspace_modify")) for c in base)
    md = MDSettings(timestep_fs=2.0, run_style="respa 2 2 bond 1 pair 2 kspace 2", kspace_modify="diff ad")
    cmds = protocol_commands(ff, protocol, str(tmp_path), md, "thermo.csv")
    k = cmds.index("timestep 2.0")
    assert cmds[k + 1] == "run_style respa 2 2 bond 1 pair 2 kspace 2"
    ks = cmds.index(next(c for c in cmds if c.startswith("kspace_style")))
    assert cmds.index("kspace_modify diff ad") > ks
    assert cmds[cmds.index("kspace_modify diff ad") + 1].startswith("labelmap")
    # otherwise the same input, with steps counted in 2-fs outer steps
    same = [c for c in cmds if not c.startswith(("run_style", "kspace_modify"))]
    assert len(same) == len(base)
    assert [c for c in same if "timestep" not in c and not c.startswith(("thermo ", "fix thermo_csv", "run ",
                                                                           "variable stage_end", "print"))] == [
        c for c in base if "timestep" not in c and not c.startswith(("thermo ", "fix thermo_csv", "run ",
                                                                     "variable stage_end", "print"))]
    assert "thermo 50" in same and "thermo 100" in base
