"""First-shell Li-S distances by anion type, and the equivalence test of claim C7.

Claim C7 of the paper: "Li-S distances do not differ between the three anion types PS4, P2S7,
P2S6". Comparing first-peak positions of anion-resolved g(r) on a 0.02 A grid against a 0.05 A
criterion is decided by noise (a bootstrap gave P(spread < 0.05 A) = 0.55 on one run). This
module measures instead, per frame and per Li, the distances to the S in its first shell
(closer than ``r_cut``, the first minimum of the Li-S g(r), ~3.2 A) split by the anion type of
each S (unit labels of :func:`lipsglass.speciation.speciate`; S_free and 'other' S are not
used), with the one neighbour search of the project (:func:`lipsglass.neighbours.neighbour_pairs`).

Measures per anion type a (Angstrom):

* ``mean_distance_A``: the mean over all first-shell Li-S(a) pairs of all frames, a sub-bin
  measure (no histogram grid);
* ``fitted_peak_A``: a second measure, the centre of a Gaussian fitted to the peak of the
  distance histogram divided by r^2 (a g(r)-like curve, bins of ``peak_bin_A``) within +-0.2 A
  of its smoothed maximum. It is reported, not used for the verdict.

Estimator and its uncertainty. For one glass replica with Li l, frames f and S_fla, C_fla the sum
and number of first-shell Li-S(a) distances of Li l in frame f::

    m_a = sum_fl S_fla / sum_fl C_fla,        d_ab = m_a - m_b

and for a composition with K replicas (independent glass realisations) D_ab = mean_k d_ab,k
(replicas weighted equally). The interval of D_ab is a percentile bootstrap at three levels:
replicas are resampled with replacement (top level), and within each drawn replica Li and frames
are resampled independently with replacement and combined as the product set (weights
w_l v_f, so all frames of a drawn Li go together and all Li of a drawn frame go together):
correlated samples (a Li's environment persists over frames; a frame is shared by all Li) are
not counted as independent. The product (two-way) bootstrap is slightly conservative. With one
replica the interval covers only the sampling within that glass realisation, not glass-to-glass
variation, and says so.

Verdict (equivalence test, TOST-like): with the ``level`` (default 90 %) interval of every
pairwise difference PS4-P2S7, PS4-P2S6, P2S7-P2S6 -- a 90 % interval inside +-margin is the two
one-sided tests at alpha = 5 % each -- the claim "holds" when every interval lies within
(-margin, +margin); "does not hold" when some interval lies entirely outside [-margin, +margin];
otherwise "not tested", with the half-width that would decide it (margin - |D| to show
equivalence, |D| - margin to show a difference) and the factor of independent samples needed.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from lipsglass.lammpsio import Box
from lipsglass.neighbours import neighbour_pairs

ANION_TYPES = ("PS4", "P2S7", "P2S6")
PAIRS = (("PS4", "P2S7"), ("PS4", "P2S6"), ("P2S7", "P2S6"))
DEFAULT_R_CUT_A = 3.2          # first minimum of the Li-S g(r) in Li2S-P2S5 glasses
DEFAULT_MIN_WINDOW_A = (2.9, 3.8)  # where the Li-S first minimum is searched when r_cut comes from g(r)
DEFAULT_PEAK_BIN_A = 0.005
DEFAULT_LEVEL = 0.90
DEFAULT_N_BOOTSTRAP = 2000
DEFAULT_MIN_LI = 10            # an anion type needs this many Li with it in their first shell, per replica
HIST_LO_A = 1.5


def _frames(frames):
    if isinstance(frames, tuple) and len(frames) == 2 and isinstance(frames[0], Box):
        frames = [frames]
    frames = [(box, np.asarray(pos, float)) for box, pos in frames]
    if not frames:
        raise ValueError("no frames given")
    return frames


def measure_frames(frames, elements: Sequence[str], unit_labels: Sequence[str], r_cut: float = DEFAULT_R_CUT_A,
                   anions: Sequence[str] = ANION_TYPES, peak_bin_A: float = DEFAULT_PEAK_BIN_A) -> dict:
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
    from scipy.optimize import curve_fit

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


# ---- combination over replicas and the bootstrap ---------------------------------------------

def _arrays(replica: Mapping, anions: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(sums, counts) arrays (F, L, n_anions) of one replica dict; absent anions are zero."""
    per = replica["per_frame_li"]
    ref = np.asarray(next(iter(per["count"].values())), float)
    shape = ref.shape if ref.ndim == 2 else (1, len(ref))
    sums = np.zeros(shape + (len(anions),))
    counts = np.zeros(shape + (len(anions),))
    for k, a in enumerate(anions):
        if a in per["count"]:
            sums[:, :, k] = np.asarray(per["sum_A"][a], float).reshape(shape)
            counts[:, :, k] = np.asarray(per["count"][a], float).reshape(shape)
    return sums, counts


