"""The one decision rule of every claim: an interval on the claim's estimand against the claim's
region, fixed in advance by a margin.

* **holds**: the interval lies inside the region;
* **does not hold**: the interval lies entirely outside it (it excludes the region);
* **not tested**: anything else (the interval straddles a boundary, or there is no interval),
  with the study that would decide it.

A claim of an effect ("softness rises as P2S6 falls") has a one-sided region beyond its smallest
effect of interest (``Region.above(m)``); a claim of no effect ("distances do not differ") has the
equivalence region ``Region.within(m)``, so it holds only by equivalence, never by a test that
failed to reject. With a two-sided interval at level 1 - 2a, each of the two wrong verdicts errs
at most a at the region's boundary (two one-sided tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

VERDICTS = ("holds", "does not hold", "not tested")
HOLDS, DOES_NOT_HOLD, NOT_TESTED = VERDICTS
DEFAULT_LEVEL = 0.90  # two-sided: each wrong verdict at most 5 % at the margin


@dataclass(frozen=True)
class Interval:
    """A two-sided confidence interval of an estimand (``level`` e.g. 0.90), with how it was made
    (``method``: e.g. "t over 5 glasses") and the unit of the numbers (``unit``: e.g. "eV")."""

    estimate: float
    low: float
    high: float
    level: float
    method: str = ""
    unit: str = ""

    def __post_init__(self):
        if not self.low <= self.high:
            raise ValueError(f"interval [{self.low}, {self.high}] has low above high")
        if not 0 < self.level < 1:
            raise ValueError(f"interval level {self.level} not in (0, 1)")

    @property
    def finite(self) -> bool:
        return all(math.isfinite(v) for v in (self.estimate, self.low, self.high))

    def text(self, digits: int = 3) -> str:
        u = f" {self.unit}" if self.unit else ""
        return f"{self.estimate:.{digits}g} [{self.low:.{digits}g}, {self.high:.{digits}g}]{u} ({self.level:.0%})"


def t_interval(values, level: float = DEFAULT_LEVEL, unit: str = "", what: str = "units") -> Interval | None:
    """Student-t interval of the mean of independent ``values`` (one per unit of independence,
    e.g. per glass); None with fewer than 2 finite values."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return None
    m, se = float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v)))
    h = float(stats.t.ppf(0.5 + level / 2, len(v) - 1)) * se
    return Interval(m, m - h, m + h, level, f"t over {len(v)} {what}", unit)


def se_interval(estimate: float, se: float, level: float = DEFAULT_LEVEL, dof: float | None = None,
                unit: str = "", method: str = "") -> Interval | None:
    """estimate +- q se with q from t(dof) (normal when dof is None); None when not finite."""
    if not (math.isfinite(estimate) and math.isfinite(se) and se >= 0) or (dof is not None and dof < 1):
        return None
    q = float(stats.norm.ppf(0.5 + level / 2) if dof is None else stats.t.ppf(0.5 + level / 2, dof))
    return Interval(estimate, estimate - q * se, estimate + q * se, level, method, unit)


@dataclass(frozen=True)
class Region:
    """Where the claim's estimand must lie for the claim to hold: [low, high] (either may be
    infinite). ``reason``: why the margin is what it is (from the config)."""

    low: float = -math.inf
    high: float = math.inf
    reason: str = ""

    @classmethod
    def above(cls, margin: float, reason: str = "") -> "Region":
        return cls(margin, math.inf, reason)

    @classmethod
    def below(cls, margin: float, reason: str = "") -> "Region":
        return cls(-math.inf, margin, reason)

    @classmethod
    def within(cls, margin: float, reason: str = "") -> "Region":
        """Equivalence region +- margin (a claim of no effect)."""
        if not margin > 0:
            raise ValueError(f"an equivalence margin must be positive, got {margin}")
        return cls(-margin, margin, reason)

    def text(self, unit: str = "", digits: int = 3) -> str:
        u = f" {unit}" if unit else ""
        if math.isinf(self.low) and math.isinf(self.high):
            return "any value"
        if math.isinf(self.high):
            return f"> {self.low:.{digits}g}{u}"
        if math.isinf(self.low):
            return f"< {self.high:.{digits}g}{u}"
        if self.low == -self.high:
            return f"within +-{self.high:.{digits}g}{u}"
        return f"in [{self.low:.{digits}g}, {self.high:.{digits}g}]{u}"


def decide(interval: Interval | None, region: Region) -> str:
    """The verdict of ``interval`` against ``region`` (module docstring)."""
    if interval is None or not interval.finite:
        return NOT_TESTED
    if region.low <= interval.low and interval.high <= region.high:
        return HOLDS
    if interval.high < region.low or interval.low > region.high:
        return DOES_NOT_HOLD
    return NOT_TESTED


def combine(verdicts) -> str:
    """A claim made of parts that must all hold (e.g. "within 2.0-2.2 A in every anion"): holds
    when every part holds, does not hold when any part does not hold, otherwise not tested."""
    verdicts = list(verdicts)
    if not verdicts:
        return NOT_TESTED
    if any(v == DOES_NOT_HOLD for v in verdicts):
        return DOES_NOT_HOLD
    return HOLDS if all(v == HOLDS for v in verdicts) else NOT_TESTED


