"""Glass transition temperature from melt-quench ramps, and glass/liquid labels of production runs.

Units throughout: temperatures in K, times in ps, volumes in A^3, specific volumes in cm^3/g,
densities in g/cm^3, energies and enthalpies in kcal/mol (whole cell, LAMMPS ``units real``),
pressures in atm, MSD in A^2, diffusion coefficients in cm^2/s, scan rates in K/ps.

Estimators (each choice is a documented, configurable default):

* Tg (``two_line_fit``): continuous two-line (hinge) least-squares fit
  y = a + b_below (T - Tg) for T < Tg and y = a + b_above (T - Tg) for T >= Tg. For a fixed Tg
  the fit is linear; Tg minimises the residual sum of squares SSE(Tg) over a grid of candidate
  breakpoints that leave at least ``min_points_per_side`` points on each side, refined by a
  bounded scalar minimisation around the best grid point.
* Correlated noise: thermo rows along a ramp are correlated in time (the barostat relaxes the
  volume over ~1 ps, rows are 0.1 ps apart), so iid formulas would understate every error.
  The residuals' integrated autocorrelation time (in rows), tau = 1 + 2 sum_{k>=1} rho_k, is
  the larger of (a) the residual autocorrelation summed up to the first lag where it is no
  longer positive (initial positive sequence) and (b) the AR(1) value (1 + r)/(1 - r), with
  r = rho_1 + (1 + 3 rho_1)/n the lag-1 autocorrelation corrected for its small-sample bias
  (Kendall); the effective sample size is n_eff = n / tau. Every variance below is multiplied
  by tau (the long-run variance of a slowly varying regressor under correlated noise).
* Interval of Tg: profile likelihood. D(Tg) = (SSE(Tg) - SSE_min) / (sigma^2 tau) with
  sigma^2 = SSE_min / (n - 4); the ``confidence`` interval is {Tg : D(Tg) <= q} with q the
  square of the Student t quantile with max(n_eff - 4, 1) degrees of freedom, so a short or
  strongly correlated ramp widens the interval. The interval may be asymmetric; the stated
  standard error is its half-width divided by the normal quantile. An interval cut by the
  edge of the candidate range is flagged. Measured on 200 seeded synthetic 90-row ramps (Tg 700 K,
  slopes 0.6 / 1.6 A^3/K, noise sd 25 A^3, AR(1) lag-1 correlation phi): the 95 % interval
  covered the true Tg in 95.5 / 93.5 / 92 / 89 % of them at phi = 0 / 0.5 / 0.7 / 0.85 (tau is
  underestimated on short, strongly correlated series; the same interval without the tau
  scaling covered 52 % at phi = 0.7). Averaging rows in temperature bins (``bin_K``) reduces
  the correlation the interval has to correct for.
* Resolved transition: the two slopes (with SEs from the least-squares covariance at the
  fitted Tg times tau) must differ by at least ``k_sigma`` standard errors of their difference
  (default 4: the breakpoint is chosen to maximise the change, so a single-test threshold is far
  too lenient; on 90-row straight ramps with AR(1) noise, k = 3 declared a transition in 2 / 7 /
  12 % of ramps at lag-1 correlation 0 / 0.7 / 0.85, k = 4 in 0 / 1 / 5 %), and the best
  breakpoint must not sit at the edge of the candidate range. Otherwise ``Tg_K`` is null with
  the reason; the best breakpoint is still reported as ``breakpoint_K``.
* Temperature axis: by default the ramp temperature, i.e. the least-squares line T(t) through
  the instantaneous temperatures of the ramp rows (the thermostat target, delayed by the
  thermostat lag). The instantaneous kinetic temperature of a ~1000-atom cell scatters by
  tens of K, an error in the abscissa that would flatten both slopes and blur Tg;
  ``temperature_axis='measured'`` uses it anyway.
* Enthalpy: H = E_total + P V, with P the imposed (barostat) pressure by default, since the
  instantaneous virial pressure of a small cell scatters by ~10^3 atm and would add noise of
  hundreds of kcal/mol; 1 atm A^3 = 1.01325e-25 J, i.e. ``ATM_A3_TO_KCAL_MOL`` kcal/mol.
* Tg depends on the scan rate (faster cooling, higher Tg); every Tg is reported with the rate
  measured from its rows (slope of T against time, K/ps).
* Composition Tg (``combine_tg``): mean over replicas (independent quenches), SE =
  std(ddof=1)/sqrt(n) (between-replica spread); one replica: its own within-replica SE, noted.
* Phase label (``phase_label``): a production run is 'liquid' if any of (i) its density fell
  by more than ``max_density_drop_percent`` from the quenched glass, (ii) its anion centres (P)
  diffuse: the late-window slope of their MSD (whole-system centre-of-mass drift removed)
  gives D_P above ``max_anion_D_cm2_s`` AND at least ``k_sigma`` standard errors above zero
  (SE from the spread of the per-atom slopes: atoms treated as independent), (iii) T >= Tg of
  its glass when Tg is known. Otherwise 'glass'.
"""

