"""lipsglass.planning: the study size that decides a claim has the nominal power on planted effects,
and the plan is read from claim rows and turned into a config overlay with its cost."""

import math
import os

import numpy as np
import pytest
import yaml
from scipy import stats

from lipsglass import planning as P
from lipsglass.config import load_config, neb_glasses


def test_size_factor_gives_nominal_power_on_a_planted_effect():
    rng = np.random.default_rng(7)
    sigma, effect, n0 = 1.0, 0.3, 20
    f = P.size_factor(effect, sigma / math.sqrt(n0))
    assert f == pytest.approx((P.z_sum() * sigma / math.sqrt(n0) / effect) ** 2)
    n = int(math.ceil(n0 * f))
    reps = 4000
    x = rng.normal(effect, sigma, size=(reps, n))
    z = x.mean(axis=1) / (x.std(axis=1, ddof=1) / math.sqrt(n))
    power = np.mean(np.abs(z) > stats.norm.ppf(0.975))
    assert 0.77 < power < 0.84
    # at the current size the test is underpowered, and a null is rejected at ~alpha
    x0 = rng.normal(0.0, sigma, size=(reps, n))
    z0 = x0.mean(axis=1) / (x0.std(axis=1, ddof=1) / math.sqrt(n))
    assert np.mean(np.abs(z0) > stats.norm.ppf(0.975)) < 0.065


def test_size_factor_edge_cases():
    assert P.size_factor(1.0, 0.01) == 1.0  # already decided: never shrinks
    assert math.isinf(P.size_factor(0.7, 0.1, threshold=0.7))
    with pytest.raises(ValueError):
        P.size_factor(1.0, float("nan"))


def test_c9_plan_uses_the_paired_design_and_the_yield():
    from lipsglass.stages.neb import pairs_needed

    # 4 converged hops with known paired differences (soft-site minus hard-site barrier), 4 rejected
    conv = [("soft->hard", 0.40, 0.50), ("soft->hard", 0.30, 0.60), ("hard->soft", 0.70, 0.45),
            ("hard->soft", 0.55, 0.50)]
    rows = [{"status": "converged", "class": c, "E_forward_eV": f, "E_backward_eV": b, "wall_s": "10"}
            for c, f, b in conv]
    rows += [{"status": "concerted_move", "class": "soft->hard", "wall_s": "10"} for _ in range(4)]
    diffs = P.paired_differences({"g": rows})
    assert diffs.tolist() == pytest.approx([-0.10, -0.30, -0.25, -0.05])
    config = {"neb": {"claims": {"c9_margin_eV": 0.1, "c9_power": 0.8, "min_hops_per_class": 10}}}
    need = P._neb_need({"claim": "C9"}, {"g": rows}, config)
    n = max(pairs_needed(float(np.std(diffs, ddof=1)), 0.1, power=0.8), 20)
    assert need.needed == n and need.current == 4
    # half the attempted hops converged: twice as many attempted, over 2 classes x 1 glass
    assert need.config_changes == {"neb": {"n_per_class": math.ceil(n / 0.5 / 2)}}
    # the basis also states the hops to attempt at the yield's lower confidence limit
    assert f"up to {math.ceil(n / P.yield_lower_limit(4, 8))} at the yield's" in need.basis
    # below 3 converged hops the configured assumed spread is used
    few = P._neb_need({"claim": "C9"}, {"g": rows[:2] + rows[4:]},
                      {"neb": {"claims": {"c9_margin_eV": 0.1, "c9_power": 0.8, "c9_assumed_sd_eV": 0.3}}})
    assert few.needed == max(pairs_needed(0.3, 0.1, power=0.8), 20)


def test_intervals_skip_baselines_and_decided_ones():
    text = ("g1: held-out 0.749 [0.687, 0.802] (n Li), Li-S count baseline 0.701 [0.637, 0.758]; "
            "g2: held-out 0.80 [0.74, 0.85]")
    assert P.intervals_in(text) == [(0.749, 0.687, 0.802), (0.80, 0.74, 0.85)]
    row = {"claim": "C3", "verdict": "not testable", "measured": text}
    need = P.plan_need(row, {"compositions": {"g": {"units": {"PS4": 2}}}, "replicas": 1})
    se = (0.802 - 0.687) / (2 * 1.959964)
    assert need.factor == pytest.approx((P.z_sum() * se / 0.049) ** 2, rel=1e-3)
    assert need.config_changes == {"replicas": math.ceil(need.factor)}   # C3: t over glass replicas
    assert P.plan_need(dict(row, verdict="holds"), {}) is None


