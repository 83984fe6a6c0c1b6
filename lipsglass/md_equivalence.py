"""Physics equivalence of an MD setting against the current one: the pass/fail logic of
``benchmarks/md_settings.py`` (issue 28, item 2), pure functions of small arrays.

A candidate setting (another integrator, Coulomb cutoff, PPPM option, neighbour list, MPI x
OpenMP layout) is *eligible* only when every check below ran and passed:

(a) **NVE energy drift.** The total-energy drift of an NVE run, per atom per ns in units of kT
    (:func:`energy_drift`), with its upper confidence bound ``|drift| + z SE`` below
    ``DRIFT_BOUND_KT_PER_ATOM_NS`` on every glass (:func:`drift_check`).
(b) **Dynamics and structure.** Li D at 500 K and the Li-S and P-S g(r) of the candidate's runs
    agree with the current input's runs of the same glasses within their standard error over
    the replicas: paired differences (candidate - current, one pair per glass), a t interval of
    the mean difference that contains zero (:func:`paired_check`; per g(r) bin with a
    Bonferroni correction over the bins, :func:`rdf_check`).
(c) **Force accuracy.** The RMS force error against an Ewald reference at tight accuracy,
    relative to the force between two unit charges 1 A apart (LAMMPS' definition of
    ``kspace_accuracy``; 332.06371 kcal/mol/A in units real), is at most the configured
    accuracy (:func:`force_check`).

The drift bound: 0.1 kT per atom per ns. Uncompensated, it would heat the glass (heat capacity
~3 k per atom) by 0.033 T per ns, 17 K/ns at 500 K; under the workflow's Nose-Hoover thermostat
(damping 100 fs) such a heat leak shifts the temperature by ~drift x tau / (3 kT) ~ 3e-6 T, and in
an NVE-like stretch of one thermostat period it is 1e-5 kT per atom: far below every quantity the
study measures. It is also a bound a correct integrator passes by a wide margin (measured drift of
the current input: docs/md_cost.md), while an unstable time step drifts by orders of magnitude more.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

BOLTZMANN_KCAL_MOL_K = 0.0019872043      # k_B in kcal/mol/K (LAMMPS units real)
QQR2E_REAL = 332.06371                   # force of two unit charges 1 A apart, kcal/mol/A (LAMMPS units real)
DRIFT_BOUND_KT_PER_ATOM_NS = 0.1         # (a): module docstring
DRIFT_Z = 2.0                            # (a): upper bound |drift| + DRIFT_Z x SE
LEVEL = 0.95                             # (b): family-wise confidence of the paired intervals


@dataclass
class Check:
    """One equivalence check: ``passed`` None means it was not run (never eligible)."""

    name: str
    passed: bool | None
    value: float | None = None
    bound: float | None = None
    detail: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def statistical_inefficiency(x: np.ndarray) -> float:
    """g = 1 + 2 sum_k rho_k of a series (sum up to the first non-positive autocorrelation):
    the factor by which correlated samples inflate the variance of a mean (>= 1)."""
    x = np.asarray(x, float) - np.mean(x)
    n = len(x)
    var = float(np.dot(x, x)) / n
    if n < 3 or var == 0.0:
        return 1.0
    g = 1.0
    for k in range(1, n // 2):
        rho = float(np.dot(x[:-k], x[k:])) / ((n - k) * var)
        if rho <= 0.0:
            break
        g += 2.0 * rho * (1.0 - k / n)
    return max(1.0, g)


def energy_drift(time_ps, etotal_kcal_mol, n_atoms: int, T_K: float) -> dict:
    """Least-squares slope of the total energy of an NVE run, per atom per ns in units of kT,
    and its standard error (the ordinary least-squares SE inflated by the statistical
    inefficiency of the residuals, which are correlated from sample to sample)."""
    t = np.asarray(time_ps, float)
    e = np.asarray(etotal_kcal_mol, float)
    if len(t) != len(e) or len(t) < 4:
        raise ValueError("energy_drift needs matching time and energy series of >= 4 samples")
    slope, intercept = np.polyfit(t, e, 1)
    resid = e - (slope * t + intercept)
    sxx = float(np.sum((t - t.mean()) ** 2))
    se = math.sqrt(float(np.sum(resid ** 2)) / (len(t) - 2) / sxx) * math.sqrt(statistical_inefficiency(resid))
    unit = 1000.0 / (n_atoms * BOLTZMANN_KCAL_MOL_K * T_K)    # kcal/mol/ps -> kT per atom per ns
    return {"drift_kT_per_atom_ns": float(slope) * unit, "stderr_kT_per_atom_ns": se * unit,
            "slope_kcal_mol_ps": float(slope), "span_ps": float(t[-1] - t[0]), "samples": int(len(t)),
            "etotal_std_kcal_mol": float(np.std(e)), "n_atoms": int(n_atoms), "T_K": float(T_K)}


def drift_check(drifts: list[dict], bound: float = DRIFT_BOUND_KT_PER_ATOM_NS, z: float = DRIFT_Z) -> Check:
    """(a): every glass's |drift| + z SE (kT per atom per ns) at most ``bound``."""
    if not drifts:
        return Check("nve_drift", None, bound=bound, detail="not run")
    upper = [abs(d["drift_kT_per_atom_ns"]) + z * d["stderr_kT_per_atom_ns"] for d in drifts]
    worst = max(upper)
    return Check("nve_drift", bool(worst <= bound), worst, bound,
                 f"max over {len(drifts)} glasses of |drift| + {z:g} SE (kT/atom/ns); drifts "
                 + ", ".join(f"{d['drift_kT_per_atom_ns']:+.3g}+-{d['stderr_kT_per_atom_ns']:.2g}" for d in drifts))


