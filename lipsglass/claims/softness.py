"""Softness claims C4, C5, C6 and C8 (paper Fig. 3): the decision code the ``softness_claims`` rule
runs, and the calibration of each test (:data:`CALIBRATIONS`).

The datum is the glass. A glass is one replica of one composition: an independent quench. The Li
of one glass share anions and a softness field that is correlated over ~8 A, so they are not
independent samples: every interval here is over glasses (t with G - 1 degrees of freedom, or a
cluster-robust ratio with the glass as cluster). Blocks of one glass would not do: the demo cell is
~26 A, 3 blocks per side are ~9 A, about one correlation length, so neighbouring blocks are
correlated and a block bootstrap stays optimistic.

Claims made of parts (C5: three anion groups, C6: two shares, C8: two properties) hold when every
part holds and do not hold when any part does not hold (:func:`lipsglass.claims.verdict.combine`).
Each part's interval has level 1 - (1 - level) / k for k parts (Bonferroni), so that at the
least favourable boundary (every part on its margin) "does not hold" (any part) errs at most
(1 - level) / 2, as a single-part claim does.

Glasses with fewer Li than ``claims.softness_min_li_per_glass`` do not enter: in a cell that small
the 5 A anion shell and the ~8 A softness correlation length span the cell (finite size, which no
interval over glasses covers); with no glass left the claim is "not tested at this scale".

Units: softness S dimensionless (signed distance to the pooled model's hyperplane in standardised
feature units, S > 0 soft); P2S6 fraction = share of P in P2S6 units; correlations r dimensionless.
"""

from __future__ import annotations

import functools
import gzip
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from scipy import stats
from threadpoolctl import threadpool_limits

from lipsglass.core.anions import ANIONS
from lipsglass.claims.calibration import CALIBRATION_GLASS, Calibration
from lipsglass.claims.verdict import (DOES_NOT_HOLD, HOLDS, NOT_TESTED, Interval, Region, Scale, Verdict, combine,
                                      decide)
from lipsglass.claims.softness_statistics import (PAPER_LI, binned_r, cluster_ratio_interval, fisher_t_interval,
                                                  ols_slope_interval, pearson_r, per_li_r_for_binned_r)
from lipsglass.lammpsio import read_data
from lipsglass.softness.environment import ANION_TYPES, anion_environment
from lipsglass.speciation import speciate

SOURCE = "results/summary/softness_claims.md"
PAPER_BINNED_R = 0.96     # |binned r| of C6 the paper reports
BINNED_R_LOW_END = 0.90   # the low end of "about 0.96": C6's margin is the per-Li r that reaches it


# ---- inputs ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class GlassSoftness:
    """The Li of one glass as the softness claims see them (one row per Li).

    ``near``: {anion: mask of the Li near that anion type} by the configured assignment
    (majority / nearest / any, ``softness.anion_assignment``); ``share_p2s6`` / ``share_ps4``:
    share of the S within the anion radius that belongs to P2S6 / PS4 (NaN: no S within it);
    ``pe_kcal_mol`` / ``voronoi_A3`` may be None where a test does not need them."""

    composition: str
    replica: str
    p2s6_fraction: float
    atoms: int
    softness: np.ndarray
    share_p2s6: np.ndarray
    share_ps4: np.ndarray
    near: Mapping[str, np.ndarray]
    pe_kcal_mol: np.ndarray | None = None
    voronoi_A3: np.ndarray | None = None

    @property
    def n_li(self) -> int:
        return len(self.softness)

    @property
    def name(self) -> str:
        return f"{self.composition}/r{self.replica}"

    @classmethod
    def from_table(cls, table: Mapping[str, np.ndarray], composition: str, replica: str, p2s6_fraction: float,
                   atoms: int, assignment: str = "majority") -> "GlassSoftness":
        """From a ``softness.csv`` table (``lipsglass.stages.softness.read_softness``)."""
        if assignment == "majority":
            near = {a: np.asarray(table["majority_anion"]) == a for a in ANIONS}
        elif assignment == "nearest":
            near = {a: np.asarray(table["nearest_anion"]) == a for a in ANIONS}
        elif assignment == "any":
            near = {a: np.nan_to_num(np.asarray(table[f"share_S_{a}"], float)) > 0 for a in ANIONS}
        else:
            raise ValueError(f"anion assignment must be majority, nearest or any, got {assignment!r}")
        return cls(composition, str(replica), float(p2s6_fraction), int(atoms), np.asarray(table["S"], float),
                   np.asarray(table["share_S_P2S6"], float), np.asarray(table["share_S_PS4"], float), near,
                   np.asarray(table["pe_kcal_mol"], float), np.asarray(table["voronoi_A3"], float))


