"""Claims C4, C5, C6 and C8 (lipsglass.claims.softness) on constructed glasses whose answer is
known: each claim's "holds", "does not hold" and "not tested", the interval's unit (glasses),
and the rows the scorecard reads."""

import math

import numpy as np
import pytest

from lipsglass.claims.softness import (GlassSoftness, SoftnessCriteria, c4_claim, c5_claim, c6_claim, c8_claim,
                                       softness_claims)
from lipsglass.claims.softness_statistics import cluster_ratio_interval, fisher_t_interval, ols_slope_interval
from lipsglass.claims.verdict import DOES_NOT_HOLD, HOLDS, NOT_TESTED
from lipsglass.softness.settings import SoftnessSettings

CRIT = SoftnessCriteria()
FRACTIONS = (0.25, 0.20, 0.15, 0.10, 0.05)


def glass(rng, softness, comp="P2S6-25", replica="1", p2s6=0.25, share_p2s6=None, share_ps4=None, near=None,
          pe=None, voronoi=None, atoms=792):
    n = len(softness)
    share_p2s6 = rng.uniform(0, 1, n) if share_p2s6 is None else share_p2s6
    share_ps4 = (1 - share_p2s6) * rng.uniform(0, 1, n) if share_ps4 is None else share_ps4
    if near is None:
        groups = rng.choice(["PS4", "P2S7", "P2S6"], n, p=(0.15, 0.7, 0.15))
        near = {a: groups == a for a in ("PS4", "P2S7", "P2S6")}
    return GlassSoftness(comp, replica, p2s6, atoms, np.asarray(softness, float), share_p2s6, share_ps4, near,
                         rng.normal(size=n) if pe is None else pe, rng.normal(size=n) if voronoi is None else voronoi)


def study(rng, make, replicas=2, fractions=FRACTIONS):
    """Glasses of ``fractions`` x ``replicas``: make(rng, fraction) -> GlassSoftness fields."""
    return [make(rng, f, f"P2S6-{round(100 * f)}", str(r + 1)) for f in fractions for r in range(replicas)]


# ---- C4 -----------------------------------------------------------------------------------------

def c4_study(rng, slope, glass_sd=0.05, n=258, replicas=2, fractions=FRACTIONS):
    return study(rng, lambda rng, f, c, r: glass(rng, slope * f + rng.normal(0, glass_sd) + rng.normal(0, 1, n), c, r,
                                                 f), replicas, fractions)


def test_c4_holds_when_softness_falls_with_p2s6_beyond_the_margin():
    v = c4_claim(c4_study(np.random.default_rng(1), slope=-5.0), CRIT, ps=10.0)
    assert v.verdict == HOLDS and v.interval.high < -CRIT.c4_margin
    assert v.unit == "glass (replica)" and "t over 10 glasses" in v.interval.method
    assert v.interval.low < -5.0 < v.interval.high
    assert v.scale.glasses == 5 and v.scale.replicas == 2 and v.scale.li == 2580 and v.scale.ps == 10.0


def test_c4_does_not_hold_when_softness_rises_with_p2s6():
    v = c4_claim(c4_study(np.random.default_rng(2), slope=3.0), CRIT)
    assert v.verdict == DOES_NOT_HOLD and v.interval.low > -CRIT.c4_margin
    assert "overturned" in v.would_decide


def test_c4_not_tested_when_the_glasses_disagree_or_cannot_tell():
    # a slope on the margin with large glass-to-glass scatter: the interval straddles -margin
    v = c4_claim(c4_study(np.random.default_rng(3), slope=-CRIT.c4_margin, glass_sd=1.0), CRIT)
    assert v.verdict == NOT_TESTED and v.interval.low < -CRIT.c4_margin < v.interval.high
    assert "glasses" in v.would_decide
    # one composition: no slope, whatever the replicas say
    one = c4_claim(c4_study(np.random.default_rng(4), slope=-5.0, replicas=3, fractions=(0.25,)), CRIT)
    assert one.verdict == NOT_TESTED and one.interval is None and "one P2S6 fraction" in one.why_not_tested


def test_c4_mean_over_li_is_the_datum_not_each_li():
    """Ten glasses of 2580 Li each: a glass offset (sd 0.5) dwarfs the SE over Li (0.02), and
    the interval must say so (an interval over Li would hold the slope -5 to +-0.1)."""
    v = c4_claim(c4_study(np.random.default_rng(5), slope=-5.0, glass_sd=0.5, n=2580), CRIT)
    assert v.interval.high - v.interval.low > 2.0


# ---- C5 -----------------------------------------------------------------------------------------

def c5_glass(rng, comp, replica, p_soft_ps4, p_soft_p2s6, p2s7_mean, n=258):
    groups = rng.choice(["PS4", "P2S7", "P2S6"], n, p=(0.15, 0.7, 0.15))
    s = np.where(groups == "P2S7", rng.normal(p2s7_mean, 0.3, n), 0.0)
    s[groups == "PS4"] = np.where(rng.uniform(size=np.sum(groups == "PS4")) < p_soft_ps4, 1.0, -1.0)
    s[groups == "P2S6"] = np.where(rng.uniform(size=np.sum(groups == "P2S6")) < p_soft_p2s6, 1.0, -1.0)
    return glass(rng, s, comp, replica, near={a: groups == a for a in ("PS4", "P2S7", "P2S6")})


