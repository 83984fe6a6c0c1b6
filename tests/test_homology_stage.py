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
from lipsglass.stages import homology as stage

N_SIDE, A = 4, 3.0
N_NET = N_SIDE ** 3
MASSES = {"P": 30.974, "S": 32.06, "Li": 6.94}
D_RING = A * np.sqrt(2.0)


def settings(**over) -> dict:
    s = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["homology"]
    s = json.loads(json.dumps(s))  # deep copy
    s.update(min_count=5)
    s.update(over)
    return s


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


def write_fsdp(path, q, fwhm, edge=False):
    peak = {"position": q, "fwhm": fwhm, "at_window_edge": edge}
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
    assert tuple(table[0]) == stage.PD_H1_COLUMNS
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

def link_and_claims(case, tmp_path, q, fwhm, edge=False, **over):
    fsdp = write_fsdp(tmp_path / "fsdp.json", q, fwhm, edge)
    out = tmp_path / "fsdp_link.json"
    s = settings(**over)
    stage.fsdp_link_job(case["outputs"]["pd_h1"], fsdp, case["data"], s, str(out))
    link = stage.load_fsdp_link(out)
    c11 = stage.homology_claims({"g": link}, {}, s, {"C11": "x", "C12": "y"})[0]
    return link, c11


def test_fsdp_window_around_the_squares(case, tmp_path):
    # 2 pi / q = the square diameter: every ring lies in the window, all of them have 4 atoms
    link, c11 = link_and_claims(case, tmp_path, 2 * np.pi / D_RING, 0.1)
    assert link["primary_definition"] == "shortest_cycle" and set(link["definitions"]) == set(stage.RING_COLUMNS)
    for definition in stage.RING_COLUMNS:
        for length in stage.RING_LENGTHS:
            lk = link["definitions"][definition]["links"][length]
            assert lk["n_in_window"] == 2 * N_NET - 2 and lk["per_size"][4]["fraction_in_window"] == pytest.approx(1.0)
            assert lk["large_ring_share"] == 0.0
        scan = link["definitions"][definition]["enrichment"]["death"]
        assert [e["min_persistence_A2"] for e in scan] == settings()["claims"]["c11_thresholds_A2"]
        assert all(e["large_share_all"] == 0.0 and np.isnan(e["enrichment"]) for e in scan if e["n_rings"])
        rec = link["definitions"][definition]["reciprocal"]
        assert rec["subsets"]["small_rings"]["n_atoms"] == N_NET and rec["subsets"]["large_rings"] == {"n_atoms": 0}
    # only squares: no large rings, nothing to compare
    assert c11["verdict"] == "not tested" and "no large or no small rings" in c11["measured"]


def test_fsdp_window_missing_the_rings_and_unresolved_peaks(case, tmp_path):
    link, _ = link_and_claims(case, tmp_path, 2 * np.pi / 8.0, 0.05)  # window ~7.8-8.2 A
    assert link["links"]["death"]["n_in_window"] == 0 and np.isnan(link["links"]["death"]["large_ring_share"])
    # unresolved width: the library default 0.25 q is used and said so
    link, _ = link_and_claims(case, tmp_path, 1.2, None)
    assert link["fsdp"]["fwhm_inv_A"] == pytest.approx(0.3) and "assumed" in link["fsdp"]["fwhm_source"]
    # a peak at the edge of its search window is no FSDP: not tested
    _, c11 = link_and_claims(case, tmp_path, 2 * np.pi / D_RING, 0.1, edge=True)
    assert c11["verdict"] == "not tested"


def c11_entry(p_large, large, small, enrichments):
    return {"reciprocal": {"pool_mean": 0.0, "subsets": {
                "large_rings": {"n_atoms": 40, "mean_contribution": large, "p_random": p_large},
                "small_rings": {"n_atoms": 90, "mean_contribution": small, "p_random": 0.5}}},
            "enrichment": {"death": [{"min_persistence_A2": t, "n_rings": 10, "n_in_window": 5, "enrichment": e}
                                     for t, e in zip((0.5, 1.0, 2.0), enrichments)]}}


