"""Claims C1 and C2 (transport) decided from the composition-level Arrhenius fits
(``results/{glass}/transport/arrhenius.json``, every glass replica combined).

**C1** "D(T) is Arrhenius; Ea falls as the P2S6 content falls". Estimand: the slope of the
glass-phase activation energy on the P2S6 fraction of P (eV per unit fraction), over the
compositions. Region: above ``claims.C1.margin_eV_per_fraction`` (a rise of Ea too small to
change D(300 K) visibly is not the paper's trend). Each composition's Ea comes with a standard
error combined from its replicas (``lipsglass.replicas``: the between-replica SE, floored by the
propagated within-replica SE), so it carries replicas - 1 degrees of freedom. The slope is the
unweighted least-squares slope over the compositions (weights from SEs estimated with 1-2
degrees of freedom would be noise themselves); its interval is the wider of

* the propagated one: SE^2 = sum c_i^2 SE_i^2 (c_i the slope's coefficients), t with the
  Welch-Satterthwaite degrees of freedom of the replica SEs (replicas - 1 each), and
* the residual one: the scatter of the compositions about the line, t with n - 2 degrees of
  freedom (composition-level deviations from a straight line, which no replica SE contains).

The "Arrhenius form" part is reported, not decided: with 2-4 glassy temperatures over a narrow
1/T span, the interval of any curvature of ln D(1/T) is far wider than a curvature that would
matter, and the paper's Ea is defined by its Arrhenius fit. Each fit's chi2, dof and p-value are
in the detail, flagged when the scatter about the line exceeds its standard errors.

**C2** "conductivities fall within the range of experimental 70Li2S-30P2S5 glasses". Estimand
per glass: log10 sigma_NE(300 K) (S/cm). Region: the span of the experimental glasses
(``config/experimental_conductivity.csv``, kind 'glass'), widened by ``claims.C2.margin_decades``
on each side. Holds when every glass's interval (t, replicas - 1 degrees of freedom) lies inside;
does not hold when some glass's interval at the Bonferroni level over the glasses
(:func:`lipsglass.claims.verdict.union_level`) lies entirely outside; otherwise not tested.

``CALIBRATIONS``: the error rates of both decision rules on simulated compositions and replicas.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping

import numpy as np
from scipy import stats

from lipsglass.claims.calibration import Calibration
from lipsglass.claims.verdict import (DEFAULT_LEVEL, DOES_NOT_HOLD, HOLDS, NOT_TESTED, Interval, Region, Scale,
                                      Verdict, decide, decide_parts, se_interval, union_level)
from lipsglass.core.tables import read_rows

C1_UNIT = "eV per unit P2S6 fraction of P"
C1_REASON = ("a rise of Ea by the margin x 0.2 (the studied P2S6 range 0.05-0.25 of P) changes D(300 K) by "
             "exp(0.01 eV / k_B 300 K) = 1.5x at the default margin 0.05: the smallest change Fig. 2B's log axis shows; "
             "the paper states a direction, so the region is one-sided")
C2_UNIT = "log10(S/cm)"
C2_REASON = ("the experimental glass span (kind 'glass') widened by the margin on each side: its values are "
             "abstract-level, 'on the order of 0.1 mS/cm', known to about half a decade")


def _fmt_p(p):
    return "n/a" if p is None else f"{p:.3g}"


def _fit_range(a: Mapping) -> tuple[float, float] | None:
    rng = a.get("fit_T_range_K")
    if rng and len(rng) == 2 and rng[0] is not None and rng[1] is not None:
        return float(rng[0]), float(rng[1])
    temps = a.get("temperatures_used_K") or []
    return (float(min(temps)), float(max(temps))) if temps else None


def replica_dof(a: Mapping) -> int | None:
    """Degrees of freedom of a composition-level SE combined from ``a['replicas']`` replicas
    (None with one replica: its SE is the within-replica one, taken as known)."""
    k = int(a.get("replicas") or 1)
    return k - 1 if k >= 2 else None


def _t(level: float, dof: float | None) -> float:
    return float(stats.norm.ppf(0.5 + level / 2) if dof is None or not math.isfinite(dof)
                 else stats.t.ppf(0.5 + level / 2, dof))


# ---- C1 -------------------------------------------------------------------------------------

def glass_ea(a: Mapping) -> tuple[float, float] | str:
    """(Ea, SE) eV of a composition's glass-phase Arrhenius fit, or why there is none."""
    n_t = len(a.get("temperatures_used_K") or [])
    ea, se = a.get("Ea_eV"), a.get("Ea_stderr_eV")
    if a.get("status", "ok") != "ok":
        return f"status {a.get('status')}: {a.get('reason', 'no reason given')}"
    if ea is None or se is None or not np.isfinite(ea) or not np.isfinite(se) or se <= 0:
        return "no Ea with a positive standard error"
    if n_t < 2:
        return f"only {n_t} temperature(s) in the fit"
    phase = a.get("phase_of_fit")
    if phase not in (None, "glass"):
        return f"fit covers {phase} runs (phase_of_fit = {phase!r}): not a glass Ea"
    return float(ea), float(se)


