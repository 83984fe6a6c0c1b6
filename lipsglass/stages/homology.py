"""Homology stage (paper Fig. S4, S5; claims C11, C12): persistent homology of the anion network
of each glass, its rings, their link to the first sharp diffraction peak (FSDP) and the softness
of Li around rings of each size.

The science lives in ``lipsglass.homology`` and ``lipsglass.figures.homology``; this module reads
job inputs, calls them with the configured settings (``config["homology"]``) and writes outputs.

Design choices (documented here because the paper's SI, which would fix them, is unavailable):

* Configuration analysed: the softness stage's configuration (``final.data`` of the
  ``softness.temperature_K`` production run), so that ring atoms and the Li whose softness is
  tested (``softness.csv``) share one set of coordinates. The softness job's Li coordinates are
  checked against this file (a mismatch stops the job).
* Complex: periodic alpha complex of the ``elements`` atoms (default P + S), unweighted unless
  ``weighted`` (then weights = ``radii``^2). All filtration values are alpha^2 in A^2.
* Rings: finite H1 pairs with the shortest-path representative cycle (``lipsglass.homology``).
  Most H1 pairs of a glass are short-lived triangles of nearly touching atoms; ring statistics,
  the FSDP link and S5 use only pairs with persistence death - birth > ``min_persistence_A2``.
  ``pd_h1.csv`` keeps every pair, so any other threshold can be applied afterwards.
* C11 ("the FSDP is assigned to rings larger than 8"): the FSDP's real-space window is
  2 pi / (q +- FWHM/2); a ring "contributes to the FSDP" when its length lies in that window.
  The claim holds in a glass when rings of more than ``large_ring_size`` atoms carry more than
  ``claims.c11_min_large_share`` of the persistence of all such rings. Two ring lengths are
  reported: ``death`` = 2 sqrt(death alpha^2) (the diameter of the largest empty ball the loop
  encloses, i.e. the size of the hole) and ``diameter`` (largest distance between two ring
  atoms). The primary one (``ring_length``, default ``death``) decides the verdict: the death
  value belongs to the persistence pair itself and is stable under small displacements of the
  atoms (stability theorem), whereas the diameter depends on which of several equally short
  representative cycles is chosen; for a planar regular even ring the two coincide.
* C12 ("softness around rings shows no ring-size dependence beyond the overall distribution"):
  Li within ``li_ring_cutoff_A`` of an atom of a ring are grouped by ring size (``assignment:
  largest`` puts each Li in the class of the largest ring near it, giving disjoint classes);
  a Kruskal-Wallis test across the classes holding at least ``min_count`` Li, with effect size
  epsilon^2. A glass shows a ring-size dependence when p < ``c12_alpha`` / (number of glasses
  tested) (Bonferroni) and epsilon^2 >= ``c12_min_epsilon_squared``; the claim holds when no
  tested glass shows one.

Outputs per glass (``results/{glass}/homology/``): ``pd_h0.csv``, ``pd_h1.csv``, ``pd_h2.csv``,
``rings.json``, ``fsdp_link.json``, ``softness_by_ring_size.json``.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Mapping

import numpy as np

from lipsglass.claims import write_claim_rows
from lipsglass.homology import (PersistenceDiagram, Rings, fsdp_ring_link, ring_length, softness_by_ring_size,
                                structure_homology)
from lipsglass.jsonio import write_json
from lipsglass.lammpsio import read_data

PD_COLUMNS = ("birth_A2", "death_A2", "persistence_A2")
PD_H1_COLUMNS = ("birth_A2", "death_A2", "persistence_A2", "ring_size", "diameter_A", "death_length_A", "atom_ids")
RING_LENGTHS = ("death", "diameter")


# ---- reading and writing ------------------------------------------------------------------------

def _fmt(value: float) -> str:
    return f"{value:.10g}" if np.isfinite(value) else ""


def write_pd(path: str | Path, intervals: np.ndarray) -> None:
    """Finite pairs (n, 2) of alpha^2 values (A^2) as CSV: birth_A2, death_A2, persistence_A2."""
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(PD_COLUMNS)
        writer.writerows((_fmt(b), _fmt(d), _fmt(d - b)) for b, d in intervals)


def write_pd_h1(path: str | Path, rings: Rings, atom_ids: np.ndarray) -> None:
    """Every finite H1 pair with its ring: size (atoms, -1 unresolved), diameter (A),
    2 sqrt(death) (A) and the LAMMPS ids of the ring atoms in ring order (space separated)."""
    death_length = ring_length(rings, "death")
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(PD_H1_COLUMNS)
        for k in range(len(rings.birth)):
            writer.writerow([_fmt(rings.birth[k]), _fmt(rings.death[k]), _fmt(rings.death[k] - rings.birth[k]),
                             int(rings.size[k]), _fmt(rings.diameter[k]), _fmt(death_length[k]),
                             " ".join(str(int(i)) for i in atom_ids[rings.atoms[k]])])


def read_pd(path: str | Path) -> np.ndarray:
    """(n, 2) birth/death alpha^2 (A^2) of a pd_h*.csv."""
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    return np.array([[float(r["birth_A2"]), float(r["death_A2"])] for r in rows], float).reshape(-1, 2)


def read_rings(path: str | Path, max_ring_size: int) -> Rings:
    """Rings of a ``pd_h1.csv``; ``atoms`` holds LAMMPS atom ids (not indices), coordinates are
    not stored (empty arrays)."""
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    if rows and tuple(rows[0]) != PD_H1_COLUMNS:
        raise ValueError(f"{path}: columns {tuple(rows[0])}, expected {PD_H1_COLUMNS}")

    def num(v: str) -> float:
        return float(v) if v != "" else float("nan")

    return Rings(birth=np.array([num(r["birth_A2"]) for r in rows]),
                 death=np.array([num(r["death_A2"]) for r in rows]),
                 size=np.array([int(r["ring_size"]) for r in rows], dtype=int),
                 diameter=np.array([num(r["diameter_A"]) for r in rows]),
                 atoms=[np.array(r["atom_ids"].split(), dtype=np.int64) for r in rows],
                 coordinates=[np.zeros((0, 3)) for _ in rows], max_ring_size=int(max_ring_size))


def subset_rings(rings: Rings, mask: np.ndarray) -> Rings:
    """The rings selected by a boolean mask."""
    mask = np.asarray(mask, bool)
    if mask.shape != rings.birth.shape:
        raise ValueError("mask must have one entry per ring")
    picked = np.flatnonzero(mask)
    return Rings(birth=rings.birth[mask], death=rings.death[mask], size=rings.size[mask],
                 diameter=rings.diameter[mask], atoms=[rings.atoms[k] for k in picked],
                 coordinates=[rings.coordinates[k] for k in picked], max_ring_size=rings.max_ring_size)


def persistent_rings(rings: Rings, min_persistence: float) -> Rings:
    """Rings whose persistence death - birth (A^2) exceeds ``min_persistence``."""
    if not min_persistence >= 0:
        raise ValueError(f"min_persistence must be >= 0 (A^2), got {min_persistence}")
    return subset_rings(rings, rings.persistence > min_persistence)


def size_distribution(rings: Rings) -> dict:
    """Number of rings, resolved ring sizes {size (atoms): count}, the unresolved count (longer
    than max_ring_size) and the count of pairs not searched (size 0: below the ring threshold)."""
    sizes, counts = np.unique(rings.size[rings.size > 0], return_counts=True)
    return {"n_rings": int(len(rings.size)), "n_unresolved": int(np.sum(rings.size < 0)),
            "n_not_searched": int(np.sum(rings.size == 0)),
            "sizes": {int(s): int(c) for s, c in zip(sizes, counts)}}


def _none_to_nan(value):
    return float("nan") if value is None else value


def load_fsdp_link(path: str | Path) -> dict:
    """``fsdp_link.json`` with integer ring-size keys and NaN for JSON nulls in the links."""
    data = json.loads(Path(path).read_text())
    for link in (data.get("links") or {}).values():
        link["per_size"] = {int(s): {k: _none_to_nan(v) for k, v in d.items()} for s, d in link["per_size"].items()}
        for key in ("large_ring_share", "large_ring_share_count"):
            link[key] = _none_to_nan(link[key])
    return data


def load_softness_rings(path: str | Path) -> dict:
    """``softness_by_ring_size.json`` with integer ring-size keys, value arrays and NaN for nulls."""
    data = json.loads(Path(path).read_text())
    data["values"] = {int(s): np.asarray(v, float) for s, v in data["values"].items()}
    data["per_size"] = {int(s): d for s, d in data["per_size"].items()}
    for key in ("kruskal_H", "kruskal_p", "epsilon_squared"):
        data[key] = _none_to_nan(data[key])
    return data


def _radii(settings: Mapping) -> dict[str, float] | None:
    return {str(k): float(v) for k, v in settings["radii"].items()} if settings["weighted"] else None


# ---- jobs ---------------------------------------------------------------------------------------

def homology_job(configuration: str, settings: Mapping, outputs: Mapping[str, str]) -> None:
    """Periodic alpha-complex persistence (H0, H1, H2) of the ``settings["elements"]`` atoms of a
    LAMMPS data file and the H1 rings. outputs: ``pd_h0``, ``pd_h1``, ``pd_h2`` (CSV, alpha^2 in
    A^2; pd_h1 with ring size, diameter, 2 sqrt(death) and ring atom ids) and ``rings`` (JSON:
    ring-size distribution with and without the persistence filter, counts, settings, timing)."""
    t0 = time.perf_counter()
    data = read_data(configuration)
    elements = data.elements()
    result = structure_homology(data.box, elements, data.box.wrap(data.positions),
                                select=tuple(settings["elements"]), radii=_radii(settings),
                                margin=settings["margin_A"], max_ring_size=settings["max_ring_size"],
                                ring_min_persistence=settings["min_persistence_A2"])
    diagram, rings = result.diagram, result.rings
    for dim, key in ((0, "pd_h0"), (2, "pd_h2")):
        write_pd(outputs[key], diagram.intervals(dim))
    write_pd_h1(outputs["pd_h1"], rings, data.ids)
    kept = persistent_rings(rings, settings["min_persistence_A2"])
    write_json(outputs["rings"], {
        "configuration": str(configuration),
        "elements": list(result.elements), "n_network_atoms": int(len(result.atom_indices)),
        "weighted": bool(diagram.weighted), "radii_A": _radii(settings),
        "margin_A": float(result.margin), "max_ring_size": int(settings["max_ring_size"]),
        "min_persistence_A2": float(settings["min_persistence_A2"]),
        "finite_pairs": {f"H{d}": int(np.sum(diagram.dimension == d)) for d in (0, 1, 2)},
        "essential_classes": {f"H{d}": c for d, c in diagram.betti_essential().items()},
        "n_zero_length_pairs": int(diagram.n_zero_persistence),
        "zero_length_threshold_A2": float(diagram.min_persistence),
        "n_hidden_points": int(diagram.n_hidden),
        "all_h1": size_distribution(rings),
        "persistent": size_distribution(kept),
        "h1_persistence_quantiles_A2": dict(zip(("q10", "q50", "q90"),
                                                np.percentile(rings.persistence, [10, 50, 90]).tolist()))
        if len(rings.birth) else {},
        "units": {"filtration": "alpha^2, A^2", "ring size": "atoms (-1: longer than max_ring_size; "
                                                             "0: persistence not above min_persistence_A2, "
                                                             "not searched)"},
        "timing_s": {"homology": float(result.timings["homology_s"]), "job": time.perf_counter() - t0},
    })
    print(f"{configuration}: {len(result.atom_indices)} atoms, {len(rings.birth)} H1 pairs, "
          f"{len(kept.birth)} with persistence > {settings['min_persistence_A2']} A^2, "
          f"{time.perf_counter() - t0:.1f} s")


def fsdp_link_job(pd_h1: str, fsdp_json: str, settings: Mapping, out_json: str) -> None:
    """Link of the persistent rings to the FSDP of ``settings["fsdp_weighting"]`` S(q), for both
    ring-length definitions (``lipsglass.homology.fsdp_ring_link``). When the FSDP width is not
    resolved (null in fsdp.json) the library's default FWHM 0.25 q is used and recorded."""
    peak = json.loads(Path(fsdp_json).read_text())["fsdp"][settings["fsdp_weighting"]]
    q = _none_to_nan(peak.get("position"))
    fwhm = _none_to_nan(peak.get("fwhm"))
    fwhm_source = "fsdp.json"
    if not (np.isfinite(fwhm) and 0 < fwhm < 2 * q):
        fwhm, fwhm_source = None, "not resolved in fsdp.json: 0.25 q assumed"
    rings = persistent_rings(read_rings(pd_h1, settings["max_ring_size"]), settings["min_persistence_A2"])
    links = None
    if np.isfinite(q) and q > 0:
        links = {length: fsdp_ring_link(rings, q, fwhm, length=length, large_ring=settings["large_ring_size"])
                 for length in RING_LENGTHS}
    write_json(out_json, {
        "fsdp": {"weighting": settings["fsdp_weighting"], "position_inv_A": q,
                 "fwhm_inv_A": fwhm if fwhm is not None else (0.25 * q if np.isfinite(q) else None),
                 "fwhm_source": fwhm_source, "at_window_edge": bool(peak.get("at_window_edge", False)),
                 "source": str(fsdp_json)},
        "primary_length": settings["ring_length"], "min_persistence_A2": float(settings["min_persistence_A2"]),
        "large_ring_size": int(settings["large_ring_size"]), "n_rings": int(len(rings.birth)),
        "links": links, "units": {"length": "A", "persistence": "A^2", "q": "1/A"}, "rings_source": str(pd_h1),
    })


