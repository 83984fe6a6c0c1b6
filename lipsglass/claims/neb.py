"""Claims C9 and C10 (paper Fig. 4B-D, S3): migration barriers of soft and hard Li, and the
motion of Li around PS4 and P2S6.

**C9** "soft Li cross smaller barriers than hard Li", as the paper compares it (Fig. 4C): the
forward NEB barriers of hops out of soft Li against the forward barriers of hops out of hard Li.
A hop's forward barrier is E_saddle - E_initial, so the saddle enters (the old paired statistic,
barrier out of the soft site minus barrier out of the hard site of one path, reduced to the
end-state energy difference that C8 already measures).

* hops out of a soft Li: classes soft->hard and soft->soft; out of a hard Li: hard->soft and
  hard->hard (the origin's softness, as ``lipsglass.neb.selection.select_hops`` labels them);
* only converged hops; hops that share a Li (as hopping Li or as target site) are not
  independent (the selection lets a Li take part in several hops): within a glass each Li
  enters at most one kept hop, taken in hop-id order (blind to the barrier);
* estimand: mean forward barrier of hard-Li hops minus soft-Li hops (eV), combined over the NEB
  glasses with glass as a stratum (each glass its own barrier level): the inverse-variance
  weighted mean of the per-glass differences of means, its variance from the within-glass
  spreads of each origin class pooled over glasses, a t interval with Welch-Satterthwaite
  degrees of freedom; Cochran's Q of the per-glass differences is reported;
* region: above ``claims.C9.margin_eV`` (the paper's ~0.1-0.15 eV); "not tested" with fewer than
  2 glasses holding independent hops of both origins or fewer than ``min_hops_per_class``
  independent hops of an origin over the glasses.

The plan (:func:`c9_plan`): independent converged hops per origin class that put the interval's
half width at the distance between the margin and ``planned_effect_eV`` with power
``power``, for every spread inside the chi-square interval of the measured within-class SD (a
range, not a point), divided by the yield (converged / attempted, Wilson interval, every NEB glass
of the study) and by the fraction of converged hops that stay independent.

**C10** "over the first ps at 500 K, Li around P2S6 move locally, Li around PS4 make long hops":
per glass (composition x replica: independent melt-quenches), the fraction of Li nearest to PS4 S
and the fraction nearest to P2S6 S whose net displacement over the trace window exceeds
``neb.hop_distance_A``; estimand: their difference (PS4 minus P2S6), averaged over glasses. Li of
one glass move together (a mobile region carries its neighbours), so the unit of independence
is the glass: a t interval over the per-glass differences (the composition-level mobility cancels
within each glass). Region: above ``claims.C10.margin``; "not tested" with fewer than 2 glasses
holding ``min_li_per_group`` Li in both groups.

Units: energies eV, lengths A, time ps, fractions dimensionless.
"""

from __future__ import annotations

import gzip
import math
import shutil
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from scipy import stats

from lipsglass.claims.calibration import CALIBRATION_GLASS, Calibration
from lipsglass.claims.verdict import NOT_TESTED, Interval, Region, Scale, Verdict, decide
from lipsglass.core.anions import ANIONS
from lipsglass.core.stats import wilson_interval
from lipsglass.lammpsio import read_data
from lipsglass.neb.results import CONVERGED
from lipsglass.softness.environment import anion_environment
from lipsglass.speciation import speciate

SOFT, HARD = "soft", "hard"
SOURCE_C9 = "results/<glass>/neb/barriers.csv of every NEB glass"


# ---- small statistics ------------------------------------------------------------------------

def sd_interval(sd: float, dof: float, level: float = 0.90) -> tuple[float, float]:
    """Chi-square interval of a standard deviation estimated with ``dof`` degrees of freedom."""
    if not (sd >= 0 and dof >= 1):
        raise ValueError(f"need sd >= 0 and dof >= 1, got {sd}, {dof}")
    a = (1 - level) / 2
    return (sd * math.sqrt(dof / stats.chi2.ppf(1 - a, dof)), sd * math.sqrt(dof / stats.chi2.ppf(a, dof)))


