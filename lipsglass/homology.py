"""Persistent homology of the anion network of a glass: alpha-complex persistence diagrams
(H0, H1, H2), rings (H1 representative cycles), the FSDP link and Li softness around rings.

Conventions
-----------
* Filtration values are gudhi's alpha-complex values: SQUARED radii alpha^2 in A^2. Every
  birth/death in this module is an alpha^2 in A^2 (a radius is ``sqrt(value)`` in A). With
  weights w_i (``radii`` given: w_i = r_i^2, A^2) the filtration is the weighted alpha complex,
  in which a vertex is born at -w_i and a simplex at the squared radius of its smallest
  orthogonal sphere (power distance convention of gudhi/CGAL).
* Periodic boundaries (gudhi's Python alpha complex is not periodic, gudhi issue #684): the
  cell is padded with periodic images within ``margin`` (A) of its faces, the alpha complex of
  the padded set is built, and every simplex is mapped to its periodic class. A simplex is
  *owned* by the central cell iff, ordering its vertices by (original atom index, image shift
  in lexicographic order), the first vertex is the central image (shift 0, 0, 0). This order is
  translation invariant, so exactly one translate of each periodic simplex is owned. The owned
  simplices, with vertices renamed to the original atom indices, form the alpha complex of the
  3-torus (the periodic glass), on which the persistence is computed exactly once per feature.
  The assumption "features smaller than the margin" is not taken on trust: the construction
  verifies that (a) every Delaunay tetrahedron with a vertex in the central cell has its
  (ortho)circumsphere inside the padded region, so it is a true Delaunay tetrahedron of the
  infinite periodic set and the whole star of every owned simplex (which fixes its alpha value)
  is exact, and (b) the owned tetrahedra tile the cell (volumes sum to the cell volume).
  A ValueError asks for a larger margin otherwise. The torus has essential classes (one H0,
  three H1 and three H2 wrapping the box) that are not rings; they are reported separately in
  ``PersistenceDiagram.essential_*``, never mixed with the finite pairs.
* Rings: for an H1 pair born by the edge (u, v) at alpha^2 = b, the ring is the shortest path
  (fewest edges) from u to v in the graph of alpha-complex edges with value <= b, all periodic
  translates of (u, v) itself excluded, closed by (u, v). The path is searched in the periodic
  cover itself: a node is an (atom, integer image shift) pair, created when the search reaches
  it, and the edges are the torus edges with their image shifts, so a ring is a contractible,
  geometrically closed loop with unwrapped coordinates, and its size depends neither on the
  origin of the cell nor on the padding margin (which only bounds the Delaunay construction).
  Ring size = number of atoms = path edges + 1. A pair whose ring is longer than
  ``max_ring_size`` atoms gets size -1 and no atoms; a pair whose persistence is not above the
  ring threshold (``ring_min_persistence``) is not searched and gets size 0. Among equally short
  paths the one found first is kept (ring size is unaffected). The path may visit two images of
  one atom (it is a closed loop in the cover); its size counts both.
* Geometric rings (``ring_definition="optimal_volume"``): the boundary of the volume-optimal
  chain of the pair (Obayashi 2018), or with a noise band epsilon > 0 of its stable volume
  (Obayashi 2023): the fewest triangles, between the birth (plus epsilon) and the death in the
  filtration order, whose boundary vanishes on every later edge. Solved as HomCloud does, as the
  linear-programming relaxation (coefficients in [-1, 1]), with scipy's HiGHS; triangles are
  searched near the pair first (``volume_cutoff``), and the search is redone larger (twice the
  cutoff) when the volume touches that limit; a volume still touching it is found by the LP over
  all triangles of the pair, solved by column generation from that region (triangles are added
  while the LP duals price one below zero), whose optimum is the whole LP's by LP duality. On a periodic set the
  number of triangles of every volume equals HomCloud 5.4's (tests/test_homology_oracle.py).
  A shortest cycle born close to the percolation of the network can be a long detour around a
  small hole; the volume's boundary follows the hole. The optimum (number of triangles) is
  unique, the volume is not always: equally small volumes can have boundaries of different
  size (on a 540-atom glass a different search radius changes ~1 % of the volume ring sizes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse, stats
from scipy.spatial.distance import pdist

from lipsglass.lammpsio import Box
from lipsglass.neighbours import neighbour_pairs

# Shannon (1976) effective ionic radii, A (Acta Cryst. A32, 751): S2- CN6 1.84, P5+ CN4 0.17,
# Li+ CN4 0.59. Used (squared) as alpha-complex weights when a weighted complex is asked for.
SHANNON_RADII = {"S": 1.84, "P": 0.17, "Li": 0.59}

DEFAULT_MARGIN = 8.0        # A; several times the largest death radius of sulfide glass rings
DEFAULT_MIN_PERSISTENCE = 1e-6  # A^2; pairs at most this long are zero-length pairs made of
                                 # round-off in degenerate (cospherical) configurations
DEFAULT_MAX_RING_SIZE = 40   # atoms
DEFAULT_VOLUME_CUTOFF = 5.0  # A; optimal volumes are searched within this distance first (then 2x, then all)
RING_DEFINITIONS = ("shortest_cycle", "optimal_volume")


@dataclass
class PersistenceDiagram:
    """Finite persistence pairs and essential classes of an alpha filtration.

    ``birth``/``death`` are alpha^2 values (A^2, squared radii); ``dimension`` the homology
    dimension of each finite pair; ``birth_simplex``/``death_simplex`` the generating simplices
    as tuples of point indices (indices into the positions given). Essential (never dying)
    classes are in ``essential_dimension``/``essential_birth`` (A^2).
    ``n_zero_persistence`` counts pairs with death - birth <= ``min_persistence`` (A^2) that were
    not kept as features; ``n_hidden`` counts points absent from the (weighted) complex.
    """

    dimension: np.ndarray
    birth: np.ndarray
    death: np.ndarray
    birth_simplex: list[tuple[int, ...]]
    death_simplex: list[tuple[int, ...]]
    essential_dimension: np.ndarray
    essential_birth: np.ndarray
    n_points: int
    periodic: bool
    weighted: bool
    min_persistence: float
    n_zero_persistence: int
    n_hidden: int

    def intervals(self, dim: int) -> np.ndarray:
        """(n, 2) array of finite (birth, death) alpha^2 values (A^2) in dimension ``dim``."""
        m = self.dimension == dim
        return np.column_stack([self.birth[m], self.death[m]])

    def betti_essential(self) -> dict[int, int]:
        """Number of essential classes per dimension (torus: {0: 1, 1: 3, 2: 3})."""
        dims, counts = np.unique(self.essential_dimension, return_counts=True)
        return {int(d): int(c) for d, c in zip(dims, counts)}


@dataclass
class Rings:
    """Representative cycles of the finite H1 pairs, in the order of ``diagram.intervals(1)``.

    ``size``: atoms per ring (-1: none within ``max_ring_size`` atoms); ``atoms``: point indices
    around the ring (empty if size -1); ``coordinates``: unwrapped ring coordinates (A);
    ``diameter``: largest distance between two ring atoms (A, NaN if size -1); ``birth``,
    ``death``: alpha^2 (A^2).
    """

    birth: np.ndarray
    death: np.ndarray
    size: np.ndarray
    diameter: np.ndarray
    atoms: list[np.ndarray]
    coordinates: list[np.ndarray]
    max_ring_size: int
    n_cells: np.ndarray | None = None  # optimal-volume rings: triangles in each volume (0: none)

    @property
    def persistence(self) -> np.ndarray:
        return self.death - self.birth

    def size_distribution(self) -> tuple[np.ndarray, np.ndarray]:
        """(ring sizes, number of rings of each size), sizes ascending; -1 = not resolved."""
        sizes, counts = np.unique(self.size, return_counts=True)
        return sizes, counts


@dataclass
class HomologyResult:
    """Diagram and rings of one structure. ``atom_indices[k]`` is the index, in the structure
    given to :func:`structure_homology`, of point k of the diagram and rings; rings' ``atoms``
    are already expressed as structure indices."""

    diagram: PersistenceDiagram
    rings: Rings | None
    atom_indices: np.ndarray
    elements: tuple[str, ...]
    margin: float
    timings: dict[str, float] = field(default_factory=dict)
    volume_rings: Rings | None = None


# ---------------------------------------------------------------------------------------------
# periodic alpha complex


@dataclass
class _Cover:
    """Padded point set (a finite piece of the periodic cover) and the torus edges."""

    positions: np.ndarray   # (m, 3) padded coordinates, A
    orig: np.ndarray        # (m,) original point index of each padded point
    shift: np.ndarray       # (m, 3) integer image shift (cell vectors)
    reach: int              # largest |shift| component present
    edges: np.ndarray       # (E, 2) torus edges (u < v), original indices
    edge_shift: np.ndarray  # (E, 3) image of v joined to u at shift 0
    edge_value: np.ndarray  # (E,) alpha^2 of each torus edge, A^2
    matrix: np.ndarray | None = None  # (3, 3) cell vectors as rows (A); None: not periodic


def _face_spacing(matrix: np.ndarray) -> np.ndarray:
    """Distance between opposite faces of the cell, per cell vector (A)."""
    return 1.0 / np.linalg.norm(np.linalg.inv(matrix), axis=0)


def _pad(box: Box, positions: np.ndarray, margin: float):
    """Periodic images of every point whose fractional coordinates lie within ``margin`` (A,
    measured perpendicular to the faces) of the cell. Returns padded positions, original
    indices, integer shifts, and the fractional bounds of the padded region."""
    matrix = box.matrix
    inv = np.linalg.inv(matrix)
    wrapped = box.wrap(positions)
    frac = (wrapped - box.lo) @ inv
    frac -= np.floor(frac)  # guard the [0, 1) convention against round-off at the upper face
    pad = margin / _face_spacing(matrix)  # margin in fractional units, per axis
    reps = np.ceil(pad).astype(int)
    grids = [np.arange(-r, r + 1) for r in reps]
    shifts = np.stack(np.meshgrid(*grids, indexing="ij"), axis=-1).reshape(-1, 3)
    # central images first, so padded index k < n is point k itself
    shifts = shifts[np.argsort(np.abs(shifts).sum(axis=1), kind="stable")]
    f_img = frac[None, :, :] + shifts[:, None, :]
    inside = np.all((f_img >= -pad) & (f_img < 1.0 + pad), axis=2)
    s_idx, p_idx = np.nonzero(inside)
    pos = box.lo + f_img[s_idx, p_idx] @ matrix
    return pos, p_idx.astype(np.int64), shifts[s_idx].astype(np.int64), -pad, 1.0 + pad, int(reps.max())


def _simplices(st) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """All simplices of a gudhi SimplexTree as {dim: (vertices (n, dim+1), values (n,))}."""
    by_dim: dict[int, tuple[list, list]] = {}
    for simplex, value in st.get_simplices():
        verts, vals = by_dim.setdefault(len(simplex) - 1, ([], []))
        verts.append(simplex)
        vals.append(value)
    return {d: (np.asarray(v, dtype=np.int64).reshape(len(v), d + 1), np.asarray(f, float))
            for d, (v, f) in by_dim.items()}


def _orthospheres(points: np.ndarray, weights: np.ndarray):
    """Centre (A) and squared radius (A^2) of the orthogonal sphere of each tetrahedron
    (circumsphere when weights are 0): |c - p_i|^2 - w_i = R^2 for its four vertices."""
    p0 = points[:, 0]
    d = points[:, 1:] - p0[:, None, :]
    rhs = 0.5 * (np.einsum("tij,tij->ti", d, d) - (weights[:, 1:] - weights[:, :1]))
    rel = np.linalg.solve(d, rhs[..., None])[..., 0]
    return p0 + rel, np.einsum("ti,ti->t", rel, rel) - weights[:, 0]


def _periodic_complex(box: Box, positions: np.ndarray, weights: np.ndarray | None,
                      margin: float, precision: str):
    """Alpha complex of the 3-torus: owned simplices of the padded complex (see module doc).
    Returns the torus SimplexTree, the cover description and the number of hidden points."""
    import gudhi

    n = len(positions)
    pos, orig, shift, f_lo, f_hi, reach = _pad(box, positions, margin)
    w_pad = None if weights is None else weights[orig]
    alpha = gudhi.AlphaComplex(points=pos, weights=w_pad, precision=precision)
    padded = _simplices(alpha.create_simplex_tree())

    base = 2 * reach + 1
    code = ((shift[:, 0] + reach) * base + (shift[:, 1] + reach)) * base + (shift[:, 2] + reach)
    centre_code = (reach * base + reach) * base + reach
    vkey = orig * base ** 3 + code  # orders vertices by (original index, shift lexicographic)

    # (a) every tetrahedron with a central vertex must be a true Delaunay (regular) cell
    verts, _ = padded[3]
    central = np.any(code[verts] == centre_code, axis=1)
    tv = verts[central]
    w_t = np.zeros(tv.shape) if weights is None else w_pad[tv]
    centre, r2 = _orthospheres(pos[tv], w_t)
    frac_c = (centre - box.lo) @ np.linalg.inv(box.matrix)
    spacing = _face_spacing(box.matrix)
    clearance = np.minimum(frac_c - f_lo, f_hi - frac_c) * spacing  # A to the padded faces
    w_max = 0.0 if weights is None else float(np.max(weights))
    needed = np.sqrt(np.maximum(r2, 0.0) + w_max)
    if np.any(clearance.min(axis=1) < needed):
        worst = float(np.max(needed - clearance.min(axis=1)))
        raise ValueError(f"margin {margin} A is too small for this structure: a Delaunay cell "
                         f"touching the central cell reaches {worst:.2f} A beyond the padding; "
                         f"use margin >= {margin + worst + 1.0:.1f} A")

    torus: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    edge_shift = None
    for dim, (verts, values) in padded.items():
        keys = vkey[verts]
        order = np.argsort(keys, axis=1)
        verts = np.take_along_axis(verts, order, axis=1)
        owned = code[verts[:, 0]] == centre_code
        verts, values = verts[owned], values[owned]
        o = orig[verts]
        if dim > 0:
            if np.any(np.diff(o, axis=1) == 0):
                raise ValueError("the cell is too small: a simplex joins two images of one atom; "
                                 "replicate the cell before computing its homology")
            if len(np.unique(o, axis=0)) != len(o):
                raise ValueError("the cell is too small: two periodic simplices share their atoms; "
                                 "replicate the cell before computing its homology")
        torus[dim] = (o, values)
        if dim == 1:
            edge_shift = shift[verts[:, 1]] - shift[verts[:, 0]]
        if dim == 3:
            # (b) the owned tetrahedra must tile the cell exactly once
            p = pos[verts]
            vol = np.abs(np.einsum("ti,ti->t", p[:, 1] - p[:, 0],
                                   np.cross(p[:, 2] - p[:, 0], p[:, 3] - p[:, 0]))).sum() / 6.0
            if not np.isclose(vol, box.volume, rtol=1e-8, atol=0.0):
                raise ValueError(f"owned Delaunay tetrahedra fill {vol:.6f} A^3 of a "
                                 f"{box.volume:.6f} A^3 cell: increase the margin ({margin} A)")
    n_hidden = n - len(torus[0][0])

    st = gudhi.SimplexTree()
    for dim in sorted(torus):
        o, values = torus[dim]
        st.insert_batch(o.T.copy(), values)
    _enforce_monotone(st, torus)
    edges = torus[1][0]
    edge_value = np.array([st.filtration(list(e)) for e in edges])
    cover = _Cover(pos, orig, shift, reach, edges, edge_shift, edge_value, box.matrix)
    return st, cover, n_hidden


def _enforce_monotone(st, simplices: dict[int, tuple[np.ndarray, np.ndarray]]) -> None:
    """Make the filtration non-decreasing; values copied from different translates may disagree
    at round-off level. Anything beyond round-off means an inconsistent complex: raise."""
    if not st.make_filtration_non_decreasing():
        return
    scale = max(1.0, max(float(np.max(np.abs(v))) for _, v in simplices.values()))
    for dim, (o, before) in simplices.items():
        after = np.array([st.filtration(list(s)) for s in o])
        if np.max(np.abs(after - before)) > 1e-7 * scale:
            raise ValueError("alpha values of periodic translates disagree beyond round-off: "
                             "increase the margin")


def _free_complex(positions: np.ndarray, weights: np.ndarray | None, precision: str):
    """Alpha complex of a finite (non-periodic) point set, as the torus routine's output."""
    import gudhi

    st = gudhi.AlphaComplex(points=positions, weights=weights, precision=precision).create_simplex_tree()
    simplices = _simplices(st)
    edges = simplices.get(1, (np.zeros((0, 2), np.int64), np.zeros(0)))
    n = len(positions)
    cover = _Cover(positions.copy(), np.arange(n), np.zeros((n, 3), np.int64), 0,
                   edges[0], np.zeros((len(edges[0]), 3), np.int64), edges[1])
    return st, cover, n - len(simplices[0][0])