def _li_coordinates(configuration: str, softness_csv: str):
    """Box, wrapped positions of every atom, id -> index map, and the index and softness of
    each Li of ``softness.csv``, checked to sit where the softness job saw it."""
    data = read_data(configuration)
    pos = data.box.wrap(data.positions)
    index = {int(i): k for k, i in enumerate(data.ids)}
    with open(softness_csv) as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError(f"{softness_csv}: no Li")
    missing = [r["id"] for r in rows if int(r["id"]) not in index]
    if missing:
        raise ValueError(f"{softness_csv}: atom ids {missing[:5]} are not in {configuration}")
    li = np.array([index[int(r["id"])] for r in rows])
    if not np.all(data.elements()[li] == "Li"):
        raise ValueError(f"{softness_csv} lists atoms that are not Li in {configuration}")
    stored = np.array([[float(r["x_A"]), float(r["y_A"]), float(r["z_A"])] for r in rows])
    offset = np.linalg.norm(data.box.minimum_image(stored - pos[li]), axis=1)
    if offset.max() > 1e-3:  # the CSV holds 6 decimals
        raise ValueError(f"{softness_csv} was computed on another configuration than {configuration}: "
                         f"Li up to {offset.max():.3g} A apart")
    return data.box, pos, index, li, np.array([float(r["S"]) for r in rows])


