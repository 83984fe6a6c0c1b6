"""Homology stage (paper Fig. S4, S5; claims C11, C12): persistent homology of the anion network
of each glass, its rings, their link to the first sharp diffraction peak (FSDP) and the softness
of Li around rings of each size.

The science lives in ``lipsglass.homology`` (one module per concept) and ``lipsglass.figures.homology``;
this module reads job inputs, calls them with the configured settings (``config["homology"]``, parsed
once per job into ``lipsglass.homology.settings.HomologySettings``) and writes outputs.

Design choices (documented here because the paper's SI, which would fix them, is unavailable):

* Configuration analysed: the softness stage's configuration (``final.data`` of the
  ``softness.temperature_K`` production run), so that ring atoms and the Li whose softness is
  tested (``softness.csv``) share one set of coordinates. The softness job's Li coordinates are
  checked against this file (a mismatch stops the job).
* Complex: periodic alpha complex of the ``elements`` atoms (default P + S), unweighted unless
  ``weighted`` (then weights = ``radii``^2). All filtration values are alpha^2 in A^2.
* Rings: finite H1 pairs with persistence death - birth > ``min_persistence_A2`` (most H1 pairs
  of a glass are short-lived triangles of nearly touching atoms; ``pd_h1.csv`` keeps every pair,
  rings are searched only for the kept ones, size 0 for the others), under two definitions, both
  computed and reported (``lipsglass.homology.rings``, ``.volumes``): ``shortest_cycle``, the shortest contractible
  cycle through the birth edge at birth, searched on the periodic graph (independent of origin
  and padding); and ``optimal_volume``, the boundary of the stable volume (noise band
  ``volume_epsilon_A2``; 0 = the optimal volume), the smallest set of triangles that fills the
  loop: it follows the hole, where a shortest cycle born near the percolation of the network can
  be a long detour around it. ``ring_definition`` picks the one that decides the verdicts and is
  shown in Fig. S4/S5; the other one is reported beside it in every output and claim row.
  Checked against HomCloud 5.4 (tests/test_homology_oracle.py).
* C11 inputs ("the FSDP is assigned to rings larger than 8"), in both spaces. Real space: the
  FSDP's window is 2 pi / (q +- FWHM/2); the share of rings of more than ``large_ring_size`` atoms
  among the rings whose length (2 sqrt(death), the diameter of the hole; the atom-atom ``diameter``
  is reported too) lies in the window, against that share among all rings (enrichment), at each
  persistence threshold of ``enrichment_thresholds_A2`` (descriptive). Reciprocal space: S(q)
  summed over the cell's wave vectors in q_FSDP +- FWHM/2 splits exactly into atom contributions;
  the mean contribution of the atoms of large rings, of small rings, of the network, and of
  ``random_subsets`` random network-atom subsets of equal size. The FSDP's cell-resolution flag of
  the structure stage and the cell are carried along.
* C12 inputs ("softness around rings shows no ring-size dependence beyond the overall
  distribution"): a Li is covered by a ring size when it lies within ``li_ring_cutoff_A`` of an
  atom of a ring of that size (a Li may be covered by several sizes). For each class: d, its mean
  softness minus that of all Li in sd of all Li, and d of ``shifts`` spatially translated softness
  fields (each Li takes the softness of the Li nearest to its position minus a random translation:
  the field keeps its correlations and loses any relation to the rings), the sampling spread of d.
* The decisions (intervals against the margins of ``config["claims"]``) are made in
  :mod:`lipsglass.claims.homology`; :func:`claims_job` only reads the files and writes the rows.

Outputs per glass (``results/{glass}/homology/``): ``pd_h0.csv``, ``pd_h1.csv``, ``pd_h2.csv``,
``rings.json``, ``fsdp_link.json``, ``softness_by_ring_size.json``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Mapping

import numpy as np

from lipsglass.core.settings import job_settings
from lipsglass.claims.homology import homology_verdicts
from lipsglass.claims.scorecard import write_claim_rows
from lipsglass.core.tables import read_rows
from lipsglass.figures.homology import (plot_persistence_diagrams, plot_ring_size_distribution, plot_rings_fsdp,
                                        plot_softness_by_ring_size)
from lipsglass.homology.fsdp import (atom_weights, fsdp_enrichment_scan, fsdp_ring_link, fsdp_subset_contribution,
                                     ring_atom_sets)
from lipsglass.homology.outputs import (load_fsdp_link, load_softness_rings, nan_if_none, read_pd, read_rings,
                                        write_pd, write_pd_h1)
from lipsglass.homology.persistence import network_homology
from lipsglass.homology.results import (RING_DEFINITIONS, RING_LENGTHS, PersistenceDiagram, persistent_rings,
                                        size_distribution)
from lipsglass.homology.ring_softness import ring_softness, shift_indices
from lipsglass.homology.settings import HomologySettings
from lipsglass.jsonio import write_json
from lipsglass.lammpsio import read_data


def _persistent(pd_h1: str, definition: str, settings: HomologySettings):
    """The persistent rings of ``definition`` in a pd_h1.csv (atoms as LAMMPS ids)."""
    return persistent_rings(read_rings(pd_h1, settings.max_ring_size, definition), settings.min_persistence_A2)


# ---- jobs ---------------------------------------------------------------------------------------

def homology_job(configuration: str, settings: HomologySettings | Mapping, outputs: Mapping[str, str]) -> None:
    """Periodic alpha-complex persistence (H0, H1, H2) of the ``settings.elements`` atoms of a
    LAMMPS data file and the H1 rings. outputs: ``pd_h0``, ``pd_h1``, ``pd_h2`` (CSV, alpha^2 in
    A^2; pd_h1 with ring size, diameter, 2 sqrt(death) and ring atom ids) and ``rings`` (JSON:
    ring-size distribution with and without the persistence filter, counts, settings, timing)."""
    t0 = time.perf_counter()
    settings = job_settings(HomologySettings, settings, "homology")
    data = read_data(configuration)
    result = network_homology(data.box, data.elements(), data.box.wrap(data.positions), settings)
    diagram, rings, volumes = result.diagram, result.rings, result.volume_rings
    for dim, key in ((0, "pd_h0"), (2, "pd_h2")):
        write_pd(outputs[key], diagram.intervals(dim))
    write_pd_h1(outputs["pd_h1"], rings, data.ids, volumes)
    kept = persistent_rings(rings, settings.min_persistence_A2)
    kept_volumes = persistent_rings(volumes, settings.min_persistence_A2)
    write_json(outputs["rings"], {
        "configuration": str(configuration),
        "elements": list(result.elements), "n_network_atoms": int(len(result.atom_indices)),
        "weighted": bool(diagram.weighted), "radii_A": settings.weight_radii,
        "margin_A": float(result.margin), "max_ring_size": int(settings.max_ring_size),
        "min_persistence_A2": float(settings.min_persistence_A2),
        "finite_pairs": {f"H{d}": int(np.sum(diagram.dimension == d)) for d in (0, 1, 2)},
        "essential_classes": {f"H{d}": c for d, c in diagram.betti_essential().items()},
        "n_zero_length_pairs": int(diagram.n_zero_persistence),
        "zero_length_threshold_A2": float(diagram.min_persistence),
        "n_hidden_points": int(diagram.n_hidden),
        "all_h1": size_distribution(rings),
        "persistent": size_distribution(kept),
        "persistent_optimal_volume": size_distribution(kept_volumes),
        "volume_epsilon_A2": float(settings.volume_epsilon_A2), "volume_cutoff_A": float(settings.volume_cutoff_A),
        "same_size_both_definitions": float(np.mean(kept.size == kept_volumes.size)) if len(kept.size) else None,
        "h1_persistence_quantiles_A2": dict(zip(("q10", "q50", "q90"),
                                                np.percentile(rings.persistence, [10, 50, 90]).tolist()))
        if len(rings.birth) else {},
        "units": {"filtration": "alpha^2, A^2", "ring size": "atoms (-1: longer than max_ring_size; "
                                                             "0: persistence not above min_persistence_A2, "
                                                             "not searched)"},
        "timing_s": {"homology": float(result.timings["homology_s"]), "job": time.perf_counter() - t0,
                     **{k[:-2]: float(v) for k, v in result.timings.items() if k != "homology_s"}},
    })
    print(f"{configuration}: {len(result.atom_indices)} atoms, {len(rings.birth)} H1 pairs, "
          f"{len(kept.birth)} with persistence > {settings.min_persistence_A2} A^2, "
          f"{time.perf_counter() - t0:.1f} s")


def fsdp_link_job(pd_h1: str, fsdp_json: str, configuration: str, settings: HomologySettings | Mapping,
                  out_json: str) -> None:
    """C11 inputs for both ring definitions: the link of the persistent rings to the FSDP window for
    both ring lengths (``lipsglass.homology.fsdp.fsdp_ring_link``), the real-space enrichment scanned
    over ``enrichment_thresholds_A2`` (``fsdp_enrichment_scan``), and the per-atom S(q) contribution
    in the FSDP window of the atoms of large rings, of small rings, of the network and of
    ``random_subsets`` random network-atom subsets of equal size (``fsdp_subset_contribution``,
    weights of ``fsdp_weighting``). When the FSDP width is not measured (null in fsdp.json) the
    library's default FWHM 0.25 q is used and recorded; the structure stage's flag of a width set by
    the cell (``fwhm_limited_by_box``) is carried along with the cell, for the claim."""
    settings = job_settings(HomologySettings, settings, "homology")
    peak = json.loads(Path(fsdp_json).read_text())["fsdp"][settings.fsdp_weighting]
    q = nan_if_none(peak.get("position"))
    fwhm = nan_if_none(peak.get("fwhm"))
    fwhm_source = "fsdp.json"
    if not (np.isfinite(fwhm) and 0 < fwhm < 2 * q):
        fwhm, fwhm_source = None, "not resolved in fsdp.json: 0.25 q assumed"
    resolved = bool(np.isfinite(q) and q > 0)
    fw = (0.25 * q if fwhm is None else fwhm) if resolved else None
    data = read_data(configuration)
    elements = data.elements()
    index = {int(i): k for k, i in enumerate(data.ids)}
    pool = np.flatnonzero(np.isin(elements, settings.elements))
    large = settings.large_ring_size
    per_definition = {}
    for definition in RING_DEFINITIONS:
        rings = _persistent(pd_h1, definition, settings)
        entry = {"n_rings": int(len(rings.birth)), "n_resolved": int(np.sum(rings.size > 0)), "links": None,
                 "enrichment": None, "reciprocal": None}
        if resolved and np.any(rings.size > 0):
            entry["links"] = {length: fsdp_ring_link(rings, q, fwhm, length=length, large_ring=large)
                              for length in RING_LENGTHS}
            every = read_rings(pd_h1, settings.max_ring_size, definition)
            entry["enrichment"] = {length: fsdp_enrichment_scan(every, q, fwhm, settings.enrichment_thresholds_A2,
                                                                length=length, large_ring=large)
                                   for length in RING_LENGTHS}
            atoms = ring_atom_sets(rings, index, large)
            weights = atom_weights(elements, q, settings.fsdp_weighting)  # weight at q_FSDP
            try:
                entry["reciprocal"] = fsdp_subset_contribution(
                    data.box, data.box.wrap(data.positions), weights, atoms, pool, (q - fw / 2, q + fw / 2),
                    n_random=settings.random_subsets, seed=settings.seed)
            except ValueError as exc:  # the cell has no wave vector in the FSDP window
                entry["reciprocal_note"] = str(exc)
        per_definition[definition] = entry
    primary = per_definition[settings.ring_definition]
    write_json(out_json, {
        "fsdp": {"weighting": settings.fsdp_weighting, "position_inv_A": q, "fwhm_inv_A": fw,
                 "fwhm_source": fwhm_source, "at_window_edge": bool(peak.get("at_window_edge", False)),
                 **{k: peak.get(k) for k in ("fwhm_limited_by_box", "fwhm_limit_inv_A", "resolution_multiple",
                                             "fwhm_deconvolved_inv_A", "r_max_A")},
                 "source": str(fsdp_json)},
        "n_atoms": int(len(elements)), "cell_A": float(min(data.box.lengths)),
        "primary_definition": settings.ring_definition, "primary_length": settings.ring_length,
        "min_persistence_A2": float(settings.min_persistence_A2), "large_ring_size": int(large),
        "n_rings": primary["n_rings"], "links": primary["links"], "definitions": per_definition,
        "units": {"length": "A", "persistence": "A^2", "q": "1/A", "contribution": "S(q) per atom, FSDP window mean"},
        "rings_source": str(pd_h1), "configuration": str(configuration),
    })


def _li_coordinates(configuration: str, softness_csv: str):
    """Box, wrapped positions of every atom, id -> index map, and the index and softness of
    each Li of ``softness.csv``, checked to sit where the softness job saw it."""
    data = read_data(configuration)
    pos = data.box.wrap(data.positions)
    index = {int(i): k for k, i in enumerate(data.ids)}
    rows = read_rows(softness_csv)
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


def softness_rings_job(pd_h1: str, configuration: str, softness_csv: str, settings: HomologySettings | Mapping,
                       out_json: str) -> None:
    """C12 inputs for both ring definitions: softness (pooled model ``S``) of the Li covered by the
    persistent rings of each size (within ``li_ring_cutoff_A`` of a ring atom) against all Li, and
    its spread over ``shifts`` spatially translated fields
    (``lipsglass.homology.ring_softness.ring_softness_by_size``; the same translations for both
    definitions). The primary definition's result is also at the top level."""
    settings = job_settings(HomologySettings, settings, "homology")
    box, pos, index, li, s = _li_coordinates(configuration, softness_csv)
    shifts = shift_indices(box, pos[li], settings.shifts, np.random.default_rng(settings.seed))
    per_definition = {}
    for definition in RING_DEFINITIONS:
        rings = _persistent(pd_h1, definition, settings)
        ok = rings.size > 0
        ring_atoms = [np.array([index[int(i)] for i in ids], dtype=np.int64) for ids, k in zip(rings.atoms, ok) if k]
        res = ring_softness(box, pos, ring_atoms, rings.size[ok], li, s, shifts, settings.li_ring_cutoff_A)
        for entry in res["per_size"].values():  # 1e-5 sd: far below any se (a few 0.01 sd), a third of the file
            entry["null_d"] = np.round(entry["null_d"], 5)
        per_definition[definition] = res
    # the primary definition at the top level too (figures), its null draws only under definitions
    primary = dict(per_definition[settings.ring_definition])
    primary["per_size"] = {k: {n: v for n, v in e.items() if n != "null_d"} for k, e in primary["per_size"].items()}
    write_json(out_json, {"configuration": str(configuration), "softness_source": str(softness_csv),
                          "softness_column": "S", "min_persistence_A2": float(settings.min_persistence_A2),
                          "cutoff_A": float(settings.li_ring_cutoff_A), "n_Li": int(len(li)),
                          "n_atoms": int(len(pos)), "seed": int(settings.seed),
                          "primary_definition": settings.ring_definition,
                          **primary, "definitions": per_definition})


