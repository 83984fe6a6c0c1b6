"""Softness stage, models (rules ``softness_model``, ``softness_pooled_model``,
``softness_transfer``): the glass's own model and the pooled model of every glass (cross-fitted
accuracy, coordination baseline, label persistence, D2min-cutoff sensitivity) and each model's
accuracy on every glass. Design choices: ``lipsglass.stages.softness``.
"""

from __future__ import annotations

import logging
from typing import Mapping

import numpy as np

from lipsglass.core.tables import write_rows
from lipsglass.softness.classifier import transfer_metrics
from lipsglass.softness.glass_model import cutoff_sensitivity, train_glass_model
from lipsglass.softness.labels import persistence_report
from lipsglass.softness.model import SoftnessModel, within_bound
from lipsglass.softness.settings import SoftnessSettings
from lipsglass.softness.training import pool_training_sets, training_set, window_matrix
from lipsglass.stages.softness import load_features, settings_of

log = logging.getLogger(__name__)

TRANSFER_COLUMNS = ("model_glass", "applied_to", "accuracy", "roc_auc", "n", "same_glass", "n_beyond_bound")


def _cutoff_note(features: Mapping[str, np.ndarray]) -> str:
    c = features.get("d2min_cutoff_A")
    return "" if c is None else f" ({float(c):.4g} A)"


def _log_metrics(label: str, model: SoftnessModel) -> None:
    m = model.metrics
    t, b = m["test_accuracy"], m.get("baseline", {})
    log.info("%s: train %.3f +- %.3f; held-out %.3f [%.3f, %.3f] (%d samples, %d Li); baseline %s; C %s; "
             "%d features dropped", label, m["train_accuracy"]["mean"], m["train_accuracy"]["std"], t["accuracy"],
             t["ci_low"], t["ci_high"], t["n"], t["n_independent"],
             f"{b['test_accuracy']['accuracy']:.3f}" if "test_accuracy" in b else "n/a", model.C,
             len(model.dropped_features))
    for v in m.get("channel_variants", []):
        t = v["test_accuracy"]
        log.info("%s, channels %s only: held-out %.3f [%.3f, %.3f]", label, "+".join(v["channels"]), t["accuracy"],
                 t["ci_low"], t["ci_high"])


def model_job(features: str, settings: SoftnessSettings | Mapping, out_model: str) -> None:
    """Train and evaluate (cross-fitting) the glass's own softness model; write ``model.json``."""
    settings = settings_of(settings)
    f = load_features(features)
    ts = training_set(f, settings)
    model = train_glass_model(ts, f["feature_names"].tolist(), settings, _cutoff_note(f))
    stats_ = {"d_cum": window_matrix(f, "d_cum")}
    if "p_hop_max" in f and np.isfinite(f["p_hop_max"]).any():
        stats_["p_hop"] = window_matrix(f, "p_hop_max")
    model.metrics["label_persistence"] = persistence_report(stats_, settings)
    model.metrics["d2min_cutoff_sensitivity"] = cutoff_sensitivity(f, settings, model.metrics)
    model.save(out_model)
    _log_metrics("own model", model)


def pooled_model_job(features: Mapping[str, str], settings: SoftnessSettings | Mapping, out_model: str) -> None:
    """One model on the union of every glass's balanced training set (Li and window ids made
    unique per glass, so cross-fitting folds never split a Li across train and test)."""
    settings = settings_of(settings)
    sets = {g: training_set(load_features(p), settings) for g, p in features.items()}
    names = None
    for g, p in features.items():
        n = load_features(p)["feature_names"].tolist()
        if names is not None and n != names:
            raise ValueError(f"{g}: feature columns differ from the other glasses")
        names = n
    model = train_glass_model(pool_training_sets(sets), names, settings)
    model.metrics["training_set"] = {"per_glass": {g: {"thresholds": list(s.thresholds), "counts": s.counts}
                                                   for g, s in sets.items()}, "glasses": list(sets)}
    model.save(out_model)
    _log_metrics("pooled model", model)


def transfer_job(models: Mapping[str, str], features: Mapping[str, str], settings: SoftnessSettings | Mapping, out_csv: str) -> None:
    """Accuracy and ROC AUC of each glass's model on every glass's balanced labelled set. The
    diagonal is in-sample (the final model is fitted on all of its glass's samples); the
    glass's held-out accuracy is ``test_accuracy`` in its model.json. Samples with a standardised
    feature beyond the model's bound are not scored (the model refuses them); they are counted
    in ``n_beyond_bound`` and ``n`` counts the scored ones."""
    settings = settings_of(settings)
    sets = {g: training_set(load_features(p), settings) for g, p in features.items()}
    rows = []
    for a, path in models.items():
        model = SoftnessModel.load(path)
        for b, ts in sets.items():
            inside = within_bound(model, ts.X)
            m = transfer_metrics(model, ts.X[inside], ts.y[inside])
            rows.append([a, b, f"{m['accuracy']:.6g}", f"{m['roc_auc']:.6g}", m["n"], int(a == b),
                         int(np.sum(~inside))])
    write_rows(out_csv, TRANSFER_COLUMNS, rows)

