"""The periodic alpha complex of a point set (gudhi) and its persistence diagram.

Conventions
-----------
* Filtration values are gudhi's alpha-complex values: SQUARED radii alpha^2 in A^2. Every
  birth/death is an alpha^2 in A^2 (a radius is ``sqrt(value)`` in A). With weights w_i
  (``radii`` given: w_i = r_i^2, A^2) the filtration is the weighted alpha complex, in which a
  vertex is born at -w_i and a simplex at the squared radius of its smallest orthogonal sphere
  (power distance convention of gudhi/CGAL).
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
"""

from __future__ import annotations

from dataclasses import dataclass

import gudhi
import numpy as np

from lipsglass.homology.results import PersistenceDiagram
from lipsglass.lammpsio import Box

# Shannon (1976) effective ionic radii, A (Acta Cryst. A32, 751): S2- CN6 1.84, P5+ CN4 0.17,
# Li+ CN4 0.59. Used (squared) as alpha-complex weights when a weighted complex is asked for.
SHANNON_RADII = {"S": 1.84, "P": 0.17, "Li": 0.59}

DEFAULT_MARGIN = 8.0        # A; several times the largest death radius of sulfide glass rings
DEFAULT_MIN_PERSISTENCE = 1e-6  # A^2; pairs at most this long are zero-length pairs made of
                                 # round-off in degenerate (cospherical) configurations


@dataclass
class Cover:
    """Padded point set (a finite piece of the periodic cover) and the torus edges (built by
    :func:`periodic_complex` / :func:`free_complex`; the rings are searched on it)."""

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


def periodic_complex(box: Box, positions: np.ndarray, weights: np.ndarray | None,
                     margin: float, precision: str):
    """Alpha complex of the 3-torus: owned simplices of the padded complex (see module doc).
    Returns the torus SimplexTree, the cover description and the number of hidden points."""
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
    cover = Cover(pos, orig, shift, reach, edges, edge_shift, edge_value, box.matrix)
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


def free_complex(positions: np.ndarray, weights: np.ndarray | None, precision: str):
    """Alpha complex of a finite (non-periodic) point set, as the torus routine's output."""
    st = gudhi.AlphaComplex(points=positions, weights=weights, precision=precision).create_simplex_tree()
    simplices = _simplices(st)
    edges = simplices.get(1, (np.zeros((0, 2), np.int64), np.zeros(0)))
    n = len(positions)
    cover = Cover(positions.copy(), np.arange(n), np.zeros((n, 3), np.int64), 0,
                  edges[0], np.zeros((len(edges[0]), 3), np.int64), edges[1])
    return st, cover, n - len(simplices[0][0])


def persistence_diagram(st, n_points: int, periodic: bool, weighted: bool, min_persistence: float,
                        n_hidden: int) -> PersistenceDiagram:
    """Persistence of the complex ``st`` (from :func:`periodic_complex` / :func:`free_complex`):
    pairs not longer than ``min_persistence`` (A^2) are counted, not kept."""
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

