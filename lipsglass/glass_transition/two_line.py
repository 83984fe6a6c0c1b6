"""Glass transition temperature from a two-line (hinge) fit of y(T) along a quench ramp, with errors
that account for the correlated noise of the thermo rows.

Units: temperatures in K; y and its slopes in the unit named by ``y_unit`` (per K).

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
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

__all__ = ["hinge", "autocorrelation_time", "two_line_fit", "TWO_LINE_ESTIMATOR"]


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
