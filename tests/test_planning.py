"""lipsglass.planning: the study size that decides a claim has the nominal power on planted effects,
and the plan is read from claim rows and turned into a config overlay with its cost."""

import math
import os

import numpy as np
import pytest
import yaml
from scipy import stats

from lipsglass import planning as P
from lipsglass.config import load_config, merge_config, neb_glasses, selected_glasses


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


def c9_rows(barriers_eV, cls, start=0, wall="10", **extra):
    """Converged barriers.csv rows (strings, as the planner reads them) of disjoint hops."""
    return [{"hop_id": str(start + k), "from_id": str(2 * (start + k)), "to_id": str(2 * (start + k) + 1),
             "class": cls, "status": "converged", "E_forward_eV": str(e), "E_backward_eV": "0.45", "wall_s": wall,
             **extra} for k, e in enumerate(barriers_eV)]


def test_c9_need_is_the_claims_own_plan_over_two_glasses():
    from lipsglass.claims.neb import c9_plan

    # one NEB glass: 4 converged hops (2 per origin), 4 rejected
    rows = c9_rows((0.40, 0.30), "soft->hard") + c9_rows((0.70, 0.55), "hard->soft", start=2)
    rows += [{"hop_id": str(10 + k), "from_id": "90", "to_id": "91", "status": "concerted_move", "class": "soft->hard",
              "wall_s": "10"} for k in range(4)]
    config = load_config("config/config.yaml")
    need = P._neb_need({"claim": "C9"}, {"g": rows}, config)
    plan = c9_plan({"g": rows}, config["claims"]["C9"], config["claims"]["level"])
    assert need.needed == plan["per_class"][1] and need.current == 2
    assert plan["per_class"][0] < plan["per_class"][1] < plan["per_class"][2]   # a range from the SD's interval
    # C9 needs >= 2 glasses: the overlay adds the second selected glass, and spreads the middle of the
    # attempts range (the measured yield 4/8) over 2 glasses x 1 hop class per origin
    assert need.config_changes == {"neb": {"glasses": selected_glasses(config)[:2],
        "n_per_class": math.ceil(plan["attempt_per_class"][1] / 2)}}
    assert plan["attempt_per_class"][1] == math.ceil(plan["per_class"][1] / 0.5)
    assert plan["text"] in need.basis and "a second selected glass" not in need.basis


def test_an_undecided_interval_is_sized_against_the_boundary_it_straddles():
    # C3-like: accuracy 0.749 [0.687, 0.802] (90 %) against the region > 0.7
    row = {"claim": "C3", "verdict": "not tested", "estimate": "0.749", "ci_low": "0.687", "ci_high": "0.802",
           "level": "0.9", "region_low": "0.7", "region_high": "inf"}
    need = P.plan_need(row, {"compositions": {"g": {"units": {"PS4": 2}}}, "replicas": 1})
    se = (0.802 - 0.687) / (2 * 1.644854)
    assert need.factor == pytest.approx((P.z_sum(alpha=0.1) * se / 0.049) ** 2, rel=1e-3)
    assert need.config_changes == {"replicas": math.ceil(need.factor)}   # C3: t over glass replicas
    assert P.plan_need(dict(row, verdict="holds"), {}) is None
    # an equivalence region: the boundary inside the interval decides, not the nearer one outside it
    row = dict(row, estimate="0.05", ci_low="-0.01", ci_high="0.11", region_low="-0.1", region_high="0.1")
    assert "boundary 0.1" in P.plan_need(row, {"replicas": 2, "compositions": {}}).basis


def test_a_claim_that_does_not_hold_is_retested_at_the_papers_scale():
    config, paper = load_config("config/config.yaml"), load_config("config/paper.yaml")
    row = {"claim": "C7", "verdict": "does not hold"}
    need = P.overturn_need(row, config, paper)
    assert need.config_changes == {"replicas": paper["replicas"]} and need.needed > need.current
    cell = P.overturn_need(dict(row, claim="C6"), config, paper)
    k = int(cell.needed)
    assert k >= 2 and all(u == n * k for g, e in cell.config_changes["compositions"].items()
                          for u, n in zip(e["units"].values(), config["compositions"][g]["units"].values()))
    assert P.overturn_need(row, paper, paper) is None  # already at the paper's scale: nothing to grow


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
    row = {"claim": "C4", "verdict": "not tested", "estimate": "9", "ci_low": "8", "ci_high": "10", "level": "0.9",
           "region_low": "-inf", "region_high": "0", "effect": "0.1", "effect_se": "0.1"}
    need = P.plan_need(row, {"replicas": 2})
    assert need.factor == pytest.approx(P.z_sum() ** 2)
    assert need.needed == math.ceil(2 * P.z_sum() ** 2) and need.config_changes == {"replicas": need.needed}


