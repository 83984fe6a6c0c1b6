"""D2min against ground truth: exact zero for affine maps, and a single displaced atom checked
against (a) an independent 9-parameter least-squares fit (numpy.linalg.lstsq over brute-force
O(N^2) neighbour lists) and (b) the closed forms derived below.

Derivation for one atom k moved by d (all others fixed, F = I would be exact without it):
* centre i != k with k among its neighbours: r_ik = r0_ik + d, so X = Y + d r0_ik^T and
  F = I + d r0_ik^T Y^-1. With the hat matrix h_jl = r0_j^T Y^-1 r0_l (symmetric, idempotent:
  sum_l h_jl^2 = h_jj) the residuals are d(1 - h_kk) for k and -d h_kj otherwise, so
  D2min(i) = |d|^2 [(1 - h_kk)^2 + h_kk - h_kk^2] = |d|^2 (1 - h_kk).
* the moved atom k itself: r_kj = r0_kj - d for all n neighbours; with s = sum_j r0_kj,
  F = I - d s^T Y^-1 and D2min(k) = |d|^2 sum_j (1 - s^T Y^-1 r0_j)^2 = |d|^2 (n - s^T Y^-1 s).
"""

from __future__ import annotations

import numpy as np
import pytest

from lipsglass.d2min import (IMMOBILE, MOBILE, UNLABELLED, analyse_window, cumulative_d2min, d2min,
                             hop_fraction, label_mobility, window_displacements)
from lipsglass.lammpsio import Box, write_dump_frame


def _random_config(n=240, seed=0, tilt=(0.0, 0.0, 0.0)):
    rng = np.random.default_rng(seed)
    box = Box(np.array([-1.0, 0.5, 2.0]), np.array([11.0, 13.5, 15.0]), np.array(tilt, float))
    frac = rng.random((n, 3))
    return box, box.lo + frac @ box.matrix


def _brute_neighbours(box, pos, cutoff):
    """All minimum-image pairs by direct O(N^2) evaluation (independent of the KD-tree)."""
    diff = pos[None, :, :] - pos[:, None, :]
    frac = diff @ np.linalg.inv(box.matrix)
    vec = (frac - np.rint(frac)) @ box.matrix
    dist = np.linalg.norm(vec, axis=2)
    np.fill_diagonal(dist, np.inf)
    return [np.flatnonzero(dist[i] < cutoff) for i in range(len(pos))], vec


def _lstsq_d2min(r0, r):
    """min over the 9 entries of F of sum_j |r_j - F r0_j|^2, as a linear least-squares problem
    A f = b with f = F.ravel() (row-major): row 3j+a of A holds r0_j in columns 3a..3a+2."""
    n = len(r0)
    a = np.zeros((3 * n, 9))
    for comp in range(3):
        a[comp::3, 3 * comp:3 * comp + 3] = r0
    b = r.reshape(-1)
    f, *_ = np.linalg.lstsq(a, b, rcond=None)
    return float(np.sum((b - a @ f) ** 2))


@pytest.mark.parametrize("tilt", [(0.0, 0.0, 0.0), (1.2, -0.8, 0.6)])
def test_affine_map_gives_zero_wrapped(tilt):
    # shear + dilation with F upper triangular keeps the LAMMPS lower-triangular cell form
    box, pos = _random_config(tilt=tilt)
    f = np.array([[1.08, 0.12, -0.05], [0.0, 0.95, 0.09], [0.0, 0.0, 1.03]])
    cur_cell = box.matrix @ f.T
    cur_box = Box(box.lo @ f.T, box.lo @ f.T + np.diag(cur_cell), np.array([cur_cell[1, 0], cur_cell[2, 0], cur_cell[2, 1]]))
    cur = cur_box.wrap(pos @ f.T)
    res = d2min(box, pos, cur_box, cur, cutoff=3.5, min_neighbours=3)
    assert res.valid.sum() > 0.9 * len(pos)
    assert np.all(res.valid == (res.n_neighbours >= 3))
    assert np.nanmax(res.d2min) < 1e-18
    assert np.all(np.isnan(res.d2min[~res.valid]))


