"""Glass-transition stage: Tg per quench replica and per composition, the Tg figure, and a
glass/liquid label for every production run.

The science is in ``lipsglass.glass_transition`` (two-line fit with correlated-noise errors,
combination over replicas, anion-centre MSD plateau test, phase label) and
``lipsglass.figures.glass_transition`` (plot); this module only reads job inputs, calls them
with the configured settings (``glass_transition`` config section; ``DEFAULT_SETTINGS`` fills
missing keys) and writes the outputs.

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

import csv
import json
import logging
import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lipsglass import glass_transition as gt
from lipsglass.jsonio import write_json

log = logging.getLogger(__name__)

DEFAULT_SETTINGS = {
    # Tg from the quench ramp
    "stage": "cool",                       # thermo.csv stage holding the cooling ramp
    "quantities": ["volume", "enthalpy"],  # V (A^3) and H = E + P V (kcal/mol)
    "T_range_K": None,                     # [low, high] K of the rows fitted; None: the whole ramp
    "bin_K": None,                         # average rows in T bins this wide (K) before fitting; None: rows
    "temperature_axis": "ramp",            # 'ramp' (line T(t) through the rows) or 'measured' (instantaneous)
    "enthalpy_pressure": "imposed",        # P in H = E + P V: 'imposed' (pressure_atm) or 'instantaneous'
    "pressure_atm": 1.0,                   # barostat pressure (md.pressure_atm)
    "min_points_per_side": 5,              # fitted points each side of a candidate Tg
    "tg_k_sigma": 4.0,                     # slope change needed for a resolved Tg, in SE of the difference
    "confidence": 0.95,                    # Tg interval
    # glass/liquid label of production runs
    "anion_species": "P",                  # anion centres whose MSD is tested
    "max_density_drop_percent": 2.0,       # density loss vs the quenched glass beyond which a run is liquid
    "anion_msd_start_frac": 0.25,          # late MSD window, fractions of the longest lag
    "anion_msd_end_frac": 0.6,
    "max_anion_D_cm2_s": 1e-6,             # anion-centre D above this (and significant) -> diffusing
    "anion_k_sigma": 3.0,                  # significance of D_P, in SE (spread of per-atom slopes)
    "tg_quantity": "volume",               # whose Tg enters the T/Tg criterion (the other if unresolved)
}


def _settings(settings: Mapping | None) -> dict:
    merged = {**DEFAULT_SETTINGS, **dict(settings or {})}
    unknown = set(merged) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValueError(f"unknown glass_transition settings {sorted(unknown)}")
    return merged


def read_reference_densities(path: str | Path) -> dict:
    """Reference densities of a CSV (label, density_g_cm3, kind, source; '#' comment lines) as the
    mapping ``tg_composition_job`` compares with: {'<label>_g_cm3': value, 'sources': {...}}.
    Raises ValueError on a missing column or a non-positive density."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
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
    s = _settings(settings)
    out = gt.tg_from_thermo(quench_thermo, stage=s["stage"], quantities=tuple(s["quantities"]),
                            T_range_K=s["T_range_K"], bin_K=s["bin_K"], temperature_axis=s["temperature_axis"],
                            enthalpy_pressure=s["enthalpy_pressure"], pressure_atm=float(s["pressure_atm"]),
                            min_points_per_side=int(s["min_points_per_side"]), k_sigma=float(s["tg_k_sigma"]),
                            confidence=float(s["confidence"]))
    out["settings"] = s
    write_json(out_json, out)
    return out


def _density_summary(glass_data_files: Sequence[str | Path]) -> dict:
    per = [gt.glass_density_g_cm3(p) for p in glass_data_files]
    rho = np.array([d["density_g_cm3"] for d in per], float)
    return {
        "per_replica_g_cm3": rho.tolist(),
        "mean_g_cm3": float(rho.mean()) if rho.size else None,
        "stderr_g_cm3": float(rho.std(ddof=1) / math.sqrt(rho.size)) if rho.size >= 2 else None,
        "stderr_reason": None if rho.size >= 2 else f"{rho.size} replica(s): no between-replica spread",
        "n_replicas": int(rho.size), "n_atoms_per_replica": [d["n_atoms"] for d in per],
        "data_files": [str(p) for p in glass_data_files],
        "estimator": ("density of each quenched glass at the end of the quench (data-file masses summed over the "
                      "atoms, volume of its box); mean +- std(ddof=1)/sqrt(n) over replicas"),
    }


def _compare_reference(mean: float | None, reference: Mapping | None) -> dict | None:
    """Relative difference (%) of the mean density to every numeric ``*_g_cm3`` entry of the reference."""
    if reference is None:
        return None
    out = {}
    for key, value in reference.items():
        if key.endswith("_g_cm3") and isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = {"reference_g_cm3": float(value),
                        "difference_percent": None if mean is None else 100.0 * (mean - value) / value}
    return out


