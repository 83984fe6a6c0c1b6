"""Transport stage (paper Fig. 2): Li diffusion per production run, Arrhenius fit per glass,
Nernst-Einstein conductivity, and the transport figures.

The science is in ``lipsglass.transport`` (MSD, D with block and bootstrap SEs, diffusive
flag, Arrhenius fit, conductivities) and ``lipsglass.figures.transport`` (plots); this module
only reads job inputs, calls them with the configured settings and writes the outputs.

Units: T in K, times in ps, MSD in A^2, D in cm^2/s, Ea in eV, conductivity in S/cm,
volumes in A^3. Missing values are JSON ``null`` and empty CSV fields.

Files:
* ``{T}K/diffusion.json``: everything ``analyse_trajectory`` reports for one run (D, SEs, fit
  window, diffusive flag and reason with both parts of the check: D_early/D_late and their
  z-score, MSD past the cage vs its threshold; log-log slope as information; Nernst-Einstein
  and collective conductivities (same ions, same charge) with SEs, measured Haven ratio with
  its SE, volume), plus the measured temperature of the production stage.
* ``{T}K/msd.csv``: lag_ps, msd_A2, dlnMSD_dlnt (the curve behind D).
* ``diffusion.csv``: one row per temperature (``DIFFUSION_COLUMNS``), including whether the run
  entered the Arrhenius fit and, if not, why.
* ``arrhenius.json``: Ea, D0 with SEs and covariance, temperatures used / excluded with
  reasons, D and sigma at the extrapolation temperature with SEs; all null with a reason when
  fewer than two usable temperatures remain.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lipsglass.jsonio import write_json
from lipsglass.lammpsio import iter_dump, read_data
from lipsglass.transport import (ArrheniusFit, DiffusionResult, analyse_trajectory, analysis_options, arrhenius_fit,
                                 nernst_einstein_conductivity, write_msd_csv)

log = logging.getLogger(__name__)

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


# --------------------------------------------------------------------------------------------
# One production run
# --------------------------------------------------------------------------------------------


def production_thermo_summary(thermo_csv: str | Path, stage: str = "production") -> dict:
    """Mean and standard deviation of the temperature (K) and mean volume (A^3) over the rows of
    ``stage`` in a workflow thermo.csv. Raises ValueError if the stage has no rows."""
    with open(thermo_csv, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("stage") == stage]
    if not rows:
        raise ValueError(f"{thermo_csv}: no rows of stage {stage!r}")
    T = np.array([float(r["T_K"]) for r in rows])
    V = np.array([float(r["volume_A3"]) for r in rows])
    return {"T_measured_K": float(T.mean()), "T_measured_std_K": float(T.std(ddof=1)) if T.size > 1 else None,
            "thermo_volume_A3": float(V.mean()), "thermo_rows": int(T.size)}


def analyse_run(trajectory: str | Path, temperature_K: float, timestep_fs: float, settings: Mapping
                ) -> tuple[dict, DiffusionResult]:
    """Tracer D and conductivities of one production run with the ``transport`` config settings.

    The settings become analysis arguments through ``lipsglass.transport.analysis_options``,
    the same function the ``python -m lipsglass diffusion --config`` command uses, so both give
    the same D, SE and diffusive flag. Frame times come from the dump's TIMESTEP values times
    ``timestep_fs`` (fs). The Nernst-Einstein conductivity uses ``species_charge_e`` and
    ``haven_ratio``; the collective (Einstein) conductivity uses the same ions with the same
    charge (not the force field's partial charges), with the whole-system centre of mass removed.
    Returns (JSON-ready dict, DiffusionResult with the MSD curve).
    """
    options = analysis_options(settings)
    species = options.pop("species")
    return analyse_trajectory(trajectory, species, timestep_fs=timestep_fs, temperature_K=temperature_K, **options)


def diffusion_job(trajectory: str | Path, thermo: str | Path, temperature_K: float, timestep_fs: float,
                  settings: Mapping, outputs: Mapping[str, str]) -> dict:
    """Workflow job for one production run: writes ``outputs['result']`` (diffusion.json) and
    ``outputs['msd']`` (msd.csv); returns the result dict."""
    out, res = analyse_run(trajectory, temperature_K, timestep_fs, settings)
    out.update(production_thermo_summary(thermo))
    out["thermo"] = str(thermo)
    out["settings"] = dict(settings)
    log.info("%s at %g K: D = %.3e +- %.3e cm^2/s, diffusive %s (%s)", settings["species"],
             temperature_K, res.D_cm2_s, res.D_stderr_cm2_s, res.diffusive, res.diffusive_reason)
    write_json(outputs["result"], out)
    write_msd_csv(outputs["msd"], res)
    return out


# --------------------------------------------------------------------------------------------
# Arrhenius fit of one glass
# --------------------------------------------------------------------------------------------


def load_run_results(paths: Sequence[str | Path]) -> list[dict]:
    """diffusion.json of each run, sorted by temperature; duplicate temperatures are an error."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    runs.sort(key=lambda r: r["temperature_K"])
    temps = [r["temperature_K"] for r in runs]
    if len(set(temps)) != len(temps):
        raise ValueError(f"duplicate temperatures among the runs: {temps}")
    return runs


def merge_phase(run: dict, phase: Mapping | None) -> dict:
    """A run's diffusion.json with its glass/liquid label (phase.json) attached."""
    out = dict(run)
    if phase is not None:
        out["phase"] = phase["label"]
        out["phase_reason"] = phase.get("reason", "")
        out["phase_criteria"] = phase
    return out


def load_runs_with_phases(run_files: Sequence[str | Path], phase_files: Sequence[str | Path]) -> list[dict]:
    """diffusion.json and phase.json of the runs of one replica (same order), sorted by T."""
    if len(run_files) != len(phase_files):
        raise ValueError(f"{len(run_files)} diffusion results for {len(phase_files)} phase labels")
    phases = {}
    for p in phase_files:
        d = json.loads(Path(p).read_text())
        phases[round(float(d["temperature_K"]))] = d
    runs = load_run_results(run_files)
    missing = [r["temperature_K"] for r in runs if round(r["temperature_K"]) not in phases]
    if missing:
        raise ValueError(f"no phase label for the runs at {missing} K")
    return [merge_phase(r, phases[round(r["temperature_K"])]) for r in runs]


def arrhenius_exclusion_reason(run: Mapping, min_T_K: float, exclude_T_K: Sequence[float],
                               phases: Sequence[str] | None = None) -> str | None:
    """Why a run cannot enter the fit of ln D vs 1/T (None if it can). Reasons, in order: the
    configured temperature filters, a run of a phase not selected for the fit (``phases``, e.g.
    only glass: a liquid run's D describes a supercooled liquid, not the glass), a non-diffusive
    run (its D is not a long-time diffusion coefficient), a non-positive D, a missing or
    non-positive standard error."""
    T = run["temperature_K"]
    if T < min_T_K:
        return f"below transport.arrhenius_min_T_K = {min_T_K:g} K"
    if any(abs(T - x) < 0.5 for x in exclude_T_K):
        return "listed in transport.arrhenius_exclude_T_K"
    if phases is not None and run.get("phase") not in phases:
        return (f"{run.get('phase', 'unlabelled')} run ({run.get('phase_reason', 'no phase label')}); the fit uses "
                f"transport.arrhenius_phases = {list(phases)}")
    if not run["diffusive"]:
        return f"not diffusive: {run['diffusive_reason']}"
    if not run["D_cm2_s"] > 0:
        return f"D = {run['D_cm2_s']:.3g} cm^2/s is not positive"
    se = run.get("D_stderr_cm2_s")
    if se is None or not se > 0:
        return "no positive standard error of D"
    return None


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


def write_diffusion_table(path: str | Path, rows: Sequence[Mapping], columns: Sequence[str] = DIFFUSION_COLUMNS) -> None:
    """diffusion.csv with ``columns`` (a replica's by default; a composition's in
    ``lipsglass.stages.transport_composition``); missing values as empty fields."""
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row[k] is None else row[k]) for k in columns})