def per_class_size(sd: float, distance: float, level: float, power: float) -> int:
    """Independent hops per origin class that give a difference of two means (common spread
    ``sd``) an interval at ``level`` excluding a margin ``distance`` away with ``power``:
    n = 2 ((z_(1/2+level/2) + z_power) sd / distance)^2 (normal approximation)."""
    if not (sd > 0 and distance > 0 and 0 < level < 1 and 0 < power < 1):
        raise ValueError(f"need sd, distance > 0 and level, power in (0, 1); got {sd}, {distance}, {level}, {power}")
    z = stats.norm.ppf(0.5 + level / 2) + stats.norm.ppf(power)
    return int(math.ceil(2 * (z * sd / distance) ** 2))


def _num(v) -> float | None:
    return None if v in (None, "", "None", "nan") else float(v)


def _f(x: float | None, fmt: str = ".3f") -> str:
    return "n/a" if x is None or not math.isfinite(x) else format(x, fmt)


# ---- C9: forward barriers of independent hops ---------------------------------------------------

def origin(hop_class: str) -> str:
    """'soft' or 'hard': the softness class of the hopping Li (the part before '->')."""
    head = str(hop_class).split("->")[0]
    if head not in (SOFT, HARD):
        raise ValueError(f"hop class {hop_class!r} names no soft/hard origin")
    return head


def _converged(rows: Sequence[Mapping]) -> list[dict]:
    out = []
    for r in rows:
        status = r.get("status")
        if status != CONVERGED or _num(r.get("E_forward_eV", r.get("forward_barrier_eV"))) is None:
            continue
        out.append({"hop_id": int(r["hop_id"]), "from_id": int(r["from_id"]), "to_id": int(r["to_id"]),
                    "origin": origin(r["class"]),
                    "barrier": float(_num(r.get("E_forward_eV", r.get("forward_barrier_eV"))))})
    return out


def independent_hops(rows: Sequence[Mapping]) -> list[dict]:
    """Converged hops of one glass kept as independent: each Li (as hopping Li or as target
    site, ``from_id``/``to_id``) takes part in at most one kept hop. Hops are taken in hop-id
    order (the seeded selection's order, blind to the barrier) and kept when neither Li is
    already used. Returns dicts with hop_id, from_id, to_id, origin, barrier (eV)."""
    used: set[int] = set()
    kept = []
    for h in sorted(_converged(rows), key=lambda h: h["hop_id"]):
        if h["from_id"] in used or h["to_id"] in used:
            continue
        used.update((h["from_id"], h["to_id"]))
        kept.append(h)
    return kept


def _attempted(rows: Sequence[Mapping]) -> tuple[int, int]:
    """(converged, attempted) hops of a glass (every status counts as attempted)."""
    return sum(r.get("status") == CONVERGED for r in rows), len(rows)


def stratified_difference(groups: Mapping[str, tuple[np.ndarray, np.ndarray]], level: float) -> dict | None:
    """Difference of means (first minus second sample) combined over strata (glasses) with
    inverse-variance weights, the variance of each sample class pooled over the strata. None
    unless at least 2 strata hold both samples and each class has >= 1 pooled degree of freedom.
    Returns estimate, se, dof (Welch-Satterthwaite), interval bounds, per-stratum differences,
    the pooled SDs and Cochran's Q with its p."""
    used = {g: (np.asarray(a, float), np.asarray(b, float)) for g, (a, b) in groups.items() if len(a) and len(b)}
    if len(used) < 2:
        return None
    df_a = sum(len(a) - 1 for a, _ in used.values())
    df_b = sum(len(b) - 1 for _, b in used.values())
    if df_a < 1 or df_b < 1:
        return None
    var_a = sum(float(np.sum((a - a.mean()) ** 2)) for a, _ in used.values()) / df_a
    var_b = sum(float(np.sum((b - b.mean()) ** 2)) for _, b in used.values()) / df_b
    if var_a + var_b <= 0:
        return None
    d = np.array([a.mean() - b.mean() for a, b in used.values()])
    inv_na = np.array([1 / len(a) for a, _ in used.values()])
    inv_nb = np.array([1 / len(b) for _, b in used.values()])
    v = var_a * inv_na + var_b * inv_nb
    w = 1 / v
    big_w = float(w.sum())
    est = float(np.sum(w * d) / big_w)
    se = math.sqrt(1 / big_w)
    ca, cb = float(np.sum(w ** 2 * inv_na)) / big_w ** 2 * var_a, float(np.sum(w ** 2 * inv_nb)) / big_w ** 2 * var_b
    dof = (ca + cb) ** 2 / (ca ** 2 / df_a + cb ** 2 / df_b)
    q = float(np.sum(w * (d - est) ** 2))
    h = float(stats.t.ppf(0.5 + level / 2, dof)) * se
    return {"estimate": est, "se": se, "dof": dof, "low": est - h, "high": est + h,
            "per_stratum": dict(zip(used, d.tolist())), "sd_a": math.sqrt(var_a), "sd_b": math.sqrt(var_b),
            "df_a": df_a, "df_b": df_b, "cochran_q": q, "cochran_p": float(stats.chi2.sf(q, len(used) - 1))}