@dataclass(frozen=True)
class SoftnessCriteria:
    """The config's criteria of C4, C5, C6 and C8 (``claims`` section; units and reasons there)."""

    level: float = 0.90
    min_li_per_glass: int = 100
    c4_margin: float = 0.5
    c5_fraction_margin: float = 0.1
    c5_p2s7_margin: float = 0.5
    c5_min_group_li: int = 5
    c6_margin: float = 0.15
    c8_margin: float = 0.1

    def __post_init__(self):
        if not 0 < self.level < 1:
            raise ValueError(f"claims.level must lie in (0, 1), got {self.level}")
        if not (self.c4_margin >= 0 and 0 <= self.c5_fraction_margin < 0.5 and self.c5_p2s7_margin > 0
                and 0 <= self.c6_margin < 1 and 0 <= self.c8_margin < 1):
            raise ValueError(f"softness claim margins out of range: {self}")

    @classmethod
    def from_config(cls, claims: Mapping) -> "SoftnessCriteria":
        """From the config's ``claims`` section (its ``level``, ``softness_min_li_per_glass`` and
        the ``C4``, ``C5``, ``C6``, ``C8`` blocks)."""
        return cls(level=float(claims["level"]), min_li_per_glass=int(claims["softness_min_li_per_glass"]),
                   c4_margin=float(claims["C4"]["margin"]),
                   c5_fraction_margin=float(claims["C5"]["fraction_margin"]),
                   c5_p2s7_margin=float(claims["C5"]["p2s7_margin"]),
                   c5_min_group_li=int(claims["C5"]["min_group_li"]),
                   c6_margin=float(claims["C6"]["margin"]), c8_margin=float(claims["C8"]["margin"]))

    def part_level(self, parts: int) -> float:
        """Level of each part's interval of a claim of ``parts`` parts (Bonferroni, module docstring)."""
        return 1.0 - (1.0 - self.level) / parts


# unit of each claim's estimand (the region's unit when no interval carries it)
ESTIMAND_UNITS = {"C4": "softness per unit P2S6 fraction", "C6": "r", "C8": "r"}
CLAIM_KEYS = ("level", "softness_min_li_per_glass", "C4", "C5", "C6", "C8")  # what the softness_claims rule reads


# ---- verdicts ------------------------------------------------------------------------------------

def _scale(glasses: Sequence[GlassSoftness], ps: float | None, li: int, note: str = "") -> Scale:
    if not glasses:
        return Scale(note=note or "no glass")
    comps = sorted({g.composition for g in glasses})
    reps = [sum(g.composition == c for g in glasses) for c in comps]
    atoms = (min(g.atoms for g in glasses), max(g.atoms for g in glasses))
    return Scale(atoms=atoms, glasses=len(comps), replicas=max(reps), ps=ps, li=li,
                 note=note + ("" if min(reps) == max(reps) else f"{'; ' if note else ''}replicas {min(reps)}-{max(reps)}"))


def _usable(glasses: Sequence[GlassSoftness], crit: SoftnessCriteria) -> tuple[list, list]:
    used = [g for g in glasses if g.n_li >= crit.min_li_per_glass]
    return used, [g for g in glasses if g.n_li < crit.min_li_per_glass]


def _too_small(claim: str, estimand: str, region: Region, unit: str, glasses, excluded, crit: SoftnessCriteria,
               ps, need: int, why: str = "") -> Verdict:
    small = ", ".join(f"{g.name} ({g.n_li} Li)" for g in excluded)
    reason = why or (f"{len(glasses) - len(excluded)} glass(es) with >= {crit.min_li_per_glass} Li (need {need})"
                     + (f"; left out as too small: {small}" if small else ""))
    return Verdict(claim, estimand, None, region, unit, _scale(glasses, ps, sum(g.n_li for g in glasses)),
                   value_unit=ESTIMAND_UNITS.get(claim, ""), detail=reason, source=SOURCE, verdict=NOT_TESTED, why_not_tested=f"not tested{'' if why else ' at this scale'}: {reason}",
                   would_decide=(f"at least {need} glasses (replicas x compositions) of >= {crit.min_li_per_glass} Li "
                                 "each, e.g. the default study (5 compositions x 2 replicas of 258 Li) or config/paper.yaml"))


def _would_decide(verdict: str, interval: Interval | None, region: Region, n_units: int, unit: str) -> str:
    """The study that would decide (or overturn) a verdict other than holds: how many units would
    bring the interval's half-width below the distance of the estimate from the region's nearest
    boundary, if the estimate and the spread between units stay."""
    if verdict == HOLDS:
        return ""
    if interval is None:
        return f"an interval: more {unit} with the data this claim needs"
    bounds = [b for b in (region.low, region.high) if math.isfinite(b)]
    gap = min(abs(interval.estimate - b) for b in bounds)
    half = 0.5 * (interval.high - interval.low)
    if gap == 0:
        return f"the estimate lies on the margin: no number of {unit} decides unless it moves"
    if verdict == DOES_NOT_HOLD:
        return (f"overturned only by {unit} whose estimate lies {gap:.3g} nearer the margin, beyond this interval "
                "(e.g. glasses of the paper's size, config/paper.yaml)")
    need = max(n_units + 1, math.ceil(n_units * (half / gap) ** 2) + 1)
    if need > 1000:
        return f"no feasible number of {unit}: the estimate lies {gap:.3g} from the margin (now {n_units} {unit})"
    return f"~{need} {unit} (now {n_units}) if the estimate and the spread between {unit} stay"


