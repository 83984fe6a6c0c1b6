"""One-page overview of a finished study: the scorecard's verdicts beside key panels of the
paper's figures (read back from their PNGs, as the workflow drew them)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt

from lipsglass.claims import VERDICT_COLOURS, VERDICTS
from lipsglass.core.tables import read_rows
from lipsglass.figures import save_figure


def overview_figure(scorecard_csv: str | Path, panels: list[tuple[str, str | Path]], out_png: str | Path,
                    out_pdf: str | Path) -> None:
    """Left: one line per claim (id, figure, verdict on its colour, statement); right: the
    ``panels`` (title, PNG) in a 2-column grid."""
    rows = read_rows(scorecard_csv)
    n_rows = max(1, -(-len(panels) // 2))
    fig = plt.figure(figsize=(18, 4.5 * n_rows))
    grid = fig.add_gridspec(n_rows, 3, width_ratios=[1.25, 1, 1], wspace=0.05, hspace=0.15)
    table = fig.add_subplot(grid[:, 0])
    table.axis("off")
    counts = {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}
    table.set_title(f"Claims of Chen et al. (2023): {counts['holds']} hold, {counts['does not hold']} do not hold, "
                    f"{counts['not tested']} not tested", fontsize=11, loc="left")
    step = 1.0 / max(len(rows), 1)
    for k, row in enumerate(rows):
        y = 1.0 - (k + 0.5) * step
        table.text(0.0, y, row["claim"], fontsize=9, va="bottom", weight="bold", transform=table.transAxes)
        table.text(0.0, y, textwrap.shorten(row["figure"], 22, placeholder="..."), fontsize=7, va="top",
                   transform=table.transAxes)
        table.text(0.24, y, row["verdict"], fontsize=9, va="center", transform=table.transAxes,
                   bbox={"facecolor": VERDICT_COLOURS.get(row["verdict"], "#ffffff"), "edgecolor": "#777777"})
        statement = textwrap.shorten(row["statement"], 120, placeholder=" ...")
        scale = textwrap.shorten(row.get("scale", ""), 60, placeholder="...")
        table.text(0.46, y, "\n".join(textwrap.wrap(statement, 48) + ([f"({scale})"] if scale else [])), fontsize=7.5,
                   va="center", transform=table.transAxes)
    for k, (title, png) in enumerate(panels):
        ax = fig.add_subplot(grid[k // 2, 1 + k % 2])
        ax.imshow(mpimg.imread(png))
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    save_figure(fig, out_png, out_pdf, dpi=150)