def c9_plan(barriers: Mapping[str, Sequence[Mapping]], criteria: Mapping, level: float) -> dict:
    """Independent converged hops per origin class, and hops to attempt, that decide C9 (module
    docstring), as ranges. ``barriers``: barriers.csv rows of every NEB glass the study ran
    (strings or numbers); ``criteria``: the config's ``claims.C9``."""
    margin, planned = float(criteria["margin_eV"]), float(criteria["planned_effect_eV"])
    power = float(criteria["power"])
    distance = abs(planned - margin)
    sq, dof = 0.0, 0
    converged = attempted = kept = 0
    by_origin = {SOFT: 0, HARD: 0}
    for rows in barriers.values():
        k, n = _attempted(rows)
        converged, attempted = converged + k, attempted + n
        hops = independent_hops(rows)
        kept += len(hops)
        for o in (SOFT, HARD):
            b = np.array([h["barrier"] for h in hops if h["origin"] == o])
            by_origin[o] += len(b)
            if len(b) > 1:
                sq += float(np.sum((b - b.mean()) ** 2))
                dof += len(b) - 1
    out = {"margin_eV": margin, "planned_effect_eV": planned, "power": power, "converged": converged,
           "attempted": attempted, "independent": kept, "independent_by_origin": by_origin,
           "glasses": len(barriers)}
    if dof >= 1 and sq > 0:
        sd = math.sqrt(sq / dof)
        lo, hi = sd_interval(sd, dof, level)
        out.update(sd_eV=sd, sd_low_eV=lo, sd_high_eV=hi, sd_dof=dof,
                   sd_basis=f"within-glass, within-class SD {sd:.3g} eV [{lo:.3g}, {hi:.3g}] "
                            f"({level:.0%} chi-square, {dof} dof)")
        sds = (lo, sd, hi)
    else:
        sd = float(criteria["assumed_sd_eV"])
        out.update(sd_eV=sd, sd_low_eV=None, sd_high_eV=None, sd_dof=0,
                   sd_basis=f"assumed SD {sd:g} eV (claims.C9.assumed_sd_eV: no measured within-class spread)")
        sds = (sd, sd, sd)
    need = [max(per_class_size(s, distance, level, power), int(criteria["min_hops_per_class"])) for s in sds]
    out["per_class"] = need
    if attempted:
        y_lo, y_hi = wilson_interval(converged, attempted, level)
        out.update(yield_fraction=converged / attempted, yield_low=y_lo, yield_high=y_hi)
    keep = kept / converged if converged else 1.0
    out["kept_fraction"] = keep
    if attempted and converged:
        y = (out["yield_low"], converged / attempted, out["yield_high"])
        out["attempt_per_class"] = [math.ceil(need[0] / (y[2] * keep)), math.ceil(need[1] / (y[1] * keep)),
                                    math.ceil(need[2] / (y[0] * keep)) if y[0] > 0 else None]
    elif attempted:
        out["attempt_per_class"] = [math.ceil(need[0] / out["yield_high"]), None, None]
    else:
        out["attempt_per_class"] = [need[0], None, None]
    a = out["attempt_per_class"]
    span = (f"{need[0]}-{need[2]}" if need[0] != need[2] else f"{need[1]}")
    text = (f"{span} independent converged hops per origin class (soft, hard) over >= 2 glasses (at the "
            f"{out['sd_basis']}; {level:.0%} interval, power {power:g} at a true {planned:g} eV against the "
            f"{margin:g} eV margin)")
    if attempted:
        text += (f"; yield {converged}/{attempted} converged [{out['yield_low']:.2f}, {out['yield_high']:.2f}] "
                 f"(Wilson {level:.0%}, {len(barriers)} NEB glass{'es' if len(barriers) != 1 else ''})"
                 + (f", {kept} of {converged} independent (at this hop density: a Li enters one kept hop, so "
                    f"denser sampling of a glass keeps fewer; spread the hops over more glasses)" if converged else ""))
        text += (f": {a[0]}-{a[2]} hops to attempt per class" if a[2] is not None else
                 f": at least {a[0]} hops to attempt per class (the yield's lower limit is 0: the yield must rise "
                 f"first)")
    out["text"] = text
    return out


