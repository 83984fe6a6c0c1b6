"""First-shell Li-S distances by anion type on constructed structures, and claim C7 decided over
glasses (lipsglass.claims.structure) on constructed per-glass peaks with known truth."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from lipsglass.claims.structure import c7_verdict
from lipsglass.lammpsio import Box, write_dump_frame
from lipsglass.li_s_shell import fitted_peak, measure_frames

ANIONS = ("PS4", "P2S7", "P2S6")


def cubic(length):
    return Box(np.zeros(3), np.full(3, float(length)))


# ------------------------------------------------------------------ measurement on structures

def lattice_of_li_with_known_shells():
    """64 Li on a 10 A grid in a 40 A box; each Li has one S of each anion type at 2.40 (PS4),
    2.50 (P2S7), 2.60 A (P2S6), a P2S6 S at 3.5 A (outside r_c = 3.2 A) and a free S at 2.3 A
    (not an anion). Other Li's S are >= 6.5 A away."""
    grid = np.arange(4) * 10.0 + 5.0
    li = np.array(np.meshgrid(grid, grid, grid, indexing="ij")).reshape(3, -1).T
    shells = [((2.40, 0, 0), "PS4"), ((0, 2.50, 0), "P2S7"), ((0, 0, 2.60), "P2S6"), ((-3.5, 0, 0), "P2S6"),
              ((0, -2.3, 0), "S_free")]
    pos, el, lab = [li], ["Li"] * len(li), ["Li"] * len(li)
    for vec, unit in shells:
        pos.append(li + np.array(vec))
        el += ["S"] * len(li)
        lab += [unit] * len(li)
    return np.vstack(pos), np.array(el), np.array(lab)


def test_measure_frames_recovers_planted_distances_under_periodic_boundaries():
    pos, el, lab = lattice_of_li_with_known_shells()
    box = cubic(40.0)
    shift = np.array([38.0, 1.5, 39.0])  # frame 2: a rigid shift that wraps atoms across the cell
    frames = [(box, pos), (box, box.wrap(pos + shift))]
    m = measure_frames(frames, el, lab, r_cut=3.2)
    assert m["anions"] == list(ANIONS) and m["n_frames"] == 2 and m["n_li"] == 64
    for a, d in zip(ANIONS, (2.40, 2.50, 2.60)):
        assert m["mean_distance_A"][a] == pytest.approx(d, abs=1e-9)
        assert m["n_pairs"][a] == 128  # 64 Li x 2 frames: the 3.5 A P2S6 S and the free S are not counted
        assert m["coordination"][a] == pytest.approx(1.0)
        assert m["n_li_in_contact"][a] == 64
        counts = np.asarray(m["per_frame_li"]["count"][a])
        assert counts.shape == (2, 64) and np.all(counts == 1)
        assert np.allclose(m["per_frame_li"]["sum_A"][a], d)
    # r_c beyond 3.5 A takes the second P2S6 S in: mean (2.6 + 3.5) / 2
    assert measure_frames(frames, el, lab, r_cut=3.6)["mean_distance_A"]["P2S6"] == pytest.approx(3.05)
    json.dumps(m)  # JSON-ready


def test_fitted_peak_finds_the_g_r_like_maximum():
    rng = np.random.default_rng(0)
    # distances with n(r) ~ r^2 g(r), g a Gaussian peak at 2.45 A (sigma 0.1), by rejection sampling
    r = rng.uniform(2.0, 3.2, 400000)
    keep = rng.uniform(0, 1, len(r)) < (r / 3.2) ** 2 * np.exp(-0.5 * ((r - 2.45) / 0.1) ** 2)
    edges = np.arange(1.5, 3.2 + 1e-9, 0.005)
    counts = np.histogram(r[keep], bins=edges)[0]
    assert fitted_peak(0.5 * (edges[1:] + edges[:-1]), counts) == pytest.approx(2.45, abs=0.005)


