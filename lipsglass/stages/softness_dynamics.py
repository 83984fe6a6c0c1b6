"""Softness stage, labelled dynamics (rules ``softness_dynamics``, ``softness_replica_dynamics``):
the label run's trajectory cut into windows; per window and Li its D_cum, window maximum of p_hop,
displacement, hop flag, mobility label and the RSF features of the window's first frame (or of its
inherent structure). Design choices: ``lipsglass.stages.softness``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Mapping

import numpy as np

from lipsglass.core.tables import read_table, write_rows
from lipsglass.d2min import IMMOBILE, MOBILE, cutoff_from_gr
from lipsglass.engine.minimise import InherentStructures
from lipsglass.jsonio import write_json
from lipsglass.lammpsio import iter_dump
from lipsglass.li_s_shell import DEFAULT_MIN_WINDOW_A
from lipsglass.softness.features import rsf_feature_names
from lipsglass.softness.labels import (label_recipe_text, mobility_labels, p_hop, p_hop_half_frames,
                                       persistence_report, window_maximum)
from lipsglass.softness.settings import SoftnessSettings
from lipsglass.softness.windows import dump_windows
from lipsglass.stages.softness import read_atom_labels, rsf_labels, settings_of

log = logging.getLogger(__name__)

LABEL_COLUMNS = ("id", "window", "start_timestep", "D_cum_A2", "p_hop_max_A2", "n_invalid_increments", "label",
                 "displacement_A", "hopped")
WINDOW_COLUMNS = ("window", "start_timestep", "end_timestep", "n_Li", "hop_fraction", "n_hopped",
                  "n_mobile", "n_immobile", "n_unlabelled", "n_invalid", "mean_D_cum_A2")


def d2min_cutoff(settings: SoftnessSettings, partial_rdf: str | Path) -> tuple[float, str]:
    """(cutoff in A, how it was chosen): a number from the config, or ``"from g(r)"``: the first
    minimum of the glass's Li-S g(r) (``lipsglass.d2min.cutoff_from_gr``)."""
    value = settings.d2min_cutoff_A
    if value == "from g(r)":
        table = read_table(partial_rdf)
        return (cutoff_from_gr(table["r_A"], table["g_Li_S"], min_search_A=DEFAULT_MIN_WINDOW_A),
                f"first minimum of g_Li_S in {partial_rdf}, searched in {list(DEFAULT_MIN_WINDOW_A)} A")
    return float(value), "config softness.d2min_cutoff_A"


def structure_engine(settings: SoftnessSettings, data_file: str | None, forcefield: str | None, md: Mapping | None,
                     log_file: str | None, threads: int = 1, switches: list[str] | None = None):
    """Context manager yielding the ``structure`` hook of ``dump_windows``: None for
    instantaneous snapshots, an ``InherentStructures`` for ``structure: inherent``.
    ``switches``: LAMMPS accelerator switches (``LammpsRuntime.switch_args``; None: OpenMP styles)."""
    if settings.structure != "inherent":
        return contextlib.nullcontext(None)
    if data_file is None or forcefield is None or md is None:
        raise ValueError("softness.structure: inherent needs the run's data file, the force field and the md settings")
    return InherentStructures(data_file, forcefield, md, settings.inherent_ftol_kcal_mol_A,
                              settings.inherent_max_iterations, log_file, threads, switches)


def li_trajectory(trajectory: str) -> tuple[np.ndarray, np.ndarray]:
    """(timesteps, unwrapped Li positions (n_frames, n_Li, 3) in the order of the first frame)."""
    steps, pos, ids0 = [], [], None
    for frame in iter_dump(trajectory):
        if ids0 is None:
            ids0 = frame.ids.copy()
            li = frame.elements(None) == "Li"
        elif not np.array_equal(frame.ids, ids0):
            raise ValueError(f"{trajectory}: frames hold different atom ids")
        if not (frame.has("xu", "yu", "zu") or frame.has("ix", "iy", "iz")):
            raise ValueError(f"{trajectory}: p_hop labels need unwrapped coordinates (xu yu zu or image flags)")
        steps.append(frame.timestep)
        pos.append(frame.unwrapped_positions()[li])
    return np.array(steps), np.array(pos)


