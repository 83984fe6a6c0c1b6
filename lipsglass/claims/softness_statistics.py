"""Statistics of the softness claims (C4-C6, C8): intervals with the glass as the unit, Pearson r,
and the paper's binned r (its Li shares in bins) with its dependence on the Li count, so that C6's
margin can be taken at the paper's own size (2580 Li per glass)."""

from __future__ import annotations

import math

import numpy as np

from lipsglass.claims.verdict import Interval, se_interval, t_interval

PAPER_LI = 2580           # Li of one glass of the paper (10x the demo glass's 258)
SHARE_BINS = 10           # the paper's bins of share 0..1 ...
SHARE_MIN_BIN_COUNT = 5   # ... with at least this many Li (binned_r)


def ols_slope_interval(x, y, level: float, unit: str, what: str = "glasses") -> Interval | None:
    """OLS slope of y on x with its t interval (n - 2 degrees of freedom); None with fewer than 3
    points or fewer than 2 distinct x."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3 or len(np.unique(x)) < 2:
        return None
    xc = x - x.mean()
    slope = float(np.sum(xc * (y - y.mean())) / np.sum(xc ** 2))
    resid = y - y.mean() - slope * xc
    se = math.sqrt(float(np.sum(resid ** 2)) / (len(x) - 2) / float(np.sum(xc ** 2)))
    return se_interval(slope, se, level, dof=len(x) - 2, unit=unit, method=f"OLS slope, t over {len(x)} {what}")


def cluster_ratio_interval(numerators, denominators, level: float, unit: str = "",
                           what: str = "glasses") -> Interval | None:
    """Interval of the ratio sum(numerators) / sum(denominators) with clusters (glasses) as the unit:
    the cluster-robust (linearised) variance G / (G - 1) sum_g (y_g - R n_g)^2 / N^2 and t with
    G - 1 degrees of freedom over the G clusters with n_g > 0 (a glass with more Li counts more,
    a glass without any counts not at all). None with fewer than 2 such clusters."""
    y, n = np.asarray(numerators, float), np.asarray(denominators, float)
    keep = n > 0
    y, n = y[keep], n[keep]
    g = len(n)
    if g < 2:
        return None
    total = float(n.sum())
    ratio = float(y.sum()) / total
    se = math.sqrt(g / (g - 1) * float(np.sum((y - ratio * n) ** 2))) / total
    return se_interval(ratio, se, level, dof=g - 1, unit=unit, method=f"cluster-robust ratio, t over {g} {what}")


def fisher_t_interval(rs, level: float, what: str = "glasses") -> Interval | None:
    """Mean correlation over independent units on Fisher's z scale: t interval of atanh(r_g),
    back-transformed (estimate tanh of the mean z); None with fewer than 2 finite r."""
    r = np.asarray(rs, float)
    r = r[np.isfinite(r)]
    z = np.arctanh(np.clip(r, -0.999999, 0.999999))
    i = t_interval(z, level, what=what)
    if i is None:
        return None
    return Interval(math.tanh(i.estimate), math.tanh(i.low), math.tanh(i.high), level,
                    f"t over {len(r)} {what} on Fisher z", "r")


def pearson_r(x, y) -> float:
    """Pearson r; NaN with fewer than 3 samples or a constant variable."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def binned_r(share, s, bins: int = SHARE_BINS, min_count: int = SHARE_MIN_BIN_COUNT) -> float:
    """The paper's binned r: Pearson r of bin centres (share 0..1 in ``bins`` bins) and the mean S
    of the bins with >= ``min_count`` Li; NaN with fewer than 4 such bins."""
    share, s = np.asarray(share, float), np.asarray(s, float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.searchsorted(edges, share, side="right") - 1, 0, bins - 1)
    count = np.bincount(idx, minlength=bins)
    total = np.bincount(idx, weights=s, minlength=bins)
    ok = count >= min_count
    if ok.sum() < 4:
        return float("nan")
    return pearson_r(0.5 * (edges[1:] + edges[:-1])[ok], total[ok] / count[ok])


def median_binned_r(per_li_r: float, shares, n_li: int = PAPER_LI, n_sim: int = 400, seed: int = 0) -> float:
    """Median |binned r| of ``n_li`` Li whose shares follow ``shares`` (resampled) and whose S has
    the per-Li correlation ``per_li_r`` with the share (S = r z + sqrt(1 - r^2) e, z the
    standardised share, e independent normal): how the paper's binned statistic maps onto the
    size-independent per-Li r at a given Li count."""
    rng = np.random.default_rng(seed)
    shares = np.asarray(shares, float)
    shares = shares[np.isfinite(shares)]
    out = np.empty(n_sim)
    for k in range(n_sim):
        x = rng.choice(shares, n_li)
        z = (x - x.mean()) / x.std()
        out[k] = binned_r(x, per_li_r * z + math.sqrt(1 - per_li_r ** 2) * rng.normal(size=n_li))
    return float(np.nanmedian(np.abs(out)))


def per_li_r_for_binned_r(target: float, shares, n_li: int = PAPER_LI, n_sim: int = 400, seed: int = 0) -> float:
    """The per-Li |r| whose median |binned r| at ``n_li`` Li is ``target`` (bisection on
    :func:`median_binned_r`, common random numbers): C6's margin from the paper's binned value."""
    lo, hi = 0.0, 0.9
    for _ in range(20):
        mid = 0.5 * (lo + hi)
        if median_binned_r(mid, shares, n_li, n_sim, seed) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


