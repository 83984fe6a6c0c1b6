"""Small statistics shared by every stage: the one Wilson interval and the one bootstrap family."""

from __future__ import annotations

import math
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
