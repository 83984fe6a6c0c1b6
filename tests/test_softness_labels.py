"""Hop labels (p_hop), their window statistic and label persistence against constructed cases
with known answers."""

import math

import numpy as np
import pytest

from lipsglass.d2min import IMMOBILE, MOBILE, label_mobility
from lipsglass.core.stats import intraclass_correlation
from lipsglass.softness.labels import label_persistence, p_hop, p_hop_half_frames, window_maximum
from lipsglass.softness.settings import SoftnessSettings


def brute_p_hop(x, t, h):
    a, b = x[t - h:t + 1], x[t:t + h + 1]
    return math.sqrt(np.mean(np.sum((a - b.mean(0)) ** 2, axis=1)) * np.mean(np.sum((b - a.mean(0)) ** 2, axis=1)))


def test_p_hop_of_a_single_hop_is_exact():
    """An atom at rest at the origin for frames 0-9 and at (d, 0, 0) from frame 10 on: with
    h = 3, p_hop is sqrt(27)/8 d^2 at frames 9 and 10 (the hop lies inside both intervals
    unevenly), 0 where both intervals see one site, NaN within h of the ends."""
    d, h = 2.5, 3
    x = np.zeros((20, 2, 3))
    x[10:, 0, 0] = d
    ph = p_hop(x, h)
    assert np.all(np.isnan(ph[:h])) and np.all(np.isnan(ph[-h:]))
    expected = math.sqrt(27) / 8 * d ** 2
    assert ph[9, 0] == pytest.approx(expected, rel=1e-12) and ph[10, 0] == pytest.approx(expected, rel=1e-12)
    for t in (3, 4, 5, 6, 13, 14, 15, 16):
        assert ph[t, 0] == pytest.approx(0.0, abs=1e-12)
    assert np.allclose(ph[h:-h, 1], 0.0, atol=1e-12)  # the atom that never moves
    assert np.nanargmax(ph[:, 0]) in (9, 10)


def test_p_hop_matches_the_definition_on_random_paths():
    rng = np.random.default_rng(4)
    x = np.cumsum(rng.normal(size=(30, 5, 3)), axis=0)
    h = 4
    ph = p_hop(x, h)
    for t in range(h, 30 - h):
        for i in range(5):
            assert ph[t, i] == pytest.approx(brute_p_hop(x[:, i], t, h), rel=1e-9)


def test_hop_labels_on_a_trajectory_with_known_hops():
    """30 atoms vibrate (0.05 A per component) about their sites; atoms 0-2 hop 3 A at frames
    7, 18 and 27. Windows of 5 frames from frame 0: window maxima of p_hop (h = 2) label exactly
    the hop windows mobile; every other atom-window is immobile."""
    rng = np.random.default_rng(0)
    n_frames, h, K = 31, 2, 5
    x = rng.normal(scale=0.05, size=(n_frames, 30, 3))
    hops = {0: 7, 1: 18, 2: 27}
    for atom, frame in hops.items():
        x[frame:, atom, 0] += 3.0
    stat = window_maximum(p_hop(x, h), [0, 5, 10, 15, 20, 25], K)
    labels, _ = label_mobility(stat.ravel(), upper=1.0, lower=0.3, mode="absolute")
    labels = labels.reshape(stat.shape)
    mobile = {(int(w), int(a)) for w, a in zip(*np.nonzero(labels == MOBILE))}
    # a jump between frames f - 1 and f gives p_hop > 0 at t = f - h .. f + h - 1 (both intervals
    # straddle it), smallest at the ends: d^2 / (h + 1)^1.5 = 1.73 A^2 > 1; a window [5w, 5w + 5]
    # holding any of these frames is mobile
    expected = {(w, a) for a, f in hops.items() for w in range(6)
                if any(5 * w <= t <= 5 * w + K for t in range(f - h, f + h))}
    assert mobile == expected
    others = np.ones(stat.shape, bool)
    for w, a in expected:
        others[w, a] = False
    assert np.all(labels[others] == IMMOBILE)


def test_window_maximum_refuses_windows_past_the_end():
    with pytest.raises(ValueError, match="runs past"):
        window_maximum(np.zeros((10, 2)), [0, 6], 5)


def test_p_hop_half_frames():
    assert p_hop_half_frames(1.0, 0.2) == 3  # 2.5 frames rounds half up
    assert p_hop_half_frames(1.0, 0.1) == 5
    assert p_hop_half_frames(0.1, 0.2) == 1
    with pytest.raises(ValueError):
        p_hop_half_frames(0.0, 0.1)


def test_label_persistence_of_constructed_labels():
    """Atoms 0-9 are mobile in every window, atoms 10-99 never: the base rate is 0.1 and
    P(mobile next | mobile) is 1; labels that alternate between two atom sets never persist."""
    stat = np.zeros((4, 100)) + 0.1
    stat[:, :10] = 5.0
    p = label_persistence(stat, upper=1.0)
    assert p["base_rate_mobile"] == pytest.approx(0.1)
    assert p["p_mobile_next_given_mobile"] == pytest.approx(1.0)
    assert p["n_mobile_with_next"] == 30 and p["lift"] == pytest.approx(10.0)
    alt = np.full((4, 20), 0.1)
    alt[0::2, :10] = 5.0
    alt[1::2, 10:] = 5.0
    q = label_persistence(alt, upper=1.0)
    assert q["base_rate_mobile"] == pytest.approx(0.5) and q["p_mobile_next_given_mobile"] == pytest.approx(0.0)


@pytest.mark.parametrize("var_atom", [0.0, 1.0, 3.0])
def test_intraclass_correlation_recovers_the_between_atom_share(var_atom):
    """statistic = atom effect (variance var_atom) + window noise (variance 1): ICC(1) estimates
    var_atom / (var_atom + 1), 0 for pure noise."""
    rng = np.random.default_rng(7)
    n_atoms, k = 4000, 6
    v = rng.normal(scale=math.sqrt(var_atom), size=n_atoms)[None, :] + rng.normal(size=(k, n_atoms))
    assert intraclass_correlation(v) == pytest.approx(var_atom / (var_atom + 1), abs=0.03)


def test_settings_name_the_bad_label_keys():
    with pytest.raises(ValueError, match="label_recipe"):
        SoftnessSettings(label_recipe="rattle")
    with pytest.raises(ValueError, match="p_hop_immobile_A2"):
        SoftnessSettings(p_hop_mobile_A2=0.5, p_hop_immobile_A2=1.0)
    with pytest.raises(ValueError, match="structure"):
        SoftnessSettings(structure="average")
    with pytest.raises(ValueError, match="voronoi_radii_A"):
        SoftnessSettings(voronoi="radical")
    assert SoftnessSettings(temperature_K=300.0).label_temperature_K == 300.0