def read_diffusion_table(path: str | Path) -> list[dict]:
    """diffusion.csv (of a replica or of a composition) back as dicts: numbers as float
    (empty -> None), flags as bool, text as text."""
    bool_cols = {"diffusive", "in_arrhenius_fit"}
    out = []
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
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


def _glass_species_density(glass_data: str | Path, species: str) -> tuple[int, float]:
    data = read_data(glass_data)
    n = int(np.count_nonzero(data.elements() == species))
    if n == 0:
        raise ValueError(f"{glass_data}: no {species} atoms")
    return n, float(data.box.volume)


def arrhenius_summary(runs: Sequence[Mapping], settings: Mapping, n_species: int, volume_A3: float,
                      volume_source: str) -> tuple[dict, list[str | None]]:
    """Arrhenius fit over the usable runs and the extrapolation to ``extrapolation_T_K``.

    ``n_species`` / ``volume_A3`` (A^3): the ion count and cell volume entering the
    Nernst-Einstein conductivity at the extrapolation temperature (the quenched glass).
    Returns (arrhenius.json dict, exclusion reason per run, None = used). Fewer than two usable
    distinct temperatures give null fit values and a ``reason``, not an exception.
    """
    T_x = float(settings["extrapolation_T_K"])
    label = f"{round(T_x)}K"
    haven = float(settings["haven_ratio"])
    reasons = [arrhenius_exclusion_reason(r, settings["arrhenius_min_T_K"], settings["arrhenius_exclude_T_K"],
                                          settings.get("arrhenius_phases"))
               for r in runs]
    used = [r for r, why in zip(runs, reasons) if why is None]
    produced = {round(r["temperature_K"]) for r in runs}
    unknown = [x for x in settings["arrhenius_exclude_T_K"] if round(x) not in produced]
    out = {
        "species": settings["species"],
        "model": "ln D = ln D0 - Ea / (k_B T), weighted least squares in 1/T with weights 1/SE(ln D)^2",
        "temperatures_used_K": [r["temperature_K"] for r in used],
        "temperatures_excluded": [{"T_K": r["temperature_K"], "reason": why}
                                  for r, why in zip(runs, reasons) if why is not None],
        "extrapolation_T_K": T_x,
        "haven_ratio": haven,
        "haven_ratio_statement": (
            f"sigma_{label} = n q^2 D_{label} / (H k_B T) with H = {haven:g}: an assumption (ion-ion velocity "
            "cross-correlations neglected), not a measured Haven ratio; the collective (Einstein) conductivity "
            "of each run is in diffusion.csv for comparison"),
        "species_charge_e": settings["species_charge_e"],
        "n_species": n_species,
        "volume_A3": volume_A3,
        "volume_source": volume_source,
    }
    if unknown:
        out["notes"] = [f"transport.arrhenius_exclude_T_K lists {unknown} K, not production temperatures"]
    null_keys = ["Ea_eV", "Ea_stderr_eV", "D0_cm2_s", "D0_stderr_cm2_s", "ln_D0", "ln_D0_stderr", "cov_lnD0_Ea",
                 "chi2", "dof", "reduced_chi2", "absolute_sigma", f"D_{label}_cm2_s", f"D_{label}_stderr_cm2_s",
                 f"D_{label}_ci95_cm2_s", f"D_{label}_is_extrapolated", f"sigma_{label}_S_cm",
                 f"sigma_{label}_stderr_S_cm"]
    if len({round(r["temperature_K"], 6) for r in used}) < 2:
        usable = out["temperatures_used_K"]
        out.update({k: None for k in null_keys})
        out["status"] = "no_fit"
        out["reason"] = (f"{len(usable)} usable temperature(s) {usable} K; an Arrhenius fit needs at least two "
                         "(see temperatures_excluded)")
        # no run entered a fit: say so for the usable ones too
        reasons = [why or "usable, but the glass has fewer than two usable temperatures: no fit" for why in reasons]
        out["temperatures_used_K"] = []
        out["temperatures_excluded"] = [{"T_K": r["temperature_K"], "reason": why} for r, why in zip(runs, reasons)]
        return out, reasons

    absolute = bool(settings["arrhenius_absolute_sigma"])
    if not absolute and len(used) < 3:
        # the reduced chi^2 needs one degree of freedom: fall back, and say so
        out.setdefault("notes", []).append("arrhenius_absolute_sigma is false but only two temperatures are "
                                           "usable: the SEs are taken at face value (absolute_sigma = true)")
        absolute = True
    fit = arrhenius_fit([r["temperature_K"] for r in used], [r["D_cm2_s"] for r in used],
                        [r["D_stderr_cm2_s"] for r in used], absolute_sigma=absolute)
    d = fit.to_dict()
    for k in ("T_K", "D_cm2_s", "D_stderr_cm2_s"):
        d.pop(k)
    out.update(d)
    out["reduced_chi2"] = fit.chi2 / fit.dof if fit.dof > 0 else None
    pred = fit.predict(T_x)
    out[f"D_{label}_cm2_s"] = pred["D_cm2_s"]
    out[f"D_{label}_stderr_cm2_s"] = pred["D_stderr_cm2_s"]
    out[f"D_{label}_ci95_cm2_s"] = [pred["D_ci95_low_cm2_s"], pred["D_ci95_high_cm2_s"]]
    out[f"D_{label}_is_extrapolated"] = not (min(fit.T_K) <= T_x <= max(fit.T_K))
    sigma, se = nernst_einstein_conductivity(pred["D_cm2_s"], n_species, volume_A3, T_x,
                                             settings["species_charge_e"], pred["D_stderr_cm2_s"], haven_ratio=haven)
    out[f"sigma_{label}_S_cm"] = sigma
    out[f"sigma_{label}_stderr_S_cm"] = se
    out["status"] = "ok"
    out["reason"] = f"fit over {len(used)} temperatures"
    return out, reasons


