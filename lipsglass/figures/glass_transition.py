"""Glass-transition figure: specific volume and enthalpy against temperature on the cooling
ramps, with the two-line fits and Tg.

Every ``plot_xxx(..., out_png, out_pdf)`` writes both files and returns the matplotlib Figure.
Error bars and bands are +-1 standard error (the estimator is the one stated in tg.json).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402

from lipsglass import units  # noqa: E402
from lipsglass.figures import save_figure  # noqa: E402
from lipsglass.glass_transition.two_line import hinge  # noqa: E402

# panel -> (quantity in tg.json, ramp column plotted, axis label)
_PANELS = (
    ("volume", "specific_volume_cm3_g", "specific volume (cm$^3$/g)"),
    ("enthalpy", "enthalpy_kcal_mol", "H = E + PV (kcal/mol, whole cell)"),
)


def _to_plotted(quantity: str, replica: Mapping) -> float:
    """Factor from the fitted quantity's unit to the plotted one (V in A^3 -> cm^3/g)."""
    if quantity == "volume":
        return units.ANGSTROM3_TO_CM3 * units.AVOGADRO / replica["mass_g_mol"]
    return 1.0


def plot_tg(compositions: Mapping[str, Mapping], ramps: Mapping[str, Sequence[Mapping]],
            out_png: str | Path, out_pdf: str | Path):
    """One row per composition: specific volume (cm^3/g) and H (kcal/mol) against the ramp
    temperature (K). Light points: the thermo rows of each replica; lines: each replica's
    two-line fit (dashed where its transition is not resolved); vertical line and band: the
    composition Tg +- SE (mean over replicas), also drawn as an error bar on the fitted curve.
    ``compositions``: glass -> composition tg.json dict; ``ramps``: glass -> ``load_ramp``
    dicts of its replicas, in replica order. The scan rate is in each row's title."""
    if not compositions:
        raise ValueError("no compositions to plot")
    n = len(compositions)
    fig, axes = plt.subplots(n, 2, figsize=(8.0, 2.8 * n), squeeze=False)
    for row, (glass, comp) in enumerate(compositions.items()):
        replicas = comp["replicas"]
        colours = plt.cm.viridis(np.linspace(0.0, 0.85, max(len(replicas), 1)))
        rate = comp.get("scan_rate_K_per_ps")
        for col, (quantity, column, label) in enumerate(_PANELS):
            ax = axes[row, col]
            if quantity not in comp:
                ax.text(0.5, 0.5, f"{quantity}: not analysed", ha="center", va="center", transform=ax.transAxes)
                continue
            at_tg = []
            for k, (replica, colour) in enumerate(zip(replicas, colours)):
                ramp = ramps[glass][k] if k < len(ramps.get(glass, ())) else None
                if ramp is not None:
                    ax.plot(ramp["T_K"], ramp[column], ".", ms=2, alpha=0.25, color=colour)
                fit = replica.get(quantity, {})
                u = fit.get("quantity_unit")
                if fit.get("breakpoint_K") is None:
                    continue
                f = _to_plotted(quantity, replica)
                lo, hi = fit["T_fit_range_K"]
                t = np.linspace(lo, hi, 200)
                y = hinge(t, fit[f"intercept_{u}"], fit[f"slope_below_{u}_per_K"], fit[f"slope_above_{u}_per_K"],
                          fit["breakpoint_K"]) * f
                ax.plot(t, y, "-" if fit["resolved"] else "--", lw=1.0, color=colour,
                        label=f"replica {k + 1}" + ("" if fit["resolved"] else " (not resolved)"))
                at_tg.append((fit, f, u))
            c = comp[quantity]
            if c.get("Tg_K") is not None:
                tg, se = c["Tg_K"], c.get("Tg_stderr_K") or 0.0
                ax.axvline(tg, color="k", lw=0.8)
                ax.axvspan(tg - se, tg + se, color="k", alpha=0.12, lw=0)
                ys = [hinge(tg, fit[f"intercept_{u}"], fit[f"slope_below_{u}_per_K"], fit[f"slope_above_{u}_per_K"],
                            fit["breakpoint_K"]) * f for fit, f, u in at_tg]
                if ys:
                    ax.errorbar([tg], [np.mean(ys)], xerr=[se], fmt="o", ms=4, color="k", capsize=3,
                                label=f"$T_g$ = {tg:.0f} $\\pm$ {se:.0f} K " + (
                                    "(replica-averaged ramp)" if c.get("pooled_fit") else
                                    f"(n = {c['n_replicas_resolved']})"))
            else:
                what = "not resolved, not even on the replica-averaged ramp" if c.get("pooled_fit") else "not resolved"
                ax.text(0.03, 0.92, f"$T_g$ {what}", transform=ax.transAxes, fontsize=7, va="top")
            ax.set_xlabel("T (K)")
            ax.set_ylabel(label)
            ax.set_title(f"{glass}: {quantity}, cooling at {rate:.3g} K/ps" if rate else f"{glass}: {quantity}",
                         fontsize=8)
            ax.legend(fontsize=6, frameon=False, loc="lower right")
    fig.suptitle("Glass transition (two-line fits; $T_g$ depends on the scan rate)", fontsize=9)
    fig.tight_layout()
    save_figure(fig, out_png, out_pdf, close=False)
    return fig
