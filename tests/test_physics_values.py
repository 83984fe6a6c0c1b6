"""Value tests with answers derived by hand: the per-neighbour D2min (the default normalisation)
and the mass-weighted centre-of-mass drift removal of the transport reader."""

import numpy as np
import pytest

from lipsglass.d2min import d2min
from lipsglass.lammpsio import ELEMENT_MASSES, Box, write_dump_frame
from lipsglass.transport.diffusion import diffusion_from_positions
from lipsglass.transport.trajectory import read_species_trajectory

# One neighbour k of an isolated shell moved by delta: F = I + delta r0_k^T Y^-1 and
# D2min = |delta|^2 (1 - h_kk), h_kk = r0_k^T Y^-1 r0_k (the leverage of k).
#   octahedron (6 at +-a e_x,y,z): Y = 2 a^2 I, h = 1/2  -> D2min = |delta|^2 / 2,   / 6 per neighbour
#   cube (8 at (+-a, +-a, +-a)):   Y = 8 a^2 I, h = 3/8  -> D2min = 5 |delta|^2 / 8, / 8 per neighbour
SHELLS = {
    "octahedron": (2.5 * np.vstack([np.eye(3), -np.eye(3)]), 0.5, 6),
    "cube": (2.0 * np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float), 5 / 8, 8),
}


@pytest.mark.parametrize("shape", sorted(SHELLS))
@pytest.mark.parametrize("normalise", ["none", "per-neighbour"])
def test_d2min_of_one_moved_neighbour(shape, normalise):
    shell, fraction, n = SHELLS[shape]
    centre = np.array([15.0, 15.0, 15.0])
    box = Box(np.zeros(3), np.full(3, 30.0))     # the shell is alone: no other atom within the cutoff
    ref = np.vstack([centre, centre + shell])
    delta = np.array([0.3, -0.2, 0.1])
    cur = ref.copy()
    cur[1] += delta
    res = d2min(box, ref, box, cur, cutoff=3.6, centres=np.array([0]), normalise=normalise)
    expected = fraction * delta @ delta / (n if normalise == "per-neighbour" else 1)
    assert res.n_neighbours[0] == n and res.valid[0]
    assert res.d2min[0] == pytest.approx(expected, rel=1e-10)


def test_per_neighbour_d2min_is_the_sum_over_the_count():
    shell, _, n = SHELLS["cube"]
    rng = np.random.default_rng(3)
    ref = np.vstack([np.full(3, 15.0), 15.0 + shell + rng.normal(0, 0.05, shell.shape)])
    cur = ref + rng.normal(0, 0.1, ref.shape)
    box = Box(np.zeros(3), np.full(3, 30.0))
    plain = d2min(box, ref, box, cur, cutoff=3.6, centres=np.array([0]), normalise="none").d2min[0]
    per = d2min(box, ref, box, cur, cutoff=3.6, centres=np.array([0]), normalise="per-neighbour").d2min[0]
    assert plain > 0 and per == pytest.approx(plain / n, rel=1e-12)


def test_centre_of_mass_removal_is_mass_weighted(tmp_path):
    """Li and S drift in opposite directions with zero total momentum: the mass-weighted centre
    of mass stays put, so the Li MSD is that of the Li drift itself, |v_Li t|^2. A number-weighted
    centre would move and give a different MSD."""
    n_li, n_s = 12, 8
    m_li, m_s = ELEMENT_MASSES["Li"], ELEMENT_MASSES["S"]
    v_li = np.array([0.3, 0.0, -0.1])                       # A per frame
    v_s = -n_li * m_li * v_li / (n_s * m_s)                 # zero total momentum
    rng = np.random.default_rng(5)
    start = rng.uniform(2, 18, (n_li + n_s, 3))
    elements = np.array(["Li"] * n_li + ["S"] * n_s)
    box = Box(np.zeros(3), np.full(3, 20.0))
    path = tmp_path / "drift.lammpstrj"
    n_frames = 21
    with open(path, "w") as fh:
        for t in range(n_frames):
            pos = start + t * np.where((elements == "Li")[:, None], v_li, v_s)
            write_dump_frame(fh, 10 * t, box, {"id": np.arange(1, n_li + n_s + 1), "element": elements,
                                               "xu": pos[:, 0], "yu": pos[:, 1], "zu": pos[:, 2]})
    traj = read_species_trajectory(path, "Li", dt_ps=0.1)
    np.testing.assert_allclose(traj.com - traj.com[0], 0.0, atol=1e-6)      # momentum conserved (dump: 10 digits)
    number_weighted = (n_li * v_li + n_s * v_s) / (n_li + n_s)
    assert np.linalg.norm(number_weighted) > 0.05                           # the wrong choice would differ
    corrected = traj.positions - (traj.com - traj.com[0])[:, None, :]
    lag = np.arange(n_frames)
    msd = np.array([np.mean(np.sum((corrected[k] - corrected[0]) ** 2, axis=1)) for k in lag])
    np.testing.assert_allclose(msd, (lag * np.linalg.norm(v_li)) ** 2, rtol=1e-6, atol=1e-6)

    # and with a rigid translation of everything added, it is removed exactly
    drift = np.array([0.05, 0.02, 0.0])
    result_plain = diffusion_from_positions(traj.positions, 0.1, traj.com, fit_start_ps=0.2, fit_end_ps=1.0,
                                            n_blocks=4, n_bootstrap=20)
    shifted = traj.positions + (lag * 1.0)[:, None, None] * drift
    com_shifted = traj.com + (lag * 1.0)[:, None] * drift
    result_shifted = diffusion_from_positions(shifted, 0.1, com_shifted, fit_start_ps=0.2, fit_end_ps=1.0,
                                              n_blocks=4, n_bootstrap=20)
    assert result_shifted.D_cm2_s == pytest.approx(result_plain.D_cm2_s, rel=1e-9)