def _diagram(st, n_points: int, periodic: bool, weighted: bool, min_persistence: float,
             n_hidden: int) -> PersistenceDiagram:
    # Z/2Z coefficients (the usual choice for rings); all pairs, zero-length ones counted below
    st.compute_persistence(homology_coeff_field=2, min_persistence=-1.0)
    dims, births, deaths, bs, ds, e_dim, e_birth = [], [], [], [], [], [], []
    n_zero = 0
    for b_simplex, d_simplex in st.persistence_pairs():
        b = st.filtration(b_simplex)
        if not d_simplex:
            e_dim.append(len(b_simplex) - 1)
            e_birth.append(b)
            continue
        d = st.filtration(d_simplex)
        if d - b <= min_persistence:
            n_zero += 1
            continue
        dims.append(len(b_simplex) - 1)
        births.append(b)
        deaths.append(d)
        bs.append(tuple(b_simplex))
        ds.append(tuple(d_simplex))
    order = np.lexsort((np.asarray(deaths), np.asarray(births), np.asarray(dims)))
    return PersistenceDiagram(
        dimension=np.asarray(dims, int)[order], birth=np.asarray(births, float)[order],
        death=np.asarray(deaths, float)[order], birth_simplex=[bs[k] for k in order],
        death_simplex=[ds[k] for k in order], essential_dimension=np.asarray(e_dim, int),
        essential_birth=np.asarray(e_birth, float), n_points=n_points, periodic=periodic,
        weighted=weighted, min_persistence=min_persistence, n_zero_persistence=n_zero,
        n_hidden=n_hidden)


