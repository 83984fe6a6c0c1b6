"""The one neighbour search: periodic pairs against brute force, for orthogonal and tilted cells."""

import itertools

import numpy as np
import pytest

from lipsglass.lammpsio import Box
from lipsglass.neighbours import _pairs_triclinic, nearest_site, neighbour_lists, neighbour_pairs


def brute_force_count(box: Box, x: np.ndarray, cutoff: float) -> int:
    """Pairs i < j (and self-images) over all periodic images within 2 cells."""
    count = 0
    shifts = np.array(list(itertools.product(range(-2, 3), repeat=3))) @ box.matrix
    for a in range(len(x)):
        d = np.linalg.norm(x[None, a:, :] + shifts[:, None, :] - x[a], axis=2)  # images of b >= a
        d[:, 0][np.all(shifts == 0, axis=1)] = np.inf  # the atom itself
        count += int((d < cutoff).sum())
    # self-image pairs were counted twice (+s and -s)
    self_pairs = sum(int((np.linalg.norm(shifts, axis=1)[np.any(shifts != 0, axis=1)] < cutoff).sum()) for _ in x)
    return count - self_pairs // 2


@pytest.mark.parametrize("tilt", [(0.0, 0.0, 0.0), (2.0, 1.0, -1.5)])
@pytest.mark.parametrize("cutoff", [2.5, 5.0, 6.5])
def test_pairs_match_brute_force(tilt, cutoff):
    rng = np.random.default_rng(7)
    box = Box(np.array([1.0, -2.0, 0.5]), np.array([11.0, 9.0, 12.5]), np.array(tilt))
    x = box.wrap(rng.uniform(-5, 15, (60, 3)))
    i, j, vec = neighbour_pairs(box, x, cutoff)
    assert len(i) == brute_force_count(box, x, cutoff)
    assert np.all(np.linalg.norm(vec, axis=1) < cutoff)


def test_half_cell_cutoff_uses_the_fast_path_and_agrees():
    rng = np.random.default_rng(3)
    box = Box(np.zeros(3), np.array([12.0, 13.0, 14.0]))
    x = rng.uniform(0, 1, (400, 3)) * box.lengths
    r = box.lengths.min() / 2
    i, j, _ = neighbour_pairs(box, x, r)
    ti, tj, _ = _pairs_triclinic(box, x, r, None)
    assert sorted(zip(i, j)) == sorted(zip(np.minimum(ti, tj), np.maximum(ti, tj)))


def test_neighbour_lists_are_symmetric():
    rng = np.random.default_rng(5)
    box = Box(np.zeros(3), np.full(3, 10.0))
    x = rng.uniform(0, 10, (100, 3))
    ci, nj, v = neighbour_lists(box, x, 3.0)
    pairs = set(zip(ci, nj))
    assert all((b, a) in pairs for a, b in pairs)
    assert np.allclose(v, box.minimum_image(x[nj] - x[ci]))


@pytest.mark.parametrize("tilt", [(0.0, 0.0, 0.0), (2.0, 1.0, -1.5)])
def test_nearest_site_matches_all_images(tilt):
    """Nearest site over all periodic images (brute force over 5^3 image shifts), for points
    outside the cell too: the orthogonal KD-tree path and the triclinic path agree with it."""
    rng = np.random.default_rng(11)
    box = Box(np.array([1.0, -2.0, 0.5]), np.array([11.0, 9.0, 12.5]), np.array(tilt))
    sites = box.wrap(rng.uniform(-5, 15, (40, 3)))
    x = rng.uniform(-8, 20, (200, 3))
    shifts = np.array(list(itertools.product(range(-2, 3), repeat=3))) @ box.matrix
    d = np.linalg.norm(x[:, None, None, :] - sites[None, :, None, :] - shifts[None, None, :, :], axis=-1).min(axis=2)
    assert np.array_equal(nearest_site(box, sites, x), np.argmin(d, axis=1))