def c9_verdict(barriers: Mapping[str, Sequence[Mapping]], criteria: Mapping, level: float,
               atoms: Mapping[str, int] | None = None, source: str = SOURCE_C9) -> Verdict:
    """Claim C9 from the barriers.csv rows of every NEB glass (``barriers[glass]``; module
    docstring). ``criteria``: the config's ``claims.C9``; ``atoms``: atoms per glass (scale)."""
    margin = float(criteria["margin_eV"])
    min_n = int(criteria["min_hops_per_class"])
    region = Region.above(margin, str(criteria.get("margin_reason", "")))
    groups, parts, n_conv, n_att, n_ind = {}, [], 0, 0, {SOFT: 0, HARD: 0}
    for glass, rows in barriers.items():
        hops = independent_hops(rows)
        k, n = _attempted(rows)
        n_conv, n_att = n_conv + k, n_att + n
        hard = np.array([h["barrier"] for h in hops if h["origin"] == HARD])
        soft = np.array([h["barrier"] for h in hops if h["origin"] == SOFT])
        n_ind[HARD] += len(hard)
        n_ind[SOFT] += len(soft)
        groups[glass] = (hard, soft)
        parts.append(f"{glass}: {k}/{n} hops converged, independent {len(soft)} soft-Li "
                     f"(mean {_f(soft.mean() if len(soft) else None)} eV), {len(hard)} hard-Li "
                     f"(mean {_f(hard.mean() if len(hard) else None)} eV)")
    res = stratified_difference(groups, level)
    interval = None
    if res is not None:
        interval = Interval(res["estimate"], res["low"], res["high"], level,
                            f"t ({res['dof']:.1f} dof) of the glass-stratified difference of means over "
                            f"{len(res['per_stratum'])} glasses", "eV")
        parts.append("per-glass hard minus soft: " + ", ".join(f"{g} {d:.3f} eV" for g, d in
                                                                res["per_stratum"].items())
                     + f"; pooled SDs hard {res['sd_a']:.3f}, soft {res['sd_b']:.3f} eV; "
                       f"Cochran Q {res['cochran_q']:.2f} (p = {res['cochran_p']:.2g})")
    plan = c9_plan(barriers, criteria, level)
    glasses_with_both = sum(1 for h, s in groups.values() if len(h) and len(s))
    why = ""
    if glasses_with_both < 2:
        why = (f"{glasses_with_both} glass(es) hold converged hops out of both soft and hard Li (need >= 2 glasses, "
               f"glass as stratum)")
    elif min(n_ind.values()) < min_n:
        why = (f"{n_ind[SOFT]} soft-Li and {n_ind[HARD]} hard-Li independent converged hops (need >= {min_n} "
               f"per class)")
    verdict = NOT_TESTED if why else decide(interval, region)
    if verdict == NOT_TESTED and not why:
        why = f"the interval {interval.text()} contains the {margin:g} eV margin"
    atoms_set = sorted({int(atoms[g]) for g in barriers if g in atoms}) if atoms else []
    scale = Scale(atoms=(atoms_set[0], atoms_set[-1]) if atoms_set else None, glasses=len(barriers),
                  hops=sum(n_ind.values()), note=f"independent ({n_ind[SOFT]} soft-Li, {n_ind[HARD]} hard-Li) of "
                                                 f"{n_conv}/{n_att} converged/attempted")
    estimand = "mean forward barrier of hops out of hard Li minus out of soft Li (glass as stratum)"
    return Verdict(
        "C9", estimand, interval, region, "hop (one per Li), glass as stratum", scale,
        detail="; ".join(parts), source=source,
        would_decide="" if verdict == "holds" else plan["text"], verdict=verdict, why_not_tested=why,
        structured={"sample_size": sum(n_ind.values()), "sample_unit": "independent converged hops"}, value_unit="eV")


