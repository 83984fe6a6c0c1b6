"""Arrhenius law of the tracer diffusion coefficient: the weighted fit of ln D against 1/T and its
prediction of D at other temperatures.

Units: T in K, D in cm^2/s, Ea in eV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lipsglass import units

__all__ = ["ArrheniusFit", "arrhenius_fit"]


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
