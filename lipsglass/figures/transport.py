"""Transport figures: Arrhenius plot (Fig. 2A), conductivity vs experiment (Fig. 2B), MSD curves.

Every ``plot_xxx(..., out_png, out_pdf)`` writes both files and returns the matplotlib Figure.
Error bars are +-1 standard error. On logarithmic axes they are drawn for ln(value)
(sd = SE/value, the delta method), i.e. value * exp(+-SE/value), which stays positive and is
symmetric on the log axis; nothing is clipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402

from lipsglass.core.tables import read_rows  # noqa: E402
from lipsglass.figures import save_figure  # noqa: E402
from lipsglass.transport.arrhenius import ArrheniusFit  # noqa: E402
from lipsglass.transport.diffusion import DiffusionResult  # noqa: E402
from lipsglass.transport.msd import local_loglog_slope  # noqa: E402

EXPERIMENT_COLUMNS = ("label", "sigma_S_cm", "T_K", "kind", "citation")


def _log_errors(value: np.ndarray, stderr: np.ndarray) -> np.ndarray:
    """Lower/upper error-bar lengths of value*exp(-+SE/value) for a log axis."""
    value = np.asarray(value, float)
    sd = np.asarray(stderr, float) / value
    return np.vstack([value - value * np.exp(-sd), value * np.exp(sd) - value])


def plot_arrhenius(fits: Mapping[str, ArrheniusFit], out_png: str | Path, out_pdf: str | Path,
                   title: str | None = None):
    """Fig. 2A: log10 D (cm^2/s) vs 1000/T (1/K) per glass, +-1 SE error bars, weighted
    Arrhenius line, ``Ea = x +- y eV`` in the legend. ``fits``: label -> ArrheniusFit."""
    if not fits:
        raise ValueError("no Arrhenius fits to plot")
    fig, ax = plt.subplots(figsize=(4.8, 3.8))
    colours = plt.cm.viridis(np.linspace(0.0, 0.9, len(fits)))
    for colour, (label, fit) in zip(colours, fits.items()):
        x = 1000.0 / fit.T_K
        ax.errorbar(x, fit.D_cm2_s, yerr=_log_errors(fit.D_cm2_s, fit.D_stderr_cm2_s), fmt="o", ms=4,
                    color=colour, capsize=2)
        t_line = np.linspace(fit.T_K.min(), fit.T_K.max(), 50)
        ax.plot(1000.0 / t_line, fit.predict(t_line)["D_cm2_s"], "-", color=colour,
                label=f"{label}: $E_a$ = {fit.Ea_eV:.3f} $\\pm$ {fit.Ea_stderr_eV:.3f} eV")
    ax.set_yscale("log")
    ax.set_xlabel("1000/T (1/K)")
    ax.set_ylabel("$D_{Li}$ (cm$^2$/s)")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7, frameon=False)
    save_figure(fig, out_png, out_pdf, close=False)
    return fig


def read_experimental_conductivity(path: str | Path) -> list[dict]:
    """Experimental conductivities from a CSV with columns label, sigma_S_cm, T_K, kind,
    citation (one row per measurement). Raises ValueError on missing columns or bad numbers."""
    rows = []
    for k, row in enumerate(read_rows(path, comments=True, required=EXPERIMENT_COLUMNS), start=2):
        try:
            sigma, T = float(row["sigma_S_cm"]), float(row["T_K"])
        except ValueError:
            raise ValueError(f"{path}:{k}: sigma_S_cm and T_K must be numbers") from None
        if not (sigma > 0 and T > 0):
            raise ValueError(f"{path}:{k}: sigma_S_cm and T_K must be positive")
        rows.append({**row, "sigma_S_cm": sigma, "T_K": T})
    return rows


def plot_conductivity(simulated: Sequence[Mapping], experimental_csv: str | Path | None,
                      out_png: str | Path, out_pdf: str | Path, T_K: float = 300.0):
    """Fig. 2B: simulated conductivity at ``T_K`` per glass (+-1 SE) beside experimental values.

    ``simulated``: dicts with label, sigma_S_cm, sigma_stderr_S_cm (e.g. Nernst-Einstein from the
    Arrhenius extrapolation of D). Experimental rows (``read_experimental_conductivity``) are
    drawn as a second group, marker by ``kind``, annotated with their temperature if it
    differs from ``T_K`` by more than 5 K.
    """
    if not simulated:
        raise ValueError("no simulated conductivities to plot")
    exp_rows = read_experimental_conductivity(experimental_csv) if experimental_csv else []
    fig, ax = plt.subplots(figsize=(max(4.0, 0.55 * (len(simulated) + len(exp_rows)) + 1.5), 3.8))
    sig = np.array([s["sigma_S_cm"] for s in simulated], float)
    err = np.array([s["sigma_stderr_S_cm"] for s in simulated], float)
    if np.any(sig <= 0):
        raise ValueError("simulated conductivities must be positive for a log axis")
    xs = np.arange(len(simulated))
    ax.errorbar(xs, sig, yerr=_log_errors(sig, err), fmt="o", color="C0", capsize=3,
                label=f"MD, Nernst-Einstein, {T_K:g} K")
    labels = [s["label"] for s in simulated]
    markers = {}
    for k, row in enumerate(exp_rows):
        kind = row["kind"] or "experiment"
        m = markers.setdefault(kind, "sD^v<>p"[len(markers) % 7])
        x = len(simulated) + k
        ax.plot([x], [row["sigma_S_cm"]], m, color="C3" if "ceramic" not in kind else "C1",
                label=f"experiment ({kind})" if kind not in [r["kind"] or "experiment" for r in exp_rows[:k]] else None)
        if abs(row["T_K"] - T_K) > 5:
            ax.annotate(f"{row['T_K']:g} K", (x, row["sigma_S_cm"]), textcoords="offset points", xytext=(4, 4),
                        fontsize=6)
        labels.append(f"{row['label']}\n{row['citation']}")
    ax.set_xticks(np.arange(len(labels)))
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=6)
    ax.set_yscale("log")
    ax.set_ylabel(f"$\\sigma$ ({T_K:g} K) (S/cm)")
    ax.legend(fontsize=7, frameon=False)
    save_figure(fig, out_png, out_pdf, close=False)
    return fig


def plot_msd(curves: Mapping[str, DiffusionResult], out_png: str | Path, out_pdf: str | Path):
    """MSD (A^2) vs lag time (ps), log-log, per run, with the fitted line 6Dt + c drawn over
    the fit window; lower panel: local slope d ln MSD / d ln t with the window shaded and the
    diffusive value 1 marked. ``curves``: label -> DiffusionResult."""
    if not curves:
        raise ValueError("no MSD curves to plot")
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(4.8, 5.4), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    colours = plt.cm.plasma(np.linspace(0.0, 0.85, len(curves)))
    for colour, (label, res) in zip(colours, curves.items()):
        t, msd = res.lag_ps, res.msd_A2
        keep = t > 0
        ax.plot(t[keep], msd[keep], "-", lw=1, color=colour,
                label=f"{label}: D = {res.D_cm2_s:.2e} cm$^2$/s" + ("" if res.diffusive else " (not diffusive)"))
        tw = np.linspace(res.fit_start_ps, res.fit_end_ps, 20)
        d_A2ps = res.D_cm2_s / 1e-4
        ax.plot(tw, 6 * d_A2ps * tw + res.intercept_A2, "--", lw=2.5, color=colour, alpha=0.6)
        if np.all(msd[keep] > 0):
            ax2.plot(t[keep], local_loglog_slope(t, msd), "-", lw=1, color=colour)
        ax2.axvspan(res.fit_start_ps, res.fit_end_ps, color=colour, alpha=0.12)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylabel("MSD ($\\AA^2$)")
    ax.legend(fontsize=6, frameon=False)
    ax2.axhline(1.0, color="k", lw=0.8, ls=":")
    ax2.set_xlabel("lag time (ps)")
    ax2.set_ylabel("d ln MSD / d ln t")
    save_figure(fig, out_png, out_pdf, close=False)
    return fig


def note_and_save(fig, lines: Sequence[str], out_png: str | Path, out_pdf: str | Path) -> None:
    """Add notes below the axes (what is not drawn, and why) and save both files."""
    if lines:
        # below everything already drawn (rotated tick labels reach under the axes)
        bottom = fig.get_tightbbox(fig.canvas.get_renderer()).y0 / fig.get_figheight()
        fig.text(0.01, bottom - 0.02, "\n".join(lines), fontsize=6, va="top", ha="left")
    for out in (out_png, out_pdf):
        fig.savefig(out, dpi=200, bbox_inches="tight")


def placeholder_figure(title: str, lines: Sequence[str], out_png: str | Path, out_pdf: str | Path):
    """A figure that states why there is nothing to plot (instead of failing the workflow)."""
    fig, ax = plt.subplots(figsize=(4.8, 3.0))
    ax.axis("off")
    ax.text(0.0, 1.0, title + "\n\n" + "\n".join(lines), fontsize=7, va="top", ha="left", wrap=True)
    note_and_save(fig, [], out_png, out_pdf)
    return fig


def plot_arrhenius_runs(fits: Mapping[str, ArrheniusFit], excluded: Mapping[str, Sequence[Mapping]],
                        notes: Sequence[str], out_png: str | Path, out_pdf: str | Path):
    """Fig. 2A over glasses: ``plot_arrhenius`` of the glasses with a fit (``fits``), and the runs
    left out of a fit (``excluded``: label -> diffusion.csv rows with a positive D) as open symbols
    (triangles for liquid or mixed runs); glasses without a fit get their own colour. Without any
    fit the axes still show every run's D, so nothing is hidden. ``notes`` go below the axes."""
    if fits:
        fig = plot_arrhenius(fits, out_png, out_pdf)
        ax = fig.axes[0]
    else:
        fig, ax = plt.subplots(figsize=(4.8, 3.8))
        ax.set_yscale("log")
        ax.set_xlabel("1000/T (1/K)")
        ax.set_ylabel("$D_{Li}$ (cm$^2$/s)")
        ax.set_title("no glass has an Arrhenius fit", fontsize=8)
    # the colours of plot_arrhenius for fitted glasses; glasses without a fit get their own colours
    colours = dict(zip(fits, plt.cm.viridis(np.linspace(0.0, 0.9, len(fits)))))
    others = [label for label in excluded if label not in fits]
    colours.update(zip(others, plt.cm.tab10(np.arange(len(others)) % 10)))
    drew = set()
    for label, all_rows in excluded.items():
        # open circles: glassy runs left out of the fit; open triangles: liquid (or mixed) runs,
        # whose D is a supercooled liquid's
        for liquid in (False, True):
            rows = [r for r in all_rows if (r.get("phase") in ("liquid", "mixed")) == liquid]
            if not rows:
                continue
            T = np.array([r["T_K"] for r in rows])
            D = np.array([r["D_cm2_s"] for r in rows])
            S = np.array([np.nan if r["D_stderr_cm2_s"] is None else r["D_stderr_cm2_s"] for r in rows])
            ax.errorbar(1000.0 / T, D, yerr=_log_errors(D, S), fmt="^" if liquid else "o", mfc="none", ms=5,
                        color=colours[label], capsize=2,
                        label=None if label in fits or label in drew else f"{label} (no Arrhenius fit)")
            drew.add(label)
    # what the open symbols mean, once
    ax.plot([], [], "o", mfc="none", color="0.3", label="glassy, left out of the fit (diffusion.csv)")
    if any(r.get("phase") in ("liquid", "mixed") for rows in excluded.values() for r in rows):
        ax.plot([], [], "^", mfc="none", color="0.3", label="liquid or mixed (T >= Tg, density loss, anions diffusing)")
    if not ax.has_data():
        ax.text(0.5, 0.5, "no positive D to draw", transform=ax.transAxes, ha="center", fontsize=8)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, frameon=False)
    note_and_save(fig, notes, out_png, out_pdf)
    return fig


def plot_msd_runs(curves: Mapping[str, DiffusionResult], out_png: str | Path, out_pdf: str | Path):
    """``plot_msd`` of the runs of one glass, the local slope shown over [-0.25, 2.25] (said below
    the axes)."""
    fig = plot_msd(curves, out_png, out_pdf)
    # The local slope swings wildly at the longest lags (few time origins) and would squash the
    # physically meaningful range 0 (caged) .. 2 (ballistic); limit the view and say so.
    fig.axes[1].set_ylim(-0.25, 2.25)
    note_and_save(fig, ["lower panel shown over [-0.25, 2.25]; the local slope is noisy at the longest "
                        "lags (few time origins)"], out_png, out_pdf)
    return fig


__all__: Iterable[str] = ["plot_arrhenius", "plot_arrhenius_runs", "plot_conductivity", "plot_msd", "plot_msd_runs",
                          "read_experimental_conductivity", "note_and_save", "placeholder_figure"]
