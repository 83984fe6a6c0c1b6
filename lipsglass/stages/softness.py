"""Softness stage (paper Fig. 3, Fig. S1; claims C3-C6, C8): Li rearrangements (D2min, D_cum) at
the configured temperature, mobile/immobile labels, logistic-regression softness models,
per-Li potential energy and Voronoi volume, links to the anion environment, claims check.

The science lives in ``lipsglass.d2min``, ``lipsglass.softness``, ``lipsglass.rdf`` and
``lipsglass.figures.softness``, LAMMPS minimisations and per-atom evaluations in
``lipsglass.engine.minimise`` and the claim decisions in ``lipsglass.claims.softness``; the stage
modules read job inputs, call them with the configured settings and write the outputs:
``softness_dynamics`` (windows, labels, features), ``softness_model`` (models and transfer),
``softness_learning_curve`` (C3's learning curve), ``softness_properties`` (per-atom pe and Voronoi
volume), ``softness_per_li`` (softness of every Li, soft/hard g(r)), ``softness_summary``
(correlations, claims) and ``softness_figures``. This module holds what they share: the
settings at the job boundary and the readers of their input tables.

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
  ``lipsglass.softness.settings.SoftnessSettings``.
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

from pathlib import Path
from typing import Mapping

import numpy as np

from lipsglass.core.settings import job_settings
from lipsglass.core.tables import read_rows
from lipsglass.softness.environment import ANION_TYPES
from lipsglass.softness.features import channel_labels
from lipsglass.softness.settings import SoftnessSettings
from lipsglass.softness.table import SOFTNESS_COLUMNS


def settings_of(settings: SoftnessSettings | Mapping) -> SoftnessSettings:
    """The stage's settings object: ``settings`` itself or parsed once from the config section
    (the job boundary: every ``*_job`` calls this; helpers take ``SoftnessSettings`` only); from a
    rule's params, restricted to the keys the rule declares (a read of another key fails)."""
    return job_settings(SoftnessSettings, settings, "softness")


def read_atom_labels(path: str | Path) -> dict[str, np.ndarray]:
    """``atom_labels.csv`` of the structure stage as arrays sorted by atom id."""
    rows = read_rows(path)
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


def load_features(path: str | Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def read_softness(path: str | Path) -> dict[str, np.ndarray]:
    rows = read_rows(path)
    out = {}
    for c in SOFTNESS_COLUMNS:
        if c in ("nearest_anion", "majority_anion"):
            out[c] = np.array([r[c] for r in rows])
        else:
            out[c] = np.array([float(r[c]) if r[c] != "" else np.nan for r in rows])
    return out

