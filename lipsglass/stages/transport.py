"""Transport stage (paper Fig. 2): Li diffusion per production run, Arrhenius fit per glass,
Nernst-Einstein conductivity, and the transport figures.

The science is in the ``lipsglass.transport`` package (MSD, D with block and bootstrap SEs,
diffusive flag, conductivities: ``.analysis``; Arrhenius fit: ``.arrhenius``; stored results and
tables: ``.runs``, ``.tables``) and ``lipsglass.figures.transport`` (plots); this module only
reads job inputs, calls them with the configured settings (the ``transport`` config section,
parsed into a ``lipsglass.transport.settings.TransportSettings``) and writes the outputs.

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

import json
import logging
from pathlib import Path
from typing import Mapping, Sequence

from lipsglass.core.settings import job_settings
from lipsglass.figures.transport import (note_and_save, placeholder_figure, plot_arrhenius_runs, plot_conductivity,
                                         plot_msd_runs)
from lipsglass.jsonio import write_json
from lipsglass.transport.analysis import analyse_trajectory, write_msd_csv
from lipsglass.transport.arrhenius import arrhenius_fit_from_dict, arrhenius_summary
from lipsglass.transport.diffusion import DiffusionResult
from lipsglass.transport.runs import (glass_species_density, load_diffusion_result, load_run_results,
                                      load_runs_with_phases, production_thermo_summary)
from lipsglass.transport.settings import TransportSettings
from lipsglass.transport.tables import (DIFFUSION_COLUMNS, diffusion_table_rows, read_diffusion_table,
                                        write_diffusion_table)

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# One production run
# --------------------------------------------------------------------------------------------


def analyse_run(trajectory: str | Path, temperature_K: float, timestep_fs: float, settings: TransportSettings
                ) -> tuple[dict, DiffusionResult]:
    """Tracer D and conductivities of one production run with the ``transport`` settings.

    The estimator's knobs are ``settings.diffusion_fit()`` and ``settings.conductivity()``, as in
    the ``python -m lipsglass diffusion --config`` command, so both give the same D, SE and
    diffusive flag. Frame times come from the dump's TIMESTEP values times ``timestep_fs`` (fs).
    The Nernst-Einstein conductivity uses ``species_charge_e`` and ``haven_ratio``; the collective
    (Einstein) conductivity uses the same ions with the same charge (not the force field's
    partial charges), with the whole-system centre of mass removed.
    Returns (JSON-ready dict, DiffusionResult with the MSD curve).
    """
    return analyse_trajectory(trajectory, str(settings.species), timestep_fs=timestep_fs, temperature_K=temperature_K,
                              fit=settings.diffusion_fit(), conductivity=settings.conductivity())


def diffusion_job(trajectory: str | Path, thermo: str | Path, temperature_K: float, timestep_fs: float,
                  settings: Mapping, outputs: Mapping[str, str]) -> dict:
    """Workflow job for one production run: writes ``outputs['result']`` (diffusion.json) and
    ``outputs['msd']`` (msd.csv); returns the result dict. ``settings``: the ``transport`` section
    (recorded as given)."""
    s = job_settings(TransportSettings, settings, "transport")
    out, res = analyse_run(trajectory, temperature_K, timestep_fs, s)
    out.update(production_thermo_summary(thermo))
    out["thermo"] = str(thermo)
    out["settings"] = dict(settings)
    log.info("%s at %g K: D = %.3e +- %.3e cm^2/s, diffusive %s (%s)", s.species,
             temperature_K, res.D_cm2_s, res.D_stderr_cm2_s, res.diffusive, res.diffusive_reason)
    write_json(outputs["result"], out)
    write_msd_csv(outputs["msd"], res)
    return out


# --------------------------------------------------------------------------------------------
# Arrhenius fit of one glass
# --------------------------------------------------------------------------------------------


def arrhenius_job(run_results: Sequence[str | Path], glass_data: str | Path, settings: Mapping, glass: str,
                  outputs: Mapping[str, str], phase_labels: Sequence[str | Path] | None = None) -> dict:
    """Workflow job for one glass (one replica): writes ``outputs['table']`` (diffusion.csv) and
    ``outputs['arrhenius']`` (arrhenius.json); returns the Arrhenius dict. ``phase_labels``:
    the runs' phase.json files (glass or liquid), in the order of ``run_results``. Only the
    phases the ``transport`` section names (``arrhenius_phases``) enter the fit; a section
    without that key fits every run, labelled or not."""
    s = job_settings(TransportSettings, settings, "transport")
    phases = s.arrhenius_phases if "arrhenius_phases" in settings else None
    runs = load_run_results(run_results) if phase_labels is None else load_runs_with_phases(run_results, phase_labels)
    n_species, volume = glass_species_density(glass_data, s.species)
    summary, reasons = arrhenius_summary(runs, s, n_species, volume,
                                         f"quenched glass {glass_data} (cell volume at the end of the quench)",
                                         phases)
    summary = {"glass": glass, **summary, "runs": [str(p) for p in run_results]}
    for row in summary["temperatures_excluded"]:
        log.info("%s: %g K left out of the Arrhenius fit: %s", glass, row["T_K"], row["reason"])
    log.info("%s: %s (%s)", glass, summary["status"], summary["reason"])
    write_diffusion_table(outputs["table"], diffusion_table_rows(runs, reasons), DIFFUSION_COLUMNS)
    write_json(outputs["arrhenius"], summary)
    return summary


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def arrhenius_figure_job(arrhenius: Mapping[str, str | Path], tables: Mapping[str, str | Path],
                         out_png: str | Path, out_pdf: str | Path):
    """Fig. 2A over glasses (label -> arrhenius.json / diffusion.csv). Runs left out of a fit are
    drawn as open symbols (a non-diffusive D is not a long-time D); glasses without a fit get
    their own grey marker and are named with the reason below the axes. Without any fit the
    figure still shows every run's D, so nothing is hidden."""
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
    return plot_arrhenius_runs(fits, excluded, notes, out_png, out_pdf)


