"""Claims C7 and C13 (structure) decided over glasses: every replica of every composition is an
independent glass, and the unit of every interval.

**C7** "Li-S distances do not differ between the three anion types" (Fig. 1D right), a claim of
no effect, decided by equivalence. Estimand per anion pair (PS4-P2S7, PS4-P2S6, P2S7-P2S6): the
mean over glasses of the difference of the Li-S g(r) peak positions (``fitted_peak_A`` of each
replica's ``li_s_shell.json``, :mod:`lipsglass.li_s_shell`; the paper compared g(r) peaks).
Interval: t over the glasses (the per-glass differences; n - 1 degrees of freedom), so the
glass-to-glass variation is in it (a percentile bootstrap over K = 2 replicas covers ~49 % at a
nominal 90 %). Pooling the compositions makes the estimand the difference averaged over the
studied compositions; composition-to-composition differences only widen the interval. Holds
when every pair's interval lies within +-``claims.C7.margin_A``; does not hold when some pair's
interval at the Bonferroni level over the pairs lies entirely outside it; otherwise not tested.
The mean first-shell Li-S distance (``mean_distance_A``) is the secondary measure, decided the
same way in the detail, and the primary verdict is given at each of ``claims.C7.report_margins_A``.

**C13** "P-S bonds ~2.1 A in all three anions; in P2S6 the P to S-on-the-neighbouring-P distance
is 3.4-3.8 A" (Fig. 1D left). Four parts: the first peak of the anion-resolved P-S g(r) of each
anion (searched in 1.8-2.6 A) against ``claims.C13.bond_region_A`` and the second P-S peak of
P2S6 (searched in 3.0-4.2 A) against ``claims.C13.p2s6_neighbour_region_A``. Each peak per
glass from its replica's partial_rdf.csv (the maximum bin refined by a parabola through it and
its neighbours); interval: t over the glasses, never narrower than one g(r) bin (half-width at
least dr / 2: the peak of a binned curve is not known better). The parts combine as in C7
(:func:`lipsglass.claims.verdict.decide_parts`).

``CALIBRATIONS``: the error rates of both rules on simulated glasses.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
from scipy import stats

from lipsglass.core.anions import ANION_PAIRS, ANIONS
from lipsglass.claims.calibration import Calibration
from lipsglass.claims.verdict import (DEFAULT_LEVEL, DOES_NOT_HOLD, HOLDS, NOT_TESTED, Interval, Region, Scale,
                                      Verdict, decide, decide_parts, t_interval, union_level)

MEASURES = {"fitted_peak_A": "Li-S g(r) peak position", "mean_distance_A": "mean first-shell Li-S distance"}
C7_REASON = ("the precision with which EXAFS and total-scattering PDF fits give a first-shell distance (+-0.01-0.02 A): "
             "a larger difference could be measured (docs/methods.md)")
P_S_BOND_WINDOW_A = (1.8, 2.6)        # where the first P-S peak is searched (bonded P-S <= 2.53 A)
P2S6_NEIGHBOUR_WINDOW_A = (3.0, 4.2)  # where P2S6's second P-S peak (S on the neighbouring P) is searched
C13_BOND_REASON = "'~2.1 A' read to its last digit: 2.1 +- 0.1 A"
C13_NEIGHBOUR_REASON = "the paper's stated range"


def _t(level: float, dof: int) -> float:
    return float(stats.t.ppf(0.5 + level / 2, dof))


def glasses_needed(sd: float, gap: float, level: float) -> int:
    """Smallest number of glasses n with t(n - 1) sd / sqrt(n) < gap: the t half-width, from the
    measured spread ``sd`` of per-glass values, below the distance ``gap`` to the margin."""
    n0 = max(2, int((stats.norm.ppf(0.5 + level / 2) * sd / gap) ** 2))  # the normal bound; t needs more
    if n0 > 1000:
        return n0 + 1   # t(n - 1) within 0.2 % of the normal quantile
    m = np.arange(n0, 2 * n0 + 100)
    ok = stats.t.ppf(0.5 + level / 2, m - 1) * sd / np.sqrt(m) < gap
    return int(m[ok][0]) if ok.any() else int(m[-1])


def glass_label(composition: str, k: int) -> str:
    return f"{composition}/r{k + 1}"


# ---- C7 -------------------------------------------------------------------------------------

def glass_differences(per_composition: Mapping[str, Sequence[Mapping]], measure: str,
                      min_li: int) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """Per anion pair, {glass: difference (A)} of ``measure`` of every glass (replica) whose
    both anion types touch >= ``min_li`` Li and whose measure is finite; and why glasses or
    anion types were left out."""
    diffs: dict[str, dict[str, float]] = {f"{a}-{b}": {} for a, b in ANION_PAIRS}
    left_out = {}
    for comp, replicas in per_composition.items():
        for k, rep in enumerate(replicas):
            g = glass_label(comp, k)
            values = {}
            for a in ANIONS:
                if a not in rep.get("anions", []):
                    continue
                n_li = int(rep.get("n_li_in_contact", {}).get(a, 0))
                v = rep.get(measure, {}).get(a)
                if n_li < min_li:
                    left_out[f"{g} {a}"] = f"{n_li} Li in contact (< {min_li})"
                elif v is None or not np.isfinite(v):
                    left_out[f"{g} {a}"] = f"no {MEASURES.get(measure, measure)} (fit failed)"
                else:
                    values[a] = float(v)
            for a, b in ANION_PAIRS:
                if a in values and b in values:
                    diffs[f"{a}-{b}"][g] = values[a] - values[b]
    return diffs, left_out


def equivalence_verdict(diffs: Mapping[str, Mapping[str, float]], margin: float, level: float
                        ) -> tuple[str, dict[str, Interval | None], dict[str, Interval | None]]:
    """Verdict of the pairwise differences against +-margin; the t-intervals at ``level`` and at
    the Bonferroni level over the pairs."""
    region = Region.within(margin)
    u_level = union_level(level, len(diffs))
    at_level = {p: t_interval(list(d.values()), level, "A", "glasses") for p, d in diffs.items()}
    at_union = {p: t_interval(list(d.values()), u_level, "A", "glasses") for p, d in diffs.items()}
    return decide_parts(at_level.values(), at_union.values(), [region] * len(diffs)), at_level, at_union


def c7_verdict(per_composition: Mapping[str, Sequence[Mapping]], criteria: Mapping, level: float = DEFAULT_LEVEL,
               scale: Scale | None = None, source: str = "") -> Verdict:
    """C7 (module docstring). ``per_composition``: {composition: [per-replica li_s_shell.json
    dicts]}; ``criteria``: claims.C7 (margin_A, report_margins_A, min_li)."""
    margin, min_li = float(criteria["margin_A"]), int(criteria["min_li"])
    region = Region.within(margin, f"+-{margin:g} A (claims.C7.margin_A): {C7_REASON}")
    diffs, left_out = glass_differences(per_composition, "fitted_peak_A", min_li)
    verdict, at_level, at_union = equivalence_verdict(diffs, margin, level)
    n_glasses = sum(len(r) for r in per_composition.values())
    # the row shows the pair furthest from deciding "holds" (the largest reach beyond the margin)
    have = {p: i for p, i in at_level.items() if i is not None}

    def reach(i):
        return max(abs(i.low), abs(i.high))

    if verdict == DOES_NOT_HOLD:
        outside = {p: at_union[p] for p in at_union if decide(at_union[p], region) == DOES_NOT_HOLD}
        pair = max(outside, key=lambda p: min(abs(outside[p].low), abs(outside[p].high)))
        interval = outside[pair]
    elif have:
        pair = max(have, key=lambda p: reach(have[p]))
        # not tested: the pair's interval at the level its "does not hold" was tested at (it straddles
        # the margin there; the narrower interval at ``level`` may not, which would read as a contradiction)
        interval = have[pair] if verdict == HOLDS else at_union[pair]
    else:
        pair, interval = None, None
    if interval is not None:
        interval = Interval(interval.estimate, interval.low, interval.high, interval.level,
                            f"{pair}: {interval.method}", interval.unit)
    lines = []
    for comp, replicas in per_composition.items():
        reps = []
        for k, rep in enumerate(replicas):
            peaks = ", ".join(f"{a} {rep.get('fitted_peak_A', {}).get(a, float('nan')):.3f}"
                              for a in ANIONS if a in rep.get("anions", []))
            reps.append(f"r{k + 1} peak {peaks} A ({rep.get('n_li', '?')} Li, {rep.get('n_frames', '?')} frames, "
                        f"r_c {rep.get('r_cut_A', float('nan')):.2f} A)")
        lines.append(f"{comp}: " + "; ".join(reps))
    pair_text = "; ".join(f"{p} {'-' if i is None else i.text(3)} over {len(diffs[p])} glasses"
                          for p, i in at_level.items())
    at_margins = []
    for m in criteria.get("report_margins_A") or []:
        at_margins.append(f"+-{m:g} A: {equivalence_verdict(diffs, float(m), level)[0]}")
    sec_diffs, _ = glass_differences(per_composition, "mean_distance_A", min_li)
    sec_verdict, sec_level, _ = equivalence_verdict(sec_diffs, margin, level)
    sec_text = "; ".join(f"{p} {'-' if i is None else i.text(3)}" for p, i in sec_level.items())
    detail = (f"primary, g(r) peak differences (A): {pair_text}; verdict at margins " + ", ".join(at_margins)
              + f" | secondary, mean first-shell distance differences (A): {sec_text} -> {sec_verdict} at +-{margin:g} A"
              + " | per glass: " + " | ".join(lines))
    if left_out:
        detail += " | left out: " + "; ".join(f"{k} ({v})" for k, v in left_out.items())
    would, why = "", ""
    structured = {}
    if verdict != HOLDS:
        if interval is None:
            why = f"fewer than 2 glasses with both anion types of a pair ({n_glasses} glasses)"
            would = "at least 2 glasses (replicas) with every anion type touched by >= min_li Li"
        else:
            n = len(diffs[pair])
            sd = float(np.std(list(diffs[pair].values()), ddof=1))
            gap = abs(margin - abs(interval.estimate))
            if verdict == NOT_TESTED and gap > 0 and sd > 0:
                need = glasses_needed(sd, gap, level)
                per_comp = math.ceil(need / max(1, len(per_composition))) if need else None
                goal = (f"equivalence within +-{margin:g} A" if abs(interval.estimate) < margin
                        else f"a difference beyond +-{margin:g} A")
                would = (f"{pair}: spread of the per-glass differences {sd:.3g} A over {n} glasses; showing {goal} "
                         f"needs ~{need} glasses (~{per_comp} replicas per composition)")
            elif verdict == NOT_TESTED:
                would = f"{pair}: estimate on the margin; no study size decides it"
            else:
                would = (f"{pair} differs by more than {margin:g} A; overturned only if more glasses brought its "
                         f"interval within +-{margin:g} A")
            se = sd / math.sqrt(n)
            structured = {"effect": abs(interval.estimate), "effect_se": se, "threshold": margin,
                          "sample_size": n, "sample_unit": "glasses (replicas x compositions)"}
    return Verdict("C7", "difference of Li-S g(r) peak positions between anion types (worst pair), mean over glasses",
                   interval, region, "glass (replica)", scale or Scale(), detail=detail, source=source,
                   would_decide=would, verdict=verdict, why_not_tested=why, structured=structured)


# ---- C13 ------------------------------------------------------------------------------------

def peak_position(r: np.ndarray, g: np.ndarray, lo: float, hi: float) -> float:
    """Position (A) of the highest bin of g(r) within [lo, hi], refined by the vertex of the
    parabola through it and its neighbours (kept within half a bin); NaN without a peak."""
    r, g = np.asarray(r, float), np.asarray(g, float)
    window = np.flatnonzero((r >= lo) & (r <= hi))
    if not len(window) or not np.isfinite(g[window]).any() or np.nanmax(g[window]) <= 0:
        return float("nan")
    k = int(window[np.nanargmax(g[window])])
    if 0 < k < len(r) - 1:
        a, b, c = g[k - 1], g[k], g[k + 1]
        curv = a - 2 * b + c
        if curv < 0:
            offset = float(np.clip(0.5 * (a - c) / curv, -0.5, 0.5))
            return float(r[k] + offset * (r[k + 1] - r[k - 1]) / 2)
    return float(r[k])


def c13_parts(criteria: Mapping) -> dict[str, tuple[str, tuple[float, float], Region]]:
    """{part: (g(r) column, search window A, region)} of C13."""
    bond = tuple(float(v) for v in criteria["bond_region_A"])
    neigh = tuple(float(v) for v in criteria["p2s6_neighbour_region_A"])
    bond_region = Region(bond[0], bond[1], f"{bond[0]:g}-{bond[1]:g} A (claims.C13.bond_region_A): {C13_BOND_REASON}")
    parts = {f"P-S bond {a}": (f"g_P_S_{a}", P_S_BOND_WINDOW_A, bond_region) for a in ANIONS}
    parts["P2S6 P..S(neighbouring P)"] = ("g_P_S_P2S6", P2S6_NEIGHBOUR_WINDOW_A,
                                          Region(neigh[0], neigh[1], f"{neigh[0]:g}-{neigh[1]:g} A "
                                                 f"(claims.C13.p2s6_neighbour_region_A): {C13_NEIGHBOUR_REASON}"))
    return parts


def floored_interval(values: Sequence[float], level: float, min_half: float) -> Interval | None:
    """t-interval over the glasses' values with a half-width of at least ``min_half``."""
    i = t_interval(values, level, "A", "glasses")
    if i is None:
        return None
    half = max(i.high - i.estimate, min_half)
    method = i.method + (f", floored at half a bin ({min_half:g} A)" if half > i.high - i.estimate else "")
    return Interval(i.estimate, i.estimate - half, i.estimate + half, level, method, "A")