def slope_interval(x, y, se, dof, level: float = DEFAULT_LEVEL) -> tuple[Interval, dict] | None:
    """Unweighted least-squares slope of ``y`` on ``x`` with the interval of the module docstring:
    the wider of the propagated (``se`` with ``dof`` each, Welch-Satterthwaite; None = known) and
    the residual (t, n - 2) intervals. None with fewer than 3 points or fewer than 2 distinct x."""
    x, y, se = (np.asarray(v, float) for v in (x, y, se))
    n = len(x)
    if n < 3 or len(np.unique(x)) < 2:
        return None
    xc = x - x.mean()
    sxx = float(np.sum(xc ** 2))
    c = xc / sxx
    slope = float(np.sum(c * y))
    resid = y - (y.mean() + slope * xc)
    terms = c ** 2 * se ** 2
    var_prop = float(np.sum(terms))
    dofs = np.array([np.inf if d is None else float(d) for d in dof])
    denom = float(np.sum(terms ** 2 / dofs))
    dof_prop = var_prop ** 2 / denom if denom > 0 else None
    se_prop = math.sqrt(var_prop)
    se_res = math.sqrt(float(np.sum(resid ** 2)) / (n - 2) / sxx)
    half_prop, half_res = _t(level, dof_prop) * se_prop, _t(level, n - 2) * se_res
    chi2 = float(np.sum(resid ** 2 / se ** 2))
    if half_res > half_prop:
        half, se_used, dof_used = half_res, se_res, n - 2
        method = f"OLS over {n} compositions, residual scatter (t, {n - 2} dof; chi2/dof = {chi2 / (n - 2):.2f})"
    else:
        half, se_used, dof_used = half_prop, se_prop, dof_prop
        dtext = "normal" if dof_prop is None else f"t, {dof_prop:.1f} dof"
        method = f"OLS over {n} compositions, replica SEs propagated ({dtext}, Welch-Satterthwaite)"
    info = {"slope": slope, "se_propagated": se_prop, "dof_propagated": dof_prop, "se_residual": se_res,
            "dof_residual": n - 2, "half_propagated": half_prop, "half_residual": half_res, "chi2": chi2,
            "se": se_used, "dof": dof_used, "deciding": "residual" if half_res > half_prop else "propagated"}
    return Interval(slope, slope - half, slope + half, level, method, C1_UNIT), info


def arrhenius_form_text(a: Mapping) -> str:
    """The fit's chi2 diagnostic (reported, not decided)."""
    chi2, dof = a.get("chi2"), a.get("dof") or 0
    if chi2 is None or dof <= 0:
        return "form not checkable (2 temperatures)"
    p = float(stats.chi2.sf(chi2, dof))
    flag = "; scatter beyond the SEs" if p < 0.05 else ""
    return f"chi2 {chi2:.2f} on {dof} dof, p = {_fmt_p(p)}{flag}"


