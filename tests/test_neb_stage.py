"""NEB stage job functions (lipsglass.stages.neb) on synthetic inputs with known answers, and the
NEB rules in the workflow plan. No LAMMPS here: hop results are fake ``result.json`` files
written like ``lipsglass.neb.hop.run_hop``'s (the real NEB is tested in tests/test_neb.py)."""

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from conftest import REPO, plan
from lipsglass.core.stats import bootstrap_ci, bootstrap_difference_ci
from lipsglass.config import neb_glasses
from lipsglass.lammpsio import Box, write_dump_frame
from lipsglass.neb.barrier_statistics import read_summary
from lipsglass.neb.batch import batch_slice, n_batches
from lipsglass.neb.hop import RESULT_VERSION
from lipsglass.neb.li_motion import traced_li, trajectory_window
from lipsglass.neb.results import write_rows_csv
from lipsglass.neb.selection import HOP_CLASSES, HOP_COLUMNS, hops_requested
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
    assert hops_requested(s) == {"soft->hard": 3, "hard->soft": 3, "soft->soft": 0, "hard->hard": 0}
    assert n_batches(s) == 2                     # ceil(6 / 4)
    hops = list(range(6))
    slices = [batch_slice(hops, b, 4) for b in range(n_batches(s))]
    assert slices == [[0, 1, 2, 3], [4, 5]]
    assert batch_slice(hops[:3], 1, 4) == []   # after a shortfall a batch has nothing to do
    with pytest.raises(ValueError, match="unknown hop classes"):
        hops_requested(settings(classes=["soft->medium"]))


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
    """result.json (+ path.csv for converged / not converged hops) as lipsglass.neb.hop.run_hop writes
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
    return read_summary(csv_path), csv_path


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
        test = by[(glass, "test", "soft->hard minus hard->soft forward barrier")]
        # complete separation of 4 vs 4 forward barriers: exact two-sided Mann-Whitney p = 2 / C(8, 4)
        assert test["mannwhitney_p"] == pytest.approx(2 / math.comb(8, 4))
        # difference of the median forward barriers, its bootstrap interval inside the extreme differences
        assert test["median_diff_eV"] == pytest.approx(0.275 - 0.575)
        assert 0.20 - 0.65 <= test["median_diff_ci_low_eV"] <= -0.3 <= test["median_diff_ci_high_eV"] <= 0.35 - 0.50


# ---- claims job: files in, C9 and C10 rows out (the decision code is lipsglass.claims.neb) ---------

C9 = {"margin_eV": 0.1, "margin_reason": "paper's gap", "planned_effect_eV": 0.2, "power": 0.8,
      "min_hops_per_class": 10, "assumed_sd_eV": 0.3}
C10 = {"margin": 0.1, "margin_reason": "Fig. 4D", "planned_difference": 0.2, "power": 0.8, "min_li_per_group": 10}


def normal_sample(mean: float, sd: float, n: int) -> list[float]:
    """n deterministic normal quantiles (sample mean exactly ``mean``)."""
    return (mean + sd * stats.norm.ppf((np.arange(n) + 0.5) / n)).tolist()


def motion(ps4, p2s6):
    """li_motion.json content with (n_hopped, n) near PS4 and near P2S6."""
    by = {a: {"n": n, "n_hopped": k, "hopped_fraction": k / n, "mean_displacement_A": 1.0, "mean_path_length_A": 5.0}
          for a, (k, n) in (("PS4", ps4), ("P2S6", p2s6))}
    by["P2S7"] = {"n": 0, "n_hopped": 0, "hopped_fraction": None, "mean_displacement_A": None,
                  "mean_path_length_A": None}
    return {"by_anion": by, "duration_ps": 10.0, "temperature_K": 500.0, "hop_distance_A": 3.0, "n_atoms": 792}


def claims_rows(tmp_path, glasses: dict, motions: dict) -> dict:
    """Run the claims job on fake glasses ({glass: (soft-Li barriers, hard-Li barriers)}) and
    li_motion.json files ({glass: {replica: motion}}); rows by claim."""
    from lipsglass.claims import read_claim_rows

    barriers = {g: fake_glass(tmp_path / g, soft, hard)["barriers"] for g, (soft, hard) in glasses.items()}
    paths = {}
    for g, reps in motions.items():
        for r, m in reps.items():
            p = tmp_path / f"{g}_r{r}_li_motion.json"
            p.write_text(json.dumps(m))
            paths.setdefault(g, {})[r] = str(p)
    out = tmp_path / "neb_claims.csv"
    stage.claims_job(barriers, paths, {"C9": C9, "C10": C10}, 0.9, {g: 792 for g in glasses}, str(out))
    return {r["claim"]: r for r in read_claim_rows(out)}


def test_claims_job_c9_holds_on_a_planted_gap_with_the_hand_computed_interval(tmp_path):
    # two glasses at different barrier levels, 12 soft-Li and 12 hard-Li hops each, hard-Li hops 0.4 eV higher
    glasses = {"A": (normal_sample(0.3, 0.1, 12), normal_sample(0.7, 0.1, 12)),
               "B": (normal_sample(0.5, 0.1, 12), normal_sample(0.9, 0.1, 12))}
    rows_ = claims_rows(tmp_path, glasses, {"A": {"1": motion((40, 100), (5, 100))}})
    c9 = rows_["C9"]
    # equal counts and a common spread: the estimate is the mean of the per-glass differences, its
    # SE sd sqrt(2 / 24) with the pooled within-class sd, t with 2 x 22 dof (Welch-Satterthwaite)
    sd = float(np.std(normal_sample(0, 0.1, 12), ddof=1))
    half = stats.t.ppf(0.95, 44) * sd * math.sqrt(2 / 24)
    assert c9["verdict"] == "holds" and float(c9["estimate"]) == pytest.approx(0.4, rel=1e-5)
    assert float(c9["ci_low"]) == pytest.approx(0.4 - half, rel=1e-4)
    assert c9["value_unit"] == "eV" and c9["region"] == "> 0.1 eV" and c9["margin_reason"] == "paper's gap"
    assert c9["scale"] == ("2 glasses, 792 atoms, 48 hops, independent (24 soft-Li, 24 hard-Li) of 48/52 "
                           "converged/attempted")
    assert "A: 24/26 hops converged" in c9["detail"] and c9["would_decide"] == ""


def test_claims_job_c9_does_not_hold_when_the_gap_is_excluded(tmp_path):
    # hard-Li hops only 0.02 eV higher, precisely: the interval lies below the 0.1 eV margin
    glasses = {g: (normal_sample(0.4, 0.02, 12), normal_sample(0.42, 0.02, 12)) for g in ("A", "B")}
    c9 = claims_rows(tmp_path, glasses, {"A": {"1": motion((40, 100), (5, 100))}})["C9"]
    assert c9["verdict"] == "does not hold" and float(c9["ci_high"]) < 0.1
    assert float(c9["estimate"]) == pytest.approx(0.02, rel=1e-5)
    # a verdict other than holds carries the plan: a range of hops per class, the yield with its interval
    assert "independent converged hops per origin class" in c9["would_decide"]
    assert "yield 48/52 converged" in c9["would_decide"]


def test_claims_job_c9_is_not_tested_on_one_glass_or_too_few_hops(tmp_path):
    one = claims_rows(tmp_path / "one", {"A": (normal_sample(0.3, 0.1, 12), normal_sample(0.7, 0.1, 12))},
                      {"A": {"1": motion((40, 100), (5, 100))}})["C9"]
    assert one["verdict"] == "not tested" and one["estimate"] == ""
    assert "1 glass(es) hold converged hops out of both" in one["why_not_tested"]
    few = claims_rows(tmp_path / "few", {g: (normal_sample(0.3, 0.05, 4), normal_sample(0.9, 0.05, 4))
                                         for g in ("A", "B")}, {"A": {"1": motion((40, 100), (5, 100))}})["C9"]
    # the 0.6 eV gap is clear, but 8 independent hops per class are fewer than the 10 required
    assert few["verdict"] == "not tested" and float(few["ci_low"]) > 0.1
    assert "8 soft-Li and 8 hard-Li independent converged hops (need >= 10" in few["why_not_tested"]


@pytest.mark.parametrize("per_glass,verdict", [
    ([((40, 100), (10, 100)), ((45, 100), (12, 100)), ((38, 100), (9, 100))], "holds"),
    ([((12, 100), (10, 100)), ((14, 100), (13, 100)), ((11, 100), (11, 100))], "does not hold"),
    ([((30, 100), (10, 100)), ((12, 100), (10, 100)), ((25, 100), (5, 100))], "not tested"),
])
def test_claims_job_c10_with_the_glass_as_unit(tmp_path, per_glass, verdict):
    motions = {"A": {str(k + 1): motion(*pg) for k, pg in enumerate(per_glass[:2])}, "B": {"1": motion(*per_glass[2])}}
    c10 = claims_rows(tmp_path, {g: (normal_sample(0.3, 0.1, 12), normal_sample(0.7, 0.1, 12)) for g in "AB"},
                      motions)["C10"]
    d = np.array([k1 / n1 - k2 / n2 for (k1, n1), (k2, n2) in per_glass])
    half = stats.t.ppf(0.95, 2) * d.std(ddof=1) / math.sqrt(3)
    assert c10["verdict"] == verdict
    assert float(c10["estimate"]) == pytest.approx(d.mean(), rel=1e-5) and \
        float(c10["ci_high"]) == pytest.approx(d.mean() + half, rel=1e-5)
    assert c10["unit_of_independence"] == "glass (composition x replica)"
    assert c10["scale"].startswith("2 glasses x 2 replicas, 792 atoms, 10 ps, 600 Li")
    assert (c10["would_decide"] == "") == (verdict == "holds")


def test_claims_job_c10_not_tested_with_too_few_li(tmp_path):
    c10 = claims_rows(tmp_path, {g: (normal_sample(0.3, 0.1, 12), normal_sample(0.7, 0.1, 12)) for g in "AB"},
                      {"A": {"1": motion((40, 100), (1, 4)), "2": motion((40, 100), (5, 100))}})["C10"]
    assert c10["verdict"] == "not tested" and "A/r1: PS4 40/100, P2S6 1/4 hopped (fewer than 10" in c10["detail"]
    assert "1 glass(es) with >= 10 Li" in c10["why_not_tested"]


# ---- statistics helpers -----------------------------------------------------------------------

def test_bootstrap_ci_matches_normal_theory():
    x = np.random.default_rng(5).normal(1.0, 2.0, 400)
    lo, hi = bootstrap_ci(x, np.mean, n_boot=4000, seed=1)
    half = 1.959964 * x.std(ddof=1) / np.sqrt(len(x))
    assert lo < x.mean() < hi
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.1)
    assert all(np.isnan(bootstrap_ci([1.0], np.mean)))
    assert bootstrap_difference_ci([2.0, 2.0, 2.0], [0.5, 0.5]) == (1.5, 1.5)
    with pytest.raises(ValueError):
        bootstrap_ci(x, np.mean, level=1.5)


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
    assert info["n_frames"] == 6 and info["n_atoms"] == len(ids)
    assert info["by_anion"]["PS4"]["n_hopped"] == 1 and info["by_anion"]["P2S6"]["n_hopped"] == 0
    with pytest.raises(ValueError, match="shorter than"):
        trajectory_window(tmp_path / "traj.lammpstrj", 2.0, 1.0)


def test_traced_li_is_seeded_and_takes_li_of_each_anion():
    """Fig. 4D's Li: k per requested anion, only Li whose nearest anion is that type, the same
    ids for the same seed, all Li of a type when it has fewer than k, none for an absent type."""
    motion = ([{"id": i, "nearest_anion": "PS4"} for i in range(1, 41)]
              + [{"id": i, "nearest_anion": "P2S6"} for i in range(41, 61)]
              + [{"id": i, "nearest_anion": "P2S7"} for i in range(61, 81)]
              + [{"id": i, "nearest_anion": "P2S6"} for i in (81, 82)])
    s = {"seed": 7, "traces_per_anion": 3}
    chosen = traced_li(motion, s, ("PS4", "P2S6"))
    assert len(chosen) == 6 and len(set(chosen)) == 6
    assert all(1 <= i <= 40 for i in chosen[:3]) and all(41 <= i <= 60 or i in (81, 82) for i in chosen[3:])
    assert chosen == traced_li(motion, s, ("PS4", "P2S6"))
    # another seed draws another set (3 of 40 PS4 Li: the same set for two seeds has p < 1e-4)
    assert chosen[:3] != traced_li(motion, dict(s, seed=8), ("PS4", "P2S6"))[:3]
    assert traced_li(motion, {"seed": 7, "traces_per_anion": 50}, ("P2S6", "other")) == \
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
    assert counts["neb_batch"] == n_glass * n_batches(neb)
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
    by = {(r["glass"], r["kind"], r["class"]): r for r in read_summary(csv_path)}
    assert by[("G", "class", "soft->hard")]["n_failed"] == 1
    assert by[("G", "class", "soft->hard")]["failure_rate"] == pytest.approx(1 / 3)
    assert by[("G", "class", "hard->soft")]["failure_rate"] == 0.0