def c13_verdict(rdf_tables: Mapping[str, Sequence[Mapping[str, np.ndarray]]], criteria: Mapping,
                level: float = DEFAULT_LEVEL, scale: Scale | None = None, source: str = "") -> Verdict:
    """C13 (module docstring). ``rdf_tables``: {composition: [per-replica partial_rdf tables
    (``lipsglass.rdf.read_table``)]}; ``criteria``: claims.C13."""
    parts = c13_parts(criteria)
    peaks: dict[str, dict[str, float]] = {p: {} for p in parts}
    dr = []
    for comp, tables in rdf_tables.items():
        for k, t in enumerate(tables):
            r = np.asarray(t["r_A"], float)
            dr.append(float(np.median(np.diff(r))))
            for p, (col, (lo, hi), _) in parts.items():
                if col in t:
                    v = peak_position(r, t[col], lo, hi)
                    if np.isfinite(v):
                        peaks[p][glass_label(comp, k)] = v
    half_bin = 0.5 * max(dr) if dr else 0.0
    u_level = union_level(level, len(parts))
    at_level = {p: floored_interval(list(v.values()), level, half_bin) for p, v in peaks.items()}
    at_union = {p: floored_interval(list(v.values()), u_level, half_bin) for p, v in peaks.items()}
    regions = [parts[p][2] for p in parts]
    verdict = decide_parts(at_level.values(), at_union.values(), regions)

    def reach(p, i):
        reg = parts[p][2]
        return max(i.high - reg.high, reg.low - i.low)

    have = {p: i for p, i in at_level.items() if i is not None}
    if verdict == DOES_NOT_HOLD:
        out = {p: at_union[p] for p in parts if decide(at_union[p], parts[p][2]) == DOES_NOT_HOLD}
        pair = max(out, key=lambda p: reach(p, out[p]))
        interval = out[pair]
    elif have:
        pair = max(have, key=lambda p: reach(p, have[p]))
        interval = have[pair] if verdict == HOLDS else at_union[pair]  # as C7: the interval that decided
    else:
        pair, interval = None, None
    region = parts[pair][2] if pair else parts["P-S bond PS4"][2]
    if interval is not None:
        interval = Interval(interval.estimate, interval.low, interval.high, interval.level,
                            f"{pair}: {interval.method}", "A")
    part_text = "; ".join(f"{p} {'-' if i is None else i.text(3)} vs {parts[p][2].text('A')}: "
                          f"{decide(i, parts[p][2]) if i is not None else 'no interval'}" for p, i in at_level.items())
    per_glass = {}
    for p, vals in peaks.items():
        for g, v in vals.items():
            per_glass.setdefault(g, []).append(f"{p} {v:.3f}")
    detail = (f"{part_text} | per glass (A, bin {2 * half_bin:g} A): "
              + " | ".join(f"{g}: {', '.join(v)}" for g, v in per_glass.items()))
    would, why = "", ""
    if verdict != HOLDS:
        missing = [p for p, i in at_level.items() if i is None]
        if missing:
            why = f"fewer than 2 glasses with a peak for {', '.join(missing)}"
            would = "at least 2 glasses (replicas) containing every anion type"
        elif verdict == NOT_TESTED:
            would = (f"{pair}: interval {interval.text(3)} straddles {region.text('A')}; more replicas narrow the t part, "
                     f"a finer g(r) bin (structure.rdf_dr_A) the floor")
        else:
            would = f"{pair} lies outside {region.text('A')}; overturned only if more glasses moved it inside"
    return Verdict("C13", "P-S g(r) peak positions: first peak of each anion, P2S6 second peak (mean over glasses)",
                   interval, region, "glass (replica)", scale or Scale(), detail=detail, source=source,
                   would_decide=would, verdict=verdict, why_not_tested=why)


