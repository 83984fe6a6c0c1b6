"""Softness stage, per Li (rules ``softness_per_li``, ``softness_replica_per_li``): the softness
(pooled and own model) of every Li of the analysed configuration, its pe, Voronoi volume and anion
environment (``softness.csv``), and the Li-S g(r) by anion type for soft and hard Li (Fig. 3D).
Design choices: ``lipsglass.stages.softness``.
"""

from __future__ import annotations

import logging
from typing import Mapping

import numpy as np

from lipsglass.core.tables import read_rows, write_rows, write_table
from lipsglass.jsonio import write_json
from lipsglass.lammpsio import iter_dump, read_data
from lipsglass.rdf import max_rdf_range, partial_rdfs
from lipsglass.softness.environment import ANION_TYPES, anion_environment
from lipsglass.softness.features import radial_structure_functions
from lipsglass.softness.model import SoftnessModel, score
from lipsglass.softness.settings import SoftnessSettings
from lipsglass.softness.table import SOFTNESS_COLUMNS
from lipsglass.stages.softness import load_features, read_atom_labels, rsf_labels, s_anion_labels, settings_of

log = logging.getLogger(__name__)


def _by_id(rows: list[dict], ids: np.ndarray, column: str) -> np.ndarray:
    table = {int(r["id"]): float(r[column]) for r in rows}
    missing = [int(i) for i in ids if int(i) not in table]
    if missing:
        raise ValueError(f"no {column} for atom ids {missing[:5]}...")
    return np.array([table[int(i)] for i in ids])


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

