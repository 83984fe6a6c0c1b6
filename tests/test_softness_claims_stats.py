"""Claims C4-C6 and C8 with within-glass statistics, tested on constructed glasses with known truth."""

import numpy as np
import pytest

import lipsglass.stages.softness as stage
from lipsglass.softness import (SoftnessSettings, bootstrap_statistic, centre_by_group, composition_mean_softness,
                                group_contrast, pearson_r, spatial_blocks)

METRICS = {"test_accuracy": {"accuracy": 0.8, "ci_low": 0.75, "ci_high": 0.85, "n": 100, "n_independent": 50,
                             "confidence": 0.95}, "train_accuracy": {"mean": 0.8}}


def settings(**claims):
    base = {"n_bootstrap": 300, "n_permutations": 300, "bootstrap_blocks_per_side": 3, "bootstrap_seed": 5}
    return SoftnessSettings(claims={**base, **claims})


def glass_table(rng, s, p2s6_share, ps4_share=None, majority=None, pe=None):
    n = len(s)
    ps4_share = 1.0 - p2s6_share if ps4_share is None else ps4_share
    p2s7 = np.clip(1.0 - p2s6_share - ps4_share, 0, 1)
    if majority is None:
        majority = np.where(p2s6_share > ps4_share, "P2S6", "PS4")
    pe = rng.normal(size=n) if pe is None else pe
    return {"id": np.arange(n, dtype=float), "S": np.asarray(s, float), "S_own": np.asarray(s, float),
            "pe_kcal_mol": pe, "voronoi_A3": pe + rng.normal(size=n), "voronoi_faces": np.full(n, 14.0),
            "share_S_P2S6": p2s6_share, "share_S_P2S7": p2s7, "share_S_PS4": ps4_share,
            "n_S_within_radius": np.full(n, 10.0), "nearest_anion": np.asarray(majority),
            "majority_anion": np.asarray(majority), "x_A": rng.uniform(0, 25, n), "y_A": rng.uniform(0, 25, n),
            "z_A": rng.uniform(0, 25, n)}


def shifted_pair(rng, n=400, slope=0.0):
    """Two glasses: glass A has low P2S6 shares and high S, glass B high shares and low S. Within
    each glass S = slope * share + noise (slope 0: independent of the share)."""
    tables = {}
    for g, (lo, offset) in {"A": (0.0, 1.5), "B": (0.5, -1.5)}.items():
        share = rng.uniform(lo, lo + 0.5, n)
        tables[g] = glass_table(rng, offset + slope * (share - share.mean()) + rng.normal(0, 0.3, n), share)
    return tables


def test_c6_composition_shift_alone_is_no_within_glass_correlation():
    rng = np.random.default_rng(1)
    tables = shifted_pair(rng)
    s = settings()
    rows = stage.correlation_rows(tables, s)
    # the naive pooled binned r (raw S of both glasses concatenated) sees a strong correlation ...
    naive = stage._row_lookup(rows, "pooled", "share_S_P2S6", "binned")
    assert naive["r"] < -0.8 and naive["ci_high"] < 0
    # ... within each glass (and pooled after centring) the interval contains 0
    for g in ("A", "B", "pooled_centred"):
        for kind in ("binned_bootstrap", "per_li_bootstrap"):
            w = stage._row_lookup(rows, g, "share_S_P2S6", kind)
            assert w["ci_low"] < 0 < w["ci_high"], (g, kind, w)
    v = stage.evaluate_claims({g: METRICS for g in tables}, METRICS, tables, rows, {}, {"A": 0.2, "B": 0.6}, s)
    assert v["C6"]["verdict"] == "does not hold"
    assert "naive pooled" in v["C6"]["numbers"] and "within every glass" in v["C6"]["criterion"]


def test_c6_planted_within_glass_correlation_holds():
    rng = np.random.default_rng(2)
    tables = shifted_pair(rng, slope=-4.0)
    s = settings()
    rows = stage.correlation_rows(tables, s)
    for g in ("A", "B", "pooled_centred"):
        w = stage._row_lookup(rows, g, "share_S_P2S6", "binned_bootstrap")
        assert w["r"] < -0.8 and w["ci_high"] < 0
    v = stage.evaluate_claims({g: METRICS for g in tables}, METRICS, tables, rows, {}, {"A": 0.2, "B": 0.6}, s)
    assert v["C6"]["verdict"] == "holds"


