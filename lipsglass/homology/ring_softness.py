"""Softness of the Li around rings of each size (claim C12's inputs, paper Fig. S5) and its
sampling distribution under the spatial shift null.

A Li is covered by a ring size when it lies within a cutoff of an atom of a ring of that size
(:func:`ring_coverage`). For each class the statistic is d, its mean softness minus that of all Li
in sd of all Li (:func:`class_mean_differences`); its sampling spread is that of d over softness
fields translated by random vectors on the torus (:func:`shift_indices`: each Li takes the
softness of the Li nearest to its position minus the translation, so the field keeps its spatial
correlations and loses any relation to the rings). The decision is made in
:mod:`lipsglass.claims.homology`.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from lipsglass.lammpsio import Box
from lipsglass.neighbours import neighbour_pairs


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


def ring_softness(box: Box, positions: np.ndarray, ring_atoms: list[np.ndarray], ring_sizes: np.ndarray,
                  li: np.ndarray, softness: np.ndarray, shifts: np.ndarray, cutoff: float) -> dict:
    """:func:`ring_softness_by_size` of the Li (indices ``li`` into ``positions``, A) that the rings
    (atom indices ``ring_atoms``, sizes ``ring_sizes`` > 0) cover within ``cutoff`` (A), with the
    softness of the Li of each class (``values``), the number of rings and of Li covered."""
    coverage = ring_coverage(box, positions, ring_atoms, ring_sizes, positions[li], cutoff)
    res = ring_softness_by_size(coverage, softness, shifts)
    res["values"] = {int(k): softness[v].tolist() for k, v in coverage.items()}
    res["n_rings"] = int(len(ring_atoms))
    res["n_li_covered"] = int(len(np.unique(np.concatenate(list(coverage.values()))))) if coverage else 0
    return res
