"""Softness of Li (Cubuk, Schoenholz et al. PRL 114, 108001 (2015); Schoenholz et al. Nat. Phys.
12, 469 (2016)) as used by Chen et al. (2023): radial structure functions of each Li,
a logistic-regression hyperplane separating mobile from immobile Li (labels from D_cum, see
``lipsglass.d2min``), softness = signed distance to that hyperplane, and its links to the
anion environment.

Units: lengths in Angstrom; RSF values are dimensionless Gaussian-weighted neighbour counts;
softness is a distance in standardised feature space (dimensionless), S > 0 soft (predicted
mobile), S < 0 hard.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy import sparse, stats

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
ANION_TYPES = ("P2S6", "P2S7", "PS4")


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
                       balance: bool = True, seed: int = 0) -> TrainingSet:
    """Pool independent windows into one labelled training set.

    features[w]: (n_li, n_features) RSFs at the start of window w; d_cum[w]: D_cum of the same
    Li over window w; li_ids[w]: their atom ids. Thresholds (``lower``, ``upper``) are quantiles
    of the pooled finite D_cum (``mode="quantile"``) or absolute D_cum values (``"absolute"``).
    Li between the thresholds or with NaN D_cum are left out and counted in ``counts``; with
    ``balance`` the larger class is subsampled (seeded) to the size of the smaller.
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
                       thresholds=(lo, hi), counts=counts)


# --- classifier ----------------------------------------------------------------------------

DEFAULT_CS = tuple(np.round(np.logspace(-4, 2, 13), 12))


def make_classifier(Cs: Sequence[float] = DEFAULT_CS, cv=5, seed: int = 0, scoring: str = "accuracy",
                    max_iter: int = 5000):
    """StandardScaler + L2 LogisticRegressionCV (class_weight='balanced') pipeline.
    ``cv`` is a fold count or an explicit list of (train, test) index pairs."""
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    clf = LogisticRegressionCV(Cs=list(Cs), cv=cv, l1_ratios=(0.0,), class_weight="balanced",
                               scoring=scoring, random_state=seed, max_iter=max_iter,
                               use_legacy_attributes=False)
    return Pipeline([("scale", StandardScaler()), ("logistic", clf)])


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


def fit_classifier(X, y, groups, Cs=DEFAULT_CS, cv: int = 5, seed: int = 0, scoring: str = "accuracy"):
    """Fit the pipeline with C chosen by GroupKFold over ``groups`` (Li ids). Returns the pipeline."""
    X, y = _check_xy(X, y)
    pipe = make_classifier(Cs, _inner_cv(np.asarray(groups), cv), seed, scoring)
    return pipe.fit(X, y)


def grouped_splits(li_ids: np.ndarray, window_ids: np.ndarray | None = None, n_repeats: int = 5,
                   test_size: float = 0.25, seed: int = 0, separate_windows: bool = True):
    """Repeated train/test splits with no Li in both sets (GroupShuffleSplit over Li ids), and,
    when there are >= 2 windows and ``separate_windows``, no window in both sets either: samples of
    test Li in training windows and of training Li in test windows are then left out of both.
    Returns a list of (train_indices, test_indices, n_left_out)."""
    from sklearn.model_selection import GroupShuffleSplit

    li_ids = np.asarray(li_ids)
    dummy = np.zeros(len(li_ids))
    li_splits = GroupShuffleSplit(n_splits=n_repeats, test_size=test_size, random_state=seed).split(dummy, groups=li_ids)
    use_windows = (window_ids is not None and separate_windows and len(np.unique(window_ids)) >= 2)
    if use_windows:
        window_ids = np.asarray(window_ids)
        win_splits = list(GroupShuffleSplit(n_splits=n_repeats, test_size=test_size, random_state=seed + 1)
                          .split(dummy, groups=window_ids))
    out = []
    for r, (_, test_li) in enumerate(li_splits):
        is_test = np.zeros(len(li_ids), bool)
        is_test[test_li] = True
        if use_windows:
            test_win = np.zeros(len(li_ids), bool)
            test_win[win_splits[r][1]] = True
            train = np.flatnonzero(~is_test & ~test_win)
            test = np.flatnonzero(is_test & test_win)
        else:
            train, test = np.flatnonzero(~is_test), np.flatnonzero(is_test)
        out.append((train, test, len(li_ids) - len(train) - len(test)))
    return out


