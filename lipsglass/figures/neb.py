"""NEB and Li-trace figures (matplotlib, Agg backend): energy along the minimum energy path of
representative soft->hard and hard->soft hops (paper Fig. 4B) and barrier distributions by hop
class for each glass (Fig. 4C; all four classes: Fig. S3); the Li traces of Fig. 4D are rendered
by ``lipsglass.stages.rendered``. Every function writes the same figure as PNG and PDF; inputs are precomputed
arrays (see ``lipsglass.neb``)."""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lipsglass.figures import save_figure  # noqa: E402
from lipsglass.neb.results import hop_dir, read_path_csv, representative_hop  # noqa: E402
from lipsglass.neb.selection import HOP_CLASSES  # noqa: E402

# soft blue, hard orange as in the softness figures; mixed classes in between
CLASS_COLOURS = {"soft->hard": "#1f77b4", "hard->soft": "#ff7f0e", "soft->soft": "#2ca02c",
                 "hard->hard": "#d62728"}
CLASS_LABELS = {c: c.replace("->", r" $\rightarrow$ ") for c in HOP_CLASSES}
RC_LABEL = "normalised reaction coordinate"
ENERGY_LABEL = "energy relative to initial state (eV)"
BARRIER_LABEL = "forward migration barrier (eV)"


def _path(rc, energy, what: str) -> tuple[np.ndarray, np.ndarray]:
    rc, energy = np.asarray(rc, float), np.asarray(energy, float)
    if rc.ndim != 1 or rc.shape != energy.shape or len(rc) < 2:
        raise ValueError(f"{what}: reaction coordinate and energy must be 1D arrays of equal length >= 2")
    if not (np.all(np.isfinite(rc)) and np.all(np.isfinite(energy))):
        raise ValueError(f"{what}: contains NaN/inf")
    if np.any(np.diff(rc) < 0):
        raise ValueError(f"{what}: reaction coordinate must not decrease")
    return rc, energy


def plot_energy_paths(paths: Mapping[str, tuple[Sequence[float], Sequence[float]]], out_png, out_pdf,
                      hop_classes: Mapping[str, str] | None = None, title: str | None = None) -> None:
    """Fig. 4B: energy (eV, relative to the initial state) against the normalised reaction
    coordinate for each labelled path (label -> (rc, E)); NEB images as markers joined by
    lines. ``hop_classes`` (label -> hop class) picks the colours."""
    if not paths:
        raise ValueError("no paths to plot")
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    for n, (label, (rc, e)) in enumerate(paths.items()):
        rc, e = _path(rc, e, label)
        colour = CLASS_COLOURS.get((hop_classes or {}).get(label, ""), f"C{n}")
        ax.plot(rc, e, "-o", color=colour, ms=4, label=label)
    ax.axhline(0.0, color="k", lw=0.6, ls=":")
    ax.set_xlabel(RC_LABEL)
    ax.set_ylabel(ENERGY_LABEL)
    ax.set_xlim(0, 1)
    ax.legend(frameon=False, fontsize=8)
    if title:
        ax.set_title(title)
    save_figure(fig, out_png, out_pdf)


def plot_barrier_distributions(barriers_by_glass: Mapping[str, Mapping[str, Sequence[float]]], out_png, out_pdf,
                               classes: Sequence[str] = ("soft->hard", "hard->soft"), bins: int = 15,
                               title: str | None = None) -> None:
    """Fig. 4C (classes soft->hard and hard->soft) / Fig. S3 (``classes=HOP_CLASSES``): one
    panel per glass with a histogram (counts) of forward barriers (eV) per hop class on common
    bins, the median of each class as a dashed line, and n per class in the legend. Classes
    without barriers are listed in the legend with n = 0 (nothing is hidden)."""
    if not barriers_by_glass:
        raise ValueError("no glasses to plot")
    unknown = set(classes) - set(HOP_CLASSES)
    if unknown:
        raise ValueError(f"unknown hop classes {sorted(unknown)}")
    values = {g: {c: np.asarray(b.get(c, []), float) for c in classes} for g, b in barriers_by_glass.items()}
    everything = np.concatenate([v for per in values.values() for v in per.values()] + [np.zeros(0)])
    if len(everything) == 0:
        raise ValueError("no barriers to plot")
    if not np.all(np.isfinite(everything)):
        raise ValueError("barriers contain NaN/inf")
    lo, hi = float(everything.min()), float(everything.max())
    if hi - lo < 1e-9:
        lo, hi = lo - 0.05, hi + 0.05
    edges = np.linspace(lo, hi, int(bins) + 1)
    n = len(values)
    fig, axes = plt.subplots(1, n, figsize=(3.3 * n, 3.2), sharex=True, squeeze=False)
    for ax, (glass, per) in zip(axes[0], values.items()):
        for c in classes:
            v = per[c]
            label = f"{CLASS_LABELS[c]} (n={len(v)})"
            if len(v):
                ax.hist(v, bins=edges, histtype="stepfilled", alpha=0.35, color=CLASS_COLOURS[c], label=label)
                ax.hist(v, bins=edges, histtype="step", color=CLASS_COLOURS[c])
                ax.axvline(np.median(v), color=CLASS_COLOURS[c], ls="--", lw=1)
            else:
                ax.plot([], [], color=CLASS_COLOURS[c], label=label)
        ax.set_title(glass, fontsize=9)
        ax.set_xlabel(BARRIER_LABEL)
        ax.legend(frameon=False, fontsize=7)
    axes[0][0].set_ylabel("number of hops")
    if title:
        fig.suptitle(title)
    save_figure(fig, out_png, out_pdf)


def plot_representative_paths(rows: Sequence[Mapping], workdir, out_png, out_pdf,
                              classes: Sequence[str] = ("soft->hard", "hard->soft"), title: str | None = None) -> list:
    """Fig. 4B from a batch: for each class, the converged hop with the median forward barrier
    (``lipsglass.neb.results.representative_hop``), its path read from ``workdir/hop_<id>/path.csv``.
    Returns the hops drawn; raises ValueError if no class has a converged hop (classes without
    one are named in the title instead of being dropped silently)."""
    paths, classes_of, chosen, missing = {}, {}, [], []
    for c in classes:
        hop = representative_hop(rows, c)
        if hop is None:
            missing.append(c)
            continue
        label = f"{CLASS_LABELS[c]} (hop {hop['hop_id']}, {hop['forward_barrier_eV']:.2f} eV)"
        paths[label] = read_path_csv(hop_dir(workdir, hop["hop_id"]) / "path.csv")
        classes_of[label] = c
        chosen.append(hop)
    if not paths:
        raise ValueError(f"no converged hop in classes {list(classes)}")
    note = f"no converged hop: {', '.join(missing)}" if missing else None
    full_title = "; ".join(t for t in (title, note) if t) or None
    plot_energy_paths(paths, out_png, out_pdf, hop_classes=classes_of, title=full_title)
    return chosen
