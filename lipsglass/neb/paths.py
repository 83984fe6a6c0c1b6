"""Starting paths of a NEB band between two minimised end states, and the refined band.

3. **Starting path.** Image-dependent pair potential (IDPP, Smidstrup et al. 2014) images
   between the minimised end states, one coordinates file per image (``neb ... each``): the
   straight line pushes the hopping Li through S atoms (0.5 A apart), which crashed LAMMPS.
   ``refined_path`` doubles a relaxed band (midpoints inserted) for the refinement test.

Units: lengths A.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from lipsglass.lammpsio import Box
from lipsglass.neighbours import neighbour_pairs


def linear_path(box: Box, initial: np.ndarray, final: np.ndarray, n_images: int) -> np.ndarray:
    """(n_images, N, 3) positions interpolated linearly (minimum image) from initial to final."""
    x0 = np.asarray(initial, float)
    d = box.minimum_image(np.asarray(final, float) - x0)
    t = np.linspace(0.0, 1.0, int(n_images))
    return x0[None] + t[:, None, None] * d[None]


def idpp_path(box: Box, initial: np.ndarray, final: np.ndarray, n_images: int, cutoff_A: float = 6.0,
              max_iterations: int = 1000, gtol: float = 1e-4) -> np.ndarray:
    """Image-dependent pair potential (IDPP) starting path (Smidstrup et al., J. Chem. Phys. 140,
    214106 (2014)), (n_images, N, 3) in A.

    Image k (t = k / (n_images - 1)) minimises S_k(x) = sum_{pairs} w(d*) (d_ij(x) - d*_ij)^2
    with the target distances d*_ij = (1 - t) d_ij(initial) + t d_ij(final) interpolated for
    every pair closer than ``cutoff_A`` in either end state, and w = d*^-4, so close pairs (an
    atom pushed through another on the straight line) dominate. Each image is relaxed
    independently (L-BFGS) from the linear interpolation; the ends are the given states.
    Positions need not be wrapped; the result is continuous with ``initial`` (no wrapping).
    ``cutoff_A`` 0 returns the linear path.
    """
    path = linear_path(box, initial, final, n_images)
    if cutoff_A <= 0 or n_images < 3:
        return path
    x0, x1 = path[0], path[-1]
    pairs = set()
    for x in (x0, x1):
        i, j, _ = neighbour_pairs(box, box.wrap(x), float(cutoff_A))
        pairs.update(zip(np.minimum(i, j).tolist(), np.maximum(i, j).tolist()))
    if not pairs:
        return path
    pi, pj = np.array(sorted(pairs)).T
    r0 = np.linalg.norm(box.minimum_image(x0[pj] - x0[pi]), axis=1)
    r1 = np.linalg.norm(box.minimum_image(x1[pj] - x1[pi]), axis=1)
    n = len(x0)
    for k in range(1, int(n_images) - 1):
        t = k / (n_images - 1)
        target = (1 - t) * r0 + t * r1
        w = target ** -4
        start = path[k]
        v0 = box.minimum_image(start[pj] - start[pi])  # pair vectors of the start, fixed image

        def objective(flat, v0=v0, target=target, w=w):
            u = flat.reshape(n, 3)
            v = v0 + u[pj] - u[pi]
            d = np.linalg.norm(v, axis=1)
            diff = d - target
            g_pair = (2 * w * diff / np.maximum(d, 1e-12))[:, None] * v
            grad = np.zeros((n, 3))
            np.add.at(grad, pj, g_pair)
            np.add.at(grad, pi, -g_pair)
            return float(np.sum(w * diff * diff)), grad.ravel()

        res = minimize(objective, np.zeros(3 * n), jac=True, method="L-BFGS-B",
                       options={"maxiter": int(max_iterations), "gtol": gtol})
        path[k] = start + res.x.reshape(n, 3)
    return path


def closest_approach(box: Box, path: np.ndarray, mover: int) -> float:
    """Smallest distance (A) between atom index ``mover`` and any other atom over the interior
    images of ``path`` (n_images, N, 3): how close the starting path pushes the hopping Li."""
    best = float("inf")
    for img in path[1:-1]:
        d = np.linalg.norm(box.minimum_image(img - img[mover]), axis=1)
        d[mover] = np.inf
        best = min(best, float(d.min()))
    return best


def refined_path(box: Box, band: np.ndarray) -> np.ndarray:
    """A band of 2R - 1 images: the R images of ``band`` with the (minimum-image) midpoint of
    every neighbouring pair inserted; images are made continuous with the first."""
    images = [np.asarray(band[0], float)]
    for nxt in band[1:]:
        prev = images[-1]
        cont = prev + box.minimum_image(np.asarray(nxt, float) - prev)
        images += [0.5 * (prev + cont), cont]
    return np.stack(images)