# ------------------------------------------------------------------ claim C7 over glasses

def glass(peaks, means=None, n_li=258, contact=100):
    """One replica's li_s_shell.json fields that C7 reads."""
    return {"anions": list(peaks), "fitted_peak_A": dict(peaks), "mean_distance_A": dict(means or peaks),
            "n_li_in_contact": {a: contact for a in peaks}, "n_li": n_li, "n_frames": 41, "r_cut_A": 3.3}


def glasses(rng, means, n_comp=5, k=2, sd=0.005):
    return {f"c{c}": [glass({a: m + rng.normal(0, sd) for a, m in means.items()}) for _ in range(k)]
            for c in range(n_comp)}


EQUAL = {"PS4": 2.45, "P2S7": 2.45, "P2S6": 2.45}
C7 = {"margin_A": 0.02, "report_margins_A": [0.01, 0.02, 0.05], "min_li": 10}


def test_c7_holds_when_every_pair_is_within_the_margin_over_glasses():
    v = c7_verdict(glasses(np.random.default_rng(0), EQUAL), C7)
    assert v.verdict == "holds" and -0.02 < v.interval.low < v.interval.high < 0.02
    assert v.interval.method.endswith("t over 10 glasses") and v.unit == "glass (replica)"
    assert "+-0.01 A:" in v.detail and "+-0.05 A: holds" in v.detail


def test_c7_does_not_hold_for_a_difference_beyond_the_margin():
    v = c7_verdict(glasses(np.random.default_rng(1), dict(EQUAL, P2S6=2.50)), C7)
    assert v.verdict == "does not hold" and (v.interval.low > 0.02 or v.interval.high < -0.02)
    assert v.interval.level == pytest.approx(1 - 0.10 / 3)        # Bonferroni over the three pairs
    assert "overturned only if" in v.would_decide


def test_c7_glass_to_glass_spread_keeps_the_interval_wide():
    """Two replicas whose P2S6 peak differs by +-0.06 A between glasses (each measured
    precisely): the mean difference is 0, but glasses are the unit, so it is not tested, with the
    glasses that would decide from the measured spread."""
    reps = {"70:30": [glass(dict(EQUAL, P2S6=2.45 + off)) for off in (-0.06, 0.06)]}
    v = c7_verdict(reps, C7)
    assert v.verdict == "not tested" and abs(v.interval.estimate) < 1e-9
    # a claim of 3 pairs that is not tested shows the interval its "does not hold" was tested at:
    # t(1 - 0.05 / 3, 1) x SE (Bonferroni over the pairs; t(0.95, 1) = 6.31 would be the 90 % one)
    assert v.interval.high - v.interval.estimate == pytest.approx(stats.t.ppf(1 - 0.05 / 3, 1) * 0.06, rel=1e-3)
    assert v.interval.level == pytest.approx(1 - 0.1 / 3)
    assert "needs ~" in v.would_decide and "replicas per composition" in v.would_decide
    assert v.structured["sample_size"] == 2


def test_c7_primary_is_the_peak_and_the_mean_distance_is_reported_beside_it():
    rng = np.random.default_rng(2)
    reps = {f"c{c}": [glass({a: 2.45 + rng.normal(0, 0.003) for a in EQUAL},
                            means=dict(PS4=2.60, P2S7=2.62, P2S6=2.66)) for _ in range(2)] for c in range(5)}
    v = c7_verdict(reps, C7)
    assert v.verdict == "holds"
    assert "secondary, mean first-shell distance differences" in v.detail and "-> does not hold at +-0.02 A" in v.detail


def test_c7_anion_types_touched_by_few_li_and_single_glasses_are_not_tested():
    few = {"c": [glass(EQUAL, contact=3) for _ in range(3)]}
    v = c7_verdict(few, C7)
    assert v.verdict == "not tested" and v.interval is None and "fewer than 2 glasses" in v.why_not_tested
    assert "(3 Li in contact (< 10))" in v.detail
    one = c7_verdict({"c": [glass(EQUAL)]}, C7)
    assert one.verdict == "not tested" and one.interval is None


