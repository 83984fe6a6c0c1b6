"""The per-Li softness table of a glass (``softness.csv``): its columns, the anion environment it
records, and the descriptive correlations of softness with the anion shares, potential energy and
Voronoi volume over those tables.

Units: softness dimensionless; pe kcal/mol; Voronoi volume A^3; positions and radii A.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from lipsglass.core.stats import pearson_ci
from lipsglass.softness.environment import ANION_TYPES, AnionEnvironment, softness_share_correlations
from lipsglass.softness.settings import SoftnessSettings

SOFTNESS_COLUMNS = ("id", "S", "S_own", "pe_kcal_mol", "voronoi_A3", "voronoi_faces",
                    *(f"share_S_{a}" for a in ANION_TYPES), "n_S_within_radius", "nearest_anion",
                    "majority_anion", "x_A", "y_A", "z_A")
CORRELATION_COLUMNS = ("glass", "variable", "kind", "r", "ci_low", "ci_high", "n", "p_value", "note")


def environment_from_table(t: Mapping[str, np.ndarray], radius: float) -> AnionEnvironment:
    """The anion environment of the Li of a softness table (columns ``SOFTNESS_COLUMNS``) with
    its radius ``radius`` (A)."""
    shares = np.column_stack([t[f"share_S_{a}"] for a in ANION_TYPES])
    return AnionEnvironment(ANION_TYPES, radius, shares, t["n_S_within_radius"].astype(np.int64),
                            t["nearest_anion"], t["majority_anion"])


def _ci_row(glass, variable, kind, res, note=""):
    if res is None:
        return [glass, variable, kind, "", "", "", "", "", note or "undefined (constant variable or < 4 samples)"]
    return [glass, variable, kind, f"{res['r']:.6g}", f"{res['ci_low']:.6g}", f"{res['ci_high']:.6g}", res["n"],
            f"{res['p_value']:.3g}", note]


def correlation_rows(tables: Mapping[str, Mapping[str, np.ndarray]], settings: SoftnessSettings) -> list[list]:
    """Pearson r (Fisher-z 95% CI) of pooled-model softness with each anion share (per Li and of
    the binned means, per glass and pooled over glasses by plain concatenation, "pooled": kept for
    comparison, composition shifts leak into it), with pe and with Voronoi volume (per glass;
    pooled over glasses after subtracting each glass's mean). Descriptive: the Fisher-z intervals
    treat the Li of a glass as independent, which they are not; the claims (C6, C8) are decided
    over glasses by ``lipsglass.claims.softness``."""
    rows = []
    pooled = {k: np.concatenate([t[k] for t in tables.values()]) for k in SOFTNESS_COLUMNS}
    centred = {c: np.concatenate([t[c] - t[c].mean() for t in tables.values()]) for c in ("pe_kcal_mol", "voronoi_A3")}
    for glass, t in list(tables.items()) + [("pooled", pooled)]:
        env = environment_from_table(t, settings.anion_radius_A)
        corr = softness_share_correlations(t["S"], env, bins=settings.share_bins,
                                           min_count=settings.min_bin_count)
        for a in ANION_TYPES:
            note = f"{corr['n_no_sulfur']} Li without S within {settings.anion_radius_A} A left out"
            rows.append(_ci_row(glass, f"share_S_{a}", "per_li", corr[a]["per_li"], note))
            rows.append(_ci_row(glass, f"share_S_{a}", "binned", corr[a]["binned"],
                                f"{corr[a]['bins_used']} bins of width {1 / settings.share_bins:.3g} "
                                f"with >= {settings.min_bin_count} Li"))
        for c in ("pe_kcal_mol", "voronoi_A3"):
            if glass == "pooled":
                rows.append(_ci_row(glass, c, "per_li", pearson_ci(pooled["S"], centred[c]),
                                    "values centred on each glass's mean"))
            else:
                rows.append(_ci_row(glass, c, "per_li", pearson_ci(t["S"], t[c])))
    return rows