def run_phase_notes(arrhenius: Mapping[str, Mapping]) -> str:
    """The glass/liquid label of every temperature of every composition (with the replicas'
    count of glassy runs), and for glassy temperatures the Arrhenius fit could not use, the
    production length that would resolve them (``run_length_needed`` of arrhenius.json)."""
    parts = []
    for glass, a in arrhenius.items():
        temps = a.get("temperatures") or []
        if not temps:
            continue
        labels = ", ".join(f"{t['temperature_K']:g} K {t['phase']}"
                           + ("" if t["phase"] in ("glass", "liquid") else f" ({t['n_glass_runs']}/{t['n_replicas']} glass)")
                           for t in temps)
        text = f"{glass} runs: {labels}"
        needs = run_length_text(a)
        if needs:
            text += "; unresolved glassy temperatures: " + needs
        parts.append(text)
    return " | ".join(parts)


def run_length_text(a: Mapping) -> str:
    needs = []
    for row in a.get("run_length_needed") or []:
        if row.get("duration_ps") is not None:
            needs.append(f"{row['T_K']:g} K needs ~{row['duration_ps']:.0f} ps of production "
                         f"(now {row.get('current_duration_ps') or 0:g} ps)")
        else:
            needs.append(f"{row['T_K']:g} K: no length estimate ({row.get('reason', 'n/a')})")
    return "; ".join(needs)


