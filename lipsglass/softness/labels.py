"""Mobility labels of the Li of a window: the hop indicator p_hop (Candelier et al. 2010) and its
window maximum, the labels of the configured recipe (D_cum quantiles of the glass, the paper's,
or absolute p_hop thresholds), and whether a label persists from window to window (a property of
the Li) or not (noise of the window).

Units: p_hop in A^2; D_cum in A^2 (or A^2 per neighbour); times in ps.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from lipsglass.core.stats import intraclass_correlation
from lipsglass.d2min import label_mobility
from lipsglass.softness.settings import SoftnessSettings

def p_hop(positions, half_frames: int) -> np.ndarray:
    """Hop indicator p_hop (A^2) of Candelier et al. PRL 105 (2010) 135702, as used for the
    softness labels of Cubuk et al. PRL 114 (2015) 108001 and Schoenholz et al. Nat. Phys. 12
    (2016) 469: for atom i at frame t, with the frame intervals A = [t - h, t] and B = [t, t + h]
    (h = ``half_frames``, tau = 2 h frames),

        p_hop(i, t) = sqrt( <(r_i - <r_i>_B)^2>_A  <(r_i - <r_i>_A)^2>_B ),

    large when the atom sits in one cage before t and another after t (a hop centred at t),
    small (~ its vibration amplitude squared) when it rattles in one cage. positions:
    (n_frames, n_atoms, 3) UNWRAPPED coordinates (A) of equally spaced frames. Returns
    (n_frames, n_atoms); NaN for frames within h of either end, where A or B is cut off.
    """
    pos = np.asarray(positions, float)
    if pos.ndim != 3 or pos.shape[2] != 3:
        raise ValueError(f"positions must have shape (n_frames, n_atoms, 3), got {pos.shape}")
    h = int(half_frames)
    if h < 1:
        raise ValueError(f"p_hop needs half_frames >= 1, got {half_frames}")
    n = len(pos)
    out = np.full(pos.shape[:2], np.nan)
    if n < 2 * h + 1:
        return out
    # running sums over intervals of h + 1 frames, for <r> and <r^2>
    c1 = np.concatenate([np.zeros((1,) + pos.shape[1:]), np.cumsum(pos, axis=0)])
    c2 = np.concatenate([np.zeros((1, pos.shape[1])), np.cumsum(np.sum(pos ** 2, axis=2), axis=0)])
    m = h + 1
    for t in range(h, n - h):
        a0, a1, b0, b1 = t - h, t + 1, t, t + h + 1
        mean_a, mean_b = (c1[a1] - c1[a0]) / m, (c1[b1] - c1[b0]) / m
        sq_a, sq_b = (c2[a1] - c2[a0]) / m, (c2[b1] - c2[b0]) / m
        # <(r - c)^2>_X = <r^2>_X - 2 <r>_X . c + c^2
        ab = sq_a - 2 * np.sum(mean_a * mean_b, axis=1) + np.sum(mean_b ** 2, axis=1)
        ba = sq_b - 2 * np.sum(mean_b * mean_a, axis=1) + np.sum(mean_a ** 2, axis=1)
        out[t] = np.sqrt(np.clip(ab, 0, None) * np.clip(ba, 0, None))
    return out


def p_hop_half_frames(tau_ps: float, dump_interval_ps: float) -> int:
    """Frames h of each half of the p_hop interval tau (h = tau / 2 / dump interval, rounded
    half up; at least 1)."""
    if not (tau_ps > 0 and dump_interval_ps > 0):
        raise ValueError(f"p_hop tau ({tau_ps} ps) and the dump interval ({dump_interval_ps} ps) must be positive")
    return max(1, int(math.floor(tau_ps / 2.0 / dump_interval_ps + 0.5)))


def window_maximum(per_frame, starts: Sequence[int], frames_per_window: int) -> np.ndarray:
    """Largest finite value of ``per_frame`` (n_frames, n_atoms) over frames start..start + K of
    each window (K = ``frames_per_window``); NaN for an atom without a finite value there.
    Returns (n_windows, n_atoms)."""
    v = np.asarray(per_frame, float)
    out = np.full((len(starts), v.shape[1]), np.nan)
    for k, s in enumerate(starts):
        if int(s) < 0 or int(s) + frames_per_window > len(v) - 1:
            raise ValueError(f"window {k} (frames {s}..{s + frames_per_window}) runs past the {len(v)} frames")
        block = v[int(s):int(s) + frames_per_window + 1]
        finite = np.isfinite(block)
        has = finite.any(axis=0)
        out[k, has] = np.max(np.where(finite, block, -np.inf), axis=0)[has]
    return out


def label_persistence(statistic, upper: float, log_statistic: bool = True) -> dict:
    """Does a label say something about the atom, or about the window? statistic: (n_windows,
    n_atoms) label statistic (D_cum or window p_hop) of consecutive windows; ``upper``: the
    mobile threshold. Returns the base rate P(mobile), P(mobile in window w+1 | mobile in w)
    over consecutive window pairs (with its count), their ratio (lift; 1 = labels are
    independent draws each window) and the intraclass correlation of the (log) statistic across
    windows (``intraclass_correlation``)."""
    s = np.asarray(statistic, float)
    if s.ndim != 2 or s.shape[0] < 2:
        raise ValueError(f"label persistence needs >= 2 windows of (n_windows, n_atoms), got {s.shape}")
    finite = np.isfinite(s)
    mobile = finite & (s > upper)
    base = float(mobile[finite].mean()) if finite.any() else float("nan")
    prev, nxt = mobile[:-1], mobile[1:]
    pair = prev & finite[1:]
    n_pairs = int(pair.sum())
    cond = float(nxt[pair].mean()) if n_pairs else float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        icc_values = np.log(np.where(s > 0, s, np.nan)) if log_statistic else s
    return {"base_rate_mobile": base, "p_mobile_next_given_mobile": cond, "n_mobile_with_next": n_pairs,
            "lift": cond / base if base > 0 and np.isfinite(cond) else float("nan"),
            "intraclass_correlation": intraclass_correlation(icc_values),
            "icc_of": "log of the label statistic" if log_statistic else "label statistic",
            "n_windows": int(s.shape[0]), "n_atoms": int(s.shape[1])}


def mobility_labels(statistic: np.ndarray, settings: SoftnessSettings) -> tuple[np.ndarray, tuple[float, float], str]:
    """Labels (1 mobile, 0 immobile, -1 unlabelled) of the recipe's statistic, the thresholds and
    their kind: quantiles of the glass's D_cum (d_cum) or absolute p_hop values in A^2 (p_hop)."""
    if settings.label_recipe == "d_cum":
        labels, thr = label_mobility(statistic, settings.mobile_quantile, settings.immobile_quantile, "quantile")
        return labels, thr, "quantile"
    labels, thr = label_mobility(statistic, settings.p_hop_mobile_A2, settings.p_hop_immobile_A2, "absolute")
    return labels, thr, "absolute"