def _part(claim: str, estimand: str, interval: Interval | None, region: Region, unit: str, scale: Scale,
          detail: str, n_units: int) -> Verdict:
    v = decide(interval, region)
    out = Verdict(claim, estimand, interval, region, unit, scale, detail=detail, source=SOURCE,
                  would_decide=_would_decide(v, interval, region, n_units, "glasses"))
    out.structured = _structured(out, n_units)
    return out


def _combined(claim: str, parts: list[Verdict], scale: Scale, detail: str) -> Verdict:
    """One verdict of a claim made of parts (``combine``); its interval and region are those of the
    deciding part: the first that does not hold, else the first not tested, else the first."""
    verdict = combine(p.verdict for p in parts)
    k = next((k for k, p in enumerate(parts) if p.verdict == verdict), 0)
    pick = parts[k]
    parts_text = "; ".join(f"part {j + 1} ({p.estimand}): {p.verdict}, "
                           + (p.interval.text() if p.interval is not None else "no interval")
                           + f" against {p.region.text(p.interval.unit if p.interval else '')} ({p.detail})"
                           for j, p in enumerate(parts))
    decide_text = "; ".join(f"part {j + 1}: {p.would_decide}" for j, p in enumerate(parts)
                            if p.would_decide and p.verdict == verdict)
    return Verdict(claim, f"{pick.estimand} (part {k + 1} of {len(parts)})", pick.interval, pick.region, pick.unit,
                   scale, detail=f"{parts_text}. {detail}", source=SOURCE, verdict=verdict,
                   why_not_tested=next((p.why_not_tested for p in parts if p.why_not_tested), ""),
                   would_decide=decide_text, structured=pick.structured)


def _structured(v: Verdict, n_glasses: int) -> dict:
    """Columns the study planner sizes a study from (``lipsglass.planning``)."""
    i = v.interval
    if i is None:
        return {}
    q = stats.norm.ppf(0.5 + i.level / 2)
    bounds = [b for b in (v.region.low, v.region.high) if math.isfinite(b)]
    return {"effect": f"{i.estimate:.6g}", "effect_se": f"{(i.high - i.low) / (2 * q):.6g}",
            "threshold": f"{min(bounds, key=lambda b: abs(b - i.estimate)):.6g}", "sample_size": str(n_glasses),
            "sample_unit": "glasses"}


def c4_claim(glasses: Sequence[GlassSoftness], crit: SoftnessCriteria, ps: float | None = None) -> Verdict:
    """C4 "the softness distribution shifts to higher softness as P2S6 falls and P2S7 rises".

    Estimand: the slope of a glass's mean Li softness on its P2S6 fraction of P (softness per unit
    fraction; negative is the paper's direction). Unit: the glass (replica): its mean over its Li is
    the datum, the Li of one glass being correlated. Interval: OLS over glasses, t with G - 2
    degrees of freedom (the residual holds replica scatter and any non-linearity). Region: slope
    below -``claims.C4.margin``. Not tested with fewer than 3 glasses or 2 distinct fractions."""
    estimand = "slope of a glass's mean Li softness on its P2S6 fraction of P"
    unit_text = "softness per unit P2S6 fraction"
    region = Region.below(-crit.c4_margin, f"C4 margin {crit.c4_margin:g} {unit_text}: a shift of mean softness "
                                           f"of {0.2 * crit.c4_margin:.2g} across the paper's 5-25 % P2S6")
    used, excluded = _usable(glasses, crit)
    if len(used) < 3:
        return _too_small("C4", estimand, region, "glass (replica)", glasses, excluded, crit, ps, 3)
    if len({g.p2s6_fraction for g in used}) < 2:
        return _too_small("C4", estimand, region, "glass (replica)", glasses, excluded, crit, ps, 3,
                          f"all {len(used)} glasses have one P2S6 fraction ({used[0].p2s6_fraction:.3g}): no slope")
    x = [g.p2s6_fraction for g in used]
    y = [float(np.mean(g.softness)) for g in used]
    interval = ols_slope_interval(x, y, crit.level, unit_text)
    within = math.sqrt(np.mean([np.var(g.softness, ddof=1) for g in used]))
    per = "; ".join(f"{g.name} (P2S6 {100 * g.p2s6_fraction:.0f} % of P, {g.n_li} Li): mean S {m:+.3f}"
                    for g, m in sorted(zip(used, y), key=lambda t: -t[0].p2s6_fraction))
    detail = (f"{per}. Spread of S within a glass (pooled sd) {within:.3g}; the slope is per unit fraction "
              "(x 0.2 gives the shift across 5-25 % P2S6).")
    return _part("C4", estimand, interval, region, "glass (replica)", _scale(used, ps, sum(g.n_li for g in used)),
                 detail, len(used))


