"""Structure figures (matplotlib, Agg backend): speciation ternary diagram, partial g(r) by
anion (paper Fig. 1D), and S(q) with the FSDP marked (the Fig. 1C snapshot is rendered by
``lipsglass.stages.rendered``). Every function writes the same figure as PNG and PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from lipsglass.core.anions import ANIONS
from lipsglass.core.tables import read_rows
from lipsglass.figures import save_figure

ANION_COLOURS = {"PS4": "#1f77b4", "P2S7": "#2ca02c", "P2S6": "#d62728", "Li": "#ff7f0e",
                 "S_free": "#9467bd", "other": "#7f7f7f"}
ANION_TEX = {"PS4": r"PS$_4^{3-}$", "P2S7": r"P$_2$S$_7^{4-}$", "P2S6": r"P$_2$S$_6^{4-}$",
             "Li": r"Li$^+$", "S_free": r"S$^{2-}$", "other": "other"}


def read_literature_csv(path: str | Path) -> list[dict]:
    """Literature speciation points: CSV with columns name, PS4, P2S7, P2S6, source (any
    non-negative amounts; they are normalised to fractions in the plot). Lines starting with
    '#' are comments."""
    rows = read_rows(path, comments=True)
    need = {"name", *ANIONS, "source"}
    if rows and not need <= set(rows[0]):
        raise ValueError(f"{path}: needs columns {sorted(need)}, has {sorted(rows[0])}")
    out = []
    for r in rows:
        out.append({"name": r["name"], "source": r["source"],
                    **{k: float(r[k]) for k in ANIONS}})
    return out


def _ternary_xy(ps4, p2s7, p2s6):
    """Barycentric -> Cartesian: PS4 corner at (0, 0), P2S7 at (1, 0), P2S6 at (1/2, sqrt3/2)."""
    a, b, c = (np.asarray(v, float) for v in (ps4, p2s7, p2s6))
    total = a + b + c
    if np.any(total <= 0) or np.any(np.array([a, b, c]) < 0):
        raise ValueError("ternary amounts must be non-negative with a positive sum")
    b, c = b / total, c / total
    return b + 0.5 * c, c * np.sqrt(3.0) / 2.0


def plot_ternary(simulated: Sequence[Mapping], literature: Sequence[Mapping] | str | Path | None,
                 out_png, out_pdf, title: str | None = None,
                 quantity: str = "fraction of P in each anion") -> None:
    """Ternary PS4 / P2S7 / P2S6 diagram (paper Fig. 1B).

    simulated: rows {name, PS4, P2S7, P2S6} (e.g. ``fraction_of_P`` of each glass);
    literature: rows with the same keys plus ``source``, or the path of such a CSV
    (:func:`read_literature_csv`), or None. Amounts are normalised to sum 1 per point.
    """
    if isinstance(literature, (str, Path)):
        literature = read_literature_csv(literature)
    fig, ax = plt.subplots(figsize=(5.2, 4.8))
    h = np.sqrt(3.0) / 2.0
    ax.plot([0, 1, 0.5, 0], [0, 0, h, 0], color="k", lw=1.0)
    for t in np.arange(0.2, 1.0, 0.2):  # grid lines of constant fraction of each corner
        for p, q in (((t, 0, 1 - t), (t, 1 - t, 0)), ((0, t, 1 - t), (1 - t, t, 0)), ((0, 1 - t, t), (1 - t, 0, t))):
            x, y = _ternary_xy(*np.array([p, q]).T)
            ax.plot(x, y, color="0.85", lw=0.6, zorder=0)
        # tick labels: P2S6 fraction on the right edge, P2S7 on the bottom, PS4 on the left
        ax.text(*_ternary_xy(0, 1 - t, t), f" {t:.1f}", fontsize=7, color="0.4", ha="left", va="center")
        ax.text(*_ternary_xy(1 - t, t, 0), f"{t:.1f}", fontsize=7, color="0.4", ha="center", va="top")
        ax.text(*_ternary_xy(t, 0, 1 - t), f"{t:.1f} ", fontsize=7, color="0.4", ha="right", va="center")
    ax.text(-0.03, -0.04, ANION_TEX["PS4"], ha="right", va="top")
    ax.text(1.03, -0.04, ANION_TEX["P2S7"], ha="left", va="top")
    ax.text(0.5, h + 0.03, ANION_TEX["P2S6"], ha="center", va="bottom")
    if literature:
        sources = sorted({r["source"] for r in literature})
        markers = "sD^v<>phH*"
        for k, src in enumerate(sources):
            rows = [r for r in literature if r["source"] == src]
            x, y = _ternary_xy([r["PS4"] for r in rows], [r["P2S7"] for r in rows], [r["P2S6"] for r in rows])
            ax.scatter(x, y, marker=markers[k % len(markers)], facecolor="none", edgecolor="0.3",
                       s=28, label=src)
            for xi, yi, r in zip(x, y, rows):
                ax.annotate(str(r["name"]), (xi, yi), xytext=(4, -8), textcoords="offset points", fontsize=6,
                            color="0.3")
    if simulated:
        x, y = _ternary_xy([r["PS4"] for r in simulated], [r["P2S7"] for r in simulated],
                           [r["P2S6"] for r in simulated])
        ax.scatter(x, y, marker="o", color="#d62728", s=36, zorder=3, label="simulated (this work)")
        for xi, yi, r in zip(x, y, simulated):
            ax.annotate(str(r["name"]), (xi, yi), xytext=(4, 3), textcoords="offset points", fontsize=7)
    ax.set_xlim(-0.08, 1.08)
    ax.set_ylim(-0.1, h + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title or f"Speciation ({quantity})", fontsize=10)
    ax.legend(loc="upper left", fontsize=7, frameon=False, bbox_to_anchor=(0.62, 1.0))
    save_figure(fig, out_png, out_pdf)


def plot_partial_rdf(table: Mapping[str, np.ndarray], out_png, out_pdf, title: str | None = None,
                     r_range: tuple[float, float] = (1.5, 8.0)) -> None:
    """Two panels like the paper's Fig. 1D: P-S g(r) of each anion (columns ``g_P_S_<unit>``)
    and Li-S g(r) by the anion of the S (``g_Li_S_<unit>``); table from
    :meth:`lipsglass.rdf.RdfResult.table` or a CSV read with :func:`lipsglass.rdf.read_table`."""
    if "r_A" not in table:
        raise ValueError("table needs an r_A column")
    r = np.asarray(table["r_A"])
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, prefix, label in ((axes[0], "g_P_S_", "P-S"), (axes[1], "g_Li_S_", "Li-S")):
        found = False
        for unit in ANIONS + ("S_free",):
            col = prefix + unit
            if col in table:
                ax.plot(r, table[col], color=ANION_COLOURS[unit], lw=1.2, label=f"{label} in {ANION_TEX[unit]}")
                found = True
        if not found:
            raise ValueError(f"table has no {prefix}<unit> columns")
        ax.set_xlim(*r_range)
        ax.set_xlabel(r"$r$ ($\mathrm{\AA}$)")
        ax.set_ylabel(f"$g_{{\\mathrm{{{label}}}}}(r)$")
        ax.axhline(1.0, color="0.7", lw=0.6, ls=":")
        ax.legend(fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, out_png, out_pdf)


def plot_sq(curves: Mapping[str, Mapping], out_png, out_pdf, offset: float = 0.0,
            weighting: str = "neutron", q_range: tuple[float, float] = (0.5, 12.0)) -> None:
    """S(q) of several glasses. curves: {name: {'q': 1/A, 'S': ..., 'fsdp': result of
    :func:`lipsglass.structure_factor.fsdp` (optional)}}; successive curves are shifted up by
    ``offset``. The FSDP position is marked with a triangle and its FWHM with a bar."""
    fig, ax = plt.subplots(figsize=(6, 4.2))
    colours = plt.cm.viridis(np.linspace(0, 0.9, max(len(curves), 1)))
    for k, (name, c) in enumerate(curves.items()):
        q, s = np.asarray(c["q"]), np.asarray(c["S"]) + k * offset
        ax.plot(q, s, color=colours[k], lw=1.1, label=name)
        f = c.get("fsdp")
        # JSON outputs store a missing value (no peak, no width) as null
        if f and np.isfinite(f.get("position") if f.get("position") is not None else np.nan):
            y = float(np.interp(f["position"], q, s))
            ax.plot([f["position"]], [y], marker="v", color=colours[k], ms=7, mec="k", mew=0.5)
            if f.get("fwhm") is not None and np.isfinite(f["fwhm"]):
                ax.plot([f["position"] - f["fwhm"] / 2, f["position"] + f["fwhm"] / 2], [y + 0.15] * 2,
                        color=colours[k], lw=2)
    ax.set_xlim(*q_range)
    ax.set_xlabel(r"$q$ ($\mathrm{\AA}^{-1}$)")
    ax.set_ylabel(f"$S(q)$ ({weighting}-weighted, Faber-Ziman)" + (" + offset" if offset else ""))
    ax.axhline(1.0, color="0.7", lw=0.6, ls=":")
    ax.legend(fontsize=8, frameon=False, title=r"$\blacktriangledown$ FSDP (bar: FWHM)", title_fontsize=8)
    fig.tight_layout()
    save_figure(fig, out_png, out_pdf)