# ---------------------------------------------------------------------------------------------
# rings


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


def _rings(diagram: PersistenceDiagram, cover: _Cover, max_ring_size: int,
           min_persistence: float = -np.inf) -> Rings:
    """Shortest-path representative cycle of every finite H1 pair with persistence above
    ``min_persistence`` (A^2; the others get size 0, not searched), see module docstring."""
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


# ---------------------------------------------------------------------------------------------
# geometric rings: boundaries of optimal volumes


def _volume_setup(st, positions: np.ndarray, box: Box | None):
    """Filtration positions of the edges and triangles of the complex, the signed boundary of
    every triangle (sorted vertices a < b < c: d[a,b,c] = [b,c] - [a,c] + [a,b]) as edge ids,
    and the triangle centroids (A, unwrapped by the minimum image for a periodic complex)."""
    edges, edge_pos, tris, tri_pos, values = [], [], [], [], []
    for k, (s, value) in enumerate(st.get_filtration()):
        values.append(value)
        if len(s) == 2:
            edges.append(sorted(s))
            edge_pos.append(k)
        elif len(s) == 3:
            tris.append(sorted(s))
            tri_pos.append(k)
    edges = np.asarray(edges, np.int64).reshape(-1, 2)
    tris = np.asarray(tris, np.int64).reshape(-1, 3)
    n = len(positions)
    ecode = edges[:, 0] * n + edges[:, 1]
    sorter = np.argsort(ecode)

    def edge_id(u, v):
        return sorter[np.searchsorted(ecode, u * n + v, sorter=sorter)]

    bnd = np.column_stack([edge_id(tris[:, 1], tris[:, 2]), edge_id(tris[:, 0], tris[:, 2]),
                           edge_id(tris[:, 0], tris[:, 1])])
    p = positions[tris]
    d1, d2 = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]
    if box is not None:
        d1, d2 = box.minimum_image(d1), box.minimum_image(d2)
    centroid = p[:, 0] + (d1 + d2) / 3.0
    # spatial index of the centroids, so a cutoff search touches only nearby triangles
    from scipy.spatial import cKDTree

    if box is None:
        tree, origin = cKDTree(centroid), None
    elif box.is_orthogonal:
        origin = box.lo
        tree = cKDTree(np.mod(centroid - origin, box.lengths), boxsize=box.lengths)
    else:
        tree = origin = None  # triclinic: cutoff searches scan every triangle
    tri_index = {tuple(t): k for k, t in enumerate(tris.tolist())}
    # cell matrix and its inverse once, for the minimum image of every LP (as Box.minimum_image)
    cell = None if box is None else (box.matrix, np.linalg.inv(box.matrix))
    return (edges, np.asarray(edge_pos), sorter, ecode, tris, np.asarray(tri_pos), bnd, centroid,
            np.asarray(values), tree, origin, tri_index, cell)