def arrhenius_job(run_results: Sequence[str | Path], glass_data: str | Path, settings: Mapping, glass: str,
                  outputs: Mapping[str, str], phase_labels: Sequence[str | Path] | None = None) -> dict:
    """Workflow job for one glass (one replica): writes ``outputs['table']`` (diffusion.csv) and
    ``outputs['arrhenius']`` (arrhenius.json); returns the Arrhenius dict. ``phase_labels``:
    the runs' phase.json files (glass or liquid), in the order of ``run_results``."""
    runs = load_run_results(run_results) if phase_labels is None else load_runs_with_phases(run_results, phase_labels)
    n_species, volume = _glass_species_density(glass_data, settings["species"])
    summary, reasons = arrhenius_summary(runs, settings, n_species, volume,
                                         f"quenched glass {glass_data} (cell volume at the end of the quench)")
    summary = {"glass": glass, **summary, "runs": [str(p) for p in run_results]}
    for row in summary["temperatures_excluded"]:
        log.info("%s: %g K left out of the Arrhenius fit: %s", glass, row["T_K"], row["reason"])
    log.info("%s: %s (%s)", glass, summary["status"], summary["reason"])
    write_diffusion_table(outputs["table"], diffusion_table_rows(runs, reasons))
    write_json(outputs["arrhenius"], summary)
    return summary