def label_statistics(windows, trajectory: str, settings: SoftnessSettings, dump_interval_ps: float | None) -> dict:
    """Per window and Li (n_windows, n_Li): ``d_cum`` and ``p_hop`` (largest p_hop over the
    window's frames, tau = ``p_hop_tau_ps``), plus the p_hop half-interval in frames. Without
    ``dump_interval_ps`` p_hop is not computed (NaN; an error for the p_hop recipe)."""
    d_cum = np.array([w.dynamics.d_cum for w in windows])
    if dump_interval_ps is None:
        if settings.label_recipe == "p_hop":
            raise ValueError("p_hop labels need the dump interval of the labelled run (dump_interval_ps)")
        return {"d_cum": d_cum, "p_hop": np.full_like(d_cum, np.nan), "p_hop_half_frames": None}
    steps, li_pos = li_trajectory(trajectory)
    h = p_hop_half_frames(settings.p_hop_tau_ps, dump_interval_ps)
    ph = p_hop(li_pos, h)
    starts = [w.start_frame for w in windows]
    if [int(steps[s]) for s in starts] != [int(w.start_timestep) for w in windows]:
        raise ValueError(f"{trajectory}: window start frames and timesteps disagree")
    return {"d_cum": d_cum, "p_hop": window_maximum(ph, starts, settings.window_frames), "p_hop_half_frames": h}


def window_logger(pass_name: str):
    """Logs each finished label window: its timesteps, the Li that hopped and the elapsed time
    (the windows of a trajectory are analysed in order, each taking about as long)."""
    started = time.perf_counter()
    count = [0]

    def on_window(window) -> None:
        count[0] += 1
        log.info("%s: window %d (timesteps %d-%d) done, %.0f %% of %d Li hopped; %.0f s so far", pass_name,
                 count[0], window.start_timestep, window.end_timestep, 100 * window.dynamics.hop_fraction,
                 len(window.ids), time.perf_counter() - started)

    return on_window