def softness_rings_job(pd_h1: str, configuration: str, softness_csv: str, settings: Mapping,
                       out_json: str) -> None:
    """Softness (pooled model ``S``) of the Li near persistent rings, by ring size, with the
    Kruskal-Wallis test across sizes (``lipsglass.homology.softness_by_ring_size``)."""
    box, pos, index, li, s = _li_coordinates(configuration, softness_csv)
    rings = persistent_rings(read_rings(pd_h1, settings["max_ring_size"]), settings["min_persistence_A2"])
    resolved = rings.size > 0
    common = {"configuration": str(configuration), "softness_source": str(softness_csv), "softness_column": "S",
              "min_persistence_A2": float(settings["min_persistence_A2"]), "n_rings": int(len(rings.birth)),
              "n_Li": int(len(li)), "min_count": int(settings["min_count"])}
    if not resolved.any():
        write_json(out_json, {**common, "cutoff_A": float(settings["li_ring_cutoff_A"]),
                              "assignment": settings["assignment"], "per_size": {}, "values": {},
                              "all_li": {"n": int(len(s))}, "kruskal_H": None, "kruskal_p": None,
                              "epsilon_squared": None, "sizes_tested": [],
                              "n_unresolved_rings": int(len(rings.birth)), "n_Li_near_rings": 0,
                              "note": "no resolved ring above the persistence threshold"})
        return
    ring_atoms = [np.array([index[int(i)] for i in ids], dtype=np.int64) for ids in rings.atoms]
    res = softness_by_ring_size(box, pos, ring_atoms, rings.size, pos[li], s, cutoff=settings["li_ring_cutoff_A"],
                                min_count=settings["min_count"], assignment=settings["assignment"])
    near = sum(len(v) for v in res["values"].values()) if settings["assignment"] == "largest" else None
    write_json(out_json, {**common, **res, "n_Li_near_rings": near})