def c5_claim(glasses: Sequence[GlassSoftness], crit: SoftnessCriteria, ps: float | None = None) -> Verdict:
    """C5 "Li near PS4 are mostly soft, Li near P2S6 mostly hard, Li near P2S7 near zero".

    Three parts, Li grouped by their anion environment (``softness.anion_assignment``):
    PS4: fraction of its Li with S > 0 above 0.5 + ``fraction_margin`` ("mostly"); P2S6: that
    fraction below 0.5 - ``fraction_margin``; P2S7: mean S within +-``p2s7_margin`` of 0
    (equivalence: "near zero" holds only by an interval inside the band). Each a ratio over the
    pooled Li of the glasses with a cluster-robust interval, the glass the cluster (t over the
    glasses that have Li of the group). A group with fewer than ``min_group_li`` Li in all: that
    part not tested. Part intervals at the Bonferroni level (module docstring)."""
    used, excluded = _usable(glasses, crit)
    level = crit.part_level(3)
    m, m7 = crit.c5_fraction_margin, crit.c5_p2s7_margin
    reason = f"'mostly': at least {0.5 + m:.2g} of the group's Li (C5 fraction_margin {m:g})"
    regions = {"PS4": Region.above(0.5 + m, reason), "P2S6": Region.below(0.5 - m, reason),
               "P2S7": Region.within(m7, f"'near zero': |mean S| < {m7:g} (C5 p2s7_margin; S = 0 is the hyperplane)")}
    estimands = {"PS4": "fraction soft (S > 0) of Li near PS4", "P2S6": "fraction soft (S > 0) of Li near P2S6",
                 "P2S7": "mean softness of Li near P2S7"}
    if len(used) < 2:
        return _too_small("C5", estimands["PS4"], regions["PS4"], "glass (replica)", glasses, excluded, crit, ps, 2)
    counts = {a: np.array([int(np.sum(g.near[a])) for g in used]) for a in ANIONS}
    scale = _scale(used, ps, int(sum(c.sum() for c in counts.values())), "Li near an anion type")
    parts = []
    for a in ("PS4", "P2S6", "P2S7"):
        n = counts[a]
        if a == "P2S7":
            num = np.array([float(np.sum(g.softness[g.near[a]])) for g in used])
            unit = "softness"
        else:
            num = np.array([float(np.sum(g.softness[g.near[a]] > 0)) for g in used])
            unit = "fraction"
        per = ", ".join(f"{g.name} {int(k)} Li" + (f" {v / k:.2f}" if k else "") for g, k, v in zip(used, n, num))
        if n.sum() < crit.c5_min_group_li:
            interval = None
            per += f" (fewer than {crit.c5_min_group_li} Li in all)"
        else:
            interval = cluster_ratio_interval(num, n, level, unit)
        parts.append(_part("C5", estimands[a], interval, regions[a], "glass (replica)", scale, per, len(used)))
    return _combined("C5", parts, scale, f"Part intervals at level {level:.3g} (Bonferroni over 3 parts); per glass "
                                         "in brackets: Li of the group and its fraction soft (PS4, P2S6) or mean S (P2S7).")


