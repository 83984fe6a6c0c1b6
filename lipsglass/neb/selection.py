"""Seeded sampling of Li hops between Li sites of one structure, by hop class (paper Fig. 4C,
S3): a hop moves Li ``from_id`` onto the site of Li ``to_id``; its class joins the softness of
both ("soft->hard", ...). Also the Li and softness of the configuration the hops start from
(``li_of_configuration``), the hops table (``hops.csv``) and the hops asked for per class.

Units: lengths A, softness dimensionless.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from lipsglass.core.tables import read_rows, write_rows
from lipsglass.lammpsio import Box, read_data
from lipsglass.neighbours import neighbour_pairs

HOP_CLASSES = ("soft->hard", "hard->soft", "soft->soft", "hard->hard")
HOP_COLUMNS = ("hop_id", "from_id", "to_id", "class", "distance_A", "S_from", "S_to")


@dataclass
class HopSelection:
    """Sampled hops and the bookkeeping of the sampling.

    rows: one dict per hop with HOP_COLUMNS (ids are LAMMPS atom ids, distance in A, softness
    dimensionless); candidates: number of ordered Li pairs in the distance window per class;
    requested / shortfall: hops asked for and missing per class (shortfall > 0 when a class
    had fewer candidates than requested).
    """

    rows: list[dict]
    candidates: dict[str, int]
    requested: dict[str, int]
    shortfall: dict[str, int]
    seed: int
    min_distance_A: float
    max_distance_A: float
    soft_threshold: float

    def write_csv(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        write_rows(path, HOP_COLUMNS, self.rows)


def read_hops_csv(path: str | Path) -> list[dict]:
    """Hops written by ``HopSelection.write_csv`` with their numeric types restored."""
    out = []
    for r in read_rows(path):
        out.append({"hop_id": int(r["hop_id"]), "from_id": int(r["from_id"]), "to_id": int(r["to_id"]),
                    "class": r["class"], "distance_A": float(r["distance_A"]),
                    "S_from": float(r["S_from"]), "S_to": float(r["S_to"])})
    return out


def select_hops(box: Box, positions: np.ndarray, li_ids: np.ndarray, softness: np.ndarray,
                n_per_class: int | Mapping[str, int], seed: int, min_distance_A: float = 5.0,
                max_distance_A: float = 10.0, soft_threshold: float = 0.0) -> HopSelection:
    """Seeded sample of Li hops from a Li to the site of another Li.

    positions (N_Li, 3, A), li_ids (N_Li atom ids) and softness (N_Li) describe the Li of one
    structure. Candidates are all ordered pairs (i -> j), i != j, whose minimum-image distance
    d satisfies min_distance_A <= d <= max_distance_A. A Li is soft when S > soft_threshold,
    hard otherwise; the class of a hop is "<from>-><to>" (HOP_CLASSES). In each class
    ``n_per_class`` hops (an int, or a dict per class) are drawn without replacement with
    ``numpy.random.default_rng(seed)``; a Li may take part in several hops. A class with fewer
    candidates than requested yields all it has and the shortfall is returned and warned about.
    hop_id runs 0, 1, ... over the classes in HOP_CLASSES order.
    """
    pos = np.asarray(positions, float)
    ids = np.asarray(li_ids, np.int64)
    s = np.asarray(softness, float)
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise ValueError(f"positions must be (N_Li, 3), got {pos.shape}")
    if ids.shape != (len(pos),) or s.shape != (len(pos),):
        raise ValueError(f"li_ids {ids.shape} and softness {s.shape} must have one entry per position ({len(pos)})")
    if len(np.unique(ids)) != len(ids):
        raise ValueError("li_ids are not unique")
    if not np.all(np.isfinite(s)) or not np.all(np.isfinite(pos)):
        raise ValueError("positions and softness must be finite")
    if not 0.0 <= min_distance_A < max_distance_A:
        raise ValueError(f"need 0 <= min_distance_A < max_distance_A, got {min_distance_A}, {max_distance_A}")
    # a hop longer than half the cell has no unique minimum image: its direction is ambiguous
    face_spacing = 1.0 / np.linalg.norm(np.linalg.inv(box.matrix), axis=0)
    if max_distance_A >= 0.5 * face_spacing.min():
        raise ValueError(f"max_distance_A {max_distance_A} A is not below half the smallest cell width "
                         f"({0.5 * face_spacing.min():.3f} A): the hop vector is ambiguous")
    if isinstance(n_per_class, Mapping):
        unknown = set(n_per_class) - set(HOP_CLASSES)
        if unknown:
            raise ValueError(f"unknown hop classes {sorted(unknown)}; classes are {HOP_CLASSES}")
        requested = {c: int(n_per_class.get(c, 0)) for c in HOP_CLASSES}
    else:
        requested = {c: int(n_per_class) for c in HOP_CLASSES}
    if any(n < 0 for n in requested.values()):
        raise ValueError(f"negative number of hops requested: {requested}")

    i, j, vec = neighbour_pairs(box, pos, max_distance_A)
    dist = np.linalg.norm(vec, axis=1)
    keep = (dist >= min_distance_A) & (dist <= max_distance_A)
    i, j, dist = i[keep], j[keep], dist[keep]
    # both directions of every unordered pair are distinct hops
    src = np.concatenate([i, j])
    dst = np.concatenate([j, i])
    d = np.concatenate([dist, dist])
    order = np.lexsort((ids[dst], ids[src]))  # deterministic candidate order, by (from_id, to_id)
    src, dst, d = src[order], dst[order], d[order]
    soft = s > soft_threshold
    label = np.where(soft, "soft", "hard")
    cls = np.char.add(np.char.add(label[src], "->"), label[dst])

    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    candidates, shortfall = {}, {}
    for c in HOP_CLASSES:
        members = np.flatnonzero(cls == c)
        candidates[c] = int(len(members))
        n = min(requested[c], len(members))
        shortfall[c] = requested[c] - n
        chosen = np.sort(rng.choice(members, size=n, replace=False)) if n else np.zeros(0, np.int64)
        for k in chosen:
            rows.append({"hop_id": len(rows), "from_id": int(ids[src[k]]), "to_id": int(ids[dst[k]]),
                         "class": c, "distance_A": float(d[k]), "S_from": float(s[src[k]]),
                         "S_to": float(s[dst[k]])})
    missing = {c: n for c, n in shortfall.items() if n > 0}
    if missing:
        warnings.warn(f"hop selection: fewer candidates than requested in {missing} "
                      f"(candidates per class: {candidates})", stacklevel=2)
    return HopSelection(rows, candidates, requested, shortfall, int(seed), float(min_distance_A),
                        float(max_distance_A), float(soft_threshold))


def hops_requested(settings: Mapping) -> dict[str, int]:
    """Hops drawn per class: ``n_per_class`` for the configured classes, 0 for the others."""
    classes = list(settings["classes"])
    unknown = set(classes) - set(HOP_CLASSES)
    if unknown:
        raise ValueError(f"unknown hop classes {sorted(unknown)}; classes are {HOP_CLASSES}")
    return {c: int(settings["n_per_class"]) if c in classes else 0 for c in HOP_CLASSES}


def li_of_configuration(glass_data: str | Path, softness_csv: str | Path, tolerance_A: float = 1e-3):
    """(box, Li ids, Li positions (A, wrapped), softness) of the configuration ``glass_data``,
    the softness taken from ``softness_csv``. Raises ValueError unless both files hold the
    same Li at the same positions (within ``tolerance_A``, minimum image): the softness must
    describe the glass the NEB starts from."""
    data = read_data(glass_data)
    li = np.flatnonzero(data.elements() == "Li")
    if len(li) == 0:
        raise ValueError(f"{glass_data}: no Li")
    order = li[np.argsort(data.ids[li])]
    ids, pos = data.ids[order].astype(np.int64), data.box.wrap(data.positions[order])
    rows = read_rows(softness_csv)
    table = {int(r["id"]): r for r in rows}
    if sorted(table) != ids.tolist():
        extra, missing = set(table) - set(ids.tolist()), set(ids.tolist()) - set(table)
        raise ValueError(f"{softness_csv} and {glass_data} hold different Li (only in the softness table: "
                         f"{sorted(extra)[:5]}, only in the configuration: {sorted(missing)[:5]})")
    s = np.array([float(table[int(i)]["S"]) for i in ids])
    xyz = np.array([[float(table[int(i)][c]) for c in ("x_A", "y_A", "z_A")] for i in ids])
    off = np.linalg.norm(data.box.minimum_image(xyz - pos), axis=1)
    if off.max() > tolerance_A:
        k = int(np.argmax(off))
        raise ValueError(f"Li {ids[k]} lies {off[k]:.3g} A from its softness-table position: {softness_csv} does "
                         f"not describe {glass_data}")
    return data.box, ids, pos, s