def _scores(pipe, X, y) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, roc_auc_score

    if len(np.unique(y)) < 2:
        raise ValueError("a split holds only one class: ROC AUC undefined; use more data or windows")
    return float(accuracy_score(y, pipe.predict(X))), float(roc_auc_score(y, pipe.decision_function(X)))


def _summary(values: list[float]) -> dict:
    v = np.asarray(values, float)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0, "values": v.tolist()}


def evaluate_classifier(X, y, li_ids, window_ids=None, n_repeats: int = 5, test_size: float = 0.25,
                        Cs=DEFAULT_CS, cv: int = 5, seed: int = 0, separate_windows: bool = True,
                        scoring: str = "accuracy") -> dict:
    """Train and test accuracy and ROC AUC over repeated grouped splits (``grouped_splits``),
    as mean, sample std and per-repeat values; also the chosen C and set sizes per repeat."""
    X, y = _check_xy(X, y)
    li_ids = np.asarray(li_ids)
    acc_tr, acc_te, auc_tr, auc_te, cs, sizes = [], [], [], [], [], []
    for r, (train, test, left_out) in enumerate(grouped_splits(li_ids, window_ids, n_repeats, test_size, seed,
                                                               separate_windows)):
        pipe = fit_classifier(X[train], y[train], li_ids[train], Cs, cv, seed + r, scoring)
        a, u = _scores(pipe, X[train], y[train])
        acc_tr.append(a), auc_tr.append(u)
        a, u = _scores(pipe, X[test], y[test])
        acc_te.append(a), auc_te.append(u)
        cs.append(float(pipe.named_steps["logistic"].C_))
        sizes.append({"train": int(len(train)), "test": int(len(test)), "left_out": int(left_out)})
    return {"train_accuracy": _summary(acc_tr), "test_accuracy": _summary(acc_te),
            "train_roc_auc": _summary(auc_tr), "test_roc_auc": _summary(auc_te),
            "C": cs, "sizes": sizes, "n_repeats": n_repeats, "test_size": test_size, "seed": seed,
            "separate_windows": bool(separate_windows and window_ids is not None
                                     and len(np.unique(window_ids)) >= 2)}