def c6_claim(glasses: Sequence[GlassSoftness], crit: SoftnessCriteria, ps: float | None = None) -> Verdict:
    """C6 "Pearson r between Li softness and the share of neighbouring S on P2S6 is about -0.96,
    and about +0.96 for PS4".

    The paper's r is of binned means (mean S per share bin) and shrinks toward 0 as bins get
    noisier: a per-Li r of -0.2 gives a median binned r near -0.93 at the paper's 2580 Li and
    -0.75 at the demo's 258 (shares of a real demo glass; :func:`median_binned_r`), so a binned
    r at this scale is no evidence either way. Decided instead on a size-independent form: the
    per-Li Pearson r within each glass (Li with S within the anion radius), its mean over glasses
    on Fisher's z with a t interval, the glass the unit. Region: r below -``claims.C6.margin``
    (P2S6) and above +margin (PS4), the margin being the per-Li |r| at which the median binned r
    at the paper's 2580 Li reaches 0.90, the low end of "about 0.96" (:func:`per_li_r_for_binned_r`
    on the shares of the real P2S6-25 glass: 0.17 for P2S6, 0.15 for PS4; the test suite
    recomputes it). A weaker per-Li correlation could not have given the paper's binned value at
    its size; a stronger one would. The binned r of each glass is reported beside it, labelled as
    size-dependent."""
    used, excluded = _usable(glasses, crit)
    level = crit.part_level(2)
    m = crit.c6_margin
    reason = (f"C6 margin {m:g}: the per-Li |r| whose median binned r at the paper's {PAPER_LI} Li is "
              f"{BINNED_R_LOW_END} (low end of 'about {PAPER_BINNED_R}')")
    spec = (("P2S6", "share_p2s6", Region.below(-m, reason)), ("PS4", "share_ps4", Region.above(m, reason)))
    if len(used) < 2:
        return _too_small("C6", "mean within-glass per-Li r(S, P2S6 share of neighbouring S)", spec[0][2],
                          "glass (replica)", glasses, excluded, crit, ps, 2)
    has_s = [np.isfinite(g.share_p2s6) & np.isfinite(g.share_ps4) for g in used]
    scale = _scale(used, ps, int(sum(h.sum() for h in has_s)), "Li with S within the anion radius")
    parts = []
    for anion, attr, region in spec:
        rs = np.array([pearson_r(getattr(g, attr)[h], g.softness[h]) if h.sum() >= 10 else np.nan
                       for g, h in zip(used, has_s)])
        binned = [binned_r(getattr(g, attr)[h], g.softness[h]) for g, h in zip(used, has_s)]
        per = ", ".join(f"{g.name} r {r:+.3f} (binned {b:+.2f})" for g, r, b in zip(used, rs, binned))
        parts.append(_part("C6", f"mean within-glass per-Li r(S, {anion} share of neighbouring S)",
                           fisher_t_interval(rs, level), region, "glass (replica)", scale, per,
                           int(np.isfinite(rs).sum())))
    return _combined("C6", parts, scale, f"Part intervals at level {level:.3g} (Bonferroni over 2 parts). Binned r "
                                         "(paper's statistic) per glass in brackets: it depends on the Li count, "
                                         "not decided on.")


def c8_claim(glasses: Sequence[GlassSoftness], crit: SoftnessCriteria, ps: float | None = None) -> Verdict:
    """C8 "softer Li have higher potential energy and larger Voronoi volume".

    Two parts: the per-Li Pearson r of S with the Li's potential energy and with its Voronoi
    volume within each glass (so composition offsets of S, pe or volume cannot make a correlation),
    mean over glasses on Fisher's z with a t interval, the glass the unit. Region: r above
    ``claims.C8.margin`` for both (a correlation below it explains under 1 % of the variance)."""
    used, excluded = _usable(glasses, crit)
    used = [g for g in used if g.pe_kcal_mol is not None and g.voronoi_A3 is not None]
    level = crit.part_level(2)
    m = crit.c8_margin
    region = Region.above(m, f"C8 margin {m:g}: r^2 = {m * m:.2g}, a correlation that explains under 1 % of the "
                             "variance is no effect of interest")
    if len(used) < 2:
        return _too_small("C8", "mean within-glass per-Li r(S, potential energy)", region, "glass (replica)", glasses,
                          excluded, crit, ps, 2)
    scale = _scale(used, ps, sum(g.n_li for g in used))
    parts = []
    for what, attr in (("potential energy", "pe_kcal_mol"), ("Voronoi volume", "voronoi_A3")):
        rs = np.array([pearson_r(g.softness, getattr(g, attr)) for g in used])
        per = ", ".join(f"{g.name} r {r:+.3f}" for g, r in zip(used, rs))
        parts.append(_part("C8", f"mean within-glass per-Li r(S, {what})", fisher_t_interval(rs, level), region,
                           "glass (replica)", scale, per, int(np.isfinite(rs).sum())))
    return _combined("C8", parts, scale, f"Part intervals at level {level:.3g} (Bonferroni over 2 parts).")


def softness_claims(glasses: Sequence[GlassSoftness], crit: SoftnessCriteria, ps: float | None = None) -> list[Verdict]:
    """The verdicts of C4, C5, C6 and C8 (the ``softness_claims`` rule)."""
    return [c4_claim(glasses, crit, ps), c5_claim(glasses, crit, ps), c6_claim(glasses, crit, ps),
            c8_claim(glasses, crit, ps)]


