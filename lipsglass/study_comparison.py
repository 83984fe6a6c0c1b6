"""Two finished studies compared within their standard errors (issue 28: "the default study's
results stay within their standard errors if its MD setting changes").

Every result of a study that carries a standard error enters (:func:`study_quantities`):

- per glass composition and temperature: Li D and the Nernst-Einstein conductivity, SE between
  the replicas (``results/<glass>/transport/diffusion.csv``);
- per glass: the density of the quenched glasses (SE between replicas) and Tg from volume and
  enthalpy where resolved (profile-likelihood SE of the replica-averaged ramp) (``tg.json``);
- every claim's estimate with an interval (``results/summary/*_claims.csv``): SE = interval
  width / (2 z) at the interval's level;
- NEB: median forward barrier of each glass and hop class, SE from its interval
  (``results/summary/neb_summary.csv``, 95 % intervals).

Two studies that differ only in a setting that leaves the physics unchanged give, quantity by
quantity, ``z = (b - a) / sqrt(SE_a^2 + SE_b^2)`` ~ N(0, 1) (independent trajectories). The
criterion, fixed before the comparison: the largest |z| stays below the two-sided Bonferroni bound
of the family at ``FAMILY_LEVEL`` (:func:`agreement`), so that a study pair of unchanged physics
fails with probability <= 1 - FAMILY_LEVEL whatever the number of quantities (the quantities are
positively correlated, which only lowers that rate). tests/test_study_comparison.py measures the
rate on a null and the power on a planted shift.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from lipsglass.core.tables import read_rows

FAMILY_LEVEL = 0.95      # family-wise confidence of "every quantity agrees"
NEB_SUMMARY_LEVEL = 0.95  # level of neb_summary.csv's median intervals (lipsglass.neb.barrier_statistics)


@dataclass(frozen=True)
class Estimate:
    value: float
    se: float
    unit: str


@dataclass(frozen=True)
class Difference:
    quantity: str
    unit: str
    a: float
    se_a: float
    b: float
    se_b: float

    @property
    def z(self) -> float:
        return (self.b - self.a) / math.hypot(self.se_a, self.se_b)

    def to_dict(self) -> dict:
        return dict(asdict(self), z=self.z)


def se_from_interval(low: float, high: float, level: float) -> float:
    """The standard error of a (near-)normal estimate whose two-sided interval at ``level`` is [low, high]."""
    return (high - low) / (2.0 * stats.norm.ppf(0.5 + level / 2.0))


def _finite(*values) -> bool:
    try:
        return all(math.isfinite(float(v)) for v in values)
    except (TypeError, ValueError):
        return False


def study_quantities(study: str | Path) -> dict[str, Estimate]:
    """Every result of the finished study ``study`` (a folder holding ``results/``) with an SE > 0."""
    results = Path(study) / "results"
    out: dict[str, Estimate] = {}

    def add(name: str, value, se, unit: str) -> None:
        if _finite(value, se) and float(se) > 0:
            out[name] = Estimate(float(value), float(se), unit)

    for table in sorted(results.glob("*/transport/diffusion.csv")):
        glass = table.parents[1].name
        for row in read_rows(table):
            T = f"{float(row['T_K']):g} K"
            add(f"{glass} D(Li) {T}", row["D_cm2_s"], row["D_stderr_cm2_s"], "cm^2/s")
            add(f"{glass} sigma_NE {T}", row["sigma_NE_S_cm"], row["sigma_NE_stderr_S_cm"], "S/cm")
    for tg_file in sorted(results.glob("*/tg.json")):
        glass = tg_file.parent.name
        tg = json.loads(tg_file.read_text())
        density = tg.get("glass_density") or {}
        add(f"{glass} glass density", density.get("mean_g_cm3"), density.get("stderr_g_cm3"), "g/cm^3")
        for quantity in ("volume", "enthalpy"):
            fit = tg.get(quantity) or {}
            if fit.get("resolved"):
                add(f"{glass} Tg ({quantity})", fit.get("Tg_K"), fit.get("Tg_stderr_K"), "K")
    for table in sorted((results / "summary").glob("*_claims.csv")):
        for row in read_rows(table):
            if _finite(row.get("estimate"), row.get("ci_low"), row.get("ci_high"), row.get("level")):
                add(f"{row['claim']} estimate ({row['estimand']})", row["estimate"],
                    se_from_interval(float(row["ci_low"]), float(row["ci_high"]), float(row["level"])),
                    row.get("value_unit", ""))
    neb = results / "summary" / "neb_summary.csv"
    if neb.exists():
        for row in read_rows(neb):
            if row.get("kind") == "class" and _finite(row.get("median_ci_low_eV"), row.get("median_ci_high_eV")):
                add(f"{row['glass']} NEB median barrier {row['class']}", row["median_eV"],
                    se_from_interval(float(row["median_ci_low_eV"]), float(row["median_ci_high_eV"]),
                                     NEB_SUMMARY_LEVEL), "eV")
    return out


def compare(a: dict[str, Estimate], b: dict[str, Estimate]) -> tuple[list[Difference], list[str]]:
    """The differences of the quantities both studies have, and the names only one of them has."""
    both = sorted(set(a) & set(b))
    diffs = [Difference(k, a[k].unit, a[k].value, a[k].se, b[k].value, b[k].se) for k in both]
    return diffs, sorted(set(a) ^ set(b))


def bonferroni_z(n: int, level: float = FAMILY_LEVEL) -> float:
    """|z| bound of each of ``n`` two-sided tests for a family-wise ``level``."""
    return float(stats.norm.ppf(1.0 - (1.0 - level) / (2.0 * max(n, 1))))


def agreement(diffs: list[Difference], level: float = FAMILY_LEVEL) -> dict:
    """Whether every difference lies within the family-wise bound, with the counts beyond 2 and 3 SE."""
    if not diffs:
        return {"passed": None, "n": 0, "z_bound": None, "max_abs_z": None, "worst": None,
                "n_beyond_2": 0, "n_beyond_3": 0, "expected_beyond_2": 0.0}
    z = np.array([d.z for d in diffs])
    worst = diffs[int(np.argmax(np.abs(z)))]
    bound = bonferroni_z(len(diffs), level)
    return {"passed": bool(np.max(np.abs(z)) < bound), "n": len(diffs), "z_bound": bound,
            "max_abs_z": float(np.max(np.abs(z))), "worst": worst.quantity,
            "n_beyond_2": int(np.sum(np.abs(z) > 2)), "n_beyond_3": int(np.sum(np.abs(z) > 3)),
            "expected_beyond_2": float(len(diffs) * 2 * stats.norm.sf(2.0))}


def markdown(diffs: list[Difference], only_one: list[str], summary: dict, label_a: str, label_b: str) -> str:
    lines = [f"| quantity | unit | {label_a} | SE | {label_b} | SE | z |", "|---|---|---|---|---|---|---|"]
    for d in diffs:
        lines.append(f"| {d.quantity} | {d.unit} | {d.a:.4g} | {d.se_a:.2g} | {d.b:.4g} | {d.se_b:.2g} | {d.z:+.2f} |")
    verdict = {True: "agree", False: "DISAGREE", None: "nothing to compare"}[summary["passed"]]
    lines += ["", f"{summary['n']} quantities: {verdict} (max |z| {summary['max_abs_z']:.2f} at '{summary['worst']}'; "
              f"family-wise {FAMILY_LEVEL:.0%} bound |z| < {summary['z_bound']:.2f}); "
              f"{summary['n_beyond_2']} beyond 2 SE (expected {summary['expected_beyond_2']:.1f} by chance), "
              f"{summary['n_beyond_3']} beyond 3 SE"] if summary["n"] else ["", "no quantity in common"]
    if only_one:
        lines.append(f"in one study only (not compared): {', '.join(only_one)}")
    return "\n".join(lines)