def _optimal_volume(setup, positions, box, birth_edge, death_tri, cutoff: float | None, epsilon: float = 0.0,
                    grow_from: float | None = None):
    """Volume-optimal cycle (Obayashi, SIAM J. Appl. Algebra Geom. 2 (2018) 508) of an H1 pair,
    as the linear-programming relaxation: minimise sum |x_t| over the triangles t between the
    birth edge and the death triangle in the filtration order (x_death = 1, -1 <= x_t <= 1),
    such that the boundary of sum x_t t vanishes on every edge later than the birth edge; the
    ring is the support of that boundary. ``epsilon`` > 0 (A^2) gives the stable volume
    (Obayashi, J. Appl. Comput. Topol. 7 (2023) 671): the birth is moved to the last simplex
    with alpha^2 <= birth + epsilon, so edges entering within the noise band epsilon after the
    birth may short-cut the ring. ``cutoff`` (A): only triangles whose centroid lies
    within this distance of the birth edge's midpoint or of the death triangle's centroid
    (None: all); a volume with a triangle within ``_CUTOFF_SKIN`` of that limit counts as not
    found (a larger region might hold a smaller volume). With ``cutoff`` None and ``grow_from``
    (A) the LP over all triangles is solved by column generation (:func:`_grown_volume_lp`)
    from the triangles within ``grow_from``: the same optimum, much faster than the whole LP.
    Returns (triangle ids of the volume, boundary edge ids) or None if infeasible."""
    edges, edge_pos, sorter, ecode, tris, tri_pos, bnd, centroid, values, tree, origin, tri_index, cell = setup

    def mi(vectors):  # Box.minimum_image with the inverse computed once
        if cell is None:
            return vectors
        frac = vectors @ cell[1]
        frac -= np.round(frac)
        return frac @ cell[0]

    n = len(positions)
    u, v = sorted(birth_edge)
    e_b = sorter[np.searchsorted(ecode, u * n + v, sorter=sorter)]
    a, b, c = sorted(death_tri)
    t_d = tri_index[(a, b, c)]
    pb, pd = edge_pos[e_b], tri_pos[t_d]
    if epsilon > 0:
        pb = max(pb, int(np.searchsorted(values, values[pb] + epsilon, side="right")) - 1)
        if pb >= pd:
            raise ValueError(f"epsilon {epsilon} A^2 is not smaller than the persistence of the pair")
    mid_b = positions[u] + 0.5 * mi(positions[v] - positions[u])

    def within(region):  # candidate triangles (sorted ids) within ``region`` A, and their distances
        if region is not None and tree is not None:
            centres = np.vstack([mid_b, centroid[t_d]])
            if origin is not None:
                centres = np.mod(centres - origin, box.lengths)
            near = np.unique(np.concatenate([np.asarray(x, np.int64)
                                             for x in tree.query_ball_point(centres, region)]))
            cand = near[(tri_pos[near] >= pb) & (tri_pos[near] <= pd)]
        else:
            cand = np.flatnonzero((tri_pos >= pb) & (tri_pos <= pd))
        if region is None:
            return cand, None
        dist = np.minimum(np.linalg.norm(mi(centroid[cand] - mid_b), axis=1),
                          np.linalg.norm(mi(centroid[cand] - centroid[t_d]), axis=1))
        keep = (dist <= region) | (cand == t_d)
        return cand[keep], dist[keep]

    if cutoff is None and grow_from is not None:
        sol = _grown_volume_lp(bnd, edge_pos, len(edges), within(grow_from)[0], within(None)[0], t_d, pb)
    else:
        cand, dist = within(cutoff)
        sol = _volume_lp(bnd, edge_pos, cand, t_d, pb)
    if sol is None:
        return None
    cand, x = sol[0], sol[1]
    used = np.abs(x) > 1e-5
    if cutoff is not None and np.any(dist[used] > cutoff - _CUTOFF_SKIN):
        return None  # the volume reaches the edge of the searched region: maybe not optimal
    rows = bnd[cand].ravel()
    touched, where = np.unique(rows, return_inverse=True)
    full = np.bincount(where, weights=np.tile(_TRIANGLE_SIGNS, len(cand)) * np.repeat(x, 3))
    return cand[used], touched[np.abs(full) > 1e-5]  # boundary of the volume on the edges it touches


_TRIANGLE_SIGNS = np.array([1.0, -1.0, 1.0])  # d[a,b,c] = [b,c] - [a,c] + [a,b], the columns of ``bnd``
_PRICING_TOLERANCE = 1e-9  # reduced costs above -this count as non-negative (HiGHS' own dual tolerance: 1e-7)
_MAX_GROWTH_ROUNDS = 50    # column-generation rounds before the whole LP is solved instead


def _volume_lp(bnd: np.ndarray, edge_pos: np.ndarray, cand: np.ndarray, t_d: int, pb: int,
               duals: bool = False, penalty: float | None = None):
    """The optimal-volume LP over the triangles ``cand`` (sorted triangle ids, containing the
    death triangle ``t_d``): variables x = x+ - x- per triangle, x_death = 1, equality rows for
    the edges later than filtration position ``pb`` that these triangles touch (sorted edge ids).
    Returns (cand, x) or, with ``duals``, (cand, x, row edge ids, row duals y, residual); None if
    HiGHS reports no optimum. ``penalty``: each row also gets a residual r = r+ - r- (>= 0 each,
    cost ``penalty`` per unit), so the LP is always feasible; ``residual`` = sum |r| (0 without)."""
    m = len(cand)
    k_d = int(np.flatnonzero(cand == t_d)[0])
    rows = bnd[cand].ravel()
    cols = np.repeat(np.arange(m), 3)
    vals = np.tile(_TRIANGLE_SIGNS, m)
    # equality constraints: the boundary vanishes on every edge later than the (moved) birth;
    # the matrix [A, -A] (x = x+ - x-) in compressed-column form, row indices sorted per column
    constrained = edge_pos[rows] > pb
    erow, inverse = np.unique(rows[constrained], return_inverse=True)
    ccol, cval = cols[constrained], vals[constrained]
    order = np.lexsort((inverse, ccol))
    indptr = np.zeros(m + 1, np.int64)
    np.cumsum(np.bincount(ccol, minlength=m), out=indptr[1:])
    indptr = np.concatenate([indptr, indptr[-1] + indptr[1:]])
    bounds = np.tile([0.0, 1.0], (2 * m, 1))
    bounds[k_d] = (1.0, 1.0)
    bounds[m + k_d] = (0.0, 0.0)
    a_eq = (indptr, np.tile(inverse[order], 2), np.concatenate([cval[order], -cval[order]]))
    cost = np.ones(2 * m)
    if penalty is not None:  # residual columns +e_r and -e_r of every row
        k = len(erow)
        a_eq = (np.concatenate([indptr, indptr[-1] + np.arange(1, 2 * k + 1)]),
                np.concatenate([a_eq[1], np.arange(k), np.arange(k)]),
                np.concatenate([a_eq[2], np.ones(k), -np.ones(k)]))
        bounds = np.vstack([bounds, np.tile([0.0, np.inf], (2 * k, 1))])
        cost = np.concatenate([cost, np.full(2 * k, float(penalty))])
    if not duals:
        x = _solve_lp(cost, a_eq, len(erow), bounds)
        return None if x is None else (cand, x[:m] - x[m:2 * m])
    sol = _solve_lp(cost, a_eq, len(erow), bounds, duals=True)
    if sol is None:
        return None
    return cand, sol[0][:m] - sol[0][m:2 * m], erow, sol[1], float(np.sum(sol[0][2 * m:]))