def anion_glasses(rng, means, n=600, fractions=(0.1, 0.8, 0.1), sd=0.5):
    """Glasses whose Li are assigned (majority) to PS4, P2S7, P2S6 in ``fractions`` with normal S of
    the given group means; glass 2 shifted by +0.7 (a composition offset)."""
    tables = {}
    for k, shift in enumerate((0.0, 0.7)):
        groups = rng.choice(["PS4", "P2S7", "P2S6"], size=n, p=fractions)
        s = np.array([rng.normal(means[g], sd) for g in groups]) + shift
        share = rng.uniform(0, 1, n)
        tables[f"g{k}"] = glass_table(rng, s, share, majority=groups)
    return tables


def test_c5_planted_effect_detected():
    r5 = stage.c5_tests(anion_glasses(np.random.default_rng(3), {"PS4": 1.0, "P2S7": 0.0, "P2S6": -1.0}), settings())
    assert r5["vs_others"]["PS4"]["ci_low"] > 0 and r5["vs_others"]["P2S6"]["ci_high"] < 0
    assert r5["p2s7_intermediate"] and r5["vs_others"]["PS4"]["p_value"] < 0.05


def test_c5_null_not_detected():
    r5 = stage.c5_tests(anion_glasses(np.random.default_rng(4), {"PS4": 0.0, "P2S7": 0.0, "P2S6": 0.0}), settings())
    assert not r5["ps4_soft"] and not r5["p2s6_hard"] and not r5["p2s7_intermediate"]
    for a in ("PS4", "P2S6"):
        assert r5["vs_others"][a]["ci_low"] < 0 < r5["vs_others"][a]["ci_high"]
        assert r5["vs_others"][a]["p_value"] > 0.05


def test_c5_p2s7_criterion_is_not_automatic():
    # P2S7 holds 80 % of Li and its mean is near the overall mean (~0), so "|mean S| small" holds,
    # but it lies BELOW both other groups, not between them: the criterion must say so
    rng = np.random.default_rng(5)
    tables = anion_glasses(rng, {"PS4": 1.0, "P2S7": -0.2, "P2S6": 0.6}, fractions=(0.1, 0.8, 0.1))
    tables = {"g0": tables["g0"]}
    s_all = tables["g0"]["S"]
    p2s7 = s_all[tables["g0"]["majority_anion"] == "P2S7"]
    assert abs(p2s7.mean()) < 0.5 * s_all.std(ddof=1)  # the old criterion would pass
    r5 = stage.c5_tests(tables, settings())
    assert not r5["p2s7_intermediate"]
    assert r5["p2s7_minus_p2s6"]["ci_high"] < 0
    assert r5["ps4_soft"] and not r5["p2s6_hard"]
    v = stage.evaluate_claims({"g0": METRICS}, METRICS, tables, stage.correlation_rows(tables, settings()), {},
                              {"g0": 0.2}, settings())
    assert v["C5"]["verdict"] == "does not hold" and "p2s7_intermediate no" in v["C5"]["numbers"]


def test_c8_within_glass_intervals():
    rng = np.random.default_rng(6)
    tables = {}
    for g, off in (("A", 0.0), ("B", 5.0)):
        s = rng.normal(size=300)
        tables[g] = glass_table(rng, s + off, rng.uniform(0, 1, 300), pe=0.5 * s + rng.normal(size=300) - 3 * off)
    rows = stage.correlation_rows(tables, settings())
    v = stage.evaluate_claims({g: METRICS for g in tables}, METRICS, tables, rows, {}, {"A": 0.2, "B": 0.6},
                              settings())
    assert v["C8"]["verdict"] == "holds"  # glass offsets (pe falls as S rises between glasses) do not count
    assert stage._row_lookup(rows, "pooled", "share_S_PS4", "per_li") is not None
    naive = stage.pearson_ci(np.concatenate([t["S"] for t in tables.values()]),
                             np.concatenate([t["pe_kcal_mol"] for t in tables.values()]))
    assert naive["r"] < 0  # raw pooling would have reversed the sign
    assert stage._row_lookup(rows, "pooled_centred", "pe_kcal_mol", "per_li_bootstrap")["ci_low"] > 0


def test_c4_one_glass_per_composition_says_glass_to_glass_missing():
    rng = np.random.default_rng(7)
    tables = {f"c{k}": glass_table(rng, rng.normal(1.0 - 0.5 * k, 0.5, 200), rng.uniform(0, 1, 200)) for k in range(3)}
    p2s6 = {f"c{k}": 0.1 * (k + 1) for k in range(3)}
    v = stage.evaluate_claims({g: METRICS for g in tables}, METRICS, tables, stage.correlation_rows(tables, settings()),
                              {}, p2s6, settings())
    assert v["C4"]["verdict"] == "holds" and "glass-to-glass variation is NOT included" in v["C4"]["numbers"]


