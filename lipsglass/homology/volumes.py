"""Rings of the H1 pairs as boundaries of optimal volumes (``ring_definition="optimal_volume"``).

The boundary of the volume-optimal chain of the pair (Obayashi 2018), or with a noise band
epsilon > 0 of its stable volume (Obayashi 2023): the fewest triangles, between the birth (plus
epsilon) and the death in the filtration order, whose boundary vanishes on every later edge.
Solved as HomCloud does, as the linear-programming relaxation (coefficients in [-1, 1]), with
scipy's HiGHS; triangles are searched near the pair first (``volume_cutoff``), and the search is
redone larger (twice the cutoff) when the volume touches that limit; a volume still touching it
is found by the LP over all triangles of the pair, solved by column generation from that region
(triangles are added while the LP duals price one below zero), whose optimum is the whole LP's by
LP duality. On a periodic set the number of triangles of every volume equals HomCloud 5.4's
(tests/test_homology_oracle.py). A shortest cycle born close to the percolation of the network
can be a long detour around a small hole; the volume's boundary follows the hole. The optimum
(number of triangles) is unique, the volume is not always: equally small volumes can have
boundaries of different size (on a 540-atom glass a different search radius changes ~1 % of the
volume ring sizes).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import linprog
from scipy.spatial import cKDTree
from scipy.spatial.distance import pdist

from lipsglass.homology.results import PersistenceDiagram, Rings
from lipsglass.lammpsio import Box

try:  # scipy's bundled HiGHS, called directly by _solve_lp (another scipy layout: linprog's public route)
    from scipy.optimize._highspy import _core as _highs
except ImportError:
    _highs = None

DEFAULT_VOLUME_CUTOFF = 5.0  # A; optimal volumes are searched within this distance first (then 2x, then all)


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
    if _highs is None:  # another scipy layout: the public (slower) route gives the same answer
        A = sparse.csc_matrix((data, indices, indptr), shape=(n_rows, len(c)))
        res = linprog(c, A_eq=A, b_eq=np.zeros(n_rows), bounds=bounds, method="highs")
        if res.status != 0:
            return None
        return (res.x, res.eqlin.marginals) if duals else res.x
    h = _highs
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


def volume_rings(st, diagram: PersistenceDiagram, positions: np.ndarray, box: Box | None,
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