def c1_verdict(arrhenius: Mapping[str, Mapping], p2s6_fraction: Mapping[str, float], criteria: Mapping,
               level: float = DEFAULT_LEVEL, scale: Scale | None = None, source: str = "") -> Verdict:
    """C1 (module docstring). ``criteria``: claims.C1 (margin_eV_per_fraction, min_glasses)."""
    margin, min_glasses = float(criteria["margin_eV_per_fraction"]), int(criteria["min_glasses"])
    region = Region.above(margin, f"{margin:g} {C1_UNIT} (claims.C1.margin_eV_per_fraction): {C1_REASON}")
    glasses = sorted(arrhenius, key=lambda g: p2s6_fraction[g])
    fitted, lacking = {}, {}
    for g in glasses:
        got = glass_ea(arrhenius[g])
        if isinstance(got, str):
            lacking[g] = got
        else:
            fitted[g] = got
    per_glass = []
    for g in glasses:
        a = arrhenius[g]
        head = f"{g} (P2S6 {p2s6_fraction[g]:.3f} of P, {a.get('replicas', 1)} replicas)"
        if g in fitted:
            rng = _fit_range(a)
            ea, se = fitted[g]
            reps = (a.get("per_replica_Ea") or {}).get("values") or []
            rep_text = ("; replica fits " + ", ".join("-" if v is None else f"{v:.3f}" for v in reps) + " eV"
                        if reps else "")
            unstated = "" if a.get("phase_of_fit") else ", phase not stated: taken as glass"
            per_glass.append(f"{head}: Ea {ea:.3f} +- {se:.3f} eV (SE, {replica_dof(a) or 'known'} dof) over "
                             f"{rng[0]:.0f}-{rng[1]:.0f} K ({len(a.get('temperatures_used_K') or [])} T{unstated}); "
                             f"Arrhenius form: {arrhenius_form_text(a)}{rep_text}")
        else:
            per_glass.append(f"{head}: no glass Ea ({lacking[g]})")
    notes = run_phase_notes({g: arrhenius[g] for g in glasses})
    fits = [g for g in glasses if g in fitted]
    estimand = "slope of glass-phase Ea on the P2S6 fraction of P across compositions"
    unit = "glass replica (composition Ea SE from its replicas); compositions are the slope's points"
    detail = "; ".join(per_glass)
    if notes:
        detail += " | " + notes
    result = None
    if len(fits) >= max(3, min_glasses):
        result = slope_interval([p2s6_fraction[g] for g in fits], [fitted[g][0] for g in fits],
                                [fitted[g][1] for g in fits], [replica_dof(arrhenius[g]) for g in fits], level)
    if result is None:
        need = "; ".join(f"{g}: {run_length_text(arrhenius[g])}" for g in glasses if run_length_text(arrhenius[g]))
        return Verdict("C1", estimand, None, region, unit, scale or Scale(), detail=detail, source=source,
                       verdict=NOT_TESTED, value_unit="eV per unit P2S6 fraction",
                       why_not_tested=(f"{len(fits)} composition(s) with a glass-phase Arrhenius fit, "
                                       f"need >= {max(3, min_glasses)} at distinct P2S6 fractions"),
                       would_decide=("glass-phase Arrhenius fits (>= 2 diffusive glassy temperatures) for >= "
                                     f"{max(3, min_glasses)} compositions" + (f": {need}" if need else "")))
    interval, info = result
    detail = (f"slope {info['slope']:+.3f} {C1_UNIT}: propagated SE {info['se_propagated']:.3f}, residual SE "
              f"{info['se_residual']:.3f} (chi2 {info['chi2']:.2f} on {info['dof_residual']} dof); " + detail)
    verdict = decide(interval, region)
    k = max(int(arrhenius[g].get("replicas") or 1) for g in fits)
    would = ""
    if verdict != HOLDS:
        gap = abs(interval.estimate - margin)
        half = interval.high - interval.estimate
        factor = (half / gap) ** 2 if gap > 0 else math.inf
        if verdict == DOES_NOT_HOLD:
            would = (f"the interval's upper end lies {margin - interval.high:.3g} below the margin; overturning it needs "
                     f"a slope above {margin:g} {C1_UNIT} at a study of this size or larger")
        elif info["deciding"] == "residual":
            would = (f"the compositions scatter about the line (residual SE {info['se_residual']:.3g}): more "
                     f"compositions, or ~{factor:.1f}x the precision per composition, to bring the half-width "
                     f"{half:.3g} below {gap:.3g}")
        else:
            needed = math.ceil(k * factor) if math.isfinite(factor) else "inf"
            would = (f"half-width {half:.3g} must fall below {gap:.3g}: ~{needed} replicas per composition (now {k}; "
                     "replica SEs scale as 1/sqrt(replicas))")
    structured = {"effect": interval.estimate, "effect_se": info["se"], "threshold": margin, "sample_size": k,
                  "sample_unit": "replicas per composition"}
    return Verdict("C1", estimand, interval, region, unit, scale or Scale(), detail=detail, source=source,
                   would_decide=would, structured=structured)


# ---- C2 -------------------------------------------------------------------------------------

def experimental_glass_span(experimental_csv: str | Path) -> tuple[float, float]:
    """(min, max) S/cm of the experimental conductivities of kind 'glass'."""
    exp = read_rows(experimental_csv, comments=True)
    values = np.array([float(r["sigma_S_cm"]) for r in exp if r["kind"] == "glass"])
    if not len(values):
        raise ValueError(f"{experimental_csv}: no rows of kind 'glass'")
    return float(values.min()), float(values.max())


def glass_log_sigma(a: Mapping) -> tuple[float, float, float] | str:
    """(log10 sigma, SE of log10 sigma, T K) of a composition's glass-phase fit, or why none."""
    T = float(a.get("extrapolation_T_K") or 300.0)
    label = f"{round(T)}K"
    s = a.get(f"sigma_{label}_S_cm")
    ln_se = a.get(f"sigma_{label}_ln_stderr")
    se = a.get(f"sigma_{label}_stderr_S_cm")
    if ln_se is None and s is not None and se is not None and s > 0:
        ln_se = se / s
    if s is None or not s > 0 or ln_se is None or not np.isfinite(ln_se):
        return f"no sigma({T:g} K) ({a.get('status', 'no fit')}: {a.get('reason', 'no value')})"
    phase = a.get("phase_of_fit")
    if phase not in (None, "glass"):
        return f"sigma({T:g} K) extrapolated from a fit over {phase} runs, across the glass transition"
    return float(np.log10(s)), float(ln_se / np.log(10)), T


