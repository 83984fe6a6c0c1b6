"""NEB stage job functions (lipsglass.stages.neb) on synthetic inputs with known answers, and the
NEB rules in the workflow plan. No LAMMPS here: hop results are fake ``result.json`` files
written like ``lipsglass.neb.run_hop``'s (the real NEB is tested in tests/test_neb.py)."""

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from conftest import REPO, plan
from lipsglass.config import neb_glasses
from lipsglass.lammpsio import Box, write_dump_frame
from lipsglass.neb import HOP_CLASSES, HOP_COLUMNS, RESULT_VERSION, write_rows_csv
from lipsglass.stages import neb as stage

SPACING, N_SIDE = 6.0, 4     # simple cubic Li lattice, 24 A cell: nearest neighbours at 6 A
EDGE = SPACING * N_SIDE


def settings(**over) -> dict:
    s = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["neb"]
    s.update(classes=["soft->hard", "hard->soft", "soft->soft"], n_per_class=2, batch_size=4, min_distance_A=5.0,
             max_distance_A=7.0, n_bootstrap=500)
    s.update(over)
    return s


def rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def write_li_glass(tmp: Path, shift_A: float = 0.0, drop_last: bool = False):
    """final.data with Li on a simple cubic lattice (+ one S far from nothing in particular) and
    softness.csv with checkerboard softness (+1 on even sites, -1 on odd): every nearest-neighbour
    hop joins a soft and a hard Li."""
    g = np.arange(N_SIDE) * SPACING + 1.0
    lat = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
    parity = np.stack(np.meshgrid(*(np.arange(N_SIDE),) * 3, indexing="ij"), axis=-1).reshape(-1, 3).sum(1) % 2
    softness = np.where(parity == 0, 1.0, -1.0)
    elements = ["S"] + ["Li"] * len(lat)
    positions = np.vstack([[[4.0, 4.0, 4.0]], lat])
    types = {"Li": 1, "S": 2}
    lines = ["synthetic Li lattice", "", f"{len(elements)} atoms", "2 atom types", "",
             f"0.0 {EDGE} xlo xhi", f"0.0 {EDGE} ylo yhi", f"0.0 {EDGE} zlo zhi", "",
             "Masses", "", "1 6.941 # Li", "2 32.065 # S", "", "Atoms # atomic", ""]
    lines += [f"{k + 1} {types[e]} {x:.6f} {y:.6f} {z:.6f}" for k, (e, (x, y, z)) in enumerate(zip(elements, positions))]
    data = tmp / "final.data"
    data.write_text("\n".join(lines) + "\n")
    ids = np.arange(2, len(elements) + 1)
    table = list(zip(ids, softness, lat + shift_A))
    if drop_last:
        table = table[:-1]
    with open(tmp / "softness.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "S", "x_A", "y_A", "z_A"])
        w.writerows([[int(i), s, *(f"{v:.6f}" for v in p)] for i, s, p in table])
    return data, tmp / "softness.csv", dict(zip(ids.tolist(), softness))


# ---- batches and selection -------------------------------------------------------------------

def test_batches_follow_the_config_counts():
    s = settings(classes=["soft->hard", "hard->soft"], n_per_class=3, batch_size=4)
    assert stage.hops_requested(s) == {"soft->hard": 3, "hard->soft": 3, "soft->soft": 0, "hard->hard": 0}
    assert stage.n_batches(s) == 2                     # ceil(6 / 4)
    hops = list(range(6))
    slices = [stage.batch_slice(hops, b, 4) for b in range(stage.n_batches(s))]
    assert slices == [[0, 1, 2, 3], [4, 5]]
    assert stage.batch_slice(hops[:3], 1, 4) == []   # after a shortfall a batch has nothing to do
    with pytest.raises(ValueError, match="unknown hop classes"):
        stage.hops_requested(settings(classes=["soft->medium"]))


def test_select_job_samples_the_softness_configuration(tmp_path):
    data, soft_csv, softness = write_li_glass(tmp_path)
    hops, sel = tmp_path / "hops.csv", tmp_path / "selection.json"
    with pytest.warns(UserWarning, match="fewer candidates"):
        stage.select_job(str(data), str(soft_csv), settings(), str(hops), str(sel))
    table = rows(hops)
    info = json.loads(sel.read_text())
    # 32 soft and 32 hard Li, 6 nearest neighbours each, all of the other kind
    assert info["candidates"] == {"soft->hard": 192, "hard->soft": 192, "soft->soft": 0, "hard->hard": 0}
    assert info["shortfall"] == {"soft->hard": 0, "hard->soft": 0, "soft->soft": 2, "hard->hard": 0}
    assert info["n_soft"] == info["n_hard"] == 32 and info["n_batches"] == 2
    assert [r["class"] for r in table] == ["soft->hard"] * 2 + ["hard->soft"] * 2
    for r in table:
        assert float(r["distance_A"]) == pytest.approx(SPACING, abs=1e-6)
        kind = lambda i: "soft" if softness[int(i)] > 0 else "hard"  # noqa: E731
        assert r["class"] == f"{kind(r['from_id'])}->{kind(r['to_id'])}"
    # the same seed gives the same sample
    again = tmp_path / "again.csv"
    with pytest.warns(UserWarning):
        stage.select_job(str(data), str(soft_csv), settings(), str(again), str(tmp_path / "again.json"))
    assert rows(again) == table


@pytest.mark.parametrize("kwargs,message", [({"shift_A": 0.5}, "does not describe"),
                                             ({"drop_last": True}, "different Li")])
def test_select_job_refuses_softness_of_another_configuration(tmp_path, kwargs, message):
    data, soft_csv, _ = write_li_glass(tmp_path, **kwargs)
    with pytest.raises(ValueError, match=message):
        stage.select_job(str(data), str(soft_csv), settings(), str(tmp_path / "h.csv"), str(tmp_path / "s.json"))


# ---- collection, summary and C9 from fake hop results --------------------------------------------

def fake_result(workdir: Path, hop_id: int, cls: str, status: str, barrier: float | None = None,
                backward: float | None = None):
    """result.json (+ path.csv for converged / not converged hops) as lipsglass.neb.run_hop writes
    them; the path is a triangle over 5 images rising by ``barrier`` and falling by ``backward``
    (default: ``barrier``, a symmetric hop)."""
    hop = {"hop_id": hop_id, "from_id": 100 + hop_id, "to_id": 200 + hop_id, "class": cls, "distance_A": 6.0,
           "S_from": 1.0 if cls.startswith("soft") else -1.0, "S_to": 1.0 if cls.endswith("soft") else -1.0}
    out = workdir / f"hop_{hop_id}"
    out.mkdir(parents=True, exist_ok=True)
    res = dict(hop, version=RESULT_VERSION, status=status, wall_s=10.0, initial_shift_A=0.1, final_to_target_A=0.2)
    if status in ("converged", "not_converged"):
        backward = barrier if backward is None else backward
        rc = np.linspace(0, 1, 5)
        e = np.interp(rc, [0, 0.5, 1], [0.0, barrier, barrier - backward])
        res.update(forward_barrier_eV=barrier, backward_barrier_eV=backward, reaction_energy_eV=barrier - backward,
                   converged=status == "converged", path_reaction_coordinate=rc.tolist(), path_energy_eV=e.tolist())
        write_rows_csv(out / "path.csv", [{"replica": k + 1, "reaction_coordinate": x, "energy_eV": y}
                                          for k, (x, y) in enumerate(zip(rc, e))],
                       ("replica", "reaction_coordinate", "energy_eV"))
    (out / "result.json").write_text(json.dumps(res))
    return hop


SOFT_HARD = [0.20, 0.25, 0.30, 0.35]
HARD_SOFT = [0.50, 0.55, 0.60, 0.65]


def fake_glass(tmp: Path, first: list, second: list, extra: bool = True):
    """Collected outputs of one glass: converged soft->hard (``first``) and hard->soft
    (``second``) hops, plus (``extra``) a non-converged hard->soft hop with a tiny barrier and a
    rejected soft->hard hop, which must both stay out of the statistics."""
    work = tmp / "hops"
    hops = [fake_result(work, k, "soft->hard", "converged", b) for k, b in enumerate(first)]
    hops += [fake_result(work, len(hops) + k, "hard->soft", "converged", b) for k, b in enumerate(second)]
    if extra:
        hops.append(fake_result(work, len(hops), "hard->soft", "not_converged", 0.01))
        hops.append(fake_result(work, len(hops), "soft->hard", "final_relaxed_back"))
    write_rows_csv(tmp / "hops.csv", hops, HOP_COLUMNS)
    sel = {"candidates": {c: 10 for c in HOP_CLASSES}, "requested": {}, "shortfall": {}, "seed": 1,
           "min_distance_A": 5.0, "max_distance_A": 7.0, "soft_threshold": 0.0}
    (tmp / "selection.json").write_text(json.dumps(sel))
    manifest = tmp / "batch_0.json"
    manifest.write_text(json.dumps({"hop_ids": [h["hop_id"] for h in hops]}))
    outputs = {k: str(tmp / f"{k}.{ext}") for k, ext in (("barriers", "csv"), ("summary", "json"), ("paths", "csv"))}
    stage.collect_job(str(tmp / "hops.csv"), str(tmp / "selection.json"), [str(manifest)], str(work), outputs)
    return outputs


def test_collect_lists_every_hop_and_excludes_unconverged_ones(tmp_path):
    out = fake_glass(tmp_path, SOFT_HARD, HARD_SOFT)
    table = rows(out["barriers"])
    assert [r["status"] for r in table] == ["converged"] * 8 + ["not_converged", "final_relaxed_back"]
    assert table[8]["converged"] == "False" and float(table[8]["E_forward_eV"]) == 0.01
    assert table[9]["E_forward_eV"] == ""
    info = json.loads(Path(out["summary"]).read_text())
    assert info["excluded_from_statistics"] == [8, 9]
    assert info["status_counts"]["converged"] == 8 and info["status_counts"]["final_relaxed_back"] == 1
    # the path of every hop that has one (9 hops x 5 images), the rejected hop has none
    paths = rows(out["paths"])
    assert len(paths) == 45 and {int(r["hop_id"]) for r in paths} == set(range(9))


def test_collect_refuses_hops_outside_the_batches(tmp_path):
    fake_glass(tmp_path, SOFT_HARD, HARD_SOFT)
    (tmp_path / "batch_0.json").write_text(json.dumps({"hop_ids": [0, 1]}))
    outputs = {k: str(tmp_path / f"again_{k}") for k in ("barriers", "summary", "paths")}
    with pytest.raises(ValueError, match="in no batch manifest"):
        stage.collect_job(str(tmp_path / "hops.csv"), str(tmp_path / "selection.json"),
                          [str(tmp_path / "batch_0.json")], str(tmp_path / "hops"), outputs)


def _summary(tmp_path, first, second, extra=True):
    out = fake_glass(tmp_path, first, second, extra)
    csv_path = tmp_path / "neb_summary.csv"
    stage.summary_job({"G": out["barriers"]}, settings(), str(csv_path))
    return stage.read_summary(csv_path), csv_path


def test_summary_statistics_use_converged_hops_only(tmp_path):
    summary, _ = _summary(tmp_path, SOFT_HARD, HARD_SOFT)
    by = {(r["glass"], r["kind"], r["class"]): r for r in summary}
    for glass in ("G", "pooled"):
        sh, hs = by[(glass, "class", "soft->hard")], by[(glass, "class", "hard->soft")]
        assert (sh["n"], sh["n_excluded"]) == (4, 1) and (hs["n"], hs["n_not_converged"]) == (4, 1)
        assert sh["median_eV"] == pytest.approx(0.275) and hs["median_eV"] == pytest.approx(0.575)
        assert hs["mean_eV"] == pytest.approx(0.575)      # the 0.01 eV non-converged hop is not in it
        # bootstrap CIs of a median lie within the sample range and contain the median
        assert 0.20 <= sh["median_ci_low_eV"] <= 0.275 <= sh["median_ci_high_eV"] <= 0.35
        test = by[(glass, "test", "soft-site minus hard-site barrier (paired)")]
        # complete separation of 4 vs 4 forward barriers: exact two-sided Mann-Whitney p = 2 / C(8, 4)
        assert test["mannwhitney_p"] == pytest.approx(2 / math.comb(8, 4))
        # but every hop is symmetric (forward = backward): the paired soft-minus-hard difference is 0
        assert test["n_pairs"] == 8 and test["median_diff_eV"] == pytest.approx(0.0, abs=1e-12)


def paired_glass(tmp: Path, d_soft_hard, d_hard_soft, base: float = 0.5):
    """Collected outputs of one glass whose hops have the given paired differences d = barrier
    out of the soft site - barrier out of the hard site (eV)."""
    work = tmp / "hops"
    hops = [fake_result(work, k, "soft->hard", "converged", base + d / 2, base - d / 2)
            for k, d in enumerate(d_soft_hard)]
    hops += [fake_result(work, len(d_soft_hard) + k, "hard->soft", "converged", base - d / 2, base + d / 2)
             for k, d in enumerate(d_hard_soft)]
    write_rows_csv(tmp / "hops.csv", hops, HOP_COLUMNS)
    sel = {"candidates": {c: 10 for c in HOP_CLASSES}, "requested": {}, "shortfall": {}, "seed": 1,
           "min_distance_A": 5.0, "max_distance_A": 7.0, "soft_threshold": 0.0}
    (tmp / "selection.json").write_text(json.dumps(sel))
    (tmp / "batch_0.json").write_text(json.dumps({"hop_ids": [h["hop_id"] for h in hops]}))
    outputs = {k: str(tmp / f"{k}.{ext}") for k, ext in (("barriers", "csv"), ("summary", "json"), ("paths", "csv"))}
    stage.collect_job(str(tmp / "hops.csv"), str(tmp / "selection.json"), [str(tmp / "batch_0.json")], str(work),
                      outputs)
    csv_path = tmp / "neb_summary.csv"
    stage.summary_job({"G": outputs["barriers"]}, settings(), str(csv_path))
    return stage.read_summary(csv_path), csv_path


CLAIMS = {"min_hops_per_class": 10, "min_li_per_anion": 10, "c9_margin_eV": 0.1, "c9_power": 0.8,
          "c9_assumed_sd_eV": 0.3}


@pytest.mark.parametrize("n,mean,sd,verdict", [
    (12, -0.20, 0.05, "holds"),           # a planted soft-site advantage
    (12, 0.00, 0.02, "does not hold"),    # no advantage, precise: excludes a 0.1 eV advantage
    (12, 0.15, 0.05, "does not hold"),    # the opposite effect
    (12, -0.05, 0.30, "not tested"),      # enough hops but too spread to decide
    (5, -0.20, 0.05, "not tested"),       # too few hops per class
])
def test_c9_verdicts_on_constructed_barrier_sets(tmp_path, n, mean, sd, verdict):
    # deterministic normal samples: the n quantiles, interleaved between the two classes
    d = mean + sd * stats.norm.ppf((np.arange(2 * n) + 0.5) / (2 * n))
    summary, csv_path = paired_glass(tmp_path, d[0::2], d[1::2])
    row = stage.c9_claim(summary, CLAIMS, str(csv_path))
    assert row["verdict"] == verdict, row["measured"]
    if verdict == "not tested":
        # states the hops it would need, from the observed spread
        assert "converged hops in total" in row["measured"]
    if n < 10:
        assert f"{n} soft->hard and {n} hard->soft (need >= 10 each)" in row["measured"]


def test_c9_without_converged_hops_states_what_it_needs(tmp_path):
    out = fake_glass(tmp_path, [], [], extra=True)  # one rejected, one unconverged hop
    csv_path = tmp_path / "neb_summary.csv"
    stage.summary_job({"G": out["barriers"]}, settings(), str(csv_path))
    row = stage.c9_claim(stage.read_summary(csv_path), CLAIMS, str(csv_path))
    need = stage.pairs_needed(0.3, 0.1, power=0.8)
    assert row["verdict"] == "not tested"
    assert f"{need} converged hops in total" in row["measured"] and "assumed spread" in row["measured"]
    assert "0 of 2 attempted hops converged" in row["measured"]


def test_c9_refuses_a_minimum_below_ten():
    with pytest.raises(ValueError, match="min_hops_per_class"):
        stage.c9_claim([], dict(CLAIMS, min_hops_per_class=3), "src")


def test_paired_differences_use_both_barriers_of_every_hop():
    rows_ = [{"status": "converged", "class": "soft->hard", "forward_barrier_eV": 0.3, "backward_barrier_eV": 0.5},
             {"status": "converged", "class": "hard->soft", "forward_barrier_eV": 0.6, "backward_barrier_eV": 0.2},
             {"status": "converged", "class": "soft->soft", "forward_barrier_eV": 0.1, "backward_barrier_eV": 0.9},
             {"status": "not_converged", "class": "soft->hard", "forward_barrier_eV": 0.0,
              "backward_barrier_eV": 1.0}]
    assert stage.paired_differences(rows_) == pytest.approx([-0.2, -0.4])


def test_signed_rank_null_matches_enumeration():
    import itertools

    n = 6
    counts = np.zeros(n * (n + 1) // 2 + 1)
    for signs in itertools.product((0, 1), repeat=n):
        counts[sum(r for r, s in zip(range(1, n + 1), signs) if s)] += 1
    assert stage.signed_rank_null(n) == pytest.approx(counts / 2 ** n)


def test_signed_rank_test_size_coverage_and_power():
    rng = np.random.default_rng(3)
    # null: symmetric heavy-tailed differences; exact test keeps its size, interval its coverage
    reject = cover = 0
    trials = 400
    for _ in range(trials):
        t = stage.signed_rank_test(rng.standard_t(3, 15) * 0.2)
        reject += t["p_value"] < 0.05
        cover += t["ci_low"] <= 0.0 <= t["ci_high"]
    assert reject / trials <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / trials)
    assert cover / trials >= 0.95 - 2 * math.sqrt(0.05 * 0.95 / trials)
    # planted shift of 0.1 eV with sd 0.15 eV at the sample size pairs_needed gives for power 0.8
    n = stage.pairs_needed(0.15, 0.1, power=0.8)
    hits = sum(stage.signed_rank_test(rng.normal(-0.1, 0.15, n))["ci_high"] < 0 for _ in range(trials))
    assert abs(hits / trials - 0.8) < 0.08
    assert stage.signed_rank_test([0.1, 0.2, 0.3])["ci_low"] == -math.inf  # n < 6: no finite 95% interval


def test_mantel_haenszel_recovers_a_common_odds_ratio_and_resists_simpson():
    # two strata with different base rates and the same odds ratio 4
    t = stage.mantel_haenszel([[[40, 10], [50, 50]], [[20, 80], [5, 80]]])
    assert t["odds_ratio"] == pytest.approx(4.0) and t["ci_low"] > 1 and t["p_value"] < 1e-3
    # Simpson: within each glass PS4 and P2S6 Li hop equally often, but the mobile glass holds most
    # PS4 Li; pooled proportions would differ (58% vs 22%), the stratified odds ratio is 1
    tables = [[[54, 36], [6, 4]], [[2, 8], [18, 72]]]
    t = stage.mantel_haenszel(tables)
    assert t["odds_ratio"] == pytest.approx(1.0) and t["ci_low"] < 1 < t["ci_high"]
    assert t["p_value"] > 0.5


def test_mantel_haenszel_log_odds_ratio_se_is_robins_breslow_greenland(tmp_path):
    # one stratum: the RBG variance reduces to Woolf's 1/a + 1/b + 1/c + 1/d
    t = stage.mantel_haenszel([[[12, 18], [5, 25]]])
    assert t["log_odds_ratio"] == pytest.approx(math.log(12 * 25 / (18 * 5)))
    assert t["log_odds_ratio_se"] == pytest.approx(math.sqrt(1 / 12 + 1 / 18 + 1 / 5 + 1 / 25))
    # K identical strata: the same odds ratio, variance / K
    t4 = stage.mantel_haenszel([[[12, 18], [5, 25]]] * 4)
    assert t4["log_odds_ratio"] == pytest.approx(t["log_odds_ratio"])
    assert t4["log_odds_ratio_se"] == pytest.approx(t["log_odds_ratio_se"] / 2)
    # the interval is log OR +- 1.96 SE
    assert math.log(t["ci_high"]) - t["log_odds_ratio"] == pytest.approx(stats.norm.ppf(0.975) * t["log_odds_ratio_se"])
    # unequal strata against statsmodels' StratifiedTable (an independent implementation)
    contingency = pytest.importorskip("statsmodels.stats.contingency_tables")
    tables = [[[14, 45], [27, 39]], [[28, 32], [23, 27]], [[3, 5], [7, 1]], [[24, 46], [6, 14]]]
    ref = contingency.StratifiedTable([np.array(tab, float) for tab in tables])
    t = stage.mantel_haenszel(tables)
    assert t["log_odds_ratio"] == pytest.approx(ref.logodds_pooled)
    assert t["log_odds_ratio_se"] == pytest.approx(ref.logodds_pooled_se)


def test_c10_row_carries_the_structured_columns_the_study_plan_reads(tmp_path):
    from lipsglass.claims import read_claim_rows, write_claim_rows

    m = {"1": motion((12, 30), (5, 30)), "2": motion((10, 40), (4, 25))}
    row = stage.c10_claim({"A": m}, CLAIMS, "src")
    t = stage.mantel_haenszel([[[12, 18], [5, 25]], [[10, 30], [4, 21]]])
    assert row["effect"] == pytest.approx(t["log_odds_ratio"]) and row["effect_se"] == pytest.approx(t["log_odds_ratio_se"])
    assert row["threshold"] == 0.0 and row["sample_size"] == 55 and "P2S6" in row["sample_unit"]
    write_claim_rows(tmp_path / "c.csv", [row, {"claim": "C9", "verdict": "not tested", "measured": "",
                                                 "criterion": "", "source": ""}])
    back = read_claim_rows(tmp_path / "c.csv")
    assert float(back[0]["effect_se"]) == pytest.approx(row["effect_se"]) and back[1]["effect"] == ""
    # too few Li: no effect to plan from
    assert "effect" not in stage.c10_claim({"A": {"1": motion((3, 5), (0, 4))}}, CLAIMS, "src")


# ---- statistics helpers -----------------------------------------------------------------------

def test_bootstrap_ci_matches_normal_theory():
    x = np.random.default_rng(5).normal(1.0, 2.0, 400)
    lo, hi = stage.bootstrap_ci(x, np.mean, n_boot=4000, seed=1)
    half = 1.959964 * x.std(ddof=1) / np.sqrt(len(x))
    assert lo < x.mean() < hi
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.1)
    assert all(np.isnan(stage.bootstrap_ci([1.0], np.mean)))
    assert stage.bootstrap_difference_ci([2.0, 2.0, 2.0], [0.5, 0.5]) == (1.5, 1.5)
    with pytest.raises(ValueError):
        stage.bootstrap_ci(x, np.mean, level=1.5)


