"""Glass-transition stage: Tg per quench replica and per composition, the Tg figure, and a
glass/liquid label for every production run.

The science is in the ``lipsglass.glass_transition`` package (two-line fit with correlated-noise
errors: ``.two_line``; Tg of a replica, of the averaged ramp and of a composition: ``.tg``; glass
densities: ``.density``; anion-centre MSD plateau test and phase label: ``.phase``) and
``lipsglass.figures.glass_transition`` (plot); this module only reads job inputs, calls them
with the configured settings (``glass_transition`` config section, parsed into a
``lipsglass.glass_transition.settings.GlassTransitionSettings`` whose defaults fill missing
keys) and writes the outputs.

Units: T in K, scan rates in K/ps, V in A^3, specific volume in cm^3/g, density in g/cm^3,
H in kcal/mol (whole cell), times in ps, MSD in A^2, D in cm^2/s. Missing values are JSON
``null`` with a reason.

Files:
* per quench replica ``tg.json``: ``tg_from_thermo`` (Tg, SE, interval, slopes with SEs,
  resolved flag and reason, per quantity; scan rate; rows; estimator).
* per composition ``tg.json``: Tg per quantity combined over replicas (mean, between-replica
  SE, estimator), the scan rate next to it, every replica's result, the glass density of each
  replica (from its data file) with mean +- SE, and the reference densities passed in with
  the relative differences.
* per production run ``phase.json`` (label 'glass'/'liquid', each criterion's value and
  verdict, reason) and optionally ``anion_msd.csv`` (lag_ps, msd_A2).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lipsglass.core.settings import job_settings
from lipsglass.core.tables import read_rows, write_rows
from lipsglass.figures.glass_transition import plot_tg
from lipsglass.glass_transition.density import (compare_reference, density_summary, glass_density_g_cm3,
                                                glass_line_change_percent)
from lipsglass.glass_transition.phase import anion_msd, phase_label
from lipsglass.glass_transition.ramp import load_ramp
from lipsglass.glass_transition.settings import GlassTransitionSettings
from lipsglass.glass_transition.tg import combine_tg, pooled_ramp_fit, tg_from_thermo, with_pooled_fit
from lipsglass.jsonio import write_json

log = logging.getLogger(__name__)


def read_reference_densities(path: str | Path) -> dict:
    """Reference densities of a CSV (label, density_g_cm3, kind, source; '#' comment lines) as the
    mapping ``tg_composition_job`` compares with: {'<label>_g_cm3': value, 'sources': {...}}.
    Raises ValueError on a missing column or a non-positive density."""
    rows = read_rows(path, comments=True)
    out: dict = {"sources": {}}
    for k, row in enumerate(rows, start=1):
        try:
            value = float(row["density_g_cm3"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{path}: row {k} needs label, density_g_cm3, kind, source") from None
        if not value > 0:
            raise ValueError(f"{path}: row {k}: density_g_cm3 must be positive")
        out[f"{row['label']}_g_cm3"] = value
        out["sources"][row["label"]] = f"{row['kind']}: {row['source']}"
    if not any(row.get("kind") == "experiment" for row in rows):
        out["experiment_note"] = f"no experimental density in {path}"
    return out


def tg_replica_job(quench_thermo: str | Path, settings: Mapping | None, out_json: str | Path) -> dict:
    """Tg of one quench replica from the cooling rows of its thermo.csv; writes tg.json."""
    s = job_settings(GlassTransitionSettings, settings, "glass_transition")
    out = tg_from_thermo(quench_thermo, s)
    out["settings"] = s.to_dict()
    write_json(out_json, out)
    return out


def tg_composition_job(replica_jsons: Sequence[str | Path], glass: str, glass_data_files: Sequence[str | Path],
                       reference: Mapping | None, out_json: str | Path,
                       replica_thermo: Sequence[str | Path] | None = None, settings: Mapping | None = None) -> dict:
    """Composition tg.json: Tg (V and H) over replicas with estimator and scan rate, the replicas'
    results, their glass densities (mean +- SE) beside ``reference`` densities (a mapping whose
    ``*_g_cm3`` entries are compared, e.g. {'model_density_g_cm3': 1.760, 'source': ...}; None:
    no reference). With ``replica_thermo`` (the replicas' quench thermo.csv) and more than one
    replica, the composition's Tg is the fit of the replica-averaged ramp
    (:func:`lipsglass.glass_transition.tg.pooled_ramp_fit`); the mean of the replicas' own Tg is
    reported beside it."""
    replicas = [json.loads(Path(p).read_text()) for p in replica_jsons]
    combined = combine_tg(replicas)
    if replica_thermo is not None and len(replica_thermo) > 1:
        combined = with_pooled_fit(combined, pooled_ramp_fit(replica_thermo, settings),
                                   replicas[0].get("quantities", ()))
    density = density_summary(glass_data_files)
    rate = combined["scan_rate_K_per_ps"]
    out = {
        "glass": glass,
        "scan_rate_K_per_ps": rate,
        "scan_rate_note": (f"Tg depends on the scan rate: these are Tg values at {rate:.3g} K/ps cooling "
                           "(slower cooling gives a lower Tg; MD rates are 10^9-10^12 times faster than a DSC scan)"
                           if rate is not None else "Tg depends on the scan rate (rate unknown)"),
        **{q: combined[q] for q in combined if q not in ("scan_rate_K_per_ps", "estimator")},
        "estimator": combined["estimator"],
        "replicas": [{**r, "source": str(p)} for r, p in zip(replicas, replica_jsons)],
        "glass_density": density,
        "reference_density": None if reference is None else dict(reference),
        "density_vs_reference": compare_reference(density["mean_g_cm3"], reference),
    }
    for q in replicas[0].get("quantities", ()):
        c = combined[q]
        log.info("%s Tg(%s) = %s at %.3g K/ps (%d/%d replicas resolved)", glass, q,
                 "null" if c["Tg_K"] is None else f"{c['Tg_K']:.1f} +- {c['Tg_stderr_K'] or float('nan'):.1f} K",
                 rate or float("nan"), c["n_replicas_resolved"], c["n_replicas"])
    write_json(out_json, out)
    return out


def tg_figure_job(composition_jsons: Mapping[str, str | Path], replica_thermo: Mapping[str, Sequence[str | Path]],
                  out_png: str | Path, out_pdf: str | Path):
    """Tg figure: per composition, specific volume and enthalpy against T on the cooling ramp of
    each replica, the fitted lines and the combined Tg +- SE. ``replica_thermo[glass]`` lists the
    quench thermo.csv files in the order of that composition's replicas."""
    comps, ramps = {}, {}
    for glass, path in composition_jsons.items():
        comp = json.loads(Path(path).read_text())
        comps[glass] = comp
        paths = list(replica_thermo.get(glass, ()))
        if len(paths) != len(comp["replicas"]):
            log.warning("%s: %d thermo files for %d replicas; pairing in order", glass, len(paths),
                        len(comp["replicas"]))
        ramps[glass] = [load_ramp(p, r["stage"], temperature_axis=r["temperature_axis"],
                                  enthalpy_pressure=r.get("enthalpy_pressure", "imposed"),
                                  pressure_atm=r.get("pressure_atm", 1.0))
                        for p, r in zip(paths, comp["replicas"])]
    return plot_tg(comps, ramps, out_png, out_pdf)


def _stage_rows(thermo: str | Path, stage: str) -> dict[str, np.ndarray]:
    rows = [r for r in read_rows(thermo) if r.get("stage") == stage]
    if not rows:
        return {}
    return {k: np.array([float(r[k]) for r in rows]) for k in ("density_g_cm3", "volume_A3", "T_K")}


def _replica_tg(tg_replica_json: str | Path | None, quantity: str) -> tuple[float | None, str | None]:
    if tg_replica_json is None:
        return None, None
    tg = json.loads(Path(tg_replica_json).read_text())
    order = [quantity] + [q for q in tg.get("quantities", ()) if q != quantity]
    for q in order:
        value = tg.get(q, {}).get("Tg_K")
        if value is not None:
            return float(value), f"{q} Tg of {tg_replica_json} at {tg['scan_rate_K_per_ps']:.3g} K/ps"
    return None, f"no resolved Tg in {tg_replica_json}"


def _expected_change_percent(tg_replica_json: str | Path | None, glass: Mapping,
                             temperature_K: float) -> tuple[float | None, str]:
    """The glass's thermal-expansion density change at ``temperature_K`` from the volume fit of the
    replica's tg.json (``glass_line_change_percent``)."""
    if tg_replica_json is None:
        return None, "no tg.json: raw density change tested"
    tg = json.loads(Path(tg_replica_json).read_text())
    return glass_line_change_percent(tg.get("volume") or {}, glass["volume_A3"], temperature_K)


def write_anion_msd_csv(path: str | Path, lag_ps: np.ndarray, msd_A2: np.ndarray) -> None:
    """CSV lag_ps, msd_A2 (anion-centre MSD averaged over the atoms)."""
    write_rows(path, ["lag_ps", "msd_A2"], ([repr(float(t)), repr(float(m))] for t, m in zip(lag_ps, msd_A2)))


def phase_job(trajectory: str | Path, thermo: str | Path, glass_data: str | Path,
              tg_replica_json: str | Path | None, temperature_K: float, timestep_fs: float,
              settings: Mapping | None, out_json: str | Path, out_msd_csv: str | Path | None = None) -> dict:
    """Glass/liquid label of one production run (``lipsglass.glass_transition.phase.phase_label``).

    Run density: mean density_g_cm3 of the 'production' rows of ``thermo`` (NVT at the mean NPT
    volume at T); glass density: the quenched glass data file ``glass_data``. Anion MSD from the
    production ``trajectory`` (frame times = TIMESTEP x ``timestep_fs`` fs). Tg: the replica's
    tg.json (``tg_quantity``, else the other resolved quantity; None: no T/Tg criterion).
    Writes ``out_json`` (phase.json) and, if given, ``out_msd_csv`` (anion_msd.csv)."""
    s = job_settings(GlassTransitionSettings, settings, "glass_transition")
    rows = _stage_rows(thermo, "production")
    if not rows:
        raise ValueError(f"{thermo}: no rows of stage 'production'")
    glass = glass_density_g_cm3(glass_data)
    lag, msd = anion_msd(trajectory, timestep_fs, s.anion_species, per_particle=True)
    volume = float(rows["volume_A3"].mean())
    spacing = (volume / msd.shape[1]) ** (1.0 / 3.0)
    Tg, source = _replica_tg(tg_replica_json, s.tg_quantity)
    expected, expected_source = _expected_change_percent(tg_replica_json, glass, float(temperature_K))
    out = phase_label(expected_change_percent=expected, expected_source=expected_source,
                      temperature_K=float(temperature_K), glass_density_g_cm3=glass["density_g_cm3"],
                      run_density_g_cm3=float(rows["density_g_cm3"].mean()), lag_ps=lag, msd_A2=msd, Tg_K=Tg,
                      Tg_source=source, settings=s, spacing_A=spacing)
    for stage in ("heat", "npt_equilibrate"):
        r = _stage_rows(thermo, stage)
        out["criteria"]["density"][f"{stage}_mean_density_g_cm3"] = float(r["density_g_cm3"].mean()) if r else None
    out["criteria"]["density"]["run_density_source"] = "mean density_g_cm3 of the production rows of thermo.csv"
    out["criteria"]["anion_msd"]["species"] = s.anion_species
    out["criteria"]["anion_msd"]["spacing_definition"] = f"(V / N_{s.anion_species})^(1/3), V production mean"
    out["T_measured_K"] = float(rows["T_K"].mean())
    out.update({"trajectory": str(trajectory), "thermo": str(thermo), "glass_data": str(glass_data),
                "tg_json": None if tg_replica_json is None else str(tg_replica_json), "settings": s.to_dict()})
    log.info("%s at %g K: %s (%s)", trajectory, temperature_K, out["label"], out["reason"])
    write_json(out_json, out)
    if out_msd_csv is not None:
        write_anion_msd_csv(out_msd_csv, lag, msd.mean(axis=1))
    return out