from __future__ import annotations

import csv
import logging
import math
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from lipsglass import units
from lipsglass.lammpsio import read_data

log = logging.getLogger(__name__)

__all__ = [
    "ATM_A3_TO_KCAL_MOL", "two_line_fit", "hinge", "load_ramp", "tg_from_thermo", "combine_tg",
    "glass_density_g_cm3", "anion_msd", "msd_plateau", "phase_label", "QUANTITY_UNITS",
]

# 1 atm * A^3 = 101325 Pa * 1e-30 m^3 = 1.01325e-25 J; per mole: * N_A / 4184 J/kcal
ATM_A3_TO_KCAL_MOL = 101325.0 * 1e-30 * units.AVOGADRO / 4184.0   # = 1.458397e-5 kcal/mol

# quantity -> (unit suffix of its keys, thermo-derived column)
QUANTITY_UNITS = {"volume": "A3", "enthalpy": "kcal_mol", "specific_volume": "cm3_g"}


# ---------------------------------------------------------------------------------------------
# Two-line (hinge) fit
# ---------------------------------------------------------------------------------------------


def hinge(T_K, intercept: float, slope_below: float, slope_above: float, Tg_K: float) -> np.ndarray:
    """The continuous two-line model: intercept + slope_below (T - Tg) below Tg, + slope_above
    (T - Tg) above (units of y and y/K)."""
    d = np.asarray(T_K, float) - Tg_K
    return intercept + slope_below * np.minimum(d, 0.0) + slope_above * np.maximum(d, 0.0)


def _design(T: np.ndarray, tg: float) -> np.ndarray:
    d = T - tg
    return np.column_stack([np.ones_like(T), np.minimum(d, 0.0), np.maximum(d, 0.0)])


def _fit_at(T: np.ndarray, y: np.ndarray, tg: float) -> tuple[np.ndarray, float, np.ndarray]:
    """Least-squares hinge at a fixed breakpoint: (coefficients, SSE, X^T X inverse)."""
    X = _design(T, tg)
    xtx = X.T @ X
    coef = np.linalg.solve(xtx, X.T @ y)
    r = y - X @ coef
    return coef, float(r @ r), np.linalg.inv(xtx)


def _sse_profile(T: np.ndarray, y: np.ndarray, tgs: np.ndarray) -> np.ndarray:
    """SSE of the hinge fit at every candidate breakpoint (vectorised normal equations)."""
    d = T[None, :] - tgs[:, None]
    lo, hi = np.minimum(d, 0.0), np.maximum(d, 0.0)
    one = np.ones_like(lo)
    X = np.stack([one, lo, hi], axis=-1)                     # (g, n, 3)
    xtx = np.einsum("gni,gnj->gij", X, X)
    xty = np.einsum("gni,n->gi", X, y)
    coef = np.linalg.solve(xtx, xty[..., None])[..., 0]
    r = y[None, :] - np.einsum("gni,gi->gn", X, coef)
    return np.einsum("gn,gn->g", r, r)


