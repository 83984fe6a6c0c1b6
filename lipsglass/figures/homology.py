"""Persistent-homology figures (matplotlib, Agg backend): H1 persistence diagram per glass, ring
size distribution, ring length against the FSDP length scale (paper Fig. S4) and Li softness
by ring size (Fig. S5b-e). Every function writes the same figure as PNG and PDF; inputs are
the precomputed results of ``lipsglass.homology``. Filtration values are alpha^2 (A^2)."""

from __future__ import annotations

from typing import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

from lipsglass.homology.results import PersistenceDiagram, Rings  # noqa: E402
from lipsglass.figures import save_figure

ALPHA2_UNIT = r"$\alpha^2$ ($\mathrm{\AA^2}$)"


def _panels(n: int, width: float = 3.4, height: float = 3.1):
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def plot_persistence_diagrams(diagrams_by_glass: Mapping[str, PersistenceDiagram], out_png, out_pdf,
                              dim: int = 1, bins: int = 80) -> None:
    """Persistence diagram in dimension ``dim`` (default H1) of each glass: 2-D histogram of
    (birth, death) alpha^2 values (A^2), log colour scale, with the diagonal."""
    if not diagrams_by_glass:
        raise ValueError("no diagrams to plot")
    ivs = {g: d.intervals(dim) for g, d in diagrams_by_glass.items()}
    if any(len(iv) == 0 for iv in ivs.values()):
        raise ValueError(f"a glass has no finite H{dim} pairs")
    allv = np.concatenate([iv.ravel() for iv in ivs.values()])
    lo, hi = float(allv.min()), float(allv.max())
    pad = 0.02 * (hi - lo)
    edges = np.linspace(lo - pad, hi + pad, bins + 1)
    fig, axes = _panels(len(ivs))
    for ax, (glass, iv) in zip(axes, ivs.items()):
        h = ax.hist2d(iv[:, 0], iv[:, 1], bins=[edges, edges], norm=LogNorm(), cmap="viridis")
        ax.plot([edges[0], edges[-1]], [edges[0], edges[-1]], "k-", lw=0.7)
        ax.set_xlabel(f"birth {ALPHA2_UNIT}")
        ax.set_ylabel(f"death {ALPHA2_UNIT}")
        ax.set_title(f"{glass}: H{dim}, {len(iv)} pairs", fontsize=9)
        ax.set_aspect("equal")
        fig.colorbar(h[3], ax=ax, label="pairs per bin", shrink=0.8)
    fig.tight_layout()
    save_figure(fig, out_png, out_pdf)


def plot_ring_size_distribution(rings_by_glass: Mapping[str, Rings], out_png, out_pdf,
                                min_persistence: float = 0.0) -> None:
    """Fraction of H1 rings of each size (atoms) per glass, for rings with persistence
    (death - birth) above ``min_persistence`` (A^2); unresolved rings are counted in the legend."""
    if not rings_by_glass:
        raise ValueError("no rings to plot")
    fig, ax = plt.subplots(figsize=(5.0, 3.5))
    for glass, rings in rings_by_glass.items():
        keep = rings.persistence > min_persistence
        size = rings.size[keep]
        resolved = size[size > 0]
        if len(resolved) == 0:
            raise ValueError(f"{glass}: no resolved rings above the persistence threshold")
        sizes, counts = np.unique(resolved, return_counts=True)
        ax.plot(sizes, counts / keep.sum(), "o-", ms=3,
                label=f"{glass} ({(size < 0).sum()} > {rings.max_ring_size} atoms)")
    ax.set_yscale("log")
    ax.set_xlabel("ring size (atoms)")
    ax.set_ylabel("fraction of H1 rings")
    if min_persistence > 0:
        ax.set_title(rf"persistence > {min_persistence:g} $\mathrm{{\AA^2}}$", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, out_png, out_pdf)