# --------------------------------------------------------------------------------------------
# Reconstruction of library objects from the stored files (for the figures)
# --------------------------------------------------------------------------------------------


def load_diffusion_result(result_json: str | Path, msd_csv: str | Path) -> DiffusionResult:
    """DiffusionResult of one run from its diffusion.json and msd.csv."""
    data = json.loads(Path(result_json).read_text())
    curve = np.genfromtxt(msd_csv, delimiter=",", names=True)
    kwargs = {f.name: data[f.name] for f in dataclasses.fields(DiffusionResult)
              if f.name not in ("lag_ps", "msd_A2") and f.name in data}
    return DiffusionResult(**kwargs, lag_ps=np.atleast_1d(curve["lag_ps"]), msd_A2=np.atleast_1d(curve["msd_A2"]))


def arrhenius_fit_from_dict(summary: Mapping, table: Sequence[Mapping]) -> ArrheniusFit | None:
    """ArrheniusFit of a glass from arrhenius.json and its diffusion.csv rows (None without a fit)."""
    if summary.get("status") != "ok":
        return None
    used = [r for r in table if r["in_arrhenius_fit"]]
    return ArrheniusFit(
        Ea_eV=summary["Ea_eV"], Ea_stderr_eV=summary["Ea_stderr_eV"], D0_cm2_s=summary["D0_cm2_s"],
        D0_stderr_cm2_s=summary["D0_stderr_cm2_s"], ln_D0=summary["ln_D0"], ln_D0_stderr=summary["ln_D0_stderr"],
        cov=np.array(summary["cov_lnD0_Ea"]), chi2=summary["chi2"], dof=summary["dof"],
        absolute_sigma=summary["absolute_sigma"], T_K=np.array([r["T_K"] for r in used]),
        D_cm2_s=np.array([r["D_cm2_s"] for r in used]), D_stderr_cm2_s=np.array([r["D_stderr_cm2_s"] for r in used]))


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def _note_and_save(fig, lines: Sequence[str], out_png: str | Path, out_pdf: str | Path) -> None:
    """Add notes below the axes (what is not drawn, and why) and save both files."""
    if lines:
        # below everything already drawn (rotated tick labels reach under the axes)
        bottom = fig.get_tightbbox(fig.canvas.get_renderer()).y0 / fig.get_figheight()
        fig.text(0.01, bottom - 0.02, "\n".join(lines), fontsize=6, va="top", ha="left")
    for out in (out_png, out_pdf):
        fig.savefig(out, dpi=200, bbox_inches="tight")


