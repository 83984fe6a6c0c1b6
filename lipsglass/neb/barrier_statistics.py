"""Barrier statistics by hop class (``neb_summary.csv``): per class of one glass or of the hops of
all glasses pooled, the converged, not converged and excluded counts and the mean and median
forward barrier with bootstrap 95 % CIs (``lipsglass.core.stats``); then the descriptive
soft->hard vs hard->soft comparison (Mann-Whitney p, difference of medians with its bootstrap
CI). Claim C9 is decided in ``lipsglass.claims.neb``.

Units: energies eV.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from scipy import stats

from lipsglass.core.stats import bootstrap_ci, bootstrap_difference_ci
from lipsglass.core.tables import read_rows
from lipsglass.neb.results import CONVERGED, barriers_by_class
from lipsglass.neb.selection import HOP_CLASSES

SUMMARY_COLUMNS = ("glass", "kind", "class", "n", "n_not_converged", "n_excluded", "n_failed", "failure_rate", "mean_eV",
                   "mean_ci_low_eV", "mean_ci_high_eV", "median_eV", "median_ci_low_eV", "median_ci_high_eV", "n_other",
                   "mannwhitney_p", "median_diff_eV", "median_diff_ci_low_eV", "median_diff_ci_high_eV", "note")
POOLED = "pooled"


def class_statistics(glass: str, rows: Sequence[Mapping], n_boot: int, seed: int) -> list[dict]:
    """Per hop class of one glass (or the pooled hops): n converged, n not converged, n excluded
    (rejected/failed), mean and median forward barrier with bootstrap 95% CIs; then the
    descriptive row soft->hard vs hard->soft (two-sided Mann-Whitney U p-value, difference of
    medians soft->hard minus hard->soft with its bootstrap CI)."""
    barriers = barriers_by_class(rows)
    out = []
    for c in HOP_CLASSES:
        members = [r for r in rows if r["class"] == c]
        v = barriers[c]
        mean_ci = bootstrap_ci(v, np.mean, n_boot, seed)
        median_ci = bootstrap_ci(v, np.median, n_boot, seed)
        out.append({"glass": glass, "kind": "class", "class": c, "n": len(v),
                    "n_not_converged": sum(r["status"] == "not_converged" for r in members),
                    "n_excluded": sum(r["status"] not in (CONVERGED, "not_converged") for r in members),
                    # LAMMPS failures after the retries, of all attempted hops of the class
                    "n_failed": sum(r["status"] == "failed" for r in members),
                    "failure_rate": (sum(r["status"] == "failed" for r in members) / len(members)
                                     if members else None),
                    "mean_eV": float(v.mean()) if len(v) else None, "mean_ci_low_eV": mean_ci[0],
                    "mean_ci_high_eV": mean_ci[1], "median_eV": float(np.median(v)) if len(v) else None,
                    "median_ci_low_eV": median_ci[0], "median_ci_high_eV": median_ci[1]})
    a, b = barriers["soft->hard"], barriers["hard->soft"]
    test = {"glass": glass, "kind": "test", "class": "soft->hard minus hard->soft forward barrier", "n": len(a),
            "n_other": len(b)}
    if len(a) and len(b):
        lo, hi = bootstrap_difference_ci(a, b, np.median, n_boot, seed)
        test.update(mannwhitney_p=float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue),
                    median_diff_eV=float(np.median(a) - np.median(b)), median_diff_ci_low_eV=lo,
                    median_diff_ci_high_eV=hi,
                    note="descriptive (every converged hop, hops sharing a Li included): difference of median "
                         "forward barriers with its bootstrap 95% CI and the two-sided Mann-Whitney p; claim C9 "
                         "is decided in lipsglass.claims.neb")
    else:
        test["note"] = "no converged soft->hard or hard->soft hop"
    out.append(test)
    return out


def summary_rows(hops_by_glass: Mapping[str, Sequence[Mapping]], n_boot: int, seed: int) -> list[dict]:
    """``neb_summary.csv`` rows (SUMMARY_COLUMNS): ``class_statistics`` of every glass
    (``hops_by_glass``: glass -> ``barriers.csv`` rows) and of the hops of all glasses pooled
    (glass ``POOLED``); undefined statistics (empty class, CI of fewer than 2 hops) are empty
    cells, as None is."""
    pooled, rows = [], []
    for glass, hops in hops_by_glass.items():
        pooled += hops
        rows += class_statistics(glass, hops, n_boot, seed)
    rows += class_statistics(POOLED, pooled, n_boot, seed)
    return [{k: ("" if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()} for r in rows]


def read_summary(path: str | Path) -> list[dict]:
    out = []
    for r in read_rows(path):
        row = dict(r)
        for k in SUMMARY_COLUMNS[3:-1]:
            row[k] = float(r[k]) if r[k] not in ("", "None", "nan") else float("nan")
        out.append(row)
    return out