# ---- claims -------------------------------------------------------------------------------------

def claims_job(links: Mapping[str, str], softness: Mapping[str, str], ring_definition: str, criteria: Mapping,
               out_csv: str) -> None:
    """``results/summary/homology_claims.csv`` (C11, C12) from the per-glass homology outputs;
    ``criteria``: the config's ``claims`` section (level, C11, C12)."""
    verdicts = homology_verdicts({g: load_fsdp_link(p) for g, p in links.items()},
                                 {g: load_softness_rings(p) for g, p in softness.items()}, criteria, ring_definition,
                                 {"C11": "; ".join(links.values()), "C12": "; ".join(softness.values())})
    write_claim_rows(out_csv, [v.row() for v in verdicts])


# ---- figures ------------------------------------------------------------------------------------

def persistence_figure_job(pd_h1: Mapping[str, str], out_png: str, out_pdf: str) -> None:
    """H1 persistence diagram (all finite pairs) of every glass."""
    plot_persistence_diagrams({g: PersistenceDiagram.from_intervals(read_pd(p), 1) for g, p in pd_h1.items()},
                              out_png, out_pdf, dim=1)


def ring_sizes_figure_job(pd_h1: Mapping[str, str], settings: HomologySettings | Mapping, out_png: str,
                          out_pdf: str) -> None:
    """Ring-size distribution of the persistent rings of every glass."""
    settings = job_settings(HomologySettings, settings, "homology")
    plot_ring_size_distribution({g: read_rings(p, settings.max_ring_size) for g, p in pd_h1.items()},
                                out_png, out_pdf, min_persistence=settings.min_persistence_A2)


