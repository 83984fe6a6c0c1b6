"""The one neighbour search of the project: periodic KD-tree (scipy cKDTree, O(N log N)).

Orthogonal cells use cKDTree's native periodic ``boxsize``; triclinic cells are handled by
searching a padded set of periodic images (exact for cutoffs below the padding).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from lipsglass.lammpsio import Box


def _wrapped(box: Box, positions: np.ndarray) -> np.ndarray:
    wrapped = box.wrap(positions) - box.lo
    lengths = box.lengths
    # cKDTree requires coordinates strictly inside [0, L)
    wrapped = np.where(wrapped >= lengths, wrapped - lengths, wrapped)
    return np.clip(wrapped, 0.0, np.nextafter(lengths, 0))


def _tree(box: Box, positions: np.ndarray) -> cKDTree:
    return cKDTree(_wrapped(box, positions), boxsize=box.lengths)


def neighbour_pairs(box: Box, positions: np.ndarray, cutoff: float,
                    other: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs closer than ``cutoff`` under periodic boundaries.

    Without ``other``: unique pairs i < j within ``positions``. With ``other``: every (i, j) with
    i indexing ``positions`` and j indexing ``other`` (self pairs are not removed).
    Returns (i, j, minimum-image vectors r_j - r_i).
    """
    positions = np.asarray(positions, float)
    if not box.is_orthogonal:
        return _pairs_triclinic(box, positions, cutoff, other)
    if np.any(2.0 * cutoff > box.lengths):
        # more than the nearest image can lie within the cutoff (at exactly half the cell the
        # minimum image is still unique but for a set of measure zero)
        return _pairs_triclinic(box, positions, cutoff, other)
    tree = _tree(box, positions)
    if other is None:
        pairs = tree.query_pairs(cutoff, output_type="ndarray")
        i, j = pairs[:, 0], pairs[:, 1]
        vec = box.minimum_image(positions[j] - positions[i])
    else:
        other = np.asarray(other, float)
        other_tree = _tree(box, other)
        sparse = tree.sparse_distance_matrix(other_tree, cutoff, output_type="coo_matrix")
        i, j = sparse.row.astype(np.int64), sparse.col.astype(np.int64)
        vec = box.minimum_image(other[j] - positions[i])
    return i.astype(np.int64), j.astype(np.int64), vec


def _pairs_triclinic(box: Box, positions, cutoff, other):
    """Exact periodic pairs for any cell and cutoff, by replicating images within the cutoff."""
    matrix = box.matrix
    wrapped = box.wrap(positions)
    targets = wrapped if other is None else box.wrap(np.asarray(other, float))
    # number of images needed along each cell vector: distance between opposite faces
    inv = np.linalg.inv(matrix)
    face_spacing = 1.0 / np.linalg.norm(inv, axis=0)
    reps = np.ceil(cutoff / face_spacing).astype(int)
    shifts = np.array([[a, b, c] for a in range(-reps[0], reps[0] + 1)
                       for b in range(-reps[1], reps[1] + 1) for c in range(-reps[2], reps[2] + 1)])
    images = (targets[None, :, :] + (shifts @ matrix)[:, None, :]).reshape(-1, 3)
    image_index = np.tile(np.arange(len(targets)), len(shifts))
    tree = cKDTree(images)
    query = cKDTree(wrapped)
    sparse = query.sparse_distance_matrix(tree, cutoff, output_type="coo_matrix")
    i = sparse.row.astype(np.int64)
    k = sparse.col.astype(np.int64)
    j = image_index[k]
    vec = images[k] - wrapped[i]
    if other is None:
        # pairs i<j are kept once per image; i==j self-images once per +/- shift pair
        keep = (i < j) | ((i == j) & (np.linalg.norm(vec, axis=1) > 0) & _positive_shift(shifts[k // len(targets)]))
        i, j, vec = i[keep], j[keep], vec[keep]
    return i, j, vec


def _positive_shift(shift: np.ndarray) -> np.ndarray:
    """True for the lexicographically positive member of each (+s, -s) image pair."""
    s = shift
    return (s[:, 0] > 0) | ((s[:, 0] == 0) & (s[:, 1] > 0)) | ((s[:, 0] == 0) & (s[:, 1] == 0) & (s[:, 2] > 0))


def neighbour_lists(box: Box, positions: np.ndarray, cutoff: float, centres: np.ndarray | None = None):
    """For each centre index, the indices of atoms within ``cutoff`` (excluding itself) and the
    minimum-image vectors to them. Returns (centre_index, neighbour_index, vectors) as flat
    arrays sorted by centre."""
    positions = np.asarray(positions, float)
    i, j, vec = neighbour_pairs(box, positions, cutoff)
    ci = np.concatenate([i, j])
    nj = np.concatenate([j, i])
    v = np.concatenate([vec, -vec])
    if centres is not None:
        mask = np.isin(ci, centres)
        ci, nj, v = ci[mask], nj[mask], v[mask]
    order = np.argsort(ci, kind="stable")
    return ci[order], nj[order], v[order]


def nearest_site(box: Box, sites: np.ndarray, positions: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Index of the nearest of ``sites`` (periodic, minimum image) for every position. Orthogonal
    cells use the periodic KD-tree; triclinic cells a chunked minimum-image search (exact)."""
    sites = np.asarray(sites, float).reshape(-1, 3)
    positions = np.asarray(positions, float).reshape(-1, 3)
    if len(sites) == 0:
        raise ValueError("nearest_site needs at least one site")
    if box.is_orthogonal:
        _, index = _tree(box, sites).query(_wrapped(box, positions))
        return np.asarray(index, int)
    out = np.empty(len(positions), int)
    for start in range(0, len(positions), chunk):
        block = positions[start:start + chunk]
        d = np.linalg.norm(box.minimum_image(sites[None, :, :] - block[:, None, :]), axis=-1)
        out[start:start + chunk] = np.argmin(d, axis=1)
    return out
