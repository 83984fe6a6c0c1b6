"""The softness classifier (Cubuk, Schoenholz et al. PRL 114, 108001 (2015); Schoenholz et al.
Nat. Phys. 12, 469 (2016)) as used by Chen et al. (2023): a logistic-regression hyperplane
separating mobile from immobile Li (labels from D_cum or p_hop, ``lipsglass.softness.labels``) in
standardised feature space; softness = signed distance to it (``lipsglass.softness.model``).

Safeguards: features near-constant or outlier-dominated on the training samples are dropped
(``FeatureFilter``) and the model refuses samples beyond its bound on standardised features;
accuracy comes from cross-fitting over Li with a Wilson interval on the number of Li
(``evaluate_classifier``); the classifier's knobs live in one frozen ``ClassifierSettings``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from lipsglass.core.stats import cluster_bootstrap_mean_ci, wilson_interval
from lipsglass.d2min import MOBILE
from lipsglass.softness.model import SoftnessModel

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


@dataclass(frozen=True)
class ClassifierSettings:
    """The knobs of the classifier (the stage's come from ``SoftnessSettings.classifier``).

    n_folds: cross-fitting (outer) folds, GroupKFold over Li; Cs: candidate inverse regularisation
    strengths; cv: inner GroupKFold folds choosing C among them; seed: of the pipeline's random
    state (cross-fitting fold k and every learning-curve fit add their own offset); scoring: score
    of the inner C search; min_feature_std / max_abs_z: the ``FeatureFilter`` and the model's bound
    on standardised features (None: no bound); confidence: level of the accuracy intervals."""

    n_folds: int = DEFAULT_OUTER_FOLDS
    Cs: Sequence[float] = DEFAULT_CS
    cv: int = 5
    seed: int = 0
    scoring: str = "accuracy"
    min_feature_std: float = DEFAULT_MIN_FEATURE_STD
    max_abs_z: float | None = DEFAULT_MAX_ABS_Z
    confidence: float = DEFAULT_CONFIDENCE

    @classmethod
    def of(cls, settings: "ClassifierSettings | None" = None, **changes) -> "ClassifierSettings":
        """``settings`` (default: the defaults above) with the fields named in ``changes``
        replaced; a name that is no field raises TypeError."""
        return cls(**changes) if settings is None else dataclasses.replace(settings, **changes)


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


def make_classifier(settings: ClassifierSettings | None = None, cv=None, max_iter: int = 5000):
    """FeatureFilter + StandardScaler + L2 LogisticRegressionCV (class_weight='balanced')
    pipeline. ``cv``: explicit (train, test) index pairs of the C search (default: ``settings.cv``
    folds)."""
    s = ClassifierSettings.of(settings)
    clf = LogisticRegressionCV(Cs=list(s.Cs), cv=s.cv if cv is None else cv, l1_ratios=(0.0,),
                               class_weight="balanced", scoring=s.scoring, random_state=s.seed, max_iter=max_iter,
                               use_legacy_attributes=False)
    return Pipeline([("filter", FeatureFilter(s.min_feature_std, s.max_abs_z)), ("scale", StandardScaler()),
                     ("logistic", clf)])


def check_samples(X, y) -> tuple[np.ndarray, np.ndarray]:
    """Features (n, n_features), finite, and labels 0 (immobile) / 1 (mobile) as int64."""
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
    n_groups = len(np.unique(groups))
    if n_groups < cv:
        raise ValueError(f"{n_groups} groups cannot make {cv} inner CV folds")
    return list(GroupKFold(n_splits=cv).split(np.zeros(len(groups)), groups=groups))


def fit_classifier(X, y, groups, settings: ClassifierSettings | None = None, **changes):
    """Fit the pipeline with C chosen by GroupKFold over ``groups`` (Li ids); ``changes``: fields
    of ``settings`` replaced. Returns the pipeline."""
    s = ClassifierSettings.of(settings, **changes)
    X, y = check_samples(X, y)
    pipe = make_classifier(s, _inner_cv(np.asarray(groups), s.cv))
    return pipe.fit(X, y)


def outer_folds(li_ids: np.ndarray, n_folds: int = DEFAULT_OUTER_FOLDS) -> np.ndarray:
    """Cross-fitting fold of every sample: GroupKFold over Li ids, so all windows of a Li fall in
    the same fold and every sample is held out exactly once. Returns the fold index per sample."""
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
    """(accuracy, ROC AUC) of a fitted pipeline on labelled samples."""
    if len(np.unique(y)) < 2:
        raise ValueError("a split holds only one class: ROC AUC undefined; use more data or windows")
    return float(accuracy_score(y, pipe.predict(X))), float(roc_auc_score(y, pipe.decision_function(X)))


def _summary(values: list[float]) -> dict:
    v = np.asarray(values, float)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0, "values": v.tolist()}


def cross_fit(X, y, li_ids, settings: ClassifierSettings | None = None, folds: np.ndarray | None = None,
              **changes) -> dict:
    """Cross-fitting: for each outer fold (``outer_folds`` with ``settings.n_folds``, or the given
    ``folds``) fit the pipeline on the other folds (feature filter, scaling and C, the latter by
    GroupKFold over Li within them) and predict the fold; ``changes``: fields of ``settings``
    replaced. Returns per-sample ``fold``, held-out ``decision`` and ``predicted`` labels, and
    per-fold ``train_accuracy``, ``train_roc_auc``, ``test_accuracy``, ``test_roc_auc``, ``C``,
    ``n_features_kept``, ``sizes`` and ``n_beyond_bound`` (held-out samples with a kept
    standardised feature beyond ``max_abs_z``)."""
    s = ClassifierSettings.of(settings, **changes)
    X, y = check_samples(X, y)
    li_ids = np.asarray(li_ids)
    fold = outer_folds(li_ids, s.n_folds) if folds is None else np.asarray(folds, np.int64)
    if fold.shape != y.shape or np.any(fold < 0):
        raise ValueError("every sample needs a fold index >= 0")
    decision = np.full(len(y), np.nan)
    out = {k: [] for k in ("train_accuracy", "train_roc_auc", "test_accuracy", "test_roc_auc", "C",
                           "n_features_kept", "sizes", "n_beyond_bound")}
    for k in np.unique(fold):
        test, train = np.flatnonzero(fold == k), np.flatnonzero(fold != k)
        pipe = fit_classifier(X[train], y[train], li_ids[train], s, seed=s.seed + int(k))
        a, u = _scores(pipe, X[train], y[train])
        out["train_accuracy"].append(a), out["train_roc_auc"].append(u)
        a, u = _scores(pipe, X[test], y[test])
        out["test_accuracy"].append(a), out["test_roc_auc"].append(u)
        decision[test] = pipe.decision_function(X[test])
        z = pipe.named_steps["scale"].transform(pipe.named_steps["filter"].transform(X[test]))
        out["n_beyond_bound"].append(int(np.sum(np.any(np.abs(z) > s.max_abs_z, axis=1))) if s.max_abs_z else 0)
        out["C"].append(float(pipe.named_steps["logistic"].C_))
        out["n_features_kept"].append(int(pipe.named_steps["filter"].support_.sum()))
        out["sizes"].append({"train": int(len(train)), "test": int(len(test))})
    out.update(fold=fold, decision=decision, predicted=(decision > 0).astype(np.int64))
    return out


CROSS_FIT_SCHEME = ("cross-fitting: GroupKFold over Li ids (all windows of a Li in the same outer fold), every "
                    "labelled sample held out exactly once; within each outer training set the feature filter, "
                    "the scaling and C (GroupKFold over Li, cv_folds folds) are fitted anew")


def _held_out_metrics(res: dict, y: np.ndarray, li_ids: np.ndarray, confidence: float, seed: int) -> dict:
    test = accuracy_with_interval(res["predicted"] == y, li_ids, confidence, seed)
    test.update(mean=test["accuracy"], std=_summary(res["test_accuracy"])["std"], values=res["test_accuracy"])
    auc = _summary(res["test_roc_auc"])
    auc["pooled"] = float(roc_auc_score(y, res["decision"]))
    return {"train_accuracy": _summary(res["train_accuracy"]), "test_accuracy": test,
            "train_roc_auc": _summary(res["train_roc_auc"]), "test_roc_auc": auc}


def evaluate_classifier(X, y, li_ids, window_ids=None, baseline=None, baseline_name: str = "baseline",
                        settings: ClassifierSettings | None = None, **changes) -> dict:
    """Cross-fitted accuracy and ROC AUC (``cross_fit``). ``test_accuracy`` is the accuracy over
    all held-out predictions with its interval (``accuracy_with_interval``; ``mean`` = that
    accuracy, ``std`` / ``values`` over the folds); ``train_accuracy`` is the in-fold training
    accuracy, mean and std over folds. ``baseline``: one covariate per sample (e.g. the Li-S
    count within the D2min cutoff), cross-fitted identically (same folds, same C search) on
    its own and reported under ``baseline``. ``changes``: fields of ``settings`` replaced."""
    s = ClassifierSettings.of(settings, **changes)
    X, y = check_samples(X, y)
    li_ids = np.asarray(li_ids)
    res = cross_fit(X, y, li_ids, s)
    out = _held_out_metrics(res, y, li_ids, s.confidence, s.seed)
    out.update({"scheme": CROSS_FIT_SCHEME, "grouping": "Li", "outer_folds": int(len(np.unique(res["fold"]))),
                "C": res["C"], "n_features_kept": res["n_features_kept"], "sizes": res["sizes"],
                "n_test_beyond_bound": int(sum(res["n_beyond_bound"])), "seed": s.seed,
                "n_windows": int(len(np.unique(window_ids))) if window_ids is not None else None,
                "correlated_samples": ACCURACY_INTERVAL_METHOD})
    if baseline is not None:
        b = np.asarray(baseline, float)
        if b.shape != y.shape:
            raise ValueError(f"baseline has shape {b.shape}, labels {y.shape}")
        if np.ptp(b) == 0:
            out["baseline"] = {"name": baseline_name, "note": "constant on the labelled samples: no baseline"}
        else:
            rb = cross_fit(b[:, None], y, li_ids, s, folds=res["fold"], min_feature_std=0.0, max_abs_z=None)
            out["baseline"] = {"name": baseline_name, **_held_out_metrics(rb, y, li_ids, s.confidence, s.seed),
                               "C": rb["C"], "scheme": "the same outer folds and C search as the RSF model"}
    return out


def train_softness_model(X, y, li_ids, window_ids=None, feature_names=None, features: dict | None = None,
                         baseline=None, baseline_name: str = "baseline", settings: ClassifierSettings | None = None,
                         **changes) -> SoftnessModel:
    """Evaluate by cross-fitting (``evaluate_classifier``; metrics stored in the model), then
    fit the final hyperplane on all samples (feature filter and C chosen again, GroupKFold over Li).
    ``features``: the RSF settings stored with the model (``lipsglass.softness.features.rsf_settings``);
    ``changes``: fields of ``settings`` replaced."""
    s = ClassifierSettings.of(settings, **changes)
    X, y = check_samples(X, y)
    if feature_names is None:
        feature_names = [f"x{k}" for k in range(X.shape[1])]
    metrics = evaluate_classifier(X, y, li_ids, window_ids, baseline, baseline_name, s)
    pipe = fit_classifier(X, y, li_ids, s)
    metrics["full_fit"] = dict(zip(("accuracy", "roc_auc"), _scores(pipe, X, y)))
    metrics["n_samples"] = int(len(y))
    return SoftnessModel.from_pipeline(pipe, feature_names, s.seed, metrics, features)


def transfer_metrics(model: SoftnessModel, X, y) -> dict:
    """Accuracy and ROC AUC of a model (trained on glass A) on labelled samples of glass B
    (ValueError if a sample lies beyond the model's bound)."""
    X, y = check_samples(X, y)
    if len(np.unique(y)) < 2:
        raise ValueError("transfer set holds only one class")
    d = model.decision(X)
    return {"accuracy": float(np.mean((d > 0) == (y == MOBILE))),
            "roc_auc": float(roc_auc_score(y, d)), "n": int(len(y))}
