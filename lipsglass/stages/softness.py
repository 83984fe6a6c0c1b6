"""Softness stage (paper Fig. 3, Fig. S1; claims C3-C6, C8): Li rearrangements (D2min, D_cum) at
the configured temperature, mobile/immobile labels, logistic-regression softness models,
per-Li potential energy and Voronoi volume, links to the anion environment, claims check.

The science lives in ``lipsglass.d2min``, ``lipsglass.softness``, ``lipsglass.rdf`` and
``lipsglass.figures.softness``; this module reads job inputs, calls them with the configured
settings and writes the outputs.

Design choices (documented here because the paper's SI, which would fix them, is unavailable):

* Windows: the fine trajectory of ``temperature_K`` is cut into windows of ``window_frames``
  increments starting every ``window_stride_frames`` frames; D_cum sums the D2min of the
  increments of a window (``lipsglass.d2min.cumulative_d2min``). The features of a Li in a
  window are its radial structure functions (RSF) at the window's first frame.
* Labels (``label_recipe``), learned on the windows of the ``label_temperature_K`` run and the
  model applied to the ``temperature_K`` configuration (Schoenholz et al. trained where atoms
  rearrange and applied the hyperplane at other temperatures). ``d_cum`` (the paper's): within
  each glass, Li with D_cum above the ``mobile_quantile`` of the glass's pooled D_cum are mobile,
  below ``immobile_quantile`` immobile, the rest unlabelled. ``p_hop``: the largest hop
  indicator p_hop (Candelier et al. 2010, interval ``p_hop_tau_ps``) over the window's frames
  above ``p_hop_mobile_A2`` is mobile, below ``p_hop_immobile_A2`` immobile: a label that says
  the Li changed cage, not how much it rattled. Classes are balanced exactly. The persistence
  of both recipes' labels (P(mobile next window | mobile now) against the base rate, and the
  intraclass correlation of the log statistic across windows) is reported in dynamics.json and
  model.json: labels that are noise do not persist.
* Structure (``structure``): features, pe and Voronoi volume of the thermal snapshot
  (``instantaneous``) or of its inherent structure (``inherent``: LAMMPS conjugate-gradient
  energy minimum, the project's one model setup), so that softness describes the local
  structure rather than where each atom happened to be in its vibration. Voronoi cells plain or
  radical (``voronoi``: radius-weighted with ``voronoi_radii_A``).
* D2min-cutoff sensitivity (``d2min_cutoff_sensitivity_A``): the model (with D_cum labels,
  which move with the cutoff) and the Li-S count baseline are cross-fitted again at a second
  cutoff; model.json ``metrics.d2min_cutoff_sensitivity`` (reported beside C3, not part of its decision).
* Models: one model per glass (accuracy, Fig. S1, and cross-glass transfer) and one "pooled"
  model trained on the union of the glasses' training sets. Softness values compared ACROSS
  glasses (Fig. 3B, C4, the correlations and C5-C8) come from the pooled model: one
  hyperplane, as in the paper ("the established hyperplane divides all lithium ions"), so that
  a shift of the distribution is a structural shift and not a change of the hyperplane.
  ``softness.csv`` also carries ``S_own`` (the glass's own model).
* Features that cannot blow up: features near-constant on the training samples (std below
  ``min_feature_std`` x the median feature std, e.g. RSF Gaussian tails ~1e-60 below the closest
  approach) or set by a handful of outliers (a training |z| beyond
  ``max_abs_standardised_feature``) are dropped; a Li whose standardised features exceed that
  bound is refused (ValueError), never scored, so |S| <= the model's ``softness_bound``.
* Accuracy (C3): cross-fitting, GroupKFold over Li (``outer_folds``), every labelled sample
  held out once, C chosen by inner GroupKFold within each outer training set; accuracy over
  all held-out predictions with a Wilson interval on the number of distinct Li; beside it a
  coordination-only baseline (Li-S count within the D2min cutoff), cross-fitted identically.
* Claims (C4-C6, C8): decided by ``lipsglass.claims.softness`` with the glass (replica) as the
  unit of independence and the criteria of the config's ``claims`` section, which no analysis
  rule reads (``claims_job`` reads the files and writes the rows; C3 is the classifier claims'
  rule). The further replicas of a composition are scored with the models of the analysed one
  (rules ``softness_replica_*``), so every glass enters the claims. The correlations table
  (``correlations_job``) is descriptive: Fisher-z intervals that treat Li as independent.
* Settings: the ``softness`` config section is parsed once per job into a frozen
  ``lipsglass.softness.SoftnessSettings``.
* Per-Li properties: the configuration analysed is the end of the ``temperature_K`` run
  (``final.data``, identical to the last trajectory frame), or its inherent structure, whose
  positions ``li_properties.csv`` carries and the softness is computed on. LAMMPS evaluates ``compute pe/atom``
  without keywords, i.e. pair (incl. real-space Coulomb) + bond + angle + dihedral + improper
  + kspace (per-atom long-range energy, Heyes' method for Ewald and its PPPM analogue) + fix
  terms; the job checks that the per-atom energies sum to the total potential energy. Voronoi
  cells come from ``compute voronoi/atom`` (VORONOI package, all atoms as seeds; unweighted or
  with ``radius v_r`` for the radical option); the job checks that the cell volumes sum to the
  box volume.

Units: lengths A, D_cum A^2 (or A^2 per neighbour with ``d2min_normalise: per-neighbour``),
energies kcal/mol (LAMMPS units real), volumes A^3, softness dimensionless (signed distance to
the hyperplane in standardised-feature space, S > 0 soft).
"""

from __future__ import annotations

import csv
import json
import logging
import time
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lipsglass.core.tables import read_rows, write_rows
from lipsglass.d2min import IMMOBILE, MOBILE, cutoff_from_gr, label_mobility
from lipsglass.jsonio import write_json
from lipsglass.lammpsio import Box, iter_dump, read_data
from lipsglass.core.tables import read_table, write_table
from lipsglass.rdf import max_rdf_range, partial_rdfs
from lipsglass.softness import (ANION_TYPES, S_UNITS, SoftnessModel, SoftnessSettings, TrainingSet,  # noqa: F401
                                anion_environment, channel_variant_metrics, build_training_set, channel_labels,
                                dump_windows, pearson_ci,
                                property_vs_softness, radial_structure_functions, rsf_feature_names,
                                softness_by_anion, softness_share_correlations, train_softness_model,
                                transfer_metrics, evaluate_classifier, label_persistence, learning_curve, p_hop,
                                p_hop_half_frames, window_maximum)

log = logging.getLogger(__name__)

LABEL_COLUMNS = ("id", "window", "start_timestep", "D_cum_A2", "p_hop_max_A2", "n_invalid_increments", "label",
                 "displacement_A", "hopped")
WINDOW_COLUMNS = ("window", "start_timestep", "end_timestep", "n_Li", "hop_fraction", "n_hopped",
                  "n_mobile", "n_immobile", "n_unlabelled", "n_invalid", "mean_D_cum_A2")
SOFTNESS_COLUMNS = ("id", "S", "S_own", "pe_kcal_mol", "voronoi_A3", "voronoi_faces",
                    *(f"share_S_{a}" for a in ANION_TYPES), "n_S_within_radius", "nearest_anion",
                    "majority_anion", "x_A", "y_A", "z_A")