_PENALTY = 100.0  # cost of a unit boundary residual, when the start region holds no volume (x 10 until none is left)


def _grown_volume_lp(bnd: np.ndarray, edge_pos: np.ndarray, n_edges: int, start: np.ndarray,
                     everything: np.ndarray, t_d: int, pb: int):
    """The optimal-volume LP over the triangles ``everything`` (sorted ids, the whole filtration
    range of the pair) solved by column generation from the triangles ``start``: solve the LP
    restricted to a set of triangles, then price every other triangle with the row duals y of
    that solution (edges outside the restricted LP: y = 0, edges not later than the birth carry
    no constraint). The reduced costs of x+_t and x-_t are 1 -+ (d t . y); when no triangle has
    |d t . y| > 1, y with zero duals on the missing rows is dual feasible for the whole LP with the
    same objective, so by LP duality the restricted optimum is the optimum of the whole LP (the
    optimal value, sum |x_t|, is the same; among several optimal volumes the one returned may
    differ). Otherwise the violating triangles are added and the LP is solved again. If the start
    region holds no volume (infeasible), boundary residuals at a cost (``_PENALTY``) keep the
    restricted LP feasible; the answer is accepted only once no residual is left (the residual
    columns are then extra columns at zero: the optimality argument is unchanged). Falls back to
    the whole LP after ``_MAX_GROWTH_ROUNDS`` rounds. Returns (cand, x) as :func:`_volume_lp`,
    or None if the whole LP has no optimum."""
    cand = np.union1d(start, [t_d])
    y_full = np.zeros(n_edges)
    column = bnd[everything]
    penalty = None
    for _ in range(_MAX_GROWTH_ROUNDS):
        sol = _volume_lp(bnd, edge_pos, cand, t_d, pb, duals=True, penalty=penalty)
        if sol is None:
            if penalty is not None:
                break
            penalty = _PENALTY
            continue
        _, x, erow, y, residual = sol
        y_full[:] = 0.0
        y_full[erow] = y
        price = np.abs(y_full[column] @ _TRIANGLE_SIGNS)
        add = everything[price > 1.0 + _PRICING_TOLERANCE]
        add = add[~np.isin(add, cand, assume_unique=True)]
        if len(add) == 0:
            if residual <= _PRICING_TOLERANCE:
                return cand, x
            penalty *= 10.0  # the residual is cheaper than any volume yet: make it dearer
            continue
        cand = np.union1d(cand, add)
    return _volume_lp(bnd, edge_pos, everything, t_d, pb)


_HIGHS_OPTIONS: dict = {}


def _solve_lp(c: np.ndarray, A_eq: tuple[np.ndarray, np.ndarray, np.ndarray], n_rows: int,
              bounds: np.ndarray, duals: bool = False):
    """min c.x subject to A_eq x = 0, bounds[:, 0] <= x <= bounds[:, 1]; A_eq given as
    compressed columns (indptr, row indices sorted within each column, values) with ``n_rows``
    rows. The solution, or None if HiGHS does not report an optimum. The same HiGHS model and
    options as ``scipy.optimize.linprog(method="highs")`` (presolve on, dual simplex strategy, no
    output), hence the same solution, passed to scipy's bundled HiGHS directly: linprog's wrapper
    spends more time than HiGHS itself on these small problems (a Python loop over the columns
    to collect bound multipliers, option checks). Falls back to linprog if that module is absent.
    With ``duals``: (x, y), y the row duals (reduced costs c - A_eq^T y, HiGHS' and linprog's
    ``eqlin.marginals`` convention)."""
    indptr, indices, data = A_eq
    try:
        from scipy.optimize._highspy import _core as h
    except ImportError:  # another scipy layout: the public (slower) route gives the same answer
        from scipy.optimize import linprog

        A = sparse.csc_matrix((data, indices, indptr), shape=(n_rows, len(c)))
        res = linprog(c, A_eq=A, b_eq=np.zeros(n_rows), bounds=bounds, method="highs")
        if res.status != 0:
            return None
        return (res.x, res.eqlin.marginals) if duals else res.x
    solver = h._Highs()
    options = _HIGHS_OPTIONS.get("lp")
    if options is None:  # built once: constructing HighsOptions costs as much as a small solve
        options = _HIGHS_OPTIONS["lp"] = h.HighsOptions()
        options.presolve = "on"
        options.highs_debug_level = 0
        options.log_to_console = False
        options.output_flag = False
        options.simplex_strategy = 1  # dual simplex, as linprog sets it
    # the model as arrays (Highs::passModel(num_col, num_row, num_nz, format, sense, offset, costs, bounds,
    # matrix, integrality)): the same HighsLp as filling its fields one by one, without the copies
    zeros = np.zeros(n_rows)
    if solver.passOptions(options) == h.HighsStatus.kError or solver.passModel(
            len(c), n_rows, len(data), int(h.MatrixFormat.kColwise), int(h.ObjSense.kMinimize), 0.0,
            np.asarray(c, float), np.ascontiguousarray(bounds[:, 0], float),
            np.ascontiguousarray(bounds[:, 1], float), zeros, zeros, np.asarray(indptr, np.int32),
            np.asarray(indices, np.int32), np.asarray(data, float),
            np.zeros(len(c), np.int32)) == h.HighsStatus.kError:  # integrality: all continuous
        raise RuntimeError("HiGHS refused the optimal-volume linear program")
    if solver.run() == h.HighsStatus.kError or solver.getModelStatus() != h.HighsModelStatus.kOptimal:
        return None
    solution = solver.getSolution()
    x = np.array(solution.col_value)
    return (x, np.array(solution.row_dual)) if duals else x


_CUTOFF_SKIN = 2.5  # A, about one S-S distance: volumes closer than this to the cutoff are redone larger


def _mi(box: Box | None, vectors: np.ndarray) -> np.ndarray:
    return vectors if box is None else box.minimum_image(vectors)


def _cycle_order(edge_list: np.ndarray) -> np.ndarray:
    """Vertices of a set of edges in walking order when they form one simple cycle; otherwise
    the sorted distinct vertices."""
    verts = np.unique(edge_list)
    if len(verts) != len(edge_list) or np.any(np.bincount(edge_list.ravel())[verts] != 2):
        return verts
    nbrs: dict[int, list[int]] = {}
    for x, y in edge_list.tolist():
        nbrs.setdefault(x, []).append(y)
        nbrs.setdefault(y, []).append(x)
    walk = [int(verts[0])]
    prev = -1
    while len(walk) < len(verts):
        nxt = [w for w in nbrs[walk[-1]] if w != prev][0]
        prev = walk[-1]
        walk.append(nxt)
    return np.asarray(walk) if len(set(walk)) == len(verts) else verts


