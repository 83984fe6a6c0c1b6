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

Each estimate carries the degrees of freedom of its SE: n - 1 for an SE between n replicas (two
replicas give one), infinite for an SE from many atoms, hops or bootstrap resamples. Two studies
that differ only in a setting that leaves the physics unchanged give, quantity by quantity,
``t = (b - a) / sqrt(SE_a^2 + SE_b^2)``, Student-t with the Welch-Satterthwaite degrees of freedom
(independent trajectories). A quantity measured on every glass is also tested across the glasses:
the mean of the per-glass differences over its spread between glasses (t with n_glasses - 1
degrees of freedom, glasses independent), which finds a small shift common to all glasses that no
single glass's two replicas can. The criterion, fixed before the comparison: every test's
two-sided p-value stays above (1 - FAMILY_LEVEL) / (number of tests) (Bonferroni,
:func:`agreement`), so that a study pair of unchanged physics fails with probability
<= 1 - FAMILY_LEVEL (positively correlated tests only lower that rate).
tests/test_study_comparison.py measures the rate on a null with replica-sized SEs and the power
on a planted shift.

An NEB median of fewer than ``MIN_MEDIAN_HOPS`` hops is left out: below 6 values no
distribution-free 95 % interval of a median exists (the extreme order statistics cover it with
probability 1 - 2 x 0.5^n < 0.95), so its interval is not an SE.
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
MIN_MEDIAN_HOPS = 6       # module docstring
MIN_POOLED_GLASSES = 3    # a quantity measured on at least this many glasses is also tested across them


@dataclass(frozen=True)
class Estimate:
    value: float
    se: float
    unit: str
    dof: float = math.inf     # degrees of freedom of the SE
    glass: str = ""           # the glass a per-glass quantity belongs to ("" for study-wide ones)
    kind: str = ""            # the quantity without the glass name (per-glass quantities)


@dataclass(frozen=True)
class Difference:
    """One test: a quantity of both studies (or a per-glass quantity pooled over the glasses)."""

    quantity: str
    unit: str
    a: float
    se_a: float
    b: float
    se_b: float
    dof: float = math.inf      # degrees of freedom of the t statistic

    @property
    def t(self) -> float:
        return (self.b - self.a) / math.hypot(self.se_a, self.se_b)

    @property
    def p(self) -> float:
        """Two-sided p-value of no difference."""
        return float(2.0 * stats.t.sf(abs(self.t), self.dof)) if math.isfinite(self.dof) else \
            float(2.0 * stats.norm.sf(abs(self.t)))

    def to_dict(self) -> dict:
        return dict(asdict(self), t=self.t, p=self.p)


def welch_dof(se_a: float, dof_a: float, se_b: float, dof_b: float) -> float:
    """Welch-Satterthwaite degrees of freedom of a difference of two estimates."""
    terms = [se ** 4 / dof for se, dof in ((se_a, dof_a), (se_b, dof_b)) if math.isfinite(dof)]
    if not terms:
        return math.inf
    return (se_a ** 2 + se_b ** 2) ** 2 / sum(terms)


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

    def add(name: str, value, se, unit: str, dof: float = math.inf, glass: str = "") -> None:
        if _finite(value, se) and float(se) > 0 and dof > 0:
            out[f"{glass} {name}" if glass else name] = Estimate(float(value), float(se), unit, float(dof), glass,
                                                                 name if glass else "")

    def replica_dof(n) -> float:
        # an SE between n replicas has n - 1 degrees of freedom; one replica's SE is within-run
        return float(n) - 1.0 if _finite(n) and float(n) >= 2 else math.inf

    for table in sorted(results.glob("*/transport/diffusion.csv")):
        glass = table.parents[1].name
        for row in read_rows(table):
            T = f"{float(row['T_K']):g} K"
            dof = replica_dof(row.get("n_replicas"))
            add(f"D(Li) {T}", row["D_cm2_s"], row["D_stderr_cm2_s"], "cm^2/s", dof, glass)
            add(f"sigma_NE {T}", row["sigma_NE_S_cm"], row["sigma_NE_stderr_S_cm"], "S/cm", dof, glass)
    for tg_file in sorted(results.glob("*/tg.json")):
        glass = tg_file.parent.name
        tg = json.loads(tg_file.read_text())
        density = tg.get("glass_density") or {}
        add("glass density", density.get("mean_g_cm3"), density.get("stderr_g_cm3"), "g/cm^3",
            replica_dof(density.get("n_replicas")), glass)
        for quantity in ("volume", "enthalpy"):
            fit = tg.get(quantity) or {}
            if fit.get("resolved"):
                add(f"Tg ({quantity})", fit.get("Tg_K"), fit.get("Tg_stderr_K"), "K", glass=glass)
    for table in sorted((results / "summary").glob("*_claims.csv")):
        for row in read_rows(table):
            if _finite(row.get("estimate"), row.get("ci_low"), row.get("ci_high"), row.get("level")):
                add(f"{row['claim']} estimate ({row['estimand']})", row["estimate"],
                    se_from_interval(float(row["ci_low"]), float(row["ci_high"]), float(row["level"])),
                    row.get("value_unit", ""))
    neb = results / "summary" / "neb_summary.csv"
    if neb.exists():
        for row in read_rows(neb):
            if (row.get("kind") == "class" and _finite(row.get("median_ci_low_eV"), row.get("median_ci_high_eV"))
                    and _finite(row.get("n")) and float(row["n"]) >= MIN_MEDIAN_HOPS):
                add(f"{row['glass']} NEB median barrier {row['class']}", row["median_eV"],
                    se_from_interval(float(row["median_ci_low_eV"]), float(row["median_ci_high_eV"]),
                                     NEB_SUMMARY_LEVEL), "eV")
    return out