# ---- claims -------------------------------------------------------------------------------------

def _f(value, fmt: str = ".2f") -> str:
    return "n/a" if value is None or not np.isfinite(value) else format(value, fmt)


def homology_claims(links: Mapping[str, dict], softness: Mapping[str, dict], settings: Mapping,
                    sources: Mapping[str, str]) -> list[dict]:
    """Rows for C11 and C12 (columns of ``lipsglass.claims.CLAIM_COLUMNS``); criteria in the
    module docstring. ``links``: loaded fsdp_link.json per glass; ``softness``: loaded
    softness_by_ring_size.json per glass; ``sources``: text naming the input files."""
    c = settings["claims"]
    primary, large = settings["ring_length"], settings["large_ring_size"]
    parts, ok = [], []
    for glass, data in links.items():
        f = data["fsdp"]
        if not data["links"] or f["at_window_edge"]:
            parts.append(f"{glass}: FSDP not resolved (at the edge of its search window)")
            continue
        link = data["links"]
        share = link[primary]["large_ring_share"]
        ok.append(bool(np.isfinite(share) and share > c["c11_min_large_share"]))
        lo, hi = link[primary]["window_A"]
        both = ", ".join(f"{length} {_f(link[length]['large_ring_share'])} "
                         f"(by count {_f(link[length]['large_ring_share_count'])}, "
                         f"{link[length]['n_in_window']} rings in window)" for length in RING_LENGTHS)
        parts.append(f"{glass}: 2pi/q_FSDP = {link[primary]['d_fsdp_A']:.2f} A (window {lo:.2f}-{hi:.2f} A, "
                     f"FWHM {f['fwhm_source']}); persistence share of rings > {large} atoms: {both}")
    # glasses whose FSDP is not resolved cannot be tested; the others decide
    verdict = "not tested" if not ok else ("holds" if all(ok) else "does not hold")
    rows = [{
        "claim": "C11", "verdict": verdict, "measured": "; ".join(parts),
        "criterion": (f"in every glass, rings of > {large} atoms carry > {c['c11_min_large_share']:g} of the "
                      f"persistence of the rings (persistence > {settings['min_persistence_A2']:g} A^2) whose length "
                      f"lies in the FSDP window 2pi/(q +- FWHM/2); primary length: {primary} "
                      f"({'2 sqrt(death alpha^2)' if primary == 'death' else 'largest atom-atom distance in the ring'}); "
                      f"both lengths reported; glasses whose FSDP lies at the edge of its search window are "
                      f"not tested"),
        "source": sources["C11"]}]

    tested = {g: d for g, d in softness.items() if np.isfinite(d["kruskal_p"])}
    level = c["c12_alpha"] / max(len(tested), 1)
    parts, dependent = [], []
    for glass, d in softness.items():
        if glass not in tested:
            counts = {s: len(v) for s, v in d["values"].items()}
            parts.append(f"{glass}: not tested (fewer than 2 ring-size classes with >= {d['min_count']} Li; "
                         f"Li per class {counts})")
            continue
        dep = d["kruskal_p"] < level and d["epsilon_squared"] >= c["c12_min_epsilon_squared"]
        dependent.append(dep)
        parts.append(f"{glass}: Kruskal-Wallis H = {d['kruskal_H']:.2f}, p = {d['kruskal_p']:.3g}, "
                     f"epsilon^2 = {d['epsilon_squared']:.3f} over ring sizes {d['sizes_tested']} "
                     f"(n = {[len(d['values'][s]) for s in d['sizes_tested']]} Li)")
    verdict = "not tested" if not tested else ("holds" if not any(dependent) else "does not hold")
    rows.append({
        "claim": "C12", "verdict": verdict, "measured": "; ".join(parts),
        "criterion": (f"Li within {settings['li_ring_cutoff_A']:g} A of a ring atom (rings with persistence > "
                      f"{settings['min_persistence_A2']:g} A^2), each in the class of the {settings['assignment']} "
                      f"ring near it; a glass shows a ring-size dependence if the Kruskal-Wallis p < "
                      f"{c['c12_alpha']:g}/(glasses tested) and epsilon^2 >= {c['c12_min_epsilon_squared']:g}; "
                      f"holds if no tested glass does (classes with >= {settings['min_count']} Li)"),
        "source": sources["C12"]})
    return rows