def test_every_claim_that_a_study_can_grow_maps_to_a_costed_config_change():
    # C13 (peak positions, set by the g(r) bin) is the only claim no sample size decides
    assert set(P.CLAIM_DIMENSIONS) == {f"C{i}" for i in range(1, 13)}
    config = {"compositions": {"g": {"units": {"PS4": 2}}}, "replicas": 2}
    for claim, (_, kind) in P.CLAIM_DIMENSIONS.items():
        if kind in ("cell", "replicas"):
            need = P.plan_need({"claim": claim, "verdict": "not tested", "effect": "0.1", "effect_se": "0.1",
                                "threshold": "0"}, config)
            assert need.config_changes and need.needed > need.current, claim


def test_structured_columns_win_and_replicas_scale():
    row = {"claim": "C4", "verdict": "not tested", "measured": "difference 9 +- 1",
           "effect": "0.1", "effect_se": "0.1"}
    need = P.plan_need(row, {"replicas": 2})
    assert need.factor == pytest.approx(P.z_sum() ** 2)
    assert need.needed == math.ceil(2 * P.z_sum() ** 2) and need.config_changes == {"replicas": need.needed}


def test_plan_of_the_default_config_is_a_config_overlay_with_costs(tmp_path):
    config = load_config("config/config.yaml")
    arrhenius = {g: {"run_length_needed": [{"T_K": 300.0, "duration_ps": 401.0}, {"T_K": 500.0, "duration_ps": 52.0}]}
                 for g in config["compositions"]}
    # 5 converged hops, 9-image bands refined to 17 images, 36 s wall each
    barriers = {"g": [{"status": "converged", "class": "soft->hard", "E_forward_eV": e, "E_backward_eV": 0.45,
                       "wall_s": "36", "replicas": "9", "refined_replicas": "17"} for e in (0.30, 0.40, 0.50)]
                + [{"status": "converged", "class": "hard->soft", "E_forward_eV": e, "E_backward_eV": 0.45,
                    "wall_s": "36", "replicas": "9", "refined_replicas": "17"} for e in (0.55, 0.65)]}
    rows = [{"claim": "C1", "verdict": "not tested", "measured": ""},
            {"claim": "C9", "verdict": "not tested", "measured": ""},
            {"claim": "C7", "verdict": "does not hold", "measured": "0.05 [0.04, 0.06]"},
            {"claim": "C8", "verdict": "not testable", "numbers": "r = +0.005 [-0.093, +0.111]"}]
    needs, overlay = P.study_plan(rows, config, arrhenius, barriers)
    by = {n.claim: n for n in needs}
    assert set(by) == {"C1", "C9", "C8"}
    assert overlay["production"]["duration_ps"] == 410.0
    assert 400.0 in overlay["production"]["temperatures_K"]  # a third glassy temperature for C1's chi2 test
    assert by["C1"].core_hours > 0
    from lipsglass.stages.neb import pairs_needed

    diffs = [-0.15, -0.05, 0.05, -0.10, -0.20]  # soft-site minus hard-site barrier of the planted hops
    claims = config["neb"]["claims"]
    assert by["C9"].needed == max(pairs_needed(float(np.std(diffs, ddof=1)), claims["c9_margin_eV"],
                                               power=claims["c9_power"]), 2 * claims["min_hops_per_class"])
    # every hop converged (yield 1); each kept min(17 ranks, cores) cores busy for its 36 s
    cores = min(17 * config["neb"].get("ranks_per_replica", 1), os.cpu_count())
    hops_now = config["neb"]["n_per_class"] * len(config["neb"]["classes"]) * len(neb_glasses(config))
    hops = overlay["neb"]["n_per_class"] * len(config["neb"]["classes"]) * len(neb_glasses(config))
    assert hops >= hops_now and by["C9"].core_hours == pytest.approx((hops - hops_now) * 36 * cores / 3600.0)
    # beyond MAX_FACTOR: sized and costed, but kept out of the overlay
    assert by["C8"].factor > P.MAX_FACTOR and by["C8"].config_changes and not by["C8"].in_overlay
    assert by["C8"].core_hours > 0 and "compositions" not in overlay
    P.write_plan(needs, overlay, config, tmp_path / "plan.csv", tmp_path / "repro.yaml")
    assert yaml.safe_load((tmp_path / "repro.yaml").read_text()) == overlay
    plan = P.read_plan(tmp_path / "plan.csv")
    assert set(plan) == {"C1", "C9", "C8"} and all("core-h" in text for text in plan.values())


