"""Figures of the study (matplotlib, Agg backend): every function writes a PNG and a PDF."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def save_figure(fig, out_png: str | Path, out_pdf: str | Path, dpi: int = 200, close: bool = True) -> None:
    """Write ``fig`` as PNG (``dpi``) and PDF, creating folders, and close it unless the caller
    still draws on it (``close=False``)."""
    for path in (out_png, out_pdf):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=dpi, bbox_inches="tight")
    fig.savefig(out_pdf, bbox_inches="tight")
    if close:
        plt.close(fig)


def note_figure(text: str, out_png: str | Path, out_pdf: str | Path) -> None:
    """A figure that states why the data figure cannot be drawn (so the workflow completes and
    the reason is visible where the figure is expected)."""
    fig, ax = plt.subplots(figsize=(4.5, 2.0))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=9)
    save_figure(fig, out_png, out_pdf)
