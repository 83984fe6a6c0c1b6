"""Homology stage: job functions on a simple cubic P/S lattice with Li in the cube centres, whose
persistence diagrams and rings are known analytically, fake FSDP and softness inputs, the claim
decisions, and the workflow plan.

Simple cubic, a = 3 A, n = 4 (N = 64 network atoms on the 3-torus). Alpha^2 values (A^2):
edges (length a) enter at a^2/4 = 2.25, square faces at (a/sqrt2)^2 = a^2/2 = 4.5, cubes at
(a sqrt3/2)^2 = 3a^2/4 = 6.75. Hence
  H0: N - 1 finite pairs (0, 2.25) (the atoms merge when the edges enter);
  H1: the edge graph has E - V + 1 = 2N + 1 independent cycles; 3 wrap the torus (essential),
      the other 2N - 2 are squares born at 2.25 and filled at 4.5: rings of 4 atoms with
      diameter a sqrt2 = 2 sqrt(4.5) (both ring lengths coincide);
  H2: with all faces present the cubical 2-skeleton has b2 = chi - b0 + b1 = N - 1 + 3 = N + 2;
      N - 1 cube cavities die at 6.75 (the last cube closes the torus' H3), 3 classes stay.
Every Li sits a sqrt3/2 = 2.60 A from the 8 corners of its cube.
"""

import csv
import json

import numpy as np
import pytest
import yaml

from conftest import REPO, plan
from lipsglass.config import ConfigError, validate_config
from lipsglass.claims import homology as claims
from lipsglass.claims.verdict import t_interval
from lipsglass.homology import outputs, results
from lipsglass.stages import homology as stage

N_SIDE, A = 4, 3.0
N_NET = N_SIDE ** 3
MASSES = {"P": 30.974, "S": 32.06, "Li": 6.94}
D_RING = A * np.sqrt(2.0)


def settings(**over) -> dict:
    s = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["homology"]
    s = json.loads(json.dumps(s))  # deep copy
    s.update(over)
    return s


def criteria(**c12) -> dict:
    """The config's claims section (level, C11, C12), C12 keys overridden."""
    c = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["claims"]
    c["C12"].update(c12)
    return c


def lattice() -> np.ndarray:
    g = np.arange(N_SIDE) * A
    return np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3) + 0.7


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """final.data (P/S lattice + Li in the cube centres), softness.csv, and the homology outputs."""
    tmp = tmp_path_factory.mktemp("homology")
    net = lattice()
    li = net + A / 2
    elements = ["P", "S"] * (N_NET // 2) + ["Li"] * len(li)
    positions = np.vstack([net, li]) % (N_SIDE * A)
    types = {"P": 1, "S": 2, "Li": 3}
    lines = ["synthetic simple cubic P/S lattice with Li in the cube centres", "",
             f"{len(elements)} atoms", "3 atom types", "",
             f"0.0 {N_SIDE * A} xlo xhi", f"0.0 {N_SIDE * A} ylo yhi", f"0.0 {N_SIDE * A} zlo zhi", "",
             "Masses", ""] + [f"{t} {MASSES[el]} # {el}" for el, t in types.items()] + ["", "Atoms # atomic", ""]
    lines += [f"{k + 1} {types[el]} {x:.8f} {y:.8f} {z:.8f}" for k, (el, (x, y, z)) in enumerate(zip(elements, positions))]
    data = tmp / "final.data"
    data.write_text("\n".join(lines) + "\n")

    li_ids = np.arange(N_NET + 1, N_NET + len(li) + 1)
    softness = np.linspace(-2.0, 2.0, len(li))
    soft_csv = tmp / "softness.csv"
    with open(soft_csv, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "S", "x_A", "y_A", "z_A"])
        for i, s, p in zip(li_ids, softness, positions[N_NET:]):
            w.writerow([int(i), f"{s:.8g}", *(f"{v:.6f}" for v in p)])

    outputs = {k: str(tmp / f"{k}.{'json' if k == 'rings' else 'csv'}") for k in ("pd_h0", "pd_h1", "pd_h2", "rings")}
    stage.homology_job(str(data), settings(), outputs)
    return {"tmp": tmp, "data": str(data), "softness_csv": str(soft_csv), "softness": softness, "outputs": outputs,
            "positions": positions}