def test_yield_upper_limit_is_the_one_sided_clopper_pearson_limit():
    # at the limit, observing <= k successes of n has probability 1 - level
    for k, n in ((0, 40), (0, 5), (3, 40), (10, 12)):
        hi = P.yield_upper_limit(k, n)
        assert stats.binom.cdf(k, n, hi) == pytest.approx(0.05, abs=1e-9)
    assert P.yield_upper_limit(0, 40) == pytest.approx(1 - 0.05 ** (1 / 40))
    assert P.yield_upper_limit(0, 0) == 1.0 and P.yield_upper_limit(4, 4) == 1.0
    with pytest.raises(ValueError):
        P.yield_upper_limit(5, 4)


def test_yield_lower_limit_is_the_one_sided_clopper_pearson_limit():
    # at the limit, observing >= k successes of n has probability 1 - level
    for k, n in ((4, 4), (1, 5), (3, 40), (10, 12)):
        lo = P.yield_lower_limit(k, n)
        assert stats.binom.sf(k - 1, n, lo) == pytest.approx(0.05, abs=1e-9)
    assert P.yield_lower_limit(4, 4) == pytest.approx(0.05 ** (1 / 4))
    assert P.yield_lower_limit(0, 7) == 0.0
    with pytest.raises(ValueError):
        P.yield_lower_limit(5, 4)


def test_c9_with_no_converged_hop_gives_a_lower_bound_on_hops_and_core_hours():
    from lipsglass.stages.neb import pairs_needed

    # 30 attempted hops in 2 glasses, none converged: 20 rejected at the end states (10 s), 10 ran a band (100 s)
    barriers = {g: [{"status": "concerted_move", "class": c, "wall_s": "10", "replicas": "", "refined_replicas": ""}
                    for c in ("soft->hard", "hard->soft") for _ in range(5)]
                + [{"status": "not_converged", "class": "soft->hard", "wall_s": "100", "replicas": "9",
                    "refined_replicas": ""} for _ in range(5)] for g in ("a", "b")}
    claims = {"c9_margin_eV": 0.1, "c9_power": 0.8, "c9_assumed_sd_eV": 0.3, "min_hops_per_class": 10}
    config = load_config("config/config.yaml")
    config["compositions"] = {g: config["compositions"]["P2S6-25"] for g in ("a", "b")}   # the two NEB glasses
    config["neb"].update(claims=claims, n_per_class=10, classes=["soft->hard", "hard->soft"], glasses=["a", "b"])
    need = P._neb_need({"claim": "C9"}, barriers, config)
    n = max(pairs_needed(0.3, 0.1, power=0.8), 20)
    hi = 1 - 0.05 ** (1 / 30)
    per = math.ceil(math.ceil(n / hi) / 4)  # 2 classes x 2 glasses
    assert need.needed == n and need.current == 0 and need.core_hours_bound == "at least"
    assert need.config_changes == {"neb": {"n_per_class": per}}
    assert "at most" in need.basis and "Jeffreys" in need.basis
    per_hop = P.neb_core_hours_per_hop(barriers, 1, cores=64)
    assert per_hop == pytest.approx((20 * 10 + 10 * 100 * 9) / 30 / 3600)
    P.cost_needs([need], config, 1e5, per_hop)
    assert need.core_hours == pytest.approx((per * 4 - 40) * per_hop)
    assert need.summary().count("at least +") == 1