def test_wilson_and_newcombe_intervals():
    lo, hi = stage.wilson_interval(0, 10)
    assert lo == pytest.approx(0.0, abs=1e-12) and hi == pytest.approx(0.2775, abs=1e-4)
    # Newcombe (1998) Table II example (56/70 vs 48/80): difference 0.2, interval 0.0524 to 0.3339
    t = stage.two_proportion(56, 70, 48, 80)
    assert t["difference"] == pytest.approx(0.2)
    assert t["ci_low"] == pytest.approx(0.0524, abs=1e-4) and t["ci_high"] == pytest.approx(0.3339, abs=1e-4)
    pooled = 104 / 150
    z = 0.2 / math.sqrt(pooled * (1 - pooled) * (1 / 70 + 1 / 80))
    assert t["p_value"] == pytest.approx(2 * stats.norm.sf(z))
    assert stage.two_proportion(0, 10, 0, 12)["p_value"] == 1.0


def motion(ps4, p2s6):
    """li_motion.json content with (n_hopped, n) near PS4 and near P2S6."""
    by = {a: {"n": n, "n_hopped": k, "hopped_fraction": k / n, "mean_displacement_A": 1.0, "mean_path_length_A": 5.0}
          for a, (k, n) in (("PS4", ps4), ("P2S6", p2s6))}
    by["P2S7"] = {"n": 0, "n_hopped": 0, "hopped_fraction": None, "mean_displacement_A": None,
                  "mean_path_length_A": None}
    return {"by_anion": by, "duration_ps": 10.0, "temperature_K": 500.0, "hop_distance_A": 3.0}