@pytest.mark.parametrize("entry, verdict", [
    (c11_entry(0.001, 0.3, 0.1, (1.4, 1.3, 1.2)), True),
    (c11_entry(0.2, 0.3, 0.1, (1.4, 1.3, 1.2)), False),    # not above random atoms
    (c11_entry(0.001, 0.1, 0.3, (1.4, 1.3, 1.2)), False),  # small rings contribute more
    (c11_entry(0.001, 0.3, 0.1, (1.4, 0.9, 1.2)), False),  # enrichment follows the threshold
    ({"reciprocal": None}, None),
])
def test_c11_decision(entry, verdict):
    assert stage.c11_glass_verdict(entry, 0.05)[0] is verdict


# ---- softness by ring size and C12 ------------------------------------------------------------------

def test_softness_around_squares(case, tmp_path):
    out = tmp_path / "soft.json"
    stage.softness_rings_job(case["outputs"]["pd_h1"], case["data"], case["softness_csv"], settings(), str(out))
    res = stage.load_softness_rings(out)
    # every Li is 2.60 A from 8 ring atoms (< 3.5 A): all covered by the size-4 class, the only
    # class, which is all Li: tested, and no translation can change its mean
    for d in [res] + list(res["definitions"].values()):
        assert list(d["values"]) == [4] and d["n_li_covered"] == N_NET
        assert np.allclose(np.sort(d["values"][4]), np.sort(case["softness"]))
        assert d["per_size"][4]["d"] == pytest.approx(0.0, abs=1e-12)
    c12 = stage.homology_claims({}, {"g": res}, settings(), {"C11": "x", "C12": "y"})[1]
    assert c12["verdict"] == "holds" and "Li covered per size {4: 64}" in c12["measured"]
    # cutoff below the Li-corner distance: no Li near any ring: not tested
    stage.softness_rings_job(case["outputs"]["pd_h1"], case["data"], case["softness_csv"],
                             settings(li_ring_cutoff_A=2.5), str(out))
    res = stage.load_softness_rings(out)
    assert all(len(v) == 0 for v in res["values"].values()) and np.isnan(res["p_shift"])
    assert stage.homology_claims({}, {"g": res}, settings(), {"C11": "x", "C12": "y"})[1]["verdict"] == "not tested"


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


def shift_result(p, d):
    one = {"p_shift": p, "max_abs_z": 3.0, "max_abs_d": d, "sizes_tested": [4, 6], "n_shifts": 999,
           "per_size": {4: {"n_li": 30}, 6: {"n_li": 40}}, "all_li": {"n": 100}, "n_li_covered": 60,
           "min_count": 20, "values": {4: np.zeros(30), 6: np.zeros(40)}}
    return {**one, "definitions": {"shortest_cycle": one, "optimal_volume": one}}


@pytest.mark.parametrize("first, second, verdict", [
    ((0.001, 0.5), (0.5, 0.0), "does not hold"),  # significant, non-negligible effect in one glass
    ((0.03, 0.5), (0.5, 0.0), "holds"),           # p < 0.05 but above the Bonferroni level 0.025
    ((0.001, 0.05), (0.5, 0.0), "holds"),         # significant but negligible effect
])
def test_c12_decision(first, second, verdict):
    row = stage.homology_claims({}, {"a": shift_result(*first), "b": shift_result(*second)}, settings(),
                                {"C11": "", "C12": ""})[1]
    assert row["verdict"] == verdict
    assert "shift-test p = " in row["measured"] and "Calibration" in row["criterion"]


# ---- figures, claims file, workflow --------------------------------------------------------------------

def test_claims_and_figures_are_written(case, tmp_path):
    fsdp = write_fsdp(tmp_path / "fsdp.json", 2 * np.pi / D_RING, 0.1)
    link, soft = str(tmp_path / "link.json"), str(tmp_path / "soft.json")
    stage.fsdp_link_job(case["outputs"]["pd_h1"], fsdp, case["data"], settings(), link)
    stage.softness_rings_job(case["outputs"]["pd_h1"], case["data"], case["softness_csv"], settings(), soft)
    claims = tmp_path / "homology_claims.csv"
    stage.claims_job({"g": link}, {"g": soft}, settings(), str(claims))
    assert [r["claim"] for r in rows(claims)] == ["C11", "C12"]
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
