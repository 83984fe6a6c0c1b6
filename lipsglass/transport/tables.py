"""The tables of the transport stage: diffusion.csv of a replica (one row per run,
``DIFFUSION_COLUMNS``) and of a composition (one row per temperature, ``COMPOSITION_COLUMNS``),
their rows, and reading them back. Missing values are empty fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from lipsglass.core.tables import read_rows, write_rows

__all__ = ["DIFFUSION_COLUMNS", "COMPOSITION_COLUMNS", "diffusion_table_rows", "composition_rows",
           "write_diffusion_table", "read_diffusion_table"]

DIFFUSION_COLUMNS = (
    "T_K", "T_measured_K", "T_measured_std_K", "D_cm2_s", "D_stderr_cm2_s", "stderr_estimator",
    "D_stderr_blocks_cm2_s", "D_stderr_bootstrap_cm2_s", "D_ci95_low_cm2_s", "D_ci95_high_cm2_s",
    "loglog_slope", "diffusive", "diffusive_reason", "D_early_cm2_s", "D_late_cm2_s", "linearity_z_score",
    "msd_past_cage_A2", "cage_threshold_A2", "fit_start_ps", "fit_end_ps", "n_Li", "n_frames",
    "dt_ps", "time_span_ps", "volume_A3", "sigma_NE_S_cm", "sigma_NE_stderr_S_cm", "sigma_einstein_S_cm",
    "sigma_einstein_stderr_S_cm", "haven_ratio_measured", "haven_ratio_measured_stderr", "phase",
    "density_change_percent", "excess_density_change_percent", "anion_msd_verdict", "anion_D_cm2_s", "T_over_Tg",
    "phase_reason", "in_arrhenius_fit", "arrhenius_exclusion_reason",
)

COMPOSITION_COLUMNS = (
    "T_K", "n_replicas", "D_cm2_s", "D_stderr_cm2_s", "D_ci95_low_cm2_s", "D_ci95_high_cm2_s",
    "stderr_source", "D_replicas_cm2_s", "D_stderr_replicas_cm2_s", "n_diffusive", "diffusive", "diffusive_reason",
    "phase", "n_glass_runs", "phase_reasons", "density_change_pct_replicas", "T_over_Tg_replicas",
    "sigma_NE_S_cm", "sigma_NE_stderr_S_cm", "sigma_collective_S_cm", "sigma_collective_stderr_S_cm",
    "haven_ratio", "haven_ratio_stderr", "in_arrhenius_fit", "arrhenius_exclusion_reason",
)


def _phase_columns(run: Mapping) -> dict:
    """The glass/liquid label of a run (phase.json, merged by ``load_runs_with_phases``) as table
    columns; empty when the run carries no label."""
    crit = (run.get("phase_criteria") or {}).get("criteria", {})
    density, anion, tg = crit.get("density", {}), crit.get("anion_msd", {}), crit.get("T_over_Tg", {})
    return {"phase": run.get("phase", ""), "density_change_percent": density.get("density_change_percent"),
            "excess_density_change_percent": density.get("excess_change_percent"),
            "anion_msd_verdict": anion.get("verdict", ""), "anion_D_cm2_s": anion.get("D_late_cm2_s"),
            "T_over_Tg": tg.get("T_over_Tg"), "phase_reason": run.get("phase_reason", "")}


def diffusion_table_rows(runs: Sequence[Mapping], reasons: Sequence[str | None]) -> list[dict]:
    """Rows of diffusion.csv (``DIFFUSION_COLUMNS``) from run results and exclusion reasons."""
    rows = []
    for run, reason in zip(runs, reasons):
        ci = run.get("D_ci95_cm2_s") or (None, None)
        rows.append({
            "T_K": run["temperature_K"], "T_measured_K": run.get("T_measured_K"),
            "T_measured_std_K": run.get("T_measured_std_K"), "D_cm2_s": run["D_cm2_s"],
            "D_stderr_cm2_s": run["D_stderr_cm2_s"], "stderr_estimator": run["stderr_estimator"],
            "D_stderr_blocks_cm2_s": run["D_stderr_blocks_cm2_s"],
            "D_stderr_bootstrap_cm2_s": run["D_stderr_bootstrap_cm2_s"], "D_ci95_low_cm2_s": ci[0],
            "D_ci95_high_cm2_s": ci[1], "loglog_slope": run["loglog_slope"], "diffusive": run["diffusive"],
            "diffusive_reason": run["diffusive_reason"], "D_early_cm2_s": run.get("D_early_cm2_s"),
            "D_late_cm2_s": run.get("D_late_cm2_s"), "linearity_z_score": run.get("linearity_z_score"),
            "msd_past_cage_A2": run.get("msd_past_cage_A2"), "cage_threshold_A2": run.get("cage_threshold_A2"),
            "fit_start_ps": run["fit_start_ps"],
            "fit_end_ps": run["fit_end_ps"], "n_Li": run["n_atoms"], "n_frames": run["n_frames"],
            "dt_ps": run["dt_ps"], "time_span_ps": run["time_span_ps"], "volume_A3": run["volume_A3"],
            "sigma_NE_S_cm": run.get("sigma_NE_S_cm"), "sigma_NE_stderr_S_cm": run.get("sigma_NE_stderr_S_cm"),
            "sigma_einstein_S_cm": run.get("sigma_einstein_S_cm"),
            "sigma_einstein_stderr_S_cm": run.get("sigma_einstein_stderr_S_cm"),
            "haven_ratio_measured": run.get("haven_ratio_measured"),
            "haven_ratio_measured_stderr": run.get("haven_ratio_measured_stderr"),
            **_phase_columns(run),
            "in_arrhenius_fit": reason is None, "arrhenius_exclusion_reason": reason or "",
        })
    return rows


def _fmt_list(values) -> str:
    return ";".join("" if v is None else f"{v:.6g}" for v in values)


def composition_rows(combined: Sequence[Mapping], reasons: Sequence[str | None]) -> list[dict]:
    """Rows of a composition's diffusion.csv (``COMPOSITION_COLUMNS``) from its combined
    temperatures (``lipsglass.transport.composition.combine_temperature``) and exclusion reasons."""
    rows = []
    for c, why in zip(combined, reasons):
        ci = c["D_ci95_cm2_s"] or (None, None)
        rows.append({
            "T_K": c["temperature_K"], "n_replicas": c["n_replicas"], "D_cm2_s": c["D_cm2_s"],
            "D_stderr_cm2_s": c["D_stderr_cm2_s"], "D_ci95_low_cm2_s": ci[0], "D_ci95_high_cm2_s": ci[1],
            "stderr_source": c["stderr_source"], "D_replicas_cm2_s": _fmt_list(c["D_replicas_cm2_s"]),
            "D_stderr_replicas_cm2_s": _fmt_list(c["D_stderr_replicas_cm2_s"]), "n_diffusive": c["n_diffusive"],
            "diffusive": c["diffusive"], "diffusive_reason": c["diffusive_reason"], "phase": c["phase"],
            "n_glass_runs": c["n_glass_runs"], "phase_reasons": c["phase_reason"],
            "density_change_pct_replicas": _fmt_list(c["density_change_pct_replicas"]),
            "T_over_Tg_replicas": _fmt_list(c["T_over_Tg_replicas"]),
            "sigma_NE_S_cm": c["sigma_NE_S_cm"], "sigma_NE_stderr_S_cm": c["sigma_NE_stderr_S_cm"],
            "sigma_collective_S_cm": c["sigma_collective_S_cm"],
            "sigma_collective_stderr_S_cm": c["sigma_collective_stderr_S_cm"],
            "haven_ratio": c["haven_ratio"], "haven_ratio_stderr": c["haven_ratio_stderr"],
            "in_arrhenius_fit": why is None, "arrhenius_exclusion_reason": why or "",
        })
    return rows


def write_diffusion_table(path: str | Path, rows: Sequence[Mapping], columns: Sequence[str] = DIFFUSION_COLUMNS) -> None:
    """diffusion.csv with ``columns`` (a replica's by default; a composition's:
    ``COMPOSITION_COLUMNS``); missing values (None) as empty fields."""
    write_rows(path, list(columns), ([row[k] for k in columns] for row in rows))


def read_diffusion_table(path: str | Path) -> list[dict]:
    """diffusion.csv (of a replica or of a composition) back as dicts: numbers as float
    (empty -> None), flags as bool, text as text."""
    bool_cols = {"diffusive", "in_arrhenius_fit"}
    out = []
    for row in read_rows(path):
        rec = {}
        for k, v in row.items():
            if k in bool_cols:
                rec[k] = v == "True"
            elif v == "":
                rec[k] = None
            else:
                try:
                    rec[k] = float(v)
                except ValueError:
                    rec[k] = v
        out.append(rec)
    return out