def rms_force_error(forces, reference) -> float:
    """sqrt(mean over atoms of |F - F_ref|^2) (same units as the forces)."""
    f = np.asarray(forces, float)
    r = np.asarray(reference, float)
    if f.shape != r.shape or f.ndim != 2 or f.shape[1] != 3:
        raise ValueError(f"forces must be matching (N, 3) arrays, got {f.shape} and {r.shape}")
    return float(np.sqrt(np.mean(np.sum((f - r) ** 2, axis=1))))


def force_check(rms_errors_kcal_mol_A: list[float], accuracy: float) -> Check:
    """(c): the largest RMS force error over the glasses, relative to QQR2E_REAL, at most ``accuracy``."""
    if not rms_errors_kcal_mol_A:
        return Check("force_error", None, bound=accuracy, detail="not run")
    rel = max(rms_errors_kcal_mol_A) / QQR2E_REAL
    return Check("force_error", bool(rel <= accuracy), rel, accuracy,
                 "RMS |F - F_ewald(1e-8)| / (332.06371 kcal/mol/A), worst of "
                 + ", ".join(f"{e / QQR2E_REAL:.3g}" for e in rms_errors_kcal_mol_A))


def _paired(reference, candidate) -> tuple[np.ndarray, float, float]:
    ref = np.asarray(reference, float)
    cand = np.asarray(candidate, float)
    if ref.shape != cand.shape or ref.shape[0] < 2:
        raise ValueError(f"paired comparison needs >= 2 matching replicas, got {ref.shape} and {cand.shape}")
    d = cand - ref
    return d, d.mean(axis=0), d.std(axis=0, ddof=1) / math.sqrt(d.shape[0])


def t_critical(n: int, level: float = LEVEL, tests: int = 1) -> float:
    """Two-sided t quantile for n paired replicas, Bonferroni-corrected over ``tests``."""
    return float(stats.t.ppf(1.0 - (1.0 - level) / (2.0 * tests), n - 1))


def paired_check(name: str, reference, candidate, level: float = LEVEL, tests: int = 1) -> Check:
    """(b) for one scalar per glass (e.g. Li D): the mean paired difference is within
    t x SE of zero (SE over replicas; ``tests`` Bonferroni-corrects a family of such checks)."""
    d, mean, se = _paired(reference, candidate)
    tcrit = t_critical(len(d), level, tests)
    ref_mean = float(np.mean(reference))
    if se == 0.0:
        passed = bool(mean == 0.0)
        z = 0.0 if passed else math.inf
    else:
        z = abs(float(mean)) / float(se)
        passed = bool(z <= tcrit)
    rel = float(mean) / ref_mean if ref_mean else float("nan")
    return Check(name, passed, z, tcrit,
                 f"mean difference {float(mean):.4g} ({rel:+.1%} of the current mean {ref_mean:.4g}), "
                 f"SE {float(se):.3g} over {len(d)} paired glasses; |mean|/SE = {z:.2f} vs t = {tcrit:.2f}")


def rdf_check(name: str, r, reference, candidate, level: float = LEVEL, r_range: tuple[float, float] | None = None,
              coarsen: int = 1) -> Check:
    """(b) for a g(r) per glass (rows: glasses, columns: bins): in every bin of ``r_range``
    the mean paired difference is within t x SE of zero, t Bonferroni-corrected over the bins
    tested. ``coarsen`` averages that many neighbouring bins first. Bins where every glass has
    the same value in both runs (g = 0 inside the core) are not tested."""
    r = np.asarray(r, float)
    ref = np.asarray(reference, float)
    cand = np.asarray(candidate, float)
    if coarsen > 1:
        m = (len(r) // coarsen) * coarsen
        r = r[:m].reshape(-1, coarsen).mean(axis=1)
        ref = ref[:, :m].reshape(ref.shape[0], -1, coarsen).mean(axis=2)
        cand = cand[:, :m].reshape(cand.shape[0], -1, coarsen).mean(axis=2)
    keep = np.ones(len(r), bool) if r_range is None else (r >= r_range[0]) & (r <= r_range[1])
    d, mean, se = _paired(ref[:, keep], cand[:, keep])
    constant = (se == 0.0) & (mean == 0.0)
    tested = ~constant
    n_tests = int(tested.sum())
    if n_tests == 0:
        return Check(name, True, 0.0, None, "no bin differs in any glass")
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se[tested] > 0, np.abs(mean[tested]) / se[tested], np.inf)
    tcrit = t_critical(len(d), level, n_tests)
    worst = int(np.argmax(z))
    r_tested = r[keep][tested]
    return Check(name, bool(np.all(z <= tcrit)), float(z[worst]), tcrit,
                 f"{n_tests} bins of {r_tested[0]:.2f}-{r_tested[-1]:.2f} A tested, largest |mean diff|/SE "
                 f"{float(z[worst]):.2f} at r = {r_tested[worst]:.2f} A (Bonferroni t = {tcrit:.2f}); "
                 f"{int(np.sum(z > t_critical(len(d), level, 1)))} bins beyond the uncorrected t")


def eligibility(checks: list[Check]) -> dict:
    """Eligible only when every check ran and passed; names the failed and the missing ones."""
    failed = [c.name for c in checks if c.passed is False]
    missing = [c.name for c in checks if c.passed is None]
    return {"eligible": not failed and not missing and bool(checks), "failed": failed, "not_run": missing,
            "checks": [c.to_dict() for c in checks]}