def structure_claims(rdf_tables: Mapping[str, Sequence[Mapping[str, np.ndarray]]],
                     li_s_shell: Mapping[str, Sequence[Mapping]] | None, criteria: Mapping, scale: Scale | None = None,
                     sources: Mapping[str, str] | None = None) -> list[Verdict]:
    """C7 (when ``li_s_shell`` is given) and C13; ``criteria``: the config's ``claims`` section."""
    level = float(criteria.get("level", DEFAULT_LEVEL))
    sources = sources or {}
    rows = []
    if li_s_shell is not None:
        rows.append(c7_verdict(li_s_shell, criteria["C7"], level, scale, sources.get("C7", "")))
    rows.append(c13_verdict(rdf_tables, criteria["C13"], level, scale, sources.get("C13", "")))
    return rows


# ---- calibration ----------------------------------------------------------------------------

C7_GLASS_SD_A = 0.015   # per-glass SD of an anion's Li-S peak position: the tiny test glass (41 Li, 2 replicas)
#                         gave a 0.044 A spread of the PS4-P2S6 difference, ~0.018 A scaled to 258 Li by sqrt(Li),
#                         i.e. ~0.013 A per anion; the t-interval's error rates do not depend on it, the power does
C7_SHARED_SD_A = 0.01   # part of a glass's deviation shared by its three anion types (cancels in differences)


