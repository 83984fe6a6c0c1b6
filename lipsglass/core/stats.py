"""Small statistics shared by every stage: the one Wilson interval, the one bootstrap family, Pearson r
with its Fisher-z interval, binned means and the intraclass correlation."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import numpy as np
from scipy import stats


def wilson_interval(successes: float, trials: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of the proportion ``successes / trials`` at two-sided ``level``.

    ``trials`` may be an effective, non-integer number of independent trials (then ``successes``
    is the proportion times it)."""
    if not trials > 0 or not 0.0 <= successes <= trials or not 0.0 < level < 1.0:
        raise ValueError(f"need trials > 0, 0 <= successes <= trials and 0 < level < 1, "
                         f"got successes={successes}, trials={trials}, level={level}")
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    n, p = float(trials), successes / trials
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_ci(values: Sequence[float], statistic: Callable = np.median, n_boot: int = 2000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of ``statistic`` (applied along axis 1) over resamples of
    ``values`` with replacement; (nan, nan) for fewer than 2 values."""
    x = np.asarray(values, float)
    if not 0 < level < 1 or n_boot < 1:
        raise ValueError(f"need 0 < level < 1 and n_boot >= 1, got {level}, {n_boot}")
    if len(x) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    boot = statistic(x[rng.integers(0, len(x), (int(n_boot), len(x)))], axis=1)
    a = (1 - level) / 2
    return float(np.quantile(boot, a)), float(np.quantile(boot, 1 - a))


def bootstrap_difference_ci(a: Sequence[float], b: Sequence[float], statistic: Callable = np.median,
                            n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of statistic(a) - statistic(b), resampling both samples
    independently; (nan, nan) when either has fewer than 2 values."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or len(b) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    da = statistic(a[rng.integers(0, len(a), (int(n_boot), len(a)))], axis=1)
    db = statistic(b[rng.integers(0, len(b), (int(n_boot), len(b)))], axis=1)
    q = (1 - level) / 2
    return float(np.quantile(da - db, q)), float(np.quantile(da - db, 1 - q))


def cluster_bootstrap_mean_ci(values: Sequence[float], groups: Sequence, n_boot: int = 2000, seed: int = 0,
                              level: float = 0.95) -> tuple[float, float]:
    """Percentile cluster-bootstrap CI of the mean of ``values`` whose samples are correlated
    within ``groups`` (e.g. the windows of one Li): whole groups are drawn with replacement and
    every sample of a drawn group kept, so a group counts as one independent unit."""
    values = np.asarray(values, float)
    codes = np.unique(np.asarray(groups), return_inverse=True)[1].ravel()
    if values.ndim != 1 or codes.shape != values.shape or len(values) == 0:
        raise ValueError("values and groups must be non-empty 1D arrays of equal length")
    n_groups = int(codes.max()) + 1
    per_sum = np.bincount(codes, weights=values, minlength=n_groups)
    per_n = np.bincount(codes, minlength=n_groups).astype(float)
    draws = np.random.default_rng(seed).integers(0, n_groups, size=(int(n_boot), n_groups))
    boot = per_sum[draws].sum(axis=1) / per_n[draws].sum(axis=1)
    lo, hi = np.quantile(boot, [0.5 - level / 2.0, 0.5 + level / 2.0])
    return float(lo), float(hi)


def _paired_samples(x, y) -> tuple[np.ndarray, np.ndarray]:
    """x and y as float arrays of paired samples; NaN/inf are refused, never dropped silently."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("x and y must be 1D arrays of equal length")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x or y contain NaN/inf: remove those samples explicitly first")
    return x, y


def pearson_ci(x, y, confidence: float = 0.95) -> dict:
    """Pearson r of x and y with its Fisher-z confidence interval and two-sided p-value.
    z = atanh(r), standard error 1/sqrt(n-3); the interval is tanh(z -/+ z_crit * se)."""
    x, y = _paired_samples(x, y)
    n = len(x)
    if n < 4:
        raise ValueError(f"need at least 4 samples for a Fisher-z interval, got {n}")
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        raise ValueError("a constant variable has no Pearson correlation")
    r, p = stats.pearsonr(x, y)
    r = float(r)
    zc = stats.norm.ppf(0.5 + confidence / 2.0)
    if abs(r) >= 1.0:
        lo = hi = r
    else:
        z, se = math.atanh(r), 1.0 / math.sqrt(n - 3)
        lo, hi = math.tanh(z - zc * se), math.tanh(z + zc * se)
    return {"r": r, "ci_low": lo, "ci_high": hi, "confidence": confidence, "n": n, "p_value": float(p)}


@dataclass
class BinnedMean:
    """Mean of y in bins of x. Empty bins have NaN mean/std/sem and count 0 (kept, not dropped);
    samples outside the bin edges are counted in ``n_outside``."""

    edges: np.ndarray
    centres: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    sem: np.ndarray
    count: np.ndarray
    n_outside: int

    def to_dict(self) -> dict:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in asdict(self).items()}


def binned_mean(x, y, bins: int | np.ndarray = 10, x_range: tuple[float, float] | None = None) -> BinnedMean:
    """Mean, sample std and standard error of y in bins of x (``bins``: count of equal-width bins
    over ``x_range`` (default: min..max of x), or explicit increasing edges; last edge inclusive)."""
    x, y = _paired_samples(x, y)
    if np.ndim(bins) == 0:
        lo, hi = (x.min(), x.max()) if x_range is None else x_range
        if not hi > lo:
            raise ValueError(f"empty bin range {lo}..{hi}")
        edges = np.linspace(lo, hi, int(bins) + 1)
    else:
        edges = np.asarray(bins, float)
        if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("bin edges must increase strictly")
    nb = len(edges) - 1
    inside = (x >= edges[0]) & (x <= edges[-1])
    idx = np.clip(np.searchsorted(edges, x[inside], side="right") - 1, 0, nb - 1)
    yi = y[inside]
    count = np.bincount(idx, minlength=nb)
    total = np.bincount(idx, weights=yi, minlength=nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
        sq = np.bincount(idx, weights=(yi - mean[idx]) ** 2, minlength=nb)
        std = np.where(count > 1, np.sqrt(sq / np.maximum(count - 1, 1)), np.nan)
        sem = std / np.sqrt(count)
    mean = np.where(count > 0, mean, np.nan)
    return BinnedMean(edges, 0.5 * (edges[1:] + edges[:-1]), mean, std, sem, count, int(np.sum(~inside)))


def intraclass_correlation(values) -> float:
    """One-way random-effects ICC(1) of ``values`` (n_windows, n_atoms): the share of the
    variance of a per-atom, per-window statistic that lies between atoms, (MSB - MSW) /
    (MSB + (k - 1) MSW) with k windows. Atoms with a non-finite value in any window are left
    out. 1: an atom's statistic is the same in every window (a property of the atom); 0: no
    more alike within an atom than between atoms (noise)."""
    v = np.asarray(values, float)
    if v.ndim != 2:
        raise ValueError(f"values must have shape (n_windows, n_atoms), got {v.shape}")
    v = v[:, np.all(np.isfinite(v), axis=0)]
    k, n = v.shape
    if k < 2 or n < 2:
        return float("nan")
    means = v.mean(axis=0)
    msb = k * np.sum((means - v.mean()) ** 2) / (n - 1)
    msw = np.sum((v - means) ** 2) / (n * (k - 1))
    denom = msb + (k - 1) * msw
    return float((msb - msw) / denom) if denom > 0 else float("nan")
