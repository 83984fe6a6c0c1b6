"""Claims C1, C2 (transport), C7 and C13 (structure) as first decided (to be moved to their own modules).

The paper's claims (config/paper_claims.yaml) tested against this study's outputs, and the
reproduction scorecard that gathers them.

Every stage that tests claims writes rows with the columns of :data:`CLAIM_COLUMNS`:
``verdict`` is one of :data:`VERDICTS`, ``measured`` states the numbers with their
uncertainties, ``criterion`` the rule applied, ``source`` the rule output the numbers come from;
optionally the :data:`STRUCTURED_COLUMNS` the study plan sizes an undecided claim from.
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path

import numpy as np
import yaml
from scipy import stats

from lipsglass.claims.scorecard import load_json  # noqa: F401


# ---- transport: C1, C2 ------------------------------------------------------------------------

C1_ALPHA = 0.05        # two-sided significance of the Ea-vs-P2S6 trend (z = 1.96)
C1_POWER = 0.80        # power at which the minimum detectable Ea change is reported
C1_MIN_CHI2_P = 0.01   # an Arrhenius fit with chi2 p-value below this rejects the Arrhenius form
C2_LEVEL = 0.95        # interval of log10 sigma(300 K) compared with the experimental span


def _fmt_p(p):
    return "n/a" if p is None else f"{p:.3g}"


def _fit_range(a: dict) -> tuple[float, float] | None:
    rng = a.get("fit_T_range_K")
    if rng and len(rng) == 2 and rng[0] is not None and rng[1] is not None:
        return float(rng[0]), float(rng[1])
    temps = a.get("temperatures_used_K") or []
    return (float(min(temps)), float(max(temps))) if temps else None


def _weighted_slope(x: np.ndarray, y: np.ndarray, se: np.ndarray) -> tuple[float, float, float, int]:
    """Weighted least-squares slope of y on x with known standard errors: (slope, SE, chi2, dof)."""
    w = 1.0 / se ** 2
    X = np.column_stack([np.ones(len(x)), x])
    cov = np.linalg.inv(X.T @ (X * w[:, None]))
    beta = cov @ X.T @ (w * y)
    chi2 = float(np.sum(w * (y - X @ beta) ** 2))
    return float(beta[1]), float(np.sqrt(cov[1, 1])), chi2, len(x) - 2


def c1_claim(arrhenius: dict[str, dict], p2s6_fraction: dict[str, float], source: str,
             alpha: float = C1_ALPHA, power: float = C1_POWER, min_chi2_p: float = C1_MIN_CHI2_P) -> dict:
    """C1: "D(T) is Arrhenius; Ea falls as the P2S6 content falls" (Ea rises with the P2S6
    fraction of P), for the glasses.

    A glass has a fit when status is 'ok' (or absent) with Ea and a positive Ea SE from >= 3
    temperatures. Only fits with ``phase_of_fit`` 'glass' (or unstated: taken as glass, and said
    so) test this glass claim; 'liquid' and 'mixed' fits describe the supercooled liquid (or an
    effective Ea across Tg) and are reported, not used. Verdicts, in this order:

    * does not hold (Arrhenius form rejected): a glass-phase fit has chi2 p-value < min_chi2_p;
    * not tested (fewer than 3 glasses with a fit): names each glass without one and why;
    * holds (trend resolved in the paper's direction): weighted slope of Ea on the P2S6 fraction
      > z SE, z = z_{1-alpha/2};
    * does not hold (trend resolved the other way): slope < -z SE;
    * not tested (trend unresolved): |slope| <= z SE; the minimum detectable Ea change over the
      studied P2S6 range, MDE = (z_{1-alpha/2} + z_power) SE(slope) (x_max - x_min), is reported.
    The slope SE treats the Ea SEs as known (weights 1/SE^2); the residual chi2 is reported.
    """
    z = float(stats.norm.ppf(1 - alpha / 2))
    z_pow = float(stats.norm.ppf(power))
    glasses = sorted(arrhenius, key=lambda g: p2s6_fraction[g])
    lacking, fitted = [], []
    for g in glasses:
        a = arrhenius[g]
        n_t = len(a.get("temperatures_used_K") or [])
        ea, se = a.get("Ea_eV"), a.get("Ea_stderr_eV")
        if a.get("status", "ok") != "ok":
            lacking.append(f"{g} (status {a.get('status')}: {a.get('reason', 'no reason given')})")
        elif ea is None or se is None or not np.isfinite(ea) or not np.isfinite(se) or se <= 0:
            lacking.append(f"{g} (no Ea with a positive standard error)")
        elif n_t < 3:
            lacking.append(f"{g} (only {n_t} temperature(s) in the fit; needs >= 3 for a chi2 test of the "
                           "Arrhenius form)")
        else:
            fitted.append(g)
    phase = {g: arrhenius[g].get("phase_of_fit") or "unstated" for g in glasses}
    glass_fits = [g for g in fitted if phase[g] in ("glass", "unstated")]
    other_fits = [g for g in fitted if phase[g] not in ("glass", "unstated")]
    for g in other_fits:
        lacking.append(f"{g} (fit covers {phase[g]} runs, phase_of_fit = {phase[g]!r}: not a glass Ea)")
    pvals = {g: float(stats.chi2.sf(arrhenius[g]["chi2"], arrhenius[g]["dof"]))
             if arrhenius[g].get("chi2") is not None and (arrhenius[g].get("dof") or 0) > 0 else None
             for g in glasses}

    def describe(gs):
        parts = []
        for g in gs:
            a = arrhenius[g]
            rng = _fit_range(a)
            parts.append(f"{g} (P2S6 {p2s6_fraction[g]:.3f} of P): Ea = {a['Ea_eV']:.3f} +- {a['Ea_stderr_eV']:.3f} eV"
                         f" over {rng[0]:.0f}-{rng[1]:.0f} K ({len(a.get('temperatures_used_K') or [])} T, "
                         f"phase {phase[g]}, chi2 p = {_fmt_p(pvals[g])})" if rng else
                         f"{g}: Ea = {a['Ea_eV']:.3f} +- {a['Ea_stderr_eV']:.3f} eV")
        return "; ".join(parts)

    def trend(gs):
        x = np.array([p2s6_fraction[g] for g in gs])
        y = np.array([arrhenius[g]["Ea_eV"] for g in gs], float)
        e = np.array([arrhenius[g]["Ea_stderr_eV"] for g in gs], float)
        slope, slope_se, chi2, dof = _weighted_slope(x, y, e)
        span = float(x.max() - x.min())
        mde = (z + z_pow) * slope_se * span
        return slope, slope_se, chi2, dof, span, mde

    def trend_text(gs, label):
        if len(gs) < 3 or len({p2s6_fraction[g] for g in gs}) < 2:
            return ""
        slope, slope_se, chi2, dof, span, mde = trend(gs)
        return (f"{label}: dEa/d(P2S6 fraction of P) = {slope:+.3f} +- {slope_se:.3f} eV "
                f"(slope/SE = {slope / slope_se:+.2f}, residual chi2 = {chi2:.2f} on {dof} dof); "
                f"minimum detectable Ea change over the studied P2S6 range {span:.3f} = {mde:.3f} eV "
                f"({power:.0%} power, alpha = {alpha:g} two-sided)")

    criterion = (f"holds: weighted slope of Ea on the P2S6 fraction of P > {z:.2f} SE (alpha = {alpha:g} two-sided) "
                 f"with glass-phase Arrhenius fits (>= 3 temperatures, chi2 p >= {min_chi2_p:g}) for >= 3 glasses; "
                 f"does not hold: slope < -{z:.2f} SE, or a glass's Arrhenius fit rejected (chi2 p < {min_chi2_p:g}); "
                 f"not tested: |slope| <= {z:.2f} SE (minimum detectable effect at {power:.0%} power reported) or "
                 "fewer than 3 glasses with a glass-phase fit")
    row = {"claim": "C1", "criterion": criterion, "source": source}
    liquid_note = ""
    if other_fits:
        liquid_note = ("; fits covering supercooled-liquid runs (about the supercooled liquid, not the glass): "
                       + describe(other_fits))
        lt = trend_text(fitted, "trend over all fits incl. supercooled liquid")
        liquid_note += ("; " + lt) if lt else ""
    unstated = [g for g in glass_fits if phase[g] == "unstated"]
    unstated_note = (f"; phase_of_fit not stated for {', '.join(unstated)}: taken as glass" if unstated else "")
    rejected = [g for g in glass_fits if pvals[g] is not None and pvals[g] < min_chi2_p]
    if rejected:
        row.update(verdict="does not hold", measured=(
            "Arrhenius form rejected: " + ", ".join(f"{g} chi2 = {arrhenius[g]['chi2']:.2f} on {arrhenius[g]['dof']} dof, "
                                                  f"p = {pvals[g]:.2g} < {min_chi2_p:g}" for g in rejected)
            + "; " + describe(glass_fits) + unstated_note + liquid_note))
        return row
    if len(glass_fits) < 3 or len({p2s6_fraction[g] for g in glass_fits}) < 2:
        have = describe(glass_fits) or "none"
        row.update(verdict="not tested", measured=(
            f"fewer than 3 glasses with a glass-phase Arrhenius fit ({len(glass_fits)}): lacking "
            + ("; ".join(lacking) if lacking else "distinct P2S6 fractions") + f"; fitted glasses: {have}"
            + unstated_note + liquid_note))
        return row
    slope, slope_se, chi2, dof, span, mde = trend(glass_fits)
    base = describe(glass_fits) + "; " + trend_text(glass_fits, "glasses") + unstated_note + liquid_note
    if lacking:
        base += "; left out: " + "; ".join(lacking)
    if slope > z * slope_se:
        row.update(verdict="holds", measured="trend resolved in the paper's direction (Ea rises with P2S6): " + base)
    elif slope < -z * slope_se:
        row.update(verdict="does not hold", measured="trend resolved against the paper (Ea falls with P2S6): " + base)
    else:
        row.update(verdict="not tested", measured=(
            f"trend unresolved (|slope| <= {z:.2f} SE): these data detect only an Ea change >= {mde:.3f} eV across "
            f"P2S6 fractions {min(p2s6_fraction[g] for g in glass_fits):.3f}-{max(p2s6_fraction[g] for g in glass_fits):.3f}; "
            + base))
    return row


def _experimental_glass_span(experimental_csv: str | Path) -> tuple[float, float]:
    with open(experimental_csv) as fh:
        exp = [r for r in csv.DictReader(line for line in fh if not line.startswith("#"))]
    values = np.array([float(r["sigma_S_cm"]) for r in exp if r["kind"] == "glass"])
    if not len(values):
        raise ValueError(f"{experimental_csv}: no rows of kind 'glass'")
    return float(values.min()), float(values.max())


def c2_claim(arrhenius: dict[str, dict], experimental_csv: str | Path, source: str, level: float = C2_LEVEL,
             T_K: float = 300.0) -> dict:
    """C2: Nernst-Einstein sigma(300 K) within the range of experimental 70Li2S-30P2S5 glasses.

    Compared on log10 sigma: each glass's interval log10 sigma +- z SE(ln sigma) / ln 10 (z for
    ``level``; SE(ln sigma) = ``sigma_300K_ln_stderr`` or, without it, SE(sigma)/sigma) against
    [log10 min, log10 max] of the experimental values of kind 'glass' (glass-ceramics are not
    used). Per glass: 'inside' (interval within the span), 'overlapping' (partly inside),
    'outside' (entirely above or below). holds: no glass outside (each stated inside or
    overlapping); does not hold: some glass outside; not tested: a glass without sigma(300 K)
    and none outside. 300 K below the fit's temperature range (``fit_T_range_K``, else
    temperatures_used_K) is an extrapolation: stated with its distance in K and in 1000/T.
    """
    z = float(stats.norm.ppf(0.5 + level / 2))
    lo, hi = _experimental_glass_span(experimental_csv)
    llo, lhi = np.log10(lo), np.log10(hi)
    parts, states, missing = [], {}, []
    for g in sorted(arrhenius):
        a = arrhenius[g]
        s, se = a.get("sigma_300K_S_cm"), a.get("sigma_300K_stderr_S_cm")
        ln_se = a.get("sigma_300K_ln_stderr")
        if ln_se is None and s is not None and se is not None and s > 0:
            ln_se = se / s
        if s is None or not s > 0 or ln_se is None or not np.isfinite(ln_se):
            missing.append(g)
            parts.append(f"{g}: no sigma(300 K) ({a.get('status', 'no fit')}: {a.get('reason', 'no value')})")
            continue
        c = np.log10(s)
        half = z * ln_se / np.log(10)
        a_lo, a_hi = c - half, c + half
        if a_hi < llo or a_lo > lhi:
            state = "outside (below)" if a_hi < llo else "outside (above)"
        elif a_lo >= llo and a_hi <= lhi:
            state = "inside"
        else:
            state = "overlapping"
        states[g] = state
        text = (f"{g}: sigma = {s:.3g} S/cm, log10 sigma = {c:.2f} [{a_lo:.2f}, {a_hi:.2f}] ({level:.0%}), {state}")
        rng = _fit_range(a)
        if rng is not None and not rng[0] <= T_K <= rng[1]:
            edge = rng[0] if T_K < rng[0] else rng[1]
            text += (f"; extrapolated: {T_K:.0f} K lies {abs(edge - T_K):.0f} K {'below' if T_K < edge else 'above'} "
                     f"the fitted {rng[0]:.0f}-{rng[1]:.0f} K ({1000 / T_K - 1000 / edge:+.2f} in 1000/T beyond a fitted "
                     f"span of {1000 / rng[0] - 1000 / rng[1]:.2f})")
        elif rng is None:
            text += "; fit temperature range unknown"
        phase = a.get("phase_of_fit")
        if phase and phase != "glass":
            text += f"; fit over {phase} runs: the extrapolation crosses the glass transition"
        parts.append(text)
    outside = [g for g, st in states.items() if st.startswith("outside")]
    if outside:
        verdict = "does not hold"
    elif missing:
        verdict = "not tested"
    else:
        verdict = "holds"
    measured = (f"sigma(300 K, Nernst-Einstein, Haven ratio 1): " + "; ".join(parts)
                + f"; experimental glasses {lo:.2g}-{hi:.2g} S/cm (log10 {llo:.2f} to {lhi:.2f})")
    criterion = (f"{level:.0%} interval of log10 sigma(300 K) of each glass (from SE of ln sigma) against the log10 span "
                 "of experimental glass conductivities: holds if every interval is inside or overlaps it (stated per "
                 "glass), does not hold if any interval lies entirely outside, not tested if a glass has no sigma")
    return {"claim": "C2", "verdict": verdict, "measured": measured, "criterion": criterion, "source": source}


def transport_claims(arrhenius: dict[str, dict], p2s6_fraction: dict[str, float],
                     experimental_csv: str | Path, sources: dict[str, str], alpha: float = C1_ALPHA,
                     power: float = C1_POWER, min_chi2_p: float = C1_MIN_CHI2_P,
                     c2_level: float = C2_LEVEL) -> list[dict]:
    """C1 (:func:`c1_claim`) and C2 (:func:`c2_claim`) from composition-level Arrhenius dicts
    (one per glass composition, combined over replicas): keys Ea_eV, Ea_stderr_eV, status,
    temperatures_used_K, chi2, dof, sigma_300K_S_cm, sigma_300K_stderr_S_cm and optionally
    sigma_300K_ln_stderr, fit_T_range_K [Tmin, Tmax], phase_of_fit ('glass'/'liquid'/'mixed')."""
    glasses = sorted(arrhenius, key=lambda g: p2s6_fraction[g])
    source = "; ".join(str(sources[g]) for g in glasses)
    c1 = c1_claim(arrhenius, p2s6_fraction, source, alpha, power, min_chi2_p)
    notes = run_phase_notes({g: arrhenius[g] for g in glasses})
    if notes:
        c1 = dict(c1, measured=f"{c1['measured']}; {notes}")
    return [c1, c2_claim(arrhenius, experimental_csv, source, c2_level)]


def run_phase_notes(arrhenius: dict[str, dict]) -> str:
    """What the scorecard says about the runs behind C1/C2: the glass/liquid label of every
    temperature of every composition (with the replicas' count of glassy runs), and for glassy
    temperatures the Arrhenius fit could not use, the production length that would resolve them
    (``run_length_needed`` of the composition's arrhenius.json)."""
    parts = []
    for glass, a in arrhenius.items():
        temps = a.get("temperatures") or []
        if not temps:
            continue
        labels = ", ".join(f"{t['temperature_K']:g} K {t['phase']}"
                           + ("" if t["phase"] in ("glass", "liquid") else f" ({t['n_glass_runs']}/{t['n_replicas']} glass)")
                           for t in temps)
        text = f"{glass} runs: {labels}"
        needs = []
        for row in a.get("run_length_needed") or []:
            if row.get("duration_ps") is not None:
                needs.append(f"{row['T_K']:g} K needs ~{row['duration_ps']:.0f} ps of production "
                             f"(now {row.get('current_duration_ps') or 0:g} ps)")
            else:
                needs.append(f"{row['T_K']:g} K: no length estimate ({row.get('reason', 'n/a')})")
        if needs:
            text += "; unresolved glassy temperatures: " + "; ".join(needs)
        parts.append(text)
    return " | ".join(parts)


# ---- structure: C13 -------------------------------------------------------------------------

def _peak_position(r: np.ndarray, g: np.ndarray, lo: float, hi: float) -> float:
    window = (r >= lo) & (r <= hi)
    if not window.any() or not np.isfinite(g[window]).any() or g[window].max() <= 0:
        return float("nan")
    return float(r[window][np.nanargmax(g[window])])


def structure_claims(rdf_tables: dict[str, dict[str, np.ndarray]], sources: dict[str, str]) -> list[dict]:
    """C13: P-S bonds ~2.1 A in all three anions; in P2S6 the P to S-on-the-neighbouring-P
    distance lies in 3.4-3.8 A. Criterion: first P-S peak of every anion within 2.0-2.2 A in every
    glass, and the second P-S peak of P2S6 (3.0-4.2 A search window) within 3.4-3.8 A."""
    parts, ok = [], True
    for glass, t in rdf_tables.items():
        r = t["r_A"]
        first = {a: _peak_position(r, t[f"g_P_S_{a}"], 1.8, 2.6) for a in ("PS4", "P2S7", "P2S6")
                 if f"g_P_S_{a}" in t}
        second = _peak_position(r, t["g_P_S_P2S6"], 3.0, 4.2) if "g_P_S_P2S6" in t else float("nan")
        ok &= all(2.0 <= v <= 2.2 for v in first.values()) and len(first) == 3 and 3.4 <= second <= 3.8
        parts.append(f"{glass}: P-S peak " + ", ".join(f"{a} {v:.2f} A" for a, v in first.items())
                     + f"; P2S6 P..S(neighbouring P) {second:.2f} A")
    return [{"claim": "C13", "verdict": "holds" if ok else "does not hold", "measured": "; ".join(parts),
             "criterion": "first P-S g(r) peak of each anion in 2.0-2.2 A, P2S6 second P-S peak in 3.4-3.8 A "
                          "(bin width of the g(r) tables)",
             "source": "; ".join(sources.values())}]


# ---- structure: C7 (Li-S distances by anion type) -------------------------------------------

def c7_claim(per_composition, margin_A: float, level: float = 0.90, n_bootstrap: int = 2000, seed: int = 0,
             source: str = "", min_li: int = 10) -> dict:
    """C7: "Li-S distances do not differ between the three anion types PS4, P2S7, P2S6", as an
    equivalence test on the mean first-shell Li-S distance per anion type
    (:mod:`lipsglass.li_s_shell`). per_composition: {composition: [per-replica dicts of
    ``li_s_shell_job`` / ``measure_frames``]}; margin_A: equivalence margin (A); level: interval
    level (0.90 = two one-sided tests at 5 %). Returns a claim row (CLAIM_COLUMNS) plus
    ``details`` (the numbers of :func:`lipsglass.li_s_shell.c7_evaluation`)."""
    from lipsglass.li_s_shell import c7_evaluation

    ev = c7_evaluation(per_composition, margin_A, level, n_bootstrap, seed, min_li)
    parts = []
    for comp, res in ev["compositions"].items():
        K = res["n_replicas"]
        head = (f"{comp} ({K} replica{'s' if K != 1 else ''}, frames {res['n_frames']}, Li {res['n_li']}, "
                f"r_c {'/'.join(f'{r:g}' for r in res['r_cut_A'])} A)")
        means = ", ".join(f"{a} {res['mean_A'][a]:.3f}" for a in res["anions"])
        peaks = ", ".join(f"{a} {res['fitted_peak_A'][a]:.3f}" for a in res["anions"]
                          if np.isfinite(res["fitted_peak_A"][a]))
        diffs = "; ".join(f"{name} {d['estimate_A']:+.3f} [{d['ci_low_A']:+.3f}, {d['ci_high_A']:+.3f}] A: {d['decision']}"
                          + (f" ({d['why']})" if d["decision"] == "undecided" else "")
                          for name, d in res["differences"].items())
        text = f"{head}: mean first-shell Li-S distance {means} A"
        if peaks:
            text += f" (fitted g(r)-peak {peaks} A)"
        text += f"; {diffs or 'fewer than two anion types to compare'}"
        if res["excluded_anions"]:
            text += "; left out: " + ", ".join(f"{a} ({why})" for a, why in res["excluded_anions"].items())
        if K == 1:
            text += "; one replica: interval covers sampling within this glass realisation only"
        parts.append(text + f" -> {res['verdict']}")
    criterion = (f"equivalence test (TOST-like) of the mean first-shell Li-S distance (Li-S pairs within r_c, the Li-S "
                 f"first minimum) between anion types: {level:.0%} bootstrap interval (replicas, then Li and frames "
                 f"resampled independently) of every pairwise difference inside +-{margin_A:g} A: holds; an interval "
                 f"entirely outside +-{margin_A:g} A: does not hold; otherwise not tested (half-width needed stated)")
    return {"claim": "C7", "verdict": ev["verdict"], "measured": "; ".join(parts) or "no compositions",
            "criterion": criterion, "source": source, "details": ev}