def plot_rings_fsdp(links_by_glass: Mapping[str, dict], out_png, out_pdf, max_size: int = 30,
                    definition: str = "shortest_cycle") -> None:
    """Fig. S4: ring length (A, mean +- std per ring size; see ``fsdp_ring_link``) against the
    FSDP real-space window 2 pi / q (band) and, below, the persistence-weighted fraction of
    rings of each size whose length lies in that window. ``links_by_glass[glass]`` is the dict
    returned by ``lipsglass.homology.fsdp.fsdp_ring_link``; ``definition`` names the ring definition
    (shown in the title)."""
    if not links_by_glass:
        raise ValueError("nothing to plot")
    fig, (ax, bx) = plt.subplots(2, 1, figsize=(5.5, 6.0), sharex=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (glass, link) in enumerate(links_by_glass.items()):
        c = colours[k % len(colours)]
        sizes = np.array(sorted(s for s in link["per_size"] if s <= max_size))
        mean = np.array([link["per_size"][s]["length_mean_A"] for s in sizes])
        std = np.array([link["per_size"][s]["length_std_A"] for s in sizes])
        frac = np.array([link["per_size"][s]["fraction_in_window"] for s in sizes])
        ax.errorbar(sizes + 0.08 * k, mean, yerr=std, fmt="o", ms=3, color=c, capsize=2, label=glass)
        lo, hi = link["window_A"]
        ax.axhspan(lo, hi, color=c, alpha=0.12)
        ax.axhline(link["d_fsdp_A"], color=c, lw=0.8, ls="--")
        bx.plot(sizes, frac, "o-", ms=3, color=c,
                label=f"{glass}: share of rings > {link['large_ring']} = {link['large_ring_share']:.2f}")
    first = next(iter(links_by_glass.values()))
    ax.axvline(first["large_ring"] + 0.5, color="grey", lw=0.8, ls=":")
    bx.axvline(first["large_ring"] + 0.5, color="grey", lw=0.8, ls=":")
    lengths = {link["length"] for link in links_by_glass.values()}
    length_names = {"death": r"length $2\sqrt{\mathrm{death}}$", "diameter": "diameter (largest atom-atom distance)"}
    name = lengths.pop() if len(lengths) == 1 else None
    ax.set_ylabel(f"ring {length_names.get(name, name)} (Å)" if name else "ring length (Å)")
    ax.set_title(f"rings: {definition.replace('_', ' ')}; " + r"band: FSDP window $2\pi/(q \pm \Delta q/2)$, "
                 r"dashed: $2\pi/q_\mathrm{FSDP}$", fontsize=8)
    ax.legend(fontsize=7)
    bx.set_xlabel("ring size (atoms)")
    bx.set_ylabel("persistence-weighted fraction\nin FSDP window")
    bx.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, out_png, out_pdf)


def plot_softness_by_ring_size(results_by_glass: Mapping[str, dict], softness_by_glass: Mapping[str, np.ndarray],
                               out_png, out_pdf, max_size: int = 20) -> None:
    """Fig. S5b-e: softness distribution of Li covered by rings of each size (box plots, one panel
    per glass) next to the distribution of all Li (``softness_by_glass``), for the ring definition
    shown (``primary_definition``; the verdict and its intervals are in the C12 row).
    ``results_by_glass[glass]`` is a loaded softness_by_ring_size.json."""
    if not results_by_glass:
        raise ValueError("nothing to plot")
    fig, axes = _panels(len(results_by_glass), width=4.5, height=3.2)
    for ax, (glass, res) in zip(axes, results_by_glass.items()):
        sizes = [s for s in sorted(res["values"]) if s <= max_size and len(res["values"][s]) > 0]
        data = [np.asarray(softness_by_glass[glass], float)] + [res["values"][s] for s in sizes]
        labels = ["all"] + [str(s) for s in sizes]
        ax.boxplot(data, showfliers=False, widths=0.6)
        ax.set_xticks(np.arange(1, len(labels) + 1), labels, fontsize=7)
        ax.axhline(0.0, color="grey", lw=0.7)
        ax.set_xlabel(f"ring size (atoms); Li within {res['cutoff_A']:g} Å of a ring atom")
        ax.set_ylabel("softness S")
        shown = res.get("primary_definition", "shortest_cycle")
        ax.set_title(f"{glass}, {shown.replace('_', ' ')} rings", fontsize=8)
    fig.tight_layout()
    save_figure(fig, out_png, out_pdf)
