"""Softness pipeline against ground truth: RSFs of a simple cubic lattice from its known shell
counts, a classifier recovering a planted linear rule, the S > 0 = mobile convention, exact JSON
round trip, and the anion-environment / statistics helpers on hand-built cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lipsglass.lammpsio import Box, write_dump_frame
from lipsglass.core.stats import binned_mean, pearson_ci
from lipsglass.softness.classifier import fit_classifier, outer_folds, train_softness_model, transfer_metrics
from lipsglass.softness.environment import anion_environment, softness_by_anion, softness_share_correlations
from lipsglass.softness.features import (DEFAULT_MU, DEFAULT_WIDTH, channel_labels, radial_structure_functions,
                                         rsf_feature_names, rsf_settings)
from lipsglass.softness.model import SoftnessModel
from lipsglass.softness.training import balance_classes, build_training_set

# Simple cubic lattice: number of lattice vectors with n1^2 + n2^2 + n3^2 = m (the sum-of-three-
# squares counts r_3(m)); m = 7 has none, m = 8 (12 vectors at 2.83 a) lies beyond mu_max + 5 L.
SC_SHELLS = {1: 6, 2: 12, 3: 8, 4: 6, 5: 24, 6: 24}


def test_rsf_simple_cubic_against_shell_sums():
    a, n = 2.5, 6
    grid = np.array([[i, j, k] for i in range(n) for j in range(n) for k in range(n)])
    pos = grid * a
    box = Box(np.zeros(3), np.full(3, n * a))
    # two channels by parity of i+j+k: a neighbour at n-vector v has the centre's parity iff
    # |v|^2 = m is even, so channel "A" (even sites) sees shells 2, 4, 6 and "B" shells 1, 3, 5
    labels = np.where(grid.sum(axis=1) % 2 == 0, "A", "B")
    centres = np.flatnonzero(labels == "A")[:5]
    g = radial_structure_functions(box, pos, labels, centres, channels=("A", "B"))
    mu = DEFAULT_MU
    gauss = lambda m: SC_SHELLS[m] * np.exp(-((a * math.sqrt(m) - mu) ** 2) / (2 * DEFAULT_WIDTH ** 2))
    expected_same = sum(gauss(m) for m in (2, 4, 6))
    expected_other = sum(gauss(m) for m in (1, 3, 5))
    assert g.shape == (5, 2 * len(mu))
    for row in g:
        np.testing.assert_allclose(row[:len(mu)], expected_same, atol=1e-10)
        np.testing.assert_allclose(row[len(mu):], expected_other, atol=1e-10)
    # the nearest-neighbour peak: 6 neighbours at exactly mu = 2.5 A
    assert g[0, len(mu) + int(np.argmin(abs(mu - 2.5)))] == pytest.approx(6.0, abs=1e-6)
    names = rsf_feature_names(("A", "B"))
    assert len(names) == g.shape[1] and names[0] == "G_A(1.000)"
    with pytest.raises(ValueError):
        radial_structure_functions(box, pos, labels, centres, channels=("A",))  # B atoms unassigned


def test_channel_labels_split():
    el = np.array(["Li", "S", "S", "P"])
    groups = np.array(["", "PS4", "P2S6", "PS4"])
    np.testing.assert_array_equal(channel_labels(el, groups), ["Li", "S:PS4", "S:P2S6", "P"])
    with pytest.raises(ValueError):
        channel_labels(el, np.array(["", "", "P2S6", ""]))
    # the split channels partition the S channel: their RSFs sum to the unsplit one
    rng = np.random.default_rng(2)
    box = Box(np.zeros(3), np.full(3, 15.0))
    pos = rng.random((150, 3)) * 15.0
    el = rng.choice(np.array(["Li", "P", "S"]), size=150)
    groups = rng.choice(np.array(["PS4", "P2S7", "P2S6"]), size=150)
    centres = np.flatnonzero(el == "Li")
    plain = radial_structure_functions(box, pos, el, centres)
    split = radial_structure_functions(box, pos, channel_labels(el, groups), centres,
                                       channels=("Li", "P", "S:PS4", "S:P2S7", "S:P2S6"))
    nm = len(DEFAULT_MU)
    np.testing.assert_allclose(split[:, :2 * nm], plain[:, :2 * nm])
    np.testing.assert_allclose(split[:, 2 * nm:].reshape(len(centres), 3, nm).sum(axis=1), plain[:, 2 * nm:])


def _planted(n=1500, d=8, seed=0, noise=0.0, sample_seed=None):
    """Features with unequal scales/offsets and labels from a planted hyperplane; the rule
    depends on ``seed`` only, the samples on ``sample_seed`` (default: seed)."""
    rng = np.random.default_rng(seed)
    scales = rng.uniform(0.2, 5.0, d)
    offsets = rng.uniform(-3, 3, d)
    w_std = rng.normal(size=d)  # the rule in standardised coordinates
    rs = np.random.default_rng(seed + 1000 if sample_seed is None else sample_seed)
    z = rs.normal(size=(n, d))
    x = offsets + scales * z
    y = (z @ w_std + 0.3 + noise * rs.normal(size=n) > 0).astype(int)
    return x, y, w_std


def test_classifier_recovers_planted_rule_and_sign_convention():
    x, y, w_std = _planted()
    model = train_softness_model(x, y, li_ids=np.arange(len(y)), n_folds=3, cv=4, seed=1)
    m = model.metrics
    assert m["test_accuracy"]["mean"] > 0.95 and m["train_accuracy"]["mean"] > 0.95
    assert m["test_roc_auc"]["mean"] > 0.98
    assert len(m["test_accuracy"]["values"]) == 3
    cosine = model.coef @ w_std / (np.linalg.norm(model.coef) * np.linalg.norm(w_std))
    assert cosine > 0.95
    s = model.softness(x)
    # mobile (label 1) samples are soft (S > 0), immobile ones hard
    assert np.mean(s[y == 1] > 0) > 0.95 and np.mean(s[y == 0] < 0) > 0.95
    # softness is the pipeline's decision function over |w| (distance to the hyperplane)
    pipe = fit_classifier(x, y, np.arange(len(y)), cv=4, seed=1)
    np.testing.assert_allclose(s, pipe.decision_function(x) / np.linalg.norm(pipe.named_steps["logistic"].coef_),
                               rtol=1e-10, atol=1e-12)
    # transfer to a fresh sample obeying the same rule ("another glass") and to one that does not
    x2, y2, _ = _planted(n=500, sample_seed=77)
    t = transfer_metrics(model, x2, y2)
    assert t["accuracy"] > 0.95 and t["n"] == 500
    y3 = (x2[:, 0] > np.median(x2[:, 0])).astype(int)  # the same samples under a different rule
    assert transfer_metrics(model, x2, y3)["accuracy"] < t["accuracy"] - 0.1
    x3, y3, _ = _planted(n=500, seed=5, sample_seed=78)  # other feature offsets and scales: |z| up to ~24
    with pytest.raises(ValueError, match="refusing to score"):
        transfer_metrics(model, x3, y3)


def test_json_round_trip_identical_softness(tmp_path):
    x, y, _ = _planted(n=600, d=5, seed=3, noise=0.5)
    model = train_softness_model(x, y, li_ids=np.arange(len(y)) // 2, n_folds=2, cv=3, seed=4,
                                 feature_names=[f"f{k}" for k in range(5)])
    path = tmp_path / "model.json"
    model.save(path)
    again = SoftnessModel.load(path)
    np.testing.assert_array_equal(again.softness(x), model.softness(x))
    assert again.C == model.C and again.seed == 4 and again.feature_names == model.feature_names
    assert again.metrics["test_accuracy"] == model.metrics["test_accuracy"]


def test_cli_softness_matches_library(tmp_path, capsys):
    from lipsglass.cli import main

    rng = np.random.default_rng(0)
    box = Box(np.zeros(3), np.full(3, 16.0))
    n = 220
    pos = rng.random((n, 3)) * 16.0
    elements = rng.choice(np.array(["Li", "P", "S"]), size=n)
    settings = rsf_settings()
    n_feat = 3 * len(DEFAULT_MU)
    model = SoftnessModel(rsf_feature_names(settings["channels"]), rng.uniform(0, 1, n_feat),
                          rng.uniform(0.5, 2, n_feat), rng.normal(size=n_feat), 0.2, 1.0, 0, {}, settings)
    model.save(tmp_path / "m.json")
    with open(tmp_path / "c.dump", "w") as fh:
        write_dump_frame(fh, 0, box, {"id": np.arange(1, n + 1), "element": elements,
                                      "x": pos[:, 0], "y": pos[:, 1], "z": pos[:, 2]})
    assert main(["softness", str(tmp_path / "m.json"), str(tmp_path / "c.dump")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "id,softness"
    rows = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    li = np.flatnonzero(elements == "Li")
    np.testing.assert_array_equal(rows[:, 0], li + 1)
    # positions as written (10 significant digits), so the comparison is exact to rounding
    from lipsglass.lammpsio import read_structure
    box_r, _, el_r, pos_r = read_structure(tmp_path / "c.dump")
    feats = radial_structure_functions(box_r, pos_r, el_r, li)
    expected = (((feats - model.mean) / model.scale) @ model.coef + 0.2) / np.linalg.norm(model.coef)
    np.testing.assert_allclose(rows[:, 1], expected, rtol=1e-8, atol=1e-9)


def test_training_set_balancing_and_outer_folds():
    rng = np.random.default_rng(0)
    feats = [rng.normal(size=(100, 4)) for _ in range(3)]
    d_cum = [rng.exponential(size=100) for _ in range(3)]
    d_cum[1][:5] = np.nan
    ids = [np.arange(1, 101)] * 3
    ts = build_training_set(feats, d_cum, ids, upper=0.8, lower=0.4, seed=2)
    assert ts.counts["invalid_d_cum"] == 5
    assert ts.counts["mobile"] + ts.counts["immobile"] + ts.counts["unlabelled"] + 5 == 300
    n_mob, n_imm = np.sum(ts.y == 1), np.sum(ts.y == 0)
    assert n_mob == n_imm == min(ts.counts["mobile"], ts.counts["immobile"])
    assert set(np.unique(ts.window_ids)) == {0, 1, 2}
    pooled = np.concatenate(d_cum)
    lo, hi = ts.thresholds
    assert lo == pytest.approx(np.nanquantile(pooled, 0.4)) and hi == pytest.approx(np.nanquantile(pooled, 0.8))
    fold = outer_folds(ts.li_ids, 4)
    assert set(fold.tolist()) == {0, 1, 2, 3}
    for k in range(4):  # no Li on both sides of any fold
        assert not set(ts.li_ids[fold == k]) & set(ts.li_ids[fold != k])
    idx = balance_classes(np.array([0, 0, 0, 0, 1, 1]), seed=0)
    assert np.sum(np.array([0, 0, 0, 0, 1, 1])[idx] == 0) == 2


def test_anion_environment_hand_built():
    box = Box(np.zeros(3), np.full(3, 30.0))
    li_a = np.array([1.0, 5.0, 5.0])
    s_sites = {  # displacement from Li a -> anion type
        (2.4, 0.0, 0.0): "PS4", (0.0, -3.0, 0.0): "PS4",
        (0.0, 2.6, 0.0): "P2S6", (0.0, 0.0, 4.0): "P2S6", (-4.5, 0.0, 0.0): "P2S6",  # -4.5: across x = 0
        (0.0, 0.0, -6.0): "P2S7",  # beyond 5 A
    }
    pos = [li_a, np.array([20.0, 20.0, 20.0])]  # second Li: no S within 5 A
    labels = ["", ""]
    for dvec, kind in s_sites.items():
        pos.append(box.wrap((li_a + np.array(dvec))[None])[0])
        labels.append(kind)
    env = anion_environment(box, np.array(pos), np.array([0, 1]), np.array(labels), radius=5.0)
    np.testing.assert_allclose(env.shares[0], [3 / 5, 0.0, 2 / 5])  # order P2S6, P2S7, PS4
    assert env.n_sulfur.tolist() == [5, 0]
    assert env.nearest.tolist() == ["PS4", ""] and env.majority.tolist() == ["P2S6", ""]
    assert np.all(np.isnan(env.shares[1]))
    by = softness_by_anion(np.array([-1.0, 2.0]), env, by="nearest")
    assert by["PS4"].tolist() == [-1.0] and len(by["P2S6"]) == 0


def test_pearson_ci_coverage_and_binned_mean():
    # Fisher-z 95% intervals must cover the true rho in ~95% of samples
    rng = np.random.default_rng(0)
    rho, n, hits = 0.6, 40, 0
    cov = [[1, rho], [rho, 1]]
    for _ in range(400):
        xy = rng.multivariate_normal([0, 0], cov, size=n)
        res = pearson_ci(xy[:, 0], xy[:, 1])
        assert res["r"] == pytest.approx(np.corrcoef(xy.T)[0, 1])
        hits += res["ci_low"] <= rho <= res["ci_high"]
    assert 0.92 <= hits / 400 <= 0.98
    b = binned_mean(np.array([0.05, 0.1, 0.6, 0.7, 1.0, 1.5]), np.array([1.0, 3.0, 2.0, 4.0, 6.0, 9.0]),
                    bins=np.array([0.0, 0.5, 1.0]))
    np.testing.assert_allclose(b.mean, [2.0, 4.0])
    np.testing.assert_allclose(b.std, [math.sqrt(2.0), 2.0])
    assert b.count.tolist() == [2, 3] and b.n_outside == 1


def test_share_correlations_detect_planted_dependence():
    # softness built as a linear function of the P2S6 share (+ noise): r ~ -1 per Li and binned
    rng = np.random.default_rng(1)
    n = 400
    share = rng.random(n)
    from lipsglass.softness.environment import AnionEnvironment
    shares = np.column_stack([share, np.zeros(n), 1 - share])
    env = AnionEnvironment(("P2S6", "P2S7", "PS4"), 5.0, shares, np.full(n, 10), np.full(n, "PS4"),
                           np.full(n, "PS4"))
    s = -2.0 * share + 1.0 + 0.1 * rng.normal(size=n)
    res = softness_share_correlations(s, env, bins=10)
    assert res["P2S6"]["per_li"]["r"] < -0.95 and res["PS4"]["per_li"]["r"] > 0.95
    assert res["P2S6"]["binned"]["r"] < -0.99
    assert res["P2S7"]["per_li"] is None  # constant share: undefined, not 0


def test_dump_windows_matches_direct_analysis(tmp_path):
    from lipsglass.d2min import cumulative_d2min
    from lipsglass.softness.windows import dump_windows

    rng = np.random.default_rng(4)
    box = Box(np.zeros(3), np.full(3, 14.0))
    n = 160
    elements = rng.choice(np.array(["Li", "P", "S"]), size=n)
    frames = [rng.random((n, 3)) * 14.0]
    for _ in range(6):
        frames.append(frames[-1] + rng.normal(0, 0.08, (n, 3)))
    frames = np.array(frames)
    with open(tmp_path / "t.dump", "w") as fh:
        for k, p in enumerate(frames):  # unwrapped coordinates, as a trajectory dump would hold
            write_dump_frame(fh, 100 * k, box, {"id": np.arange(1, n + 1), "element": elements,
                                                "xu": p[:, 0], "yu": p[:, 1], "zu": p[:, 2]})
    wins = dump_windows(tmp_path / "t.dump", frames_per_window=2, stride=3, cutoff=3.6, hop_distance=0.15,
                        min_neighbours=3)
    assert [(w.start_timestep, w.end_timestep) for w in wins] == [(0, 200), (300, 500)]
    li = np.flatnonzero(elements == "Li")
    for w, first in zip(wins, (0, 3)):
        seg = np.round(frames[first:first + 3], 8)  # rounding as written (%.10g of values < 20)
        _, d_cum, _ = cumulative_d2min([box] * 3, seg, cutoff=3.6, centres=li, unwrapped=True, min_neighbours=3)
        np.testing.assert_allclose(w.dynamics.d_cum, d_cum, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(w.features, radial_structure_functions(box, box.wrap(seg[0]), elements, li),
                                   rtol=1e-5, atol=1e-6)
        disp = np.linalg.norm(seg[-1, li] - seg[0, li], axis=1)
        assert w.dynamics.hop_fraction == pytest.approx(np.mean(disp > 0.15))
        np.testing.assert_array_equal(w.ids, li + 1)


def test_figures_are_written(tmp_path):
    from lipsglass.figures import softness as fs

    rng = np.random.default_rng(0)
    metrics = {g: {"train_accuracy": {"mean": 0.8, "std": 0.02}, "test_accuracy": {"mean": 0.75, "std": 0.03}}
               for g in ("P2S6 25%", "P2S6 5%")}
    s = rng.normal(size=300)
    r = np.linspace(0, 8, 81)
    calls = {
        "s1": lambda a, b: fs.plot_accuracy(metrics, a, b),
        "3b": lambda a, b: fs.plot_softness_distributions({"x": s, "y": s + 0.5}, a, b),
        "3d": lambda a, b: fs.plot_lis_gr_by_anion({"PS4": {"soft": (r, r), "hard": (r, r / 2)}}, a, b),
        "3e": lambda a, b: fs.plot_softness_by_anion({"PS4": s, "P2S6": s[:0]}, a, b),
        "3f": lambda a, b: fs.plot_property_vs_softness(binned_mean(s, s, 8), binned_mean(s, -s, 8), a, b),
    }
    for name, call in calls.items():
        call(tmp_path / f"{name}.png", tmp_path / f"{name}.pdf")
        assert (tmp_path / f"{name}.png").stat().st_size > 1000 and (tmp_path / f"{name}.pdf").stat().st_size > 1000


def test_dump_windows_time_averaged_features_use_past_frames_only(tmp_path):
    """average_frames = 3: features of a window are the RSFs of the mean position over the 3
    frames ending at its first frame (fewer at the trajectory start), never of its later frames;
    start_frame records where each window begins."""
    from lipsglass.softness.windows import dump_windows

    rng = np.random.default_rng(5)
    box = Box(np.zeros(3), np.full(3, 14.0))
    n = 120
    elements = rng.choice(np.array(["Li", "P", "S"]), size=n)
    frames = [rng.random((n, 3)) * 14.0]
    for _ in range(8):
        frames.append(frames[-1] + rng.normal(0, 0.1, (n, 3)))
    frames = np.round(np.array(frames), 8)
    with open(tmp_path / "t.dump", "w") as fh:
        for k, p in enumerate(frames):
            write_dump_frame(fh, 100 * k, box, {"id": np.arange(1, n + 1), "element": elements,
                                                "xu": p[:, 0], "yu": p[:, 1], "zu": p[:, 2]})
    wins = dump_windows(tmp_path / "t.dump", frames_per_window=2, stride=3, cutoff=3.6, min_neighbours=3,
                        average_frames=3)
    li = np.flatnonzero(elements == "Li")
    assert [w.start_frame for w in wins] == [0, 3, 6]
    for w, mean in zip(wins, (frames[0], frames[1:4].mean(axis=0), frames[4:7].mean(axis=0)), strict=True):
        np.testing.assert_allclose(w.features, radial_structure_functions(box, box.wrap(mean), elements, li),
                                   rtol=1e-5, atol=1e-6)