def write_fsdp(path, q, fwhm, edge=False, limited=False):
    # the structure stage's peak record (lipsglass.structure_factor.fsdp with r_max = half the cell)
    res = 2 * np.pi / (N_SIDE * A / 2)
    peak = {"position": q, "fwhm": fwhm, "at_window_edge": edge, "fwhm_limited_by_box": limited,
            "resolution_multiple": 2.0, "fwhm_limit_inv_A": 2 * res, "r_max_A": N_SIDE * A / 2,
            "fwhm_deconvolved_inv_A": float(np.sqrt(fwhm ** 2 - res ** 2)) if fwhm and fwhm > res else float("nan")}
    path.write_text(json.dumps({"fsdp": {"neutron": peak, "xray": peak}}))
    return str(path)


def rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


# ---- persistence diagrams and rings ---------------------------------------------------------------

def test_diagrams_match_the_cubic_lattice(case):
    out = case["outputs"]
    h0, h1, h2 = (stage.read_pd(out[k]) for k in ("pd_h0", "pd_h1", "pd_h2"))
    assert h0.shape == (N_NET - 1, 2) and np.allclose(h0, [0.0, A ** 2 / 4])
    assert h1.shape == (2 * N_NET - 2, 2) and np.allclose(h1, [A ** 2 / 4, A ** 2 / 2])
    assert h2.shape == (N_NET - 1, 2) and np.allclose(h2, [A ** 2 / 2, 3 * A ** 2 / 4])
    r = json.loads(open(out["rings"]).read())
    assert r["essential_classes"] == {"H0": 1, "H1": 3, "H2": 3}
    assert r["all_h1"] == {"n_rings": 2 * N_NET - 2, "n_unresolved": 0, "n_not_searched": 0,
                           "sizes": {"4": 2 * N_NET - 2}}
    # persistence 2.25 A^2 > 1.0: every square is a persistent ring
    assert r["persistent"] == r["all_h1"]
    assert r["timing_s"]["homology"] > 0 and r["timing_s"]["job"] >= r["timing_s"]["homology"]


def test_pd_h1_rings_are_lattice_squares(case):
    table = rows(case["outputs"]["pd_h1"])
    assert tuple(table[0]) == outputs.PD_H1_COLUMNS
    pos = {k + 1: p for k, p in enumerate(case["positions"])}
    box = N_SIDE * A
    for r in table:
        assert int(r["ring_size"]) == 4
        # the square is also the boundary of the smallest volume: its two triangles
        assert int(r["volume_ring_size"]) == 4 and int(r["volume_cells"]) == 2
        assert float(r["volume_diameter_A"]) == pytest.approx(D_RING)
        assert float(r["persistence_A2"]) == pytest.approx(A ** 2 / 4)
        assert float(r["diameter_A"]) == pytest.approx(D_RING)
        assert float(r["death_length_A"]) == pytest.approx(D_RING)
        for column in ("atom_ids", "volume_atom_ids"):  # (the lattice's equal values leave the square's choice free)
            ids = [int(i) for i in r[column].split()]
            assert len(ids) == 4 and max(ids) <= N_NET  # network atoms only, no Li
            ring = np.array([pos[i] for i in ids])
            step = np.roll(ring, -1, axis=0) - ring
            step -= box * np.round(step / box)
            assert np.allclose(np.linalg.norm(step, axis=1), A)  # consecutive atoms are bonded neighbours


def test_persistence_filter_removes_short_pairs(case):
    rings = stage.read_rings(case["outputs"]["pd_h1"], 40)
    assert len(stage.persistent_rings(rings, 2.0).birth) == 2 * N_NET - 2   # 2.25 > 2.0
    assert len(stage.persistent_rings(rings, 2.5).birth) == 0
    with pytest.raises(ValueError, match="min_persistence"):
        stage.persistent_rings(rings, -1.0)


# ---- FSDP link and C11 ----------------------------------------------------------------------------