def pooled_ramp_fit(replica_thermo: Sequence[str | Path], settings: Mapping | None) -> dict:
    """Two-line fits of the replica-AVERAGED cooling ramp (row by row: every replica runs the same
    protocol, so row k of each ramp has the same ramp temperature). Averaging n independent
    glasses divides the noise variance by ~n and keeps the time order, so the autocorrelation
    scaling of ``two_line_fit`` still applies; the residual noise includes the glass-to-glass
    differences. A Tg a single replica cannot resolve may be resolved here."""
    s = _settings(settings)
    ramps = [gt.load_ramp(p, s["stage"], temperature_axis=s["temperature_axis"],
                          enthalpy_pressure=s["enthalpy_pressure"], pressure_atm=float(s["pressure_atm"]))
             for p in replica_thermo]
    n = min(r["n_rows"] for r in ramps)
    # same protocol: row k of every ramp lies at the same time after the ramp's start (and so at the
    # same set temperature); the ramp temperatures (a line fitted to each ramp's measured T) are averaged
    times = np.array([r["time_ps"][:n] - r["time_ps"][0] for r in ramps])
    rates = np.array([r["dT_dt_K_per_ps"] for r in ramps])
    if np.max(np.ptp(times, axis=0)) > 1e-6 or np.ptp(rates) > 0.05 * np.abs(rates).mean():
        raise ValueError(f"the replicas' ramps do not share their rows (times, rate) row by row: {list(replica_thermo)}")
    T_mean = np.array([r["T_K"][:n] for r in ramps]).mean(axis=0)
    keep = np.ones(n, bool)
    if s["T_range_K"] is not None:
        keep = (T_mean >= s["T_range_K"][0]) & (T_mean <= s["T_range_K"][1])
    out = {"n_replicas": len(ramps), "n_rows": n,
           "estimator": ("two-line fit (as per replica) of the cooling ramp averaged row by row over the replicas")}
    for q in s["quantities"]:
        y = np.array([r[gt._QUANTITY_COLUMN[q]][:n] for r in ramps]).mean(axis=0)
        Tq, yq = T_mean[keep], y[keep]
        if s["bin_K"]:
            Tq, yq = gt.bin_in_temperature(Tq, yq, float(s["bin_K"]))
        out[q] = gt.two_line_fit(Tq, yq, y_unit=gt.QUANTITY_UNITS[q], min_points_per_side=int(s["min_points_per_side"]),
                                 k_sigma=float(s["tg_k_sigma"]), confidence=float(s["confidence"]))
    return out


def tg_composition_job(replica_jsons: Sequence[str | Path], glass: str, glass_data_files: Sequence[str | Path],
                       reference: Mapping | None, out_json: str | Path,
                       replica_thermo: Sequence[str | Path] | None = None, settings: Mapping | None = None) -> dict:
    """Composition tg.json: Tg (V and H) over replicas with estimator and scan rate, the replicas'
    results, their glass densities (mean +- SE) beside ``reference`` densities (a mapping whose
    ``*_g_cm3`` entries are compared, e.g. {'model_density_g_cm3': 1.760, 'source': ...}; None:
    no reference). With ``replica_thermo`` (the replicas' quench thermo.csv) and more than one
    replica, the composition's Tg is the fit of the replica-averaged ramp
    (:func:`pooled_ramp_fit`); the mean of the replicas' own Tg is reported beside it."""
    replicas = [json.loads(Path(p).read_text()) for p in replica_jsons]
    combined = gt.combine_tg(replicas)
    if replica_thermo is not None and len(replica_thermo) > 1:
        pooled = pooled_ramp_fit(replica_thermo, settings)
        for q in replicas[0].get("quantities", ()):
            fit = pooled[q]
            mean_over = {f"{k}_mean_over_replicas" if k in ("Tg_K", "Tg_stderr_K", "estimator") else k: v
                         for k, v in combined[q].items()}
            combined[q] = {**mean_over, "Tg_K": fit["Tg_K"], "Tg_stderr_K": fit["Tg_stderr_K"],
                           "Tg_ci_K": fit["Tg_ci_K"], "resolved": fit["resolved"], "reason": fit["reason"],
                           "breakpoint_K": fit["breakpoint_K"], "slope_change_t": fit["slope_change_t"],
                           "estimator": pooled["estimator"] + "; " + fit["estimator"], "pooled_fit": fit}
    density = _density_summary(glass_data_files)
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
        "density_vs_reference": _compare_reference(density["mean_g_cm3"], reference),
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
    from lipsglass.figures.glass_transition import plot_tg

    comps, ramps = {}, {}
    for glass, path in composition_jsons.items():
        comp = json.loads(Path(path).read_text())
        comps[glass] = comp
        paths = list(replica_thermo.get(glass, ()))
        if len(paths) != len(comp["replicas"]):
            log.warning("%s: %d thermo files for %d replicas; pairing in order", glass, len(paths),
                        len(comp["replicas"]))
        ramps[glass] = [gt.load_ramp(p, r["stage"], temperature_axis=r["temperature_axis"],
                                     enthalpy_pressure=r.get("enthalpy_pressure", "imposed"),
                                     pressure_atm=r.get("pressure_atm", 1.0))
                        for p, r in zip(paths, comp["replicas"])]
    return plot_tg(comps, ramps, out_png, out_pdf)