def persistence_report(stats_by_recipe: Mapping[str, np.ndarray], settings: SoftnessSettings) -> dict:
    """``label_persistence`` of each recipe's statistic (n_windows, n_Li) with its mobile
    threshold (the configured one; for D_cum the glass's ``mobile_quantile``)."""
    out = {}
    for recipe, stat in stats_by_recipe.items():
        finite = stat[np.isfinite(stat)]
        if recipe == "d_cum":
            upper = float(np.quantile(finite, settings.mobile_quantile)) if len(finite) else float("nan")
        else:
            upper = settings.p_hop_mobile_A2
        out[recipe] = {"mobile_threshold": upper, **label_persistence(stat, upper)}
    return out


def label_recipe_text(settings: SoftnessSettings) -> dict:
    """The label recipe as recorded in dynamics.json and model.json."""
    if settings.label_recipe == "d_cum":
        rule = (f"mobile: D_cum above the {settings.mobile_quantile} quantile of the glass's D_cum, immobile: below "
                f"the {settings.immobile_quantile} quantile (D2min cutoff {settings.d2min_cutoff_A} A, "
                f"{settings.d2min_normalise})")
    else:
        rule = (f"mobile: largest p_hop over the window above {settings.p_hop_mobile_A2} A^2, immobile: below "
                f"{settings.p_hop_immobile_A2} A^2 (p_hop of Candelier et al. 2010, tau {settings.p_hop_tau_ps} ps)")
    return {"recipe": settings.label_recipe, "rule": rule, "label_temperature_K": settings.label_temperature_K,
            "window_frames": settings.window_frames, "structure": settings.structure}

