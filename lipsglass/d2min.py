"""Non-affine squared displacement D2min (Falk & Langer, Phys. Rev. E 57, 7192 (1998)) and its
sum over small time increments, D_cum, used to label Li as mobile or immobile.

For a centre atom i with neighbours j (all species) inside ``cutoff`` in the REFERENCE frame,
with reference vectors r0_ij and current vectors r_ij of the same pairs,

    X = sum_j r_ij r0_ij^T,   Y = sum_j r0_ij r0_ij^T,   F = X Y^-1,
    D2min(i) = sum_j |r_ij - F r0_ij|^2                                   (A^2).

F is the affine map that best explains the motion of the neighbourhood; D2min is what is left.
Lengths are in Angstrom throughout, D2min in A^2 (or A^2 per neighbour, see ``normalise``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from lipsglass.lammpsio import Box
from lipsglass.lammpsio import iter_dump, read_data
from lipsglass.neighbours import neighbour_lists
from lipsglass.rdf import first_shell

# First minimum of the Li-S g(r) of the Ariga et al. 70Li2S-30P2S5 model (reference data,
# ~500 K): peak at 2.45 A, broad minimum (g ~ 0.5 from 3.3 to 3.7 A) that
# ``cutoff_from_gr``/``lipsglass.rdf.first_shell`` places at 3.6 A. Within 3.5 A a Li there has
# on average 6.5 neighbours (4.8 S, 1.0 P, 0.7 Li) and never fewer than 3.
DEFAULT_CUTOFF = 3.6  # A

# An atom with exactly 3 non-coplanar neighbours is fitted exactly by the 9 affine parameters,
# so its D2min is 0 by construction rather than by measurement: by default we ask for 4.
DEFAULT_MIN_NEIGHBOURS = 4

NORMALISATIONS = ("none", "per-neighbour")


@dataclass
class D2minResult:
    """Per-centre D2min between two frames.

    ``d2min`` is in A^2 (``normalise="none"``) or A^2 per neighbour (``"per-neighbour"``), and
    is NaN where ``valid`` is False: fewer than ``min_neighbours`` neighbours, or neighbours
    that do not span 3D (singular Y). Invalid atoms are flagged, never given 0.
    """

    centres: np.ndarray       # indices into the position arrays
    d2min: np.ndarray         # A^2 or A^2/neighbour; NaN where not valid
    n_neighbours: np.ndarray  # neighbours within the cutoff in the reference frame
    valid: np.ndarray         # bool
    normalise: str


def cell_matrix(cell: Box | np.ndarray) -> np.ndarray:
    """Cell vectors as rows (A) of a ``Box`` or of a 3x3 array (any orientation allowed, e.g. a
    rotated cell that LAMMPS's lower-triangular convention cannot express)."""
    if isinstance(cell, Box):
        return cell.matrix
    matrix = np.asarray(cell, float)
    if matrix.shape != (3, 3):
        raise ValueError(f"a cell must be a Box or a 3x3 matrix of row vectors, got shape {matrix.shape}")
    if abs(np.linalg.det(matrix)) < 1e-12:
        raise ValueError("cell matrix is singular")
    return matrix


def _face_spacing(matrix: np.ndarray) -> np.ndarray:
    """Distances between opposite faces of the cell (A)."""
    return 1.0 / np.linalg.norm(np.linalg.inv(matrix), axis=0)


def _check_positions(ref: np.ndarray, cur: np.ndarray) -> None:
    if ref.ndim != 2 or ref.shape[1] != 3:
        raise ValueError(f"positions must have shape (N, 3), got {ref.shape}")
    if ref.shape != cur.shape:
        raise ValueError(f"reference and current frames differ in shape: {ref.shape} vs {cur.shape}")
    if not (np.all(np.isfinite(ref)) and np.all(np.isfinite(cur))):
        raise ValueError("positions contain NaN or inf")


def d2min(ref_box: Box, ref_positions: np.ndarray, cur_cell: Box | np.ndarray,
          cur_positions: np.ndarray, cutoff: float = DEFAULT_CUTOFF,
          centres: np.ndarray | None = None, normalise: str = "none", unwrapped: bool = False,
          min_neighbours: int = DEFAULT_MIN_NEIGHBOURS, rcond: float = 1e-10) -> D2minResult:
    """Falk-Langer D2min of each centre atom between a reference and a current frame.

    ref_box, ref_positions: reference cell and (N, 3) positions (A); neighbours (all atoms)
        are those within ``cutoff`` (A) of each centre in this frame, minimum image.
    cur_cell, cur_positions: current cell (``Box`` or 3x3 row-vector matrix, may differ from
        the reference, e.g. under deformation) and positions of the same atoms, same order.
    centres: indices of the atoms to evaluate (default: all).
    normalise: ``"none"`` (the plain Falk-Langer sum, A^2) or ``"per-neighbour"`` (divided
        by the neighbour count, A^2). This is the only place normalisation happens.
    unwrapped: True if both frames are unwrapped coordinates of one continuous trajectory. Each
        current vector is then r_ij = u_j - u_i + n_ij H_cur with the lattice image n_ij found in
        the reference frame, which is unambiguous however far atoms have moved. Otherwise the
        current vector is the minimum image of the current separation, which requires the
        cutoff to be below half the smallest face spacing of both cells.
    min_neighbours: atoms with fewer neighbours are flagged invalid (must be >= 3).
    rcond: Y is treated as singular when its smallest/largest eigenvalue ratio is below this.
    """
    if normalise not in NORMALISATIONS:
        raise ValueError(f"normalise must be one of {NORMALISATIONS}, got {normalise!r}")
    if not cutoff > 0:
        raise ValueError(f"cutoff must be positive, got {cutoff}")
    if min_neighbours < 3:
        raise ValueError("min_neighbours must be >= 3: fewer neighbours cannot fix a 3D affine map")
    ref = np.asarray(ref_positions, float)
    cur = np.asarray(cur_positions, float)
    _check_positions(ref, cur)
    n_atoms = len(ref)
    h_ref = ref_box.matrix
    h_cur = cell_matrix(cur_cell)
    if centres is None:
        centres = np.arange(n_atoms)
    centres = np.asarray(centres, dtype=np.int64)
    if centres.ndim != 1 or (len(centres) and (centres.min() < 0 or centres.max() >= n_atoms)):
        raise ValueError(f"centres must be a 1D array of indices in [0, {n_atoms})")
    if len(np.unique(centres)) != len(centres):
        raise ValueError("centres contain duplicates")
    if not unwrapped:
        half = 0.5 * min(_face_spacing(h_ref).min(), _face_spacing(h_cur).min())
        if cutoff >= half:
            raise ValueError(f"cutoff {cutoff} A is not below half the cell ({half:.3f} A): minimum-image "
                             "current vectors would be ambiguous; pass unwrapped coordinates")

    ci, nj, r0 = neighbour_lists(ref_box, ref, cutoff, centres=centres)
    if unwrapped:
        # lattice image of each pair in the reference frame, carried to the current cell
        images = np.rint((r0 - (ref[nj] - ref[ci])) @ np.linalg.inv(h_ref))
        r = cur[nj] - cur[ci] + images @ h_cur
    else:
        frac = (cur[nj] - cur[ci]) @ np.linalg.inv(h_cur)
        r = (frac - np.rint(frac)) @ h_cur

    row = np.full(n_atoms, -1, dtype=np.int64)
    row[centres] = np.arange(len(centres))
    pair_row = row[ci]
    m = len(centres)
    n_neigh = np.bincount(pair_row, minlength=m)
    x_sum = np.zeros((m, 3, 3))
    y_sum = np.zeros((m, 3, 3))
    np.add.at(x_sum, pair_row, np.einsum("pa,pb->pab", r, r0))
    np.add.at(y_sum, pair_row, np.einsum("pa,pb->pab", r0, r0))

    valid = n_neigh >= min_neighbours
    if np.any(valid):
        # coplanar/collinear neighbourhoods make Y (symmetric PSD) singular
        eig = np.linalg.eigvalsh(y_sum[valid])
        well = eig[:, 0] > rcond * eig[:, -1]
        valid[np.flatnonzero(valid)[~well]] = False
    f = np.zeros((m, 3, 3))
    if np.any(valid):
        # F = X Y^-1  <=>  F^T = Y^-1 X^T (Y symmetric): batched 3x3 solves
        f[valid] = np.swapaxes(np.linalg.solve(y_sum[valid], np.swapaxes(x_sum[valid], 1, 2)), 1, 2)
    residual = r - np.einsum("pab,pb->pa", f[pair_row], r0)
    value = np.bincount(pair_row, weights=np.einsum("pa,pa->p", residual, residual), minlength=m)
    if normalise == "per-neighbour":
        value = value / np.maximum(n_neigh, 1)
    value[~valid] = np.nan
    return D2minResult(centres=centres, d2min=value, n_neighbours=n_neigh, valid=valid, normalise=normalise)


def cutoff_from_gr(r: np.ndarray, g: np.ndarray, **kwargs) -> float:
    """D2min neighbour cutoff (A) = first minimum of a Li-X g(r) table, located by the project's
    ``lipsglass.rdf.first_shell`` (keyword arguments are passed on). Raises ValueError if the
    g(r) has no first minimum."""

    r_min = first_shell(np.asarray(r, float), np.asarray(g, float), **kwargs)["r_min"]
    if not np.isfinite(r_min):
        raise ValueError("g(r) has no first minimum after its first peak")
    return float(r_min)


@dataclass
class WindowDynamics:
    """Rearrangement statistics of one time window (frames 0..K).

    d_cum: sum over the K increments k -> k+1 of D2min (units as ``normalise``), NaN for atoms
        invalid (under-coordinated or singular) in any increment; ``n_invalid`` counts those
        increments per atom, so no atom is dropped silently.
    displacement: (n_centres, 3) displacement over the window (A).
    hop_fraction: fraction of centres with |displacement| > hop_distance.
    """

    centres: np.ndarray
    d_cum: np.ndarray
    n_invalid: np.ndarray
    displacement: np.ndarray
    hop_distance: float
    hop_fraction: float
    normalise: str


def _frame_arrays(boxes: Sequence[Box], positions) -> np.ndarray:
    pos = np.asarray(positions, float)
    if pos.ndim != 3 or pos.shape[2] != 3:
        raise ValueError(f"positions must have shape (n_frames, N, 3), got {pos.shape}")
    if len(boxes) != len(pos):
        raise ValueError(f"{len(boxes)} boxes for {len(pos)} frames")
    if len(pos) < 2:
        raise ValueError("a window needs at least two frames")
    return pos


def cumulative_d2min(boxes: Sequence[Box], positions, cutoff: float = DEFAULT_CUTOFF,
                     centres: np.ndarray | None = None, normalise: str = "none",
                     unwrapped: bool = False, min_neighbours: int = DEFAULT_MIN_NEIGHBOURS
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """D_cum = sum_k D2min(frame k -> frame k+1) over a window of frames.

    boxes: one ``Box`` per frame; positions: (n_frames, N, 3) in A (unwrapped if ``unwrapped``).
    Each increment uses frame k as its own reference (neighbours re-found every increment), so
    D_cum accumulates the non-affine motion of small steps rather than one long-lag D2min.
    Returns (centres, d_cum, n_invalid): d_cum NaN where any increment was invalid.
    """
    pos = _frame_arrays(boxes, positions)
    total = None
    n_invalid = None
    for k in range(len(pos) - 1):
        res = d2min(boxes[k], pos[k], boxes[k + 1], pos[k + 1], cutoff=cutoff, centres=centres,
                    normalise=normalise, unwrapped=unwrapped, min_neighbours=min_neighbours)
        if total is None:
            total = np.zeros(len(res.centres))
            n_invalid = np.zeros(len(res.centres), dtype=np.int64)
            centres = res.centres
        total += np.where(res.valid, res.d2min, 0.0)
        n_invalid += ~res.valid
    d_cum = np.where(n_invalid > 0, np.nan, total)
    return centres, d_cum, n_invalid


def window_displacements(boxes: Sequence[Box], positions, centres: np.ndarray | None = None,
                         unwrapped: bool = False) -> np.ndarray:
    """Displacement (A) of each centre between the first and last frame of a window.

    With unwrapped coordinates it is u_last - u_first; with wrapped ones it is the sum of the
    minimum-image frame-to-frame increments (exact while no atom moves half a cell per frame).
    """
    pos = _frame_arrays(boxes, positions)
    idx = np.arange(pos.shape[1]) if centres is None else np.asarray(centres, np.int64)
    if unwrapped:
        return pos[-1, idx] - pos[0, idx]
    total = np.zeros((len(idx), 3))
    for k in range(len(pos) - 1):
        frac = (pos[k + 1, idx] - pos[k, idx]) @ np.linalg.inv(boxes[k + 1].matrix)
        total += (frac - np.rint(frac)) @ boxes[k + 1].matrix
    return total


def hop_fraction(displacement: np.ndarray, hop_distance: float = 2.0) -> float:
    """Fraction of atoms whose displacement magnitude exceeds ``hop_distance`` (A)."""
    d = np.asarray(displacement, float)
    if d.ndim != 2 or d.shape[1] != 3 or len(d) == 0:
        raise ValueError("displacement must have shape (n, 3) with n > 0")
    if not hop_distance > 0:
        raise ValueError("hop_distance must be positive")
    return float(np.mean(np.linalg.norm(d, axis=1) > hop_distance))


def analyse_window(boxes: Sequence[Box], positions, centres: np.ndarray | None = None,
                   cutoff: float = DEFAULT_CUTOFF, normalise: str = "none", unwrapped: bool = False,
                   hop_distance: float = 2.0, min_neighbours: int = DEFAULT_MIN_NEIGHBOURS) -> WindowDynamics:
    """D_cum, window displacement and hop fraction of the centres over one window of frames
    (see ``cumulative_d2min`` and ``window_displacements``)."""
    centres, d_cum, n_invalid = cumulative_d2min(boxes, positions, cutoff, centres, normalise,
                                                 unwrapped, min_neighbours)
    disp = window_displacements(boxes, positions, centres, unwrapped)
    return WindowDynamics(centres=centres, d_cum=d_cum, n_invalid=n_invalid, displacement=disp,
                          hop_distance=hop_distance, hop_fraction=hop_fraction(disp, hop_distance),
                          normalise=normalise)


MOBILE, IMMOBILE, UNLABELLED = 1, 0, -1


def mobility_thresholds(d_cum: np.ndarray, upper: float = 0.9, lower: float = 0.1,
                        mode: str = "quantile") -> tuple[float, float]:
    """(lower, upper) D_cum thresholds. ``mode="quantile"``: ``upper``/``lower`` are quantiles
    (0-1) of the finite D_cum values given (pool windows before calling); ``"absolute"``:
    they are D_cum values themselves (same units as D_cum)."""
    d = np.asarray(d_cum, float)
    finite = d[np.isfinite(d)]
    if mode == "quantile":
        if not (0.0 <= lower <= upper <= 1.0):
            raise ValueError(f"quantiles must satisfy 0 <= lower <= upper <= 1, got {lower}, {upper}")
        if len(finite) == 0:
            raise ValueError("no finite D_cum values to take quantiles of")
        return float(np.quantile(finite, lower)), float(np.quantile(finite, upper))
    if mode == "absolute":
        if lower > upper:
            raise ValueError(f"lower threshold {lower} exceeds upper {upper}")
        return float(lower), float(upper)
    raise ValueError(f"mode must be 'quantile' or 'absolute', got {mode!r}")


def label_mobility(d_cum: np.ndarray, upper: float = 0.9, lower: float = 0.1,
                   mode: str = "quantile") -> tuple[np.ndarray, tuple[float, float]]:
    """Mobility labels from D_cum: 1 mobile (D_cum > upper threshold), 0 immobile
    (D_cum < lower threshold), -1 unlabelled (in between, or NaN D_cum, i.e. an invalid
    D2min in the window). Returns (labels, (lower_threshold, upper_threshold))."""
    d = np.asarray(d_cum, float)
    lo, hi = mobility_thresholds(d, upper, lower, mode)
    labels = np.full(len(d), UNLABELLED, dtype=np.int64)
    finite = np.isfinite(d)
    labels[finite & (d > hi)] = MOBILE
    labels[finite & (d < lo)] = IMMOBILE
    return labels, (lo, hi)


# --- command line ----------------------------------------------------------------------------

def read_frame(path: str, type_elements: list[str] | None):
    """(box, ids, elements, positions, is_unwrapped) of a dump's first frame or a data file,
    sorted by atom id; positions are unwrapped when the file allows it."""

    with open(path) as fh:
        head = fh.readline()
    if head.startswith("ITEM:"):
        frame = next(iter_dump(path), None)
        if frame is None:
            raise ValueError(f"{path}: no frame")
        mapping = {k + 1: e for k, e in enumerate(type_elements)} if type_elements else None
        elements = frame.elements(mapping)
        if frame.has("xu", "yu", "zu") or frame.has("ix", "iy", "iz"):
            return frame.box, frame.ids, elements, frame.unwrapped_positions(), True
        return frame.box, frame.ids, elements, frame.positions(), False
    data = read_data(path)
    order = np.argsort(data.ids)
    if type_elements:
        elements = np.array([type_elements[t - 1] for t in data.types])
    else:
        elements = data.elements()
    if data.images is not None:
        return data.box, data.ids[order], elements[order], data.unwrapped_positions()[order], True
    return data.box, data.ids[order], elements[order], data.positions[order], False