@pytest.mark.parametrize("ps4,p2s6,verdict", [((40, 100), (5, 100), "holds"), ((5, 100), (40, 100), "does not hold"),
                                               ((12, 50), (10, 50), "not tested"),
                                               ((3, 5), (0, 4), "not tested")])
def test_c10_verdicts(ps4, p2s6, verdict):
    m = {"1": motion(ps4, p2s6), "2": motion(ps4, p2s6)}
    row = stage.c10_claim({"A": m, "B": m}, CLAIMS, "src")
    assert row["verdict"] == verdict
    assert f"r1: PS4 {ps4[0]}/{ps4[1]}" in row["measured"]


def test_c10_is_stratified_by_glass():
    # pooled, PS4 Li hop far more often; within each glass they do not: composition, not anion
    row = stage.c10_claim({"mobile": {"1": motion((54, 90), (6, 10))}, "slow": {"1": motion((2, 10), (18, 90))}},
                          CLAIMS, "src")
    assert row["verdict"] == "not tested" and "odds ratio 1 " in row["measured"]


# ---- Li motion over a synthetic trajectory ---------------------------------------------------------

def test_li_motion_job_and_window(tmp_path):
    """Two PS4 S and two P2S6 S far apart; the Li next to PS4 moves 0.8 A per 0.1 ps along x,
    the Li next to P2S6 stays: over 0.5 ps one moves 4 A (> 3 A: a hop), the other 0 A."""
    box = Box(np.zeros(3), np.full(3, 30.0))
    ids = np.arange(1, 7)
    elements = np.array(["S", "S", "S", "S", "Li", "Li"])
    base = np.array([[5.0, 5, 5], [5.0, 7, 5], [20.0, 20, 20], [20.0, 22, 20], [5.0, 5, 8], [20.0, 20, 23]])
    with open(tmp_path / "traj.lammpstrj", "w") as fh:
        for k in range(11):            # 1 fs timestep, frames every 100 steps = 0.1 ps, 1 ps in all
            pos = base.copy()
            pos[4, 0] += 0.8 * k
            write_dump_frame(fh, 100 * k, box, {"id": ids, "element": elements, "xu": pos[:, 0], "yu": pos[:, 1],
                                               "zu": pos[:, 2]})
    with open(tmp_path / "atom_labels.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "element", "unit", "role", "unit_index"])
        for i, e, u in zip(ids, elements, ["PS4", "PS4", "P2S6", "P2S6", "Li", "Li"]):
            w.writerow([i, e, u, "x", 0])
    s = settings(trace_duration_ps=0.5, hop_distance_A=3.0)
    stage.li_motion_job(str(tmp_path / "traj.lammpstrj"), str(tmp_path / "atom_labels.csv"), s, {"timestep_fs": 1.0},
                        5.0, 500.0, str(tmp_path / "m.csv"), str(tmp_path / "m.json"))
    table = rows(tmp_path / "m.csv")
    assert [(r["nearest_anion"], float(r["displacement_A"]), r["hopped"]) for r in table] == \
        [("PS4", 4.0, "True"), ("P2S6", 0.0, "False")]
    info = json.loads((tmp_path / "m.json").read_text())
    assert info["n_frames"] == 6
    assert info["by_anion"]["PS4"]["n_hopped"] == 1 and info["by_anion"]["P2S6"]["n_hopped"] == 0
    with pytest.raises(ValueError, match="shorter than"):
        stage.trajectory_window(tmp_path / "traj.lammpstrj", 2.0, 1.0)


def test_traced_li_is_seeded_and_takes_li_of_each_anion():
    """Fig. 4D's Li: k per requested anion, only Li whose nearest anion is that type, the same
    ids for the same seed, all Li of a type when it has fewer than k, none for an absent type."""
    motion = ([{"id": i, "nearest_anion": "PS4"} for i in range(1, 41)]
              + [{"id": i, "nearest_anion": "P2S6"} for i in range(41, 61)]
              + [{"id": i, "nearest_anion": "P2S7"} for i in range(61, 81)]
              + [{"id": i, "nearest_anion": "P2S6"} for i in (81, 82)])
    s = {"seed": 7, "traces_per_anion": 3}
    chosen = stage.traced_li(motion, s, ("PS4", "P2S6"))
    assert len(chosen) == 6 and len(set(chosen)) == 6
    assert all(1 <= i <= 40 for i in chosen[:3]) and all(41 <= i <= 60 or i in (81, 82) for i in chosen[3:])
    assert chosen == stage.traced_li(motion, s, ("PS4", "P2S6"))
    # another seed draws another set (3 of 40 PS4 Li: the same set for two seeds has p < 1e-4)
    assert chosen[:3] != stage.traced_li(motion, dict(s, seed=8), ("PS4", "P2S6"))[:3]
    assert stage.traced_li(motion, {"seed": 7, "traces_per_anion": 50}, ("P2S6", "other")) == \
        list(range(41, 61)) + [81, 82]


# ---- figures and workflow plan -------------------------------------------------------------------

def test_figures_from_collected_hops(tmp_path):
    out = fake_glass(tmp_path, SOFT_HARD, HARD_SOFT)
    stage.paths_figure_job("G", out["barriers"], out["paths"], str(tmp_path / "b.png"), str(tmp_path / "b.pdf"))
    stage.barriers_figure_job({"G": out["barriers"]}, HOP_CLASSES, str(tmp_path / "s3.png"), str(tmp_path / "s3.pdf"))
    none = tmp_path / "none"
    none.mkdir()
    empty = fake_glass(none, [], [], extra=True)     # nothing converged: the figure says so
    stage.barriers_figure_job({"G": empty["barriers"]}, ["soft->hard", "hard->soft"], str(none / "c.png"),
                              str(none / "c.pdf"))
    for f in ("b.png", "b.pdf", "s3.png", "s3.pdf", "none/c.png", "none/c.pdf"):
        assert (tmp_path / f).stat().st_size > 0


def test_plan_shows_the_neb_rules(tmp_path):
    out = plan(tmp_path).stdout
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    neb = cfg["neb"]
    n_glass = len(neb_glasses(cfg))
    counts = {}
    for line in out[out.index("job "):].splitlines()[2:]:
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    assert counts["neb_select"] == counts["neb_collect"] == n_glass
    assert counts["neb_batch"] == n_glass * stage.n_batches(neb)
    assert counts["neb_li_motion"] == len(cfg["compositions"]) * int(cfg["replicas"])  # C10 by glass and replica
    for rule in ("neb_summary", "neb_claims", "fig4b_neb_paths", "fig4c_barriers", "figS3_barriers_all_classes",
                 "fig4d_li_traces"):
        assert counts[rule] == 1


def test_summary_reports_the_failure_rate_by_class(tmp_path):
    work = tmp_path / "hops"
    hops = [fake_result(work, 0, "soft->hard", "converged", 0.3), fake_result(work, 1, "soft->hard", "failed"),
            fake_result(work, 2, "hard->soft", "concerted_move"), fake_result(work, 3, "soft->hard", "converged", 0.4)]
    write_rows_csv(tmp_path / "hops.csv", hops, HOP_COLUMNS)
    sel = {"candidates": {c: 10 for c in HOP_CLASSES}, "requested": {}, "shortfall": {}, "seed": 1,
           "min_distance_A": 5.0, "max_distance_A": 7.0, "soft_threshold": 0.0}
    (tmp_path / "selection.json").write_text(json.dumps(sel))
    (tmp_path / "batch_0.json").write_text(json.dumps({"hop_ids": [0, 1, 2, 3]}))
    outputs = {k: str(tmp_path / f"{k}.{ext}") for k, ext in (("barriers", "csv"), ("summary", "json"), ("paths", "csv"))}
    stage.collect_job(str(tmp_path / "hops.csv"), str(tmp_path / "selection.json"), [str(tmp_path / "batch_0.json")],
                      str(work), outputs)
    info = json.loads(Path(outputs["summary"]).read_text())
    assert info["failure_rate_by_class"]["soft->hard"] == pytest.approx(1 / 3)
    assert info["failure_rate_by_class"]["hard->soft"] == 0.0
    assert info["decided_fraction"] == pytest.approx(3 / 4)  # converged or rejected with a reason
    csv_path = tmp_path / "neb_summary.csv"
    stage.summary_job({"G": outputs["barriers"]}, settings(), str(csv_path))
    by = {(r["glass"], r["kind"], r["class"]): r for r in stage.read_summary(csv_path)}
    assert by[("G", "class", "soft->hard")]["n_failed"] == 1
    assert by[("G", "class", "soft->hard")]["failure_rate"] == pytest.approx(1 / 3)
    assert by[("G", "class", "hard->soft")]["failure_rate"] == 0.0