def _volume_rings(st, diagram: PersistenceDiagram, positions: np.ndarray, box: Box | None,
                  max_ring_size: int, min_persistence: float, cutoff: float | None,
                  epsilon: float = 0.0) -> tuple[Rings, np.ndarray]:
    """Optimal-volume ring (stable volume if ``epsilon`` > 0, A^2) of every finite H1 pair with
    persistence above ``min_persistence``
    (A^2; others size 0): atoms of the boundary of the optimal volume, size = their number
    (-1: no volume found within twice the cutoff and without it, or more than max_ring_size
    atoms). Also returns the number of triangles in each volume (0 if none)."""
    h1 = np.nonzero(diagram.dimension == 1)[0]
    setup = _volume_setup(st, positions, box)
    edges = setup[0]
    sizes = np.full(len(h1), -1, dtype=int)
    n_cells = np.zeros(len(h1), dtype=int)
    diameters = np.full(len(h1), np.nan)
    atoms, coords = [], []
    for r, k in enumerate(h1):
        atoms.append(np.zeros(0, int))
        coords.append(np.zeros((0, positions.shape[1])))
        if not diagram.death[k] - diagram.birth[k] > min_persistence:
            sizes[r] = 0
            continue
        found = None
        for cut in ((cutoff, 2 * cutoff, None) if cutoff is not None else (None,)):
            # last round: the LP over all triangles, grown from the previous region (same optimum)
            found = _optimal_volume(setup, positions, box, diagram.birth_simplex[k], diagram.death_simplex[k], cut,
                                    epsilon, grow_from=None if cutoff is None else 2 * cutoff)
            if found is not None:
                break
        if found is None:
            continue
        cells, boundary = found
        n_cells[r] = len(cells)
        ring = _cycle_order(edges[boundary])
        if len(ring) > max_ring_size:
            continue
        xyz = positions[ring[0]] + np.vstack([np.zeros((1, positions.shape[1])),
                                              np.cumsum(_mi(box, np.diff(positions[ring], axis=0)), axis=0)])
        sizes[r] = len(ring)
        atoms[r] = ring
        coords[r] = xyz
        diameters[r] = pdist(xyz).max() if len(ring) > 1 else 0.0
    return Rings(birth=diagram.birth[h1], death=diagram.death[h1], size=sizes, diameter=diameters,
                 atoms=atoms, coordinates=coords, max_ring_size=max_ring_size, n_cells=n_cells), n_cells


# ---------------------------------------------------------------------------------------------
# public API


def alpha_persistence(positions: np.ndarray, box: Box | None = None, weights: np.ndarray | None = None,
                      margin: float = DEFAULT_MARGIN, precision: str = "safe",
                      min_persistence: float = DEFAULT_MIN_PERSISTENCE, rings: bool = True,
                      max_ring_size: int = DEFAULT_MAX_RING_SIZE,
                      ring_min_persistence: float | None = None, ring_definition: str = "shortest_cycle",
                      volume_cutoff: float | None = DEFAULT_VOLUME_CUTOFF,
                      volume_epsilon: float = 0.0) -> tuple[PersistenceDiagram, Rings | None]:
    """Alpha-complex persistence (H0, H1, H2) of points, periodic if ``box`` is given.

    positions: (n, 3) A (or (n, 2) without a box); weights: (n,) A^2 (squared radii) for a
    weighted alpha complex; margin: padding (A) of periodic images (checked, see module doc);
    precision: gudhi's 'fast' / 'safe' / 'exact'; min_persistence: A^2, pairs not longer than
    this are counted in ``n_zero_persistence`` instead of kept; ring_min_persistence: A^2, rings
    are searched only for H1 pairs with death - birth above this (None: every pair; the others
    get ring size 0); ring_definition: ``"shortest_cycle"`` (shortest cycle at birth) or
    ``"optimal_volume"`` (boundary of the optimal volume, with triangles searched within
    ``volume_cutoff`` A; a stable volume with noise band ``volume_epsilon`` A^2 if > 0, see
    :func:`_optimal_volume`). Returns the diagram (alpha^2 values, A^2)
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
        return _rings(diagram, cover, max_ring_size, threshold)
    if definition == "optimal_volume":
        return _volume_rings(st, diagram, cover.positions[:diagram.n_points], box, max_ring_size, threshold,
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
        st, cover, hidden = _periodic_complex(box, positions, weights, margin, precision)
    else:
        if positions.shape[1] not in (2, 3):
            raise ValueError("positions must be 2-D or 3-D")
        st, cover, hidden = _free_complex(positions, weights, precision)
    diagram = _diagram(st, len(positions), box is not None, weights is not None, min_persistence, hidden)
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
    :data:`SHANNON_RADII`) makes the complex weighted with w = r^2. Simplex and ring atom
    indices are returned as indices into the full structure (``elements``/``positions``).
    Rings are searched only for H1 pairs with persistence above ``ring_min_persistence`` (A^2;
    None: all pairs), under each of ``ring_definitions`` (``result.rings`` = shortest cycle,
    ``result.volume_rings`` = optimal volume; ``timings`` holds the seconds of each part)."""
    import time

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


def ring_length(rings: Rings, length: str = "diameter") -> np.ndarray:
    """Real-space length (A) of each ring: ``"diameter"`` = largest distance between two of its
    atoms; ``"death"`` = 2 sqrt(death alpha^2), the diameter of the balls that fill the loop."""
    if length == "diameter":
        return rings.diameter.copy()
    if length == "death":
        return 2.0 * np.sqrt(np.maximum(rings.death, 0.0))
    raise ValueError(f"length must be 'diameter' or 'death', not {length!r}")