TRANSFER_COLUMNS = ("model_glass", "applied_to", "accuracy", "roc_auc", "n", "same_glass", "n_beyond_bound")
CORRELATION_COLUMNS = ("glass", "variable", "kind", "r", "ci_low", "ci_high", "n", "p_value", "note")


# ---- settings ------------------------------------------------------------------------------

def settings_of(settings: SoftnessSettings | Mapping) -> SoftnessSettings:
    """The stage's settings object: ``settings`` itself or parsed once from the config section
    (the job boundary: every ``*_job`` calls this; helpers take ``SoftnessSettings`` only)."""
    return SoftnessSettings.coerce(settings)


def mu_grid(settings: SoftnessSettings) -> np.ndarray:
    """RSF Gaussian centres (A): ``SoftnessSettings.mu_grid``."""
    return settings_of(settings).mu_grid()


def rsf_channels(settings: SoftnessSettings) -> list[str]:
    """RSF channels: ``SoftnessSettings.rsf_channels``."""
    return settings_of(settings).rsf_channels()


def model_feature_settings(settings: SoftnessSettings) -> dict:
    """RSF settings stored with a model: ``SoftnessSettings.model_features``."""
    return settings_of(settings).model_features()


def read_atom_labels(path: str | Path) -> dict[str, np.ndarray]:
    """``atom_labels.csv`` of the structure stage as arrays sorted by atom id."""
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError(f"{path}: no atoms")
    ids = np.array([int(r["id"]) for r in rows])
    order = np.argsort(ids)
    return {"id": ids[order], "element": np.array([r["element"] for r in rows])[order],
            "unit": np.array([r["unit"] for r in rows])[order]}


def rsf_labels(ids: np.ndarray, elements: np.ndarray, atom_labels: Mapping[str, np.ndarray],
               settings: SoftnessSettings) -> np.ndarray:
    """Per-atom RSF channel labels for atoms ``ids`` (any order) with ``elements``."""
    if not settings.split_S_by_anion:
        return np.asarray(elements).astype(str)
    pos = np.searchsorted(atom_labels["id"], ids)
    if np.any(pos >= len(atom_labels["id"])) or not np.array_equal(atom_labels["id"][np.minimum(pos, len(atom_labels["id"]) - 1)], ids):
        raise ValueError("atom ids of the configuration and of atom_labels.csv differ")
    if not np.array_equal(atom_labels["element"][pos], np.asarray(elements).astype(str)):
        raise ValueError("elements of the configuration and of atom_labels.csv differ")
    return channel_labels(elements, atom_labels["unit"][pos], split="S")


def s_anion_labels(ids: np.ndarray, atom_labels: Mapping[str, np.ndarray]) -> np.ndarray:
    """Per-atom anion type of S atoms of PS4/P2S7/P2S6 units ("" for all other atoms; free S is
    no anion cluster and enters no share)."""
    pos = np.searchsorted(atom_labels["id"], ids)
    if np.any(pos >= len(atom_labels["id"])) or not np.array_equal(atom_labels["id"][np.minimum(pos, len(atom_labels["id"]) - 1)], ids):
        raise ValueError("atom ids of the configuration and of atom_labels.csv differ")
    unit = atom_labels["unit"][pos]
    element = atom_labels["element"][pos]
    return np.where((element == "S") & np.isin(unit, ANION_TYPES), unit, "")


def d2min_cutoff(settings: SoftnessSettings, partial_rdf: str | Path) -> tuple[float, str]:
    """(cutoff in A, how it was chosen): a number from the config, or ``"from g(r)"``: the first
    minimum of the glass's Li-S g(r) (``lipsglass.d2min.cutoff_from_gr``)."""
    value = settings.d2min_cutoff_A
    if value == "from g(r)":
        table = read_table(partial_rdf)
        from lipsglass.li_s_shell import DEFAULT_MIN_WINDOW_A
        return (cutoff_from_gr(table["r_A"], table["g_Li_S"], min_search_A=DEFAULT_MIN_WINDOW_A),
                f"first minimum of g_Li_S in {partial_rdf}, searched in {list(DEFAULT_MIN_WINDOW_A)} A")
    return float(value), "config softness.d2min_cutoff_A"


# ---- per glass: windows, D_cum, labels, features ---------------------------------------------

class InherentStructures:
    """Energy minimisation (LAMMPS, conjugate gradient, the project's one model setup
    ``lipsglass.simulation.setup_commands``) of configurations of one run: the inherent structure
    of a thermal snapshot, its vibrations quenched away (Stillinger-Weber). One LAMMPS instance
    holds the model of ``data_file`` (topology, box, force field); each call replaces the
    positions, minimises (LAMMPS ``minimize 0 ftol``: ftol in kcal/mol/A on the 2-norm of the
    global force vector; ``max_iterations`` steps at most; the largest force component left is
    kept in ``max_fmax``) and returns the minimised positions. Use as a context manager.

    Calls take (box, positions, ids) like ``dump_windows``' ``structure`` hook; the box must be
    the data file's (an NVT run). Results are cached per configuration, so a second pass over the
    same frames (the D2min-cutoff sensitivity run) does not minimise again."""

    def __init__(self, data_file: str, forcefield: str, md: Mapping, ftol: float, max_iterations: int,
                 log_file: str | None, threads: int = 1, switches: list[str] | None = None):
        self.args = (data_file, forcefield, md, log_file, threads)
        self.switches = switches
        self.ftol, self.max_iterations = float(ftol), int(max_iterations)
        self.lmp, self._tmp, self.cache = None, None, {}
        self.n_minimised, self.max_fmax = 0, 0.0

    def __enter__(self):
        import tempfile

        from lipsglass.forcefield import ForceField
        from lipsglass.engine.runtime import open_lammps
        from lipsglass.engine.setup import run_commands, setup_commands

        data_file, forcefield, md, log_file, threads = self.args
        self._tmp = tempfile.TemporaryDirectory(prefix="lipsglass-inherent-")
        ff = ForceField.load(forcefield)
        self.data = read_data(data_file)
        commands = setup_commands(ff, str(Path(data_file).resolve()), self._tmp.name,
                                  topology=ff.default_topology_types(), kspace=md["kspace_style"],
                                  kspace_accuracy=md["kspace_accuracy"])
        self.lmp = open_lammps(log_file=log_file, threads=threads, switches=self.switches)
        run_commands(self.lmp, commands + ["thermo_style custom step pe fmax", "thermo_modify norm no"])
        if int(self.lmp.get_natoms()) != int(self.lmp.extract_global("nlocal")):
            raise RuntimeError("inherent structures run serially (one MPI rank)")
        self.ids = np.sort(self.data.ids)
        return self

    def __exit__(self, *exc):
        if self.lmp is not None:
            self.lmp.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __call__(self, box: Box, positions: np.ndarray, ids: np.ndarray) -> np.ndarray:
        import ctypes

        if self.lmp is None:
            raise RuntimeError("InherentStructures is used outside its 'with' block")
        if not np.allclose(box.matrix, self.data.box.matrix, atol=1e-6) or not np.allclose(box.lo, self.data.box.lo,
                                                                                          atol=1e-6):
            raise ValueError("inherent structures: the frame's box differs from the run's data file (NVT expected)")
        pos = np.asarray(positions, float)
        key = pos.tobytes()
        if key in self.cache:
            return self.cache[key]
        order = np.argsort(ids)
        if not np.array_equal(np.asarray(ids)[order], self.ids):
            raise ValueError("inherent structures: the frame's atom ids differ from the run's data file")
        x = np.ascontiguousarray(pos[order]).ravel()
        self.lmp.scatter_atoms("x", 1, 3, (ctypes.c_double * len(x))(*x))
        self.lmp.command(f"minimize 0.0 {self.ftol} {self.max_iterations} {10 * self.max_iterations}")
        self.max_fmax = max(self.max_fmax, float(self.lmp.get_thermo("fmax")))
        out = np.empty_like(pos)
        out[order] = np.ctypeslib.as_array(self.lmp.gather_atoms("x", 1, 3)).reshape(-1, 3)
        self.n_minimised += 1
        self.cache[key] = out
        return out


