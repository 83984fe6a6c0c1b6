"""Diagnostics of the softness classifier beyond its own accuracy: held-out and training accuracy
against the number of training Li (``learning_curve``, the evidence of C3) and the accuracy of the
classifier restricted to sets of RSF channels (``channel_variant_metrics``).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from lipsglass.softness.classifier import (ClassifierSettings, check_samples, evaluate_classifier, fit_classifier,
                                           outer_folds)
from lipsglass.softness.features import feature_channel
from lipsglass.softness.training import TrainingSet

MAX_DRAWS = 20  # draws of a learning-curve training set until it holds both classes
LEARNING_CURVE_SCHEME = (
    "training Li drawn at random (seeded) from the pooled glasses outside each outer fold (GroupKFold over Li, "
    "n_folds folds, every labelled sample held out once per size and repeat), all labelled windows of a drawn Li "
    "trained on; feature filter, scaling and C (GroupKFold over Li) fitted anew for every training set; held-out "
    "and training accuracy reported per glass (unit)")


def learning_curve(units: Mapping[str, TrainingSet], fractions: Sequence[float] = (0.25, 0.5, 1.0), repeats: int = 1,
                   settings: ClassifierSettings | None = None, **changes) -> dict:
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
    ``changes``: fields of ``settings`` replaced; its ``confidence`` is not used (no intervals here)."""
    s = ClassifierSettings.of(settings, **changes)
    n_folds, cv, seed = s.n_folds, s.cv, s.seed
    names = list(units)
    fractions = [float(f) for f in fractions]
    if not names or not fractions or any(not 0 < f <= 1 for f in fractions) or sorted(fractions) != fractions:
        raise ValueError(f"need units and increasing training fractions in (0, 1], got {len(names)} units, {fractions}")
    if repeats < 1:
        raise ValueError(f"learning curve repeats must be >= 1, got {repeats}")
    X = np.vstack([units[u].X for u in names])
    X, y = check_samples(X, np.concatenate([units[u].y for u in names]))
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
                pipe = fit_classifier(X[sel], y[sel], codes[sel], s, seed=seed + 1000 * j + 100 * r + k)
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


def channel_variant_metrics(X, y, li_ids, window_ids, feature_names: Sequence[str], variants: Sequence[Sequence[str]],
                            full_metrics: Mapping | None = None, settings: ClassifierSettings | None = None,
                            **changes) -> list[dict]:
    """Held-out accuracy of the classifier restricted to the RSF columns of each channel set in
    ``variants`` (e.g. [Li], [S], [Li, P, S]), cross-fitted exactly like the main model (same
    outer folds over Li, feature filter, scaling and C search anew in each fold; ``settings`` with
    ``changes``: those of ``evaluate_classifier``). A variant that keeps every column reuses
    ``full_metrics`` (the main model's) when given. Returns one entry per variant, in order."""
    s = ClassifierSettings.of(settings, **changes)
    X, y = check_samples(X, y)
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
            m = evaluate_classifier(X[:, keep], y, li_ids, window_ids, settings=s)
            entry["same_as_main_model"] = False
        entry.update({k: m[k] for k in ("test_accuracy", "train_accuracy", "test_roc_auc", "C",
                                          "n_features_kept") if k in m})
        out.append(entry)
    return out