def union_level(level: float, n_parts: int) -> float:
    """Interval level of each of ``n_parts`` parts for "does not hold" of a claim whose parts must
    all hold: one part outside its region refutes the claim, so a false "does not hold" may come
    from any part; Bonferroni over the parts keeps it at (1 - level) / 2 overall. ("Holds" needs
    every part inside at ``level``: an intersection-union test, no correction.)"""
    return 1.0 - (1.0 - level) / max(1, int(n_parts))


def decide_parts(at_level, at_union_level, regions) -> str:
    """The verdict of a claim made of parts (lists in the same order): holds when every part's
    ``level`` interval lies inside its region, does not hold when some part's
    :func:`union_level` interval lies entirely outside, otherwise not tested."""
    at_level, at_union_level, regions = list(at_level), list(at_union_level), list(regions)
    if not regions:
        return NOT_TESTED
    if any(decide(i, r) == DOES_NOT_HOLD for i, r in zip(at_union_level, regions)):
        return DOES_NOT_HOLD
    return HOLDS if all(decide(i, r) == HOLDS for i, r in zip(at_level, regions)) else NOT_TESTED


@dataclass(frozen=True)
class Scale:
    """The size of the evidence behind a verdict: atoms per glass, glasses (compositions) x
    replicas, ps per run, and where they matter the hops or Li that are the samples."""

    atoms: int | tuple[int, int] | None = None
    glasses: int | None = None
    replicas: int | None = None
    ps: float | None = None
    hops: int | None = None
    li: int | None = None
    note: str = ""

    def text(self) -> str:
        parts = []
        if self.glasses is not None:
            parts.append(f"{self.glasses} glass{'es' if self.glasses != 1 else ''}"
                         + (f" x {self.replicas} replica{'s' if self.replicas != 1 else ''}"
                            if self.replicas is not None else ""))
        if self.atoms is not None:
            a = self.atoms
            parts.append(f"{a[0]}-{a[1]} atoms" if isinstance(a, tuple) and a[0] != a[1]
                         else f"{a[0] if isinstance(a, tuple) else a} atoms")
        if self.ps is not None:
            parts.append(f"{self.ps:g} ps")
        if self.li is not None:
            parts.append(f"{self.li} Li")
        if self.hops is not None:
            parts.append(f"{self.hops} hop{'s' if self.hops != 1 else ''}")
        if self.note:
            parts.append(self.note)
        return ", ".join(parts) or "no data"


@dataclass
class Verdict:
    """A claim's verdict with its evidence.

    ``estimand``: what the interval is of, in words (e.g. "slope of Ea on the P2S6 fraction of P");
    ``unit``: the unit of independence of the interval (e.g. "glass", "replica", "hop");
    ``detail``: the per-glass numbers and the criterion in full (the claim's page, not the table);
    ``would_decide``: for a verdict other than holds, the study that would decide or overturn it;
    ``structured``: optional columns the study planner sizes a study from (effect, effect_se,
    threshold, sample_size, sample_unit)."""

    claim: str
    estimand: str
    interval: Interval | None
    region: Region
    unit: str
    scale: Scale
    detail: str = ""
    source: str = ""
    would_decide: str = ""
    verdict: str = field(default="")
    why_not_tested: str = ""
    structured: dict = field(default_factory=dict)
    value_unit: str = ""    # unit of the estimand, for the region when there is no interval to carry it

    def __post_init__(self):
        if not self.verdict:
            self.verdict = decide(self.interval, self.region)
        if self.verdict not in VERDICTS:
            raise ValueError(f"claim {self.claim}: verdict {self.verdict!r} not in {VERDICTS}")
        if self.verdict != NOT_TESTED and self.interval is None:
            raise ValueError(f"claim {self.claim}: a verdict of {self.verdict!r} needs an interval")

    def row(self) -> dict:
        """The claim-table row (:data:`lipsglass.claims.scorecard.CLAIM_COLUMNS`)."""
        i = self.interval
        value_unit = i.unit if i is not None and i.unit else self.value_unit
        row = {
            "claim": self.claim, "verdict": self.verdict, "estimand": self.estimand,
            "estimate": "" if i is None else f"{i.estimate:.6g}",
            "ci_low": "" if i is None else f"{i.low:.6g}", "ci_high": "" if i is None else f"{i.high:.6g}",
            "level": "" if i is None else f"{i.level:g}", "interval_method": "" if i is None else i.method,
            "value_unit": value_unit, "region": self.region.text(value_unit),
            "region_low": f"{self.region.low:.6g}", "region_high": f"{self.region.high:.6g}",
            "margin_reason": self.region.reason,
            "unit_of_independence": self.unit, "scale": self.scale.text(), "detail": self.detail,
            "source": self.source, "would_decide": self.would_decide, "why_not_tested": self.why_not_tested,
        }
        row.update({k: v for k, v in self.structured.items() if v is not None})
        return row
