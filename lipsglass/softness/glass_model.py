"""The softness model of a glass (or of the pooled glasses) as the stage records it: the classifier
trained on the glass's training set with the coordination-only baseline, the training-set record,
the channel variants and the label recipe in its metrics (``train_glass_model``), and its
held-out accuracy at a second D2min cutoff (``cutoff_sensitivity``).
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

from lipsglass.softness.classifier import evaluate_classifier, train_softness_model
from lipsglass.softness.diagnostics import channel_variant_metrics
from lipsglass.softness.labels import label_recipe_text
from lipsglass.softness.model import SoftnessModel
from lipsglass.softness.settings import SoftnessSettings
from lipsglass.softness.training import TrainingSet, training_set

BASELINE_NAME = "coordination-only: logistic regression on the number of S within the D2min cutoff of the Li"


def train_glass_model(ts: TrainingSet, feature_names, settings: SoftnessSettings, cutoff: str = "") -> SoftnessModel:
    """The model of training set ``ts`` (cross-fitted metrics, final hyperplane) with the
    coordination baseline (``cutoff``: its D2min cutoff as text for the baseline's name), the
    training set's thresholds and counts, the channel variants and the label recipe."""
    model = train_softness_model(ts.X, ts.y, ts.li_ids, ts.window_ids, feature_names=list(feature_names),
                                 features=settings.model_features(), baseline=ts.coordination,
                                 baseline_name=BASELINE_NAME + cutoff, settings=settings.classifier())
    if ts.coordination is None:
        model.metrics["baseline"] = {"name": BASELINE_NAME, "note": "features file without n_S_within_cutoff"}
    model.metrics["training_set"] = {"thresholds": list(ts.thresholds), "label_statistic": settings.label_recipe, "counts": ts.counts}
    if settings.channel_variants:
        model.metrics["channel_variants"] = channel_variant_metrics(
            ts.X, ts.y, ts.li_ids, ts.window_ids, list(feature_names), settings.channel_variants,
            full_metrics=model.metrics, settings=settings.classifier())
    model.metrics["label_recipe"] = label_recipe_text(settings)
    return model


def cutoff_sensitivity(features: Mapping[str, np.ndarray], settings: SoftnessSettings, main_metrics: Mapping) -> dict:
    """Held-out accuracy of the model and of the coordination baseline at the second D2min
    cutoff (``d2min_cutoff_sensitivity_A``): with D_cum labels both labels and baseline change
    and the RSF model is cross-fitted again; with p_hop labels (independent of any cutoff) only
    the baseline's Li-S count changes."""
    if "d_cum_sensitivity" not in features:
        return {"done": False, "reason": "softness.d2min_cutoff_sensitivity_A is null: no second cutoff"}
    alt = dict(features)
    alt["n_S_within_cutoff"] = features["n_S_within_sensitivity_cutoff"]
    depends = settings.label_recipe == "d_cum"
    if depends:
        alt["label_statistic"] = features["d_cum_sensitivity"]
    ts = training_set(alt, settings)
    cutoff = float(features["d2min_cutoff_sensitivity_A"])
    name = f"{BASELINE_NAME} ({cutoff:.4g} A)"
    out = {"done": True, "d2min_cutoff_A": cutoff, "main_cutoff_A": float(features["d2min_cutoff_A"]),
           "labels_depend_on_cutoff": depends, "n_samples": int(len(ts.y))}
    if depends:
        m = evaluate_classifier(ts.X, ts.y, ts.li_ids, ts.window_ids, baseline=ts.coordination, baseline_name=name,
                                settings=settings.classifier())
        out["test_accuracy"] = m["test_accuracy"]
    else:
        opts = dataclasses.replace(settings.classifier(), min_feature_std=0.0, max_abs_z=None)
        m = {"baseline": {"name": name, **evaluate_classifier(ts.coordination[:, None], ts.y, ts.li_ids, ts.window_ids,
                                                              settings=opts)}}
        out["test_accuracy"] = main_metrics["test_accuracy"]
        out["note"] = "p_hop labels do not depend on the D2min cutoff: the model's accuracy is the main one"
    b = m.get("baseline", {})
    out["baseline_test_accuracy"] = b.get("test_accuracy", b.get("note"))
    return out