# ---- C10: long hops of Li near PS4 and near P2S6, glass as unit ----------------------------------

def c10_differences(motion: Mapping[str, Mapping[str, Mapping]], min_li: int) -> tuple[dict, list[str]]:
    """Per glass (``motion[composition][replica]``: li_motion.json dicts) with >= ``min_li`` Li in
    both groups: hopped fraction near PS4 minus near P2S6. Returns ({glass: difference}, detail)."""
    diffs, parts = {}, []
    for comp, replicas in motion.items():
        for rep, m in replicas.items():
            name = f"{comp}/r{rep}"
            (k1, n1), (k2, n2) = [(int(m["by_anion"][a]["n_hopped"]), int(m["by_anion"][a]["n"]))
                                  for a in ("PS4", "P2S6")]
            if min(n1, n2) < min_li:
                parts.append(f"{name}: PS4 {k1}/{n1}, P2S6 {k2}/{n2} hopped (fewer than {min_li} Li in a group: "
                             f"not used)")
                continue
            diffs[name] = k1 / n1 - k2 / n2
            parts.append(f"{name}: PS4 {k1}/{n1}, P2S6 {k2}/{n2} hopped, difference {diffs[name]:+.3f}")
    return diffs, parts


def c10_plan(sd: float | None, n_glasses: int, criteria: Mapping, level: float) -> dict:
    """Glasses (composition x replica) that decide C10: the t interval of the mean difference
    excludes the margin with ``power`` at a true difference ``planned_difference``, for every
    between-glass SD in the chi-square interval of the measured one (``sd`` from ``n_glasses``)."""
    margin, planned, power = float(criteria["margin"]), float(criteria["planned_difference"]), float(criteria["power"])
    distance = abs(planned - margin)

    def glasses(s: float) -> int:
        # t quantiles exceed normal ones, so the normal-theory count is a lower bound to start from
        g = max(2, math.ceil(((stats.norm.ppf(0.5 + level / 2) + stats.norm.ppf(power)) * s / distance) ** 2))
        while g < 100000:
            q = stats.t.ppf(0.5 + level / 2, g - 1) + stats.t.ppf(power, g - 1)
            if q * s / math.sqrt(g) <= distance:
                return g
            g += 1
        return g

    if sd is None or not sd > 0 or n_glasses < 2:
        return {"glasses": None, "text": f"at least 2 glasses (composition x replica) with >= "
                                          f"{int(criteria['min_li_per_group'])} Li near PS4 and near P2S6 each; "
                                          f"their spread then sizes the study"}
    lo, hi = sd_interval(sd, n_glasses - 1, level)
    need = [glasses(s) for s in (lo, sd, hi)]
    return {"glasses": need, "sd": sd, "sd_low": lo, "sd_high": hi,
            "text": f"{need[0]}-{need[2]} glasses (composition x replica; {need[1]} at the measured between-glass SD "
                    f"{sd:.3g} [{lo:.3g}, {hi:.3g}], {level:.0%} chi-square) for power {power:g} at a true "
                    f"difference {planned:g} against the {margin:g} margin"}