def link_and_claims(case, tmp_path, q, fwhm, edge=False, limited=False, **over):
    fsdp = write_fsdp(tmp_path / "fsdp.json", q, fwhm, edge, limited)
    out = tmp_path / "fsdp_link.json"
    s = settings(**over)
    stage.fsdp_link_job(case["outputs"]["pd_h1"], fsdp, case["data"], s, str(out))
    link = stage.load_fsdp_link(out)
    c11 = claims.c11_verdict({"g": link}, criteria()["C11"], 0.9, s["ring_definition"], "optimal_volume").row()
    return link, c11


def test_fsdp_window_around_the_squares(case, tmp_path):
    # 2 pi / q = the square diameter: every ring lies in the window, all of them have 4 atoms
    link, c11 = link_and_claims(case, tmp_path, 2 * np.pi / D_RING, 0.1)
    assert link["primary_definition"] == "shortest_cycle" and set(link["definitions"]) == set(outputs.RING_COLUMNS)
    assert link["n_atoms"] == N_NET + N_NET and link["cell_A"] == pytest.approx(N_SIDE * A)
    for definition in outputs.RING_COLUMNS:
        for length in results.RING_LENGTHS:
            lk = link["definitions"][definition]["links"][length]
            assert lk["n_in_window"] == 2 * N_NET - 2 and lk["per_size"][4]["fraction_in_window"] == pytest.approx(1.0)
            assert lk["large_ring_share"] == 0.0
        scan = link["definitions"][definition]["enrichment"]["death"]
        assert [e["min_persistence_A2"] for e in scan] == settings()["enrichment_thresholds_A2"]
        assert all(e["large_share_all"] == 0.0 and np.isnan(e["enrichment"]) for e in scan if e["n_rings"])
        rec = link["definitions"][definition]["reciprocal"]
        assert rec["subsets"]["small_rings"]["n_atoms"] == N_NET and rec["subsets"]["large_rings"] == {"n_atoms": 0}
    # only squares: no large rings, nothing to decide
    assert c11["verdict"] == "not tested" and "g: no rings: no atoms of large rings" in c11["detail"]
    assert c11["scale"] == "1 glass x 1 replica, 128 atoms, FSDP resolved in 0 of 1 glasses"


def test_fsdp_window_missing_the_rings_and_unresolved_peaks(case, tmp_path):
    link, _ = link_and_claims(case, tmp_path, 2 * np.pi / 8.0, 0.05)  # window ~7.8-8.2 A
    assert link["links"]["death"]["n_in_window"] == 0 and np.isnan(link["links"]["death"]["large_ring_share"])
    # unresolved width: the library default 0.25 q is used and said so
    link, _ = link_and_claims(case, tmp_path, 1.2, None)
    assert link["fsdp"]["fwhm_inv_A"] == pytest.approx(0.3) and "assumed" in link["fsdp"]["fwhm_source"]
    # a peak at the edge of its search window is no FSDP: not tested
    _, c11 = link_and_claims(case, tmp_path, 2 * np.pi / D_RING, 0.1, edge=True)
    assert c11["verdict"] == "not tested" and "no FSDP inside its search window" in c11["detail"]


def test_fsdp_width_set_by_the_cell_is_not_tested_at_this_scale(case, tmp_path):
    # FWHM 1.2 1/A in a 12 A cell (r_max 6 A, resolution 2pi/6 = 1.047 1/A): flagged; the glass'
    # own width sqrt(1.2^2 - 1.047^2) = 0.586 1/A is resolved when r_max >= 2 pi sqrt(3) / 0.586
    link, c11 = link_and_claims(case, tmp_path, 2 * np.pi / D_RING, 1.2, limited=True)
    assert link["fsdp"]["fwhm_limited_by_box"] is True
    width = np.sqrt(1.2 ** 2 - (2 * np.pi / 6) ** 2)
    edge = 2 * 2 * np.pi * np.sqrt(3) / width
    atoms = int(np.ceil(2 * N_NET * (edge / (N_SIDE * A)) ** 3))
    assert c11["verdict"] == "not tested" and c11["why_not_tested"].startswith("not tested at this scale")
    assert f"cells of >= {edge:.0f} A edge (~{atoms} atoms)" in c11["would_decide"]
    assert claims.fsdp_resolving_cell(link["fsdp"], 2 * N_NET, N_SIDE * A)["edge_A"] == pytest.approx(edge)