def conductivity_figure_job(arrhenius: Mapping[str, str | Path], experimental_csv: str | Path,
                            out_png: str | Path, out_pdf: str | Path):
    """Fig. 2B: Nernst-Einstein conductivity of each glass at the extrapolation temperature
    (from arrhenius.json) beside the experimental values. Glasses without a fit are named with
    the reason below the axes; the extrapolation temperature must be the same for all."""
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
        return placeholder_figure(f"Fig. 2B: no glass has a conductivity at {T_x:g} K", notes, out_png, out_pdf)
    fig = plot_conductivity(simulated, experimental_csv, out_png, out_pdf, T_K=T_x)
    note_and_save(fig, notes, out_png, out_pdf)
    return fig


def msd_figure_job(run_results: Sequence[str | Path], msd_files: Sequence[str | Path],
                   out_png: str | Path, out_pdf: str | Path, phase_files: Sequence[str | Path] | None = None):
    """MSD curves of the runs of one glass (diffusion.json, msd.csv and, optionally, phase.json
    in the same order); each curve's label names the run's phase (glass or liquid)."""
    if len(run_results) != len(msd_files) or (phase_files is not None and len(phase_files) != len(run_results)):
        raise ValueError(f"{len(run_results)} results for {len(msd_files)} MSD files / phase labels")
    curves = []
    for k, (result, msd) in enumerate(zip(run_results, msd_files)):
        T = json.loads(Path(result).read_text())["temperature_K"]
        phase = "" if phase_files is None else f" ({json.loads(Path(phase_files[k]).read_text())['label']})"
        curves.append((T, phase, load_diffusion_result(result, msd)))
    curves.sort(key=lambda c: c[0])
    return plot_msd_runs({f"{T:g} K{phase}": res for T, phase, res in curves}, out_png, out_pdf)
