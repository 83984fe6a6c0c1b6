"""lipsglass.workstation_design: the workstation transport design (C1/C2 at this cell size) from
measured runs; C1's and C2's own rules simulated (lipsglass.claims.transport_power); the design in
the study plan and as a config overlay."""

import math

import numpy as np
import pytest
import yaml

from lipsglass import planning as P
from lipsglass import workstation_design as W
from lipsglass.claims.transport import c1_verdict
from lipsglass.claims.transport_power import c1_decided_fraction, c1_max_se, c2_decided_fraction
from lipsglass.composition import composition_from_config
from lipsglass.config import load_config, load_study_config, merge_config, validate_config
from lipsglass.cost import md_atom_steps_per_core_s, md_steps

KB = 8.617333262e-5
WS_GLASSES = ["P2S6-25", "P2S6-20", "P2S6-15", "P2S6-10", "P2S6-5"]


def ws_config(**production):
    config = load_config("config/config.yaml")
    config["glasses"] = list(WS_GLASSES)
    config["production"].update(production)
    return config


def ws_runs(temps=(300, 500), s=0.2, liquid=(), past=None):
    """Measured runs of 5 compositions x 2 replicas: ln D of the replicas +-s/sqrt(2) about the
    composition's value (replica SD s), Li motion past the cage from D (6 D t_end), as
    diffusion.json + phase.json give them."""
    out = []
    for g, base in zip(WS_GLASSES, (1.4e-5, 1.3e-5, 1.2e-5, 1.1e-5, 1.0e-5)):
        for k, sign in (("1", -1), ("2", 1)):
            for T in temps:
                D = base * math.exp(-0.15 / KB * (1 / T - 1 / 500)) * math.exp(sign * s / math.sqrt(2))
                moved = 6 * D * 1e4 * 5.4 if past is None else past
                out.append({"glass": g, "replica": k, "T_K": float(T), "D_cm2_s": D, "D_stderr_cm2_s": 0.1 * D,
                            "time_span_ps": 10.0, "msd_past_cage_A2": moved, "cage_threshold_A2": 17.0,
                            "fit_end_ps": 5.4, "n_atoms": 258, "volume_A3": 17600.0,
                            "phase": "liquid" if (g, k, T) in liquid else "glass"})
    return out


def test_workstation_design_sizes_temperatures_lengths_and_replicas_from_the_measured_runs():
    config, runs = ws_config(), ws_runs()
    d = W.workstation_transport_design(runs, {}, config, max_replicas=6)
    assert d["feasible"] and d["T_hi_K"] == 500 and d["replicas_now"] == 2
    # the slowest run at 500 K passes the cage criterion (17 A^2 past the cage at the fit window's end,
    # 3/5 of the run) after 5.4 ps x 17 / (its MSD past the cage) x 5 / 3; x 1.5, in 5 ps steps
    slowest = min(r["msd_past_cage_A2"] for r in runs if r["T_K"] == 500)
    L_meas = 5.4 * 17.0 / slowest * 5 / 3
    assert d["measured_length_ps"] == pytest.approx(L_meas) and d["longest_run"] == "P2S6-5 r1"
    assert d["duration_hi_ps"] == math.ceil(1.5 * L_meas / 5) * 5
    T_lo, k = d["T_lo_K"], d["replicas"]
    assert 300 <= T_lo < 500 and T_lo % 10 == 0
    assert d["duration_lo_ps"] == math.ceil(1.5 * L_meas * math.exp(W.WORKSTATION_EA_EV / KB * (1 / T_lo - 1 / 500)) / 10) * 10
    # C1's composition SE(Ea) from the replica SD of ln D (0.2 at both temperatures) over sqrt(replicas)
    dx = 1 / T_lo - 1 / 500
    se = KB * 0.2 * math.sqrt(2 / k) / dx
    x = [0.25, 0.20, 0.15, 0.10, 0.05]
    assert d["se_Ea_eV"] == pytest.approx(se, rel=1e-6)
    assert se <= c1_max_se(k, x, 0.5, 0.05, 0.9, P.POWER) == pytest.approx(d["se_Ea_target_eV"])
    if k > 2:   # the fewest replicas that decide C1 at this lower temperature
        assert KB * 0.2 * math.sqrt(2 / (k - 1)) / dx > c1_max_se(k - 1, x, 0.5, 0.05, 0.9, P.POWER)
    # the overlay: the new temperature and both lengths in whole kelvin, the replicas; it validates
    changes = d["config_changes"]
    assert changes == {"production": {"temperatures_K": sorted({300, T_lo, 500}),
                                      "durations_ps": {T_lo: d["duration_lo_ps"], 500: d["duration_hi_ps"]}},
                       "replicas": k}
    validate_config(merge_config(config, changes))
    # its cost: every replica's two transport runs, and the quench and 300 K run of each new replica, at the
    # MD throughput of the config's md settings
    atoms = sum(composition_from_config(g, config["compositions"][g]).n_atoms for g in WS_GLASSES)

    def core_hours(T, kk):
        merged = merge_config(config, {"production": {"temperatures_K": [300, T, 500], "durations_ps": {
            T: math.ceil(1.5 * L_meas * math.exp(W.WORKSTATION_EA_EV / KB * (1 / T - 1 / 500)) / 10) * 10,
            500: d["duration_hi_ps"]}}, "replicas": kk})
        steps = (kk * (md_steps(merged, T)["production"]["steps"] + md_steps(merged, 500)["production"]["steps"])
                 + (kk - 2) * (md_steps(merged)["quench"]["steps"] + md_steps(merged, 300)["production"]["steps"]))
        return atoms * steps / md_atom_steps_per_core_s(config) / 3600.0

    assert d["core_hours"] == pytest.approx(core_hours(T_lo, k))
    # the cheapest of every lower temperature of the grid, each at the fewest replicas that decide C1
    for T in range(490, 299, -10):
        fewest = next((kk for kk in range(2, 7) if KB * 0.2 * math.sqrt(2 / kk) / (1 / T - 1 / 500)
                       <= c1_max_se(kk, x, 0.5, 0.05, 0.9, P.POWER)), None)
        if fewest is not None:
            assert core_hours(T, fewest) >= d["core_hours"] - 1e-9, T