def report_markdown(verdicts: Sequence[Verdict], statements: Mapping[str, str], glasses: Sequence[GlassSoftness]) -> str:
    """``softness_claims.md``: one section per claim with its per-glass detail."""
    names = ", ".join(f"{g.name} ({g.n_li} Li)" for g in glasses)
    lines = ["# Softness claims (C4, C5, C6, C8)", "", f"Glasses: {names}. Softness from the pooled model.", ""]
    for v in verdicts:
        r = v.row()
        est = "-" if v.interval is None else v.interval.text()
        lines += [f"## {v.claim}: {v.verdict}", "", f"*Paper:* {statements.get(v.claim, '')}", "",
                  f"- Estimand: {v.estimand}", f"- Estimate: {est}", f"- Claim's region: {r['region']}",
                  f"- Margin: {v.region.reason}", f"- Unit of independence: {v.unit}", f"- Scale: {r['scale']}",
                  f"- Detail: {v.detail}"]
        decide_text = "; ".join(t for t in (v.why_not_tested, v.would_decide) if t)
        if decide_text:
            lines.append(f"- What would decide it: {decide_text}")
        lines.append("")
    return "\n".join(lines)


# ---- calibration -----------------------------------------------------------------------------------

CORRELATION_LENGTH_A = 8.0      # of the simulated softness fields (the measured smooth null)
DEMO_FRACTIONS = (0.25, 0.20, 0.15, 0.10, 0.05)   # P2S6 fraction of P of the default study's compositions
DEMO_REPLICAS = 2
REAL_GLASS = CALIBRATION_GLASS


@functools.lru_cache(maxsize=1)
def real_glass() -> dict:
    """Li of a real demo glass (P2S6-25 r1 of the default study, 258 Li in a 25.9 A cell): their
    anion shares and groups (majority within 5 A, as the default config) and the factor F of a
    unit Gaussian field on their positions with covariance exp(-d^2 / (2 l^2)), l =
    :data:`CORRELATION_LENGTH_A`, d the minimum-image distance (field = F @ normal draws)."""
    with tempfile.TemporaryDirectory(prefix="lipsglass-claims-") as tmp:
        path = Path(tmp) / "glass.data"
        path.write_bytes(gzip.decompress(REAL_GLASS.read_bytes()))
        data = read_data(path)
    elements = data.elements()
    pos = data.box.wrap(data.positions)
    spec = speciate(data.box, elements, pos)
    li = np.flatnonzero(elements == "Li")
    s_anion = np.where((elements == "S") & np.isin(spec.unit, ANION_TYPES), spec.unit, "")
    env = anion_environment(data.box, pos, li, s_anion, 5.0)
    d = pos[li][:, None, :] - pos[li][None, :, :]
    lengths = np.asarray(data.box.lengths, float)
    d -= np.round(d / lengths) * lengths
    cov = np.exp(-np.sum(d ** 2, axis=2) / (2 * CORRELATION_LENGTH_A ** 2))
    w, v = np.linalg.eigh(cov)
    factor = v * np.sqrt(np.clip(w, 0, None))
    # the minimum-image kernel is not quite positive definite: negative eigenvalues clipped, then
    # each Li's variance set back to 1
    factor /= np.sqrt(np.sum(factor ** 2, axis=1))[:, None]
    shares = {a: env.shares[:, k] for k, a in enumerate(ANION_TYPES)}
    return {"n_li": len(li), "atoms": len(elements), "factor": factor, "share_p2s6": shares["P2S6"],
            "share_ps4": shares["PS4"], "near": {a: np.asarray(env.majority) == a for a in ANIONS}}


def within_glass_field_variance() -> float:
    """Expected variance of the unit field about its mean over one glass's Li: 1 - mean covariance."""
    f = real_glass()["factor"]
    return float(1.0 - np.mean(f @ f.T))


def _field(rng, k: int = 1) -> np.ndarray:
    """k unit-variance correlated fields on the real glass's Li (shape (k, n_li))."""
    f = real_glass()["factor"]
    return (f @ rng.normal(size=(f.shape[1], k))).T


