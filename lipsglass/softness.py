"""Softness of Li (Cubuk, Schoenholz et al. PRL 114, 108001 (2015); Schoenholz et al. Nat. Phys.
12, 469 (2016)) as used by Chen et al. (2023): radial structure functions of each Li,
a logistic-regression hyperplane separating mobile from immobile Li (labels from D_cum, see
``lipsglass.d2min``), softness = signed distance to that hyperplane, and its links to the
anion environment.

Safeguards: features near-constant or outlier-dominated on the training samples are dropped
(``FeatureFilter``) and a sample whose standardised features exceed the model's bound is
refused (``SoftnessModel``), so softness cannot explode on Gaussian tails; accuracy comes from
cross-fitting over Li with a Wilson interval on the number of Li (``evaluate_classifier``); the
stage's knobs live in one frozen ``SoftnessSettings``.

Units: lengths in Angstrom; RSF values are dimensionless Gaussian-weighted neighbour counts;
softness is a distance in standardised feature space (dimensionless), S > 0 soft (predicted
mobile), S < 0 hard.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

from lipsglass.core.anions import ANIONS
from lipsglass.core.stats import (BinnedMean, binned_mean, cluster_bootstrap_mean_ci, intraclass_correlation,
                                  pearson_ci, wilson_interval)
from lipsglass.d2min import (DEFAULT_CUTOFF, DEFAULT_MIN_NEIGHBOURS, IMMOBILE, MOBILE, WindowDynamics,
                             analyse_window, label_mobility)
from lipsglass.lammpsio import Box
from lipsglass.neighbours import neighbour_pairs

# --- radial structure functions -----------------------------------------------------------

# Gaussian centres 1.0..6.0 A in 0.1 A steps and width L = 0.1 A: the grid spacing equals the
# width (as in Cubuk et al.), fine enough to resolve the Li-S contact at 2.45 A and the first
# (broad) Li-S minimum at 3.3-3.7 A, and 6 A covers the second Li-S shell.
DEFAULT_MU = np.round(np.arange(1.0, 6.0 + 1e-9, 0.1), 10)  # A
DEFAULT_WIDTH = 0.1  # A
# Pairs are summed out to mu_max + DEFAULT_TRUNCATION * L. At 3 L a Gaussian still weighs
# exp(-4.5) = 1.1%; at 5 L, exp(-12.5) = 4e-6, negligible.
DEFAULT_TRUNCATION = 5.0
DEFAULT_CHANNELS = ("Li", "P", "S")
ANION_TYPES = tuple(sorted(ANIONS))  # the columns of the anion-environment features, alphabetical


def channel_labels(elements: np.ndarray, groups: np.ndarray | None = None, split: str = "S") -> np.ndarray:
    """Per-atom RSF channel labels: the element, or for atoms of element ``split`` (documented
    extension: S split by anion type) ``f"{split}:{group}"`` with ``groups`` the per-atom group
    names (e.g. the anion each S belongs to; entries of other atoms are ignored)."""
    elements = np.asarray(elements).astype(str)
    if groups is None:
        return elements
    groups = np.asarray(groups).astype(str)
    if groups.shape != elements.shape:
        raise ValueError(f"groups has shape {groups.shape}, elements {elements.shape}")
    target = elements == split
    if np.any(groups[target] == ""):
        raise ValueError(f"{int(np.sum(groups[target] == ''))} {split} atoms have an empty group name")
    out = elements.astype(object)
    out[target] = np.char.add(f"{split}:", groups[target])
    return out.astype(str)


def rsf_feature_names(channels: Sequence[str], mu: np.ndarray = DEFAULT_MU) -> list[str]:
    """Feature names in the column order of ``radial_structure_functions``: ``G_<channel>(<mu>)``."""
    return [f"G_{c}({m:.3f})" for c in channels for m in np.asarray(mu, float)]


def radial_structure_functions(box: Box, positions: np.ndarray, labels: np.ndarray, centres: np.ndarray,
                               channels: Sequence[str] = DEFAULT_CHANNELS, mu: np.ndarray = DEFAULT_MU,
                               width: float = DEFAULT_WIDTH, truncation: float = DEFAULT_TRUNCATION,
                               chunk: int = 200_000) -> np.ndarray:
    """Radial structure functions G_X(i; mu) = sum_{j in X} exp(-(r_ij - mu)^2 / (2 L^2)).

    box, positions: periodic cell and (N, 3) positions (A); labels: per-atom channel label
    (element, or see ``channel_labels``); centres: indices of the atoms i; channels: the labels X,
    in output order; mu: Gaussian centres (A); width: L (A). Pairs are found once with the
    project's KD-tree search out to max(mu) + truncation * L. Every label must be one of
    ``channels`` (so no atom is left out unnoticed).
    Returns (n_centres, n_channels * n_mu), channel-major (names: ``rsf_feature_names``).
    """
    pos = np.asarray(positions, float)
    labels = np.asarray(labels).astype(str)
    centres = np.asarray(centres, dtype=np.int64)
    mu = np.asarray(mu, float)
    channels = list(channels)
    if pos.ndim != 2 or pos.shape[1] != 3 or labels.shape != (len(pos),):
        raise ValueError("positions must be (N, 3) and labels (N,)")
    if mu.ndim != 1 or len(mu) == 0 or not width > 0 or not truncation > 0:
        raise ValueError("mu must be a non-empty 1D grid; width and truncation positive")
    if len(set(channels)) != len(channels):
        raise ValueError(f"duplicate channels: {channels}")
    unknown = sorted(set(labels) - set(channels))
    if unknown:
        raise ValueError(f"atoms with labels {unknown} belong to no channel {channels}")
    if len(centres) and (centres.min() < 0 or centres.max() >= len(pos)):
        raise ValueError("centre index out of range")
    channel_index = {c: k for k, c in enumerate(channels)}
    atom_channel = np.array([channel_index[lab] for lab in labels], dtype=np.int64) if len(labels) else np.zeros(0, np.int64)
    cutoff = float(mu.max() + truncation * width)
    i, j, vec = neighbour_pairs(box, pos[centres], cutoff, other=pos)
    dist = np.linalg.norm(vec, axis=1)
    keep = ~((centres[i] == j) & (dist < 1e-10))  # the centre itself (its periodic images stay)
    i, j, dist = i[keep], j[keep], dist[keep]
    n_ch, n_mu = len(channels), len(mu)
    rows = i * n_ch + atom_channel[j]
    out = np.zeros((len(centres) * n_ch, n_mu))
    inv2l2 = 1.0 / (2.0 * width * width)
    for start in range(0, len(dist), chunk):
        sl = slice(start, start + chunk)
        weights = np.exp(-((dist[sl, None] - mu[None, :]) ** 2) * inv2l2)
        # sparse row-sum: accumulates each pair's Gaussians onto its (centre, channel) row
        assign = sparse.csr_matrix((np.ones(len(weights)), (rows[sl], np.arange(len(weights)))),
                                   shape=(len(out), len(weights)))
        out += assign @ weights
    return out.reshape(len(centres), n_ch * n_mu)


# --- training sets ---------------------------------------------------------------------------

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


# --- classifier ----------------------------------------------------------------------------

DEFAULT_CS = tuple(np.round(np.logspace(-4, 2, 13), 12))
# Feature filter (``FeatureFilter``) and application bound (``SoftnessModel``). A feature is
# dropped when its training std is below a fraction of the median std of the features: for
# features in arbitrary units DEFAULT_MIN_FEATURE_STD (1e-3, only the degenerate ones); for
# RSFs, all in the same units (neighbour counts), RSF_MIN_FEATURE_STD (the stage's default).
# RSF Gaussian tails below the closest approach have std ~1e-60 (relative ~1e-60); the 0.1 was chosen, label-free, on the 2580 window snapshots of P2S6-10 (replica 1, 300 K):
# every feature with relative std < 0.1 lies below its channel's first peak (Li-Li < 2.8 A,
# Li-P < 2.4 A, Li-S < 2.1 A), and keeping them leaves snapshots beyond |z| = 20 (largest |z|
# 69 at 1e-3, 42 at 0.02, 19 at 0.05; 15 at 0.1) while the held-out accuracy did not change.
# The bound on standardised features is 20: a normally distributed feature exceeds |z| = 20
# with probability ~1e-88 and an exponentially distributed one only beyond ~e^21 samples, while
# a feature that is non-zero in only a fraction p of the samples reaches |z| ~ 1/sqrt(p), i.e.
# 20 at p = 1/400: a structure beyond 20 standard deviations lies outside what the training
# samples describe (its softness would be an extrapolation of the hyperplane, not a measurement).
DEFAULT_MIN_FEATURE_STD = 1e-3
RSF_MIN_FEATURE_STD = 0.1
DEFAULT_MAX_ABS_Z = 20.0
DEFAULT_OUTER_FOLDS = 5
DEFAULT_CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000  # cluster (Li) bootstrap of the held-out accuracy


class FeatureFilter(TransformerMixin, BaseEstimator):
    """Drops features that cannot be standardised safely; learnt on the training samples only
    and label-free (fitting it inside each cross-fitting fold leaks nothing about the labels).

    * near-constant: std (ddof=0, as ``StandardScaler``) below ``min_relative_std`` x the
      typical feature scale, the median std of the features whose std is not zero;
    * outlier-dominated (only with ``max_abs_z``): some training sample lies more than
      ``max_abs_z`` standard deviations from the mean, i.e. the feature is set by a handful of
      samples (non-zero in fewer than ~1/max_abs_z^2 of them); the model could not even score
      its own training samples within the bound.

    Fitted attributes: ``support_`` (kept), ``std_``, ``mean_``, ``typical_std_``,
    ``max_abs_z_`` (largest training |z| of each feature), ``near_constant_``, ``outlier_``.
    """

    def __init__(self, min_relative_std: float = DEFAULT_MIN_FEATURE_STD, max_abs_z: float | None = DEFAULT_MAX_ABS_Z):
        self.min_relative_std = min_relative_std
        self.max_abs_z = max_abs_z

    def fit(self, X, y=None):
        X = np.asarray(X, float)
        if X.ndim != 2 or len(X) == 0:
            raise ValueError(f"need (n, n_features) samples, got {X.shape}")
        mean, std = X.mean(axis=0), X.std(axis=0)
        positive = std[std > 0]
        if len(positive) == 0:
            raise ValueError("every feature is constant on the training samples")
        typical = float(np.median(positive))
        near_constant = std < float(self.min_relative_std) * typical
        near_constant |= std == 0
        safe = np.where(std > 0, std, 1.0)
        zmax = np.where(std > 0, np.max(np.abs(X - mean), axis=0) / safe, 0.0)
        outlier = np.zeros(X.shape[1], bool)
        if self.max_abs_z is not None:
            outlier = ~near_constant & (zmax > float(self.max_abs_z))
        keep = ~(near_constant | outlier)
        if not keep.any():
            raise ValueError(f"all {X.shape[1]} features are near-constant or outlier-dominated on the training samples")
        self.mean_, self.std_, self.typical_std_, self.max_abs_z_ = mean, std, typical, zmax
        self.near_constant_, self.outlier_, self.support_ = near_constant, outlier, keep
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        X = np.asarray(X, float)
        if X.ndim != 2 or X.shape[1] != len(self.support_):
            raise ValueError(f"expected (n, {len(self.support_)}) features, got {X.shape}")
        return X[:, self.support_]

    def dropped(self, feature_names: Sequence[str]) -> list[dict]:
        """One record per dropped feature: name, index, std, std relative to the typical scale,
        largest training |z| and the reason."""
        out = []
        for k in np.flatnonzero(~self.support_):
            out.append({"name": str(feature_names[k]), "index": int(k), "std": float(self.std_[k]),
                        "relative_std": float(self.std_[k] / self.typical_std_),
                        "max_abs_z_training": float(self.max_abs_z_[k]),
                        "reason": "near-constant" if self.near_constant_[k] else "outlier-dominated"})
        return out


def make_classifier(Cs: Sequence[float] = DEFAULT_CS, cv=5, seed: int = 0, scoring: str = "accuracy",
                    max_iter: int = 5000, min_feature_std: float = DEFAULT_MIN_FEATURE_STD,
                    max_abs_z: float | None = DEFAULT_MAX_ABS_Z):
    """FeatureFilter + StandardScaler + L2 LogisticRegressionCV (class_weight='balanced')
    pipeline. ``cv`` is a fold count or an explicit list of (train, test) index pairs."""
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    clf = LogisticRegressionCV(Cs=list(Cs), cv=cv, l1_ratios=(0.0,), class_weight="balanced",
                               scoring=scoring, random_state=seed, max_iter=max_iter,
                               use_legacy_attributes=False)
    return Pipeline([("filter", FeatureFilter(min_feature_std, max_abs_z)), ("scale", StandardScaler()),
                     ("logistic", clf)])


def _check_xy(X, y):
    X = np.asarray(X, float)
    y = np.asarray(y)
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"X must be (n, n_features) matching y, got {X.shape} and {y.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("features contain NaN or inf")
    if set(np.unique(y).tolist()) - {0, 1}:
        raise ValueError("labels must be 0 (immobile) and 1 (mobile)")
    return X, y.astype(np.int64)


def _inner_cv(groups: np.ndarray, cv: int):
    """Folds for choosing C that keep each Li (group) within one fold."""
    from sklearn.model_selection import GroupKFold

    n_groups = len(np.unique(groups))
    if n_groups < cv:
        raise ValueError(f"{n_groups} groups cannot make {cv} inner CV folds")
    return list(GroupKFold(n_splits=cv).split(np.zeros(len(groups)), groups=groups))


def fit_classifier(X, y, groups, Cs=DEFAULT_CS, cv: int = 5, seed: int = 0, scoring: str = "accuracy",
                   min_feature_std: float = DEFAULT_MIN_FEATURE_STD, max_abs_z: float | None = DEFAULT_MAX_ABS_Z):
    """Fit the pipeline with C chosen by GroupKFold over ``groups`` (Li ids). Returns the pipeline."""
    X, y = _check_xy(X, y)
    pipe = make_classifier(Cs, _inner_cv(np.asarray(groups), cv), seed, scoring,
                           min_feature_std=min_feature_std, max_abs_z=max_abs_z)
    return pipe.fit(X, y)


def outer_folds(li_ids: np.ndarray, n_folds: int = DEFAULT_OUTER_FOLDS) -> np.ndarray:
    """Cross-fitting fold of every sample: GroupKFold over Li ids, so all windows of a Li fall in
    the same fold and every sample is held out exactly once. Returns the fold index per sample."""
    from sklearn.model_selection import GroupKFold

    li_ids = np.asarray(li_ids)
    n_groups = len(np.unique(li_ids))
    if n_folds < 2 or n_groups < n_folds:
        raise ValueError(f"{n_groups} Li cannot make {n_folds} cross-fitting folds (need >= 2 folds)")
    fold = np.full(len(li_ids), -1, dtype=np.int64)
    for k, (_, test) in enumerate(GroupKFold(n_splits=n_folds).split(np.zeros(len(li_ids)), groups=li_ids)):
        fold[test] = k
    return fold


ACCURACY_INTERVAL_METHOD = (
    "Wilson score interval with n = the number of distinct Li (not of samples): the windows of one "
    "Li are correlated (same neighbourhood, often the same label), so they are counted as one "
    "independent trial; per_sample_wilson (n = samples, too narrow if windows are correlated) and "
    "cluster_bootstrap (Li resampled with replacement, percentile interval) are given beside it. "
    "Correlations between neighbouring Li in the same window are not removed.")


def accuracy_with_interval(correct, groups, confidence: float = DEFAULT_CONFIDENCE, seed: int = 0,
                           n_bootstrap: int = BOOTSTRAP_RESAMPLES) -> dict:
    """Accuracy of held-out predictions (``correct``: bool per sample) with its interval
    (``ACCURACY_INTERVAL_METHOD``); ``groups``: Li id of every sample."""
    correct = np.asarray(correct, bool)
    groups = np.asarray(groups)
    if correct.ndim != 1 or len(correct) == 0 or groups.shape != correct.shape:
        raise ValueError("correct and groups must be non-empty 1D arrays of equal length")
    n = len(correct)
    acc = float(correct.mean())
    codes = np.unique(groups, return_inverse=True)[1].ravel()
    n_ind = int(codes.max()) + 1
    lo, hi = wilson_interval(acc * n_ind, n_ind, confidence)
    b_lo, b_hi = cluster_bootstrap_mean_ci(correct.astype(float), groups, n_bootstrap, seed, confidence)
    return {"accuracy": acc, "n": n, "n_correct": int(correct.sum()), "n_independent": n_ind,
            "confidence": confidence, "ci_low": lo, "ci_high": hi, "interval_method": ACCURACY_INTERVAL_METHOD,
            "per_sample_wilson": list(wilson_interval(acc * n, n, confidence)),
            "cluster_bootstrap": [float(b_lo), float(b_hi)], "bootstrap_resamples": int(n_bootstrap)}


def _scores(pipe, X, y) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, roc_auc_score

    if len(np.unique(y)) < 2:
        raise ValueError("a split holds only one class: ROC AUC undefined; use more data or windows")
    return float(accuracy_score(y, pipe.predict(X))), float(roc_auc_score(y, pipe.decision_function(X)))


def _summary(values: list[float]) -> dict:
    v = np.asarray(values, float)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0, "values": v.tolist()}


def cross_fit(X, y, li_ids, n_folds: int = DEFAULT_OUTER_FOLDS, Cs=DEFAULT_CS, cv: int = 5, seed: int = 0,
              scoring: str = "accuracy", min_feature_std: float = DEFAULT_MIN_FEATURE_STD,
              max_abs_z: float | None = DEFAULT_MAX_ABS_Z, folds: np.ndarray | None = None) -> dict:
    """Cross-fitting: for each outer fold (``outer_folds``, or the given ``folds``) fit the
    pipeline on the other folds (feature filter, scaling and C, the latter by GroupKFold over Li
    within them) and predict the fold. Returns per-sample ``fold``, held-out ``decision`` and
    ``predicted`` labels, and per-fold ``train_accuracy``, ``train_roc_auc``, ``test_accuracy``,
    ``test_roc_auc``, ``C``, ``n_features_kept``, ``sizes`` and ``n_beyond_bound`` (held-out
    samples with a kept standardised feature beyond ``max_abs_z``)."""
    X, y = _check_xy(X, y)
    li_ids = np.asarray(li_ids)
    fold = outer_folds(li_ids, n_folds) if folds is None else np.asarray(folds, np.int64)
    if fold.shape != y.shape or np.any(fold < 0):
        raise ValueError("every sample needs a fold index >= 0")
    decision = np.full(len(y), np.nan)
    out = {k: [] for k in ("train_accuracy", "train_roc_auc", "test_accuracy", "test_roc_auc", "C",
                           "n_features_kept", "sizes", "n_beyond_bound")}
    for k in np.unique(fold):
        test, train = np.flatnonzero(fold == k), np.flatnonzero(fold != k)
        pipe = fit_classifier(X[train], y[train], li_ids[train], Cs, cv, seed + int(k), scoring,
                              min_feature_std, max_abs_z)
        a, u = _scores(pipe, X[train], y[train])
        out["train_accuracy"].append(a), out["train_roc_auc"].append(u)
        a, u = _scores(pipe, X[test], y[test])
        out["test_accuracy"].append(a), out["test_roc_auc"].append(u)
        decision[test] = pipe.decision_function(X[test])
        z = pipe.named_steps["scale"].transform(pipe.named_steps["filter"].transform(X[test]))
        out["n_beyond_bound"].append(int(np.sum(np.any(np.abs(z) > max_abs_z, axis=1))) if max_abs_z else 0)
        out["C"].append(float(pipe.named_steps["logistic"].C_))
        out["n_features_kept"].append(int(pipe.named_steps["filter"].support_.sum()))
        out["sizes"].append({"train": int(len(train)), "test": int(len(test))})
    out.update(fold=fold, decision=decision, predicted=(decision > 0).astype(np.int64))
    return out


CROSS_FIT_SCHEME = ("cross-fitting: GroupKFold over Li ids (all windows of a Li in the same outer fold), every "
                    "labelled sample held out exactly once; within each outer training set the feature filter, "
                    "the scaling and C (GroupKFold over Li, cv_folds folds) are fitted anew")


def _held_out_metrics(res: dict, y: np.ndarray, li_ids: np.ndarray, confidence: float, seed: int) -> dict:
    from sklearn.metrics import roc_auc_score

    test = accuracy_with_interval(res["predicted"] == y, li_ids, confidence, seed)
    test.update(mean=test["accuracy"], std=_summary(res["test_accuracy"])["std"], values=res["test_accuracy"])
    auc = _summary(res["test_roc_auc"])
    auc["pooled"] = float(roc_auc_score(y, res["decision"]))
    return {"train_accuracy": _summary(res["train_accuracy"]), "test_accuracy": test,
            "train_roc_auc": _summary(res["train_roc_auc"]), "test_roc_auc": auc}


def evaluate_classifier(X, y, li_ids, window_ids=None, n_folds: int = DEFAULT_OUTER_FOLDS, Cs=DEFAULT_CS,
                        cv: int = 5, seed: int = 0, scoring: str = "accuracy",
                        min_feature_std: float = DEFAULT_MIN_FEATURE_STD, max_abs_z: float | None = DEFAULT_MAX_ABS_Z,
                        confidence: float = DEFAULT_CONFIDENCE, baseline=None,
                        baseline_name: str = "baseline") -> dict:
    """Cross-fitted accuracy and ROC AUC (``cross_fit``). ``test_accuracy`` is the accuracy over
    all held-out predictions with its interval (``accuracy_with_interval``; ``mean`` = that
    accuracy, ``std`` / ``values`` over the folds); ``train_accuracy`` is the in-fold training
    accuracy, mean and std over folds. ``baseline``: one covariate per sample (e.g. the Li-S
    count within the D2min cutoff), cross-fitted identically (same folds, same C search) on
    its own and reported under ``baseline``."""
    X, y = _check_xy(X, y)
    li_ids = np.asarray(li_ids)
    res = cross_fit(X, y, li_ids, n_folds, Cs, cv, seed, scoring, min_feature_std, max_abs_z)
    out = _held_out_metrics(res, y, li_ids, confidence, seed)
    out.update({"scheme": CROSS_FIT_SCHEME, "grouping": "Li", "outer_folds": int(len(np.unique(res["fold"]))),
                "C": res["C"], "n_features_kept": res["n_features_kept"], "sizes": res["sizes"],
                "n_test_beyond_bound": int(sum(res["n_beyond_bound"])), "seed": seed,
                "n_windows": int(len(np.unique(window_ids))) if window_ids is not None else None,
                "correlated_samples": ACCURACY_INTERVAL_METHOD})
    if baseline is not None:
        b = np.asarray(baseline, float)
        if b.shape != y.shape:
            raise ValueError(f"baseline has shape {b.shape}, labels {y.shape}")
        if np.ptp(b) == 0:
            out["baseline"] = {"name": baseline_name, "note": "constant on the labelled samples: no baseline"}
        else:
            rb = cross_fit(b[:, None], y, li_ids, Cs=Cs, cv=cv, seed=seed, scoring=scoring, min_feature_std=0.0,
                           max_abs_z=None, folds=res["fold"])
            out["baseline"] = {"name": baseline_name, **_held_out_metrics(rb, y, li_ids, confidence, seed),
                               "C": rb["C"], "scheme": "the same outer folds and C search as the RSF model"}
    return out


MODEL_FORMATS = ("lipsglass-softness-model-1", "lipsglass-softness-model-2")


@dataclass
class SoftnessModel:
    """A trained softness hyperplane, serialisable to JSON (no pickle).

    In standardised features z = (x - mean) / scale the classifier's decision is w.z + b and
    softness S = (w.z + b) / |w| (signed distance to the hyperplane, S > 0 soft = predicted
    mobile). ``features`` records how to recompute x from a structure (RSF settings).

    ``dropped_features``: features removed by the ``FeatureFilter`` (coef 0, scale 1 here; their
    training std is in the record); ``max_abs_standardised_feature``: the bound beyond which a
    sample is refused (ValueError) instead of scored (None: no check, format-1 models). With
    every kept |z| <= bound, |S| <= ``softness_bound`` = bound |w|_1 / |w|_2 + |b| / |w|_2.
    """

    feature_names: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    C: float
    seed: int
    metrics: dict = field(default_factory=dict)
    features: dict = field(default_factory=dict)
    dropped_features: list = field(default_factory=list)
    max_abs_standardised_feature: float | None = None
    feature_filter: dict = field(default_factory=dict)

    @classmethod
    def from_pipeline(cls, pipe, feature_names, seed: int, metrics: dict | None = None,
                      features: dict | None = None) -> "SoftnessModel":
        filt, scaler, clf = pipe.named_steps["filter"], pipe.named_steps["scale"], pipe.named_steps["logistic"]
        if list(clf.classes_) != [IMMOBILE, MOBILE]:
            raise ValueError(f"classifier classes must be [0, 1] (immobile, mobile), got {clf.classes_}")
        if len(feature_names) != filt.n_features_in_:
            raise ValueError(f"{len(feature_names)} feature names for {filt.n_features_in_} features")
        keep = filt.support_
        mean, scale, coef = filt.mean_.copy(), np.ones(len(keep)), np.zeros(len(keep))
        mean[keep], scale[keep], coef[keep] = scaler.mean_, scaler.scale_, clf.coef_[0]
        bound = None if filt.max_abs_z is None else float(filt.max_abs_z)
        info = {"min_relative_std": float(filt.min_relative_std), "typical_std": float(filt.typical_std_),
                "max_abs_z": bound, "n_features": int(len(keep)), "n_kept": int(keep.sum()),
                "rule": "dropped if std < min_relative_std x typical_std (median std of the features with "
                        "non-zero std on the training samples), or if a training sample lies beyond max_abs_z "
                        "standard deviations (outlier-dominated)"}
        return cls(list(feature_names), mean, scale, coef, float(clf.intercept_[0]), float(clf.C_), int(seed),
                   metrics or {}, features or {}, filt.dropped(list(feature_names)), bound, info)

    @property
    def kept(self) -> np.ndarray:
        """Mask of the features the hyperplane uses (not dropped)."""
        dropped = {d["index"] for d in self.dropped_features}
        return np.array([k not in dropped for k in range(len(self.coef))], bool)

    @property
    def softness_bound(self) -> float | None:
        """Largest |S| of any sample within the bound (None without a bound)."""
        if self.max_abs_standardised_feature is None:
            return None
        norm = np.linalg.norm(self.coef)
        return float((self.max_abs_standardised_feature * np.abs(self.coef).sum() + abs(self.intercept)) / norm)

    def _z(self, X, check: bool = True) -> np.ndarray:
        X = np.asarray(X, float)
        if X.ndim != 2 or X.shape[1] != len(self.coef):
            raise ValueError(f"expected (n, {len(self.coef)}) features, got {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("features contain NaN or inf")
        z = (X - self.mean) / self.scale
        z[:, ~self.kept] = 0.0  # dropped features carry no weight, whatever their value
        bound = self.max_abs_standardised_feature
        if check and bound is not None and z.size:
            beyond = np.abs(z) > bound
            if beyond.any():
                r, c = np.unravel_index(int(np.argmax(np.abs(z))), z.shape)
                raise ValueError(
                    f"refusing to score {int(beyond.any(axis=1).sum())} of {len(z)} samples: a standardised feature "
                    f"lies beyond the model's bound |z| <= {bound:g} (features outside the training distribution). "
                    f"Largest: sample {r}, feature {self.feature_names[c]} = {X[r, c]:.6g} (training mean "
                    f"{self.mean[c]:.6g}, std {self.scale[c]:.6g}), z = {z[r, c]:+.4g}")
        return z

    def standardised(self, X, check: bool = True) -> np.ndarray:
        """z = (x - mean) / scale (dropped features 0); ValueError beyond the bound when ``check``."""
        return self._z(X, check)

    def decision(self, X, check: bool = True) -> np.ndarray:
        """w.z + b: the logistic-regression log-odds of being mobile."""
        return self._z(X, check) @ self.coef + self.intercept

    def softness(self, X, check: bool = True) -> np.ndarray:
        """Signed distance (standardised feature units) to the hyperplane; > 0 soft. Samples with
        a kept standardised feature beyond the bound raise ValueError (``check=False``: no check)."""
        norm = np.linalg.norm(self.coef)
        if norm == 0:
            raise ValueError("all coefficients are zero: the hyperplane (and softness) is undefined")
        return self.decision(X, check) / norm

    def predict_mobile(self, X, check: bool = True) -> np.ndarray:
        return self.decision(X, check) > 0

    def softness_of_structure(self, box: Box, positions: np.ndarray, labels: np.ndarray,
                              centres: np.ndarray) -> np.ndarray:
        """Softness of ``centres`` in a configuration, with the RSF settings stored in ``features``
        (``labels`` as for ``radial_structure_functions``)."""
        f = self.features
        missing = {"channels", "mu", "width", "truncation"} - set(f)
        if missing:
            raise ValueError(f"model has no RSF settings {sorted(missing)}: compute features yourself")
        x = radial_structure_functions(box, positions, labels, centres, f["channels"], np.asarray(f["mu"]),
                                       f["width"], f["truncation"])
        return self.softness(x)

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("mean", "scale", "coef"):
            d[k] = np.asarray(getattr(self, k)).tolist()
        d["softness_bound"] = self.softness_bound
        d["format"] = MODEL_FORMATS[-1]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SoftnessModel":
        if d.get("format") not in MODEL_FORMATS:
            raise ValueError(f"not a lipsglass softness model (format {d.get('format')!r})")
        bound = d.get("max_abs_standardised_feature")
        model = cls(list(d["feature_names"]), np.asarray(d["mean"], float), np.asarray(d["scale"], float),
                    np.asarray(d["coef"], float), float(d["intercept"]), float(d["C"]), int(d["seed"]),
                    d.get("metrics", {}), d.get("features", {}), list(d.get("dropped_features", [])),
                    None if bound is None else float(bound), d.get("feature_filter", {}))
        if not (len(model.feature_names) == len(model.mean) == len(model.scale) == len(model.coef)):
            raise ValueError("model arrays disagree in length")
        return model

    def save(self, path: str | Path) -> None:
        # json writes floats with repr(), which round-trips float64 exactly
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "SoftnessModel":
        return cls.from_dict(json.loads(Path(path).read_text()))


def rsf_settings(channels=DEFAULT_CHANNELS, mu=DEFAULT_MU, width=DEFAULT_WIDTH, truncation=DEFAULT_TRUNCATION,
                 centre_species: str = "Li", split: str | None = None) -> dict:
    """The RSF settings a ``SoftnessModel`` stores to recompute its features (JSON-ready)."""
    return {"centre_species": centre_species, "channels": list(channels),
            "mu": np.asarray(mu, float).tolist(), "width": float(width), "truncation": float(truncation),
            "split": split}


def train_softness_model(X, y, li_ids, window_ids=None, feature_names=None, features: dict | None = None,
                         n_folds: int = DEFAULT_OUTER_FOLDS, Cs=DEFAULT_CS, cv: int = 5, seed: int = 0,
                         scoring: str = "accuracy", min_feature_std: float = DEFAULT_MIN_FEATURE_STD,
                         max_abs_z: float | None = DEFAULT_MAX_ABS_Z, confidence: float = DEFAULT_CONFIDENCE,
                         baseline=None, baseline_name: str = "baseline") -> SoftnessModel:
    """Evaluate by cross-fitting (``evaluate_classifier``; metrics stored in the model), then
    fit the final hyperplane on all samples (feature filter and C chosen again, GroupKFold over Li)."""
    X, y = _check_xy(X, y)
    if feature_names is None:
        feature_names = [f"x{k}" for k in range(X.shape[1])]
    metrics = evaluate_classifier(X, y, li_ids, window_ids, n_folds, Cs, cv, seed, scoring, min_feature_std,
                                  max_abs_z, confidence, baseline, baseline_name)
    pipe = fit_classifier(X, y, li_ids, Cs, cv, seed, scoring, min_feature_std, max_abs_z)
    metrics["full_fit"] = dict(zip(("accuracy", "roc_auc"), _scores(pipe, X, y)))
    metrics["n_samples"] = int(len(y))
    return SoftnessModel.from_pipeline(pipe, feature_names, seed, metrics, features)


MAX_DRAWS = 20  # draws of a learning-curve training set until it holds both classes
LEARNING_CURVE_SCHEME = (
    "training Li drawn at random (seeded) from the pooled glasses outside each outer fold (GroupKFold over Li, "
    "n_folds folds, every labelled sample held out once per size and repeat), all labelled windows of a drawn Li "
    "trained on; feature filter, scaling and C (GroupKFold over Li) fitted anew for every training set; held-out "
    "and training accuracy reported per glass (unit)")


def learning_curve(units: Mapping[str, TrainingSet], fractions: Sequence[float] = (0.25, 0.5, 1.0), repeats: int = 1,
                   n_folds: int = DEFAULT_OUTER_FOLDS, Cs=DEFAULT_CS, cv: int = 5, seed: int = 0,
                   scoring: str = "accuracy", min_feature_std: float = DEFAULT_MIN_FEATURE_STD,
                   max_abs_z: float | None = DEFAULT_MAX_ABS_Z, confidence: float | None = None) -> dict:
    """Held-out and training accuracy of the classifier against the number of training Li, from
    subsamples of the pooled ``units`` (one balanced training set per glass; Li ids made unique
    per unit). For every size (``fractions`` of the Li outside an outer fold), repeat and outer
    fold, ``fractions[j]`` of those Li are drawn and the pipeline fitted on all their labelled
    samples (``LEARNING_CURVE_SCHEME``). Returns ``sizes_li`` (mean number of training Li per
    size), per unit ``test_accuracy`` / ``train_accuracy`` (one value per size: accuracy over the
    unit's held-out samples, resp. over its samples in the training sets, averaged over repeats),
    the unit's ``n_samples`` and ``n_li``, the pooled held-out accuracy per size and, per size,
    the held-out accuracy of every outer fold's models (``fold_test_accuracy``: every unit is
    scored by the same models, so their fit-to-fit spread is common to the units).
    ``confidence`` is accepted (and ignored) so that ``SoftnessSettings.classifier()`` can be passed."""
    names = list(units)
    fractions = [float(f) for f in fractions]
    if not names or not fractions or any(not 0 < f <= 1 for f in fractions) or sorted(fractions) != fractions:
        raise ValueError(f"need units and increasing training fractions in (0, 1], got {len(names)} units, {fractions}")
    if repeats < 1:
        raise ValueError(f"learning curve repeats must be >= 1, got {repeats}")
    X = np.vstack([units[u].X for u in names])
    X, y = _check_xy(X, np.concatenate([units[u].y for u in names]))
    unit = np.concatenate([np.full(len(units[u].y), k) for k, u in enumerate(names)])
    span = 1 + max(int(np.max(units[u].li_ids)) for u in names)
    codes = np.concatenate([k * span + np.asarray(units[u].li_ids, np.int64) for k, u in enumerate(names)])
    fold = outer_folds(codes, n_folds)
    rng = np.random.default_rng(seed)
    n_sizes, n_units = len(fractions), len(names)
    test_correct = np.zeros((n_sizes, repeats, len(y)), bool)
    train_hits = np.zeros((n_sizes, repeats, n_units))
    train_n = np.zeros((n_sizes, repeats, n_units))
    n_li = np.zeros((n_sizes, repeats, n_folds))
    for j, frac in enumerate(fractions):
        for r in range(repeats):
            for k in range(n_folds):
                outside = fold != k
                pool = np.unique(codes[outside])
                m = min(len(pool), max(cv, int(round(frac * len(pool)))))
                for _ in range(MAX_DRAWS):  # a small draw may hold one class only: draw again
                    chosen = rng.choice(pool, size=m, replace=False)
                    sel = outside & np.isin(codes, chosen)
                    if len(np.unique(y[sel])) == 2:
                        break
                else:
                    raise ValueError(f"{m} training Li drawn {MAX_DRAWS} times held one class only: too few "
                                     "labelled Li")
                pipe = fit_classifier(X[sel], y[sel], codes[sel], Cs, cv, seed + 1000 * j + 100 * r + k, scoring,
                                      min_feature_std, max_abs_z)
                test = ~outside
                test_correct[j, r, test] = pipe.predict(X[test]) == y[test]
                hit = pipe.predict(X[sel]) == y[sel]
                train_hits[j, r] += np.bincount(unit[sel], weights=hit.astype(float), minlength=n_units)
                train_n[j, r] += np.bincount(unit[sel], minlength=n_units)
                n_li[j, r, k] = len(chosen)
    per_unit = {}
    for k, u in enumerate(names):
        mine = unit == k
        test_acc = test_correct[:, :, mine].mean(axis=2).mean(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            train_acc = np.nanmean(train_hits[:, :, k] / train_n[:, :, k], axis=1)
        per_unit[u] = {"test_accuracy": test_acc.tolist(), "train_accuracy": train_acc.tolist(),
                       "n_samples": int(mine.sum()), "n_li": int(len(np.unique(codes[mine])))}
    by_fold = np.array([[[test_correct[j, r, fold == k].mean() for k in range(n_folds)] for r in range(repeats)]
                        for j in range(n_sizes)]).mean(axis=1)
    return {"sizes_li": n_li.mean(axis=(1, 2)).tolist(), "fractions": fractions, "repeats": int(repeats),
            "fold_test_accuracy": by_fold.tolist(),
            "outer_folds": int(n_folds), "seed": int(seed), "scheme": LEARNING_CURVE_SCHEME, "units": per_unit,
            "pooled_test_accuracy": test_correct.mean(axis=2).mean(axis=1).tolist(),
            "n_li_total": int(len(np.unique(codes))), "n_samples_total": int(len(y))}


def feature_channel(name: str) -> str:
    """Element channel of an RSF feature name ``G_<channel>(<mu>)``; split channels ``S:<unit>``
    belong to their element (S)."""
    if not (name.startswith("G_") and "(" in name):
        raise ValueError(f"not an RSF feature name: {name!r}")
    return name[2:name.index("(")].split(":")[0]


def channel_variant_metrics(X, y, li_ids, window_ids, feature_names: Sequence[str], variants: Sequence[Sequence[str]],
                            full_metrics: Mapping | None = None, **classifier) -> list[dict]:
    """Held-out accuracy of the classifier restricted to the RSF columns of each channel set in
    ``variants`` (e.g. [Li], [S], [Li, P, S]), cross-fitted exactly like the main model (same
    outer folds over Li, feature filter, scaling and C search anew in each fold; ``classifier``:
    the keyword arguments of ``evaluate_classifier``). A variant that keeps every column reuses
    ``full_metrics`` (the main model's) when given. Returns one entry per variant, in order."""
    X, y = _check_xy(X, y)
    chan = np.array([feature_channel(n) for n in feature_names])
    if len(chan) != X.shape[1]:
        raise ValueError(f"{len(chan)} feature names for {X.shape[1]} columns")
    out = []
    for variant in variants:
        variant = [str(c) for c in variant]
        missing = sorted(set(variant) - set(chan))
        if missing:
            raise ValueError(f"channel variant {variant}: no feature columns of {missing} (channels: {sorted(set(chan))})")
        keep = np.isin(chan, variant)
        entry = {"channels": variant, "n_features": int(keep.sum())}
        if keep.all() and full_metrics is not None:
            m = full_metrics
            entry["same_as_main_model"] = True
        else:
            m = evaluate_classifier(X[:, keep], y, li_ids, window_ids, **classifier)
            entry["same_as_main_model"] = False
        entry.update({k: m[k] for k in ("test_accuracy", "train_accuracy", "test_roc_auc", "C",
                                          "n_features_kept") if k in m})
        out.append(entry)
    return out


def transfer_metrics(model: SoftnessModel, X, y) -> dict:
    """Accuracy and ROC AUC of a model (trained on glass A) on labelled samples of glass B
    (ValueError if a sample lies beyond the model's bound)."""
    from sklearn.metrics import roc_auc_score

    X, y = _check_xy(X, y)
    if len(np.unique(y)) < 2:
        raise ValueError("transfer set holds only one class")
    d = model.decision(X)
    return {"accuracy": float(np.mean((d > 0) == (y == MOBILE))),
            "roc_auc": float(roc_auc_score(y, d)), "n": int(len(y))}

# --- links between softness and the anion environment --------------------------------------

@dataclass
class AnionEnvironment:
    """S environment of each centre within ``radius`` (A).

    shares[:, k]: fraction of those S that belong to anion_types[k] (NaN if no S within radius);
    n_sulfur: number of S within radius; nearest: anion type of the nearest S within radius;
    majority: type holding most of those S ("tie" if several share the maximum); both "" when
    no S lies within radius.
    """

    anion_types: tuple
    radius: float
    shares: np.ndarray
    n_sulfur: np.ndarray
    nearest: np.ndarray
    majority: np.ndarray


def anion_environment(box: Box, positions: np.ndarray, centres: np.ndarray, s_anion: np.ndarray,
                      radius: float = 5.0, anion_types: Sequence[str] = ANION_TYPES) -> AnionEnvironment:
    """Shares of the S within ``radius`` (A) of each centre belonging to each anion type.

    s_anion: per-atom labels (length N): the anion type of each S atom, "" for atoms that are not
    anion S. Every non-empty label must be one of ``anion_types``.
    """
    pos = np.asarray(positions, float)
    s_anion = np.asarray(s_anion).astype(str)
    centres = np.asarray(centres, np.int64)
    anion_types = tuple(anion_types)
    if s_anion.shape != (len(pos),):
        raise ValueError(f"s_anion must have one label per atom ({len(pos)}), got {s_anion.shape}")
    sulfur = np.flatnonzero(s_anion != "")
    bad = sorted(set(s_anion[sulfur]) - set(anion_types))
    if bad:
        raise ValueError(f"S labels {bad} are not among anion types {anion_types}")
    if not radius > 0:
        raise ValueError("radius must be positive")
    type_index = np.array([anion_types.index(a) for a in s_anion[sulfur]], dtype=np.int64)
    i, j, vec = neighbour_pairs(box, pos[centres], radius, other=pos[sulfur])
    dist = np.linalg.norm(vec, axis=1)
    keep = ~((centres[i] == sulfur[j]) & (dist < 1e-10))  # a centre that is itself an S
    i, j, dist = i[keep], j[keep], dist[keep]
    n, k = len(centres), len(anion_types)
    counts = np.zeros((n, k))
    np.add.at(counts, (i, type_index[j]), 1.0)
    n_s = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(n_s[:, None] > 0, counts / n_s[:, None], np.nan)
    names = np.array(anion_types, dtype=object)
    nearest = np.full(n, "", dtype=object)
    if len(dist):
        order = np.lexsort((dist, i))  # by centre, then distance
        first = order[np.r_[True, np.diff(i[order]) != 0]]
        nearest[i[first]] = names[type_index[j[first]]]
    majority = np.full(n, "", dtype=object)
    has = n_s > 0
    top = counts.max(axis=1)
    n_top = np.sum(counts == top[:, None], axis=1)
    majority[has & (n_top == 1)] = names[np.argmax(counts, axis=1)][has & (n_top == 1)]
    majority[has & (n_top > 1)] = "tie"
    return AnionEnvironment(anion_types, float(radius), shares, n_s.astype(np.int64),
                            nearest.astype(str), majority.astype(str))


def softness_share_correlations(softness, env: AnionEnvironment, bins: int | np.ndarray = 10,
                                min_count: int = 5, confidence: float = 0.95) -> dict:
    """Pearson correlation (Fisher-z CI) of softness with the share of neighbouring S in each anion
    type, per Li and binned as in the paper (bins of share 0..1, mean softness per bin; bins with
    fewer than ``min_count`` Li are excluded from the binned r and reported). Li without S within
    the radius have no share and are excluded (counted in ``n_no_sulfur``)."""
    s = np.asarray(softness, float)
    if s.shape != (len(env.shares),):
        raise ValueError(f"softness has shape {s.shape}, environment has {len(env.shares)} centres")
    if min_count < 1:
        raise ValueError("min_count must be >= 1")
    has = env.n_sulfur > 0
    out = {"n_no_sulfur": int(np.sum(~has)), "radius": env.radius}
    edges = np.linspace(0.0, 1.0, int(bins) + 1) if np.ndim(bins) == 0 else np.asarray(bins, float)
    for k, name in enumerate(env.anion_types):
        share = env.shares[has, k]
        b = binned_mean(share, s[has], edges)
        ok = b.count >= min_count
        entry = {"bins": b.to_dict(), "bins_used": int(ok.sum())}
        entry["per_li"] = pearson_ci(share, s[has], confidence) if np.ptp(share) > 0 else None
        entry["binned"] = pearson_ci(b.centres[ok], b.mean[ok], confidence) if ok.sum() >= 4 else None
        out[name] = entry
    return out


def softness_by_anion(softness, env: AnionEnvironment, by: str = "majority") -> dict[str, np.ndarray]:
    """Softness of the Li assigned to each anion type: ``by="majority"`` (type of most S within
    the radius; ties unassigned), ``"nearest"`` (type of the nearest S), or ``"any"`` (every Li
    with at least one S of that type within the radius, so a Li can count for several types)."""
    s = np.asarray(softness, float)
    if s.shape != (len(env.shares),):
        raise ValueError("softness and environment disagree in length")
    if by == "majority":
        return {a: s[env.majority == a] for a in env.anion_types}
    if by == "nearest":
        return {a: s[env.nearest == a] for a in env.anion_types}
    if by == "any":
        return {a: s[np.nan_to_num(env.shares[:, k]) > 0] for k, a in enumerate(env.anion_types)}
    raise ValueError(f"by must be 'majority', 'nearest' or 'any', got {by!r}")


def property_vs_softness(softness, values, bins: int | np.ndarray = 10,
                         softness_range: tuple[float, float] | None = None) -> BinnedMean:
    """Binned mean of a per-Li property supplied by the caller (e.g. potential energy in
    kcal/mol, Voronoi volume in A^3) against softness, with std and standard error per bin."""
    return binned_mean(softness, values, bins, softness_range)


# --- hop labels and label persistence ----------------------------------------------------------

def p_hop(positions, half_frames: int) -> np.ndarray:
    """Hop indicator p_hop (A^2) of Candelier et al. PRL 105 (2010) 135702, as used for the
    softness labels of Cubuk et al. PRL 114 (2015) 108001 and Schoenholz et al. Nat. Phys. 12
    (2016) 469: for atom i at frame t, with the frame intervals A = [t - h, t] and B = [t, t + h]
    (h = ``half_frames``, tau = 2 h frames),

        p_hop(i, t) = sqrt( <(r_i - <r_i>_B)^2>_A  <(r_i - <r_i>_A)^2>_B ),

    large when the atom sits in one cage before t and another after t (a hop centred at t),
    small (~ its vibration amplitude squared) when it rattles in one cage. positions:
    (n_frames, n_atoms, 3) UNWRAPPED coordinates (A) of equally spaced frames. Returns
    (n_frames, n_atoms); NaN for frames within h of either end, where A or B is cut off.
    """
    pos = np.asarray(positions, float)
    if pos.ndim != 3 or pos.shape[2] != 3:
        raise ValueError(f"positions must have shape (n_frames, n_atoms, 3), got {pos.shape}")
    h = int(half_frames)
    if h < 1:
        raise ValueError(f"p_hop needs half_frames >= 1, got {half_frames}")
    n = len(pos)
    out = np.full(pos.shape[:2], np.nan)
    if n < 2 * h + 1:
        return out
    # running sums over intervals of h + 1 frames, for <r> and <r^2>
    c1 = np.concatenate([np.zeros((1,) + pos.shape[1:]), np.cumsum(pos, axis=0)])
    c2 = np.concatenate([np.zeros((1, pos.shape[1])), np.cumsum(np.sum(pos ** 2, axis=2), axis=0)])
    m = h + 1
    for t in range(h, n - h):
        a0, a1, b0, b1 = t - h, t + 1, t, t + h + 1
        mean_a, mean_b = (c1[a1] - c1[a0]) / m, (c1[b1] - c1[b0]) / m
        sq_a, sq_b = (c2[a1] - c2[a0]) / m, (c2[b1] - c2[b0]) / m
        # <(r - c)^2>_X = <r^2>_X - 2 <r>_X . c + c^2
        ab = sq_a - 2 * np.sum(mean_a * mean_b, axis=1) + np.sum(mean_b ** 2, axis=1)
        ba = sq_b - 2 * np.sum(mean_b * mean_a, axis=1) + np.sum(mean_a ** 2, axis=1)
        out[t] = np.sqrt(np.clip(ab, 0, None) * np.clip(ba, 0, None))
    return out


def p_hop_half_frames(tau_ps: float, dump_interval_ps: float) -> int:
    """Frames h of each half of the p_hop interval tau (h = tau / 2 / dump interval, rounded
    half up; at least 1)."""
    if not (tau_ps > 0 and dump_interval_ps > 0):
        raise ValueError(f"p_hop tau ({tau_ps} ps) and the dump interval ({dump_interval_ps} ps) must be positive")
    return max(1, int(math.floor(tau_ps / 2.0 / dump_interval_ps + 0.5)))


def window_maximum(per_frame, starts: Sequence[int], frames_per_window: int) -> np.ndarray:
    """Largest finite value of ``per_frame`` (n_frames, n_atoms) over frames start..start + K of
    each window (K = ``frames_per_window``); NaN for an atom without a finite value there.
    Returns (n_windows, n_atoms)."""
    v = np.asarray(per_frame, float)
    out = np.full((len(starts), v.shape[1]), np.nan)
    for k, s in enumerate(starts):
        if int(s) < 0 or int(s) + frames_per_window > len(v) - 1:
            raise ValueError(f"window {k} (frames {s}..{s + frames_per_window}) runs past the {len(v)} frames")
        block = v[int(s):int(s) + frames_per_window + 1]
        finite = np.isfinite(block)
        has = finite.any(axis=0)
        out[k, has] = np.max(np.where(finite, block, -np.inf), axis=0)[has]
    return out


def label_persistence(statistic, upper: float, log_statistic: bool = True) -> dict:
    """Does a label say something about the atom, or about the window? statistic: (n_windows,
    n_atoms) label statistic (D_cum or window p_hop) of consecutive windows; ``upper``: the
    mobile threshold. Returns the base rate P(mobile), P(mobile in window w+1 | mobile in w)
    over consecutive window pairs (with its count), their ratio (lift; 1 = labels are
    independent draws each window) and the intraclass correlation of the (log) statistic across
    windows (``intraclass_correlation``)."""
    s = np.asarray(statistic, float)
    if s.ndim != 2 or s.shape[0] < 2:
        raise ValueError(f"label persistence needs >= 2 windows of (n_windows, n_atoms), got {s.shape}")
    finite = np.isfinite(s)
    mobile = finite & (s > upper)
    base = float(mobile[finite].mean()) if finite.any() else float("nan")
    prev, nxt = mobile[:-1], mobile[1:]
    pair = prev & finite[1:]
    n_pairs = int(pair.sum())
    cond = float(nxt[pair].mean()) if n_pairs else float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        icc_values = np.log(np.where(s > 0, s, np.nan)) if log_statistic else s
    return {"base_rate_mobile": base, "p_mobile_next_given_mobile": cond, "n_mobile_with_next": n_pairs,
            "lift": cond / base if base > 0 and np.isfinite(cond) else float("nan"),
            "intraclass_correlation": intraclass_correlation(icc_values),
            "icc_of": "log of the label statistic" if log_statistic else "label statistic",
            "n_windows": int(s.shape[0]), "n_atoms": int(s.shape[1])}


# --- windows of a trajectory ------------------------------------------------------------------

@dataclass
class WindowSample:
    """One window of a trajectory: RSF features of the centre atoms at its first frame and their
    rearrangement statistics over it (``lipsglass.d2min.WindowDynamics``)."""

    start_timestep: int
    end_timestep: int
    ids: np.ndarray
    features: np.ndarray
    dynamics: WindowDynamics
    coordination: np.ndarray | None = None  # number of ``count_species`` atoms within the D2min cutoff
    start_frame: int = 0                    # index of the window's first frame in the trajectory


def count_within(box: Box, positions: np.ndarray, centres: np.ndarray, targets: np.ndarray,
                 cutoff: float) -> np.ndarray:
    """Number of atoms ``targets`` closer than ``cutoff`` (A) to each centre (the centre itself
    excluded), periodic boundaries."""
    pos = np.asarray(positions, float)
    centres, targets = np.asarray(centres, np.int64), np.asarray(targets, np.int64)
    if len(targets) == 0:
        return np.zeros(len(centres), np.int64)
    i, j, vec = neighbour_pairs(box, pos[centres], cutoff, other=pos[targets])
    keep = ~((centres[i] == targets[j]) & (np.linalg.norm(vec, axis=1) < 1e-10))
    return np.bincount(i[keep], minlength=len(centres)).astype(np.int64)


def dump_windows(path: str | Path, frames_per_window: int, stride: int | None = None, species: str = "Li",
                 cutoff: float = DEFAULT_CUTOFF, normalise: str = "none", hop_distance: float = 2.0,
                 channels: Sequence[str] = DEFAULT_CHANNELS, mu: np.ndarray = DEFAULT_MU,
                 width: float = DEFAULT_WIDTH, truncation: float = DEFAULT_TRUNCATION,
                 labels: np.ndarray | None = None, type_elements: Sequence[str] | None = None,
                 max_windows: int | None = None, min_neighbours: int = DEFAULT_MIN_NEIGHBOURS,
                 count_species: str | None = "S", structure=None, average_frames: int = 1,
                 on_window=None) -> list[WindowSample]:
    """Cut a LAMMPS text dump into windows and analyse each (features + D_cum + hops).

    A window holds ``frames_per_window`` increments (frames_per_window + 1 frames); windows start
    every ``stride`` frames (default ``frames_per_window``: back to back, sharing only their
    boundary frame, so their D_cum sums disjoint increments). Frames are streamed. Unwrapped
    coordinates (xu yu zu or image flags) are used when present. ``labels``: per-atom RSF channel
    labels in id order (default: the elements; see ``channel_labels``); ``type_elements``: element
    of each type in type order for dumps without an element column. ``count_species``: the
    number of atoms of this element within ``cutoff`` of each centre at the window's first frame
    is stored as ``coordination`` (the classifier's coordination-only baseline).
    ``structure``: optional callable (box, wrapped positions, atom ids) -> positions giving the
    structure whose features (RSFs, coordination) are taken, e.g. the inherent structure of the
    first frame (default: the first frame itself). ``average_frames`` > 1: the features are
    taken on the positions averaged over the ``average_frames`` frames ending at the window's
    first frame (past frames only, so the window's own motion does not enter its features;
    fewer at the start of the trajectory; needs unwrapped coordinates). ``on_window``: called
    with each finished window (e.g. to log progress).
    """
    from collections import deque

    from lipsglass.lammpsio import iter_dump

    if frames_per_window < 1:
        raise ValueError("frames_per_window must be >= 1")
    stride = frames_per_window if stride is None else stride
    if stride < 1:
        raise ValueError("stride must be >= 1")
    if average_frames < 1:
        raise ValueError(f"average_frames must be >= 1, got {average_frames}")
    history: deque = deque(maxlen=average_frames)
    start_average = None
    mapping = {k + 1: e for k, e in enumerate(type_elements)} if type_elements else None
    out: list[WindowSample] = []
    buffer: list = []  # (frame index, frame) from the start of the next unfinished window on
    next_start = 0
    ids0 = None
    for index, frame in enumerate(iter_dump(path)):
        if ids0 is None:
            ids0 = frame.ids.copy()
            elements = frame.elements(mapping)
            chan = elements if labels is None else np.asarray(labels).astype(str)
            if chan.shape != ids0.shape:
                raise ValueError(f"labels has {chan.shape} entries for {len(ids0)} atoms")
            centres = np.flatnonzero(elements == species)
            if len(centres) == 0:
                raise ValueError(f"{path}: no {species} atoms")
        elif not np.array_equal(frame.ids, ids0):
            raise ValueError(f"{path}: frame {index} holds different atom ids")
        if average_frames > 1:
            if not (frame.has("xu", "yu", "zu") or frame.has("ix", "iy", "iz")):
                raise ValueError(f"{path}: time-averaged structures need unwrapped coordinates (xu yu zu or image flags)")
            history.append(frame.unwrapped_positions())
            if index == next_start:
                start_average = np.mean(np.array(history), axis=0)
        if index < next_start:
            continue  # a gap between windows (stride > frames_per_window)
        buffer.append((index, frame))
        if index == next_start + frames_per_window:
            frames = [f for _, f in buffer]
            unwrapped = all(f.has("xu", "yu", "zu") or f.has("ix", "iy", "iz") for f in frames)
            pos = np.array([f.unwrapped_positions() if unwrapped else f.box.wrap(f.positions()) for f in frames])
            boxes = [f.box for f in frames]
            dyn = analyse_window(boxes, pos, centres, cutoff, normalise, unwrapped, hop_distance, min_neighbours)
            first = boxes[0].wrap(pos[0] if average_frames == 1 else start_average)
            if structure is not None:
                first = boxes[0].wrap(np.asarray(structure(boxes[0], first, ids0), float))
            feats = radial_structure_functions(boxes[0], first, chan, centres, channels, mu, width, truncation)
            coord = None
            if count_species is not None:
                coord = count_within(boxes[0], first, centres, np.flatnonzero(elements == count_species), cutoff)
            out.append(WindowSample(frames[0].timestep, frames[-1].timestep, ids0[centres], feats, dyn, coord,
                                    start_frame=next_start))
            if on_window is not None:
                on_window(out[-1])
            if max_windows is not None and len(out) >= max_windows:
                break
            next_start += stride
            buffer = [(i, f) for i, f in buffer if i >= next_start]
    return out


# --- settings of the softness stage -----------------------------------------------------------

# S of every unit type gets its own RSF channel when S is split by anion; the channel set is
# fixed (not taken from the glass) so that models of different glasses share feature columns.
S_UNITS = ANION_TYPES + ("S_free",)
# Mobility labels: "d_cum" (the paper's: D_cum quantiles of the glass) or "p_hop" (window
# maximum of the hop indicator, absolute thresholds in A^2); the analysed structure:
# "instantaneous" (the thermal snapshot), "inherent" (its LAMMPS energy minimum) or
# "time_average" (positions averaged over the time_average_frames frames ending at it).
LABEL_RECIPES = ("d_cum", "p_hop")
STRUCTURES = ("instantaneous", "inherent", "time_average")


@dataclass(frozen=True)
class SoftnessSettings:
    """Every knob of the softness stage (config ``softness``), parsed and checked once; units in
    the names (A, K). See config/config.yaml for the meaning of each; the classifier knobs:

    outer_folds: cross-fitting folds (GroupKFold over Li) of the accuracy; cv_folds: inner
    GroupKFold folds choosing C among ``Cs``; min_feature_std: features whose training std is
    below this fraction of the median feature std are dropped; max_abs_standardised_feature:
    standardised features beyond this are refused (and outlier-dominated features dropped);
    accuracy_confidence: level of the accuracy intervals; learning_curve_fractions /
    learning_curve_repeats: training sizes (fractions of the pooled Li outside an outer fold) and
    repeats of the learning curve (``learning_curve``, C3); channel_variants: channel sets (subsets
    of ``channels``) whose cross-fitted accuracies are reported beside the model's
    (``channel_variant_metrics``; model.json ``metrics.channel_variants``).

    Labels and structures: label_temperature_K (default temperature_K): run whose windows are
    labelled; label_recipe: ``d_cum`` (quantiles mobile_quantile / immobile_quantile of D_cum)
    or ``p_hop`` (window maximum of ``p_hop`` with interval p_hop_tau_ps against the absolute
    thresholds p_hop_mobile_A2 / p_hop_immobile_A2); structure: ``instantaneous`` or
    ``inherent`` (energy minimum, inherent_ftol_kcal_mol_A, inherent_max_iterations); voronoi:
    ``plain`` or ``radical`` (voronoi_radii_A per element); d2min_cutoff_sensitivity_A: a
    second D2min cutoff for C3's sensitivity run (None: none).
    """

    temperature_K: float = 300.0
    label_temperature_K: float | None = None  # run whose windows are labelled (default temperature_K)
    label_recipe: str = "d_cum"               # d_cum (the paper's) or p_hop
    p_hop_tau_ps: float = 1.0
    p_hop_mobile_A2: float = 2.0
    p_hop_immobile_A2: float = 0.5
    structure: str = "instantaneous"          # instantaneous, inherent (energy-minimised) or time_average
    time_average_frames: int = 5
    inherent_ftol_kcal_mol_A: float = 0.5
    inherent_max_iterations: int = 2000
    voronoi: str = "plain"                    # plain or radical
    voronoi_radii_A: Mapping | None = None
    d2min_cutoff_A: float | str = 3.6
    d2min_cutoff_sensitivity_A: float | None = None
    d2min_normalise: str = "per-neighbour"
    min_neighbours: int = DEFAULT_MIN_NEIGHBOURS
    window_frames: int = 10
    window_stride_frames: int = 10
    mobile_quantile: float = 0.9
    immobile_quantile: float = 0.1
    hop_distance_A: float = 2.0
    channels: tuple = DEFAULT_CHANNELS
    split_S_by_anion: bool = False
    rsf_mu_min_A: float = 1.0
    rsf_mu_max_A: float = 6.0
    rsf_mu_step_A: float = 0.1
    rsf_width_A: float = DEFAULT_WIDTH
    rsf_truncation_widths: float = DEFAULT_TRUNCATION
    outer_folds: int = DEFAULT_OUTER_FOLDS
    Cs: tuple = DEFAULT_CS
    cv_folds: int = 5
    seed: int = 0
    min_feature_std: float = RSF_MIN_FEATURE_STD
    max_abs_standardised_feature: float = DEFAULT_MAX_ABS_Z
    accuracy_confidence: float = DEFAULT_CONFIDENCE
    anion_radius_A: float = 5.0
    anion_assignment: str = "majority"
    share_bins: int = 10
    min_bin_count: int = 5
    softness_bins: int = 40
    property_bins: int = 10
    gr_dr_A: float = 0.05
    gr_r_max_A: float = 8.0
    channel_variants: tuple = ()
    learning_curve_fractions: tuple = (0.25, 0.5, 1.0)
    learning_curve_repeats: int = 1

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(str(c) for c in self.channels))
        object.__setattr__(self, "Cs", tuple(float(c) for c in self.Cs))
        object.__setattr__(self, "channel_variants", tuple(tuple(str(c) for c in v) for v in self.channel_variants))
        for v in self.channel_variants:
            if not v or len(set(v)) != len(v) or not set(v) <= set(self.channels):
                raise ValueError(f"channel variant {list(v)}: needs distinct channels among channels {list(self.channels)}")
        object.__setattr__(self, "learning_curve_fractions", tuple(float(f) for f in self.learning_curve_fractions))
        f = self.learning_curve_fractions
        if not f or any(not 0 < v <= 1 for v in f) or list(f) != sorted(set(f)):
            raise ValueError(f"softness.learning_curve_fractions must be increasing fractions in (0, 1], got {list(f)}")
        if self.learning_curve_repeats < 1:
            raise ValueError(f"softness.learning_curve_repeats must be >= 1, got {self.learning_curve_repeats}")
        if isinstance(self.d2min_cutoff_A, str):
            if self.d2min_cutoff_A != "from g(r)":
                raise ValueError(f"d2min_cutoff_A must be a number or 'from g(r)', got {self.d2min_cutoff_A!r}")
        elif not float(self.d2min_cutoff_A) > 0:
            raise ValueError(f"d2min_cutoff_A must be positive, got {self.d2min_cutoff_A}")
        if self.label_temperature_K is None:
            object.__setattr__(self, "label_temperature_K", float(self.temperature_K))
        if self.label_recipe not in LABEL_RECIPES:
            raise ValueError(f"softness.label_recipe must be one of {list(LABEL_RECIPES)}, got {self.label_recipe!r}")
        if not (self.p_hop_tau_ps > 0 and 0 < self.p_hop_immobile_A2 <= self.p_hop_mobile_A2):
            raise ValueError(f"need softness.p_hop_tau_ps > 0 and 0 < p_hop_immobile_A2 <= p_hop_mobile_A2, got "
                             f"{self.p_hop_tau_ps}, {self.p_hop_immobile_A2}, {self.p_hop_mobile_A2}")
        if self.structure not in STRUCTURES:
            raise ValueError(f"softness.structure must be one of {list(STRUCTURES)}, got {self.structure!r}")
        if self.time_average_frames < 1:
            raise ValueError(f"softness.time_average_frames must be >= 1, got {self.time_average_frames}")
        if not (self.inherent_ftol_kcal_mol_A > 0 and self.inherent_max_iterations >= 1):
            raise ValueError("softness.inherent_ftol_kcal_mol_A must be positive and inherent_max_iterations >= 1")
        if self.voronoi not in ("plain", "radical"):
            raise ValueError(f"softness.voronoi must be 'plain' or 'radical', got {self.voronoi!r}")
        if self.voronoi == "radical":
            radii = dict(self.voronoi_radii_A or {})
            if not radii or not all(float(r) > 0 for r in radii.values()):
                raise ValueError("softness.voronoi: radical needs positive softness.voronoi_radii_A for every element")
        if self.d2min_cutoff_sensitivity_A is not None and not float(self.d2min_cutoff_sensitivity_A) > 0:
            raise ValueError(f"softness.d2min_cutoff_sensitivity_A must be positive or null, got "
                             f"{self.d2min_cutoff_sensitivity_A}")
        if self.d2min_normalise not in ("none", "per-neighbour"):
            raise ValueError(f"d2min_normalise must be 'none' or 'per-neighbour', got {self.d2min_normalise!r}")
        if not 0 < self.immobile_quantile <= self.mobile_quantile < 1:
            raise ValueError(f"need 0 < immobile_quantile <= mobile_quantile < 1, got {self.immobile_quantile}, "
                             f"{self.mobile_quantile}")
        if self.outer_folds < 2 or self.cv_folds < 2:
            raise ValueError(f"outer_folds and cv_folds must be >= 2, got {self.outer_folds}, {self.cv_folds}")
        if not self.Cs or min(self.Cs) <= 0:
            raise ValueError(f"Cs must be positive, got {self.Cs}")
        if not 0 <= self.min_feature_std < 1:
            raise ValueError(f"min_feature_std is a fraction of the typical feature std in [0, 1), got {self.min_feature_std}")
        if not self.max_abs_standardised_feature > 0:
            raise ValueError(f"max_abs_standardised_feature must be positive, got {self.max_abs_standardised_feature}")
        if not 0 < self.accuracy_confidence < 1:
            raise ValueError(f"accuracy_confidence must lie in (0, 1), got {self.accuracy_confidence}")
        if self.anion_assignment not in ("majority", "nearest", "any"):
            raise ValueError(f"anion_assignment must be majority, nearest or any, got {self.anion_assignment!r}")
        if self.split_S_by_anion and "S" not in self.channels:
            raise ValueError("split_S_by_anion needs S among the RSF channels")
        self.mu_grid()  # checks the grid

    @classmethod
    def from_config(cls, cfg: Mapping) -> "SoftnessSettings":
        """From the ``softness`` config section. Unknown keys raise ValueError (they would
        otherwise be silently ignored); missing keys take the defaults above."""
        return _from_mapping(cls, cfg, "softness")

    @classmethod
    def coerce(cls, settings: "SoftnessSettings | Mapping") -> "SoftnessSettings":
        """``settings`` itself, or parsed from a config mapping (the job boundary)."""
        return settings if isinstance(settings, cls) else cls.from_config(settings)

    def mu_grid(self) -> np.ndarray:
        """RSF Gaussian centres (A) from ``rsf_mu_min_A``..``rsf_mu_max_A`` in ``rsf_mu_step_A``."""
        lo, hi, step = self.rsf_mu_min_A, self.rsf_mu_max_A, self.rsf_mu_step_A
        if not (hi > lo and step > 0):
            raise ValueError(f"RSF grid needs rsf_mu_max_A > rsf_mu_min_A and a positive step, got {lo}, {hi}, {step}")
        n = int(math.floor((hi - lo) / step + 1e-9))
        return np.round(lo + step * np.arange(n + 1), 10)

    def rsf_channels(self) -> list[str]:
        """RSF channels: the configured elements, with S replaced by one channel per S unit type
        (``S:PS4``, ``S:P2S7``, ``S:P2S6``, ``S:S_free``) when ``split_S_by_anion``."""
        channels = list(self.channels)
        if not self.split_S_by_anion:
            return channels
        k = channels.index("S")
        return channels[:k] + [f"S:{u}" for u in S_UNITS] + channels[k + 1:]

    def model_features(self) -> dict:
        """RSF settings stored with a model (``rsf_settings``)."""
        return rsf_settings(self.rsf_channels(), self.mu_grid(), self.rsf_width_A, truncation=self.rsf_truncation_widths,
                            centre_species="Li", split="S" if self.split_S_by_anion else None)

    def classifier(self) -> dict:
        """Keyword arguments of ``train_softness_model`` / ``evaluate_classifier``."""
        return {"n_folds": self.outer_folds, "Cs": self.Cs, "cv": self.cv_folds, "seed": self.seed,
                "min_feature_std": self.min_feature_std, "max_abs_z": self.max_abs_standardised_feature,
                "confidence": self.accuracy_confidence}