def c2_verdict(arrhenius: Mapping[str, Mapping], experimental_span: tuple[float, float], criteria: Mapping,
               level: float = DEFAULT_LEVEL, scale: Scale | None = None, source: str = "") -> Verdict:
    """C2 (module docstring). ``experimental_span``: (min, max) S/cm of the experimental glasses;
    ``criteria``: claims.C2 (margin_decades)."""
    m = float(criteria["margin_decades"])
    lo, hi = np.log10(experimental_span[0]), np.log10(experimental_span[1])
    region = Region(lo - m, hi + m, f"experimental glasses {experimental_span[0]:.2g}-{experimental_span[1]:.2g} S/cm "
                                    f"+- {m:g} decade (claims.C2.margin_decades): {C2_REASON}")
    glasses = sorted(arrhenius)
    u_level = union_level(level, len(glasses))
    at_level, at_union, parts = [], [], []
    for g in glasses:
        a = arrhenius[g]
        got = glass_log_sigma(a)
        if isinstance(got, str):
            at_level.append(None), at_union.append(None)
            parts.append(f"{g}: {got}")
            continue
        c, se, T = got
        dof = replica_dof(a)
        i = se_interval(c, se, level, dof, C2_UNIT, f"t, {dof} dof (replicas)" if dof else "normal (1 replica)")
        iu = se_interval(c, se, u_level, dof, C2_UNIT, "")
        at_level.append(i), at_union.append(iu)
        text = (f"{g}: sigma {10 ** c:.3g} S/cm, log10 {c:.2f} [{i.low:.2f}, {i.high:.2f}] ({level:.0%}; "
                f"[{iu.low:.2f}, {iu.high:.2f}] at {u_level:.1%}), {decide(i, region)}")
        rng = _fit_range(a)
        if rng is not None and not rng[0] <= T <= rng[1]:
            edge = rng[0] if T < rng[0] else rng[1]
            text += (f"; extrapolated: {T:.0f} K lies {abs(edge - T):.0f} K {'below' if T < edge else 'above'} the "
                     f"fitted {rng[0]:.0f}-{rng[1]:.0f} K ({1000 / T - 1000 / edge:+.2f} in 1000/T beyond a fitted span "
                     f"of {1000 / rng[0] - 1000 / rng[1]:.2f})")
        parts.append(text)
    verdict = decide_parts(at_level, at_union, [region] * len(glasses))

    def excess(i):
        return max(i.high - region.high, region.low - i.low)

    with_interval = [(g, i, iu) for g, i, iu in zip(glasses, at_level, at_union) if i is not None]
    deciding = None
    if verdict == DOES_NOT_HOLD:
        deciding = max((iu for _, _, iu in with_interval if decide(iu, region) == DOES_NOT_HOLD),
                       key=lambda iu: max(iu.low - region.high, region.low - iu.high))
    elif with_interval:
        deciding = max((i for _, i, _ in with_interval), key=excess)
    detail = ("sigma_NE (Haven ratio 1); the row's estimate is the glass whose interval reaches furthest towards or "
              "beyond the region's edge (for 'does not hold' its interval at the Bonferroni level); " + "; ".join(parts))
    would, why = "", ""
    missing = [g for g, i in zip(glasses, at_level) if i is None]
    if verdict == NOT_TESTED:
        if missing:
            why = f"no glass-phase sigma for {', '.join(missing)}"
            need = "; ".join(f"{g}: {run_length_text(arrhenius[g])}" for g in missing if run_length_text(arrhenius[g]))
            would = "glass-phase Arrhenius fits of every composition" + (f": {need}" if need else "")
        else:
            straddle = [g for g, i in zip(glasses, at_level) if decide(i, region) != HOLDS]
            would = (f"narrower intervals for {', '.join(straddle)} (replicas: the half-width scales as 1/sqrt(replicas)) "
                     "or values further from the span's edges")
    elif verdict == DOES_NOT_HOLD:
        would = "overturned only if a larger study moved the outside glass's interval back to the widened span"
    k = max((int(arrhenius[g].get("replicas") or 1) for g in glasses), default=1)
    structured = {}
    if deciding is not None:
        structured = {"effect": deciding.estimate,
                      "effect_se": (deciding.high - deciding.estimate) / _t(deciding.level,
                                                                             replica_dof({"replicas": k})),
                      "threshold": region.high if deciding.estimate > 0.5 * (region.low + region.high) else region.low,
                      "sample_size": k, "sample_unit": "replicas per composition"}
    return Verdict("C2", "log10 sigma_NE(300 K) of every glass composition", deciding, region,
                   "glass replica (SE from the replicas of each composition)", scale or Scale(), detail=detail,
                   source=source, would_decide=would, verdict=verdict, why_not_tested=why, structured=structured,
                   value_unit="log10 S/cm")