def test_workstation_design_stays_below_tg_and_where_the_runs_are_glass():
    runs = ws_runs(temps=(300, 400, 500, 600))
    config = ws_config()
    # 600 K lies above a replica's resolved Tg limit: the design starts from 500 K
    d = W.workstation_transport_design(runs, {("P2S6-25", "2"): {"Tg_K": 640.0, "low_K": 580.0}}, config,
                                       max_replicas=4)
    assert d["T_hi_K"] == 500 and d["Tg_ceiling_K"] == 580.0 and "580 K" in d["basis"]
    # three of ten runs at 500 K labelled liquid (more than a quarter): 400 K is the hottest glassy temperature
    liquid = {("P2S6-25", "2", 500), ("P2S6-5", "1", 500), ("P2S6-15", "1", 500)}
    d = W.workstation_transport_design(ws_runs(temps=(300, 400, 500), liquid=liquid), {}, config, max_replicas=4)
    assert d["T_hi_K"] == 400
    # one of ten: 500 K stays, its liquid run named
    d = W.workstation_transport_design(ws_runs(liquid={("P2S6-25", "2", 500)}), {}, config, max_replicas=4)
    assert d["T_hi_K"] == 500 and d["liquid_at_T_hi"] == ["P2S6-25 r2"] and "P2S6-25 r2 labelled liquid" in d["basis"]


def test_workstation_design_says_why_the_demo_cell_cannot_decide():
    config = ws_config()
    one_replica = [r for r in ws_runs() if r["replica"] == "1"]
    assert "no measured replica spread" in W.workstation_transport_design(one_replica, {}, config)["reason"]
    two = ws_config()
    two["glasses"] = WS_GLASSES[:2]   # C1's slope needs 3 compositions
    assert ">= 3" in W.workstation_transport_design(ws_runs(), {}, two)["reason"]
    caged = ws_runs(past=0.0)   # no Li motion past the vibration: no length to extrapolate
    assert "no measured glassy temperature" in W.workstation_transport_design(caged, {}, config)["reason"]
    # a spread so large that no replica count up to the limit decides C1
    d = W.workstation_transport_design(ws_runs(s=3.0), {}, config, max_replicas=3)
    assert not d["feasible"] and "decides C1" in d["reason"]


def test_c1_simulated_power_is_the_claims_own_rule():
    """The vectorised C1 rule of the planner decides as lipsglass.claims.transport.c1_verdict does."""
    x, k, effect, margin = [0.05, 0.10, 0.15, 0.20, 0.25], 3, 0.5, 0.05
    se = c1_max_se(k, x, effect, margin, 0.9, P.POWER)
    assert 0.015 < se < 0.03
    assert c1_decided_fraction(se, k, x, effect, margin, 0.9) == pytest.approx(P.POWER, abs=0.02)
    rng = np.random.default_rng(11)
    holds, n = 0, 1500
    nu = 2 * (k - 1)
    for _ in range(n):
        ea = 0.3 + effect * (np.array(x) - 0.15) + rng.normal(0, se, 5)
        ses = se * np.sqrt(rng.chisquare(nu, 5) / nu)
        fits = {f"g{i}": {"Ea_eV": ea[i], "Ea_stderr_eV": ses[i], "status": "ok", "replicas": k,
                          "temperatures_used_K": [400, 500], "phase_of_fit": "glass"} for i in range(5)}
        v = c1_verdict(fits, {f"g{i}": xi for i, xi in enumerate(x)}, {"margin_eV_per_fraction": margin,
                                                                       "min_glasses": 3}, 0.9)
        holds += v.verdict == "holds"
    assert holds / n == pytest.approx(P.POWER, abs=0.04)
    # below the margin the plan is for "does not hold"
    assert c1_decided_fraction(0.001, k, x, -0.5, margin, 0.9) > 0.99


