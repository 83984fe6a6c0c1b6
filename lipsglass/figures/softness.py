"""Softness figures (matplotlib, Agg backend): classifier accuracy (paper Fig. S1), softness
distributions per glass (3B), Li-S g(r) by anion type for soft and hard Li (3D), softness of Li near each anion type (3E), potential energy and
Voronoi volume against softness (3F). Every function writes the same figure as PNG and PDF;
inputs are precomputed arrays (see ``lipsglass.softness``)."""

from __future__ import annotations

from typing import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lipsglass.figures.structure import ANION_COLOURS, ANION_TEX  # noqa: E402
from lipsglass.core.stats import BinnedMean  # noqa: E402
from lipsglass.figures import save_figure

# the paper draws soft Li blue and hard Li orange (Fig. 3D)
SOFT_COLOUR, HARD_COLOUR = "#1f77b4", "#ff7f0e"
SOFTNESS_LABEL = "softness S"


def _finite(values, what: str) -> np.ndarray:
    v = np.asarray(values, float)
    if v.ndim != 1 or len(v) == 0:
        raise ValueError(f"{what}: need a non-empty 1D array")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{what}: contains NaN/inf")
    return v


def plot_accuracy(metrics_by_glass: Mapping[str, Mapping], out_png, out_pdf,
                  title: str | None = None) -> None:
    """Fig. S1: train and test accuracy per glass. Training bars: mean over the cross-fitting
    folds, error bar the standard deviation over folds; test bars: accuracy over all held-out
    predictions, error bar its interval (``ci_low``..``ci_high``) when given (else the std);
    the coordination-only baseline's held-out accuracy, when present, as a black marker with its
    interval. ``metrics_by_glass[glass]`` is the dict from ``evaluate_classifier`` (or
    ``SoftnessModel.metrics``)."""
    if not metrics_by_glass:
        raise ValueError("no glasses to plot")
    glasses = list(metrics_by_glass)
    x = np.arange(len(glasses))
    fig, ax = plt.subplots(figsize=(1.2 * len(glasses) + 2.5, 3.5))
    for offset, key, colour, label in ((-0.2, "train_accuracy", "#4c72b0", "training set"),
                                       (0.2, "test_accuracy", "#dd8452", "test set")):
        mean = np.array([metrics_by_glass[g][key]["mean"] for g in glasses])
        err = np.array([[m["mean"] - m["ci_low"], m["ci_high"] - m["mean"]] if "ci_low" in m else [m["std"], m["std"]]
                        for m in (metrics_by_glass[g][key] for g in glasses)]).T
        ax.bar(x + offset, mean, 0.4, yerr=err, capsize=3, color=colour, label=label)
    base = [metrics_by_glass[g].get("baseline", {}).get("test_accuracy") for g in glasses]
    if any(b is not None for b in base):
        k = np.array([i for i, b in enumerate(base) if b is not None])
        acc = np.array([base[i]["accuracy"] for i in k])
        err = np.array([[base[i]["accuracy"] - base[i]["ci_low"], base[i]["ci_high"] - base[i]["accuracy"]] for i in k]).T
        ax.errorbar(k + 0.34, acc, yerr=err, fmt="D", color="k", ms=4, capsize=2,
                    label="baseline: Li-S count (held out)")
    ax.axhline(0.7, color="k", lw=0.8, ls="--", label="70%")
    ax.set_xticks(x, glasses, rotation=20, ha="right")
    ax.set_ylabel("classification accuracy")
    ax.set_ylim(0.3, 1.0)
    ax.legend(frameon=False, fontsize=8, loc="lower left")
    if title:
        ax.set_title(title)
    save_figure(fig, out_png, out_pdf)


def _histograms(ax, groups: Mapping[str, np.ndarray], bins, colours=None, labels=None) -> None:
    values = {k: _finite(v, k) for k, v in groups.items()}
    allv = np.concatenate(list(values.values()))
    edges = np.histogram_bin_edges(allv, bins=bins)
    centres = 0.5 * (edges[1:] + edges[:-1])
    for k, v in values.items():
        hist, _ = np.histogram(v, bins=edges, density=True)
        ax.plot(centres, hist, color=None if colours is None else colours.get(k),
                label=f"{k if labels is None else labels.get(k, k)} (n={len(v)})")
    ax.axvline(0.0, color="k", lw=0.6, ls=":")
    ax.set_xlabel(SOFTNESS_LABEL)
    ax.set_ylabel("probability density")
    ax.legend(frameon=False, fontsize=8)