def structure_engine(settings: SoftnessSettings, data_file: str | None, forcefield: str | None, md: Mapping | None,
                     log_file: str | None, threads: int = 1, switches: list[str] | None = None):
    """Context manager yielding the ``structure`` hook of ``dump_windows``: None for
    instantaneous snapshots, an ``InherentStructures`` for ``structure: inherent``.
    ``switches``: LAMMPS accelerator switches (``LammpsRuntime.switch_args``; None: OpenMP styles)."""
    import contextlib

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


def mobility_labels(statistic: np.ndarray, settings: SoftnessSettings) -> tuple[np.ndarray, tuple[float, float], str]:
    """Labels (1 mobile, 0 immobile, -1 unlabelled) of the recipe's statistic, the thresholds and
    their kind: quantiles of the glass's D_cum (d_cum) or absolute p_hop values in A^2 (p_hop)."""
    if settings.label_recipe == "d_cum":
        labels, thr = label_mobility(statistic, settings.mobile_quantile, settings.immobile_quantile, "quantile")
        return labels, thr, "quantile"
    labels, thr = label_mobility(statistic, settings.p_hop_mobile_A2, settings.p_hop_immobile_A2, "absolute")
    return labels, thr, "absolute"


def persistence_report(stats_by_recipe: Mapping[str, np.ndarray], settings: SoftnessSettings) -> dict:
    """``label_persistence`` of each recipe's statistic (n_windows, n_Li) with its mobile
    threshold (the configured one; for D_cum the glass's ``mobile_quantile``)."""
    out = {}
    for recipe, stat in stats_by_recipe.items():
        finite = stat[np.isfinite(stat)]
        if recipe == "d_cum":
            upper = float(np.quantile(finite, settings.mobile_quantile)) if len(finite) else float("nan")
        else:
            upper = settings.p_hop_mobile_A2
        out[recipe] = {"mobile_threshold": upper, **label_persistence(stat, upper)}
    return out


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
    mu = mu_grid(settings)
    channels = rsf_channels(settings)
    common = dict(species="Li", normalise=settings.d2min_normalise, hop_distance=settings.hop_distance_A,
                  channels=channels, mu=mu, width=settings.rsf_width_A, truncation=settings.rsf_truncation_widths,
                  labels=chan, min_neighbours=settings.min_neighbours, count_species="S",
                  average_frames=settings.time_average_frames if settings.structure == "time_average" else 1)
    alt = None
    with structure_engine(settings, data, forcefield, md, lammps_log, threads, switches) as structure:
        windows = dump_windows(trajectory, settings.window_frames, settings.window_stride_frames, cutoff=cutoff,
                               structure=structure, on_window=window_logger(f"D2min cutoff {cutoff:g} A"), **common)
        if settings.d2min_cutoff_sensitivity_A is not None:
            sensitivity = float(settings.d2min_cutoff_sensitivity_A)
            alt = dump_windows(trajectory, settings.window_frames, settings.window_stride_frames, cutoff=sensitivity,
                               structure=structure, on_window=window_logger(f"sensitivity cutoff {sensitivity:g} A"),
                               **common)
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
        "rsf": model_feature_settings(settings),
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


def label_recipe_text(settings: SoftnessSettings) -> dict:
    """The label recipe as recorded in dynamics.json and model.json."""
    if settings.label_recipe == "d_cum":
        rule = (f"mobile: D_cum above the {settings.mobile_quantile} quantile of the glass's D_cum, immobile: below "
                f"the {settings.immobile_quantile} quantile (D2min cutoff {settings.d2min_cutoff_A} A, "
                f"{settings.d2min_normalise})")
    else:
        rule = (f"mobile: largest p_hop over the window above {settings.p_hop_mobile_A2} A^2, immobile: below "
                f"{settings.p_hop_immobile_A2} A^2 (p_hop of Candelier et al. 2010, tau {settings.p_hop_tau_ps} ps)")
    return {"recipe": settings.label_recipe, "rule": rule, "label_temperature_K": settings.label_temperature_K,
            "window_frames": settings.window_frames, "structure": settings.structure}