def test_c10_plan_from_the_stratified_odds_ratio_has_nominal_power_on_a_planted_effect():
    """Two glasses whose Li hop at different base rates with a common odds ratio 12/7 (PS4 9 of 30
    vs P2S6 6 of 30; PS4 18 of 30 vs P2S6 14 of 30): the planned growth factor f of the Li per
    stratum gives a stratified study that decides C10 with power ~0.8 (the cell grows by ceil(f)),
    and a null study of that size is rejected at <= 5 %."""
    from lipsglass.stages import neb as stage

    def motion(ps4, p2s6):
        return {"by_anion": {"PS4": {"n": ps4[1], "n_hopped": ps4[0]}, "P2S6": {"n": p2s6[1], "n_hopped": p2s6[0]}},
                "duration_ps": 10.0, "temperature_K": 500.0, "hop_distance_A": 3.0}

    strata = [((9, 30), (6, 30)), ((18, 30), (14, 30))]
    row = stage.c10_claim({"g1": {"1": motion(*strata[0])}, "g2": {"1": motion(*strata[1])}},
                          {"min_li_per_anion": 10}, "src")
    assert row["verdict"] == "not tested" and row["sample_size"] == 60 and row["threshold"] == 0.0
    config = {"compositions": {"g": {"units": {"PS4": 1, "P2S6": 1}}}}
    need = P.plan_need(row, config)
    k = int(need.needed)
    assert k == math.ceil(need.factor) and need.config_changes == {"compositions": {"g": {"units": {"PS4": k, "P2S6": k}}}}
    assert 3 <= need.factor <= 12 and f"60 now, ~{math.ceil(60 * need.factor)} needed" in need.basis
    rng = np.random.default_rng(11)
    p_rates = [(k1 / n1, k2 / n2) for (k1, n1), (k2, n2) in strata]
    m = int(round(30 * need.factor))  # Li per group and stratum of the planned study
    hits = nulls = 0
    trials = 1500
    for _ in range(trials):
        tabs, tabs0 = [], []
        for p1, p2 in p_rates:
            a, c = rng.binomial(m, p1), rng.binomial(m, p2)
            tabs.append([[a, m - a], [c, m - c]])
            a0, c0 = rng.binomial(m, p2), rng.binomial(m, p2)
            tabs0.append([[a0, m - a0], [c0, m - c0]])
        t, t0 = stage.mantel_haenszel(tabs), stage.mantel_haenszel(tabs0)
        hits += t["ci_low"] > 1 or t["ci_high"] < 1
        nulls += t0["ci_low"] > 1 or t0["ci_high"] < 1
    assert 0.75 < hits / trials < 0.85
    assert nulls / trials <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / trials)


def test_generated_overlay_validates_against_the_config_schema(tmp_path):
    """The overlay that adds a glassy temperature between 300 and 500 K writes whole kelvin (ints),
    and merged over config/config.yaml (as snakemake --configfile does) passes the schema."""
    from lipsglass.config import validate_config

    config = load_config("config/config.yaml")
    arrhenius = {g: {"run_length_needed": [{"T_K": 300.0, "duration_ps": 425.0}, {"T_K": 500.0, "duration_ps": 57.0}]}
                 for g in config["compositions"]}
    rows = [{"claim": "C1", "verdict": "not tested", "measured": ""},
            {"claim": "C9", "verdict": "not tested", "measured": ""},
            {"claim": "C10", "verdict": "not tested", "measured": "", "effect": "-0.12", "effect_se": "0.15",
             "threshold": "0", "sample_size": "312", "sample_unit": "Li near P2S6"}]
    barriers = {g: [{"status": "concerted_move", "class": "soft->hard", "wall_s": "8"}] * 20
                for g in neb_glasses(config)}
    needs, overlay = P.study_plan(rows, config, arrhenius, barriers)
    P.write_plan(needs, overlay, config, tmp_path / "plan.csv", tmp_path / "repro.yaml")
    written = yaml.safe_load((tmp_path / "repro.yaml").read_text())
    temps = written["production"]["temperatures_K"]
    assert temps == [300, 400, 500] and all(type(T) is int for T in temps)
    assert {"production", "neb", "compositions"} <= set(written)
    validate_config(P._merge(config, written))
    assert all(n.core_hours is not None and n.core_hours > 0 for n in needs)


def test_committed_reproduction_config_validates():
    from lipsglass.config import validate_config

    overlay = yaml.safe_load(open("config/reproduction.yaml"))
    validate_config(P._merge(load_config("config/config.yaml"), overlay))
    assert all(type(T) is int for T in overlay.get("production", {}).get("temperatures_K", []))
