"""The homology outputs' files: persistence diagrams ``pd_h0.csv``, ``pd_h1.csv`` (with the rings
of both definitions), ``pd_h2.csv``, and the loaders of ``fsdp_link.json`` and
``softness_by_ring_size.json`` (integer ring-size keys, NaN for JSON nulls).

Filtration values are alpha^2 (A^2); ring atoms are stored as LAMMPS atom ids.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lipsglass.core.tables import read_rows, write_rows
from lipsglass.homology.results import Rings, ring_length

PD_COLUMNS = ("birth_A2", "death_A2", "persistence_A2")
PD_H1_COLUMNS = ("birth_A2", "death_A2", "persistence_A2", "ring_size", "diameter_A", "death_length_A", "atom_ids",
                 "volume_ring_size", "volume_diameter_A", "volume_cells", "volume_atom_ids")
# ring definitions (lipsglass.homology.results.RING_DEFINITIONS) -> their pd_h1.csv columns (size, diameter, atom ids)
RING_COLUMNS = {"shortest_cycle": ("ring_size", "diameter_A", "atom_ids"),
                "optimal_volume": ("volume_ring_size", "volume_diameter_A", "volume_atom_ids")}


def _fmt(value: float) -> str:
    return f"{value:.10g}" if np.isfinite(value) else ""


def write_pd(path: str | Path, intervals: np.ndarray) -> None:
    """Finite pairs (n, 2) of alpha^2 values (A^2) as CSV: birth_A2, death_A2, persistence_A2."""
    write_rows(path, PD_COLUMNS, ((_fmt(b), _fmt(d), _fmt(d - b)) for b, d in intervals))


def write_pd_h1(path: str | Path, rings: Rings, atom_ids: np.ndarray, volumes: Rings) -> None:
    """Every finite H1 pair with its ring under both definitions: shortest cycle at birth (size
    in atoms: -1 longer than max_ring_size, 0 not searched; diameter, A; LAMMPS ids of the ring
    atoms in ring order, space separated) and boundary of the optimal / stable volume (the same,
    plus the number of triangles of the volume), and 2 sqrt(death) (A)."""
    death_length = ring_length(rings, "death")
    if not np.allclose(volumes.birth, rings.birth) or not np.allclose(volumes.death, rings.death):
        raise ValueError("the two ring sets belong to different diagrams")
    write_rows(path, PD_H1_COLUMNS, (
        [_fmt(rings.birth[k]), _fmt(rings.death[k]), _fmt(rings.death[k] - rings.birth[k]),
         int(rings.size[k]), _fmt(rings.diameter[k]), _fmt(death_length[k]),
         " ".join(str(int(i)) for i in atom_ids[rings.atoms[k]]),
         int(volumes.size[k]), _fmt(volumes.diameter[k]), int(volumes.n_cells[k]),
         " ".join(str(int(i)) for i in atom_ids[volumes.atoms[k]])] for k in range(len(rings.birth))))


def read_pd(path: str | Path) -> np.ndarray:
    """(n, 2) birth/death alpha^2 (A^2) of a pd_h*.csv."""
    rows = read_rows(path)
    return np.array([[float(r["birth_A2"]), float(r["death_A2"])] for r in rows], float).reshape(-1, 2)


def read_rings(path: str | Path, max_ring_size: int, definition: str = "shortest_cycle") -> Rings:
    """Rings of a ``pd_h1.csv`` under ``definition`` (``RING_COLUMNS``); ``atoms`` holds LAMMPS
    atom ids (not indices), coordinates are not stored (empty arrays)."""
    if definition not in RING_COLUMNS:
        raise ValueError(f"ring definition must be one of {tuple(RING_COLUMNS)}, not {definition!r}")
    size_col, diameter_col, atoms_col = RING_COLUMNS[definition]
    rows = read_rows(path)
    if rows and tuple(rows[0]) != PD_H1_COLUMNS:
        raise ValueError(f"{path}: columns {tuple(rows[0])}, expected {PD_H1_COLUMNS}")

    def num(v: str) -> float:
        return float(v) if v != "" else float("nan")

    return Rings(birth=np.array([num(r["birth_A2"]) for r in rows]),
                 death=np.array([num(r["death_A2"]) for r in rows]),
                 size=np.array([int(r[size_col]) for r in rows], dtype=int),
                 diameter=np.array([num(r[diameter_col]) for r in rows]),
                 atoms=[np.array(r[atoms_col].split(), dtype=np.int64) for r in rows],
                 coordinates=[np.zeros((0, 3)) for _ in rows], max_ring_size=int(max_ring_size))


def nan_if_none(value):
    """NaN for a JSON null, the value otherwise."""
    return float("nan") if value is None else value


def _int_keys_links(links: dict | None) -> None:
    for link in (links or {}).values():
        link["per_size"] = {int(s): {k: nan_if_none(v) for k, v in d.items()} for s, d in link["per_size"].items()}
        for key in ("large_ring_share", "large_ring_share_count"):
            link[key] = nan_if_none(link[key])


def load_fsdp_link(path: str | Path) -> dict:
    """``fsdp_link.json`` with integer ring-size keys and NaN for JSON nulls in the links (of the
    primary definition at the top level and of every definition under ``definitions``)."""
    data = json.loads(Path(path).read_text())
    _int_keys_links(data.get("links"))
    for entry in data.get("definitions", {}).values():
        _int_keys_links(entry.get("links"))
        for scan in (entry.get("enrichment") or {}).values():
            for row in scan:
                row.update({k: nan_if_none(v) for k, v in row.items()})
    return data


def _softness_keys(data: dict) -> None:
    data["values"] = {int(s): np.asarray(v, float) for s, v in data.get("values", {}).items()}
    data["per_size"] = {int(s): {k: (nan_if_none(v) if k == "d" else v) for k, v in d.items()}
                        for s, d in data.get("per_size", {}).items()}


def load_softness_rings(path: str | Path) -> dict:
    """``softness_by_ring_size.json`` with integer ring-size keys, value arrays and NaN for nulls
    (primary definition at the top level, every definition under ``definitions``)."""
    data = json.loads(Path(path).read_text())
    _softness_keys(data)
    for entry in data.get("definitions", {}).values():
        _softness_keys(entry)
    return data