def test_plan_of_the_default_config_is_a_config_overlay_with_costs(tmp_path):
    config = load_config("config/config.yaml")
    arrhenius = {g: {"run_length_needed": [{"T_K": 300.0, "duration_ps": 401.0}, {"T_K": 500.0, "duration_ps": 52.0}]}
                 for g in config["compositions"]}
    # 5 converged hops, 9-image bands refined to 17 images, 36 s wall each
    band = {"replicas": "9", "refined_replicas": "17"}
    barriers = {"g": c9_rows((0.30, 0.40, 0.50), "soft->hard", wall="36", **band)
                + c9_rows((0.55, 0.65), "hard->soft", start=3, wall="36", **band)}
    rows = [{"claim": "C1", "verdict": "not tested", "measured": ""},
            {"claim": "C9", "verdict": "not tested", "measured": ""},
            {"claim": "C7", "verdict": "does not hold", "estimate": "0.05", "ci_low": "0.04", "ci_high": "0.06",
             "level": "0.9", "region_low": "-0.02", "region_high": "0.02"},
            {"claim": "C8", "verdict": "not tested", "estimate": "0.005", "ci_low": "-0.093", "ci_high": "0.111",
             "level": "0.9", "region_low": "0", "region_high": "inf"}]
    needs, overlay = P.study_plan(rows, config, arrhenius, barriers)
    by = {n.claim: n for n in needs}
    assert set(by) == {"C1", "C9", "C8"}
    assert overlay["production"]["duration_ps"] == 410.0
    assert 400.0 in overlay["production"]["temperatures_K"]  # a third glassy temperature for C1's chi2 test
    assert by["C1"].core_hours > 0
    from lipsglass.claims.neb import c9_plan

    plan = c9_plan(barriers, config["claims"]["C9"], config["claims"]["level"])
    assert by["C9"].needed == plan["per_class"][1] and by["C9"].current == 2
    # every hop converged (yield 1); each kept min(17 ranks, cores) cores busy for its 36 s; the overlay
    # runs its hops on 2 NEB glasses (C9 needs >= 2)
    cores = min(17 * config["neb"].get("ranks_per_replica", 1), os.cpu_count())
    hops_now = config["neb"]["n_per_class"] * len(config["neb"]["classes"]) * len(neb_glasses(config))
    hops = overlay["neb"]["n_per_class"] * len(config["neb"]["classes"]) * 2
    assert len(overlay["neb"]["glasses"]) == 2 and len(neb_glasses(config)) == 1
    assert hops >= hops_now and by["C9"].core_hours == pytest.approx((hops - hops_now) * 36 * cores / 3600.0)
    # beyond MAX_FACTOR: sized and costed, but kept out of the overlay
    assert by["C8"].factor > P.MAX_FACTOR and by["C8"].config_changes and not by["C8"].in_overlay
    assert by["C8"].core_hours > 0 and "compositions" not in overlay
    P.write_plan(needs, overlay, config, tmp_path / "plan.csv", tmp_path / "repro.yaml")
    assert yaml.safe_load((tmp_path / "repro.yaml").read_text()) == overlay
    plan = P.read_plan(tmp_path / "plan.csv")
    assert set(plan) == {"C1", "C9", "C8"} and all("core-h" in text for text in plan.values())


def test_c9_with_no_converged_hop_gives_a_lower_bound_on_hops_and_core_hours():
    from lipsglass.core.stats import wilson_interval

    # 30 attempted hops in 2 glasses, none converged: 20 rejected at the end states (10 s), 10 ran a band (100 s)
    barriers = {g: [{"status": "concerted_move", "class": c, "wall_s": "10", "replicas": "", "refined_replicas": ""}
                    for c in ("soft->hard", "hard->soft") for _ in range(5)]
                + [{"status": "not_converged", "class": "soft->hard", "wall_s": "100", "replicas": "9",
                    "refined_replicas": ""} for _ in range(5)] for g in ("a", "b")}
    config = load_config("config/config.yaml")
    config["compositions"] = {g: config["compositions"]["P2S6-25"] for g in ("a", "b")}   # the two NEB glasses
    config["glasses"] = ["a", "b"]
    config["neb"].update(n_per_class=10, classes=["soft->hard", "hard->soft"], glasses=["a", "b"])
    need = P._neb_need({"claim": "C9"}, barriers, config)
    # no measured spread: the assumed 0.3 eV (112 per class); the attempts at the Wilson upper limit of 0/30
    hi = wilson_interval(0, 30, config["claims"]["level"])[1]
    per = math.ceil(math.ceil(112 / hi) / 2)  # 2 glasses, one hop class per origin
    assert need.needed == 112 and need.current == 0 and need.core_hours_bound == "at least"
    assert need.config_changes == {"neb": {"n_per_class": per}}
    assert "at least" in need.basis and "assumed SD 0.3 eV" in need.basis
    per_hop = P.neb_core_hours_per_hop(barriers, 1, cores=64)
    assert per_hop == pytest.approx((20 * 10 + 10 * 100 * 9) / 30 / 3600)
    P.cost_needs([need], config, 1e5, per_hop)
    assert need.core_hours == pytest.approx((per * 4 - 40) * per_hop)
    assert need.summary().count("at least +") == 1