def _placeholder_figure(title: str, lines: Sequence[str], out_png: str | Path, out_pdf: str | Path):
    """A figure that states why there is nothing to plot (instead of failing the workflow)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.8, 3.0))
    ax.axis("off")
    ax.text(0.0, 1.0, title + "\n\n" + "\n".join(lines), fontsize=7, va="top", ha="left", wrap=True)
    _note_and_save(fig, [], out_png, out_pdf)
    return fig


def arrhenius_figure_job(arrhenius: Mapping[str, str | Path], tables: Mapping[str, str | Path],
                         out_png: str | Path, out_pdf: str | Path):
    """Fig. 2A over glasses (label -> arrhenius.json / diffusion.csv). Runs left out of a fit are
    drawn as open symbols (a non-diffusive D is not a long-time D); glasses without a fit get
    their own grey marker and are named with the reason below the axes. Without any fit the
    figure still shows every run's D, so nothing is hidden."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lipsglass.figures.transport import _log_errors, plot_arrhenius

    fits, excluded, notes = {}, {}, []
    for label, path in arrhenius.items():
        summary = json.loads(Path(path).read_text())
        table = read_diffusion_table(tables[label])
        fit = arrhenius_fit_from_dict(summary, table)
        if fit is None:
            notes.append(f"{label}: no Arrhenius fit ({summary['reason']})")
        else:
            fits[label] = fit
        excluded[label] = [r for r in table if not r["in_arrhenius_fit"] and (r["D_cm2_s"] or 0) > 0]
        for r in table:
            if not r["in_arrhenius_fit"] and not (r["D_cm2_s"] or 0) > 0:
                notes.append(f"{label} {r['T_K']:g} K not drawn: D = {r['D_cm2_s']:.3g} cm^2/s")
    if fits:
        fig = plot_arrhenius(fits, out_png, out_pdf)
        ax = fig.axes[0]
    else:
        fig, ax = plt.subplots(figsize=(4.8, 3.8))
        ax.set_yscale("log")
        ax.set_xlabel("1000/T (1/K)")
        ax.set_ylabel("$D_{Li}$ (cm$^2$/s)")
        ax.set_title("no glass has an Arrhenius fit", fontsize=8)
    # the colours of plot_arrhenius for fitted glasses; glasses without a fit get their own colours
    colours = dict(zip(fits, plt.cm.viridis(np.linspace(0.0, 0.9, len(fits)))))
    others = [label for label in excluded if label not in fits]
    colours.update(zip(others, plt.cm.tab10(np.arange(len(others)) % 10)))
    drew = set()
    for label, all_rows in excluded.items():
        # open circles: glassy runs left out of the fit; open triangles: liquid (or mixed) runs,
        # whose D is a supercooled liquid's
        for liquid in (False, True):
            rows = [r for r in all_rows if (r.get("phase") in ("liquid", "mixed")) == liquid]
            if not rows:
                continue
            T = np.array([r["T_K"] for r in rows])
            D = np.array([r["D_cm2_s"] for r in rows])
            S = np.array([np.nan if r["D_stderr_cm2_s"] is None else r["D_stderr_cm2_s"] for r in rows])
            ax.errorbar(1000.0 / T, D, yerr=_log_errors(D, S), fmt="^" if liquid else "o", mfc="none", ms=5,
                        color=colours[label], capsize=2,
                        label=None if label in fits or label in drew else f"{label} (no Arrhenius fit)")
            drew.add(label)
    # what the open symbols mean, once
    ax.plot([], [], "o", mfc="none", color="0.3", label="glassy, left out of the fit (diffusion.csv)")
    if any(r.get("phase") in ("liquid", "mixed") for rows in excluded.values() for r in rows):
        ax.plot([], [], "^", mfc="none", color="0.3", label="liquid or mixed (T >= Tg, density loss, anions diffusing)")
    if not ax.has_data():
        ax.text(0.5, 0.5, "no positive D to draw", transform=ax.transAxes, ha="center", fontsize=8)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, frameon=False)
    _note_and_save(fig, notes, out_png, out_pdf)
    return fig


