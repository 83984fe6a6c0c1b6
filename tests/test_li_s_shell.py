"""First-shell Li-S distances by anion type and the C7 equivalence test, on constructed
structures and synthetic per-Li, per-frame samples with known truth."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lipsglass.claims import CLAIM_COLUMNS, VERDICTS, c7_claim
from lipsglass.lammpsio import Box, write_dump_frame
from lipsglass.li_s_shell import c7_evaluation, equivalence, fitted_peak, measure_frames, pairwise_differences

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


# ------------------------------------------------------------------ synthetic replicas

def synthetic_replica(seed, n_li, n_frames, means, li_sd=0.1, frame_sd=0.1, contact=1.5, r_cut=3.2):
    """Per-frame, per-Li sums and counts as measure_frames writes them. Each Li has a fixed
    number of S of each anion type (Poisson(contact)) and a persistent offset per anion type
    (sd li_sd: its environment), plus independent per-pair thermal noise per frame (frame_sd)."""
    rng = np.random.default_rng(seed)
    out = {"anions": list(ANIONS), "n_frames": n_frames, "n_li": n_li, "r_cut_A": r_cut,
           "per_frame_li": {"sum_A": {}, "count": {}}, "n_li_in_contact": {}, "fitted_peak_A": {}}
    for a in ANIONS:
        n = rng.poisson(contact, n_li)
        offset = rng.normal(0, li_sd, n_li)
        noise = rng.normal(0, 1, (n_frames, n_li)) * frame_sd * np.sqrt(n)
        out["per_frame_li"]["count"][a] = np.tile(n, (n_frames, 1)).tolist()
        out["per_frame_li"]["sum_A"][a] = (n * (means[a] + offset) + noise).tolist()
        out["n_li_in_contact"][a] = int(np.sum(n > 0))
        out["fitted_peak_A"][a] = means[a] - 0.15
    return out


EQUAL = {"PS4": 2.60, "P2S7": 2.60, "P2S6": 2.60}
PLANTED = {"PS4": 2.60, "P2S7": 2.60, "P2S6": 2.70}


def test_equal_distances_hold_with_a_tight_margin_given_enough_samples():
    reps = [synthetic_replica(k, 3000, 10, EQUAL) for k in range(3)]
    row = c7_claim({"70:30": reps}, margin_A=0.02, n_bootstrap=500)
    assert set(CLAIM_COLUMNS) <= set(row) and row["verdict"] in VERDICTS
    assert row["verdict"] == "holds", row["measured"]
    for d in row["details"]["compositions"]["70:30"]["differences"].values():
        assert -0.02 < d["ci_low_A"] < d["estimate_A"] < d["ci_high_A"] < 0.02
        assert d["decision"] == "equivalent"


def test_equivalence_error_rates_at_the_margin_and_at_equality():
    """Error rates of the equivalence test with the data's correlations (persistent per-Li
    environments, frames of the same Li), 3000 Li of one glass per trial: with P2S6 0.02 A longer
    than the others, exactly the margin, "holds" (a false equivalence) stays within the nominal 5 %
    plus sampling slack; with equal distances the test has the power to say "holds"."""
    n = 60

    def verdicts(means):
        return [c7_claim({"70:30": [synthetic_replica(100 + k, 3000, 5, means)]}, margin_A=0.02, n_bootstrap=300,
                         seed=k)["verdict"] for k in range(n)]

    at_margin = verdicts({"PS4": 2.60, "P2S7": 2.60, "P2S6": 2.62})
    assert at_margin.count("holds") / n <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / n)
    assert verdicts(EQUAL).count("holds") / n >= 0.9


def test_planted_difference_does_not_hold():
    row = c7_claim({"70:30": [synthetic_replica(1, 3000, 10, PLANTED)]}, margin_A=0.02, n_bootstrap=500)
    assert row["verdict"] == "does not hold"
    diffs = row["details"]["compositions"]["70:30"]["differences"]
    assert diffs["PS4-P2S6"]["estimate_A"] == pytest.approx(-0.10, abs=0.01)
    assert diffs["PS4-P2S6"]["decision"] == diffs["P2S7-P2S6"]["decision"] == "different"
    assert diffs["PS4-P2S7"]["decision"] == "equivalent"
    assert "one replica" in row["measured"]


def test_few_samples_or_large_noise_is_not_tested_and_says_what_would_decide():
    few = synthetic_replica(2, 40, 3, EQUAL, li_sd=0.2, frame_sd=0.2)
    row = c7_claim({"70:30": [few]}, margin_A=0.02, n_bootstrap=500, min_li=5)
    assert row["verdict"] == "not tested"
    assert "wider than the +-0.02 A band" in row["measured"] and "needs a half-width <" in row["measured"]
    # too few Li in contact with an anion type: that type is left out and named
    row = c7_claim({"70:30": [few]}, margin_A=0.02, n_bootstrap=200, min_li=1000)
    assert row["verdict"] == "not tested" and "fewer than two anion types" in row["measured"]


def test_equivalence_decisions():
    assert equivalence(0.0, -0.01, 0.01, 0.02)["decision"] == "equivalent"
    assert equivalence(0.05, 0.03, 0.07, 0.02)["decision"] == "different"
    assert equivalence(-0.05, -0.07, -0.03, 0.02)["decision"] == "different"
    und = equivalence(0.01, -0.005, 0.025, 0.02)
    assert und["decision"] == "undecided" and und["needed_half_width_A"] == pytest.approx(0.01)
    und = equivalence(0.03, 0.015, 0.045, 0.02)
    assert und["decision"] == "undecided" and und["needed_half_width_A"] == pytest.approx(0.01)
    assert "a difference" in und["why"]


def test_bootstrap_treats_li_as_clusters_not_frames_as_independent():
    # a Li keeps its environment over frames (no frame noise): 50 frames carry no more
    # information than one, and the interval must not shrink by sqrt(50)
    one = synthetic_replica(3, 400, 1, EQUAL, li_sd=0.2, frame_sd=0.0)
    many = dict(one, n_frames=50, per_frame_li={k: {a: np.tile(v[a], (50, 1)).tolist() for a in v}
                                                  for k, v in one["per_frame_li"].items()})
    w1 = pairwise_differences([one], n_bootstrap=1000)["differences"]["PS4-P2S6"]["half_width_A"]
    w50 = pairwise_differences([many], n_bootstrap=1000)["differences"]["PS4-P2S6"]["half_width_A"]
    assert w50 == pytest.approx(w1, rel=0.15)
    # naive interval counting every Li-S pair of every frame as independent
    n_pairs = np.sum(many["per_frame_li"]["count"]["PS4"])
    naive = 1.645 * 0.2 * np.sqrt(2 / n_pairs)
    assert w50 > 4 * naive


def test_replicas_are_the_top_level_of_the_bootstrap():
    # three large replicas (tight within) whose P2S6 distance differs from glass to glass by
    # +-0.06 A: the composition mean is equal, but the between-replica spread must keep the
    # interval wide (not tested), where pooling all Li as one glass would claim equivalence
    reps = [synthetic_replica(10 + k, 3000, 5, dict(EQUAL, P2S6=2.60 + off)) for k, off in enumerate((-0.06, 0.0, 0.06))]
    ev = c7_evaluation({"70:30": reps}, margin_A=0.02, n_bootstrap=1000)
    d = ev["compositions"]["70:30"]["differences"]["PS4-P2S6"]
    assert abs(d["estimate_A"]) < 0.01
    assert d["between_replica_sd_A"] == pytest.approx(0.06, abs=0.01)
    assert d["half_width_A"] > 0.03 and ev["verdict"] == "not tested"


def test_any_composition_with_a_difference_refutes_the_claim():
    ev = c7_evaluation({"a": [synthetic_replica(5, 3000, 5, EQUAL)], "b": [synthetic_replica(6, 3000, 5, PLANTED)]},
                       margin_A=0.02, n_bootstrap=300)
    assert ev["compositions"]["a"]["verdict"] == "holds"
    assert ev["compositions"]["b"]["verdict"] == "does not hold"
    assert ev["verdict"] == "does not hold"


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