def test_c10_row_plans_glasses_through_the_replicas():
    """The C10 row's structured columns (planned difference, SE of the mean over glasses, margin)
    grow the replicas by the size factor; the claim's own range (90 % interval) lies at or below it
    (the planner sizes at alpha 0.05 two-sided)."""
    from lipsglass.claims.neb import c10_plan, c10_verdict

    def motion(ps4, p2s6):
        return {"by_anion": {"PS4": {"n": 60, "n_hopped": ps4}, "P2S6": {"n": 50, "n_hopped": p2s6}},
                "duration_ps": 10.0, "temperature_K": 500.0, "hop_distance_A": 3.0, "n_atoms": 792}

    config = load_config("config/config.yaml")
    crit = dict(config["claims"]["C10"])
    v = c10_verdict({"g1": {"1": motion(20, 10), "2": motion(30, 8)}, "g2": {"1": motion(15, 12)}}, crit, 0.9)
    assert v.verdict == "not tested"
    row = dict(v.row(), measured="")
    d = np.array([20 / 60 - 10 / 50, 30 / 60 - 8 / 50, 15 / 60 - 12 / 50])
    assert row["effect"] == crit["planned_difference"] and row["threshold"] == crit["margin"]
    assert row["effect_se"] == pytest.approx(d.std(ddof=1) / math.sqrt(3)) and row["sample_size"] == 3
    need = P.plan_need(row, config)
    f = (P.z_sum() * row["effect_se"] / (crit["planned_difference"] - crit["margin"])) ** 2
    assert need.factor == pytest.approx(f)
    assert need.config_changes == {"replicas": math.ceil(config["replicas"] * f)}
    own = c10_plan(float(d.std(ddof=1)), 3, crit, 0.9)["glasses"][1]
    assert own <= math.ceil(3 * f) + 1


def test_generated_overlay_validates_against_the_config_schema(tmp_path):
    """The overlay that adds a glassy temperature between 300 and 500 K writes whole kelvin (ints),
    and merged over config/config.yaml (as snakemake --configfile does) passes the schema."""
    from lipsglass.config import validate_config

    config = load_config("config/config.yaml")
    arrhenius = {g: {"run_length_needed": [{"T_K": 300.0, "duration_ps": 425.0}, {"T_K": 500.0, "duration_ps": 57.0}]}
                 for g in config["compositions"]}
    rows = [{"claim": "C1", "verdict": "not tested", "measured": ""},
            {"claim": "C9", "verdict": "not tested", "measured": ""},
            {"claim": "C10", "verdict": "not tested", "measured": "", "effect": "0.2", "effect_se": "0.05",
             "threshold": "0.1", "sample_size": "10", "sample_unit": "glasses (composition x replica)"}]
    barriers = {g: [{"status": "concerted_move", "class": "soft->hard", "wall_s": "8"}] * 20
                for g in neb_glasses(config)}
    needs, overlay = P.study_plan(rows, config, arrhenius, barriers)
    P.write_plan(needs, overlay, config, tmp_path / "plan.csv", tmp_path / "repro.yaml")
    written = yaml.safe_load((tmp_path / "repro.yaml").read_text())
    temps = written["production"]["temperatures_K"]
    assert temps == [300, 400, 500] and all(type(T) is int for T in temps)
    assert {"production", "neb", "replicas"} <= set(written)
    validate_config(merge_config(config, written))
    assert all(n.core_hours is not None and n.core_hours > 0 for n in needs)


def test_committed_reproduction_config_validates():
    from lipsglass.config import validate_config

    overlay = yaml.safe_load(open("config/reproduction.yaml"))
    validate_config(merge_config(load_config("config/config.yaml"), overlay))
    assert all(type(T) is int for T in overlay.get("production", {}).get("temperatures_K", []))


def test_a_claims_own_sizing_wins_over_its_interval():
    row = {"claim": "C12", "verdict": "not tested", "estimate": "-0.29", "ci_low": "-0.93", "ci_high": "0.35",
           "level": "0.95", "region_low": "-0.25", "region_high": "0.25", "size_factor": "9.3",
           "size_basis": "equivalence at a true d of 0"}
    need = P.plan_need(row, {"compositions": {"g": {"units": {"PS4": 2}}}, "replicas": 1})
    assert need.factor == pytest.approx(9.3) and need.basis == "equivalence at a true d of 0"
    assert need.config_changes == {"compositions": {"g": {"units": {"PS4": 20}}}}