def test_c5_holds_when_every_group_is_inside_its_region():
    rng = np.random.default_rng(6)
    v = c5_claim(study(rng, lambda rng, f, c, r: c5_glass(rng, c, r, 0.9, 0.1, 0.0)), CRIT)
    assert v.verdict == HOLDS
    assert v.interval.low > 0.5 + CRIT.c5_fraction_margin and "part 1 of 3" in v.estimand
    assert "cluster-robust ratio, t over 10 glasses" in v.interval.method
    assert v.interval.level == pytest.approx(1 - 0.10 / 3)  # Bonferroni over the parts


def test_c5_does_not_hold_when_li_near_ps4_are_mostly_hard():
    rng = np.random.default_rng(7)
    v = c5_claim(study(rng, lambda rng, f, c, r: c5_glass(rng, c, r, 0.2, 0.1, 0.0)), CRIT)
    assert v.verdict == DOES_NOT_HOLD and "near PS4" in v.estimand
    assert v.interval.high < 0.5 + CRIT.c5_fraction_margin


def test_c5_p2s7_near_zero_is_an_equivalence_not_a_failed_test():
    """P2S7 mean 0.5 (on the margin): the interval straddles +margin, so C5 is not tested even
    though PS4 and P2S6 hold; a mean of 2 (far outside the band) does not hold."""
    rng = np.random.default_rng(8)
    edge = c5_claim(study(rng, lambda rng, f, c, r: c5_glass(rng, c, r, 0.9, 0.1, CRIT.c5_p2s7_margin)), CRIT)
    assert edge.verdict == NOT_TESTED and "near P2S7" in edge.estimand
    assert edge.interval.low < CRIT.c5_p2s7_margin < edge.interval.high
    far = c5_claim(study(rng, lambda rng, f, c, r: c5_glass(rng, c, r, 0.9, 0.1, 2.0)), CRIT)
    assert far.verdict == DOES_NOT_HOLD and far.interval.low > CRIT.c5_p2s7_margin


def test_cluster_ratio_weights_glasses_by_their_li_and_skips_empty_ones():
    i = cluster_ratio_interval([9, 1, 0], [10, 10, 0], 0.9)
    assert i.estimate == pytest.approx(0.5) and "t over 2 glasses" in i.method
    # se = sqrt(2 * ((9 - 5)^2 + (1 - 5)^2)) / 20 = 0.4; t(1) 95 % quantile 6.31
    assert i.high - i.estimate == pytest.approx(6.3138 * 0.4, rel=1e-3)
    assert cluster_ratio_interval([3], [5], 0.9) is None


# ---- C6 -----------------------------------------------------------------------------------------

def c6_glass(rng, comp, replica, f, rho, offset=0.0, n=258):
    share6 = 0.5 * rng.uniform(0, 1, n) + 2 * f  # P2S6-rich glasses: Li with more S on P2S6
    share4 = 1 - share6
    z = (share6 - share6.mean()) / share6.std()
    s = offset + rho * z + math.sqrt(1 - rho ** 2) * rng.normal(size=n)
    return glass(rng, s, comp, replica, f, share6, share4)


def test_c6_holds_on_a_within_glass_correlation_of_the_papers_size():
    v = c6_claim(study(np.random.default_rng(9), lambda rng, f, c, r: c6_glass(rng, c, r, f, -0.4)), CRIT)
    assert v.verdict == HOLDS and v.interval.high < -CRIT.c6_margin and "Fisher z" in v.interval.method


def test_c6_composition_shift_alone_does_not_hold():
    """S shifts with the composition (offset -10 x P2S6 fraction) but not with the share within
    a glass: the naive pooled binned r is strong, the within-glass r is 0 and C6 does not hold."""
    rng = np.random.default_rng(10)
    glasses = study(rng, lambda rng, f, c, r: c6_glass(rng, c, r, f, 0.0, offset=-10 * f))
    share = np.concatenate([g.share_p2s6 for g in glasses])
    s = np.concatenate([g.softness for g in glasses])
    assert np.corrcoef(share, s)[0, 1] < -0.3  # pooling raw S would see a correlation
    v = c6_claim(glasses, CRIT)
    assert v.verdict == DOES_NOT_HOLD and v.interval.low > -CRIT.c6_margin


def test_c6_on_one_glass_is_not_tested():
    v = c6_claim([c6_glass(np.random.default_rng(11), "P2S6-25", "1", 0.25, -0.6, n=2580)], CRIT)
    assert v.verdict == NOT_TESTED and v.interval is None and "need 2" in v.why_not_tested


# ---- C8 -----------------------------------------------------------------------------------------