def test_affine_map_with_rotation_gives_zero_unwrapped():
    box, pos = _random_config(seed=3, tilt=(0.7, 0.3, -0.4))
    rng = np.random.default_rng(5)
    # unwrapped input: shift atoms by whole cell vectors, as in a long trajectory
    unwrapped = pos + rng.integers(-3, 4, (len(pos), 3)) @ box.matrix
    th = 0.4
    rot = np.array([[np.cos(th), -np.sin(th), 0.0], [np.sin(th), np.cos(th), 0.0], [0.0, 0.0, 1.0]])
    f = rot @ np.array([[1.1, 0.15, 0.02], [-0.05, 0.92, 0.1], [0.04, 0.0, 1.06]])
    res = d2min(box, unwrapped, box.matrix @ f.T, unwrapped @ f.T, cutoff=3.5, unwrapped=True, min_neighbours=3)
    assert res.valid.sum() > 0.9 * len(pos)
    assert np.nanmax(res.d2min) < 1e-18
    # per-neighbour normalisation is the same sum divided by n
    per = d2min(box, unwrapped, box.matrix @ f.T, unwrapped @ f.T, cutoff=3.5, unwrapped=True,
                normalise="per-neighbour", min_neighbours=3)
    assert np.nanmax(per.d2min) < 1e-18


@pytest.mark.parametrize("unwrapped", [False, True])
def test_single_displaced_atom(unwrapped):
    box, pos = _random_config(n=200, seed=7, tilt=(0.9, 0.0, -0.5))
    cutoff = 3.8
    neigh, vec = _brute_neighbours(box, pos, cutoff)
    # pick an atom with a well-populated neighbourhood
    k = int(np.argmax([len(v) for v in neigh]))
    d = np.array([0.31, -0.22, 0.17])
    cur = pos.copy()
    cur[k] += d
    if not unwrapped:
        cur = box.wrap(cur)
    res = d2min(box, pos, box, cur, cutoff=cutoff, unwrapped=unwrapped, min_neighbours=3)
    np.testing.assert_array_equal(res.n_neighbours, [len(v) for v in neigh])

    affected = set(neigh[k].tolist()) | {k}
    for i in range(len(pos)):
        if not res.valid[i]:
            assert len(neigh[i]) < 3 or np.isnan(res.d2min[i])
            continue
        r0 = vec[i, neigh[i]]
        r = r0.copy()
        if i == k:
            r = r0 - d
        elif k in neigh[i]:
            r[list(neigh[i]).index(k)] += d
        expected = _lstsq_d2min(r0, r)
        if i not in affected:
            assert res.d2min[i] < 1e-24
            continue
        y_inv = np.linalg.inv(r0.T @ r0)
        if i == k:
            s = r0.sum(axis=0)
            closed = d @ d * (len(r0) - s @ y_inv @ s)
        else:
            rk = vec[i, k]
            closed = d @ d * (1.0 - rk @ y_inv @ rk)
        assert expected == pytest.approx(closed, rel=1e-9, abs=1e-14)
        assert res.d2min[i] == pytest.approx(expected, rel=1e-9, abs=1e-14)
    assert res.d2min[k] > 0.01  # the moved atom's value is a real, non-trivial number


def test_under_coordinated_atoms_are_flagged_not_zero():
    box = Box(np.zeros(3), np.full(3, 20.0))
    # an isolated pair and a planar square: both have singular Y
    pos = np.array([[1.0, 1.0, 1.0], [2.0, 1.0, 1.0],
                    [10.0, 10.0, 10.0], [11.0, 10.0, 10.0], [10.0, 11.0, 10.0], [11.0, 11.0, 10.0],
                    [10.5, 10.5, 10.0]])
    res = d2min(box, pos, box, pos + 0.01, cutoff=1.5, min_neighbours=3)
    assert not res.valid.any()
    assert np.all(np.isnan(res.d2min))
    assert res.n_neighbours[6] == 4  # enough neighbours, but coplanar
    with pytest.raises(ValueError):
        d2min(box, pos, box, pos, cutoff=1.5, normalise="bogus")
    with pytest.raises(ValueError):
        d2min(box, pos, box, pos[:-1], cutoff=1.5)
    with pytest.raises(ValueError):
        d2min(box, pos, box, pos, cutoff=12.0)  # ambiguous minimum image without unwrapping