def _from_mapping(cls, cfg: Mapping, where: str):
    known = set(cls.__dataclass_fields__)
    unknown = set(cfg) - known
    if unknown:
        raise ValueError(f"unknown {where} settings {sorted(unknown)}; known: {sorted(known)}")
    return cls(**dict(cfg))


# --- command line ----------------------------------------------------------------------------

def _softness_command(args) -> int:
    import sys

    from lipsglass.d2min import _read_frame

    model = SoftnessModel.load(args.model)
    if model.features.get("split"):
        raise ValueError("this model splits S by anion type; compute its features with "
                         "radial_structure_functions and channel_labels (anion labels needed)")
    types = args.type_elements.split(",") if args.type_elements else None
    box, ids, elements, positions, _ = _read_frame(args.file, types)
    positions = box.wrap(positions)
    species = args.species or model.features.get("centre_species", "Li")
    centres = np.flatnonzero(elements == species)
    if len(centres) == 0:
        raise ValueError(f"{args.file} holds no {species} atoms")
    s = model.softness_of_structure(box, positions, elements, centres)
    out = sys.stdout
    out.write("id,softness\n")
    for i, v in zip(ids[centres], s):
        out.write(f"{int(i)},{v:.10g}\n")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("softness", help="softness of each atom of a species (CSV id,softness) "
                                               "from a trained model JSON")
    p.add_argument("model", help="softness model JSON (SoftnessModel.save)")
    p.add_argument("file", help="LAMMPS data file or text dump (first frame)")
    p.add_argument("--species", default=None, help="centre element (default: the model's, usually Li)")
    p.add_argument("--type-elements", default=None,
                   help="element of each atom type in type order, e.g. P,S,P,S,S,P,S,Li, for files "
                        "without an element column or masses")
    p.set_defaults(func=_softness_command)