def claims_job(links: Mapping[str, str], softness: Mapping[str, str], settings: Mapping, out_csv: str) -> None:
    """``results/summary/homology_claims.csv`` (C11, C12) from the per-glass homology outputs."""
    rows = homology_claims({g: load_fsdp_link(p) for g, p in links.items()},
                           {g: load_softness_rings(p) for g, p in softness.items()}, settings,
                           {"C11": "; ".join(links.values()), "C12": "; ".join(softness.values())})
    write_claim_rows(out_csv, rows)


# ---- figures ------------------------------------------------------------------------------------

def _diagram_from_intervals(intervals: np.ndarray, dim: int) -> PersistenceDiagram:
    n = len(intervals)
    return PersistenceDiagram(dimension=np.full(n, dim), birth=intervals[:, 0], death=intervals[:, 1],
                              birth_simplex=[], death_simplex=[], essential_dimension=np.zeros(0, int),
                              essential_birth=np.zeros(0), n_points=0, periodic=True, weighted=False,
                              min_persistence=0.0, n_zero_persistence=0, n_hidden=0)


def persistence_figure_job(pd_h1: Mapping[str, str], out_png: str, out_pdf: str) -> None:
    """H1 persistence diagram (all finite pairs) of every glass."""
    from lipsglass.figures.homology import plot_persistence_diagrams

    plot_persistence_diagrams({g: _diagram_from_intervals(read_pd(p), 1) for g, p in pd_h1.items()},
                              out_png, out_pdf, dim=1)


