"""Training sets of the softness classifier: labelled, class-balanced samples (RSFs of a Li at a
window start, label from its dynamics over the window) pooled over the windows of a glass, labelled
by the configured recipe, and pooled over glasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from lipsglass.d2min import IMMOBILE, MOBILE, label_mobility
from lipsglass.softness.settings import SoftnessSettings

@dataclass
class TrainingSet:
    """Labelled, class-balanced samples pooled over windows. y: 1 mobile, 0 immobile."""

    X: np.ndarray
    y: np.ndarray
    li_ids: np.ndarray
    window_ids: np.ndarray
    thresholds: tuple[float, float]  # (lower, upper) D_cum thresholds used
    counts: dict                     # per-class counts before balancing, unlabelled, invalid
    coordination: np.ndarray | None = None  # per sample covariate for the baseline (e.g. Li-S count)


def balance_classes(y: np.ndarray, seed: int = 0) -> np.ndarray:
    """Sorted indices of a subset with equal counts of each class, drawing without replacement
    from the larger classes (numpy Generator seeded with ``seed``)."""
    y = np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"need at least two classes to balance, got {classes.tolist()}")
    rng = np.random.default_rng(seed)
    n = counts.min()
    chosen = [rng.choice(np.flatnonzero(y == c), size=n, replace=False) for c in classes]
    return np.sort(np.concatenate(chosen))


def build_training_set(features: Sequence[np.ndarray], d_cum: Sequence[np.ndarray], li_ids: Sequence[np.ndarray],
                       upper: float = 0.9, lower: float = 0.1, mode: str = "quantile",
                       balance: bool = True, seed: int = 0,
                       coordination: Sequence[np.ndarray] | None = None) -> TrainingSet:
    """Pool independent windows into one labelled training set.

    features[w]: (n_li, n_features) RSFs at the start of window w; d_cum[w]: D_cum of the same
    Li over window w; li_ids[w]: their atom ids. Thresholds (``lower``, ``upper``) are quantiles
    of the pooled finite D_cum (``mode="quantile"``) or absolute D_cum values (``"absolute"``).
    Li between the thresholds or with NaN D_cum are left out and counted in ``counts``; with
    ``balance`` the larger class is subsampled (seeded) to the size of the smaller.
    ``coordination[w]``: an optional per-Li covariate (the baseline's), carried along.
    """
    if not (len(features) == len(d_cum) == len(li_ids)) or len(features) == 0:
        raise ValueError("features, d_cum and li_ids need one entry per window (at least one)")
    xs, ds, ids, wins = [], [], [], []
    for w, (x, d, i) in enumerate(zip(features, d_cum, li_ids)):
        x, d, i = np.asarray(x, float), np.asarray(d, float), np.asarray(i)
        if x.ndim != 2 or len(x) != len(d) or len(d) != len(i):
            raise ValueError(f"window {w}: features {x.shape}, d_cum {d.shape}, ids {i.shape} disagree")
        xs.append(x), ds.append(d), ids.append(i), wins.append(np.full(len(d), w))
    x, d, i, win = np.vstack(xs), np.concatenate(ds), np.concatenate(ids), np.concatenate(wins)
    cov = None
    if coordination is not None:
        cov = np.concatenate([np.asarray(c, float) for c in coordination])
        if len(coordination) != len(features) or cov.shape != d.shape:
            raise ValueError("coordination needs one value per Li and window")
    y, (lo, hi) = label_mobility(d, upper, lower, mode)  # thresholds from the pooled windows
    finite = np.isfinite(d)
    counts = {"mobile": int(np.sum(y == MOBILE)), "immobile": int(np.sum(y == IMMOBILE)),
              "unlabelled": int(np.sum(finite & (y < 0))), "invalid_d_cum": int(np.sum(~finite)),
              "windows": len(features)}
    labelled = np.flatnonzero(y >= 0)
    if balance:
        labelled = labelled[balance_classes(y[labelled], seed)]
    counts["used_per_class"] = {"mobile": int(np.sum(y[labelled] == MOBILE)),
                                "immobile": int(np.sum(y[labelled] == IMMOBILE))}
    return TrainingSet(X=x[labelled], y=y[labelled], li_ids=i[labelled], window_ids=win[labelled],
                       thresholds=(lo, hi), counts=counts, coordination=None if cov is None else cov[labelled])


def training_set(features: Mapping[str, np.ndarray], settings: SoftnessSettings) -> TrainingSet:
    """The glass's balanced training set (``build_training_set``) labelled by
    the configured recipe as in ``labels.csv`` (D_cum quantiles of the glass, or absolute p_hop
    thresholds), carrying the Li-S count within the D2min cutoff for the baseline when the
    features file holds it."""
    windows = np.unique(features["window"])
    sel = [features["window"] == w for w in windows]
    coord = features.get("n_S_within_cutoff")
    statistic = features["label_statistic"] if "label_statistic" in features else features["d_cum"]
    if settings.label_recipe == "d_cum":
        upper, lower, mode = settings.mobile_quantile, settings.immobile_quantile, "quantile"
    else:
        upper, lower, mode = settings.p_hop_mobile_A2, settings.p_hop_immobile_A2, "absolute"
    return build_training_set([features["X"][s] for s in sel], [statistic[s] for s in sel],
                              [features["ids"][s] for s in sel], upper, lower, mode, balance=True, seed=settings.seed,
                              coordination=None if coord is None else [coord[s] for s in sel])


def window_matrix(features: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    """Per-sample array ``name`` of a features file as (n_windows, n_Li), Li in the order of the
    first window (every window holds the same Li)."""
    windows = np.unique(features["window"])
    first = features["ids"][features["window"] == windows[0]]
    rows = []
    for w in windows:
        sel = features["window"] == w
        if not np.array_equal(features["ids"][sel], first):
            raise ValueError(f"window {w} holds other Li than window {windows[0]}")
        rows.append(features[name][sel])
    return np.array(rows, float)


def pool_training_sets(sets: Mapping[str, TrainingSet]) -> TrainingSet:
    """The union of every glass's balanced training set, Li and window ids made unique per glass
    (so cross-fitting folds never split a Li across train and test); thresholds NaN, counts per
    glass, the baseline covariate kept where every glass has it."""
    X = np.vstack([s.X for s in sets.values()])
    y = np.concatenate([s.y for s in sets.values()])
    # group codes glass_index * (max + 1) + id: unique across glasses and in the same order as
    # the ids within a glass, so pooling a single glass reproduces its own model exactly
    li_span = 1 + max(int(s.li_ids.max()) for s in sets.values())
    win_span = 1 + max(int(s.window_ids.max()) for s in sets.values())
    li_codes = np.concatenate([k * li_span + s.li_ids.astype(np.int64) for k, s in enumerate(sets.values())])
    win_codes = np.concatenate([k * win_span + s.window_ids.astype(np.int64) for k, s in enumerate(sets.values())])
    coords = [s.coordination for s in sets.values()]
    return TrainingSet(X, y, li_codes, win_codes, (float("nan"), float("nan")),
                       {g: s.counts for g, s in sets.items()},
                       None if any(c is None for c in coords) else np.concatenate(coords))