def test_cumulative_d2min_and_labels():
    box, pos = _random_config(n=200, seed=11)
    rng = np.random.default_rng(2)
    n_frames = 4
    # homogeneous affine drift plus thermal-like noise on a chosen "mobile" set only
    mobile = np.arange(0, 200, 10)
    frames = [pos]
    for _ in range(n_frames - 1):
        nxt = frames[-1] * 1.001
        noise = np.zeros_like(pos)
        noise[mobile] = rng.normal(0.0, 0.15, (len(mobile), 3))
        frames.append(nxt + noise)
    boxes = [Box(box.lo * 1.001 ** k, box.hi * 1.001 ** k) for k in range(n_frames)]
    frames = np.array(frames)
    centres, d_cum, n_invalid = cumulative_d2min(boxes, frames, cutoff=3.8, unwrapped=True, min_neighbours=3)
    # D_cum equals the sum of the single-increment values
    manual = sum(d2min(boxes[k], frames[k], boxes[k + 1], frames[k + 1], cutoff=3.8, unwrapped=True,
                       min_neighbours=3).d2min for k in range(n_frames - 1))
    np.testing.assert_allclose(d_cum, manual, rtol=1e-12)
    assert np.all(np.isnan(d_cum) == (n_invalid > 0))
    labels, (lo, hi) = label_mobility(d_cum, upper=0.9, lower=0.5)
    finite = np.isfinite(d_cum)
    assert np.all(labels[~finite] == UNLABELLED)
    assert np.all(d_cum[labels == MOBILE] > hi) and np.all(d_cum[labels == IMMOBILE] < lo)
    # the top decile is mostly the noisy set itself: a moved atom's own D2min,
    # |d|^2 (n - s^T Y^-1 s), dwarfs what it induces in a neighbour, |d|^2 (1 - h_kk) < |d|^2
    # (a neighbour of several noisy atoms can still make the cut)
    labelled_mobile = set(np.flatnonzero(labels == MOBILE).tolist())
    assert len(labelled_mobile & set(mobile.tolist())) >= 0.8 * len(labelled_mobile)
    # atoms with no noisy atom within the cutoff did not move non-affinely at all
    quiet = np.ones(len(pos), bool)
    for k in range(n_frames - 1):
        quiet &= d2min(boxes[k], frames[k], boxes[k + 1], frames[k + 1], cutoff=3.8, unwrapped=True,
                       min_neighbours=3).d2min < 1e-20
    assert quiet.sum() > 0 and np.all(labels[quiet & finite] != MOBILE)
    labels_abs, th = label_mobility(d_cum, upper=1e-3, lower=1e-20, mode="absolute")
    assert th == (1e-20, 1e-3)
    with pytest.raises(ValueError):
        label_mobility(d_cum, upper=0.1, lower=0.9)
    # wrapped frames give the same displacements as unwrapped ones
    wrapped = np.array([b.wrap(f) for b, f in zip(boxes, frames)])
    np.testing.assert_allclose(window_displacements(boxes, wrapped), frames[-1] - frames[0], atol=1e-9)
    win = analyse_window(boxes, frames, cutoff=3.8, unwrapped=True, hop_distance=0.2, min_neighbours=3)
    assert win.hop_fraction == hop_fraction(frames[-1] - frames[0], 0.2)


def test_hop_fraction():
    disp = np.array([[2.5, 0.0, 0.0], [0.0, 1.0, 0.0], [1.5, 1.5, 0.0], [0.0, 0.0, -3.0]])
    assert hop_fraction(disp, 2.0) == 0.75  # |(1.5,1.5,0)| = 2.12 > 2


def test_cli_d2min(tmp_path, capsys):
    from lipsglass.cli import main

    box, pos = _random_config(n=150, seed=4)
    elements = np.where(np.arange(150) % 3 == 0, "Li", "S")
    cur = pos.copy()
    cur[5] += [0.4, 0.0, -0.2]
    ids = np.arange(1, 151)
    for name, p in (("ref.dump", pos), ("cur.dump", box.wrap(cur))):
        with open(tmp_path / name, "w") as fh:
            write_dump_frame(fh, 0, box, {"id": ids, "element": elements, "x": p[:, 0], "y": p[:, 1], "z": p[:, 2]})
    assert main(["d2min", str(tmp_path / "ref.dump"), str(tmp_path / "cur.dump"), "--cutoff", "3.8",
                 "--min-neighbours", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "id,d2min_A2,n_neighbours"
    rows = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    li = np.flatnonzero(elements == "Li")
    np.testing.assert_array_equal(rows[:, 0], ids[li])
    res = d2min(box, pos, box, box.wrap(cur), cutoff=3.8, centres=li, min_neighbours=3)
    np.testing.assert_allclose(rows[:, 1], res.d2min, rtol=1e-8, atol=1e-12)