def test_composition_mean_combines_replicas():
    rng = np.random.default_rng(8)
    one = composition_mean_softness([rng.normal(0, 1, 400)])
    assert not one["glass_to_glass_included"] and one["stderr_source"] == "within-replica"
    assert one["stderr"] == pytest.approx(1 / np.sqrt(400), rel=0.15)
    three = composition_mean_softness([rng.normal(m, 1, 400) for m in (-1.0, 0.0, 1.0)])
    assert three["glass_to_glass_included"] and three["stderr_source"] == "between-replica"
    assert three["stderr"] == pytest.approx(np.std([-1, 0, 1], ddof=1) / np.sqrt(3), rel=0.2)


def test_bootstrap_helpers():
    rng = np.random.default_rng(9)
    pos = rng.uniform(0, 10, (500, 3))
    assert len(np.unique(spatial_blocks(pos, 3))) == 27
    assert np.array_equal(spatial_blocks(pos, 0), np.arange(500))
    x = rng.normal(size=500)
    y = 0.5 * x + rng.normal(size=500)
    res = bootstrap_statistic(pearson_r, [x, y], blocks=spatial_blocks(pos, 3), n_boot=300, seed=1)
    assert res["ci_low"] < res["value"] < res["ci_high"] and res["ci_low"] > 0.2 and res["n_blocks"] == 27
    assert np.allclose([centre_by_group(np.array([1.0, 3.0, 10.0, 14.0]), [0, 0, 1, 1])], [[-1, 1, -2, 2]])
    with pytest.raises(ValueError, match="both"):
        group_contrast(x, x > 0, np.zeros(500), other=x > -1)


def test_channel_variants_find_the_informative_channel():
    from lipsglass.softness import channel_variant_metrics, rsf_feature_names

    rng = np.random.default_rng(10)
    n_li, n_win = 120, 2
    li = np.repeat(np.arange(n_li), n_win)
    y = np.repeat(rng.integers(0, 2, n_li), n_win)
    mu = np.arange(1.0, 3.0, 0.5)
    names = rsf_feature_names(["Li", "P", "S"], mu)
    X = rng.normal(size=(len(y), len(names)))
    X[:, :len(mu)] += 1.5 * (2 * y[:, None] - 1)  # only the Li channel carries the label
    kw = {"n_folds": 3, "Cs": (0.1, 1.0), "cv": 3, "seed": 0, "min_feature_std": 0.0}
    out = channel_variant_metrics(X, y, li, None, names, [["Li"], ["S"], ["Li", "P", "S"]],
                                  full_metrics={"test_accuracy": {"accuracy": 0.9}}, **kw)
    assert [v["n_features"] for v in out] == [4, 4, 12]
    assert out[0]["test_accuracy"]["ci_low"] > 0.8
    assert out[1]["test_accuracy"]["ci_low"] < 0.5 < out[1]["test_accuracy"]["ci_high"]
    assert out[2]["same_as_main_model"] and out[2]["test_accuracy"] == {"accuracy": 0.9}
    with pytest.raises(ValueError, match="no feature columns"):
        channel_variant_metrics(X, y, li, None, names, [["Na"]], **kw)
    with pytest.raises(ValueError, match="channel variant"):
        SoftnessSettings(channel_variants=[["Na"]])


def test_c6_a_glass_without_enough_share_bins_does_not_hide_a_refutation():
    """Glass C has every P2S6 share in one bin (binned r undefined): with A and B (no
    within-glass correlation) C6 still does not hold, and C is named not testable; with only C
    and a planted strong correlation in the other glasses C6 stays undecided (not testable)."""
    rng = np.random.default_rng(12)
    tables = shifted_pair(rng)
    tables["C"] = glass_table(rng, rng.normal(0, 1, 400), np.full(400, 0.05))
    s = settings()
    rows = stage.correlation_rows(tables, s)
    v = stage.evaluate_claims({g: METRICS for g in tables}, METRICS, tables, rows, {}, {"A": 0.2, "B": 0.6, "C": 0.4}, s)
    assert v["C6"]["verdict"] == "does not hold"
    assert "C: fewer than 4 populated share bins, not testable" in v["C6"]["numbers"]
    planted = shifted_pair(rng, slope=-8.0)
    planted["C"] = tables["C"]
    rows = stage.correlation_rows(planted, s)
    v = stage.evaluate_claims({g: METRICS for g in planted}, METRICS, planted, rows, {}, {"A": 0.2, "B": 0.6, "C": 0.4},
                              s)
    assert v["C6"]["verdict"] == "not testable"