def c10_verdict(motion: Mapping[str, Mapping[str, Mapping]], criteria: Mapping, level: float,
                atoms: Mapping[str, int] | None = None,
                source: str = "results/<glass>/r<k>/neb/li_motion.json") -> Verdict:
    """Claim C10 from the li_motion.json of every glass and replica (module docstring).
    ``criteria``: the config's ``claims.C10``; ``atoms``: atoms per composition (scale; else the
    files' ``n_atoms``)."""
    margin, min_li = float(criteria["margin"]), int(criteria["min_li_per_group"])
    region = Region.above(margin, str(criteria.get("margin_reason", "")))
    diffs, parts = c10_differences(motion, min_li)
    values = np.array(list(diffs.values()), float)
    interval = None
    if len(values) >= 2:
        m, sd = float(values.mean()), float(values.std(ddof=1))
        h = float(stats.t.ppf(0.5 + level / 2, len(values) - 1)) * sd / math.sqrt(len(values))
        interval = Interval(m, m - h, m + h, level, f"t over {len(values)} glasses", "fraction")
    sd = float(values.std(ddof=1)) if len(values) >= 2 else None
    plan = c10_plan(sd, len(values), criteria, level)
    why = "" if len(values) >= 2 else (f"{len(values)} glass(es) with >= {min_li} Li near PS4 and near P2S6 "
                                       f"(need >= 2, glass as unit)")
    if interval is not None and interval.high == interval.low:
        interval = None
        why = "the per-glass differences are all equal: no spread to form an interval"
    verdict = NOT_TESTED if why else decide(interval, region)
    if verdict == NOT_TESTED and not why:
        why = f"the interval {interval.text()} contains the {margin:g} margin"
    first = next((m for reps in motion.values() for m in reps.values()), {})
    atoms = sorted({int(atoms[g]) for g in motion if g in atoms} if atoms else
                   {int(m["n_atoms"]) for reps in motion.values() for m in reps.values() if "n_atoms" in m})
    n_li = sum(int(m["by_anion"][a]["n"]) for reps in motion.values() for m in reps.values() for a in ("PS4", "P2S6"))
    n_rep = max((len(r) for r in motion.values()), default=0)
    scale = Scale(atoms=(atoms[0], atoms[-1]) if atoms else None, glasses=len(motion), replicas=n_rep,
                  ps=float(first["duration_ps"]) if first else None, li=n_li,
                  note=(f"{len(values)} glasses used, at {first.get('temperature_K', float('nan')):g} K"
                        if first else ""))
    structured = {}
    if sd is not None and sd > 0:
        # for lipsglass.planning: the planned difference, the SE of the mean over the glasses now, and the margin
        structured = {"effect": float(criteria["planned_difference"]), "effect_se": sd / math.sqrt(len(values)),
                      "threshold": margin, "sample_size": len(values),
                      "sample_unit": "glasses (composition x replica; effect: claims.C10.planned_difference)"}
    hop = first.get("hop_distance_A", float("nan")) if first else float("nan")
    return Verdict(
        "C10", f"fraction of Li with net displacement > {hop:g} A, near PS4 minus near P2S6 (mean over glasses)",
        interval, region, "glass (composition x replica)", scale, detail="; ".join(parts), source=source,
        would_decide="" if verdict == "holds" else plan["text"], verdict=verdict, why_not_tested=why,
        structured=structured)


# ---- calibration -----------------------------------------------------------------------------

C9_CALIBRATION = {"margin_eV": 0.1, "planned_effect_eV": 0.2, "power": 0.8, "min_hops_per_class": 10,
                  "assumed_sd_eV": 0.3}
C10_CALIBRATION = {"margin": 0.1, "planned_difference": 0.2, "power": 0.8, "min_li_per_group": 5}
CALIBRATION_LEVEL = 0.90