def _replica_draws(sums: np.ndarray, counts: np.ndarray, n_boot: int, rng: np.random.Generator,
                   chunk: int = 256) -> np.ndarray:
    """Bootstrap means (n_boot, n_anions): Li and frames resampled independently (multinomial
    weights), the estimate sum_fl v_f w_l S_fla / sum_fl v_f w_l C_fla."""
    n_f, n_li, n_a = sums.shape
    out = np.empty((n_boot, n_a))
    S = sums.reshape(n_f, n_li * n_a)
    C = counts.reshape(n_f, n_li * n_a)
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        v = rng.multinomial(n_f, np.full(n_f, 1.0 / n_f), size=b).astype(float)     # frames
        w = rng.multinomial(n_li, np.full(n_li, 1.0 / n_li), size=b).astype(float)  # Li
        num = np.einsum("bla,bl->ba", (v @ S).reshape(b, n_li, n_a), w)
        den = np.einsum("bla,bl->ba", (v @ C).reshape(b, n_li, n_a), w)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start:start + b] = np.where(den > 0, num / den, np.nan)
    return out


def pairwise_differences(replicas: Sequence[Mapping], level: float = DEFAULT_LEVEL,
                         n_bootstrap: int = DEFAULT_N_BOOTSTRAP, seed: int = 0,
                         min_li: int = DEFAULT_MIN_LI) -> dict:
    """Composition-level mean first-shell Li-S distance per anion type and the bootstrap
    intervals of the pairwise differences (see the module docstring for the estimator).

    replicas: per-replica dicts of :func:`measure_frames` (or their JSON). An anion type enters
    only if every replica has >= ``min_li`` Li with an S of that type in their first shell.
    Returns {"anions", "excluded_anions", "n_replicas", "n_frames", "n_li", "mean_A": {a: mean
    over replicas}, "replica_mean_A": {a: [...]}, "fitted_peak_A": {a: mean over replicas},
    "fitted_peak_sd_A", "differences": {"PS4-P2S6": {"estimate_A", "ci_low_A", "ci_high_A",
    "half_width_A", "between_replica_sd_A", "failed_draws"}}, "level", "n_bootstrap",
    "estimator"}.
    """
    if not replicas:
        raise ValueError("no replicas given")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    present = [a for a in ANION_TYPES if all(a in r["anions"] for r in replicas)]
    excluded = {}
    for a in ANION_TYPES:
        if a not in present:
            if any(a in r["anions"] for r in replicas):
                excluded[a] = "absent in some replica"
            continue
        n_contact = [int(r.get("n_li_in_contact", {}).get(a, 0)) for r in replicas]
        if min(n_contact) < min_li:
            excluded[a] = f"only {min(n_contact)} Li in contact in a replica (need >= {min_li})"
    anions = [a for a in present if a not in excluded]
    rng = np.random.default_rng(seed)
    point, draws = [], []
    for rep in replicas:
        sums, counts = _arrays(rep, anions)
        tot_c = counts.sum(axis=(0, 1))
        point.append(np.where(tot_c > 0, sums.sum(axis=(0, 1)) / np.maximum(tot_c, 1), np.nan))
        draws.append(_replica_draws(sums, counts, n_bootstrap, rng))
    point = np.array(point)            # (K, n_a)
    K = len(replicas)
    # top level: replicas with replacement; slot j of draw b uses a random within-replica draw
    pick = rng.integers(0, K, size=(n_bootstrap, K))
    rows = rng.integers(0, n_bootstrap, size=(n_bootstrap, K))
    stacked = np.stack(draws)          # (K, n_boot, n_a)
    boot = stacked[pick, rows].mean(axis=1) if K else np.empty((0, len(anions)))  # (n_boot, n_a)
    q = (0.5 * (1 - level), 0.5 * (1 + level))
    diffs = {}
    for a, b in PAIRS:
        if a not in anions or b not in anions:
            continue
        ia, ib = anions.index(a), anions.index(b)
        d_rep = point[:, ia] - point[:, ib]
        d_boot = boot[:, ia] - boot[:, ib]
        ok = np.isfinite(d_boot)
        lo, hi = (np.quantile(d_boot[ok], q) if ok.sum() >= 10 else (np.nan, np.nan))
        diffs[f"{a}-{b}"] = {
            "estimate_A": float(np.mean(d_rep)),
            "ci_low_A": float(lo), "ci_high_A": float(hi), "half_width_A": float(0.5 * (hi - lo)),
            "between_replica_sd_A": float(np.std(d_rep, ddof=1)) if K > 1 else float("nan"),
            "failed_draws": int((~ok).sum()),
        }
    peaks = {a: [r.get("fitted_peak_A", {}).get(a) for r in replicas] for a in anions}
    peaks = {a: np.array([np.nan if v is None else v for v in vals], float) for a, vals in peaks.items()}
    return {
        "anions": anions, "excluded_anions": excluded, "n_replicas": K,
        "n_frames": [int(r["n_frames"]) for r in replicas], "n_li": [int(r["n_li"]) for r in replicas],
        "r_cut_A": sorted({float(r["r_cut_A"]) for r in replicas}),
        "mean_A": {a: float(np.mean(point[:, k])) for k, a in enumerate(anions)},
        "replica_mean_A": {a: point[:, k].tolist() for k, a in enumerate(anions)},
        "fitted_peak_A": {a: float(np.nanmean(v)) if np.isfinite(v).any() else float("nan") for a, v in peaks.items()},
        "fitted_peak_sd_A": {a: float(np.nanstd(v, ddof=1)) if np.isfinite(v).sum() > 1 else float("nan")
                             for a, v in peaks.items()},
        "differences": diffs, "level": level, "n_bootstrap": n_bootstrap, "seed": seed,
        "estimator": ("mean first-shell Li-S distance per anion type (pairs pooled over Li and frames) per replica, "
                      "differences averaged over replicas; percentile bootstrap resampling replicas, then Li and "
                      "frames independently (product set) within each"),
    }