def compare(a: dict[str, Estimate], b: dict[str, Estimate],
            min_glasses: int = MIN_POOLED_GLASSES) -> tuple[list[Difference], list[str]]:
    """The tests of two studies: every quantity both have (Welch t), then every per-glass quantity
    measured on at least ``min_glasses`` glasses of both, pooled over them; and the names only one
    study has."""
    both = sorted(set(a) & set(b))
    diffs = [Difference(k, a[k].unit, a[k].value, a[k].se, b[k].value, b[k].se,
                        welch_dof(a[k].se, a[k].dof, b[k].se, b[k].dof)) for k in both]
    kinds = sorted({a[k].kind for k in both if a[k].kind})
    for kind in kinds:
        names = [k for k in both if a[k].kind == kind]
        if len(names) < min_glasses:
            continue
        delta = np.array([b[k].value - a[k].value for k in names])
        se = float(np.std(delta, ddof=1) / math.sqrt(len(delta)))
        if se > 0:
            diffs.append(Difference(f"{kind}, mean over {len(names)} glasses", a[names[0]].unit,
                                    float(np.mean([a[k].value for k in names])), 0.0,
                                    float(np.mean([b[k].value for k in names])), se, len(names) - 1.0))
    return diffs, sorted(set(a) ^ set(b))


def agreement(diffs: list[Difference], level: float = FAMILY_LEVEL) -> dict:
    """Whether every test's p-value stays above the Bonferroni threshold of the family."""
    if not diffs:
        return {"passed": None, "n": 0, "p_threshold": None, "min_p": None, "worst": None,
                "n_p_below_0.05": 0, "expected_p_below_0.05": 0.0}
    p = np.array([d.p for d in diffs])
    threshold = (1.0 - level) / len(diffs)
    worst = diffs[int(np.argmin(p))]
    return {"passed": bool(p.min() > threshold), "n": len(diffs), "p_threshold": threshold,
            "min_p": float(p.min()), "worst": worst.quantity, "worst_t": worst.t, "worst_dof": worst.dof,
            "n_p_below_0.05": int(np.sum(p < 0.05)), "expected_p_below_0.05": 0.05 * len(diffs)}


def markdown(diffs: list[Difference], only_one: list[str], summary: dict, label_a: str, label_b: str) -> str:
    lines = [f"| quantity | unit | {label_a} | SE | {label_b} | SE | t | dof | p |", "|---|---|---|---|---|---|---|---|---|"]
    for d in diffs:
        se_a = f"{d.se_a:.2g}" if d.se_a else "-"
        lines.append(f"| {d.quantity} | {d.unit} | {d.a:.4g} | {se_a} | {d.b:.4g} | {d.se_b:.2g} | {d.t:+.2f} | "
                     f"{d.dof:.3g} | {d.p:.3g} |")
    if not summary["n"]:
        return "\n".join(lines + ["", "no quantity in common"])
    verdict = "agree" if summary["passed"] else "DISAGREE"
    lines += ["", f"{summary['n']} tests: {verdict} at family-wise {FAMILY_LEVEL:.0%} (smallest p "
                  f"{summary['min_p']:.3g} at '{summary['worst']}', t {summary['worst_t']:+.2f} on {summary['worst_dof']:.3g} "
                  f"dof; Bonferroni threshold {summary['p_threshold']:.3g}); {summary['n_p_below_0.05']} with p < 0.05 "
                  f"(expected {summary['expected_p_below_0.05']:.1f} by chance). Pooled rows: mean of the per-glass "
                  f"differences over their spread between glasses (its SE in the {label_b} column)."]
    if only_one:
        lines.append(f"in one study only (not compared): {', '.join(only_one)}")
    return "\n".join(lines)