def simulate_c9_glass(rng: np.random.Generator, name: str, hops_per_class: int, difference: float,
                      n_li: int = 258, glass_sd: float = 0.1, li_sd: float = 0.2, hop_sd: float = 0.2,
                      base_eV: float = 0.5) -> list[dict]:
    """barriers.csv rows of one simulated NEB glass: ``hops_per_class`` converged soft->hard and
    hard->soft hops between ``n_li`` Li (half soft), origins and targets drawn with replacement
    so hops share Li. Forward barrier = glass level (sd ``glass_sd``) + the origin Li's own term
    (sd ``li_sd``, shared by every hop out of it) + the hop's term (sd ``hop_sd``), soft-Li hops
    ``difference`` lower (spread ~0.3 eV, as measured). 20 % of the hops do not converge."""
    level = base_eV + rng.normal(0, glass_sd)
    li_term = rng.normal(0, li_sd, n_li)
    soft_li, hard_li = np.arange(n_li // 2), np.arange(n_li // 2, n_li)
    rows = []
    for cls, src, dst, shift in (("soft->hard", soft_li, hard_li, -difference / 2),
                                 ("hard->soft", hard_li, soft_li, difference / 2)):
        a, b = rng.choice(src, hops_per_class), rng.choice(dst, hops_per_class)
        e = level + shift + li_term[a] + rng.normal(0, hop_sd, hops_per_class)
        ok = rng.random(hops_per_class) > 0.2
        for i in range(hops_per_class):
            rows.append({"hop_id": len(rows), "from_id": int(a[i]), "to_id": int(b[i]), "class": cls,
                         "status": CONVERGED if ok[i] else "not_converged", "E_forward_eV": float(e[i])})
    return rows


def _rates(verdicts: Sequence[str]) -> dict:
    n = len(verdicts)
    return {v: sum(x == v for x in verdicts) / n for v in ("holds", "does not hold", "not tested")}


def calibrate_c9(seed: int, n_draws: int = 300, glasses: int = 4) -> Calibration:
    """C9's test on simulated NEB glasses (:func:`simulate_c9_glass`) at the planned size: per
    class the independent hops the plan asks at the simulated spread, attempted over
    ``glasses`` glasses; null: true difference at the margin; planted: the planned effect.
    (On 2 glasses of 258 Li the same hops share more Li than the plan's pilot density shows:
    measured power ~0.56 there, the false rates unchanged.)"""
    crit, level = C9_CALIBRATION, CALIBRATION_LEVEL
    rng = np.random.default_rng(seed)
    # the plan at the spread the simulation has (~0.3 eV); attempts cover the yield and the shared Li
    pilot = {f"g{k}": simulate_c9_glass(rng, f"g{k}", 60, crit["margin_eV"]) for k in range(glasses)}
    plan = c9_plan(pilot, crit, level)
    per_glass = math.ceil(plan["attempt_per_class"][1] / glasses)

    def run(difference: float) -> list[str]:
        out = []
        for _ in range(n_draws):
            b = {f"g{k}": simulate_c9_glass(rng, f"g{k}", per_glass, difference) for k in range(glasses)}
            out.append(c9_verdict(b, crit, level).verdict)
        return out

    null, planted = _rates(run(crit["margin_eV"])), _rates(run(crit["planned_effect_eV"]))
    return Calibration(
        "C9", "mean forward barrier hard-Li minus soft-Li hops (eV)", "hop (one per Li), glass as stratum",
        f"> {crit['margin_eV']:g} eV",
        f"{glasses} glasses x {per_glass} hops per class (80 % converge, shared Li), glass level sd 0.1 eV, "
        f"Li term 0.2, hop term 0.2 eV; true difference {crit['margin_eV']:g} eV",
        f"true difference {crit['planned_effect_eV']:g} eV at the same size (the plan's "
        f"{plan['per_class'][1]} independent hops per class)",
        n_draws, (1 - level) / 2, null["holds"], null["does not hold"], planted["holds"])


_GLASS_CACHE: dict = {}


def calibration_glass_li(path: Path = CALIBRATION_GLASS, radius_A: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """(Li positions (A), nearest anion type of each Li) of the real 792-atom glass of
    tests/data/glasses (speciation from the positions; nearest anion S within ``radius_A``)."""
    key = (str(path), radius_A)
    if key not in _GLASS_CACHE:

        with tempfile.TemporaryDirectory() as tmp:
            data_path = Path(tmp) / "glass.data"
            with gzip.open(path, "rb") as src, open(data_path, "wb") as dst:
                shutil.copyfileobj(src, dst)
            data = read_data(data_path)
        el = data.elements()
        pos = data.box.wrap(data.positions)
        spec = speciate(data.box, el, pos)
        labels = np.where((el == "S") & np.isin(spec.unit, ANIONS), spec.unit, "")
        li = np.flatnonzero(el == "Li")
        env = anion_environment(data.box, pos, li, labels, radius=radius_A)
        _GLASS_CACHE[key] = (data.box, pos[li], np.asarray(env.nearest).astype(str))
    return _GLASS_CACHE[key]


def correlated_field_factor(box, positions: np.ndarray, length_A: float) -> np.ndarray:
    """Square-root factor f (c = f f^T) of the Gaussian correlation exp(-r^2 / (2 length^2)) between Li
    (minimum-image distances): a field with it moves neighbouring Li together."""
    d = positions[:, None, :] - positions[None, :, :]
    r = np.linalg.norm(box.minimum_image(d.reshape(-1, 3)).reshape(d.shape), axis=2)
    w, v = np.linalg.eigh(np.exp(-(r / length_A) ** 2 / 2))
    f = v * np.sqrt(np.clip(w, 0, None))  # the clip drops round-off negative eigenvalues ...
    return f / np.linalg.norm(f, axis=1)[:, None]  # ... and this restores unit variance per Li


def simulate_c10_glass(rng: np.random.Generator, factor: np.ndarray, nearest: np.ndarray, difference: float,
                       base: float, rho: float = 0.7) -> dict:
    """li_motion.json of one simulated glass on the real Li positions: hopped when a latent
    mobility (a Gaussian field correlated in space, share ``rho`` of its variance, plus Li noise)
    lies below the quantile that gives Li near PS4 the probability base + difference/2 and Li
    near P2S6 base - difference/2 (the true difference exactly ``difference``)."""
    z = math.sqrt(rho) * (factor @ rng.standard_normal(len(nearest))) + math.sqrt(1 - rho) * rng.standard_normal(
        len(nearest))
    p = np.where(nearest == "PS4", base + difference / 2, np.where(nearest == "P2S6", base - difference / 2, base))
    hopped = z < stats.norm.ppf(np.clip(p, 1e-9, 1 - 1e-9))
    by = {a: {"n": int(np.sum(nearest == a)), "n_hopped": int(np.sum(hopped & (nearest == a)))}
          for a in ANIONS}
    return {"by_anion": by, "duration_ps": 10.0, "temperature_K": 500.0, "hop_distance_A": 3.0,
            "n_atoms": 792}


def calibrate_c10(seed: int, n_draws: int = 300, length_A: float = 6.0) -> Calibration:
    """C10's test on glasses with spatially correlated mobility on the real Li positions of
    tests/data/glasses (correlation length ``length_A``), a between-glass random base rate
    (0.35 +- 0.08), null at the margin, planted at the planned difference; glasses as the plan
    sizes them from a pilot of 60 glasses."""
    crit, level = C10_CALIBRATION, CALIBRATION_LEVEL
    rng = np.random.default_rng(seed)
    box, pos, nearest = calibration_glass_li()
    factor = correlated_field_factor(box, pos, length_A)

    def glasses(n: int, difference: float) -> dict:
        return {"P2S6-25": {str(k + 1): simulate_c10_glass(rng, factor, nearest, difference,
                                                           float(np.clip(rng.normal(0.35, 0.08), 0.15, 0.55)))
                            for k in range(n)}}

    pilot = c10_differences(glasses(60, crit["margin"]), crit["min_li_per_group"])[0]
    n_plan = c10_plan(float(np.std(list(pilot.values()), ddof=1)), len(pilot), crit, level)["glasses"][1]

    def run(n: int, difference: float) -> list[str]:
        return [c10_verdict(glasses(n, difference), crit, level).verdict for _ in range(n_draws)]

    null, planted = _rates(run(n_plan, crit["margin"])), _rates(run(n_plan, crit["planned_difference"]))
    counts = {a: int(np.sum(nearest == a)) for a in ("PS4", "P2S6")}
    return Calibration(
        "C10", "hopped fraction near PS4 minus near P2S6", "glass", f"> {crit['margin']:g}",
        f"{n_plan} glasses on the real 792-atom glass's Li ({counts['PS4']} near PS4, {counts['P2S6']} near P2S6), "
        f"mobility field correlated over {length_A:g} A (70 % of its variance), base rate 0.35 +- 0.08 per glass; "
        f"true difference {crit['margin']:g}",
        f"true difference {crit['planned_difference']:g} at the planned {n_plan} glasses",
        n_draws, (1 - level) / 2, null["holds"], null["does not hold"], planted["holds"])


CALIBRATIONS = {"C9": calibrate_c9, "C10": calibrate_c10}