def c11_link(r: float, limited: bool = False, n_atoms: int = 800) -> dict:
    """A loaded fsdp_link.json whose large-ring atoms contribute (1 + r) x the network mean."""
    rec = {"pool_mean": 0.01, "q_window_inv_A": [1.0, 1.3], "n_vectors": 100, "subsets": {
        "large_rings": {"n_atoms": 380, "mean_contribution": 0.01 * (1 + r), "random_q05_q95": [0.0093, 0.0107]},
        "small_rings": {"n_atoms": 470, "mean_contribution": 0.008, "random_q05_q95": [0.0094, 0.0106]}}}
    entry = {"reciprocal": rec}
    return {"fsdp": {"position_inv_A": 1.15, "fwhm_inv_A": 0.5, "at_window_edge": False, "fwhm_limited_by_box": limited,
                     "fwhm_limit_inv_A": 0.97, "resolution_multiple": 2.0, "fwhm_deconvolved_inv_A": 0.3},
            "n_atoms": n_atoms, "cell_A": 25.9, "definitions": {"shortest_cycle": entry, "optimal_volume": entry}}


@pytest.mark.parametrize("excess, verdict", [
    ((0.30, 0.32, 0.28), "holds"),           # t interval over 3 glasses 0.30 +- 0.03, above 0.10
    ((-0.05, -0.04, -0.06), "does not hold"),  # entirely below 0.10
    ((0.0, 0.30, 0.15), "not tested"),       # 0.15 +- 0.25: straddles the margin
    ((0.30,), "not tested"),                 # one glass: no interval over glasses
])
def test_c11_decision(excess, verdict):
    links = {f"g{k}": c11_link(r) for k, r in enumerate(excess)}
    v = claims.c11_verdict(links, criteria()["C11"], 0.9, "shortest_cycle", "optimal_volume")
    assert v.verdict == verdict and v.unit == "glass"
    if len(excess) > 1:
        expected = t_interval(excess, 0.9)
        assert (v.interval.low, v.interval.high) == pytest.approx((expected.low, expected.high))
    row = v.row()
    assert row["scale"].startswith(f"{len(excess)} glass") and f"g0: resolved: r = {excess[0]:+.3f}" in row["detail"]
    assert (row["would_decide"] != "") == (verdict != "holds")


def test_c11_leaves_out_glasses_whose_fsdp_the_cell_sets():
    links = {"a": c11_link(0.30), "b": c11_link(0.32), "c": c11_link(-0.5, limited=True)}
    v = claims.c11_verdict(links, criteria()["C11"], 0.9, "shortest_cycle")
    assert v.verdict == "holds" and "c: box-limited" in v.detail and "FSDP resolved in 2 of 3 glasses" in v.scale.text()
    links["b"] = c11_link(0.32, limited=True)
    v = claims.c11_verdict(links, criteria()["C11"], 0.9, "shortest_cycle")
    assert v.verdict == "not tested" and "at this scale" in v.why_not_tested


# ---- softness by ring size and C12 ------------------------------------------------------------------

def test_softness_around_squares(case, tmp_path):
    out = tmp_path / "soft.json"
    stage.softness_rings_job(case["outputs"]["pd_h1"], case["data"], case["softness_csv"], settings(), str(out))
    res = stage.load_softness_rings(out)
    # every Li is 2.60 A from 8 ring atoms (< 3.5 A): all covered by the size-4 class, the only
    # class, which is all Li: no translation can change its mean
    for d in [res] + list(res["definitions"].values()):
        assert list(d["values"]) == [4] and d["n_li_covered"] == N_NET
        assert np.allclose(np.sort(d["values"][4]), np.sort(case["softness"]))
        assert d["per_size"][4]["d"] == pytest.approx(0.0, abs=1e-12)
    # the shift null's draws, kept once per definition (the top level is the primary's summary)
    assert "null_d" not in res["per_size"][4]
    for d in res["definitions"].values():
        assert len(d["per_size"][4]["null_d"]) == settings()["shifts"]
        assert np.allclose(d["per_size"][4]["null_d"], 0.0, atol=1e-12)
    # a class of every Li has no contrast: not tested, and said why
    v = claims.c12_verdict({"g": res}, criteria(min_li=5)["C12"], 0.9, "shortest_cycle", "optimal_volume")
    assert v.verdict == "not tested" and "4 (covers every Li)" in v.detail
    # cutoff below the Li-corner distance: no Li near any ring: not tested
    stage.softness_rings_job(case["outputs"]["pd_h1"], case["data"], case["softness_csv"],
                             settings(li_ring_cutoff_A=2.5), str(out))
    res = stage.load_softness_rings(out)
    assert all(len(v) == 0 for v in res["values"].values())
    v = claims.c12_verdict({"g": res}, criteria(min_li=5)["C12"], 0.9, "shortest_cycle", "optimal_volume")
    assert v.verdict == "not tested" and "no ring-size class covers >= 5 Li" in v.why_not_tested