def rings_fsdp_figure_job(links: Mapping[str, str], out_png: str, out_pdf: str) -> None:
    """Fig. S4 with the primary ring length and the primary ring definition (named in the
    figure title; the other definition's numbers are in fsdp_link.json and the C11 row); glasses
    without an FSDP position are left out."""
    loaded = {g: load_fsdp_link(p) for g, p in links.items()}
    shown = {g: d["links"][d["primary_length"]] for g, d in loaded.items() if d["links"]}
    definitions = {d["primary_definition"] for d in loaded.values()}
    left_out = sorted(set(loaded) - set(shown))
    if left_out:
        print(f"no FSDP position, left out of Fig. S4: {left_out}")
    if not shown:
        raise ValueError("no glass has an FSDP position: Fig. S4 is empty")
    plot_rings_fsdp(shown, out_png, out_pdf, definition=", ".join(sorted(definitions)))


def softness_rings_figure_job(results: Mapping[str, str], softness: Mapping[str, str], out_png: str,
                              out_pdf: str) -> None:
    """Fig. S5b-e: softness of Li covered by rings of each size against all Li, per glass, for
    the primary ring definition (named in each panel; the verdict and its intervals are in the C12 row)."""
    all_s = {glass: np.array([float(r["S"]) for r in read_rows(path)]) for glass, path in softness.items()}
    loaded = {g: load_softness_rings(p) for g, p in results.items()}
    largest = max((max(d["values"], default=0) for d in loaded.values()), default=0)
    plot_softness_by_ring_size(loaded, all_s, out_png, out_pdf, max_size=max(largest, 3))