def equivalence(estimate: float, lo: float, hi: float, margin: float) -> dict:
    """TOST-like decision for one difference with interval [lo, hi] and margin (A):
    'equivalent' (interval inside (-margin, margin)), 'different' (entirely outside
    [-margin, margin]) or 'undecided', with the half-width that would decide it."""
    if not margin > 0:
        raise ValueError(f"margin must be positive, got {margin}")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return {"decision": "undecided", "needed_half_width_A": float("nan"), "why": "no interval"}
    half = 0.5 * (hi - lo)
    if -margin < lo and hi < margin:
        return {"decision": "equivalent", "needed_half_width_A": float("nan"), "why": "interval inside +-margin"}
    if lo > margin or hi < -margin:
        return {"decision": "different", "needed_half_width_A": float("nan"), "why": "interval outside +-margin"}
    gap = abs(margin - abs(estimate))
    goal = "equivalence" if abs(estimate) < margin else "a difference"
    factor = (half / gap) ** 2 if gap > 0 else float("inf")
    why = (f"interval half-width {half:.4f} A; showing {goal} needs a half-width < {gap:.4f} A "
           f"(~{factor:.1f}x the independent samples: Li x replicas)" if gap > 0 else
           f"estimate on the margin: no interval width decides it")
    if hi - lo > 2 * margin:
        why = f"interval wider than the +-{margin:g} A band; " + why
    return {"decision": "undecided", "needed_half_width_A": float(gap), "why": why}


def c7_evaluation(per_composition: Mapping[str, Sequence[Mapping]], margin_A: float,
                  level: float = DEFAULT_LEVEL, n_bootstrap: int = DEFAULT_N_BOOTSTRAP, seed: int = 0,
                  min_li: int = DEFAULT_MIN_LI) -> dict:
    """Per composition: :func:`pairwise_differences` and the :func:`equivalence` decision of
    every pair; the composition verdict ('holds' when every pair is equivalent, 'does not hold'
    when some pair differs, 'not tested' otherwise or with fewer than two anion types) and the
    overall verdict (does not hold if any composition does not hold, holds if all compositions
    that could be tested hold and at least one could, else not tested)."""
    out = {"margin_A": margin_A, "level": level, "compositions": {}}
    verdicts = []
    for k, (comp, replicas) in enumerate(per_composition.items()):
        res = pairwise_differences(replicas, level, n_bootstrap, seed + k, min_li)
        for name, d in res["differences"].items():
            d.update(equivalence(d["estimate_A"], d["ci_low_A"], d["ci_high_A"], margin_A))
        decisions = [d["decision"] for d in res["differences"].values()]
        if not decisions:
            v = "not tested"
        elif "different" in decisions:
            v = "does not hold"
        elif all(x == "equivalent" for x in decisions):
            v = "holds"
        else:
            v = "not tested"
        res["verdict"] = v
        out["compositions"][comp] = res
        verdicts.append((v, bool(decisions)))
    testable = [v for v, has_pairs in verdicts if has_pairs]
    if "does not hold" in testable:
        out["verdict"] = "does not hold"
    elif testable and all(v == "holds" for v in testable):
        out["verdict"] = "holds"
    else:
        out["verdict"] = "not tested"
    return out