def ring_sizes_figure_job(pd_h1: Mapping[str, str], settings: Mapping, out_png: str, out_pdf: str) -> None:
    """Ring-size distribution of the persistent rings of every glass."""
    from lipsglass.figures.homology import plot_ring_size_distribution

    plot_ring_size_distribution({g: read_rings(p, settings["max_ring_size"]) for g, p in pd_h1.items()},
                                out_png, out_pdf, min_persistence=settings["min_persistence_A2"])


def rings_fsdp_figure_job(links: Mapping[str, str], out_png: str, out_pdf: str) -> None:
    """Fig. S4 with the primary ring length; glasses without an FSDP position are left out."""
    from lipsglass.figures.homology import plot_rings_fsdp

    loaded = {g: load_fsdp_link(p) for g, p in links.items()}
    shown = {g: d["links"][d["primary_length"]] for g, d in loaded.items() if d["links"]}
    left_out = sorted(set(loaded) - set(shown))
    if left_out:
        print(f"no FSDP position, left out of Fig. S4: {left_out}")
    if not shown:
        raise ValueError("no glass has an FSDP position: Fig. S4 is empty")
    plot_rings_fsdp(shown, out_png, out_pdf)


def softness_rings_figure_job(results: Mapping[str, str], softness: Mapping[str, str], out_png: str,
                              out_pdf: str) -> None:
    """Fig. S5b-e: softness of Li near rings of each size against all Li, per glass."""
    from lipsglass.figures.homology import plot_softness_by_ring_size

    all_s = {}
    for glass, path in softness.items():
        with open(path) as fh:
            all_s[glass] = np.array([float(r["S"]) for r in csv.DictReader(fh)])
    loaded = {g: load_softness_rings(p) for g, p in results.items()}
    largest = max((max(d["values"], default=0) for d in loaded.values()), default=0)
    plot_softness_by_ring_size(loaded, all_s, out_png, out_pdf, max_size=max(largest, 3))
