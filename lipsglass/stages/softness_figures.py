"""Softness stage, figures (rules ``figS1_accuracy``, ``fig3b_softness_distributions``,
``fig3d_lis_gr_soft_hard``, ``fig3e_softness_by_anion``, ``fig3f_pe_voronoi_vs_softness``): read the
stage's outputs and draw them with ``lipsglass.figures.softness``.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from lipsglass.core.tables import read_table
from lipsglass.figures.softness import (plot_accuracy, plot_lis_gr_by_anion, plot_property_vs_softness,
                                        plot_softness_by_anion, plot_softness_distributions)
from lipsglass.softness.environment import ANION_TYPES, property_vs_softness, softness_by_anion
from lipsglass.softness.model import SoftnessModel
from lipsglass.softness.settings import SoftnessSettings
from lipsglass.softness.table import SOFTNESS_COLUMNS, environment_from_table
from lipsglass.stages.softness import read_softness, settings_of


def accuracy_figure_job(models: Mapping[str, str], pooled_model: str, out_png: str, out_pdf: str) -> None:
    metrics = {g: SoftnessModel.load(p).metrics for g, p in models.items()}
    metrics["pooled"] = SoftnessModel.load(pooled_model).metrics
    plot_accuracy(metrics, out_png, out_pdf, title="Li mobility classification (Fig. S1)")


def distributions_figure_job(softness: Mapping[str, str], bins: int, out_png: str, out_pdf: str) -> None:
    plot_softness_distributions({g: read_softness(p)["S"] for g, p in softness.items()}, out_png, out_pdf, bins=bins)


def lis_gr_figure_job(glass: str, table: str, out_png: str, out_pdf: str) -> None:
    t = read_table(table)
    curves = {a: {k: (t["r_A"], t[f"g_{k}_{a}"]) for k in ("soft", "hard")}
              for a in ANION_TYPES if f"g_soft_{a}" in t}
    # no suptitle: it would overlap the panel titles; the glass is in the file name
    plot_lis_gr_by_anion(curves, out_png, out_pdf)


def by_anion_figure_job(softness: Mapping[str, str], settings: SoftnessSettings | Mapping, out_png: str, out_pdf: str) -> None:
    settings = settings_of(settings)
    tables = [read_softness(p) for p in softness.values()]
    s = np.concatenate([t["S"] for t in tables])
    env = environment_from_table({k: np.concatenate([t[k] for t in tables]) for k in SOFTNESS_COLUMNS},
                                 settings.anion_radius_A)
    plot_softness_by_anion(softness_by_anion(s, env, settings.anion_assignment), out_png, out_pdf,
                           bins=settings.softness_bins,
                           title=f"Li by {settings.anion_assignment} anion within {settings.anion_radius_A} Å, all glasses")


def property_figure_job(softness: Mapping[str, str], settings: SoftnessSettings | Mapping, out_png: str, out_pdf: str) -> None:
    settings = settings_of(settings)
    tables = [read_softness(p) for p in softness.values()]
    s = np.concatenate([t["S"] for t in tables])
    # glass means subtracted: the pooled figure shows within-glass variation, as C8 tests it
    pe = np.concatenate([t["pe_kcal_mol"] - t["pe_kcal_mol"].mean() for t in tables])
    vo = np.concatenate([t["voronoi_A3"] - t["voronoi_A3"].mean() for t in tables])
    bins = settings.property_bins
    plot_property_vs_softness(property_vs_softness(s, pe, bins), property_vs_softness(s, vo, bins), out_png, out_pdf,
                              pe_label="pe - glass mean (kcal/mol)", voro_label="Voronoi volume - glass mean (Å$^3$)",
                              title="Li of all glasses")

