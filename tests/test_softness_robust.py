"""Softness that cannot blow up, cross-fitted accuracy with its interval and a coordination
baseline, and the one settings object: planted cases with known answers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lipsglass.lammpsio import Box
from lipsglass.core.stats import wilson_interval
from lipsglass.softness.classifier import (FeatureFilter, accuracy_with_interval, cross_fit, evaluate_classifier,
                                           outer_folds, train_softness_model)
from lipsglass.softness.features import count_within, radial_structure_functions, rsf_feature_names
from lipsglass.softness.model import SoftnessModel, score, within_bound
from lipsglass.softness.settings import SoftnessSettings
from lipsglass.stages import softness as stage

CS = (0.01, 0.1, 1.0, 10.0)


def _informative(n=600, d=6, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, d))
    w = rng.normal(size=d)
    y = (z @ w + 0.5 * rng.normal(size=n) > 0).astype(int)
    return 2.0 + 0.5 * z, y


# ---- 1. features that cannot blow up --------------------------------------------------------------

def test_feature_constant_to_1e60_cannot_blow_softness_up():
    x, y = _informative()
    rng = np.random.default_rng(1)
    tail = 1e-60 * rng.random(len(y))  # a Gaussian tail: tiny but non-zero std (StandardScaler keeps it)
    X = np.column_stack([x, tail])
    names = [f"f{k}" for k in range(x.shape[1])] + ["G_S(1.000)"]
    ids = np.arange(len(y)) // 2
    model = train_softness_model(X, y, ids, feature_names=names, n_folds=3, Cs=CS, cv=3, seed=0,
                                 min_feature_std=1e-3, max_abs_z=20.0)
    assert [d["name"] for d in model.dropped_features] == ["G_S(1.000)"]
    assert model.dropped_features[0]["reason"] == "near-constant"
    assert model.dropped_features[0]["relative_std"] < 1e-50
    assert model.coef[-1] == 0.0 and not model.kept[-1]
    # a structure in which that feature is 60 orders of magnitude above its training values
    probe = X[:50].copy()
    for value in (1e-3, 1.0, 1e3):
        probe[:, -1] = value
        np.testing.assert_array_equal(model.softness(probe), model.softness(X[:50]))
    # every in-bound sample has |S| below the model's stated bound; on these samples also below 20
    s = model.softness(X)
    assert model.softness_bound is not None and np.all(np.abs(s) <= model.softness_bound)
    assert np.abs(s).max() < model.max_abs_standardised_feature
    # the same data without the filter: that feature alone sends S to ~1e58
    naive = train_softness_model(X, y, ids, feature_names=names, n_folds=3, Cs=CS, cv=3, seed=0,
                                 min_feature_std=0.0, max_abs_z=None)
    assert naive.dropped_features == [] and naive.coef[-1] != 0.0
    probe[:, -1] = 1.0
    assert np.abs(naive.softness(probe)).max() > 1e40
    # JSON records the dropped features and the bound
    d = model.to_dict()
    assert d["max_abs_standardised_feature"] == 20.0 and d["dropped_features"][0]["name"] == "G_S(1.000)"
    assert d["feature_filter"]["min_relative_std"] == 1e-3 and d["softness_bound"] == pytest.approx(model.softness_bound)
    again = SoftnessModel.from_dict(d)
    np.testing.assert_array_equal(again.softness(X), s)
    assert again.dropped_features == model.dropped_features


def test_structure_beyond_the_bound_is_refused_naming_feature_and_value():
    x, y = _informative(seed=3)
    names = [f"G_Li({k:.3f})" for k in range(x.shape[1])]
    model = train_softness_model(x, y, np.arange(len(y)), feature_names=names, n_folds=3, Cs=CS, cv=3, seed=0,
                                 max_abs_z=10.0)
    bad = x[:5].copy()
    k = 2
    bad[3, k] = model.mean[k] + 12.5 * model.scale[k]  # z = 12.5 > 10
    with pytest.raises(ValueError) as err:
        model.softness(bad)
    msg = str(err.value)
    assert names[k] in msg and f"{bad[3, k]:.6g}" in msg and "sample 3" in msg and "+12.5" in msg
    assert "1 of 5" in msg
    model.softness(bad, check=False)  # explicitly unchecked: allowed
    # just inside the bound: scored
    bad[3, k] = model.mean[k] + 9.9 * model.scale[k]
    assert np.isfinite(model.softness(bad)).all()
    # the stage's scorer names the Li
    bad[3, k] = model.mean[k] + 30 * model.scale[k]
    with pytest.raises(ValueError, match=r"ids \[104\]"):
        score(model, bad, np.arange(101, 106), "test")
    assert within_bound(model, bad).tolist() == [True, True, True, False, True]


def test_filter_drops_outlier_dominated_features():
    rng = np.random.default_rng(0)
    n = 2000
    X = rng.normal(size=(n, 3))
    rare = np.zeros(n)
    rare[7] = 1.0  # a contact seen in one sample of 2000: its z is sqrt(n - 1) ~ 45
    X = np.column_stack([X, rare])
    f = FeatureFilter(1e-3, 20.0).fit(X)
    assert f.support_.tolist() == [True, True, True, False]
    rec = f.dropped(["a", "b", "c", "rare"])[0]
    assert rec["reason"] == "outlier-dominated" and rec["max_abs_z_training"] == pytest.approx(np.sqrt(n - 1), rel=1e-6)
    assert FeatureFilter(1e-3, None).fit(X).support_.all()


# ---- 4. cross-fitting, interval, baseline ---------------------------------------------------------

def test_cross_fitting_tests_each_sample_exactly_once():
    x, y = _informative(n=300)
    li = np.repeat(np.arange(100), 3)  # three windows per Li
    fold = outer_folds(li, 5)
    assert fold.min() == 0 and fold.max() == 4
    for g in np.unique(li):  # all windows of a Li in one fold
        assert len(set(fold[li == g])) == 1
    res = cross_fit(x, y, li, n_folds=5, Cs=CS, cv=3)
    np.testing.assert_array_equal(res["fold"], fold)
    assert np.all(np.isfinite(res["decision"]))  # every sample predicted once, by the model not trained on it
    assert sum(sz["test"] for sz in res["sizes"]) == len(y)
    assert all(sz["train"] + sz["test"] == len(y) for sz in res["sizes"])
    m = evaluate_classifier(x, y, li, n_folds=5, Cs=CS, cv=3)
    assert m["test_accuracy"]["n"] == len(y) and m["test_accuracy"]["n_independent"] == 100
    assert m["test_accuracy"]["accuracy"] == pytest.approx(np.mean(res["predicted"] == y))
    assert m["test_accuracy"]["mean"] == m["test_accuracy"]["accuracy"]


def test_wilson_interval_and_clustered_samples():
    lo, hi = wilson_interval(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-3) and hi == pytest.approx(0.5962, abs=1e-3)
    assert wilson_interval(20, 20)[1] == 1.0 and wilson_interval(20, 20)[0] > 0.8
    # 40 Li, 10 identical windows each: the interval is that of 40 trials, not 400
    correct = np.repeat(np.arange(40) % 4 != 0, 10)
    r = accuracy_with_interval(correct, np.repeat(np.arange(40), 10))
    assert r["accuracy"] == 0.75 and r["n"] == 400 and r["n_independent"] == 40
    assert (r["ci_low"], r["ci_high"]) == pytest.approx(wilson_interval(30, 40))
    assert r["per_sample_wilson"][1] - r["per_sample_wilson"][0] < 0.5 * (r["ci_high"] - r["ci_low"])
    b = r["cluster_bootstrap"]
    assert b[0] < 0.75 < b[1] and b[1] - b[0] > 0.6 * (r["ci_high"] - r["ci_low"])


def _shell_glass(signal: bool, n_windows=3, seed=0):
    """125 Li on a 9 A lattice (no Li-Li pair within the RSF range), each with 3-5 S at a common
    distance. ``signal``: the mobile half have their S shell at 2.70 A, the immobile at 2.40 A
    (same counts); otherwise every shell is at 2.40-2.70 A at random and the labels are a coin
    flip per Li. The S count is random (3-5) and independent of the label in both cases.
    Returns RSF features, labels, Li ids, S counts within 3.6 A (per Li and window)."""
    rng = np.random.default_rng(seed)
    grid = np.array([[i, j, k] for i in range(5) for j in range(5) for k in range(5)], float) * 9.0 + 4.5
    n_li = len(grid)
    box = Box(np.zeros(3), np.full(3, 45.0))
    mobile = rng.permutation(np.arange(n_li) % 2 == 0)
    n_s = rng.integers(3, 6, n_li)
    X, y, ids, counts = [], [], [], []
    for _ in range(n_windows):
        pos, lab = [grid], ["Li"] * n_li
        for i in range(n_li):
            r = (2.70 if mobile[i] else 2.40) if signal else rng.uniform(2.40, 2.70)
            d = rng.normal(size=(n_s[i], 3))
            d /= np.linalg.norm(d, axis=1)[:, None]
            pos.append(grid[i] + (r + 0.02 * rng.normal(size=(n_s[i], 1))) * d)
            lab += ["S"] * n_s[i]
        pos, lab = np.vstack(pos), np.array(lab)
        centres = np.arange(n_li)
        X.append(radial_structure_functions(box, pos, lab, centres, channels=("Li", "S")))
        counts.append(count_within(box, pos, centres, np.flatnonzero(lab == "S"), 3.6))
        y.append(mobile.astype(int)), ids.append(np.arange(1, n_li + 1))
    return np.vstack(X), np.concatenate(y), np.concatenate(ids), np.concatenate(counts)


def test_planted_shell_signal_is_recovered_and_baseline_is_at_chance():
    X, y, ids, counts = _shell_glass(signal=True)
    assert np.all(counts >= 3) and np.all(counts <= 5)
    names = rsf_feature_names(("Li", "S"))
    model = train_softness_model(X, y, ids, feature_names=names, n_folds=5, Cs=CS, cv=3, seed=0, baseline=counts,
                                 baseline_name="S count")
    t, b = model.metrics["test_accuracy"], model.metrics["baseline"]["test_accuracy"]
    assert t["accuracy"] > 0.95 and t["ci_low"] > 0.9
    assert t["n"] == len(y) == 375 and t["n_independent"] == 125
    # the coordination-only baseline knows nothing about the shell radius
    assert b["ci_low"] < 0.5 < b["ci_high"]
    # Li-Li features (no Li within 6.5 A) and the Gaussian tails below the S shell are dropped
    dropped = {d["name"] for d in model.dropped_features}
    assert {f"G_Li({m:.3f})" for m in (1.0, 3.0, 6.0)} <= dropped and "G_S(1.000)" in dropped
    assert "G_S(2.500)" not in dropped
    print(f"planted signal: held-out accuracy {t['accuracy']:.3f} [{t['ci_low']:.3f}, {t['ci_high']:.3f}]; "
          f"baseline {b['accuracy']:.3f} [{b['ci_low']:.3f}, {b['ci_high']:.3f}]; {len(dropped)} features dropped")


def test_planted_null_gives_accuracy_consistent_with_chance():
    X, y, ids, counts = _shell_glass(signal=False, seed=5)
    m = evaluate_classifier(X, y, ids, n_folds=5, Cs=CS, cv=3, seed=0, baseline=counts)
    t = m["test_accuracy"]
    assert t["ci_low"] < 0.5 < t["ci_high"]
    assert abs(t["accuracy"] - 0.5) < 0.15
    print(f"planted null: held-out accuracy {t['accuracy']:.3f} [{t['ci_low']:.3f}, {t['ci_high']:.3f}] "
          f"(n = {t['n']} samples, {t['n_independent']} Li); cluster bootstrap {t['cluster_bootstrap']}")


# ---- 7. one settings object -----------------------------------------------------------------------

def test_settings_parsed_once_into_a_frozen_object():
    import yaml

    from conftest import REPO

    for path in ("config/config.yaml", "config/paper.yaml", "tests/config/config.yaml"):
        cfg = yaml.safe_load((REPO / path).read_text())["softness"]
        s = SoftnessSettings.from_config(cfg)
        assert s.max_abs_standardised_feature == cfg["max_abs_standardised_feature"]
        assert "claims" not in cfg  # the claims' criteria live in the config's claims section
        assert s.learning_curve_fractions == tuple(cfg["learning_curve_fractions"])
        assert isinstance(s.Cs, tuple) and isinstance(s.channels, tuple)
        assert stage.settings_of(cfg) == s and stage.settings_of(s) is s
        with pytest.raises(dataclasses.FrozenInstanceError):
            s.seed = 1
        with pytest.raises(ValueError, match="unknown softness settings"):
            SoftnessSettings.from_config({**cfg, "n_repeats": 5})
        with pytest.raises(ValueError, match="unknown softness settings"):
            SoftnessSettings.from_config({**cfg, "claims": {"min_accuracy": 0.7}})
    with pytest.raises(ValueError, match="outer_folds"):
        SoftnessSettings(outer_folds=1)
    with pytest.raises(ValueError, match="from g"):
        SoftnessSettings(d2min_cutoff_A="auto")
    s = SoftnessSettings(split_S_by_anion=True)
    assert s.rsf_channels() == ["Li", "P", "S:P2S6", "S:P2S7", "S:PS4", "S:S_free"]
    assert s.model_features()["mu"][0] == 1.0 and len(s.mu_grid()) == 51
