"""Rings of the H1 pairs as shortest cycles (``ring_definition="shortest_cycle"``).

For an H1 pair born by the edge (u, v) at alpha^2 = b, the ring is the shortest path (fewest
edges) from u to v in the graph of alpha-complex edges with value <= b, all periodic translates
of (u, v) itself excluded, closed by (u, v). The path is searched in the periodic cover itself: a
node is an (atom, integer image shift) pair, created when the search reaches it, and the edges
are the torus edges with their image shifts (:class:`lipsglass.homology.complex.Cover`), so a ring
is a contractible, geometrically closed loop with unwrapped coordinates, and its size depends
neither on the origin of the cell nor on the padding margin (which only bounds the Delaunay
construction). Ring size = number of atoms = path edges + 1. A pair whose ring is longer than
``max_ring_size`` atoms gets size -1 and no atoms; a pair whose persistence is not above the ring
threshold (``ring_min_persistence``) is not searched and gets size 0. Among equally short paths
the one found first is kept (ring size is unaffected). The path may visit two images of one atom
(it is a closed loop in the cover); its size counts both.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import pdist

from lipsglass.homology.complex import Cover
from lipsglass.homology.results import PersistenceDiagram, Rings

DEFAULT_MAX_RING_SIZE = 40   # atoms

# node codes of the periodic cover: atom * _SHIFT_BASE^3 + encoded image shift (each component
# offset by _SHIFT_BASE // 2). A ring of at most a few hundred edges never leaves that range.
_SHIFT_BASE = 1024
_SHIFT_OFFSET = _SHIFT_BASE // 2


def _shift_code(s: np.ndarray) -> np.ndarray:
    s = np.asarray(s, np.int64) + _SHIFT_OFFSET
    return (s[..., 0] * _SHIFT_BASE + s[..., 1]) * _SHIFT_BASE + s[..., 2]


def _decode(code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    atom, rest = np.divmod(code, _SHIFT_BASE ** 3)
    sx, rest = np.divmod(rest, _SHIFT_BASE ** 2)
    sy, sz = np.divmod(rest, _SHIFT_BASE)
    return atom, np.stack([sx, sy, sz], axis=-1) - _SHIFT_OFFSET


def _torus_adjacency(edges: np.ndarray, edge_shift: np.ndarray, edge_value: np.ndarray):
    """CSR adjacency of the torus graph, both directions: for atom a, its neighbours b with the
    image-shift step (as a code difference), the alpha^2 of the edge and its torus edge id."""
    n = int(edges.max()) + 1 if len(edges) else 0
    eid = np.arange(len(edges))
    src = np.concatenate([edges[:, 0], edges[:, 1]])
    dst = np.concatenate([edges[:, 1], edges[:, 0]])
    step = np.concatenate([edge_shift, -edge_shift])
    dcode = _shift_code(step) - _shift_code(np.zeros(3, np.int64))
    dcode = dcode + (dst - src).astype(np.int64) * _SHIFT_BASE ** 3
    e2 = np.concatenate([eid, eid])
    order = np.argsort(src, kind="stable")
    indptr = np.searchsorted(src[order], np.arange(n + 1))
    return indptr, dcode[order], np.concatenate([edge_value, edge_value])[order], e2[order]


def _shortest_path(src: int, dst: int, b: float, e: int, adjacency, max_edges: int) -> list[int] | None:
    """Fewest-edge path between two nodes of the periodic cover (codes, see ``_shift_code``)
    using edges of alpha^2 <= b other than translates of torus edge e: bidirectional
    breadth-first search one whole level at a time (vectorised), always growing the smaller
    side; nodes are created as they are reached, so the search has no boundary. The first
    level at which the two searches meet yields a shortest path. None if longer than
    ``max_edges``."""
    indptr, dcode, value, eid = adjacency
    base3 = _SHIFT_BASE ** 3
    parents = [{src: -1}, {dst: -1}]
    depth = [{src: 0}, {dst: 0}]
    fronts = [np.array([src], np.int64), np.array([dst], np.int64)]
    level = [0, 0]
    while level[0] + level[1] < max_edges and len(fronts[0]) and len(fronts[1]):
        side = 0 if len(fronts[0]) <= len(fronts[1]) else 1
        front = fronts[side]
        atom = front // base3
        start, count = indptr[atom], indptr[atom + 1] - indptr[atom]
        idx = np.repeat(start - np.cumsum(count) + count, count) + np.arange(count.sum())
        origin = np.repeat(front, count)
        ok = (value[idx] <= b) & (eid[idx] != e)
        new = origin[ok] + dcode[idx[ok]]
        origin = origin[ok]
        new, first = np.unique(new, return_index=True)
        origin = origin[first]
        seen, other = parents[side], parents[1 - side]
        level[side] += 1
        keep = [k for k, c in enumerate(new.tolist()) if c not in seen]
        new, origin = new[keep], origin[keep]
        seen.update(zip(new.tolist(), origin.tolist()))
        depth[side].update(dict.fromkeys(new.tolist(), level[side]))
        fronts[side] = new
        meet = [c for c in new.tolist() if c in other]
        if meet:
            x = min(meet, key=lambda c: depth[1 - side][c])
            halves = []
            for s in (0, 1):
                chain = [x]
                while parents[s][chain[-1]] != -1:
                    chain.append(parents[s][chain[-1]])
                halves.append(chain)
            return halves[0][::-1] + halves[1][1:]
    return None


def shortest_cycle_rings(diagram: PersistenceDiagram, cover: Cover, max_ring_size: int,
                         min_persistence: float = -np.inf) -> Rings:
    """Shortest-path representative cycle of every finite H1 pair with persistence above
    ``min_persistence`` (A^2; the others get size 0, not searched), see the module docstring."""
    h1 = np.nonzero(diagram.dimension == 1)[0]
    adjacency = _torus_adjacency(cover.edges, cover.edge_shift, cover.edge_value)
    edge_index = {(int(u), int(v)): k for k, (u, v) in enumerate(cover.edges)}
    centre = _shift_code(np.zeros(3, np.int64))
    base3 = _SHIFT_BASE ** 3
    central = cover.positions[:diagram.n_points]  # padded points k < n are the points themselves

    sizes = np.full(len(h1), -1, dtype=int)
    diameters = np.full(len(h1), np.nan)
    atoms: list[np.ndarray] = []
    coords: list[np.ndarray] = []
    for r, k in enumerate(h1):
        if not diagram.death[k] - diagram.birth[k] > min_persistence:
            sizes[r] = 0
            atoms.append(np.zeros(0, int))
            coords.append(np.zeros((0, 3)))
            continue
        u, v = sorted(diagram.birth_simplex[k])
        e = edge_index[(u, v)]
        src = int(u * base3 + centre)
        dst = int(v * base3 + _shift_code(cover.edge_shift[e]))
        path = _shortest_path(src, dst, diagram.birth[k], e, adjacency, max_ring_size - 1)
        if path is None:
            atoms.append(np.zeros(0, int))
            coords.append(np.zeros((0, 3)))
            continue
        a, s = _decode(np.asarray(path, np.int64))
        xyz = central[a] + (0.0 if cover.matrix is None else s @ cover.matrix)
        sizes[r] = len(path)
        atoms.append(a)
        coords.append(xyz)
        diameters[r] = pdist(xyz).max()
    return Rings(birth=diagram.birth[h1], death=diagram.death[h1], size=sizes, diameter=diameters,
                 atoms=atoms, coordinates=coords, max_ring_size=max_ring_size)