def plot_softness_distributions(softness_by_glass: Mapping[str, np.ndarray], out_png, out_pdf,
                                bins: int | np.ndarray = 40, title: str | None = None) -> None:
    """Fig. 3B: softness distribution of Li (normalised histograms on common bins) per glass."""
    if not softness_by_glass:
        raise ValueError("no glasses to plot")
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    _histograms(ax, softness_by_glass, bins)
    if title:
        ax.set_title(title)
    save_figure(fig, out_png, out_pdf)


def plot_lis_gr_by_anion(curves: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]], out_png, out_pdf,
                         title: str | None = None) -> None:
    """Fig. 3D: Li-S g(r) with S of each anion type, for soft and hard Li (one panel per anion).
    ``curves[anion]["soft" | "hard"] = (r in A, g)``, precomputed (e.g. with ``lipsglass.rdf``)."""
    if not curves:
        raise ValueError("no curves to plot")
    anions = list(curves)
    fig, axes = plt.subplots(1, len(anions), figsize=(3.3 * len(anions), 3.2), sharey=True, squeeze=False)
    for ax, anion in zip(axes[0], anions):
        for kind, colour in (("soft", SOFT_COLOUR), ("hard", HARD_COLOUR)):
            if kind not in curves[anion]:
                raise ValueError(f"curves[{anion!r}] lacks {kind!r}")
            r, g = (np.asarray(v, float) for v in curves[anion][kind])
            ax.plot(r, g, color=colour, label=f"{kind} Li")
        ax.set_title(f"Li-S({ANION_TEX.get(anion, anion)})")
        ax.set_xlabel("r (Å)")
    axes[0][0].set_ylabel("g(r)")
    axes[0][0].legend(frameon=False, fontsize=8)
    if title:
        fig.suptitle(title)
    save_figure(fig, out_png, out_pdf)


def plot_softness_by_anion(softness_by_anion: Mapping[str, np.ndarray], out_png, out_pdf,
                           bins: int | np.ndarray = 40, title: str | None = None) -> None:
    """Fig. 3E: softness distribution of the Li assigned to each anion type (see
    ``lipsglass.softness.environment.softness_by_anion``); empty groups are listed in the legend as n=0."""
    groups = {k: v for k, v in softness_by_anion.items() if len(v)}
    if not groups:
        raise ValueError("every anion group is empty")
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    _histograms(ax, groups, bins, colours=ANION_COLOURS, labels=ANION_TEX)
    for k in softness_by_anion:
        if k not in groups:
            ax.plot([], [], color=ANION_COLOURS.get(k), label=f"{ANION_TEX.get(k, k)} (n=0)")
    ax.legend(frameon=False, fontsize=8)
    if title:
        ax.set_title(title)
    save_figure(fig, out_png, out_pdf)


def plot_property_vs_softness(pe: BinnedMean, voro: BinnedMean, out_png, out_pdf,
                              pe_label: str = "potential energy (kcal/mol)",
                              voro_label: str = "Voronoi volume (Å$^3$)", title: str | None = None) -> None:
    """Fig. 3F: binned mean per-Li potential energy and Voronoi volume against softness (error
    bars: standard error of the mean; bins with fewer than 2 Li are not drawn)."""
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    twin = ax.twinx()
    for axis, b, colour, label, marker in ((ax, pe, "#c44e52", pe_label, "o"),
                                           (twin, voro, "#4c72b0", voro_label, "s")):
        ok = b.count >= 2
        if not ok.any():
            raise ValueError(f"{label}: no bin holds 2 or more Li")
        axis.errorbar(b.centres[ok], b.mean[ok], yerr=b.sem[ok], color=colour, marker=marker, ms=4,
                      capsize=2, lw=1.0)
        axis.set_ylabel(label, color=colour)
        axis.tick_params(axis="y", colors=colour)
    ax.set_xlabel(SOFTNESS_LABEL)
    if title:
        ax.set_title(title)
    save_figure(fig, out_png, out_pdf)