def _glass(k: int, softness, pe=None, voronoi=None) -> GlassSoftness:
    g = real_glass()
    comp = DEMO_FRACTIONS[k // DEMO_REPLICAS]
    return GlassSoftness(f"P2S6-{round(100 * comp)}", str(1 + k % DEMO_REPLICAS), comp, g["atoms"], softness,
                         g["share_p2s6"], g["share_ps4"], g["near"], pe, voronoi)


N_GLASSES = len(DEMO_FRACTIONS) * DEMO_REPLICAS
DESIGN = (f"{len(DEMO_FRACTIONS)} compositions x {DEMO_REPLICAS} replicas of the real 258-Li demo glass geometry, "
          f"unit Gaussian softness field (correlation length {CORRELATION_LENGTH_A:g} A)")


def _count(verdicts: list[str]) -> dict:
    n = len(verdicts)
    return {v: sum(x == v for x in verdicts) / n for v in (HOLDS, DOES_NOT_HOLD, NOT_TESTED)}


def _calibrate(claim, simulate, null_value, planted_value, seed, n_draws, crit, texts) -> Calibration:
    rng = np.random.default_rng(seed)
    with threadpool_limits(1):  # small matrix products: threads cost more than they give
        null = _count([simulate(rng, crit, null_value).verdict for _ in range(n_draws)])
        power = _count([simulate(rng, crit, planted_value).verdict for _ in range(n_draws)])
    return Calibration(claim, n_draws=n_draws, nominal=(1 - crit.level) / 2, false_holds=null[HOLDS],
                       false_does_not_hold=null[DOES_NOT_HOLD], power=power[HOLDS], **texts)


GLASS_SD = 0.2          # sd of a glass's offset of S (replica and composition scatter), softness units


def simulate_c4(rng, crit: SoftnessCriteria, slope: float) -> Verdict:
    """C4 on simulated glasses: S of each glass = slope x P2S6 fraction + glass offset (sd
    :data:`GLASS_SD`) + the correlated field."""
    fields = _field(rng, N_GLASSES)
    offsets = rng.normal(0, GLASS_SD, N_GLASSES)
    return c4_claim([_glass(k, slope * DEMO_FRACTIONS[k // DEMO_REPLICAS] + offsets[k] + fields[k])
                     for k in range(N_GLASSES)], crit)


def simulate_c5(rng, crit: SoftnessCriteria, parts: tuple[float, float, float]) -> Verdict:
    """C5 on simulated glasses: S = group mean + glass offset + correlated field, Li groups of the
    real glass; ``parts`` = (PS4 fraction soft, P2S6 fraction soft, P2S7 mean S) in expectation."""
    sd = math.sqrt(1 + GLASS_SD ** 2)   # S of a Li: field (1) and glass offset
    f_ps4, f_p2s6, m_p2s7 = parts
    mu = {"PS4": sd * stats.norm.ppf(f_ps4), "P2S6": sd * stats.norm.ppf(f_p2s6), "P2S7": m_p2s7}
    near = real_glass()["near"]
    base = np.zeros(real_glass()["n_li"])
    for a in ANIONS:
        base[near[a]] = mu[a]
    fields = _field(rng, N_GLASSES)
    offsets = rng.normal(0, GLASS_SD, N_GLASSES)
    return c5_claim([_glass(k, base + offsets[k] + fields[k]) for k in range(N_GLASSES)], crit)


@functools.lru_cache(maxsize=1)
def _standardised_shares() -> tuple[np.ndarray, np.ndarray, float]:
    g = real_glass()
    z6 = np.nan_to_num((g["share_p2s6"] - np.nanmean(g["share_p2s6"])) / np.nanstd(g["share_p2s6"]))
    z4 = np.nan_to_num((g["share_ps4"] - np.nanmean(g["share_ps4"])) / np.nanstd(g["share_ps4"]))
    return z6, z4, float(np.mean(z6 * z4))


def simulate_c6(rng, crit: SoftnessCriteria, rhos: tuple[float, float]) -> Verdict:
    """C6 on simulated glasses: S = a z6 + b z4 + c field (z: the real glass's standardised P2S6
    and PS4 shares, correlated with each other) with a, b, c set so that r(S, P2S6 share) = -rho6
    and r(S, PS4 share) = +rho4 in each glass, the glass's rho6 and rho4 = the given ones x
    (1 + 0.25 w), w normal (glass-to-glass spread of the true correlations)."""
    z6, z4, kappa = _standardised_shares()
    within = within_glass_field_variance()
    fields = _field(rng, N_GLASSES)
    spread = np.clip(1 + 0.25 * rng.normal(size=N_GLASSES), 0.0, 2.0)  # +-4 sd: keeps |r| feasible
    glasses = []
    for k in range(N_GLASSES):
        r6, r4 = -rhos[0] * spread[k], rhos[1] * spread[k]
        a, b = (r6 - kappa * r4) / (1 - kappa ** 2), (r4 - kappa * r6) / (1 - kappa ** 2)
        # the field's variance about its glass mean is `within` (< 1: smooth over the cell), so the
        # glass's sample r are r6 and r4 in expectation
        c = math.sqrt((1 - (a * a + b * b + 2 * a * b * kappa)) / within)
        glasses.append(_glass(k, a * z6 + b * z4 + c * fields[k]))
    return c6_claim(glasses, crit)


def simulate_c8(rng, crit: SoftnessCriteria, rhos: tuple[float, float]) -> Verdict:
    """C8 on simulated glasses: S, pe and Voronoi volume correlated fields of each glass with glass
    offsets; pe = rho_pe S + sqrt(1 - rho_pe^2) field', volume likewise with rho_vo and field''."""
    f = _field(rng, 3 * N_GLASSES).reshape(N_GLASSES, 3, -1)
    off = rng.normal(0, GLASS_SD, (N_GLASSES, 3))
    (r1, r2), (c1, c2) = rhos, (math.sqrt(1 - rhos[0] ** 2), math.sqrt(1 - rhos[1] ** 2))
    return c8_claim([_glass(k, f[k, 0] + off[k, 0], r1 * f[k, 0] + c1 * f[k, 1] + off[k, 1],
                            r2 * f[k, 0] + c2 * f[k, 2] + off[k, 2]) for k in range(N_GLASSES)], crit)


def calibrate_c4(seed: int = 0, n_draws: int = 400, crit: SoftnessCriteria = SoftnessCriteria()) -> Calibration:
    """C4 (:func:`simulate_c4`): null slope -margin, planted slope -6 (a mean shift of 1.2 across
    5-25 %)."""
    planted = -6.0
    return _calibrate("C4", simulate_c4, -crit.c4_margin, planted, seed, n_draws, crit, {
        "estimand": "slope of glass mean S on P2S6 fraction", "unit": "glass (replica)",
        "margin": f"< -{crit.c4_margin:g} per unit fraction",
        "null": f"{DESIGN}, glass offsets sd {GLASS_SD:g}; slope -{crit.c4_margin:g}",
        "planted": f"slope {planted:g} (shift {-0.2 * planted:g} across 5-25 % P2S6), same design"})


def calibrate_c5(seed: int = 0, n_draws: int = 400, crit: SoftnessCriteria = SoftnessCriteria()) -> Calibration:
    """C5 (:func:`simulate_c5`): null every part on its margin (least favourable for "does not
    hold"); planted PS4 fraction soft 0.8, P2S6 0.2, P2S7 mean 0."""
    m, m7 = crit.c5_fraction_margin, crit.c5_p2s7_margin
    return _calibrate("C5", simulate_c5, (0.5 + m, 0.5 - m, m7), (0.8, 0.2, 0.0), seed, n_draws, crit, {
        "estimand": "fraction soft near PS4 / P2S6, mean S near P2S7", "unit": "glass (replica), cluster-robust",
        "margin": f"PS4 > {0.5 + m:g}, P2S6 < {0.5 - m:g}, P2S7 within +-{m7:g}",
        "null": f"{DESIGN}, glass offsets sd {GLASS_SD:g}; every part on its margin",
        "planted": "PS4 fraction soft 0.8, P2S6 0.2, P2S7 mean 0"})


def calibrate_c6(seed: int = 0, n_draws: int = 400, crit: SoftnessCriteria = SoftnessCriteria()) -> Calibration:
    """C6 (:func:`simulate_c6`): null both true r on the margin; planted: the per-Li r giving the
    paper's median binned r 0.96 at 2580 Li."""
    planted = paper_per_li_r()
    return _calibrate("C6", simulate_c6, (crit.c6_margin,) * 2, (planted,) * 2, seed, n_draws, crit, {
        "estimand": "mean within-glass per-Li r(S, P2S6 / PS4 share)", "unit": "glass (replica), Fisher z",
        "margin": f"P2S6 < -{crit.c6_margin:g}, PS4 > +{crit.c6_margin:g}",
        "null": f"{DESIGN}; both true r on the margin, glass-to-glass sd 25 % of r",
        "planted": f"per-Li r -/+{planted:.2f} (the paper's binned 0.96 at {PAPER_LI} Li)"})


@functools.lru_cache(maxsize=1)
def paper_per_li_r() -> float:
    """The per-Li |r| (P2S6 shares of the real demo glass) whose median binned r at the paper's
    2580 Li is the paper's 0.96."""
    return per_li_r_for_binned_r(PAPER_BINNED_R, real_glass()["share_p2s6"], n_sim=200)


def calibrate_c8(seed: int = 0, n_draws: int = 400, crit: SoftnessCriteria = SoftnessCriteria()) -> Calibration:
    """C8 (:func:`simulate_c8`): null both true r on the margin, planted both 0.3."""
    planted = 0.3
    return _calibrate("C8", simulate_c8, (crit.c8_margin,) * 2, (planted,) * 2, seed, n_draws, crit, {
        "estimand": "mean within-glass per-Li r(S, pe) and r(S, Voronoi volume)", "unit": "glass (replica), Fisher z",
        "margin": f"both > {crit.c8_margin:g}", "null": f"{DESIGN}, pe and volume fields alike; both true r on the margin",
        "planted": f"both r {planted:g}"})


def verdict_rates(simulate, crit: SoftnessCriteria, value, seed: int = 0, n_draws: int = 400) -> dict:
    """Fractions of each verdict of ``simulate(rng, crit, value)`` over ``n_draws`` draws."""
    rng = np.random.default_rng(seed)
    with threadpool_limits(1):
        return _count([simulate(rng, crit, value).verdict for _ in range(n_draws)])


CALIBRATIONS = {"C4": calibrate_c4, "C5": calibrate_c5, "C6": calibrate_c6, "C8": calibrate_c8}