def _c7_glasses(rng, means: Mapping[str, float], n_comp: int, k: int) -> dict[str, list[dict]]:
    out = {}
    for c in range(n_comp):
        reps = []
        for _ in range(k):
            shared = rng.normal(0, C7_SHARED_SD_A)
            peaks = {a: means[a] + shared + rng.normal(0, C7_GLASS_SD_A) for a in ANIONS}
            reps.append({"anions": list(ANIONS), "fitted_peak_A": peaks, "mean_distance_A": peaks,
                         "n_li_in_contact": {a: 100 for a in ANIONS}, "n_li": 258, "n_frames": 41, "r_cut_A": 3.3})
        out[f"c{c}"] = reps
    return out


def _c7_draws(rng, means, n_comp, k, n, level, margin) -> np.ndarray:
    crit = {"margin_A": margin, "min_li": 10}
    return np.array([c7_verdict(_c7_glasses(rng, means, n_comp, k), crit, level).verdict for _ in range(n)])


def calibrate_c7(seed: int = 0, n_draws: int = 400, level: float = DEFAULT_LEVEL) -> Calibration:
    """C7 on 5 compositions x 2 replicas (10 glasses), per-glass peak SD C7_GLASS_SD_A. False
    holds: P2S6 - PS4 exactly the margin, P2S7 midway; false does not hold: P2S7 the margin above
    both others (two pairs on the margin). Planted: equal distances (the paper's claim) at
    config/paper.yaml's 3 replicas."""
    rng = np.random.default_rng(seed)
    m = 0.02
    one = _c7_draws(rng, {"PS4": 2.45, "P2S7": 2.45 + m / 2, "P2S6": 2.45 + m}, 5, 2, n_draws, level, m)
    two = _c7_draws(rng, {"PS4": 2.45, "P2S7": 2.45 + m, "P2S6": 2.45}, 5, 2, n_draws, level, m)
    planted = _c7_draws(rng, {a: 2.45 for a in ANIONS}, 5, 3, n_draws, level, m)
    return Calibration("C7", "Li-S g(r) peak difference per anion pair", "glass (replica)", f"+-{m:g} A",
                       "largest pair on the margin (false holds) / two pairs on it (false does not hold); 5 x 2 "
                       f"glasses, peak SD {C7_GLASS_SD_A:g} A per glass",
                       "equal distances, 5 x 3 glasses", n_draws, (1 - level) / 2,
                       float(np.mean(one == HOLDS)), float(np.mean(two == DOES_NOT_HOLD)),
                       float(np.mean(planted == HOLDS)))


