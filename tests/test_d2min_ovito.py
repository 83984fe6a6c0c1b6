"""D2min against an independent implementation: OVITO's AtomicStrainModifier (Falk-Langer
non-affine squared displacement, same cutoff, same reference frame, periodic cell)."""

import numpy as np
import pytest

from lipsglass.d2min import d2min
from lipsglass.lammpsio import Box
from lipsglass.oracles.ovito_d2min import ovito_d2min

ovito = pytest.importorskip("ovito", reason="OVITO is not installed (make setup installs envs/requirements-checks.txt)")


@pytest.mark.parametrize("tilt", [(0.0, 0.0, 0.0), (1.5, -1.0, 0.8)])
def test_d2min_equals_ovito(tilt):
    rng = np.random.default_rng(11)
    box = Box(np.array([0.0, 0.0, 0.0]), np.array([14.0, 15.0, 16.0]), np.array(tilt))
    # a dense random liquid-like configuration (no near overlaps) and a noisy, strained copy
    frac = rng.uniform(0, 1, (500, 3))
    ref = box.wrap(frac @ box.matrix)
    cur = ref + rng.normal(0, 0.15, ref.shape)     # unwrapped current positions, same cell
    cutoff = 3.6
    ours = d2min(box, ref, box, cur, cutoff=cutoff, normalise="none", unwrapped=True, min_neighbours=3)
    theirs = ovito_d2min(box, ref, box.wrap(cur), cutoff)
    valid = ours.valid
    assert valid.sum() > 450
    np.testing.assert_allclose(ours.d2min[valid], theirs[ours.centres[valid]], rtol=1e-6, atol=1e-12)