@dataclass
class SoftnessModel:
    """A trained softness hyperplane, serialisable to JSON (no pickle).

    In standardised features z = (x - mean) / scale the classifier's decision is w.z + b and
    softness S = (w.z + b) / |w| (signed distance to the hyperplane, S > 0 soft = predicted
    mobile). ``features`` records how to recompute x from a structure (RSF settings).
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

    @classmethod
    def from_pipeline(cls, pipe, feature_names, seed: int, metrics: dict | None = None,
                      features: dict | None = None) -> "SoftnessModel":
        scaler, clf = pipe.named_steps["scale"], pipe.named_steps["logistic"]
        if list(clf.classes_) != [IMMOBILE, MOBILE]:
            raise ValueError(f"classifier classes must be [0, 1] (immobile, mobile), got {clf.classes_}")
        if len(feature_names) != len(scaler.mean_):
            raise ValueError(f"{len(feature_names)} feature names for {len(scaler.mean_)} features")
        return cls(list(feature_names), scaler.mean_.copy(), scaler.scale_.copy(), clf.coef_[0].copy(),
                   float(clf.intercept_[0]), float(clf.C_), int(seed), metrics or {}, features or {})

    def _z(self, X) -> np.ndarray:
        X = np.asarray(X, float)
        if X.ndim != 2 or X.shape[1] != len(self.coef):
            raise ValueError(f"expected (n, {len(self.coef)}) features, got {X.shape}")
        return (X - self.mean) / self.scale

    def decision(self, X) -> np.ndarray:
        """w.z + b: the logistic-regression log-odds of being mobile."""
        return self._z(X) @ self.coef + self.intercept

    def softness(self, X) -> np.ndarray:
        """Signed distance (standardised feature units) to the hyperplane; > 0 soft."""
        norm = np.linalg.norm(self.coef)
        if norm == 0:
            raise ValueError("all coefficients are zero: the hyperplane (and softness) is undefined")
        return self.decision(X) / norm

    def predict_mobile(self, X) -> np.ndarray:
        return self.decision(X) > 0

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
        d["format"] = "lipsglass-softness-model-1"
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SoftnessModel":
        if d.get("format") != "lipsglass-softness-model-1":
            raise ValueError(f"not a lipsglass softness model (format {d.get('format')!r})")
        model = cls(list(d["feature_names"]), np.asarray(d["mean"], float), np.asarray(d["scale"], float),
                    np.asarray(d["coef"], float), float(d["intercept"]), float(d["C"]), int(d["seed"]),
                    d.get("metrics", {}), d.get("features", {}))
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
                         n_repeats: int = 5, test_size: float = 0.25, Cs=DEFAULT_CS, cv: int = 5, seed: int = 0,
                         separate_windows: bool = True, scoring: str = "accuracy") -> SoftnessModel:
    """Evaluate with ``evaluate_classifier`` (metrics stored in the model), then fit the final
    hyperplane on all samples (C again chosen by GroupKFold over Li)."""
    X, y = _check_xy(X, y)
    if feature_names is None:
        feature_names = [f"x{k}" for k in range(X.shape[1])]
    metrics = evaluate_classifier(X, y, li_ids, window_ids, n_repeats, test_size, Cs, cv, seed,
                                  separate_windows, scoring)
    pipe = fit_classifier(X, y, li_ids, Cs, cv, seed, scoring)
    metrics["full_fit"] = dict(zip(("accuracy", "roc_auc"), _scores(pipe, X, y)))
    metrics["n_samples"] = int(len(y))
    return SoftnessModel.from_pipeline(pipe, feature_names, seed, metrics, features)


def transfer_metrics(model: SoftnessModel, X, y) -> dict:
    """Accuracy and ROC AUC of a model (trained on glass A) on labelled samples of glass B."""
    from sklearn.metrics import roc_auc_score

    X, y = _check_xy(X, y)
    if len(np.unique(y)) < 2:
        raise ValueError("transfer set holds only one class")
    return {"accuracy": float(np.mean(model.predict_mobile(X) == (y == MOBILE))),
            "roc_auc": float(roc_auc_score(y, model.decision(X))), "n": int(len(y))}


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


def dump_windows(path: str | Path, frames_per_window: int, stride: int | None = None, species: str = "Li",
                 cutoff: float = DEFAULT_CUTOFF, normalise: str = "none", hop_distance: float = 2.0,
                 channels: Sequence[str] = DEFAULT_CHANNELS, mu: np.ndarray = DEFAULT_MU,
                 width: float = DEFAULT_WIDTH, truncation: float = DEFAULT_TRUNCATION,
                 labels: np.ndarray | None = None, type_elements: Sequence[str] | None = None,
                 max_windows: int | None = None, min_neighbours: int = DEFAULT_MIN_NEIGHBOURS) -> list[WindowSample]:
    """Cut a LAMMPS text dump into windows and analyse each (features + D_cum + hops).

    A window holds ``frames_per_window`` increments (frames_per_window + 1 frames); windows start
    every ``stride`` frames (default ``frames_per_window``: back to back, sharing only their
    boundary frame, so their D_cum sums disjoint increments). Frames are streamed. Unwrapped
    coordinates (xu yu zu or image flags) are used when present. ``labels``: per-atom RSF channel
    labels in id order (default: the elements; see ``channel_labels``); ``type_elements``: element
    of each type in type order for dumps without an element column.
    """
    from lipsglass.lammpsio import iter_dump

    if frames_per_window < 1:
        raise ValueError("frames_per_window must be >= 1")
    stride = frames_per_window if stride is None else stride
    if stride < 1:
        raise ValueError("stride must be >= 1")
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
        if index < next_start:
            continue  # a gap between windows (stride > frames_per_window)
        buffer.append((index, frame))
        if index == next_start + frames_per_window:
            frames = [f for _, f in buffer]
            unwrapped = all(f.has("xu", "yu", "zu") or f.has("ix", "iy", "iz") for f in frames)
            pos = np.array([f.unwrapped_positions() if unwrapped else f.box.wrap(f.positions()) for f in frames])
            boxes = [f.box for f in frames]
            dyn = analyse_window(boxes, pos, centres, cutoff, normalise, unwrapped, hop_distance, min_neighbours)
            feats = radial_structure_functions(boxes[0], boxes[0].wrap(pos[0]), chan, centres, channels, mu,
                                               width, truncation)
            out.append(WindowSample(frames[0].timestep, frames[-1].timestep, ids0[centres], feats, dyn))
            if max_windows is not None and len(out) >= max_windows:
                break
            next_start += stride
            buffer = [(i, f) for i, f in buffer if i >= next_start]
    return out


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
