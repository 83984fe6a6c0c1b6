"""Independent glass realisations (replicas) of one composition, and how their numbers combine.

A composition is simulated as ``replicas`` independent glasses: each has its own random packing
(build seed), melt velocities (quench seed) and production velocities (production seed). Replica
1 keeps the configured seeds; replica k offsets every seed by ``REPLICA_SEED_STRIDE * (k - 1)``,
a stride larger than the per-temperature offsets of the production seeds, so no two runs of a
study share a seed.

Combination over replicas (``combine_replicas``): the glasses of one composition are independent
samples of the same ensemble, so a composition-level number is the unweighted mean of the
replica values. Its standard error is the larger of
* the between-replica SE, std(ddof=1) / sqrt(n), which contains glass-to-glass variation and the
  noise of each replica, and
* the propagated within-replica SE, sqrt(sum SE_k^2) / n, the floor the replicas' own statistics
  allow (with 2-3 replicas the sample std is itself so uncertain that it can come out far below
  the noise each replica is known to carry).
With one replica the within-replica SE is all there is, and the result says so.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy import stats

REPLICA_SEED_STRIDE = 100_003

COMBINATION_ESTIMATOR = (
    "unweighted mean over replicas; SE = max(between-replica SE std(ddof=1)/sqrt(n), propagated "
    "within-replica SE sqrt(sum SE_k^2)/n); 95% interval mean +- t(0.975, n-1) SE (normal quantile "
    "for n = 1, within-replica SE only)")


def replica_seed(base_seed: int, replica: int) -> int:
    """Seed of replica ``replica`` (1-based) derived from a configured seed."""
    replica = int(replica)
    if replica < 1:
        raise ValueError(f"replicas are numbered from 1, got {replica}")
    return int(base_seed) + REPLICA_SEED_STRIDE * (replica - 1)


def combine_replicas(values: Sequence[float], stderrs: Sequence[float | None] | None = None) -> dict:
    """Composition-level value of per-replica ``values`` with their ``stderrs``.

    Non-finite values are not silently dropped: they make the result null with a reason.
    Returns mean, stderr, ci95 (low, high), n, between- and within-replica SEs, which of the two
    the SE is, and the estimator text.
    """
    v = np.asarray([np.nan if x is None else x for x in values], float)
    n = int(v.size)
    se_k = None if stderrs is None else np.asarray([np.nan if s is None else s for s in stderrs], float)
    out = {"n_replicas": n, "values": v.tolist(),
           "stderrs": None if se_k is None else se_k.tolist(), "estimator": COMBINATION_ESTIMATOR}
    null = {"mean": None, "stderr": None, "ci95": None, "stderr_between": None, "stderr_within": None,
            "stderr_source": None}
    if n == 0 or not np.all(np.isfinite(v)):
        return {**out, **null, "reason": "no replica values" if n == 0 else "a replica value is missing or non-finite"}
    within = None
    if se_k is not None and np.all(np.isfinite(se_k)):
        within = float(math.sqrt(float(np.sum(se_k ** 2))) / n)
    between = float(np.std(v, ddof=1) / math.sqrt(n)) if n > 1 else None
    candidates = {k: s for k, s in (("between-replica", between), ("within-replica", within)) if s is not None}
    if not candidates:
        return {**out, **null, "mean": float(v.mean()),
                "reason": "one replica without a standard error: no uncertainty can be given"}
    source = max(candidates, key=candidates.get)
    se = candidates[source]
    q = float(stats.t.ppf(0.975, n - 1)) if n > 1 else 1.959963984540054
    mean = float(v.mean())
    return {**out, "mean": mean, "stderr": se, "ci95": [mean - q * se, mean + q * se], "stderr_between": between,
            "stderr_within": within, "stderr_source": source, "reason": None}