def dynamics_job(trajectory: str, atom_labels: str, partial_rdf: str, settings: SoftnessSettings | Mapping,
                 outputs: Mapping[str, str], dump_interval_ps: float | None = None, data: str | None = None,
                 forcefield: str | None = None, md: Mapping | None = None, lammps_log: str | None = None,
                 threads: int = 1, switches: list[str] | None = None) -> None:
    """Cut the label run's trajectory into windows; per window and Li: D_cum, window maximum
    of p_hop, displacement, hop flag, mobility label of the configured recipe and RSF features
    of the window's first frame (or of its inherent structure, ``structure: inherent``, which
    needs the run's ``data`` file, ``forcefield`` and ``md``).

    outputs: ``labels`` (CSV, ``LABEL_COLUMNS``), ``windows`` (CSV, ``WINDOW_COLUMNS``),
    ``summary`` (JSON: recipe, thresholds, cutoff, counts, label persistence), ``features`` (NPZ:
    X, ids, window, feature_names, label_statistic, d_cum, p_hop_max, start_timestep,
    n_S_within_cutoff, d2min_cutoff_A and, with ``d2min_cutoff_sensitivity_A``, d_cum and the
    Li-S count at that second cutoff).
    """
    settings = settings_of(settings)
    labels_table = read_atom_labels(atom_labels)
    first = next(iter_dump(trajectory), None)
    if first is None:
        raise ValueError(f"{trajectory}: no frames")
    elements = first.elements(None)
    chan = rsf_labels(first.ids, elements, labels_table, settings)
    cutoff, cutoff_source = d2min_cutoff(settings, partial_rdf)
    mu = settings.mu_grid()
    channels = settings.rsf_channels()
    alt = None
    with structure_engine(settings, data, forcefield, md, lammps_log, threads, switches) as structure:
        windows = dump_windows(trajectory, settings.windows(cutoff), labels=chan, structure=structure,
                               on_window=window_logger(f"D2min cutoff {cutoff:g} A"))
        if settings.d2min_cutoff_sensitivity_A is not None:
            sensitivity = float(settings.d2min_cutoff_sensitivity_A)
            alt = dump_windows(trajectory, settings.windows(sensitivity), labels=chan, structure=structure,
                               on_window=window_logger(f"sensitivity cutoff {sensitivity:g} A"))
        n_minimised = 0 if structure is None else structure.n_minimised
        max_fmax = None if structure is None else structure.max_fmax
    if len(windows) < 2:
        raise ValueError(f"{trajectory}: only {len(windows)} window(s) of {settings.window_frames} frames; "
                         "need >= 2 for train/test splits that separate windows")
    stats_ = label_statistics(windows, trajectory, settings, dump_interval_ps)
    statistic = stats_[settings.label_recipe].ravel()
    d_cum = stats_["d_cum"].ravel()
    labels, (lo, hi), mode = mobility_labels(statistic, settings)
    rows, wrows = [], []
    offset = 0
    for k, w in enumerate(windows):
        n = len(w.ids)
        lab, st = labels[offset:offset + n], statistic[offset:offset + n]
        offset += n
        disp = np.linalg.norm(w.dynamics.displacement, axis=1)
        hopped = disp > settings.hop_distance_A
        for i, d, ph, ninv, la, dd, hp in zip(w.ids, w.dynamics.d_cum, stats_["p_hop"][k], w.dynamics.n_invalid, lab,
                                              disp, hopped):
            rows.append([int(i), k, w.start_timestep, f"{d:.8g}", f"{ph:.8g}", int(ninv), int(la), f"{dd:.8g}", int(hp)])
        finite = np.isfinite(st)
        wrows.append([k, w.start_timestep, w.end_timestep, n, f"{w.dynamics.hop_fraction:.8g}", int(hopped.sum()),
                      int(np.sum(lab == MOBILE)), int(np.sum(lab == IMMOBILE)),
                      int(np.sum(finite & (lab < 0))), int(np.sum(~finite)),
                      f"{np.nanmean(w.dynamics.d_cum):.8g}" if np.isfinite(w.dynamics.d_cum).any() else ""])
    write_rows(outputs["labels"], LABEL_COLUMNS, rows)
    write_rows(outputs["windows"], WINDOW_COLUMNS, wrows)
    hop = np.array([w.dynamics.hop_fraction for w in windows])
    persistence = persistence_report({k: stats_[k] for k in ("d_cum", "p_hop") if np.isfinite(stats_[k]).any()},
                                     settings)
    summary = {
        "trajectory": str(trajectory), "label_temperature_K": settings.label_temperature_K,
        "applied_at_temperature_K": settings.temperature_K, "label_recipe": label_recipe_text(settings),
        "dump_interval_ps": dump_interval_ps, "p_hop_half_frames": stats_["p_hop_half_frames"],
        "structure": settings.structure, "inherent_structures": {"n_minimised": n_minimised, "largest_final_fmax_kcal_mol_A": max_fmax},
        "n_windows": len(windows), "n_Li": len(windows[0].ids),
        "window_frames": settings.window_frames, "window_stride_frames": settings.window_stride_frames,
        "window_timesteps": windows[0].end_timestep - windows[0].start_timestep,
        "d2min_cutoff_A": cutoff, "d2min_cutoff_source": cutoff_source, "d2min_normalise": settings.d2min_normalise,
        "D_cum_units": "A^2" if settings.d2min_normalise == "none" else "A^2 per neighbour",
        "thresholds": {"lower": lo, "upper": hi, "kind": mode,
                       "statistic": "D_cum" if settings.label_recipe == "d_cum" else "window maximum of p_hop (A^2)"},
        "counts": {"mobile": int(np.sum(labels == MOBILE)), "immobile": int(np.sum(labels == IMMOBILE)),
                   "unlabelled": int(np.sum(np.isfinite(statistic) & (labels < 0))),
                   "invalid_statistic": int(np.sum(~np.isfinite(statistic)))},
        "label_persistence": persistence,
        "hop_distance_A": settings.hop_distance_A,
        "hop_fraction": {"mean": float(hop.mean()), "min": float(hop.min()), "max": float(hop.max())},
        "rsf": settings.model_features(),
    }
    write_json(outputs["summary"], summary)
    extra = {}
    if alt is not None:
        extra = {"d_cum_sensitivity": np.concatenate([w.dynamics.d_cum for w in alt]),
                 "n_S_within_sensitivity_cutoff": np.concatenate([w.coordination for w in alt]),
                 "d2min_cutoff_sensitivity_A": np.float64(settings.d2min_cutoff_sensitivity_A)}
    np.savez_compressed(
        outputs["features"],
        X=np.vstack([w.features for w in windows]),
        ids=np.concatenate([w.ids for w in windows]),
        window=np.concatenate([np.full(len(w.ids), k) for k, w in enumerate(windows)]),
        start_timestep=np.array([w.start_timestep for w in windows]),
        label_statistic=statistic, d_cum=d_cum, p_hop_max=stats_["p_hop"].ravel(),
        feature_names=np.array(rsf_feature_names(channels, mu)),
        n_S_within_cutoff=np.concatenate([w.coordination for w in windows]),
        d2min_cutoff_A=np.float64(cutoff), **extra,
    )
    log.info("%d windows, %d Li; %s labels, thresholds %.4g / %.4g; mobile %d, immobile %d; persistence: "
             "P(mobile next | mobile) %.3f vs base %.3f, ICC %.3f; mean hop fraction %.3f; %d minimisations",
             len(windows), summary["n_Li"], settings.label_recipe, lo, hi, summary["counts"]["mobile"],
             summary["counts"]["immobile"], persistence[settings.label_recipe]["p_mobile_next_given_mobile"],
             persistence[settings.label_recipe]["base_rate_mobile"],
             persistence[settings.label_recipe]["intraclass_correlation"], hop.mean(), n_minimised)