def conductivity_figure_job(arrhenius: Mapping[str, str | Path], experimental_csv: str | Path,
                            out_png: str | Path, out_pdf: str | Path):
    """Fig. 2B: Nernst-Einstein conductivity of each glass at the extrapolation temperature
    (from arrhenius.json) beside the experimental values. Glasses without a fit are named with
    the reason below the axes; the extrapolation temperature must be the same for all."""
    from lipsglass.figures.transport import plot_conductivity

    simulated, notes, temps = [], [], set()
    for label, path in arrhenius.items():
        summary = json.loads(Path(path).read_text())
        T_x = summary["extrapolation_T_K"]
        temps.add(T_x)
        key = f"sigma_{round(T_x)}K"
        if summary.get(f"{key}_S_cm") is None or not summary[f"{key}_S_cm"] > 0:
            notes.append(f"{label}: no conductivity ({summary['reason']})")
            continue
        simulated.append({"label": label, "sigma_S_cm": summary[f"{key}_S_cm"],
                          "sigma_stderr_S_cm": summary[f"{key}_stderr_S_cm"]})
        if summary.get(f"D_{round(T_x)}K_is_extrapolated"):
            notes.append(f"{label}: extrapolated from {min(summary['temperatures_used_K']):g}-"
                         f"{max(summary['temperatures_used_K']):g} K")
    if len(temps) != 1:
        raise ValueError(f"glasses were extrapolated to different temperatures {sorted(temps)}")
    T_x = temps.pop()
    if not simulated:
        return _placeholder_figure(f"Fig. 2B: no glass has a conductivity at {T_x:g} K", notes, out_png, out_pdf)
    fig = plot_conductivity(simulated, experimental_csv, out_png, out_pdf, T_K=T_x)
    _note_and_save(fig, notes, out_png, out_pdf)
    return fig


def msd_figure_job(run_results: Sequence[str | Path], msd_files: Sequence[str | Path],
                   out_png: str | Path, out_pdf: str | Path, phase_files: Sequence[str | Path] | None = None):
    """MSD curves of the runs of one glass (diffusion.json, msd.csv and, optionally, phase.json
    in the same order); each curve's label names the run's phase (glass or liquid)."""
    from lipsglass.figures.transport import plot_msd

    if len(run_results) != len(msd_files) or (phase_files is not None and len(phase_files) != len(run_results)):
        raise ValueError(f"{len(run_results)} results for {len(msd_files)} MSD files / phase labels")
    curves = []
    for k, (result, msd) in enumerate(zip(run_results, msd_files)):
        T = json.loads(Path(result).read_text())["temperature_K"]
        phase = "" if phase_files is None else f" ({json.loads(Path(phase_files[k]).read_text())['label']})"
        curves.append((T, phase, load_diffusion_result(result, msd)))
    curves.sort(key=lambda c: c[0])
    fig = plot_msd({f"{T:g} K{phase}": res for T, phase, res in curves}, out_png, out_pdf)
    # The local slope swings wildly at the longest lags (few time origins) and would squash the
    # physically meaningful range 0 (caged) .. 2 (ballistic); limit the view and say so.
    fig.axes[1].set_ylim(-0.25, 2.25)
    _note_and_save(fig, ["lower panel shown over [-0.25, 2.25]; the local slope is noisy at the longest "
                         "lags (few time origins)"], out_png, out_pdf)
    return fig