def autocorrelation_time(residuals: np.ndarray) -> dict:
    """Integrated autocorrelation time tau (in samples) of a residual series, >= 1.

    tau_ips = 1 + 2 sum rho_k over lags k >= 1 up to the first non-positive rho_k (initial
    positive sequence); tau_ar1 = (1 + r)/(1 - r) with r = rho_1 + (1 + 3 rho_1)/n (AR(1) lag-1
    autocorrelation with Kendall's small-sample bias correction, capped at 0.98).
    tau = max(1, tau_ips, tau_ar1). Returns tau, both estimates, rho_1 and n_eff = n / tau.
    """
    r = np.asarray(residuals, float)
    n = r.size
    r = r - r.mean()
    c0 = float(r @ r) / n
    if n < 3 or c0 <= 0:
        return {"tau": 1.0, "tau_ips": 1.0, "tau_ar1": 1.0, "rho_1": 0.0, "n_eff": float(n)}
    rho = np.array([float(r[:-k] @ r[k:]) / n / c0 for k in range(1, n // 2)])
    s = 0.0
    for value in rho:
        if value <= 0:
            break
        s += value
    tau_ips = 1.0 + 2.0 * s
    rho1 = float(rho[0]) if rho.size else 0.0
    r1 = min(rho1 + (1.0 + 3.0 * rho1) / n, 0.98) if rho1 > 0 else rho1
    tau_ar1 = (1.0 + r1) / (1.0 - r1)
    tau = max(1.0, tau_ips, tau_ar1)
    return {"tau": tau, "tau_ips": tau_ips, "tau_ar1": tau_ar1, "rho_1": rho1, "n_eff": n / tau}


TWO_LINE_ESTIMATOR = (
    "continuous two-line (hinge) least squares, Tg minimising SSE over breakpoints with >= {m} points "
    "per side; errors scaled by the residual integrated autocorrelation time tau (n_eff = n / tau); "
    "Tg interval: profile likelihood (SSE(Tg) - SSE_min) / (sigma^2 tau) <= t(q, n_eff - 4)^2, "
    "SE = interval half-width / z; resolved if slope_above - slope_below >= {k:g} SE of the "
    "difference and the breakpoint is inside the candidate range")


def two_line_fit(T_K, y, *, y_unit: str = "y", min_points_per_side: int = 5, n_grid: int = 400,
                 k_sigma: float = 4.0, confidence: float = 0.95) -> dict:
    """Hinge fit of y(T) (see the module docstring for the estimator); JSON-ready dict.

    ``y_unit`` names the unit of y in the keys (e.g. 'A3', 'kcal_mol'): slopes are reported as
    ``slope_below_{y_unit}_per_K`` etc. Keys: Tg_K (null unless resolved), Tg_stderr_K,
    Tg_ci_K [low, high] (``confidence``), ci_truncated, breakpoint_K (best fit, always),
    intercept_{u} (y at the breakpoint), slopes and their SEs, slope_change_{u}_per_K and its SE,
    slope_change_t (difference / SE), resolved, reason, noise_sd_{u}, tau_rows, n_eff, n_points,
    T_fit_range_K, candidate_range_K, F_vs_line, estimator.
    """
    from scipy import optimize, stats

    T = np.asarray(T_K, float)
    yv = np.asarray(y, float)
    if T.shape != yv.shape or T.ndim != 1:
        raise ValueError(f"T_K and y must be 1-D arrays of equal length, got {T.shape} and {yv.shape}")
    ok = np.isfinite(T) & np.isfinite(yv)
    T, yv = T[ok], yv[ok]
    order = np.argsort(T)
    T, yv = T[order], yv[order]
    n, m = T.size, int(min_points_per_side)
    u = y_unit
    out: dict = {
        "Tg_K": None, "Tg_stderr_K": None, "Tg_ci_K": None, "ci_confidence": confidence, "ci_truncated": None,
        "breakpoint_K": None, f"intercept_{u}": None,
        f"slope_below_{u}_per_K": None, f"slope_below_stderr_{u}_per_K": None,
        f"slope_above_{u}_per_K": None, f"slope_above_stderr_{u}_per_K": None,
        f"slope_change_{u}_per_K": None, f"slope_change_stderr_{u}_per_K": None, "slope_change_t": None,
        "F_vs_line": None, "resolved": False, "reason": None, f"noise_sd_{u}": None, "tau_rows": None,
        "n_eff": None, "n_points": int(n), "T_fit_range_K": [float(T[0]), float(T[-1])] if n else None,
        "candidate_range_K": None, "min_points_per_side": m, "k_sigma": k_sigma,
        "estimator": TWO_LINE_ESTIMATOR.format(m=m, k=k_sigma),
    }
    if n < 2 * m + 2 or n < 8:
        out["reason"] = f"too few points ({n}) for a two-line fit with >= {m} points per side"
        return out
    lo_c, hi_c = float(T[m - 1]), float(T[n - m])
    if not hi_c > lo_c:
        out["reason"] = "temperature range too narrow for a breakpoint"
        return out
    out["candidate_range_K"] = [lo_c, hi_c]
    grid = np.linspace(lo_c, hi_c, int(n_grid))
    sse_grid = _sse_profile(T, yv, grid)
    i = int(np.argmin(sse_grid))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    res = optimize.minimize_scalar(lambda t: _fit_at(T, yv, t)[1], bounds=(a, b), method="bounded",
                                   options={"xatol": 1e-6 * max(1.0, abs(hi_c - lo_c))})
    tg = float(res.x) if res.fun <= sse_grid[i] else float(grid[i])
    coef, sse_min, xtx_inv = _fit_at(T, yv, tg)
    resid = yv - _design(T, tg) @ coef
    ac = autocorrelation_time(_time_order(resid, order))   # correlation is along time, not T
    tau = ac["tau"]
    sigma2 = sse_min / (n - 4)
    cov = sigma2 * tau * xtx_inv
    se = np.sqrt(np.diag(cov))
    diff = coef[2] - coef[1]
    se_diff = math.sqrt(max(cov[1, 1] + cov[2, 2] - 2 * cov[1, 2], 0.0))
    t_diff = diff / se_diff if se_diff > 0 else math.inf
    line = np.polyfit(T, yv, 1)
    sse_line = float(np.sum((yv - np.polyval(line, T)) ** 2))
    out.update({
        "breakpoint_K": tg, f"intercept_{u}": coef[0],
        f"slope_below_{u}_per_K": coef[1], f"slope_below_stderr_{u}_per_K": se[1],
        f"slope_above_{u}_per_K": coef[2], f"slope_above_stderr_{u}_per_K": se[2],
        f"slope_change_{u}_per_K": diff, f"slope_change_stderr_{u}_per_K": se_diff, "slope_change_t": t_diff,
        "F_vs_line": ((sse_line - sse_min) / 2.0) / (sigma2 * tau) if sigma2 > 0 else math.inf,
        f"noise_sd_{u}": math.sqrt(sigma2), "tau_rows": tau, "n_eff": ac["n_eff"],
    })
    # profile-likelihood interval
    dof = max(ac["n_eff"] - 4.0, 1.0)
    q = float(stats.t.ppf(0.5 + confidence / 2.0, dof)) ** 2
    scale = sigma2 * tau
    inside = (sse_grid - sse_min) / scale <= q
    inside[i] = True
    truncated = bool(inside[0] or inside[-1])
    # the interval is the hull of the grid points inside (a profile with two dips gives one
    # conservative interval), its ends refined between the last point in and the first out
    left, right = int(np.flatnonzero(inside)[0]), int(np.flatnonzero(inside)[-1])
    lo_ci = lo_c if left == 0 else _crossing(T, yv, sse_min, scale, q, grid[left - 1], min(grid[left], tg))
    hi_ci = hi_c if right == grid.size - 1 else _crossing(T, yv, sse_min, scale, q, grid[right + 1],
                                                          max(grid[right], tg))
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    out["Tg_ci_K"] = [float(lo_ci), float(hi_ci)]
    out["ci_truncated"] = truncated
    out["Tg_stderr_K"] = float(hi_ci - lo_ci) / (2.0 * z)
    step = grid[1] - grid[0]
    if tg <= lo_c + step or tg >= hi_c - step:
        out["reason"] = (f"breakpoint at the edge of the candidate range [{lo_c:.1f}, {hi_c:.1f}] K: no transition "
                         "inside the fitted temperature range")
    elif not abs(t_diff) >= k_sigma:
        out["reason"] = (f"slope change not resolved: |slope_above - slope_below| = {abs(t_diff):.2f} SE "
                         f"< {k_sigma:g} SE (tau = {tau:.1f} rows)")
    elif t_diff < 0:
        # the liquid expands more and has the larger heat capacity: a glass transition steepens
        # V(T) and H(T) above Tg; a flattening is a fit artefact, not a Tg
        out["reason"] = (f"slope change of the wrong sign: slope_above - slope_below = {t_diff:.2f} SE < 0 "
                         "(above a glass transition V(T) and H(T) are steeper): not a glass transition")
    else:
        out["resolved"] = True
        out["Tg_K"] = tg
        if truncated:
            out["reason"] = "resolved; the Tg interval reaches the edge of the candidate range (truncated there)"
    if not out["resolved"]:
        out["Tg_stderr_K"] = None
        out["Tg_ci_K"] = None
    return out


def _crossing(T, y, sse_min, scale, q, x_out, x_in) -> float:
    """Breakpoint between x_out (outside the interval) and x_in (inside) where the profile
    deviance equals q."""
    from scipy import optimize

    f = lambda t: (_fit_at(T, y, t)[1] - sse_min) / scale - q  # noqa: E731
    fa, fb = f(x_out), f(x_in)
    if fa <= 0:
        return float(x_out)
    if fb >= 0:
        return float(x_in)
    return float(optimize.brentq(f, x_out, x_in, xtol=1e-6 * max(1.0, abs(x_out))))


def _time_order(values_T_sorted: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Values given in T-sorted order, back in their original (time) order."""
    back = np.empty_like(values_T_sorted)
    back[order] = values_T_sorted
    return back


# ---------------------------------------------------------------------------------------------
# From a quench thermo.csv
# ---------------------------------------------------------------------------------------------

_RAMP_COLUMNS = ("time_ps", "T_K", "P_atm", "density_g_cm3", "volume_A3", "etotal_kcal_mol")


def load_ramp(thermo_csv: str | Path, stage: str = "cool", *, temperature_axis: str = "ramp",
              enthalpy_pressure: str = "imposed", pressure_atm: float = 1.0) -> dict:
    """Rows of ``stage`` in a workflow thermo.csv as arrays (time order): time_ps, T_measured_K,
    T_K (the axis: ramp line or measured), volume_A3, specific_volume_cm3_g (1/density),
    enthalpy_kcal_mol (E_total + P V, P imposed or instantaneous), plus the ramp line
    (dT_dt_K_per_ps, its intercept) and the cell mass mass_g_mol (density x volume)."""
    if temperature_axis not in ("ramp", "measured"):
        raise ValueError(f"temperature_axis must be 'ramp' or 'measured', got {temperature_axis!r}")
    if enthalpy_pressure not in ("imposed", "instantaneous"):
        raise ValueError(f"enthalpy_pressure must be 'imposed' or 'instantaneous', got {enthalpy_pressure!r}")
    with open(thermo_csv, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("stage", *_RAMP_COLUMNS) if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{thermo_csv}: missing columns {missing}")
        rows = [r for r in reader if r["stage"] == stage]
    if len(rows) < 3:
        raise ValueError(f"{thermo_csv}: {len(rows)} rows of stage {stage!r}; need >= 3")
    col = {c: np.array([float(r[c]) for r in rows]) for c in _RAMP_COLUMNS}
    t = col["time_ps"]
    slope, intercept = np.polyfit(t - t[0], col["T_K"], 1)
    T_ramp = intercept + slope * (t - t[0])
    p = np.full(t.shape, float(pressure_atm)) if enthalpy_pressure == "imposed" else col["P_atm"]
    return {
        "time_ps": t, "T_measured_K": col["T_K"],
        "T_K": T_ramp if temperature_axis == "ramp" else col["T_K"],
        "volume_A3": col["volume_A3"], "specific_volume_cm3_g": 1.0 / col["density_g_cm3"],
        "enthalpy_kcal_mol": col["etotal_kcal_mol"] + p * col["volume_A3"] * ATM_A3_TO_KCAL_MOL,
        "dT_dt_K_per_ps": float(slope), "ramp_T_start_K": float(intercept),
        "mass_g_mol": float(np.median(col["density_g_cm3"] * col["volume_A3"] * units.ANGSTROM3_TO_CM3
                                      * units.AVOGADRO)),
        "n_rows": len(rows),
    }


def bin_in_temperature(T_K: np.ndarray, y: np.ndarray, bin_K: float) -> tuple[np.ndarray, np.ndarray]:
    """Means of T and y in consecutive temperature bins of width ``bin_K`` (K); empty bins dropped."""
    if not bin_K > 0:
        raise ValueError(f"bin_K must be positive, got {bin_K}")
    idx = np.floor((T_K - T_K.min()) / bin_K).astype(int)
    keys = np.unique(idx)
    return (np.array([T_K[idx == k].mean() for k in keys]), np.array([y[idx == k].mean() for k in keys]))


_QUANTITY_COLUMN = {"volume": "volume_A3", "enthalpy": "enthalpy_kcal_mol",
                    "specific_volume": "specific_volume_cm3_g"}


def tg_from_thermo(thermo_csv: str | Path, stage: str = "cool", quantities: Iterable[str] = ("volume", "enthalpy"),
                   T_range_K: Sequence[float] | None = None, bin_K: float | None = None, *,
                   temperature_axis: str = "ramp", enthalpy_pressure: str = "imposed", pressure_atm: float = 1.0,
                   min_points_per_side: int = 5, k_sigma: float = 4.0, confidence: float = 0.95,
                   n_grid: int = 400) -> dict:
    """Tg of one quench from the ``stage`` rows of its thermo.csv (module docstring: estimator).

    ``T_range_K``: [low, high] (K) of the rows fitted (None: all); ``bin_K``: average the rows in
    temperature bins this wide (K) before fitting (None: every row). Returns a JSON-ready dict:
    one entry per quantity ('volume': V in A^3, 'enthalpy': H in kcal/mol, 'specific_volume':
    cm^3/g) holding the ``two_line_fit`` result, and the ramp: scan_rate_K_per_ps (|dT/dt| of the
    rows), dT_dt_K_per_ps, n_rows, n_rows_fitted, mass_g_mol, settings and estimator text.
    """
    ramp = load_ramp(thermo_csv, stage, temperature_axis=temperature_axis, enthalpy_pressure=enthalpy_pressure,
                     pressure_atm=pressure_atm)
    T = ramp["T_K"]
    keep = np.ones(T.shape, bool)
    if T_range_K is not None:
        lo, hi = float(T_range_K[0]), float(T_range_K[1])
        keep = (T >= lo) & (T <= hi)
    out = {
        "thermo_csv": str(thermo_csv), "stage": stage, "n_rows": ramp["n_rows"], "n_rows_fitted": int(keep.sum()),
        "dT_dt_K_per_ps": ramp["dT_dt_K_per_ps"], "scan_rate_K_per_ps": abs(ramp["dT_dt_K_per_ps"]),
        "scan_rate_estimator": "least-squares slope of the instantaneous T against time over the stage rows",
        "T_range_K": None if T_range_K is None else [float(T_range_K[0]), float(T_range_K[1])],
        "bin_K": bin_K, "temperature_axis": temperature_axis, "enthalpy_pressure": enthalpy_pressure,
        "pressure_atm": pressure_atm,
        "temperature_axis_note": ("ramp: the least-squares line T(t) through the rows (thermostat target, lagged)"
                                  if temperature_axis == "ramp" else "measured: instantaneous kinetic temperature"),
        "enthalpy_definition": (f"H = etotal + P V, P = {pressure_atm:g} atm imposed (barostat)" if
                                enthalpy_pressure == "imposed" else "H = etotal + P V, P instantaneous (P_atm column)"),
        "ATM_A3_TO_KCAL_MOL": ATM_A3_TO_KCAL_MOL, "mass_g_mol": ramp["mass_g_mol"],
        "quantities": list(quantities),
        "tg_depends_on_scan_rate": "Tg is a property of this scan rate: slower cooling gives a lower Tg",
    }
    for q in quantities:
        if q not in _QUANTITY_COLUMN:
            raise ValueError(f"unknown quantity {q!r}; choose from {sorted(_QUANTITY_COLUMN)}")
        Tq, yq = T[keep], ramp[_QUANTITY_COLUMN[q]][keep]
        if bin_K:
            Tq, yq = bin_in_temperature(Tq, yq, float(bin_K))
            if ramp["dT_dt_K_per_ps"] < 0:       # back to time order (cooling: T falls)
                Tq, yq = Tq[::-1], yq[::-1]
        fit = two_line_fit(Tq, yq, y_unit=QUANTITY_UNITS[q], min_points_per_side=min_points_per_side,
                           k_sigma=k_sigma, confidence=confidence, n_grid=n_grid)
        fit["quantity_unit"] = QUANTITY_UNITS[q]
        out[q] = fit
        log.info("%s: Tg(%s) = %s (breakpoint %.1f K, %s)", thermo_csv, q,
                 "null" if fit["Tg_K"] is None else f"{fit['Tg_K']:.1f} +- {fit['Tg_stderr_K']:.1f} K",
                 fit["breakpoint_K"] or float("nan"), fit["reason"] or "resolved")
    return out


# ---------------------------------------------------------------------------------------------
# Composition level
# ---------------------------------------------------------------------------------------------

COMBINE_ESTIMATOR = ("mean of the resolved replica Tg values; SE = std(ddof=1)/sqrt(n) over replicas (between-"
                     "replica spread: independent quenches); one replica: its within-replica SE")


def combine_tg(per_replica: Sequence[Mapping], quantities: Iterable[str] | None = None) -> dict:
    """Composition-level Tg per quantity from ``tg_from_thermo`` results of its replicas.

    Per quantity: Tg_K (mean of the resolved replicas), Tg_stderr_K, n_replicas,
    n_replicas_resolved, Tg_per_replica_K (null where unresolved), unresolved reasons, estimator,
    note; null with a reason when no replica resolves a transition. Also the mean scan rate
    (scan_rate_K_per_ps) and its per-replica values.
    """
    if not per_replica:
        raise ValueError("no replica results to combine")
    if quantities is None:
        quantities = per_replica[0].get("quantities", ("volume", "enthalpy"))
    out: dict = {}
    for q in quantities:
        tgs = [r.get(q, {}).get("Tg_K") for r in per_replica]
        ses = [r.get(q, {}).get("Tg_stderr_K") for r in per_replica]
        used = [k for k, t in enumerate(tgs) if t is not None]
        entry = {"Tg_K": None, "Tg_stderr_K": None, "n_replicas": len(per_replica), "n_replicas_resolved": len(used),
                 "Tg_per_replica_K": tgs, "Tg_stderr_per_replica_K": ses,
                 "unresolved_reasons": [r.get(q, {}).get("reason") for k, r in enumerate(per_replica)
                                        if k not in used],
                 "estimator": COMBINE_ESTIMATOR, "note": None}
        values = np.array([tgs[k] for k in used], float)
        if values.size >= 2:
            entry["Tg_K"] = float(values.mean())
            entry["Tg_stderr_K"] = float(values.std(ddof=1) / math.sqrt(values.size))
            if values.size < len(per_replica):
                entry["note"] = f"{len(per_replica) - values.size} replica(s) without a resolved Tg left out"
        elif values.size == 1:
            k = used[0]
            entry["Tg_K"], entry["Tg_stderr_K"] = float(values[0]), ses[k]
            entry["note"] = ("one resolved replica: SE is its within-replica (fit) SE; no between-replica spread "
                             "available, so quench-to-quench variation is not included")
        else:
            entry["note"] = f"no replica resolves a glass transition in {q}"
        out[q] = entry
    rates = [r.get("scan_rate_K_per_ps") for r in per_replica]
    good = [x for x in rates if x is not None]
    out["scan_rate_K_per_ps"] = float(np.mean(good)) if good else None
    out["scan_rate_per_replica_K_per_ps"] = rates
    out["estimator"] = COMBINE_ESTIMATOR
    return out


def glass_density_g_cm3(data_file: str | Path) -> dict:
    """Density (g/cm^3) of a LAMMPS data file: total mass from its Masses (g/mol) over the atoms,
    volume (A^3) from its box. Returns density_g_cm3, mass_g_mol, volume_A3, n_atoms."""
    data = read_data(data_file)
    mass = float(sum(data.masses[int(t)] for t in data.types))
    volume = data.box.volume
    return {"density_g_cm3": units.density_g_cm3(mass, volume), "mass_g_mol": mass, "volume_A3": volume,
            "n_atoms": data.n_atoms}


# ---------------------------------------------------------------------------------------------
# Anion-centre MSD and the glass/liquid label
# ---------------------------------------------------------------------------------------------


def anion_msd(trajectory: str | Path, timestep_fs: float, species: str = "P", *, per_particle: bool = False
              ) -> tuple[np.ndarray, np.ndarray]:
    """MSD (A^2) of the ``species`` atoms of a LAMMPS text dump against lag (ps).

    Frames are read with the transport stage's reader (``lipsglass.transport.read_species_trajectory``):
    unwrapped ``xu yu zu`` (or x y z + image flags), the same atoms in every frame, evenly spaced
    frames at TIMESTEP x ``timestep_fs`` (fs); the whole-system centre of mass (masses from a
    ``mass`` column, else from the element names) is subtracted frame by frame, so a drift of the
    cell contents is not counted.
    MSD over all time origins (FFT, ``lipsglass.transport.msd_fft``). Returns (lag_ps, msd_A2):
    msd_A2 of shape (n_lags,), or (n_lags, n_atoms) with ``per_particle=True``.
    """
    from lipsglass.transport import msd_fft, read_species_trajectory

    # the transport stage's reader: same frame checks (same atoms, evenly spaced) and centre of mass
    traj = read_species_trajectory(trajectory, species, timestep_fs=timestep_fs)
    if len(traj.times_ps) < 3:
        raise ValueError(f"{trajectory}: {len(traj.times_ps)} frames; an MSD plateau test needs >= 3")
    lag_ps = traj.times_ps - traj.times_ps[0]
    return lag_ps, msd_fft(traj.positions - traj.com[:, None, :], per_particle=per_particle)


PLATEAU_ESTIMATOR = ("least-squares slope of MSD vs lag (with intercept) over lags in [{a:g}, {b:g}] of the "
                     "longest lag, D = slope / 6; SE = std(per-atom D, ddof=1)/sqrt(n_atoms) (atoms treated as "
                     "independent); 'diffusing' if D > {dmax:g} cm^2/s and D > {k:g} SE, else 'plateau'")


def msd_plateau(lag_ps, msd_A2, *, start_frac: float = 0.25, end_frac: float = 0.6,
                max_D_cm2_s: float = 1e-6, k_sigma: float = 3.0, spacing_A: float | None = None) -> dict:
    """Does an MSD curve plateau (vibrating atoms) or keep rising (diffusing atoms)?

    ``msd_A2``: (n_lags,) or per atom (n_lags, n_atoms), A^2, against ``lag_ps`` (ps). The late
    window spans lags [start_frac, end_frac] x the longest lag, past the ~1 ps cage build-up and
    short of the noisy longest lags. D_late_cm2_s = slope / 6 there; its SE comes from the
    spread of per-atom slopes (None for a single averaged curve, and then the threshold alone
    decides). Verdict 'diffusing' if D_late > ``max_D_cm2_s`` and D_late > ``k_sigma`` SE,
    else 'plateau'. Also reports the log-log slope in the window (about 0 for a plateau, 1 for
    diffusion), the MSD at the window end, and with ``spacing_A`` (e.g. the mean P-P spacing,
    A) the ratio MSD_end / spacing^2.
    """
    from lipsglass.transport import fit_msd_line, loglog_slope

    t = np.asarray(lag_ps, float)
    y = np.asarray(msd_A2, float)
    span = float(t[-1])
    start, end = start_frac * span, end_frac * span
    slope_A2ps, _ = fit_msd_line(t, y, start, end)            # D in A^2/ps (slope / 6)
    slope_A2ps = np.atleast_1d(slope_A2ps)
    D = float(slope_A2ps.mean()) * units.ANGSTROM2_PS_TO_CM2_S
    se = (float(slope_A2ps.std(ddof=1) / math.sqrt(slope_A2ps.size)) * units.ANGSTROM2_PS_TO_CM2_S
          if slope_A2ps.size > 1 else None)
    mean_curve = y.mean(axis=1) if y.ndim == 2 else y
    window = (t >= start - 1e-9 * span) & (t <= end + 1e-9 * span) & (t > 0)
    ll = loglog_slope(t[window], mean_curve[window]) if np.all(mean_curve[window] > 0) else None
    msd_end = float(np.interp(end, t, mean_curve))
    significant = se is None or D > k_sigma * se
    diffusing = bool(D > max_D_cm2_s and significant)
    if diffusing:
        reason = (f"MSD still rising: D_late = {D:.2e} cm^2/s > {max_D_cm2_s:.1e}"
                  + ("" if se is None else f" and {D / se:.1f} SE above zero"))
    elif D > max_D_cm2_s:
        reason = f"D_late = {D:.2e} cm^2/s above {max_D_cm2_s:.1e} but within {k_sigma:g} SE of zero: plateau"
    else:
        reason = f"D_late = {D:.2e} cm^2/s <= {max_D_cm2_s:.1e}: MSD plateaus"
    return {
        "verdict": "diffusing" if diffusing else "plateau", "reason": reason,
        "D_late_cm2_s": D, "D_late_stderr_cm2_s": se, "D_late_sigmas": (D / se) if se else None,
        "loglog_slope_late": ll, "window_ps": [start, end], "msd_end_A2": msd_end,
        "spacing_A": spacing_A, "msd_end_over_spacing2": (msd_end / spacing_A ** 2) if spacing_A else None,
        "n_atoms": int(slope_A2ps.size) if y.ndim == 2 else None, "max_D_cm2_s": max_D_cm2_s, "k_sigma": k_sigma,
        "estimator": PLATEAU_ESTIMATOR.format(a=start_frac, b=end_frac, dmax=max_D_cm2_s, k=k_sigma),
    }


def phase_label(*, temperature_K: float, glass_density_g_cm3: float, run_density_g_cm3: float,
                lag_ps, msd_A2, Tg_K: float | None = None, max_density_drop_percent: float = 2.0,
                msd_start_frac: float = 0.25, msd_end_frac: float = 0.6, max_anion_D_cm2_s: float = 1e-6,
                k_sigma: float = 3.0, spacing_A: float | None = None, Tg_source: str | None = None,
                expected_change_percent: float | None = None, expected_source: str | None = None) -> dict:
    """Glass or liquid for one production run at ``temperature_K`` (K).

    Criteria (each with value and verdict): (i) density: change of the run's density
    (``run_density_g_cm3``, e.g. mean of its production rows) relative to the quenched glass
    (``glass_density_g_cm3``), in %, beyond what the glass's own thermal expansion explains
    (``expected_change_percent``: the density change along the glass line of the quench, from
    its below-Tg slope; 0 when unknown): an excess drop beyond ``max_density_drop_percent`` ->
    liquid (a glass heated by 300 K expands by several % without becoming a liquid);
    (ii) anion-centre MSD (``lag_ps`` ps, ``msd_A2`` A^2, per atom or averaged): ``msd_plateau``
    'diffusing' -> liquid; (iii) T/Tg: T >= Tg_K -> liquid (no verdict when Tg is unknown).
    label = 'liquid' if any criterion says liquid, else 'glass'; reason names the criteria.
    """
    change = 100.0 * (run_density_g_cm3 - glass_density_g_cm3) / glass_density_g_cm3
    expected = 0.0 if expected_change_percent is None else float(expected_change_percent)
    excess = change - expected
    density = {"glass_density_g_cm3": glass_density_g_cm3, "run_density_g_cm3": run_density_g_cm3,
               "density_change_percent": change, "expected_glass_change_percent": expected,
               "expected_source": expected_source or ("none: raw change tested" if expected_change_percent is None
                                                      else "given"),
               "excess_change_percent": excess, "max_density_drop_percent": max_density_drop_percent,
               "verdict": "liquid" if -excess > max_density_drop_percent else "glass"}
    msd = msd_plateau(lag_ps, msd_A2, start_frac=msd_start_frac, end_frac=msd_end_frac,
                      max_D_cm2_s=max_anion_D_cm2_s, k_sigma=k_sigma, spacing_A=spacing_A)
    msd["verdict_phase"] = "liquid" if msd["verdict"] == "diffusing" else "glass"
    tg = {"T_K": temperature_K, "Tg_K": Tg_K, "Tg_source": Tg_source,
          "T_over_Tg": (temperature_K / Tg_K) if Tg_K else None,
          "verdict": None if Tg_K is None else ("liquid" if temperature_K >= Tg_K else "glass"),
          "note": ("Tg of the glass's own quench at its (fast) cooling rate: an upper bound for the Tg that "
                   "applies on the longer time scale of the heating, equilibration and production stages")}
    if Tg_K is None:
        tg["note"] = "Tg unknown (not resolved for this replica): no verdict from T/Tg"
    reasons = []
    if density["verdict"] == "liquid":
        reasons.append(f"density fell by {-change:.1f} % from the quenched glass, {-excess:.1f} % more than the glass's "
                       f"thermal expansion ({-expected:.1f} %; limit {max_density_drop_percent:g} %)")
    if msd["verdict"] == "diffusing":
        reasons.append(f"anion centres diffuse ({msd['reason']})")
    if tg["verdict"] == "liquid":
        reasons.append(f"T = {temperature_K:g} K >= Tg = {Tg_K:.0f} K")
    label = "liquid" if reasons else "glass"
    if not reasons:
        reasons.append("density kept, anion-centre MSD plateaus" + ("" if Tg_K is None else
                                                                    f", T below Tg = {Tg_K:.0f} K"))
    return {"label": label, "reason": "; ".join(reasons), "temperature_K": temperature_K,
            "criteria": {"density": density, "anion_msd": msd, "T_over_Tg": tg}}