def transport_claims(arrhenius: Mapping[str, Mapping], p2s6_fraction: Mapping[str, float],
                     experimental_csv: str | Path, sources: Mapping[str, str], criteria: Mapping,
                     scale: Scale | None = None) -> list[Verdict]:
    """C1 and C2 from composition-level arrhenius.json dicts; ``criteria``: the config's
    ``claims`` section (level, C1, C2)."""
    level = float(criteria.get("level", DEFAULT_LEVEL))
    source = "; ".join(str(sources[g]) for g in sorted(arrhenius, key=lambda g: p2s6_fraction[g]))
    return [c1_verdict(arrhenius, p2s6_fraction, criteria["C1"], level, scale, source),
            c2_verdict(arrhenius, experimental_glass_span(experimental_csv), criteria["C2"], level, scale, source)]


# ---- calibration ----------------------------------------------------------------------------

X_STUDIED = (0.05, 0.10, 0.15, 0.20, 0.25)   # P2S6 fractions of P of the five compositions
EA_REPLICA_SD_EV = 0.03        # glass-to-glass SD of a replica's Ea (assumed: the interval's error rates hardly
#                                depend on it, the power does)
EA_FIT_SE_EV = 0.015           # each replica fit's own SE of Ea
EA_COMPOSITION_SD_EV = 0.005   # composition-level deviation from a straight line
LOG_SIGMA_REPLICA_SD = 0.15    # glass-to-glass SD of log10 sigma(300 K) of a replica (factor 1.4)
LOG_SIGMA_FIT_SE = 0.08        # each replica fit's own SE of log10 sigma(300 K)


def _composition(rng, true: np.ndarray, k: int, sd: float, fit_se: float) -> tuple[np.ndarray, np.ndarray]:
    """Composition-level values and SEs as ``lipsglass.replicas.combine_replicas`` makes them from
    ``k`` replicas (mean; SE the larger of between- and within-replica)."""
    reps = true[:, None] + rng.normal(0, sd, (len(true), k))
    between = reps.std(axis=1, ddof=1) / np.sqrt(k)
    within = fit_se * np.sqrt(k) / k
    return reps.mean(axis=1), np.maximum(between, within)


def _c1_draws(rng, slope: float, k: int, n: int, level: float, margin: float) -> np.ndarray:
    x = np.array(X_STUDIED)
    p2s6 = {f"g{i}": xi for i, xi in enumerate(x)}
    out = []
    for _ in range(n):
        true = 0.35 + slope * (x - x.mean()) + rng.normal(0, EA_COMPOSITION_SD_EV, len(x))
        ea, se = _composition(rng, true, k, EA_REPLICA_SD_EV, EA_FIT_SE_EV)
        fits = {f"g{i}": {"Ea_eV": ea[i], "Ea_stderr_eV": se[i], "status": "ok", "replicas": k,
                          "temperatures_used_K": [400, 500, 600], "phase_of_fit": "glass"} for i in range(len(x))}
        out.append(c1_verdict(fits, p2s6, {"margin_eV_per_fraction": margin, "min_glasses": 3}, level).verdict)
    return np.array(out)