def c8_glass(rng, comp, replica, rho, n=258, offset=0.0):
    s = rng.normal(size=n)
    pe = rho * s + math.sqrt(1 - rho ** 2) * rng.normal(size=n) - 3 * offset
    vo = rho * s + math.sqrt(1 - rho ** 2) * rng.normal(size=n)
    return glass(rng, s + offset, comp, replica, pe=pe, voronoi=vo)


def test_c8_holds_within_glasses_whatever_the_glass_offsets():
    """Within every glass pe and volume rise with S (r 0.5); between glasses pe falls as S rises
    (offsets): a pooled r would reverse the sign, the within-glass one does not."""
    rng = np.random.default_rng(12)
    glasses = study(rng, lambda rng, f, c, r: c8_glass(rng, c, r, 0.5, offset=10 * f))
    assert np.corrcoef(np.concatenate([g.softness for g in glasses]),
                       np.concatenate([g.pe_kcal_mol for g in glasses]))[0, 1] < 0
    v = c8_claim(glasses, CRIT)
    assert v.verdict == HOLDS and v.interval.low > CRIT.c8_margin


def test_c8_does_not_hold_when_softer_li_have_lower_energy():
    v = c8_claim(study(np.random.default_rng(13), lambda rng, f, c, r: c8_glass(rng, c, r, -0.3)), CRIT)
    assert v.verdict == DOES_NOT_HOLD and v.interval.high < CRIT.c8_margin


def test_c8_not_tested_with_two_small_glasses_on_the_margin():
    rng = np.random.default_rng(14)
    v = c8_claim([c8_glass(rng, "A", str(k), CRIT.c8_margin, n=150) for k in (1, 2)], CRIT)
    assert v.verdict == NOT_TESTED and v.interval is not None


# ---- all four, the scale and the rows -------------------------------------------------------------

def test_glasses_below_the_minimum_li_make_every_claim_not_tested_at_this_scale():
    """The tiny test glass (41 Li): every softness claim is "not tested at this scale", even with
    a planted effect that would hold in larger glasses."""
    rng = np.random.default_rng(15)
    glasses = study(rng, lambda rng, f, c, r: c6_glass(rng, c, r, f, -0.9, offset=-20 * f, n=41))
    for v in softness_claims(glasses, CRIT, ps=2.0):
        assert v.verdict == NOT_TESTED and v.why_not_tested.startswith("not tested at this scale"), v.claim
        assert "41 Li" in v.why_not_tested and v.would_decide
        row = v.row()
        assert row["scale"].startswith("5 glasses x 2 replicas") and "2 ps" in row["scale"]


def test_rows_carry_scale_unit_short_estimand_and_would_decide():
    rng = np.random.default_rng(16)
    glasses = study(rng, lambda rng, f, c, r: c6_glass(rng, c, r, f, -0.05))
    for v in softness_claims(glasses, CRIT, ps=10.0):
        row = v.row()
        assert len(row["estimand"]) < 130 and row["unit_of_independence"] == "glass (replica)"
        assert "792 atoms" in row["scale"] and "10 ps" in row["scale"] and row["margin_reason"]
        assert row["verdict"] == HOLDS or row["would_decide"] or row["why_not_tested"]
        assert "P2S6-25/r1" in row["detail"] and "P2S6-5/r2" in row["detail"]


def test_interval_helpers():
    x = np.array([0.05, 0.1, 0.15, 0.2, 0.25])
    i = ols_slope_interval(x, 2.0 - 3.0 * x, 0.9, "u")
    assert i.estimate == pytest.approx(-3.0) and i.low == pytest.approx(-3.0)  # exact line: zero width
    assert ols_slope_interval([0.1, 0.1, 0.1], [1, 2, 3], 0.9, "u") is None
    f = fisher_t_interval([0.2, 0.3, 0.25, np.nan], 0.9)
    assert f.low < 0.25 < f.high and "t over 3 glasses" in f.method
    assert fisher_t_interval([0.2], 0.9) is None


def test_criteria_come_from_the_claims_section_and_not_the_softness_settings():
    cfg = {"level": 0.8, "softness_min_li_per_glass": 50, "C4": {"margin": 1.0},
           "C5": {"fraction_margin": 0.2, "p2s7_margin": 0.3, "min_group_li": 7}, "C6": {"margin": 0.2},
           "C8": {"margin": 0.05}}
    c = SoftnessCriteria.from_config(cfg)
    assert (c.level, c.min_li_per_glass, c.c4_margin, c.c5_fraction_margin, c.c5_p2s7_margin, c.c5_min_group_li,
            c.c6_margin, c.c8_margin) == (0.8, 50, 1.0, 0.2, 0.3, 7, 0.2, 0.05)
    assert "claims" not in SoftnessSettings.__dataclass_fields__
    with pytest.raises(ValueError, match="unknown softness settings"):
        SoftnessSettings.from_config({"claims": {"min_accuracy": 0.7}})


def test_channel_variants_find_the_informative_channel():
    from lipsglass.softness.diagnostics import channel_variant_metrics
    from lipsglass.softness.features import rsf_feature_names

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
