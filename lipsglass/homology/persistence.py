"""Persistent homology of a point set or of the network atoms of a structure: the entry points.

:func:`alpha_persistence` (points, periodic if a cell is given), :func:`structure_homology` (the
atoms of chosen elements of a structure) and :func:`network_homology` (a structure as the
homology settings say) build the alpha complex (:mod:`lipsglass.homology.complex`), its
persistence diagram, and the rings of its H1 pairs as shortest cycles
(:mod:`lipsglass.homology.rings`) and/or as boundaries of optimal volumes
(:mod:`lipsglass.homology.volumes`). Filtration values are alpha^2 (A^2).
"""

from __future__ import annotations

import time

import numpy as np

from lipsglass.homology.complex import (DEFAULT_MARGIN, DEFAULT_MIN_PERSISTENCE, free_complex, periodic_complex,
                                        persistence_diagram)
from lipsglass.homology.results import RING_DEFINITIONS, HomologyResult, PersistenceDiagram, Rings
from lipsglass.homology.rings import DEFAULT_MAX_RING_SIZE, shortest_cycle_rings
from lipsglass.homology.settings import HomologySettings
from lipsglass.homology.volumes import DEFAULT_VOLUME_CUTOFF, volume_rings
from lipsglass.lammpsio import Box


def alpha_persistence(positions: np.ndarray, box: Box | None = None, weights: np.ndarray | None = None,
                      margin: float = DEFAULT_MARGIN, precision: str = "safe",
                      min_persistence: float = DEFAULT_MIN_PERSISTENCE, rings: bool = True,
                      max_ring_size: int = DEFAULT_MAX_RING_SIZE,
                      ring_min_persistence: float | None = None, ring_definition: str = "shortest_cycle",
                      volume_cutoff: float | None = DEFAULT_VOLUME_CUTOFF,
                      volume_epsilon: float = 0.0) -> tuple[PersistenceDiagram, Rings | None]:
    """Alpha-complex persistence (H0, H1, H2) of points, periodic if ``box`` is given.

    positions: (n, 3) A (or (n, 2) without a box); weights: (n,) A^2 (squared radii) for a
    weighted alpha complex; margin: padding (A) of periodic images (checked, see
    :mod:`lipsglass.homology.complex`); precision: gudhi's 'fast' / 'safe' / 'exact';
    min_persistence: A^2, pairs not longer than this are counted in ``n_zero_persistence``
    instead of kept; ring_min_persistence: A^2, rings
    are searched only for H1 pairs with death - birth above this (None: every pair; the others
    get ring size 0); ring_definition: ``"shortest_cycle"`` (shortest cycle at birth) or
    ``"optimal_volume"`` (boundary of the optimal volume, with triangles searched within
    ``volume_cutoff`` A; a stable volume with noise band ``volume_epsilon`` A^2 if > 0, see
    :mod:`lipsglass.homology.volumes`). Returns the diagram (alpha^2 values, A^2)
    and, if ``rings``, the H1 ring representatives.
    """
    diagram, st, cover = _homology(positions, box, weights, margin, precision, min_persistence, max_ring_size)
    if not rings:
        return diagram, None
    return diagram, _ring_set(diagram, st, cover, box, ring_definition, max_ring_size, ring_min_persistence,
                              volume_cutoff, volume_epsilon)


def _ring_set(diagram, st, cover, box, definition: str, max_ring_size: int, ring_min_persistence,
              volume_cutoff, volume_epsilon: float = 0.0) -> Rings:
    if ring_min_persistence is not None and not ring_min_persistence >= 0:
        raise ValueError(f"ring_min_persistence must be >= 0 (A^2), got {ring_min_persistence}")
    if volume_cutoff is not None and not volume_cutoff > 0:
        raise ValueError(f"volume_cutoff must be positive (A) or None, got {volume_cutoff}")
    threshold = -np.inf if ring_min_persistence is None else float(ring_min_persistence)
    if not volume_epsilon >= 0:
        raise ValueError(f"volume_epsilon must be >= 0 (A^2), got {volume_epsilon}")
    if definition == "optimal_volume" and volume_epsilon > 0 and not threshold >= volume_epsilon:
        raise ValueError(f"a stable volume needs ring_min_persistence >= volume_epsilon ({volume_epsilon} A^2)")
    if definition == "shortest_cycle":
        return shortest_cycle_rings(diagram, cover, max_ring_size, threshold)
    if definition == "optimal_volume":
        return volume_rings(st, diagram, cover.positions[:diagram.n_points], box, max_ring_size, threshold,
                            volume_cutoff, volume_epsilon)[0]
    raise ValueError(f"ring definition must be one of {RING_DEFINITIONS}, not {definition!r}")


