"""Arrhenius law of the tracer diffusion coefficient: the weighted fit of ln D against 1/T, which
runs may enter it, and the extrapolation of D and the Nernst-Einstein conductivity.

Units: T in K, D in cm^2/s, Ea in eV, volumes in A^3, conductivities in S/cm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from lipsglass import units
from lipsglass.transport.conductivity import nernst_einstein_conductivity
from lipsglass.transport.settings import TransportSettings

__all__ = ["ArrheniusFit", "arrhenius_fit", "arrhenius_fit_from_dict", "arrhenius_exclusion_reason",
           "arrhenius_summary"]


@dataclass
class ArrheniusFit:
    """ln D = ln D0 - Ea / (k_B T), from weighted least squares in (1/T, ln D).

    ``cov`` is the covariance of (ln D0, Ea_eV). With ``absolute_sigma`` the input SEs are
    taken at face value; otherwise the covariance is scaled by the reduced chi^2.
    """

    Ea_eV: float
    Ea_stderr_eV: float
    D0_cm2_s: float
    D0_stderr_cm2_s: float
    ln_D0: float
    ln_D0_stderr: float
    cov: np.ndarray
    chi2: float
    dof: int
    absolute_sigma: bool
    T_K: np.ndarray
    D_cm2_s: np.ndarray
    D_stderr_cm2_s: np.ndarray

    def predict(self, T_K: float | np.ndarray) -> dict:
        """D at temperature(s) T_K with the delta-method SE from the parameter covariance:
        var ln D = var(lnD0) + var(Ea)/(kT)^2 - 2 cov(lnD0, Ea)/(kT); SE_D = D * sd(ln D).
        Also the (asymmetric) 95 % interval exp(ln D +- 1.96 sd)."""
        T = np.asarray(T_K, float)
        if np.any(T <= 0):
            raise ValueError("temperatures must be positive")
        x = 1.0 / (units.BOLTZMANN_EV_K * T)
        ln_d = self.ln_D0 - self.Ea_eV * x
        var = self.cov[0, 0] + x * x * self.cov[1, 1] - 2.0 * x * self.cov[0, 1]
        sd = np.sqrt(var)
        d = np.exp(ln_d)
        out = {"T_K": T, "D_cm2_s": d, "D_stderr_cm2_s": d * sd, "ln_D_stderr": sd,
               "D_ci95_low_cm2_s": np.exp(ln_d - 1.96 * sd), "D_ci95_high_cm2_s": np.exp(ln_d + 1.96 * sd)}
        if T.ndim == 0:
            out = {k: float(v) for k, v in out.items()}
        return out

    def to_dict(self) -> dict:
        return {"Ea_eV": self.Ea_eV, "Ea_stderr_eV": self.Ea_stderr_eV, "D0_cm2_s": self.D0_cm2_s,
                "D0_stderr_cm2_s": self.D0_stderr_cm2_s, "ln_D0": self.ln_D0, "ln_D0_stderr": self.ln_D0_stderr,
                "cov_lnD0_Ea": self.cov.tolist(), "chi2": self.chi2, "dof": self.dof,
                "absolute_sigma": self.absolute_sigma, "T_K": self.T_K.tolist(), "D_cm2_s": self.D_cm2_s.tolist(),
                "D_stderr_cm2_s": self.D_stderr_cm2_s.tolist()}


def arrhenius_fit(T_K, D_cm2_s, D_stderr_cm2_s, absolute_sigma: bool = True) -> ArrheniusFit:
    """Weighted least squares of ln D vs 1/(k_B T): weights 1/SE(ln D)^2 with SE(ln D) = SE_D/D
    (first-order delta method). Returns Ea (eV), D0 (cm^2/s) with SEs and covariance."""
    T = np.asarray(T_K, float)
    D = np.asarray(D_cm2_s, float)
    S = np.asarray(D_stderr_cm2_s, float)
    if not (T.shape == D.shape == S.shape and T.ndim == 1):
        raise ValueError("T_K, D_cm2_s and D_stderr_cm2_s must be 1-D arrays of equal length")
    if T.size < 2 or np.unique(T).size < 2:
        raise ValueError("an Arrhenius fit needs at least two distinct temperatures")
    if np.any(T <= 0) or np.any(D <= 0) or np.any(S <= 0) or not np.all(np.isfinite(S)):
        raise ValueError("temperatures, D and their SEs must be positive and finite "
                         "(a non-positive D cannot enter a fit of ln D)")
    y = np.log(D)
    sy = S / D
    x = 1.0 / (units.BOLTZMANN_EV_K * T)                  # 1/eV
    A = np.column_stack([np.ones_like(x), -x])           # parameters (ln D0, Ea)
    w = 1.0 / sy ** 2
    normal = A.T @ (A * w[:, None])
    cov = np.linalg.inv(normal)
    p = cov @ (A.T @ (w * y))
    resid = y - A @ p
    chi2 = float(np.sum(w * resid ** 2))
    dof = T.size - 2
    if not absolute_sigma:
        if dof < 1:
            raise ValueError("absolute_sigma=False needs at least three temperatures")
        cov = cov * chi2 / dof
    ln_d0, ea = float(p[0]), float(p[1])
    return ArrheniusFit(Ea_eV=ea, Ea_stderr_eV=float(math.sqrt(cov[1, 1])), D0_cm2_s=math.exp(ln_d0),
                        D0_stderr_cm2_s=math.exp(ln_d0) * math.sqrt(cov[0, 0]), ln_D0=ln_d0,
                        ln_D0_stderr=float(math.sqrt(cov[0, 0])), cov=cov, chi2=chi2, dof=dof,
                        absolute_sigma=absolute_sigma, T_K=T, D_cm2_s=D, D_stderr_cm2_s=S)


def arrhenius_fit_from_dict(summary: Mapping, table: Sequence[Mapping]) -> ArrheniusFit | None:
    """ArrheniusFit of a glass from arrhenius.json and its diffusion.csv rows (None without a fit)."""
    if summary.get("status") != "ok":
        return None
    used = [r for r in table if r["in_arrhenius_fit"]]
    return ArrheniusFit(
        Ea_eV=summary["Ea_eV"], Ea_stderr_eV=summary["Ea_stderr_eV"], D0_cm2_s=summary["D0_cm2_s"],
        D0_stderr_cm2_s=summary["D0_stderr_cm2_s"], ln_D0=summary["ln_D0"], ln_D0_stderr=summary["ln_D0_stderr"],
        cov=np.array(summary["cov_lnD0_Ea"]), chi2=summary["chi2"], dof=summary["dof"],
        absolute_sigma=summary["absolute_sigma"], T_K=np.array([r["T_K"] for r in used]),
        D_cm2_s=np.array([r["D_cm2_s"] for r in used]), D_stderr_cm2_s=np.array([r["D_stderr_cm2_s"] for r in used]))


def arrhenius_exclusion_reason(run: Mapping, min_T_K: float, exclude_T_K: Sequence[float],
                               phases: Sequence[str] | None = None) -> str | None:
    """Why a run cannot enter the fit of ln D vs 1/T (None if it can). Reasons, in order: the
    configured temperature filters, a run of a phase not selected for the fit (``phases``, e.g.
    only glass: a liquid run's D describes a supercooled liquid, not the glass), a non-diffusive
    run (its D is not a long-time diffusion coefficient), a non-positive D, a missing or
    non-positive standard error."""
    T = run["temperature_K"]
    if T < min_T_K:
        return f"below transport.arrhenius_min_T_K = {min_T_K:g} K"
    if any(abs(T - x) < 0.5 for x in exclude_T_K):
        return "listed in transport.arrhenius_exclude_T_K"
    if phases is not None and run.get("phase") not in phases:
        return (f"{run.get('phase', 'unlabelled')} run ({run.get('phase_reason', 'no phase label')}); the fit uses "
                f"transport.arrhenius_phases = {list(phases)}")
    if not run["diffusive"]:
        return f"not diffusive: {run['diffusive_reason']}"
    if not run["D_cm2_s"] > 0:
        return f"D = {run['D_cm2_s']:.3g} cm^2/s is not positive"
    se = run.get("D_stderr_cm2_s")
    if se is None or not se > 0:
        return "no positive standard error of D"
    return None


def arrhenius_summary(runs: Sequence[Mapping], settings: TransportSettings, n_species: int, volume_A3: float,
                      volume_source: str, phases: Sequence[str] | None = None) -> tuple[dict, list[str | None]]:
    """Arrhenius fit over the usable runs and the extrapolation to ``extrapolation_T_K``.

    ``phases``: the phases whose runs may enter the fit (``arrhenius_exclusion_reason``; None:
    every run, labelled or not).
    ``n_species`` / ``volume_A3`` (A^3): the ion count and cell volume entering the
    Nernst-Einstein conductivity at the extrapolation temperature (the quenched glass).
    Returns (arrhenius.json dict, exclusion reason per run, None = used). Fewer than two usable
    distinct temperatures give null fit values and a ``reason``, not an exception.
    """
    T_x = float(settings.extrapolation_T_K)
    label = f"{round(T_x)}K"
    haven = float(settings.haven_ratio)
    reasons = [arrhenius_exclusion_reason(r, settings.arrhenius_min_T_K, settings.arrhenius_exclude_T_K, phases)
               for r in runs]
    used = [r for r, why in zip(runs, reasons) if why is None]
    produced = {round(r["temperature_K"]) for r in runs}
    unknown = [x for x in settings.arrhenius_exclude_T_K if round(x) not in produced]
    out = {
        "species": settings.species,
        "model": "ln D = ln D0 - Ea / (k_B T), weighted least squares in 1/T with weights 1/SE(ln D)^2",
        "temperatures_used_K": [r["temperature_K"] for r in used],
        "temperatures_excluded": [{"T_K": r["temperature_K"], "reason": why}
                                  for r, why in zip(runs, reasons) if why is not None],
        "extrapolation_T_K": T_x,
        "haven_ratio": haven,
        "haven_ratio_statement": (
            f"sigma_{label} = n q^2 D_{label} / (H k_B T) with H = {haven:g}: an assumption (ion-ion velocity "
            "cross-correlations neglected), not a measured Haven ratio; the collective (Einstein) conductivity "
            "of each run is in diffusion.csv for comparison"),
        "species_charge_e": settings.species_charge_e,
        "n_species": n_species,
        "volume_A3": volume_A3,
        "volume_source": volume_source,
    }
    if unknown:
        out["notes"] = [f"transport.arrhenius_exclude_T_K lists {unknown} K, not production temperatures"]
    null_keys = ["Ea_eV", "Ea_stderr_eV", "D0_cm2_s", "D0_stderr_cm2_s", "ln_D0", "ln_D0_stderr", "cov_lnD0_Ea",
                 "chi2", "dof", "reduced_chi2", "absolute_sigma", f"D_{label}_cm2_s", f"D_{label}_stderr_cm2_s",
                 f"D_{label}_ci95_cm2_s", f"D_{label}_is_extrapolated", f"sigma_{label}_S_cm",
                 f"sigma_{label}_stderr_S_cm"]
    if len({round(r["temperature_K"], 6) for r in used}) < 2:
        usable = out["temperatures_used_K"]
        out.update({k: None for k in null_keys})
        out["status"] = "no_fit"
        out["reason"] = (f"{len(usable)} usable temperature(s) {usable} K; an Arrhenius fit needs at least two "
                         "(see temperatures_excluded)")
        # no run entered a fit: say so for the usable ones too
        reasons = [why or "usable, but the glass has fewer than two usable temperatures: no fit" for why in reasons]
        out["temperatures_used_K"] = []
        out["temperatures_excluded"] = [{"T_K": r["temperature_K"], "reason": why} for r, why in zip(runs, reasons)]
        return out, reasons

    absolute = bool(settings.arrhenius_absolute_sigma)
    if not absolute and len(used) < 3:
        # the reduced chi^2 needs one degree of freedom: fall back, and say so
        out.setdefault("notes", []).append("arrhenius_absolute_sigma is false but only two temperatures are "
                                           "usable: the SEs are taken at face value (absolute_sigma = true)")
        absolute = True
    fit = arrhenius_fit([r["temperature_K"] for r in used], [r["D_cm2_s"] for r in used],
                        [r["D_stderr_cm2_s"] for r in used], absolute_sigma=absolute)
    d = fit.to_dict()
    for k in ("T_K", "D_cm2_s", "D_stderr_cm2_s"):
        d.pop(k)
    out.update(d)
    out["reduced_chi2"] = fit.chi2 / fit.dof if fit.dof > 0 else None
    pred = fit.predict(T_x)
    out[f"D_{label}_cm2_s"] = pred["D_cm2_s"]
    out[f"D_{label}_stderr_cm2_s"] = pred["D_stderr_cm2_s"]
    out[f"D_{label}_ci95_cm2_s"] = [pred["D_ci95_low_cm2_s"], pred["D_ci95_high_cm2_s"]]
    out[f"D_{label}_is_extrapolated"] = not (min(fit.T_K) <= T_x <= max(fit.T_K))
    sigma, se = nernst_einstein_conductivity(pred["D_cm2_s"], n_species, volume_A3, T_x,
                                             settings.species_charge_e, pred["D_stderr_cm2_s"], haven_ratio=haven)
    out[f"sigma_{label}_S_cm"] = sigma
    out[f"sigma_{label}_stderr_S_cm"] = se
    out["status"] = "ok"
    out["reason"] = f"fit over {len(used)} temperatures"
    return out, reasons