C13_GLASS_SD_A = 0.004  # per-glass SD of a P-S peak position (assumed)
C13_DR_A = 0.02         # g(r) bin of the simulated tables (structure.rdf_dr_A)
C13_PAPER = {"g_P_S_PS4": 2.09, "g_P_S_P2S7": 2.05, "g_P_S_P2S6": 2.07, "second": 3.65}


def _c13_tables(rng, centres: Mapping[str, float], n_comp: int, k: int) -> dict[str, list[dict]]:
    r = np.arange(0.01, 5.0, C13_DR_A)

    def peak(x0, width, height):
        return height * np.exp(-0.5 * ((r - x0) / width) ** 2)

    out = {}
    for c in range(n_comp):
        tables = []
        for _ in range(k):
            t = {"r_A": r}
            for col in ("g_P_S_PS4", "g_P_S_P2S7", "g_P_S_P2S6"):
                g = peak(centres[col] + rng.normal(0, C13_GLASS_SD_A), 0.04, 100.0)
                if col == "g_P_S_P2S6":
                    g = g + peak(centres["second"] + rng.normal(0, C13_GLASS_SD_A), 0.1, 15.0)
                t[col] = g * (1 + rng.normal(0, 0.02, len(r)))
            tables.append(t)
        out[f"c{c}"] = tables
    return out