def calibrate_c1(seed: int = 0, n_draws: int = 1000, level: float = DEFAULT_LEVEL) -> Calibration:
    """C1 on five compositions (x = 0.05-0.25) x 2 replicas, replica Ea scatter
    EA_REPLICA_SD_EV, composition deviations EA_COMPOSITION_SD_EV: true slope at the margin
    (0.05); planted: the paper-sized rise of 0.1 eV over the studied range (0.5 per unit
    fraction) at config/paper.yaml's 3 replicas."""
    rng = np.random.default_rng(seed)
    margin = 0.05
    null = _c1_draws(rng, margin, 2, n_draws, level, margin)
    planted = _c1_draws(rng, 0.5, 3, n_draws, level, margin)
    return Calibration("C1", "slope of Ea on the P2S6 fraction of P", "replica; compositions as points",
                       f"> {margin:g} eV/fraction",
                       f"slope {margin:g}, 5 compositions x 2 replicas, replica SD {EA_REPLICA_SD_EV:g} eV, line "
                       f"deviations {EA_COMPOSITION_SD_EV:g} eV",
                       "slope 0.5 eV/fraction (0.1 eV over 0.05-0.25), 5 x 3 replicas", n_draws, (1 - level) / 2,
                       float(np.mean(null == HOLDS)), float(np.mean(null == DOES_NOT_HOLD)),
                       float(np.mean(planted == HOLDS)))


def _c2_draws(rng, centres: np.ndarray, k: int, n: int, level: float, span: tuple[float, float],
              margin: float) -> np.ndarray:
    out = []
    for _ in range(n):
        logs, se = _composition(rng, centres, k, LOG_SIGMA_REPLICA_SD, LOG_SIGMA_FIT_SE)
        fits = {f"g{i}": {"sigma_300K_S_cm": 10 ** logs[i], "sigma_300K_ln_stderr": se[i] * np.log(10),
                          "replicas": k, "phase_of_fit": "glass", "extrapolation_T_K": 300.0,
                          "fit_T_range_K": [300, 500]} for i in range(len(centres))}
        out.append(c2_verdict(fits, span, {"margin_decades": margin}, level).verdict)
    return np.array(out)


def calibrate_c2(seed: int = 0, n_draws: int = 400, level: float = DEFAULT_LEVEL) -> Calibration:
    """C2 on five glasses x 2 replicas (replica SD LOG_SIGMA_REPLICA_SD decades) against the
    shipped experimental span widened by 0.5 decade. False holds: one glass on the upper edge,
    four at the centre; false does not hold: all five on the upper edge. Planted: all five at the
    centre, 3 replicas."""
    rng = np.random.default_rng(seed)
    span, margin = (1.0e-4, 3.5e-4), 0.5
    lo, hi = np.log10(span[0]) - margin, np.log10(span[1]) + margin
    mid = 0.5 * (lo + hi)
    one_edge = np.array([hi, mid, mid, mid, mid])
    holds = _c2_draws(rng, one_edge, 2, n_draws, level, span, margin)
    all_edge = _c2_draws(rng, np.full(5, hi), 2, n_draws, level, span, margin)
    planted = _c2_draws(rng, np.full(5, mid), 3, n_draws, level, span, margin)
    return Calibration("C2", "log10 sigma(300 K) of each glass", "replica", f"span +- {margin:g} decade",
                       "one glass on the edge (false holds) / all five on it (false does not hold); 5 x 2 replicas, "
                       f"replica SD {LOG_SIGMA_REPLICA_SD:g} decade",
                       "all five at the span's centre, 5 x 3 replicas", n_draws, (1 - level) / 2,
                       float(np.mean(holds == HOLDS)), float(np.mean(all_edge == DOES_NOT_HOLD)),
                       float(np.mean(planted == HOLDS)))


CALIBRATIONS = {"C1": calibrate_c1, "C2": calibrate_c2}