def _homology(positions, box, weights, margin, precision, min_persistence, max_ring_size):
    """Validated inputs -> (diagram, torus or free SimplexTree, cover)."""
    positions = np.asarray(positions, float)
    if positions.ndim != 2 or positions.shape[0] < 2:
        raise ValueError(f"positions must be an (n, d) array with n >= 2, got shape {positions.shape}")
    if not np.all(np.isfinite(positions)):
        raise ValueError("positions contain NaN or infinite values")
    if weights is not None:
        weights = np.asarray(weights, float)
        if weights.shape != (len(positions),) or np.any(weights < 0) or not np.all(np.isfinite(weights)):
            raise ValueError("weights must be finite, non-negative squared radii (A^2), one per point")
    if precision not in ("fast", "safe", "exact"):
        raise ValueError(f"precision must be 'fast', 'safe' or 'exact', not {precision!r}")
    if max_ring_size < 3:
        raise ValueError("max_ring_size must be at least 3 atoms")
    if box is not None:
        if positions.shape[1] != 3:
            raise ValueError("periodic homology needs 3-D positions")
        if not margin > 0:
            raise ValueError(f"margin must be positive (A), got {margin}")
        st, cover, hidden = periodic_complex(box, positions, weights, margin, precision)
    else:
        if positions.shape[1] not in (2, 3):
            raise ValueError("positions must be 2-D or 3-D")
        st, cover, hidden = free_complex(positions, weights, precision)
    diagram = persistence_diagram(st, len(positions), box is not None, weights is not None, min_persistence, hidden)
    return diagram, st, cover


def structure_homology(box: Box, elements: np.ndarray, positions: np.ndarray,
                       select: tuple[str, ...] = ("P", "S"), radii: dict[str, float] | None = None,
                       margin: float = DEFAULT_MARGIN, precision: str = "safe",
                       min_persistence: float = DEFAULT_MIN_PERSISTENCE,
                       max_ring_size: int = DEFAULT_MAX_RING_SIZE,
                       ring_min_persistence: float | None = None,
                       ring_definitions: tuple[str, ...] = ("shortest_cycle",),
                       volume_cutoff: float | None = DEFAULT_VOLUME_CUTOFF,
                       volume_epsilon: float = 0.0) -> HomologyResult:
    """Periodic persistent homology of the atoms of the elements ``select`` (default the anion
    network P + S; add "Li" to include lithium). ``radii`` (A, per element, e.g.
    :data:`lipsglass.homology.complex.SHANNON_RADII`) makes the complex weighted with w = r^2. Simplex and ring atom
    indices are returned as indices into the full structure (``elements``/``positions``).
    Rings are searched only for H1 pairs with persistence above ``ring_min_persistence`` (A^2;
    None: all pairs), under each of ``ring_definitions`` (``result.rings`` = shortest cycle,
    ``result.volume_rings`` = optimal volume; ``timings`` holds the seconds of each part)."""
    elements = np.asarray(elements).astype(str)
    select = tuple(select)
    if not select:
        raise ValueError("select at least one element")
    bad = [d for d in ring_definitions if d not in RING_DEFINITIONS]
    if bad or not ring_definitions:
        raise ValueError(f"ring definitions must be a non-empty subset of {RING_DEFINITIONS}, got {ring_definitions}")
    missing = [el for el in select if not np.any(elements == el)]
    if missing:
        raise ValueError(f"no atoms of element(s) {missing} in the structure (has {sorted(set(elements))})")
    idx = np.nonzero(np.isin(elements, select))[0]
    weights = None
    if radii is not None:
        absent = [el for el in select if el not in radii]
        if absent:
            raise ValueError(f"radii gives no radius for {absent}")
        weights = np.array([radii[el] ** 2 for el in elements[idx]])
    t0 = time.perf_counter()
    diagram, st, cover = _homology(np.asarray(positions, float)[idx], box, weights, margin, precision,
                                   min_persistence, max_ring_size)
    timings = {"diagram_s": time.perf_counter() - t0}
    found = {}
    for definition in ring_definitions:
        t1 = time.perf_counter()
        rings = _ring_set(diagram, st, cover, box, definition, max_ring_size, ring_min_persistence, volume_cutoff,
                          volume_epsilon)
        timings[f"{definition}_s"] = time.perf_counter() - t1
        rings.atoms = [idx[a] for a in rings.atoms]  # structure indices
        found[definition] = rings
    timings["homology_s"] = time.perf_counter() - t0
    # express simplices in structure indices
    diagram.birth_simplex = [tuple(int(idx[v]) for v in s) for s in diagram.birth_simplex]
    diagram.death_simplex = [tuple(int(idx[v]) for v in s) for s in diagram.death_simplex]
    return HomologyResult(diagram, found.get("shortest_cycle"), idx, select, margin, timings,
                          found.get("optimal_volume"))


def network_homology(box: Box, elements: np.ndarray, positions: np.ndarray,
                     settings: HomologySettings) -> HomologyResult:
    """:func:`structure_homology` of the ``settings.elements`` atoms as the homology settings say
    (weights, margin, ring search), with the rings of every definition (``RING_DEFINITIONS``)."""
    return structure_homology(box, elements, positions, select=settings.elements, radii=settings.weight_radii,
                              margin=settings.margin_A, max_ring_size=settings.max_ring_size,
                              ring_min_persistence=settings.min_persistence_A2, ring_definitions=RING_DEFINITIONS,
                              volume_cutoff=settings.volume_cutoff_A, volume_epsilon=settings.volume_epsilon_A2)