def test_softness_from_another_configuration_is_refused(case, tmp_path):
    moved = tmp_path / "softness.csv"
    table = rows(case["softness_csv"])
    table[0]["x_A"] = f"{float(table[0]['x_A']) + 0.5:.6f}"
    with open(moved, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(table[0]))
        w.writeheader()
        w.writerows(table)
    with pytest.raises(ValueError, match="another configuration"):
        stage.softness_rings_job(case["outputs"]["pd_h1"], case["data"], str(moved), settings(), str(tmp_path / "x.json"))


def softness_result(classes: dict, n_all: int = 200, n_shifts: int = 999, seed: int = 0) -> dict:
    """A loaded softness_by_ring_size.json (both definitions alike): {size: (n_li, d, se)}, the
    shift-null d of each class drawn independently from N(0, se^2)."""
    rng = np.random.default_rng(seed)
    per_size = {s: {"n_li": n, "d": d, "null_d": (se * rng.standard_normal(n_shifts)).tolist()}
                for s, (n, d, se) in classes.items()}
    one = {"n_shifts": n_shifts, "all_li": {"n": n_all}, "per_size": per_size}
    return {**one, "n_atoms": 800, "definitions": {"shortest_cycle": one, "optimal_volume": one}}


def test_family_critical_value_is_the_simultaneous_quantile():
    # G independent glasses, one class each, |z| half-normal: (2 Phi(c) - 1)^G = 0.95
    from scipy import stats

    rng = np.random.default_rng(3)
    for g in (1, 3):
        c = claims.family_critical_value({k: np.abs(rng.standard_normal(200_000)) for k in range(g)}, 0.05)
        assert c == pytest.approx(stats.norm.ppf(0.5 + 0.5 * 0.95 ** (1 / g)), abs=0.02)


@pytest.mark.parametrize("glasses, verdict, deciding", [
    # every class within +-0.25 sd: d +- c se with c ~ 2.2 (two classes, 95 % of max |z|)
    ({"a": {6: (60, 0.02, 0.03), 9: (40, -0.05, 0.04)}}, "holds", 9),
    # one class 0.8 sd softer, se 0.05: its interval lies entirely above 0.25
    ({"a": {6: (60, 0.02, 0.03), 9: (40, 0.8, 0.05)}}, "does not hold", 9),
    # d = 0.1 with se 0.2: the interval straddles the margin
    ({"a": {6: (60, 0.02, 0.03), 9: (40, 0.1, 0.2)}}, "not tested", 9),
    # a second glass with a class far outside decides, whatever the first shows
    ({"a": {6: (60, 0.02, 0.03)}, "b": {12: (50, -0.9, 0.05)}}, "does not hold", 12),
])
def test_c12_decision(glasses, verdict, deciding):
    results = {g: softness_result(c, seed=k) for k, (g, c) in enumerate(glasses.items())}
    v = claims.c12_verdict(results, criteria()["C12"], 0.9, "shortest_cycle", "optimal_volume")
    assert v.verdict == verdict and f": size {deciding} in" in v.estimand
    assert v.region.low == -0.25 and v.region.high == 0.25
    res = claims.c12_decision({g: r["definitions"]["shortest_cycle"] for g, r in results.items()}, 0.25, 20, 0.9)
    n_classes = sum(len(c) for c in glasses.values())
    # c: the 95 % quantile of the largest |z| over independent classes, from the simultaneous formula
    from scipy import stats
    assert res["c"] == pytest.approx(stats.norm.ppf(0.5 + 0.5 * 0.95 ** (1 / n_classes)), abs=0.15)
    for g, classes in glasses.items():
        for size, (_, d, se) in classes.items():
            i = res["intervals"][g][size]
            assert i.estimate == d and i.high - d == pytest.approx(res["c"] * se, rel=0.1)
    row = v.row()
    assert row["scale"] == f"{len(glasses)} glass{'es' if len(glasses) > 1 else ''} x 1 replica, 800 atoms, " \
                           f"{200 * len(glasses)} Li, {n_classes} ring-size classes tested, " \
                           f"{min(n for c in glasses.values() for n, _, _ in c.values())}-" \
                           f"{max(n for c in glasses.values() for n, _, _ in c.values())} Li each"
    assert (row["would_decide"] != "") == (verdict != "holds")


