"""Softness stage, learning curve (rule ``softness_learning_curve``, the evidence of C3): held-out
and training accuracy of the RSF classifier against the number of training Li, from the pooled
glass replicas. Design choices: ``lipsglass.stages.softness``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Mapping

import numpy as np

from lipsglass.jsonio import write_json
from lipsglass.softness.diagnostics import learning_curve
from lipsglass.softness.labels import label_recipe_text
from lipsglass.softness.settings import SoftnessSettings
from lipsglass.softness.training import training_set
from lipsglass.stages.softness import load_features, settings_of

log = logging.getLogger(__name__)


def unit_name(glass: str, replica: str | int) -> str:
    """Name of one glass replica (the unit of the learning curve and of C3): ``<glass>/r<replica>``."""
    return f"{glass}/r{replica}"


def learning_curve_recipes(units_features: Mapping[str, Mapping[str, np.ndarray]]) -> list[str]:
    """Label recipes of the learning curve: d_cum (the paper's) always, p_hop (the project's)
    where every unit's features file carries a finite window maximum of p_hop."""
    recipes = ["d_cum"]
    if all("p_hop_max" in f and np.isfinite(f["p_hop_max"]).any() for f in units_features.values()):
        recipes.append("p_hop")
    return recipes


def learning_curve_job(features: Mapping[str, str], dynamics: Mapping[str, str], atoms: Mapping[str, int],
                       settings: SoftnessSettings | Mapping, out_json: str) -> None:
    """Learning curve of the RSF classifier (``lipsglass.softness.diagnostics.learning_curve``) on the pooled
    glass replicas ``features`` ({unit: features.npz}, units named by ``unit_name``), for D_cum
    labels (the paper's, quantiles within each glass replica) whatever ``label_recipe`` is, and
    for p_hop labels where available; ``dynamics`` ({unit: dynamics.json}) and ``atoms`` ({glass:
    atom count}) give the scale. Writes ``out_json``: {"recipes": {recipe: curve}, "units":
    {unit: scale}, "label_rules": {recipe: rule}}. The models of the stage are untouched."""
    settings = settings_of(settings)
    loaded = {u: load_features(p) for u, p in features.items()}
    out = {"recipes": {}, "label_rules": {}, "units": {}, "not_available": {}}
    for recipe in learning_curve_recipes(loaded):
        s = dataclasses.replace(settings, label_recipe=recipe)
        started = time.perf_counter()
        try:
            sets = {}
            for u, f in loaded.items():
                g = dict(f)
                g["label_statistic"] = f["d_cum"] if recipe == "d_cum" else f["p_hop_max"]
                sets[u] = training_set(g, s)
            curve = learning_curve(sets, settings.learning_curve_fractions, settings.learning_curve_repeats,
                                   settings.classifier())
        except ValueError as exc:
            if recipe == "d_cum":  # the paper's labels: C3 needs them
                raise
            # the project's extension only: a glass whose hops are too rare for p_hop labels
            # (e.g. a tiny glass at 300 K) leaves the paper's test intact
            log.warning("%s labels: no learning curve (%s)", recipe, exc)
            out["not_available"][recipe] = str(exc)
            continue
        curve["label_counts"] = {u: ts.counts for u, ts in sets.items()}
        out["recipes"][recipe] = curve
        out["label_rules"][recipe] = label_recipe_text(s)["rule"]
        log.info("%s labels: held-out accuracy %s at %s training Li (pooled over %d glass replicas); %.0f s", recipe,
                 ", ".join(f"{a:.3f}" for a in curve["pooled_test_accuracy"]),
                 ", ".join(f"{n:.0f}" for n in curve["sizes_li"]), len(sets), time.perf_counter() - started)
    for u, path in dynamics.items():
        d = json.loads(Path(path).read_text())
        glass = u.split("/")[0]
        window_ps = (None if d.get("dump_interval_ps") is None
                     else float(d["window_frames"]) * float(d["dump_interval_ps"]))
        out["units"][u] = {"glass": glass, "atoms": int(atoms[glass]), "n_Li": int(d["n_Li"]),
                           "n_windows": int(d["n_windows"]), "window_ps": window_ps,
                           "labelled_ps": None if window_ps is None else window_ps * int(d["n_windows"]),
                           "label_temperature_K": d["label_temperature_K"]}
    write_json(out_json, out)