def fsdp_ring_link(rings: Rings, q_fsdp: float, q_fwhm: float | None = None,
                   length: str = "diameter", large_ring: int = 8) -> dict:
    """Relate ring sizes to the FSDP (pure function of the rings and the peak position).

    q_fsdp: FSDP position (1/A); q_fwhm: its full width at half maximum (1/A, default
    0.25 * q_fsdp). The FSDP's real-space window is [2 pi / (q + fwhm/2), 2 pi / (q - fwhm/2)]
    (A) around d = 2 pi / q. For each ring size: count, mean/std of the ring length (A, see
    :func:`ring_length`) and the persistence-weighted fraction of its rings whose length lies in
    the window. ``large_ring_share``: of the total persistence (death - birth, A^2) of all rings
    whose length lies in the window, the share carried by rings of more than ``large_ring``
    atoms (``large_ring_share_count``: the same share by number). Unresolved rings (size -1)
    are counted in ``n_unresolved`` and excluded from the shares.
    """
    if not q_fsdp > 0:
        raise ValueError(f"q_fsdp must be positive (1/A), got {q_fsdp}")
    q_fwhm = 0.25 * q_fsdp if q_fwhm is None else float(q_fwhm)
    if not 0 < q_fwhm < 2 * q_fsdp:
        raise ValueError(f"q_fwhm must lie in (0, 2 q_fsdp), got {q_fwhm}")
    d = 2.0 * np.pi / q_fsdp
    window = (2.0 * np.pi / (q_fsdp + q_fwhm / 2), 2.0 * np.pi / (q_fsdp - q_fwhm / 2))
    resolved = rings.size > 0
    size = rings.size[resolved]
    L = ring_length(rings, length)[resolved]
    pers = rings.persistence[resolved]
    in_win = (L >= window[0]) & (L <= window[1])
    per_size = {}
    for s in np.unique(size):
        m = size == s
        per_size[int(s)] = {
            "count": int(m.sum()),
            "length_mean_A": float(L[m].mean()),
            "length_std_A": float(L[m].std()),
            "persistence_sum_A2": float(pers[m].sum()),
            "fraction_in_window": float(pers[m & in_win].sum() / pers[m].sum()),
        }
    large = size > large_ring
    total = pers[in_win].sum()
    return {
        "q_fsdp_inv_A": float(q_fsdp), "q_fwhm_inv_A": q_fwhm, "d_fsdp_A": d,
        "window_A": window, "length": length, "large_ring": large_ring,
        "per_size": per_size,
        "large_ring_share": float(pers[in_win & large].sum() / total) if total > 0 else float("nan"),
        "large_ring_share_count": float((in_win & large).sum() / in_win.sum()) if in_win.any() else float("nan"),
        "n_in_window": int(in_win.sum()), "n_unresolved": int((~resolved).sum()),
    }


def fsdp_enrichment_scan(rings: Rings, q_fsdp: float, q_fwhm: float | None, thresholds, length: str = "death",
                         large_ring: int = 8) -> list[dict]:
    """C11 in real space, as enrichment: for each persistence threshold (A^2), among the
    resolved rings with persistence above it, the share of rings with more than ``large_ring``
    atoms inside the FSDP's real-space window (see :func:`fsdp_ring_link`) against that share
    among all of them (no window). ``enrichment`` = share in window / share overall (1: the
    window selects large rings no more than chance; NaN if undefined)."""
    out = []
    for t in thresholds:
        sub = Rings(birth=rings.birth, death=rings.death, size=np.where(rings.persistence > t, rings.size, 0),
                    diameter=rings.diameter, atoms=rings.atoms, coordinates=rings.coordinates,
                    max_ring_size=rings.max_ring_size)
        ok = sub.size > 0
        if not ok.any():
            out.append({"min_persistence_A2": float(t), "n_rings": 0})
            continue
        link = fsdp_ring_link(sub, q_fsdp, q_fwhm, length=length, large_ring=large_ring)
        share_all = float(np.mean(sub.size[ok] > large_ring))
        share_win = link["large_ring_share_count"]
        out.append({"min_persistence_A2": float(t), "n_rings": int(ok.sum()), "n_in_window": link["n_in_window"],
                    "large_share_in_window": share_win, "large_share_all": share_all,
                    "enrichment": share_win / share_all if share_all > 0 and np.isfinite(share_win) else float("nan")})
    return out


def fsdp_subset_contribution(box: Box, positions: np.ndarray, weights: np.ndarray, subsets: dict[str, np.ndarray],
                             pool: np.ndarray, q_window: tuple[float, float], n_random: int = 999,
                             seed: int = 0) -> dict:
    """C11 in reciprocal space: per-atom contribution of atom subsets to S(q) in the FSDP window.

    S(q) over the cell's wave vectors with q_window[0] <= |q| <= q_window[1] (1/A) splits exactly
    into atom contributions c_j = <Re[w_j exp(i q.r_j) rho(q)*]>_q / (N <w>^2) with rho(q) =
    sum_k w_k exp(i q.r_k) over all atoms (positions, A; weights, e.g. neutron b). For each named
    subset (atom indices): mean c_j over its atoms, and where it falls among ``n_random``
    random subsets of equal size drawn from ``pool`` (indices; e.g. all network atoms):
    ``p_random`` = (1 + #random means >= it) / (1 + n_random). Also the mean c_j of the pool.
    Caveat: neighbouring atoms share the phase of the density wave, so the c_j of a connected set
    (the atoms of rings) vary more than those of independently drawn atoms and ``p_random`` is
    optimistic. Translating the set instead (nearest pool atom to each translated position) is
    not a valid null either: it favours atoms with large Voronoi cells, whose c_j differ (on the
    default study it put both large- and small-ring atoms above the null at p = 0.001)."""
    from lipsglass.structure_factor import reciprocal_vectors

    pos = np.asarray(positions, float) - box.lo
    w = np.asarray(weights, float)
    qv = reciprocal_vectors(box, q_window[1])
    qv = qv[np.linalg.norm(qv, axis=1) >= q_window[0]]
    if len(qv) == 0:
        raise ValueError(f"no wave vector of the cell has {q_window[0]:.3f} <= |q| <= {q_window[1]:.3f} 1/A")
    phase = pos @ qv.T
    cos, sin = np.cos(phase), np.sin(phase)
    rho_re, rho_im = w @ cos, w @ sin
    c = w * (cos @ rho_re + sin @ rho_im) / len(qv) / (len(w) * w.mean() ** 2)
    rng = np.random.default_rng(seed)
    pool = np.asarray(pool, int)
    out = {"q_window_inv_A": [float(q_window[0]), float(q_window[1])], "n_vectors": int(len(qv)),
           "pool_mean": float(c[pool].mean()), "n_random": int(n_random), "subsets": {}}
    for name, idx in subsets.items():
        idx = np.asarray(idx, int)
        if len(idx) == 0 or len(idx) > len(pool):
            out["subsets"][name] = {"n_atoms": int(len(idx))}
            continue
        rand = np.array([c[rng.choice(pool, len(idx), replace=False)].mean() for _ in range(n_random)])
        m = float(c[idx].mean())
        out["subsets"][name] = {"n_atoms": int(len(idx)), "mean_contribution": m,
                                "random_q05_q95": np.percentile(rand, [5, 95]).tolist(),
                                "p_random": float((1 + np.sum(rand >= m)) / (1 + n_random))}
    return out


def ring_coverage(box: Box, positions: np.ndarray, ring_atoms: list[np.ndarray], ring_sizes: np.ndarray,
                  li_positions: np.ndarray, cutoff: float) -> dict[int, np.ndarray]:
    """Li covered by the rings of each size: {size (atoms): indices of the Li within ``cutoff`` (A)
    of an atom of a ring of that size}. A Li may be covered by several sizes. Rings of size <= 0
    (unresolved or not searched) are left out."""
    ring_sizes = np.asarray(ring_sizes, int)
    keep = np.flatnonzero(ring_sizes > 0)
    if len(keep) == 0:
        return {}
    rings_kept = [np.asarray(ring_atoms[k], int) for k in keep]
    members = np.concatenate(rings_kept)
    ring_of = np.repeat(np.arange(len(keep)), [len(a) for a in rings_kept])
    atoms, inverse = np.unique(members, return_inverse=True)
    incidence = sparse.csr_matrix((np.ones(len(members)), (ring_of, inverse)), shape=(len(keep), len(atoms)))
    i, j, _ = neighbour_pairs(box, np.asarray(positions, float)[atoms], cutoff, other=np.asarray(li_positions, float))
    near = sparse.csr_matrix((np.ones(len(i)), (i, j)), shape=(len(atoms), len(li_positions)))
    ring_li = (incidence @ near).tocsr()
    sizes = ring_sizes[keep]
    return {int(s): np.unique(ring_li[np.flatnonzero(sizes == s)].indices) for s in np.unique(sizes)}