def test_c12_classes_with_too_few_li_are_not_tested():
    results = {"a": softness_result({6: (60, 0.02, 0.03), 9: (12, 1.5, 0.3)})}
    v = claims.c12_verdict(results, criteria()["C12"], 0.9, "shortest_cycle")
    # the class of 12 Li (below min_li 20) would not hold; it is left out and named
    assert v.verdict == "holds" and "not tested: 9 (12 Li)" in v.detail
    v = claims.c12_verdict(results, criteria(min_li=10)["C12"], 0.9, "shortest_cycle")
    assert v.verdict == "does not hold"


# ---- figures, claims file, workflow --------------------------------------------------------------------

def test_claims_and_figures_are_written(case, tmp_path):
    fsdp = write_fsdp(tmp_path / "fsdp.json", 2 * np.pi / D_RING, 0.1)
    link, soft = str(tmp_path / "link.json"), str(tmp_path / "soft.json")
    stage.fsdp_link_job(case["outputs"]["pd_h1"], fsdp, case["data"], settings(), link)
    stage.softness_rings_job(case["outputs"]["pd_h1"], case["data"], case["softness_csv"], settings(), soft)
    out = tmp_path / "homology_claims.csv"
    stage.claims_job({"g": link}, {"g": soft}, "shortest_cycle", criteria(), str(out))
    table = rows(out)
    assert [r["claim"] for r in table] == ["C11", "C12"]
    # one glass of squares: neither claim can be decided, and each row says why and at what scale
    assert [r["verdict"] for r in table] == ["not tested", "not tested"]
    assert all(r["scale"] and r["estimand"] and r["would_decide"] for r in table)
    pd_h1 = {"g": case["outputs"]["pd_h1"]}
    jobs = {
        "pd": lambda png, pdf: stage.persistence_figure_job(pd_h1, png, pdf),
        "sizes": lambda png, pdf: stage.ring_sizes_figure_job(pd_h1, settings(), png, pdf),
        "s4": lambda png, pdf: stage.rings_fsdp_figure_job({"g": link}, png, pdf),
        "s5": lambda png, pdf: stage.softness_rings_figure_job({"g": soft}, {"g": case["softness_csv"]}, png, pdf),
    }
    for name, job in jobs.items():
        png, pdf = tmp_path / f"{name}.png", tmp_path / f"{name}.pdf"
        job(str(png), str(pdf))
        assert png.stat().st_size > 1000 and pdf.stat().st_size > 1000


def test_config_rejects_bad_homology_values():
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["homology"]["ring_length"] = "radius"
    with pytest.raises(ConfigError, match="homology.ring_length"):
        validate_config(config)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["homology"]["volume_epsilon_A2"] = config["homology"]["min_persistence_A2"]
    with pytest.raises(ConfigError, match="homology.volume_epsilon_A2"):
        validate_config(config)


def test_workflow_plans_the_homology_stage(tmp_path):
    out = plan(tmp_path).stdout
    for rule in ("homology", "homology_fsdp_link", "homology_softness", "homology_claims", "persistence_diagrams_h1",
                 "ring_sizes_figure", "figS4_rings_fsdp", "figS5_softness_by_ring_size"):
        assert f"rule {rule}:" in out
    assert "results/summary/homology_claims.csv" in out