def _c13_draws(rng, centres, n_comp, k, n, level, criteria) -> np.ndarray:
    return np.array([c13_verdict(_c13_tables(rng, centres, n_comp, k), criteria, level).verdict for _ in range(n)])


def calibrate_c13(seed: int = 0, n_draws: int = 300, level: float = DEFAULT_LEVEL) -> Calibration:
    """C13 on 5 compositions x 2 replicas of simulated g(r) tables (Gaussian peaks on a 0.02 A
    grid with 2 % noise, per-glass peak SD C13_GLASS_SD_A). False holds: the PS4 bond peak on
    the upper edge (2.2 A), the rest at the paper's values; false does not hold: every part on
    an edge. Planted: the paper's values (2.05-2.09, 3.65 A) at 3 replicas."""
    rng = np.random.default_rng(seed)
    criteria = {"bond_region_A": [2.0, 2.2], "p2s6_neighbour_region_A": [3.4, 3.8]}
    one = _c13_draws(rng, {**C13_PAPER, "g_P_S_PS4": 2.2}, 5, 2, n_draws, level, criteria)
    edges = {"g_P_S_PS4": 2.2, "g_P_S_P2S7": 2.0, "g_P_S_P2S6": 2.2, "second": 3.8}
    every = _c13_draws(rng, edges, 5, 2, n_draws, level, criteria)
    planted = _c13_draws(rng, C13_PAPER, 5, 3, n_draws, level, criteria)
    return Calibration("C13", "P-S g(r) peak positions (4 parts)", "glass (replica)", "2.0-2.2 A; 3.4-3.8 A",
                       "one part on its edge (false holds) / every part on an edge (false does not hold); 5 x 2 "
                       f"glasses, 0.02 A bins, peak SD {C13_GLASS_SD_A:g} A", "the paper's peaks, 5 x 3 glasses",
                       n_draws, (1 - level) / 2, float(np.mean(one == HOLDS)), float(np.mean(every == DOES_NOT_HOLD)),
                       float(np.mean(planted == HOLDS)))


CALIBRATIONS = {"C7": calibrate_c7, "C13": calibrate_c13}