def shift_indices(box: Box, li_positions: np.ndarray, n_shifts: int, rng: np.random.Generator) -> np.ndarray:
    """(n_shifts, n_Li) indices of the Li whose softness each Li takes in a softness field
    translated by a uniform random vector on the torus: Li i gets the softness of the Li nearest
    to x_i - t. A translation keeps the field's spatial correlations and its relation to nothing
    else (the spatial shift null of a stationary field). The indices depend on positions only,
    so one set serves every softness field of the same Li."""
    from scipy.spatial import cKDTree

    if not box.is_orthogonal:
        raise ValueError("the spatial shift null needs an orthogonal cell")
    x = box.wrap(np.asarray(li_positions, float)) - box.lo
    tree = cKDTree(x, boxsize=box.lengths)
    t = rng.uniform(0.0, 1.0, (n_shifts, 3)) * box.lengths
    q = np.mod(x[None, :, :] - t[:, None, :], box.lengths).reshape(-1, 3)
    return tree.query(q)[1].reshape(n_shifts, len(x))


def shifted_fields(box: Box, li_positions: np.ndarray, softness: np.ndarray, n_shifts: int,
                   rng: np.random.Generator) -> np.ndarray:
    """(n_shifts, n_Li) softness fields translated by uniform random vectors (:func:`shift_indices`)."""
    return np.asarray(softness, float)[shift_indices(box, li_positions, n_shifts, rng)]


def class_mean_differences(coverage: dict[int, np.ndarray], fields: np.ndarray) -> np.ndarray:
    """(n_fields, n_classes) difference between the mean softness of the Li of each class (in
    ``sorted(coverage)`` order) and the mean of all Li, in standard deviations of all Li, for each
    row of ``fields`` (n_fields, n_Li). NaN for a class with no Li or a field with no spread."""
    fields = np.atleast_2d(np.asarray(fields, float))
    n_li = fields.shape[1]
    classes = sorted(coverage)
    weights = np.zeros((len(classes), n_li))
    for k, s in enumerate(classes):
        idx = np.asarray(coverage[s], int)
        if len(idx):
            weights[k, idx] = 1.0 / len(idx)
    sd = fields.std(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = (fields @ weights.T - fields.mean(axis=1, keepdims=True)) / sd
    empty = np.array([len(coverage[s]) == 0 for s in classes])
    d[:, empty] = np.nan
    return d


def ring_softness_by_size(coverage: dict[int, np.ndarray], softness: np.ndarray, shifts: np.ndarray) -> dict:
    """Softness of the Li covered by each ring-size class against all Li, and the sampling
    distribution of that difference under the spatial shift null.

    coverage: {size: Li indices} (:func:`ring_coverage`); softness: (n_Li,) values; shifts:
    (n_shifts, n_Li) indices of translated fields (:func:`shift_indices`). For every class:
    ``n_li``, ``mean``, ``d`` (its mean minus the mean of all Li, in sd of all Li) and ``null_d``
    (array: d of each translated field: a field with the glass' own spatial correlation and no relation
    to the rings; their spread is the sampling spread of d that neighbouring Li sharing softness
    imply). The decision (C12) is made from these in :mod:`lipsglass.claims.homology`.
    """
    softness = np.asarray(softness, float)
    shifts = np.atleast_2d(np.asarray(shifts, int))
    if shifts.shape[1] != len(softness):
        raise ValueError("shifts must have one column per Li")
    classes = sorted(coverage)
    observed = class_mean_differences(coverage, softness)[0] if classes else np.zeros(0)
    null = class_mean_differences(coverage, softness[shifts]) if classes else np.zeros((len(shifts), 0))
    per_size = {}
    for k, s in enumerate(classes):
        v = softness[np.asarray(coverage[s], int)]
        per_size[int(s)] = {"n_li": int(len(v)), "mean": float(v.mean()) if len(v) else float("nan"),
                            "d": float(observed[k]), "null_d": null[:, k]}
    return {"n_shifts": int(len(shifts)),
            "all_li": {"n": int(len(softness)), "mean": float(softness.mean()), "std": float(softness.std())},
            "per_size": per_size}


# ---------------------------------------------------------------------------------------------
# command line


def _homology_command(args) -> int:
    import sys

    from lipsglass.lammpsio import read_structure

    if args.type_elements:
        # dumps without an element column: element of each atom type, in type order
        from lipsglass.lammpsio import iter_dump

        frame = next(iter_dump(args.file), None)
        if frame is None:
            raise ValueError(f"{args.file}: no dump frame found")
        names = [e.strip() for e in args.type_elements.split(",")]
        box, positions = frame.box, frame.box.wrap(frame.positions())
        elements = frame.elements({t + 1: el for t, el in enumerate(names)})
    else:
        box, _, elements, positions = read_structure(args.file)
    select = tuple(e.strip() for e in args.elements.split(",") if e.strip())
    result = structure_homology(box, elements, positions, select=select,
                                radii=SHANNON_RADII if args.weighted else None,
                                margin=args.margin, precision=args.precision,
                                max_ring_size=args.max_ring_size)
    d, rings = result.diagram, result.rings
    sys.stdout.write("birth_A2,death_A2,ring_size\n")
    for b, de, s in zip(rings.birth, rings.death, rings.size):
        sys.stdout.write(f"{b:.10g},{de:.10g},{s}\n")
    print(f"# {len(result.atom_indices)} atoms ({','.join(select)}), H1 pairs {len(rings.birth)}, "
          f"essential {d.betti_essential()}, zero-length pairs {d.n_zero_persistence}, "
          f"hidden {d.n_hidden}, {result.timings['homology_s']:.1f} s", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("homology", help="H1 persistence diagram and ring sizes (CSV on stdout)")
    p.add_argument("file", help="LAMMPS data file or text dump (first frame)")
    p.add_argument("--elements", default="P,S", help="elements of the network (default P,S)")
    p.add_argument("--margin", type=float, default=DEFAULT_MARGIN,
                   help=f"periodic padding in A (default {DEFAULT_MARGIN}; checked)")
    p.add_argument("--weighted", action="store_true",
                   help="weighted alpha complex, weights = squared Shannon ionic radii")
    p.add_argument("--precision", choices=("fast", "safe", "exact"), default="safe")
    p.add_argument("--type-elements", help="for a dump without an element column: element of each "
                                           "atom type in type order, e.g. P,S,P,S,S,P,S,Li")
    p.add_argument("--max-ring-size", type=int, default=DEFAULT_MAX_RING_SIZE,
                   help=f"longest ring searched, atoms (default {DEFAULT_MAX_RING_SIZE}; longer: size -1)")
    p.set_defaults(func=_homology_command)