def _stage_rows(thermo: str | Path, stage: str) -> dict[str, np.ndarray]:
    with open(thermo, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("stage") == stage]
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


def write_anion_msd_csv(path: str | Path, lag_ps: np.ndarray, msd_A2: np.ndarray) -> None:
    """CSV lag_ps, msd_A2 (anion-centre MSD averaged over the atoms)."""
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["lag_ps", "msd_A2"])
        for t, m in zip(lag_ps, msd_A2):
            writer.writerow([repr(float(t)), repr(float(m))])


def _glass_line_change_percent(tg_replica_json: str | Path | None, glass: Mapping,
                               temperature_K: float) -> tuple[float | None, str]:
    """Density change (%) the glass's own thermal expansion predicts between the end of its quench
    and ``temperature_K``: V(T) = V_glass + (dV/dT below Tg) (T - T_quench_end), with the slope
    of the replica's two-line volume fit (its below-breakpoint line, also when Tg itself is not
    resolved: then the slope is that of the best two-line fit, said so)."""
    if tg_replica_json is None:
        return None, "no tg.json: raw density change tested"
    tg = json.loads(Path(tg_replica_json).read_text())
    vol = tg.get("volume") or {}
    slope = vol.get("slope_below_A3_per_K")
    t_end = min(vol["T_fit_range_K"]) if vol.get("T_fit_range_K") else None
    if slope is None or t_end is None:
        return None, "no glass-line slope in tg.json: raw density change tested"
    v_glass = glass["volume_A3"]
    v_T = v_glass + slope * (temperature_K - t_end)
    kind = "resolved two-line fit" if vol.get("resolved") else "best two-line fit (Tg itself not resolved)"
    return (100.0 * (v_glass / v_T - 1.0),
            f"glass line of the quench ({kind}): dV/dT = {slope:.3g} A^3/K from {t_end:.0f} K")


def phase_job(trajectory: str | Path, thermo: str | Path, glass_data: str | Path,
              tg_replica_json: str | Path | None, temperature_K: float, timestep_fs: float,
              settings: Mapping | None, out_json: str | Path, out_msd_csv: str | Path | None = None) -> dict:
    """Glass/liquid label of one production run (``lipsglass.glass_transition.phase_label``).

    Run density: mean density_g_cm3 of the 'production' rows of ``thermo`` (NVT at the mean NPT
    volume at T); glass density: the quenched glass data file ``glass_data``. Anion MSD from the
    production ``trajectory`` (frame times = TIMESTEP x ``timestep_fs`` fs). Tg: the replica's
    tg.json (``tg_quantity``, else the other resolved quantity; None: no T/Tg criterion).
    Writes ``out_json`` (phase.json) and, if given, ``out_msd_csv`` (anion_msd.csv)."""
    s = _settings(settings)
    rows = _stage_rows(thermo, "production")
    if not rows:
        raise ValueError(f"{thermo}: no rows of stage 'production'")
    glass = gt.glass_density_g_cm3(glass_data)
    lag, msd = gt.anion_msd(trajectory, timestep_fs, s["anion_species"], per_particle=True)
    volume = float(rows["volume_A3"].mean())
    spacing = (volume / msd.shape[1]) ** (1.0 / 3.0)
    Tg, source = _replica_tg(tg_replica_json, s["tg_quantity"])
    expected, expected_source = _glass_line_change_percent(tg_replica_json, glass, float(temperature_K))
    out = gt.phase_label(expected_change_percent=expected, expected_source=expected_source,temperature_K=float(temperature_K), glass_density_g_cm3=glass["density_g_cm3"],
                         run_density_g_cm3=float(rows["density_g_cm3"].mean()), lag_ps=lag, msd_A2=msd, Tg_K=Tg,
                         Tg_source=source, max_density_drop_percent=float(s["max_density_drop_percent"]),
                         msd_start_frac=float(s["anion_msd_start_frac"]), msd_end_frac=float(s["anion_msd_end_frac"]),
                         max_anion_D_cm2_s=float(s["max_anion_D_cm2_s"]), k_sigma=float(s["anion_k_sigma"]),
                         spacing_A=spacing)
    for stage in ("heat", "npt_equilibrate"):
        r = _stage_rows(thermo, stage)
        out["criteria"]["density"][f"{stage}_mean_density_g_cm3"] = float(r["density_g_cm3"].mean()) if r else None
    out["criteria"]["density"]["run_density_source"] = "mean density_g_cm3 of the production rows of thermo.csv"
    out["criteria"]["anion_msd"]["species"] = s["anion_species"]
    out["criteria"]["anion_msd"]["spacing_definition"] = f"(V / N_{s['anion_species']})^(1/3), V production mean"
    out["T_measured_K"] = float(rows["T_K"].mean())
    out.update({"trajectory": str(trajectory), "thermo": str(thermo), "glass_data": str(glass_data),
                "tg_json": None if tg_replica_json is None else str(tg_replica_json), "settings": s})
    log.info("%s at %g K: %s (%s)", trajectory, temperature_K, out["label"], out["reason"])
    write_json(out_json, out)
    if out_msd_csv is not None:
        write_anion_msd_csv(out_msd_csv, lag, msd.mean(axis=1))
    return out