def test_c2_simulated_power_follows_the_prediction():
    region = (-4.5, -2.96)
    assert c2_decided_fraction([-2.0] * 5, 0.05, 3, region, 0.9) > 0.99      # far above: does not hold
    assert c2_decided_fraction([-3.7] * 5, 0.05, 3, region, 0.9) > 0.99      # well inside: holds
    assert c2_decided_fraction([-2.96] * 5, 0.2, 3, region, 0.9) < 0.1       # on the edge: undecided
    assert c2_decided_fraction([-2.0] * 5, 0.12, 2, region, 0.9) < c2_decided_fraction([-2.0] * 5, 0.12, 4,
                                                                                           region, 0.9)


def test_study_plan_gives_c1_c2_the_workstation_design_and_writes_its_overlay(tmp_path):
    config = ws_config()
    design = W.workstation_transport_design(ws_runs(), {}, config, max_replicas=6)
    rows = [{"claim": "C1", "verdict": "not tested", "measured": ""},
            {"claim": "C2", "verdict": "not tested", "measured": ""}]
    arrhenius = {g: {"run_length_needed": [{"T_K": 300.0, "duration_ps": 401.0}]} for g in WS_GLASSES}
    needs, overlay = P.study_plan(rows, config, arrhenius, {}, design=design)
    by = {n.claim: n for n in needs}
    assert by["C1"].config_changes == design["config_changes"] == by["C2"].config_changes
    assert by["C1"].core_hours == design["core_hours"] and by["C1"].needed == design["replicas"]
    assert overlay == design["config_changes"]                  # instead of the paper-scale run length
    assert "workstation_transport.yaml" in by["C1"].summary()
    # without a design (or an infeasible one), the run-length plan as before
    needs, overlay = P.study_plan(rows, config, arrhenius, {}, design={"feasible": False, "reason": "x"})
    assert overlay["production"]["duration_ps"] == 410.0
    # the overlay file: its YAML body is the design; merged over config/config.yaml it validates
    W.write_workstation_overlay(design, config, tmp_path / "ws.yaml")
    text = (tmp_path / "ws.yaml").read_text()
    assert yaml.safe_load(text) == design["config_changes"] and "core-hours" in text
    assert load_study_config(tmp_path / "ws.yaml")["replicas"] == design["replicas"]
    W.write_workstation_overlay({"feasible": False, "reason": "no runs"}, config, tmp_path / "none.yaml")
    assert yaml.safe_load((tmp_path / "none.yaml").read_text()) == {}
    assert "no runs" in (tmp_path / "none.yaml").read_text()


def test_committed_workstation_overlay_validates():
    config = load_study_config("config/workstation_transport.yaml")
    p = config["production"]
    assert all(type(T) is int for T in p["temperatures_K"]) and set(p["durations_ps"]) <= set(p["temperatures_K"])


def test_replica_spread_prefers_diffusive_runs():
    runs = ws_runs(s=0.3)
    for r in runs:   # at 500 K two compositions also have long diffusive runs with a smaller spread
        r["diffusive"] = False
    extra = [dict(r, D_cm2_s=r["D_cm2_s"] * math.exp(-(0.3 - 0.1) / math.sqrt(2) * (1 if r["replica"] == "2" else -1)),
                  diffusive=True) for r in runs if r["T_K"] == 500 and r["glass"] in ("P2S6-5", "P2S6-25")]
    spread = W.replica_spread_ln_d(runs + extra)
    assert spread[500.0][0] == pytest.approx(0.1) and spread[500.0][1] == 2
    assert spread[300.0][0] == pytest.approx(0.3) and spread[300.0][1] == 5


def test_c2_needs_a_positive_d_of_every_composition_at_the_hottest_glassy_temperature():
    runs = ws_runs()
    for r in runs:
        if r["glass"] == "P2S6-15" and r["T_K"] == 500:
            r["D_cm2_s"] = -1e-7   # noise on an immobile species: no sigma to extrapolate
    d = W.workstation_transport_design(runs, {}, ws_config(), experimental_span=(1e-4, 1e-3), max_replicas=4)
    assert not d["feasible"] and "without a positive D at 500 K" in d["reason"]
