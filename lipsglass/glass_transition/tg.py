"""Tg of a quench replica from its cooling ramp, of the replica-averaged ramp, and of a composition.

Units: temperatures in K, scan rates in K/ps, volumes in A^3, enthalpies in kcal/mol.

* Tg of a replica (``tg_from_thermo``): ``two_line_fit`` of V(T) and H(T) on the cooling rows
  of its thermo.csv (``lipsglass.glass_transition.ramp.load_ramp``).
* Tg depends on the scan rate (faster cooling, higher Tg); every Tg is reported with the rate
  measured from its rows (slope of T against time, K/ps).
* Composition Tg (``combine_tg``): mean over replicas (independent quenches), SE =
  std(ddof=1)/sqrt(n) (between-replica spread); one replica: its own within-replica SE, noted.
  ``pooled_ramp_fit``: the two-line fit of the replica-averaged ramp, which may resolve a Tg
  no single replica resolves.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from lipsglass.glass_transition.ramp import (ATM_A3_TO_KCAL_MOL, QUANTITY_COLUMN, QUANTITY_UNITS, bin_in_temperature,
                                             load_ramp)
from lipsglass.glass_transition.settings import GlassTransitionSettings
from lipsglass.glass_transition.two_line import two_line_fit

log = logging.getLogger(__name__)

__all__ = ["tg_from_thermo", "pooled_ramp_fit", "combine_tg", "with_pooled_fit", "COMBINE_ESTIMATOR"]


def tg_from_thermo(thermo_csv: str | Path, settings: GlassTransitionSettings | None = None, *, n_grid: int = 400,
                   **overrides) -> dict:
    """Tg of one quench from the ``stage`` rows of its thermo.csv (``two_line_fit``: estimator).

    ``settings``: the Tg knobs (None: the ``GlassTransitionSettings`` defaults); ``overrides``:
    its fields as keywords, e.g. ``quantities=("volume",), bin_K=20.0``. ``T_range_K``: [low,
    high] (K) of the rows fitted (None: all); ``bin_K``: average the rows in temperature bins
    this wide (K) before fitting (None: every row). Returns a JSON-ready dict:
    one entry per quantity ('volume': V in A^3, 'enthalpy': H in kcal/mol, 'specific_volume':
    cm^3/g) holding the ``two_line_fit`` result, and the ramp: scan_rate_K_per_ps (|dT/dt| of the
    rows), dT_dt_K_per_ps, n_rows, n_rows_fitted, mass_g_mol, settings and estimator text.
    """
    s = replace(settings or GlassTransitionSettings(), **overrides)
    stage, quantities, T_range_K, bin_K = s.stage, s.quantities, s.T_range_K, s.bin_K
    temperature_axis, enthalpy_pressure, pressure_atm = s.temperature_axis, s.enthalpy_pressure, float(s.pressure_atm)
    min_points_per_side, k_sigma, confidence = int(s.min_points_per_side), float(s.tg_k_sigma), float(s.confidence)
    ramp = load_ramp(thermo_csv, stage, temperature_axis=temperature_axis, enthalpy_pressure=enthalpy_pressure,
                     pressure_atm=pressure_atm)
    T = ramp["T_K"]
    keep = np.ones(T.shape, bool)
    if T_range_K is not None:
        lo, hi = float(T_range_K[0]), float(T_range_K[1])
        keep = (T >= lo) & (T <= hi)
    out = {
        "thermo_csv": str(thermo_csv), "stage": stage, "n_rows": ramp["n_rows"], "n_rows_fitted": int(keep.sum()),
        "dT_dt_K_per_ps": ramp["dT_dt_K_per_ps"], "scan_rate_K_per_ps": abs(ramp["dT_dt_K_per_ps"]),
        "scan_rate_estimator": "least-squares slope of the instantaneous T against time over the stage rows",
        "T_range_K": None if T_range_K is None else [float(T_range_K[0]), float(T_range_K[1])],
        "bin_K": bin_K, "temperature_axis": temperature_axis, "enthalpy_pressure": enthalpy_pressure,
        "pressure_atm": pressure_atm,
        "temperature_axis_note": ("ramp: the least-squares line T(t) through the rows (thermostat target, lagged)"
                                  if temperature_axis == "ramp" else "measured: instantaneous kinetic temperature"),
        "enthalpy_definition": (f"H = etotal + P V, P = {pressure_atm:g} atm imposed (barostat)" if
                                enthalpy_pressure == "imposed" else "H = etotal + P V, P instantaneous (P_atm column)"),
        "ATM_A3_TO_KCAL_MOL": ATM_A3_TO_KCAL_MOL, "mass_g_mol": ramp["mass_g_mol"],
        "quantities": list(quantities),
        "tg_depends_on_scan_rate": "Tg is a property of this scan rate: slower cooling gives a lower Tg",
    }
    for q in quantities:
        if q not in QUANTITY_COLUMN:
            raise ValueError(f"unknown quantity {q!r}; choose from {sorted(QUANTITY_COLUMN)}")
        Tq, yq = T[keep], ramp[QUANTITY_COLUMN[q]][keep]
        if bin_K:
            Tq, yq = bin_in_temperature(Tq, yq, float(bin_K))
            if ramp["dT_dt_K_per_ps"] < 0:       # back to time order (cooling: T falls)
                Tq, yq = Tq[::-1], yq[::-1]
        fit = two_line_fit(Tq, yq, y_unit=QUANTITY_UNITS[q], min_points_per_side=min_points_per_side,
                           k_sigma=k_sigma, confidence=confidence, n_grid=n_grid)
        fit["quantity_unit"] = QUANTITY_UNITS[q]
        out[q] = fit
        log.info("%s: Tg(%s) = %s (breakpoint %.1f K, %s)", thermo_csv, q,
                 "null" if fit["Tg_K"] is None else f"{fit['Tg_K']:.1f} +- {fit['Tg_stderr_K']:.1f} K",
                 fit["breakpoint_K"] or float("nan"), fit["reason"] or "resolved")
    return out


def pooled_ramp_fit(replica_thermo: Sequence[str | Path], settings: GlassTransitionSettings | Mapping | None) -> dict:
    """Two-line fits of the replica-AVERAGED cooling ramp (row by row: every replica runs the same
    protocol, so row k of each ramp has the same ramp temperature). Averaging n independent
    glasses divides the noise variance by ~n and keeps the time order, so the autocorrelation
    scaling of ``two_line_fit`` still applies; the residual noise includes the glass-to-glass
    differences. A Tg a single replica cannot resolve may be resolved here. ``settings``: a config
    section is parsed (``GlassTransitionSettings.from_config``)."""
    s = GlassTransitionSettings.of(settings)
    ramps = [load_ramp(p, s.stage, temperature_axis=s.temperature_axis,
                       enthalpy_pressure=s.enthalpy_pressure, pressure_atm=float(s.pressure_atm))
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
    if s.T_range_K is not None:
        keep = (T_mean >= s.T_range_K[0]) & (T_mean <= s.T_range_K[1])
    out = {"n_replicas": len(ramps), "n_rows": n,
           "estimator": ("two-line fit (as per replica) of the cooling ramp averaged row by row over the replicas")}
    for q in s.quantities:
        y = np.array([r[QUANTITY_COLUMN[q]][:n] for r in ramps]).mean(axis=0)
        Tq, yq = T_mean[keep], y[keep]
        if s.bin_K:
            Tq, yq = bin_in_temperature(Tq, yq, float(s.bin_K))
        out[q] = two_line_fit(Tq, yq, y_unit=QUANTITY_UNITS[q], min_points_per_side=int(s.min_points_per_side),
                              k_sigma=float(s.tg_k_sigma), confidence=float(s.confidence))
    return out


COMBINE_ESTIMATOR = ("mean of the resolved replica Tg values; SE = std(ddof=1)/sqrt(n) over replicas (between-"
                     "replica spread: independent quenches); one replica: its within-replica SE")


def combine_tg(per_replica: Sequence[Mapping], quantities: Iterable[str] | None = None) -> dict:
    """Composition-level Tg per quantity from ``tg_from_thermo`` results of its replicas.

    Per quantity: Tg_K (mean of the resolved replicas), Tg_stderr_K, n_replicas,
    n_replicas_resolved, Tg_per_replica_K (null where unresolved), unresolved reasons, estimator,
    note; null with a reason when no replica resolves a transition. Also the mean scan rate
    (scan_rate_K_per_ps) and its per-replica values.
    """
    if not per_replica:
        raise ValueError("no replica results to combine")
    if quantities is None:
        quantities = per_replica[0].get("quantities", ("volume", "enthalpy"))
    out: dict = {}
    for q in quantities:
        tgs = [r.get(q, {}).get("Tg_K") for r in per_replica]
        ses = [r.get(q, {}).get("Tg_stderr_K") for r in per_replica]
        used = [k for k, t in enumerate(tgs) if t is not None]
        entry = {"Tg_K": None, "Tg_stderr_K": None, "n_replicas": len(per_replica), "n_replicas_resolved": len(used),
                 "Tg_per_replica_K": tgs, "Tg_stderr_per_replica_K": ses,
                 "unresolved_reasons": [r.get(q, {}).get("reason") for k, r in enumerate(per_replica)
                                        if k not in used],
                 "estimator": COMBINE_ESTIMATOR, "note": None}
        values = np.array([tgs[k] for k in used], float)
        if values.size >= 2:
            entry["Tg_K"] = float(values.mean())
            entry["Tg_stderr_K"] = float(values.std(ddof=1) / math.sqrt(values.size))
            if values.size < len(per_replica):
                entry["note"] = f"{len(per_replica) - values.size} replica(s) without a resolved Tg left out"
        elif values.size == 1:
            k = used[0]
            entry["Tg_K"], entry["Tg_stderr_K"] = float(values[0]), ses[k]
            entry["note"] = ("one resolved replica: SE is its within-replica (fit) SE; no between-replica spread "
                             "available, so quench-to-quench variation is not included")
        else:
            entry["note"] = f"no replica resolves a glass transition in {q}"
        out[q] = entry
    rates = [r.get("scan_rate_K_per_ps") for r in per_replica]
    good = [x for x in rates if x is not None]
    out["scan_rate_K_per_ps"] = float(np.mean(good)) if good else None
    out["scan_rate_per_replica_K_per_ps"] = rates
    out["estimator"] = COMBINE_ESTIMATOR
    return out


def with_pooled_fit(combined: Mapping, pooled: Mapping, quantities: Iterable[str]) -> dict:
    """The composition Tg of ``combine_tg`` with the fit of the replica-averaged ramp
    (``pooled_ramp_fit``) as the Tg of each of ``quantities``; the mean over the replicas' own
    Tg is kept beside it (``Tg_K_mean_over_replicas``, ``Tg_stderr_K_mean_over_replicas``,
    ``estimator_mean_over_replicas``)."""
    combined = dict(combined)
    for q in quantities:
        fit = pooled[q]
        mean_over = {f"{k}_mean_over_replicas" if k in ("Tg_K", "Tg_stderr_K", "estimator") else k: v
                     for k, v in combined[q].items()}
        combined[q] = {**mean_over, "Tg_K": fit["Tg_K"], "Tg_stderr_K": fit["Tg_stderr_K"],
                       "Tg_ci_K": fit["Tg_ci_K"], "resolved": fit["resolved"], "reason": fit["reason"],
                       "breakpoint_K": fit["breakpoint_K"], "slope_change_t": fit["slope_change_t"],
                       "estimator": pooled["estimator"] + "; " + fit["estimator"], "pooled_fit": fit}
    return combined