def load_features(path: str | Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def training_set(features: Mapping[str, np.ndarray], settings: SoftnessSettings) -> TrainingSet:
    """The glass's balanced training set (``lipsglass.softness.build_training_set``) labelled by
    the configured recipe as in ``labels.csv`` (D_cum quantiles of the glass, or absolute p_hop
    thresholds), carrying the Li-S count within the D2min cutoff for the baseline when the
    features file holds it."""
    windows = np.unique(features["window"])
    sel = [features["window"] == w for w in windows]
    coord = features.get("n_S_within_cutoff")
    statistic = features["label_statistic"] if "label_statistic" in features else features["d_cum"]
    if settings.label_recipe == "d_cum":
        upper, lower, mode = settings.mobile_quantile, settings.immobile_quantile, "quantile"
    else:
        upper, lower, mode = settings.p_hop_mobile_A2, settings.p_hop_immobile_A2, "absolute"
    return build_training_set([features["X"][s] for s in sel], [statistic[s] for s in sel],
                              [features["ids"][s] for s in sel], upper, lower, mode, balance=True, seed=settings.seed,
                              coordination=None if coord is None else [coord[s] for s in sel])


def window_matrix(features: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    """Per-sample array ``name`` of a features file as (n_windows, n_Li), Li in the order of the
    first window (every window holds the same Li)."""
    windows = np.unique(features["window"])
    first = features["ids"][features["window"] == windows[0]]
    rows = []
    for w in windows:
        sel = features["window"] == w
        if not np.array_equal(features["ids"][sel], first):
            raise ValueError(f"window {w} holds other Li than window {windows[0]}")
        rows.append(features[name][sel])
    return np.array(rows, float)


def cutoff_sensitivity(features: Mapping[str, np.ndarray], settings: SoftnessSettings, main_metrics: Mapping) -> dict:
    """Held-out accuracy of the model and of the coordination baseline at the second D2min
    cutoff (``d2min_cutoff_sensitivity_A``): with D_cum labels both labels and baseline change
    and the RSF model is cross-fitted again; with p_hop labels (independent of any cutoff) only
    the baseline's Li-S count changes."""
    if "d_cum_sensitivity" not in features:
        return {"done": False, "reason": "softness.d2min_cutoff_sensitivity_A is null: no second cutoff"}
    alt = dict(features)
    alt["n_S_within_cutoff"] = features["n_S_within_sensitivity_cutoff"]
    depends = settings.label_recipe == "d_cum"
    if depends:
        alt["label_statistic"] = features["d_cum_sensitivity"]
    ts = training_set(alt, settings)
    cutoff = float(features["d2min_cutoff_sensitivity_A"])
    name = f"{BASELINE_NAME} ({cutoff:.4g} A)"
    out = {"done": True, "d2min_cutoff_A": cutoff, "main_cutoff_A": float(features["d2min_cutoff_A"]),
           "labels_depend_on_cutoff": depends, "n_samples": int(len(ts.y))}
    if depends:
        m = evaluate_classifier(ts.X, ts.y, ts.li_ids, ts.window_ids, baseline=ts.coordination, baseline_name=name,
                                **settings.classifier())
        out["test_accuracy"] = m["test_accuracy"]
    else:
        opts = {**settings.classifier(), "min_feature_std": 0.0, "max_abs_z": None}
        m = {"baseline": {"name": name, **evaluate_classifier(ts.coordination[:, None], ts.y, ts.li_ids, ts.window_ids,
                                                              **opts)}}
        out["test_accuracy"] = main_metrics["test_accuracy"]
        out["note"] = "p_hop labels do not depend on the D2min cutoff: the model's accuracy is the main one"
    b = m.get("baseline", {})
    out["baseline_test_accuracy"] = b.get("test_accuracy", b.get("note"))
    return out


BASELINE_NAME = "coordination-only: logistic regression on the number of S within the D2min cutoff of the Li"


def _train(ts: TrainingSet, feature_names, settings: SoftnessSettings, cutoff: str = "") -> SoftnessModel:
    model = train_softness_model(ts.X, ts.y, ts.li_ids, ts.window_ids, feature_names=list(feature_names),
                                 features=settings.model_features(), baseline=ts.coordination,
                                 baseline_name=BASELINE_NAME + cutoff, **settings.classifier())
    if ts.coordination is None:
        model.metrics["baseline"] = {"name": BASELINE_NAME, "note": "features file without n_S_within_cutoff"}
    model.metrics["training_set"] = {"thresholds": list(ts.thresholds), "label_statistic": settings.label_recipe, "counts": ts.counts}
    if settings.channel_variants:
        model.metrics["channel_variants"] = channel_variant_metrics(
            ts.X, ts.y, ts.li_ids, ts.window_ids, list(feature_names), settings.channel_variants,
            full_metrics=model.metrics, **settings.classifier())
    model.metrics["label_recipe"] = label_recipe_text(settings)
    return model


def _cutoff_note(features: Mapping[str, np.ndarray]) -> str:
    c = features.get("d2min_cutoff_A")
    return "" if c is None else f" ({float(c):.4g} A)"


def _log_metrics(label: str, model: SoftnessModel) -> None:
    m = model.metrics
    t, b = m["test_accuracy"], m.get("baseline", {})
    log.info("%s: train %.3f +- %.3f; held-out %.3f [%.3f, %.3f] (%d samples, %d Li); baseline %s; C %s; "
             "%d features dropped", label, m["train_accuracy"]["mean"], m["train_accuracy"]["std"], t["accuracy"],
             t["ci_low"], t["ci_high"], t["n"], t["n_independent"],
             f"{b['test_accuracy']['accuracy']:.3f}" if "test_accuracy" in b else "n/a", model.C,
             len(model.dropped_features))
    for v in m.get("channel_variants", []):
        t = v["test_accuracy"]
        log.info("%s, channels %s only: held-out %.3f [%.3f, %.3f]", label, "+".join(v["channels"]), t["accuracy"],
                 t["ci_low"], t["ci_high"])


def model_job(features: str, settings: SoftnessSettings | Mapping, out_model: str) -> None:
    """Train and evaluate (cross-fitting) the glass's own softness model; write ``model.json``."""
    settings = settings_of(settings)
    f = load_features(features)
    ts = training_set(f, settings)
    model = _train(ts, f["feature_names"].tolist(), settings, _cutoff_note(f))
    stats_ = {"d_cum": window_matrix(f, "d_cum")}
    if "p_hop_max" in f and np.isfinite(f["p_hop_max"]).any():
        stats_["p_hop"] = window_matrix(f, "p_hop_max")
    model.metrics["label_persistence"] = persistence_report(stats_, settings)
    model.metrics["d2min_cutoff_sensitivity"] = cutoff_sensitivity(f, settings, model.metrics)
    model.save(out_model)
    _log_metrics("own model", model)


def pooled_model_job(features: Mapping[str, str], settings: SoftnessSettings | Mapping, out_model: str) -> None:
    """One model on the union of every glass's balanced training set (Li and window ids made
    unique per glass, so cross-fitting folds never split a Li across train and test)."""
    settings = settings_of(settings)
    sets = {g: training_set(load_features(p), settings) for g, p in features.items()}
    names = None
    for g, p in features.items():
        n = load_features(p)["feature_names"].tolist()
        if names is not None and n != names:
            raise ValueError(f"{g}: feature columns differ from the other glasses")
        names = n
    X = np.vstack([s.X for s in sets.values()])
    y = np.concatenate([s.y for s in sets.values()])
    # group codes glass_index * (max + 1) + id: unique across glasses and in the same order as
    # the ids within a glass, so pooling a single glass reproduces its own model exactly
    li_span = 1 + max(int(s.li_ids.max()) for s in sets.values())
    win_span = 1 + max(int(s.window_ids.max()) for s in sets.values())
    li_codes = np.concatenate([k * li_span + s.li_ids.astype(np.int64) for k, s in enumerate(sets.values())])
    win_codes = np.concatenate([k * win_span + s.window_ids.astype(np.int64) for k, s in enumerate(sets.values())])
    coords = [s.coordination for s in sets.values()]
    pooled = TrainingSet(X, y, li_codes, win_codes, (float("nan"), float("nan")),
                         {g: s.counts for g, s in sets.items()},
                         None if any(c is None for c in coords) else np.concatenate(coords))
    model = _train(pooled, names, settings)
    model.metrics["training_set"] = {"per_glass": {g: {"thresholds": list(s.thresholds), "counts": s.counts}
                                                   for g, s in sets.items()}, "glasses": list(sets)}
    model.save(out_model)
    _log_metrics("pooled model", model)


def unit_name(glass: str, replica: str | int) -> str:
    """Name of one glass replica (the unit of the learning curve and of C3): ``<glass>/r<replica>``."""
    return f"{glass}/r{replica}"


def learning_curve_recipes(units_features: Mapping[str, Mapping[str, np.ndarray]]) -> list[str]:
    """Label recipes of the learning curve: d_cum (the paper's) always, p_hop (the project's)
    where every unit's features file carries a finite window maximum of p_hop."""
    recipes = ["d_cum"]
    if all("p_hop_max" in f and np.isfinite(f["p_hop_max"]).any() for f in units_features.values()):
        recipes.append("p_hop")
    return recipes


def learning_curve_job(features: Mapping[str, str], dynamics: Mapping[str, str], atoms: Mapping[str, int],
                       settings: SoftnessSettings | Mapping, out_json: str) -> None:
    """Learning curve of the RSF classifier (``lipsglass.softness.learning_curve``) on the pooled
    glass replicas ``features`` ({unit: features.npz}, units named by ``unit_name``), for D_cum
    labels (the paper's, quantiles within each glass replica) whatever ``label_recipe`` is, and
    for p_hop labels where available; ``dynamics`` ({unit: dynamics.json}) and ``atoms`` ({glass:
    atom count}) give the scale. Writes ``out_json``: {"recipes": {recipe: curve}, "units":
    {unit: scale}, "label_rules": {recipe: rule}}. The models of the stage are untouched."""
    import dataclasses

    settings = settings_of(settings)
    loaded = {u: load_features(p) for u, p in features.items()}
    out = {"recipes": {}, "label_rules": {}, "units": {}, "not_available": {}}
    for recipe in learning_curve_recipes(loaded):
        s = dataclasses.replace(settings, label_recipe=recipe)
        started = time.perf_counter()
        try:
            sets = {}
            for u, f in loaded.items():
                g = dict(f)
                g["label_statistic"] = f["d_cum"] if recipe == "d_cum" else f["p_hop_max"]
                sets[u] = training_set(g, s)
            curve = learning_curve(sets, settings.learning_curve_fractions, settings.learning_curve_repeats,
                                   **settings.classifier())
        except ValueError as exc:
            if recipe == "d_cum":  # the paper's labels: C3 needs them
                raise
            # the project's extension only: a glass whose hops are too rare for p_hop labels
            # (e.g. a tiny glass at 300 K) leaves the paper's test intact
            log.warning("%s labels: no learning curve (%s)", recipe, exc)
            out["not_available"][recipe] = str(exc)
            continue
        curve["label_counts"] = {u: ts.counts for u, ts in sets.items()}
        out["recipes"][recipe] = curve
        out["label_rules"][recipe] = label_recipe_text(s)["rule"]
        log.info("%s labels: held-out accuracy %s at %s training Li (pooled over %d glass replicas); %.0f s", recipe,
                 ", ".join(f"{a:.3f}" for a in curve["pooled_test_accuracy"]),
                 ", ".join(f"{n:.0f}" for n in curve["sizes_li"]), len(sets), time.perf_counter() - started)
    for u, path in dynamics.items():
        d = json.loads(Path(path).read_text())
        glass = u.split("/")[0]
        window_ps = (None if d.get("dump_interval_ps") is None
                     else float(d["window_frames"]) * float(d["dump_interval_ps"]))
        out["units"][u] = {"glass": glass, "atoms": int(atoms[glass]), "n_Li": int(d["n_Li"]),
                           "n_windows": int(d["n_windows"]), "window_ps": window_ps,
                           "labelled_ps": None if window_ps is None else window_ps * int(d["n_windows"]),
                           "label_temperature_K": d["label_temperature_K"]}
    write_json(out_json, out)


def within_bound(model: SoftnessModel, X: np.ndarray) -> np.ndarray:
    """Mask of the samples whose kept standardised features all lie within the model's bound."""
    z = model.standardised(X, check=False)
    bound = model.max_abs_standardised_feature
    return np.ones(len(z), bool) if bound is None else np.all(np.abs(z) <= bound, axis=1)


def transfer_job(models: Mapping[str, str], features: Mapping[str, str], settings: SoftnessSettings | Mapping, out_csv: str) -> None:
    """Accuracy and ROC AUC of each glass's model on every glass's balanced labelled set. The
    diagonal is in-sample (the final model is fitted on all of its glass's samples); the
    glass's held-out accuracy is ``test_accuracy`` in its model.json. Samples with a standardised
    feature beyond the model's bound are not scored (the model refuses them); they are counted
    in ``n_beyond_bound`` and ``n`` counts the scored ones."""
    settings = settings_of(settings)
    sets = {g: training_set(load_features(p), settings) for g, p in features.items()}
    rows = []
    for a, path in models.items():
        model = SoftnessModel.load(path)
        for b, ts in sets.items():
            inside = within_bound(model, ts.X)
            m = transfer_metrics(model, ts.X[inside], ts.y[inside])
            rows.append([a, b, f"{m['accuracy']:.6g}", f"{m['roc_auc']:.6g}", m["n"], int(a == b),
                         int(np.sum(~inside))])
    write_rows(out_csv, TRANSFER_COLUMNS, rows)


# ---- per-Li potential energy and Voronoi volume (LAMMPS) ----------------------------------------

def lammps_per_atom(data_file: str, forcefield: str, md: Mapping, workdir: str | Path, log_file: str,
                    threads: int = 1, rtol: float = 1e-6, minimise: tuple[float, int] | None = None,
                    voronoi_radii: Mapping[str, float] | None = None,
                    positions: np.ndarray | None = None, switches: list[str] | None = None) -> dict[str, np.ndarray]:
    """Per-atom potential energy (kcal/mol; ``compute pe/atom`` with all terms incl. kspace),
    Voronoi cell volume (A^3), face count and position (A) of every atom of a data file, sorted
    by id.

    ``positions`` (atoms in id order, A): evaluate these positions in the data file's cell (e.g.
    time-averaged ones) instead of the file's. ``minimise`` = (ftol kcal/mol/A, max iterations): first minimise the energy (conjugate
    gradient) and report the inherent structure. ``voronoi_radii`` ({element: radius A}): radical
    (power, radius-weighted) tessellation via ``compute voronoi/atom radius v_r`` instead of the
    plain one. Checks that sum(pe/atom) equals LAMMPS' total potential energy (relative ``rtol``)
    and that the cell volumes tile the box (both tessellations do), so a term missing from
    pe/atom cannot pass unnoticed.
    """
    from lipsglass.forcefield import ForceField
    from lipsglass.engine.runtime import open_lammps
    from lipsglass.engine.setup import run_commands, setup_commands

    ff = ForceField.load(forcefield)
    commands = setup_commands(ff, str(Path(data_file).resolve()), workdir, topology=ff.default_topology_types(),
                              kspace=md["kspace_style"], kspace_accuracy=md["kspace_accuracy"])
    commands += ["thermo_style custom step pe fmax vol", "thermo_modify norm no"]
    setup, commands = commands, []
    if minimise is not None:
        ftol, iterations = minimise
        commands += [f"minimize 0.0 {float(ftol)} {int(iterations)} {10 * int(iterations)}"]
    voro = "compute voro all voronoi/atom"
    if voronoi_radii is not None:
        data = read_data(data_file)
        type_element = dict(zip(data.types.tolist(), data.elements().tolist()))
        missing = sorted({e for e in type_element.values()} - set(voronoi_radii))
        if missing:
            raise ValueError(f"softness.voronoi_radii_A has no radius for {missing}")
        terms = "+".join(f"(type=={t})*{float(voronoi_radii[e])}" for t, e in sorted(type_element.items()))
        commands += [f"variable vradius atom {terms}"]
        voro += " radius v_vradius"
    commands += ["compute pe_atom all pe/atom",  # no keywords: pair bond angle dihedral improper kspace fix
                 voro,
                 "compute pe_sum all reduce sum c_pe_atom",
                 "thermo_style custom step pe c_pe_sum vol fmax",
                 "run 0"]
    lmp = open_lammps(log_file=log_file, threads=threads, switches=switches)
    try:
        run_commands(lmp, setup)
        if positions is not None:
            import ctypes

            x = np.ascontiguousarray(np.asarray(positions, float)).ravel()
            if len(x) != 3 * int(lmp.get_natoms()):
                raise ValueError(f"{len(x) // 3} positions for {int(lmp.get_natoms())} atoms")
            lmp.scatter_atoms("x", 1, 3, (ctypes.c_double * len(x))(*x))
        run_commands(lmp, commands)
        from lammps import LMP_STYLE_ATOM, LMP_TYPE_ARRAY, LMP_TYPE_VECTOR

        nlocal = lmp.extract_global("nlocal")
        ids = np.array(lmp.numpy.extract_atom("id")[:nlocal], dtype=np.int64)
        pos = np.array(lmp.numpy.extract_atom("x")[:nlocal], float)
        pe = np.array(lmp.numpy.extract_compute("pe_atom", LMP_STYLE_ATOM, LMP_TYPE_VECTOR)[:nlocal], float)
        cells = np.array(lmp.numpy.extract_compute("voro", LMP_STYLE_ATOM, LMP_TYPE_ARRAY)[:nlocal], float)
        total = float(lmp.get_thermo("pe"))
        volume = float(lmp.get_thermo("vol"))
        fmax = float(lmp.get_thermo("fmax"))
        natoms = int(lmp.get_natoms())
    finally:
        lmp.close()
    if nlocal != natoms:
        raise RuntimeError(f"{nlocal} local atoms of {natoms}: run this serially (one MPI rank)")
    if not abs(pe.sum() - total) <= rtol * max(abs(total), 1.0):
        raise RuntimeError(f"sum of pe/atom {pe.sum():.8g} differs from the total pe {total:.8g} kcal/mol")
    if not abs(cells[:, 0].sum() - volume) <= 1e-6 * volume:
        raise RuntimeError(f"Voronoi volumes sum to {cells[:, 0].sum():.8g} A^3, box {volume:.8g} A^3")
    order = np.argsort(ids)
    return {"id": ids[order], "pe_kcal_mol": pe[order], "voronoi_A3": cells[order, 0],
            "voronoi_faces": cells[order, 1], "position_A": pos[order], "total_pe_kcal_mol": total,
            "volume_A3": volume, "fmax_kcal_mol_A": fmax}


PROPERTY_COLUMNS = ("id", "element", "pe_kcal_mol", "voronoi_A3", "voronoi_faces", "x_A", "y_A", "z_A")


def time_averaged_positions(trajectory: str, n_frames: int, ids: np.ndarray, box: Box) -> np.ndarray:
    """Mean unwrapped position (A) of atoms ``ids`` over the last ``n_frames`` frames of a
    trajectory, wrapped into ``box`` (the run's cell, which must be the frames' cell)."""
    from collections import deque

    last: deque = deque(maxlen=int(n_frames))
    for frame in iter_dump(trajectory):
        if not (frame.has("xu", "yu", "zu") or frame.has("ix", "iy", "iz")):
            raise ValueError(f"{trajectory}: time-averaged structures need unwrapped coordinates")
        if not np.allclose(frame.box.matrix, box.matrix, atol=1e-6):
            raise ValueError(f"{trajectory}: the cell changes; time averages need an NVT run")
        order = np.argsort(frame.ids)
        if not np.array_equal(frame.ids[order], np.sort(ids)):
            raise ValueError(f"{trajectory}: atom ids differ from the configuration's")
        last.append(frame.unwrapped_positions()[order])
    if not last:
        raise ValueError(f"{trajectory}: no frames")
    return box.wrap(np.mean(np.array(last), axis=0))


def properties_job(data_file: str, forcefield: str, md: Mapping, out_csv: str, log_file: str,
                   threads: int = 1, settings: SoftnessSettings | Mapping | None = None,
                   trajectory: str | None = None, switches: list[str] | None = None) -> None:
    """``li_properties.csv`` (``PROPERTY_COLUMNS``) of every atom of the analysed structure: the
    configuration itself (``structure: instantaneous``), its inherent structure (``inherent``)
    or the mean positions over the last ``time_average_frames`` frames of ``trajectory``
    (``time_average``; the configuration is the last frame), whose positions the softness of ``softness_job`` is then computed on; plain or radical
    Voronoi cells (``softness.voronoi``)."""
    import tempfile

    settings = SoftnessSettings() if settings is None else settings_of(settings)
    data = read_data(data_file)
    elements = dict(zip(data.ids.tolist(), data.elements().tolist()))
    minimise = ((settings.inherent_ftol_kcal_mol_A, settings.inherent_max_iterations)
                if settings.structure == "inherent" else None)
    radii = dict(settings.voronoi_radii_A) if settings.voronoi == "radical" else None
    positions = None
    if settings.structure == "time_average":
        if trajectory is None:
            raise ValueError("softness.structure: time_average needs the run's trajectory")
        positions = time_averaged_positions(trajectory, settings.time_average_frames, data.ids, data.box)
    with tempfile.TemporaryDirectory(prefix="lipsglass-softness-") as tmp:
        p = lammps_per_atom(data_file, forcefield, md, tmp, log_file, threads, minimise=minimise, voronoi_radii=radii,
                            positions=positions, switches=switches)
    pos = data.box.wrap(p["position_A"])
    write_rows(out_csv, PROPERTY_COLUMNS,
               ([int(i), elements[int(i)], f"{e:.8g}", f"{v:.8g}", int(f), *(f"{c:.8f}" for c in x)]
                for i, e, v, f, x in zip(p["id"], p["pe_kcal_mol"], p["voronoi_A3"], p["voronoi_faces"], pos)))
    log.info("%s structure%s; total pe %.6g kcal/mol = sum of pe/atom; largest force %.3g kcal/mol/A; %s Voronoi; "
             "volume %.6g A^3", settings.structure, "" if minimise is None else " (energy-minimised)",
             p["total_pe_kcal_mol"], p["fmax_kcal_mol_A"], settings.voronoi, p["volume_A3"])


# ---- per glass: softness of every Li, soft/hard Li-S g(r) -----------------------------------

def _by_id(rows: list[dict], ids: np.ndarray, column: str) -> np.ndarray:
    table = {int(r["id"]): float(r[column]) for r in rows}
    missing = [int(i) for i in ids if int(i) not in table]
    if missing:
        raise ValueError(f"no {column} for atom ids {missing[:5]}...")
    return np.array([table[int(i)] for i in ids])


def score(model: SoftnessModel, x: np.ndarray, ids: np.ndarray, what: str) -> np.ndarray:
    """Softness of samples ``x`` (atom ids ``ids``), refusing (ValueError naming the Li, the
    feature and its value) any beyond the model's bound on standardised features."""
    inside = within_bound(model, x)
    if not inside.all():
        bad = np.flatnonzero(~inside)
        try:
            model.softness(x[bad])
        except ValueError as err:
            raise ValueError(f"{what}: {len(bad)} Li (ids {ids[bad][:10].tolist()}) lie outside the training "
                             f"distribution; {err}") from err
    return model.softness(x)


def score_configuration(glass_data: str, atom_labels: str, properties: str, model: str, own_model: str,
                        settings: SoftnessSettings) -> dict:
    """Softness (pooled and own model) of every Li of a configuration's analysed structure
    (positions of ``properties``: the configuration, its inherent structure or time-averaged
    positions), its pe and Voronoi volume, anion shares; ``rows`` in ``SOFTNESS_COLUMNS``, whose
    x_A..z_A are the Li positions in the configuration itself (``glass_data``), by which the
    homology and NEB stages find the Li."""
    settings = settings_of(settings)
    pooled, own = SoftnessModel.load(model), SoftnessModel.load(own_model)
    data = read_data(glass_data)
    order = np.argsort(data.ids)
    ids, elements = data.ids[order], data.elements()[order]
    pos = data.box.wrap(data.positions[order])
    table = read_atom_labels(atom_labels)
    li = np.flatnonzero(elements == "Li")
    if len(li) == 0:
        raise ValueError(f"{glass_data}: no Li")
    for m in (pooled, own):
        if m.features != settings.model_features():
            raise ValueError("a model's RSF settings differ from the configured ones: retrain it")
        if m.max_abs_standardised_feature != settings.max_abs_standardised_feature:
            raise ValueError(f"a model's bound on standardised features ({m.max_abs_standardised_feature}) differs "
                             f"from softness.max_abs_standardised_feature ({settings.max_abs_standardised_feature}): "
                             "retrain it")
    rows = read_rows(properties)
    site = pos  # the configuration's positions: x_A..z_A of softness.csv (homology and NEB locate Li by them)
    if rows and "x_A" in rows[0]:  # the analysed structure (inherent, time-averaged or the configuration)
        pos = data.box.wrap(np.column_stack([_by_id(rows, ids, c) for c in ("x_A", "y_A", "z_A")]))
    elif settings.structure != "instantaneous":
        raise ValueError(f"{properties} holds no positions of the {settings.structure} structure: rerun its job")
    chan = rsf_labels(ids, elements, table, settings)
    x = radial_structure_functions(data.box, pos, chan, li, pooled.features["channels"], np.asarray(pooled.features["mu"]),
                                   pooled.features["width"], pooled.features["truncation"])
    s = score(pooled, x, ids[li], f"pooled model {model} on {glass_data}")
    s_own = score(own, x, ids[li], f"own model {own_model} on {glass_data}")
    env = anion_environment(data.box, pos, li, s_anion_labels(ids, table), settings.anion_radius_A)
    pe, voro, faces = (_by_id(rows, ids[li], c) for c in ("pe_kcal_mol", "voronoi_A3", "voronoi_faces"))
    out = []
    for k, c in enumerate(li):
        shares = ["" if not np.isfinite(v) else f"{v:.6g}" for v in env.shares[k]]
        out.append([int(ids[c]), f"{s[k]:.8g}", f"{s_own[k]:.8g}", f"{pe[k]:.8g}", f"{voro[k]:.8g}", int(faces[k]),
                    *shares, int(env.n_sulfur[k]), env.nearest[k], env.majority[k],
                    *(f"{v:.6f}" for v in site[c])])
    return {"rows": out, "S": s, "S_own": s_own, "env": env, "li": li, "pooled": pooled, "own": own, "table": table}


def replica_softness_job(glass_data: str, atom_labels: str, properties: str, model: str, own_model: str,
                         settings: SoftnessSettings | Mapping, out_csv: str) -> None:
    """``softness.csv`` (``SOFTNESS_COLUMNS``) of a further replica glass of a composition,
    scored with the models trained on the analysed replica (C4 combines the replicas)."""
    settings = settings_of(settings)
    r = score_configuration(glass_data, atom_labels, properties, model, own_model, settings)
    write_rows(out_csv, SOFTNESS_COLUMNS, r["rows"])
    log.info("%d Li; mean S %.4f (pooled model), largest |S| %.3g", len(r["S"]), r["S"].mean(), np.abs(r["S"]).max())


def softness_job(glass_data: str, atom_labels: str, properties: str, model: str, own_model: str,
                 trajectory: str, features: str, settings: SoftnessSettings | Mapping,
                 outputs: Mapping[str, str]) -> None:
    """Softness of every Li of the analysed configuration (``final.data`` of the run) with the
    pooled model (``S``) and the glass's own model (``S_own``), its pe and Voronoi volume, the
    S shares of each anion type within ``anion_radius_A`` and the nearest / majority anion.

    Also the Li-S g(r) with S of each anion type for soft (S > 0) and hard (S < 0) Li (Fig. 3D),
    averaged over the first frames of the windows, each Li classified by its pooled-model
    softness in that frame (from the stored window features).
    outputs: ``softness`` (CSV, ``SOFTNESS_COLUMNS``), ``gr`` (CSV: r_A, g_soft_<anion>,
    g_hard_<anion>), ``summary`` (JSON). A Li with a standardised feature beyond a model's bound
    is refused: ValueError naming the Li, the feature and its value.
    """
    settings = settings_of(settings)
    r = score_configuration(glass_data, atom_labels, properties, model, own_model, settings)
    s, s_own, env, li, pooled, own, table = (r[k] for k in ("S", "S_own", "env", "li", "pooled", "own", "table"))
    write_rows(outputs["softness"], SOFTNESS_COLUMNS, r["rows"])

    gr, n_frames = soft_hard_lis_gr(trajectory, load_features(features), pooled, table, settings.gr_dr_A,
                                    settings.gr_r_max_A)
    write_table(outputs["gr"], gr, header=f"Li-S g(r) by anion type for soft (S > 0) and hard (S < 0) Li, "
                                          f"pooled-model softness, averaged over {n_frames} frames")
    write_json(outputs["summary"], {
        "configuration": str(glass_data), "n_Li": len(li), "mean_S": float(s.mean()), "std_S": float(s.std(ddof=1)),
        "fraction_soft": float(np.mean(s > 0)), "mean_S_own": float(s_own.mean()),
        "fraction_soft_own": float(np.mean(s_own > 0)), "anion_radius_A": settings.anion_radius_A,
        "n_Li_without_S_within_radius": int(np.sum(env.n_sulfur == 0)), "gr_frames": n_frames,
        "max_abs_S": float(np.abs(s).max()), "softness_bound": pooled.softness_bound,
        "max_abs_standardised_feature": pooled.max_abs_standardised_feature,
        "dropped_features": {"S": len(pooled.dropped_features), "S_own": len(own.dropped_features)},
        "models": {"S": str(model), "S_own": str(own_model)},
    })


def soft_hard_lis_gr(trajectory: str, features: Mapping[str, np.ndarray], model: SoftnessModel,
                     atom_labels: Mapping[str, np.ndarray], dr: float, r_max: float
                     ) -> tuple[dict[str, np.ndarray], int]:
    """g(r) of soft / hard Li with S of each anion type, averaged (equal weights) over the window
    start frames; a Li is soft in a frame when its softness from that frame's features is > 0.
    Returns ({"r_A", "g_soft_<anion>", "g_hard_<anion>"}, number of frames)."""
    starts = {int(t): k for k, t in enumerate(features["start_timestep"])}
    sums, n_frames, r = None, 0, None
    for frame in iter_dump(trajectory):
        if frame.timestep not in starts:
            continue
        k = starts[frame.timestep]
        sel = features["window"] == k
        s = score(model, features["X"][sel], features["ids"][sel], f"window starting at step {frame.timestep}")
        ids = frame.ids
        index = {int(i): n for n, i in enumerate(ids)}
        li_idx = np.array([index[int(i)] for i in features["ids"][sel]])
        s_anion = s_anion_labels(ids, atom_labels)
        groups = {"soft": li_idx[s > 0], "hard": li_idx[s < 0]}
        groups.update({a: np.flatnonzero(s_anion == a) for a in ANION_TYPES})
        pairs = {f"{kind}_{a}": (kind, a) for kind in ("soft", "hard") for a in ANION_TYPES
                 if len(groups[kind]) and len(groups[a])}
        wanted = {f"{kind}_{a}" for kind in ("soft", "hard") for a in ANION_TYPES if len(groups[a])}
        if set(pairs) != wanted:
            raise ValueError(f"frame {frame.timestep}: no soft or no hard Li; the soft/hard g(r) is undefined")
        box = frame.box
        res = partial_rdfs((box, box.wrap(frame.unwrapped_positions())), groups, pairs,
                           r_max=min(r_max, max_rdf_range(box)), dr=dr)
        if sums is None:
            sums, r = {name: np.zeros_like(g) for name, g in res.g.items()}, res.r
        if len(res.r) != len(r):
            raise ValueError("the cell changed size between frames: g(r) grids differ")
        for name, g in res.g.items():
            sums[name] += g
        n_frames += 1
    if n_frames != len(starts):
        raise ValueError(f"found {n_frames} of {len(starts)} window start frames in {trajectory}")
    out = {"r_A": r}
    out.update({f"g_{name}": v / n_frames for name, v in sums.items()})
    return out, n_frames


# ---- summaries: correlations and claims --------------------------------------------------------

def read_softness(path: str | Path) -> dict[str, np.ndarray]:
    rows = read_rows(path)
    out = {}
    for c in SOFTNESS_COLUMNS:
        if c in ("nearest_anion", "majority_anion"):
            out[c] = np.array([r[c] for r in rows])
        else:
            out[c] = np.array([float(r[c]) if r[c] != "" else np.nan for r in rows])
    return out


def _environment_from_table(t: Mapping[str, np.ndarray], radius: float):
    from lipsglass.softness import AnionEnvironment

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
        env = _environment_from_table(t, settings.anion_radius_A)
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


def correlations_job(softness: Mapping[str, str], settings: SoftnessSettings | Mapping, out_csv: str) -> None:
    settings = settings_of(settings)
    tables = {g: read_softness(p) for g, p in softness.items()}
    write_rows(out_csv, CORRELATION_COLUMNS, correlation_rows(tables, settings))


def p2s6_fraction_of_p(units: Mapping[str, int]) -> float:
    """Share of P in P2S6 units (the paper's composition axis)."""
    from lipsglass.composition import Composition

    return float(Composition("glass", dict(units)).fraction_of_P()["P2S6"])


def composition_atoms(units: Mapping[str, int]) -> int:
    """Atoms of a glass of the composition with these anion units."""
    from lipsglass.composition import Composition

    return int(Composition("glass", dict(units)).n_atoms)


def labelled_ps(windows_csv: str | Path, timestep_fs: float) -> float:
    """Length (ps) of the labelled trajectory of a glass: first window start to last window end."""
    rows = read_rows(windows_csv)
    return (max(int(r["end_timestep"]) for r in rows) - min(int(r["start_timestep"]) for r in rows)) * timestep_fs / 1000


def load_claims(path: str | Path) -> dict[str, str]:
    """Claim texts {id: statement} of ``config/paper_claims.yaml``."""
    import yaml

    raw = yaml.safe_load(Path(path).read_text())
    return {c["id"]: c["statement"] for c in raw["claims"]}


def claims_job(softness: Mapping[str, Mapping[str, str]], units: Mapping[str, Mapping], windows: Mapping[str, str],
               timestep_fs: float, claims_yaml: str, claims: Mapping, anion_assignment: str, out_csv: str,
               out_md: str) -> None:
    """``softness_claims.csv`` (claim rows, ``lipsglass.claims.write_claim_rows``) and ``.md`` (per-glass
    detail) of C4, C5, C6 and C8, decided by ``lipsglass.claims.softness``. ``softness``: per
    composition {replica: softness.csv} of every glass scored; ``windows``: per composition the
    windows.csv of its labelled run (the ps of dynamics behind the softness); ``claims``: the
    config's ``claims`` section (the keys of ``lipsglass.claims.softness.CLAIM_KEYS``)."""
    from lipsglass.claims import write_claim_rows
    from lipsglass.claims.softness import GlassSoftness, SoftnessCriteria, report_markdown, softness_claims

    glasses = [GlassSoftness.from_table(read_softness(path), comp, replica, p2s6_fraction_of_p(units[comp]),
                                        composition_atoms(units[comp]), anion_assignment)
               for comp, per in softness.items() for replica, path in per.items()]
    ps = min(labelled_ps(p, timestep_fs) for p in windows.values()) if windows else None
    verdicts = softness_claims(glasses, SoftnessCriteria.from_config(claims), ps)
    write_claim_rows(out_csv, [v.row() for v in verdicts])
    Path(out_md).write_text(report_markdown(verdicts, load_claims(claims_yaml), glasses))
    for v in verdicts:
        log.info("%s: %s (%s)", v.claim, v.verdict, "no interval" if v.interval is None else v.interval.text())



# ---- figures -------------------------------------------------------------------------------------

def accuracy_figure_job(models: Mapping[str, str], pooled_model: str, out_png: str, out_pdf: str) -> None:
    from lipsglass.figures.softness import plot_accuracy

    metrics = {g: SoftnessModel.load(p).metrics for g, p in models.items()}
    metrics["pooled"] = SoftnessModel.load(pooled_model).metrics
    plot_accuracy(metrics, out_png, out_pdf, title="Li mobility classification (Fig. S1)")


def distributions_figure_job(softness: Mapping[str, str], bins: int, out_png: str, out_pdf: str) -> None:
    from lipsglass.figures.softness import plot_softness_distributions

    plot_softness_distributions({g: read_softness(p)["S"] for g, p in softness.items()}, out_png, out_pdf, bins=bins)


def lis_gr_figure_job(glass: str, table: str, out_png: str, out_pdf: str) -> None:
    from lipsglass.figures.softness import plot_lis_gr_by_anion

    t = read_table(table)
    curves = {a: {k: (t["r_A"], t[f"g_{k}_{a}"]) for k in ("soft", "hard")}
              for a in ANION_TYPES if f"g_soft_{a}" in t}
    # no suptitle: it would overlap the panel titles; the glass is in the file name
    plot_lis_gr_by_anion(curves, out_png, out_pdf)


def by_anion_figure_job(softness: Mapping[str, str], settings: SoftnessSettings | Mapping, out_png: str, out_pdf: str) -> None:
    from lipsglass.figures.softness import plot_softness_by_anion

    settings = settings_of(settings)
    tables = [read_softness(p) for p in softness.values()]
    s = np.concatenate([t["S"] for t in tables])
    env = _environment_from_table({k: np.concatenate([t[k] for t in tables]) for k in SOFTNESS_COLUMNS},
                                  settings.anion_radius_A)
    plot_softness_by_anion(softness_by_anion(s, env, settings.anion_assignment), out_png, out_pdf,
                           bins=settings.softness_bins,
                           title=f"Li by {settings.anion_assignment} anion within {settings.anion_radius_A} Å, all glasses")


def property_figure_job(softness: Mapping[str, str], settings: SoftnessSettings | Mapping, out_png: str, out_pdf: str) -> None:
    from lipsglass.figures.softness import plot_property_vs_softness

    settings = settings_of(settings)
    tables = [read_softness(p) for p in softness.values()]
    s = np.concatenate([t["S"] for t in tables])
    # glass means subtracted: the pooled figure shows within-glass variation, as C8 tests it
    pe = np.concatenate([t["pe_kcal_mol"] - t["pe_kcal_mol"].mean() for t in tables])
    vo = np.concatenate([t["voronoi_A3"] - t["voronoi_A3"].mean() for t in tables])
    bins = settings.property_bins
    plot_property_vs_softness(property_vs_softness(s, pe, bins), property_vs_softness(s, vo, bins), out_png, out_pdf,
                              pe_label="pe - glass mean (kcal/mol)", voro_label="Voronoi volume - glass mean (Å$^3$)",
                              title="Li of all glasses")