# ------------------------------------------------------------------ the job, end to end

def _tetra_units():
    """A PS4 at (10,10,10) and a P2S6 at (25,25,25) with one Li 2.50 A (PS4) or 2.60 A (P2S6)
    beyond each S along the P->S direction."""
    pos, el, li = [], [], []
    c = np.array([10.0, 10.0, 10.0])
    pos.append(c), el.append("P")
    for u in np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / np.sqrt(3):
        pos.append(c + 2.05 * u), el.append("S")
        li.append(c + 4.55 * u)
    c = np.array([25.0, 25.0, 25.0])
    for sign in (-1, 1):
        p = c + sign * np.array([1.1, 0, 0])
        pos.append(p), el.append("P")
        for phi in np.radians([0, 120, 240]):
            u = np.array([sign / 3, np.sqrt(8) / 3 * np.cos(phi), np.sqrt(8) / 3 * np.sin(phi)])
            pos.append(p + 2.05 * u), el.append("S")
            li.append(p + 4.65 * u)
    pos += li
    el += ["Li"] * len(li)
    return np.array(pos), np.array(el)


def test_li_s_shell_job_measures_one_replica(tmp_path):
    from lipsglass.stages.structure import li_s_shell_job

    pos, el = _tetra_units()
    box = cubic(40.0)
    types = {"Li": 1, "P": 2, "S": 3}
    data = tmp_path / "glass.data"
    lines = ["test glass", "", f"{len(pos)} atoms", "3 atom types", "",
             "0 40 xlo xhi", "0 40 ylo yhi", "0 40 zlo zhi", "", "Masses", "",
             "1 6.94", "2 30.974", "3 32.06", "", "Atoms # atomic", ""]
    lines += [f"{k + 1} {types[e]} {x:.6f} {y:.6f} {z:.6f}" for k, (e, (x, y, z)) in enumerate(zip(el, pos))]
    data.write_text("\n".join(lines) + "\n")
    dump = tmp_path / "traj.dump"
    rng = np.random.default_rng(0)
    with open(dump, "w") as fh:
        for step in range(4):
            p = pos + rng.uniform(-5, 5, 3)  # rigid shifts: distances unchanged
            write_dump_frame(fh, step * 100, box, {"id": np.arange(1, len(pos) + 1),
                                                   "type": np.array([types[e] for e in el]),
                                                   "xu": p[:, 0], "yu": p[:, 1], "zu": p[:, 2]})
    settings = {"max_frames": 3, "p_s_cutoff_A": 2.8, "p_p_cutoff_A": 2.8, "li_s_cutoff_A": 3.2}
    out = li_s_shell_job(str(data), str(dump), settings, str(tmp_path / "li_s_shell.json"))
    back = json.loads((tmp_path / "li_s_shell.json").read_text())
    assert back["anions"] == ["PS4", "P2S6"] and back["n_frames"] == 3 and back["n_li"] == 10
    assert back["mean_distance_A"]["PS4"] == pytest.approx(2.50, abs=1e-5)
    assert back["mean_distance_A"]["P2S6"] == pytest.approx(2.60, abs=1e-5)
    assert back["n_pairs"] == {"PS4": 12, "P2S6": 18}
    assert back["r_cut_source"] == "config structure.li_s_cutoff_A"
    assert out["n_li"] == 10
    # r_c from the Li-S g(r) minimum, searched in the configured window
    settings = dict(settings, li_s_cutoff_A=None, li_s_min_window_A=[2.9, 3.8], rdf_dr_A=0.02)
    back = li_s_shell_job(str(data), str(dump), settings, str(tmp_path / "li_s_shell2.json"))
    assert 2.9 <= back["r_cut_A"] <= 3.8 and back["r_cut_source"].startswith("first minimum of the Li-S g(r)")
