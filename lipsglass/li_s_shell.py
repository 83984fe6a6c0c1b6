"""First-shell Li-S distances by anion type: the measurement behind claim C7.

Claim C7 of the paper: "Li-S distances do not differ between the three anion types PS4, P2S7,
P2S6" (decided in :mod:`lipsglass.claims.structure`, glasses as units). This module measures,
per frame and per Li, the distances to the S in its first shell (closer than ``r_cut``, the first
minimum of the Li-S g(r), ~3.2-3.4 A) split by the anion type of each S (unit labels of
:func:`lipsglass.speciation.speciate`; S_free and 'other' S are not used), with the one
neighbour search of the project (:func:`lipsglass.neighbours.neighbour_pairs`).

Measures per anion type a (Angstrom), per glass replica:

* ``fitted_peak_A``: the Li-S(a) g(r) peak position, the paper's measure (Fig. 1D right): the
  centre of a Gaussian fitted to the peak of the distance histogram divided by r^2 (a g(r)-like
  curve, bins of ``peak_bin_A``) within +-0.2 A of its smoothed maximum; the primary C7 measure;
* ``mean_distance_A``: the mean over all first-shell Li-S(a) pairs of all frames, a sub-bin
  measure (no histogram grid); the secondary C7 measure.

``per_frame_li`` keeps the per-Li, per-frame sums and counts for analyses of the within-glass
sampling.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.optimize import curve_fit

from lipsglass.core.anions import ANIONS
from lipsglass.lammpsio import Box
from lipsglass.neighbours import neighbour_pairs

DEFAULT_R_CUT_A = 3.2          # first minimum of the Li-S g(r) in Li2S-P2S5 glasses
DEFAULT_MIN_WINDOW_A = (2.9, 3.8)  # where the Li-S first minimum is searched when r_cut comes from g(r)
DEFAULT_PEAK_BIN_A = 0.005
HIST_LO_A = 1.5


def _frames(frames):
    if isinstance(frames, tuple) and len(frames) == 2 and isinstance(frames[0], Box):
        frames = [frames]
    frames = [(box, np.asarray(pos, float)) for box, pos in frames]
    if not frames:
        raise ValueError("no frames given")
    return frames


def measure_frames(frames, elements: Sequence[str], unit_labels: Sequence[str], r_cut: float = DEFAULT_R_CUT_A,
                   anions: Sequence[str] = ANIONS, peak_bin_A: float = DEFAULT_PEAK_BIN_A) -> dict:
    """First-shell Li-S distances by anion type of one glass replica (JSON-ready dict).

    frames: list of (Box, positions (N, 3) A) or one such tuple, atoms in the order of
    ``elements`` and ``unit_labels`` (per-atom unit label, e.g. ``Speciation.unit``).
    r_cut (A): first-shell radius. Returns the fields described in the module docstring plus
    ``per_frame_li``: {"sum_A": {a: F x L}, "count": {a: F x L}} (the input of the bootstrap),
    ``histogram`` (per-anion distance counts on ``edges_A``), ``coordination`` (mean number
    of first-shell S of each anion type per Li), ``n_li_in_contact`` (Li with at least one such
    S in some frame) and the sizes.
    """
    frames = _frames(frames)
    elements = np.asarray(elements).astype(str)
    labels = np.asarray(unit_labels).astype(str)
    n = len(frames[0][1])
    if len(elements) != n or len(labels) != n:
        raise ValueError(f"{len(elements)} elements / {len(labels)} labels for {n} atoms")
    if not r_cut > HIST_LO_A:
        raise ValueError(f"r_cut must exceed {HIST_LO_A} A, got {r_cut}")
    li = np.flatnonzero(elements == "Li")
    if not len(li):
        raise ValueError("no Li atoms")
    anions = [a for a in anions if np.any((elements == "S") & (labels == a))]
    s_idx = np.flatnonzero((elements == "S") & np.isin(labels, anions))
    if not len(s_idx):
        raise ValueError(f"no S atoms labelled with any of {list(anions)}")
    code = np.array([anions.index(u) for u in labels[s_idx]], np.int64)
    n_f, n_li, n_a = len(frames), len(li), len(anions)
    sums = np.zeros((n_f, n_li, n_a))
    counts = np.zeros((n_f, n_li, n_a), np.int64)
    edges = np.arange(HIST_LO_A, r_cut + peak_bin_A * 0.5, peak_bin_A)
    hist = np.zeros((n_a, len(edges) - 1), np.int64)
    sq = np.zeros(n_a)
    for f, (box, pos) in enumerate(frames):
        if len(pos) != n:
            raise ValueError(f"frame {f} has {len(pos)} atoms, expected {n}")
        i, j, vec = neighbour_pairs(box, pos[li], r_cut, other=pos[s_idx])
        d = np.linalg.norm(vec, axis=1)
        keep = d < r_cut
        i, a, d = i[keep], code[j[keep]], d[keep]
        flat = i * n_a + a
        sums[f] = np.bincount(flat, weights=d, minlength=n_li * n_a).reshape(n_li, n_a)
        counts[f] = np.bincount(flat, minlength=n_li * n_a).reshape(n_li, n_a)
        sq += np.bincount(a, weights=d ** 2, minlength=n_a)
        for k in range(n_a):
            hist[k] += np.histogram(d[a == k], bins=edges)[0]
    tot_s = sums.sum(axis=(0, 1))
    tot_c = counts.sum(axis=(0, 1))
    mean = np.where(tot_c > 0, tot_s / np.maximum(tot_c, 1), np.nan)
    var = np.where(tot_c > 1, (sq - tot_c * mean ** 2) / np.maximum(tot_c - 1, 1), np.nan)
    centres = 0.5 * (edges[1:] + edges[:-1])
    return {
        "measure": "first-shell Li-S distances by anion type of the S (mean over Li-S pairs of all frames)",
        "anions": list(anions),
        "r_cut_A": float(r_cut),
        "n_frames": n_f,
        "n_li": n_li,
        "mean_distance_A": {x: float(mean[k]) for k, x in enumerate(anions)},
        "sd_distance_A": {x: float(np.sqrt(max(var[k], 0.0))) if np.isfinite(var[k]) else float("nan")
                          for k, x in enumerate(anions)},
        "n_pairs": {x: int(tot_c[k]) for k, x in enumerate(anions)},
        "coordination": {x: float(tot_c[k] / (n_f * n_li)) for k, x in enumerate(anions)},
        "n_li_in_contact": {x: int(np.sum(counts[:, :, k].sum(axis=0) > 0)) for k, x in enumerate(anions)},
        "fitted_peak_A": {x: fitted_peak(centres, hist[k]) for k, x in enumerate(anions)},
        "histogram": {"edges_A": np.round(edges, 6).tolist(), "counts": {x: hist[k].tolist() for k, x in enumerate(anions)}},
        "per_frame_li": {"sum_A": {x: np.round(sums[:, :, k], 5).tolist() for k, x in enumerate(anions)},
                         "count": {x: counts[:, :, k].tolist() for k, x in enumerate(anions)}},
    }


def fitted_peak(r: np.ndarray, counts: np.ndarray, half_window_A: float = 0.2) -> float:
    """Centre (A) of a Gaussian + constant fitted to counts / r^2 (a g(r)-like curve) within
    +-half_window_A of its maximum after a 0.05 A moving average; NaN if the fit fails or puts
    the centre outside that window."""

    r = np.asarray(r, float)
    y = np.asarray(counts, float) / r ** 2
    if y.sum() <= 0 or len(r) < 5:
        return float("nan")
    w = max(1, int(round(0.05 / np.median(np.diff(r)))))
    ys = np.convolve(y, np.ones(w) / w, mode="same")
    k = int(np.argmax(ys))
    m = np.abs(r - r[k]) <= half_window_A
    if m.sum() < 5:
        return float("nan")
    gauss = lambda x, x0, amp, s, c: amp * np.exp(-0.5 * ((x - x0) / s) ** 2) + c  # noqa: E731
    try:
        popt, _ = curve_fit(gauss, r[m], y[m], p0=[r[k], ys[k], 0.1, 0.0], maxfev=10000)
    except (RuntimeError, ValueError):
        return float("nan")
    x0 = float(popt[0])
    return x0 if abs(x0 - r[k]) <= half_window_A and popt[1] > 0 else float("nan")
