"""Partial g(r), coordination numbers, S(q) and the FSDP against analytic ground truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import reference_file
from lipsglass.lammpsio import Box, read_structure
from lipsglass.core.tables import read_table, write_table
from lipsglass.rdf import (coordination_numbers, first_shell, glass_rdfs, max_rdf_range,
                           partial_rdf, partial_rdfs)
from lipsglass.structure_factor import (NEUTRON_B_FM, direct_sq, faber_ziman_sq, form_factor,
                                        fsdp, partial_sq, sq_from_rdf)

GLASS = reference_file("70Li2S-30P2S5.data")   # carried in tests/data/ariga2022


def cubic_box(length):
    return Box(np.zeros(3), np.full(3, float(length)))


def simple_cubic(a=3.0, n=8, jitter=0.0, seed=0):
    grid = np.arange(n) * a
    pos = np.array(np.meshgrid(grid, grid, grid, indexing="ij")).reshape(3, -1).T
    if jitter:
        pos = pos + np.random.default_rng(seed).normal(0.0, jitter, pos.shape)
    box = cubic_box(n * a)
    return box, box.wrap(pos)


# ------------------------------------------------------------------------------- g(r)

def test_ideal_gas_g_is_one_within_poisson_noise():
    rng = np.random.default_rng(42)
    n = 3000
    # frames of different volume: each must be normalised by its own density
    frames = [(cubic_box(L), rng.uniform(0, L, (n, 3))) for L in (30.0, 32.0, 30.0)]
    groups = {"all": np.arange(n), "A": np.arange(1000), "B": np.arange(1000, n),
              "C": np.arange(2000), "D": np.arange(1000, n)}
    res = partial_rdfs(frames, groups, {"all": ("all", "all"), "disjoint": ("A", "B"),
                                        "overlap": ("C", "D")}, r_max=10.0, dr=0.5)
    shell = 4 / 3 * np.pi * (res.edges[1:] ** 3 - res.edges[:-1] ** 3)
    for name, (a, b) in res.pairs.items():
        na, nb = res.sizes[a], res.sizes[b]
        shared = len(np.intersect1d(groups[a], groups[b]))
        # expected ordered pairs per bin over all frames; relative Poisson error of g
        expected = sum((na * nb - shared) * shell / box.volume for box, _ in frames)
        sigma = 1.0 / np.sqrt(expected / (2 if a == b else 1))  # a==b counts each pair twice
        assert np.all(np.abs(res.g[name] - 1.0) < 5 * sigma), name
        assert np.average(res.g[name], weights=expected) == pytest.approx(1.0, abs=3 * np.sqrt(1 / expected.sum()) + 1e-3)
        # running coordination of an ideal gas: (N_B - overlap/N_A) * 4/3 pi r^3 / V
        rho_b = np.mean([(nb - shared / na) / box.volume for box, _ in frames])
        assert res.coordination_at(name, 10.0) == pytest.approx(rho_b * 4 / 3 * np.pi * 1000.0, rel=0.02)


def test_simple_cubic_first_peak_at_lattice_constant_with_six_neighbours():
    a = 3.0
    box, pos = simple_cubic(a, 8, jitter=0.04)
    r, g = partial_rdf((box, pos), np.arange(len(pos)), np.arange(len(pos)), r_max=12.0, dr=0.02)
    shell = first_shell(r, g)
    assert shell["r_peak"] == pytest.approx(a, abs=0.05)
    assert a < shell["r_min"] < a * np.sqrt(2)
    res = partial_rdfs((box, pos), {"X": np.arange(len(pos))}, [("X", "X")], r_max=12.0, dr=0.02)
    cn = coordination_numbers(res)["X_X"]
    assert cn["n"] == pytest.approx(6.0, abs=1e-9)
    # second shell (a sqrt2, 12 neighbours) and third (a sqrt3, 8) from the running count
    assert res.coordination_at("X_X", a * (np.sqrt(2) + np.sqrt(3)) / 2) == pytest.approx(18.0, abs=1e-9)
    assert res.coordination_at("X_X", a * (np.sqrt(3) + 2) / 2) == pytest.approx(26.0, abs=1e-9)


def test_multi_frame_average_is_the_mean_of_frames():
    b1, p1 = simple_cubic(3.0, 6, jitter=0.1, seed=1)
    b2, p2 = simple_cubic(3.2, 6, jitter=0.1, seed=2)
    idx = np.arange(len(p1))
    r, g1 = partial_rdf((b1, p1), idx, idx, r_max=8.0, dr=0.1)
    _, g2 = partial_rdf((b2, p2), idx, idx, r_max=8.0, dr=0.1)
    _, g12 = partial_rdf([(b1, p1), (b2, p2)], idx, idx, r_max=8.0, dr=0.1)
    assert np.allclose(g12, 0.5 * (g1 + g2))


def test_bad_input_is_refused():
    box, pos = simple_cubic(3.0, 4)
    idx = np.arange(len(pos))
    with pytest.raises(ValueError, match="exceeds half"):
        partial_rdf((box, pos), idx, idx, r_max=7.0)
    assert max_rdf_range(box) == pytest.approx(6.0)
    with pytest.raises(ValueError, match="empty"):
        partial_rdfs((box, pos), {"A": idx, "B": []}, [("A", "B")])
    with pytest.raises(ValueError, match="atoms"):
        partial_rdf([(box, pos), (box, pos[:-1])], idx[:-1], idx[:-1], r_max=5.0)


def test_table_round_trip(tmp_path):
    box, pos = simple_cubic(3.0, 4, jitter=0.05)
    res = partial_rdfs((box, pos), {"X": np.arange(len(pos))}, {"X_X": ("X", "X")}, r_max=5.0)
    write_table(tmp_path / "g.csv", res.table(), header="test\nsecond line")
    back = read_table(tmp_path / "g.csv")
    assert list(back) == ["r_A", "g_X_X"]
    assert np.allclose(back["g_X_X"], res.g["X_X"], rtol=1e-7)


def _noisy_li_s_like_gr(seed=7):
    """A single-frame-like Li-S g(r): peak 2.45 A, true first minimum 3.2 A, second shell ~4.1 A,
    Poisson-like noise and a noise dip just behind the peak (2.75 A)."""
    r = np.arange(0.01, 8.0, 0.02)
    g = (3.0 * np.exp(-0.5 * ((r - 2.45) / 0.12) ** 2) + 0.3 * (r > 2.0)
         + 1.2 * np.exp(-0.5 * ((r - 4.1) / 0.45) ** 2) * (r > 3.2)
         + (1.0 - np.exp(-0.5 * ((r - 4.1) / 0.45) ** 2)) * (r > 4.1))
    g = g - 0.25 * np.exp(-0.5 * ((r - 3.2) / 0.15) ** 2)
    g = g - 1.3 * np.exp(-0.5 * ((r - 2.75) / 0.04) ** 2)  # noise dip behind the peak
    g = g + np.random.default_rng(seed).normal(0.0, 0.05, len(r)) * (r > 1.8)
    return r, np.clip(g, 0.0, None)


def test_first_shell_minimum_is_searched_in_a_physical_window():
    r, g = _noisy_li_s_like_gr()
    plain = first_shell(r, g)
    assert plain["r_peak"] == pytest.approx(2.45, abs=0.05)
    assert plain["r_min"] < 2.9  # the noise dip is taken for the first minimum
    for seed in range(5):
        r, g = _noisy_li_s_like_gr(seed)
        shell = first_shell(r, g, min_search_A=(2.9, 3.8))
        assert shell["r_peak"] == pytest.approx(2.45, abs=0.05)
        assert shell["r_min"] == pytest.approx(3.2, abs=0.1), seed
        assert shell["min_at_window_edge"] == 0.0
        # an open upper bound and a lower bound relative to the peak also skip the dip
        assert first_shell(r, g, min_search_A=(None, 3.8), min_after_peak_A=0.45)["r_min"] == pytest.approx(3.2, abs=0.1)
    # a window that misses the minimum is flagged
    assert first_shell(r, g, min_search_A=(3.4, 3.8))["min_at_window_edge"] == 1.0
    # the P-S case: a flat zero plateau is reported at its centre
    rp = np.arange(0.01, 6.0, 0.02)
    gp = 8 * np.exp(-0.5 * ((rp - 2.05) / 0.05) ** 2) + (rp > 3.1) * 1.0
    assert first_shell(rp, gp, min_search_A=(2.3, 3.3))["r_min"] == pytest.approx(0.5 * (2.3 + 3.1), abs=0.05)


# ------------------------------------------------------------------------------- S(q)

def test_direct_sq_of_simple_cubic_peaks_at_two_pi_over_a():
    a, n = 3.0, 8
    box, pos = simple_cubic(a, n)
    out = direct_sq(box, pos, q_max=2.5, dq=0.02)
    k = int(np.argmax(out["S"]))
    assert out["q"][k] == pytest.approx(2 * np.pi / a, abs=1e-9)
    # exact Bragg sum: S = N on the three (6,0,0)-type vectors of the half space, 0 on the
    # other vectors of that |q| shell ((4,4,2) type) and on every vector below it
    assert out["S"][k] == pytest.approx(len(pos) * 3 / out["n_vectors"][k], rel=1e-9)
    assert np.all(np.abs(out["S"][:k]) < 1e-8)


def test_partial_sq_matches_analytic_gaussian_transform():
    # g(r) = 1 + A exp(-r^2 / 2 s^2)  =>  S(q) - 1 = rho A (2 pi s^2)^(3/2) exp(-q^2 s^2 / 2)
    A, s, rho = 0.8, 0.5, 0.05
    dr = 0.005
    r = (np.arange(3000) + 0.5) * dr
    g = 1 + A * np.exp(-r ** 2 / (2 * s ** 2))
    q = np.linspace(0.2, 10, 50)
    exact = 1 + rho * A * (2 * np.pi * s ** 2) ** 1.5 * np.exp(-q ** 2 * s ** 2 / 2)
    assert np.allclose(partial_sq(r, g, rho, q, lorch=False), exact, rtol=1e-6, atol=1e-9)
    # the Lorch window only matters where g - 1 is not negligible at r ~ R: here it is tiny
    assert np.allclose(partial_sq(r, g, rho, q, lorch=True), exact, atol=3e-3)


def test_faber_ziman_weights_sum_to_one():
    # if every partial is the same g(r), S(q) equals that partial whatever the weights,
    # because sum_ab c_a c_b w_a w_b = <w>^2
    r = (np.arange(1000) + 0.5) * 0.01
    g = 1 + 0.5 * np.exp(-((r - 3.0) ** 2) / 0.1) - 0.5 * np.exp(-r ** 2)
    q = np.linspace(0.3, 8, 40)
    conc = {"Li": 0.33, "P": 0.14, "S": 0.53}
    partials = {(a, b): g for a in conc for b in conc if a <= b}
    single = partial_sq(r, g, 0.04, q)
    for weighting in ("neutron", "xray", "number"):
        out = faber_ziman_sq(r, partials, conc, 0.04, q, weighting)
        assert np.allclose(out["S"], single), weighting
    with pytest.raises(ValueError, match="missing"):
        faber_ziman_sq(r, {("Li", "Li"): g}, conc, 0.04, q)


def test_xray_form_factors_count_electrons():
    assert form_factor("Li+", 0.0) == pytest.approx(2.0, abs=1e-3)
    assert form_factor("P", 0.0) == pytest.approx(15.0, abs=1e-3)
    assert form_factor("S", 0.0) == pytest.approx(16.0, abs=1e-3)
    q = np.linspace(0, 12, 50)
    for sp in ("Li+", "P", "S"):
        assert np.all(np.diff(form_factor(sp, q)) < 0)


def test_fsdp_recovers_a_gaussian_on_a_sloping_background():
    q = np.arange(0.3, 3.0, 0.01)
    q0, height, sigma = 1.15, 0.6, 0.12
    s = 0.9 + 0.15 * q + height * np.exp(-0.5 * ((q - q0) / sigma) ** 2)
    s_noisy = s + np.random.default_rng(3).normal(0, 0.003, len(q))
    for curve, tol in ((s, 1e-6), (s_noisy, 0.01)):
        f = fsdp(q, curve)
        assert f["method"].startswith("gaussian") and not f["at_window_edge"]
        assert f["position"] == pytest.approx(q0, abs=tol)
        assert f["height"] == pytest.approx(height, abs=2 * tol)
        assert f["fwhm"] == pytest.approx(2 * np.sqrt(2 * np.log(2)) * sigma, abs=2 * tol)
    # a monotonic S(q) has no peak in the window: flagged, not passed off as an FSDP
    f = fsdp(q, 1 + q)
    assert f["at_window_edge"] and f["method"] == "maximum"


def test_fsdp_width_set_by_the_g_r_cut_is_flagged():
    # h(r) = A sin(q0 r) exp(-r / xi) / r: an FSDP at q0 with a Lorentzian FWHM 2 / xi = 0.3 1/A
    # (long-range order out to ~3 xi = 20 A). Cut at r_max = 11 A (a ~800-atom cell) the Lorch
    # window makes the peak ~2 pi / 11 = 0.57 1/A wide: limited by the cell; cut at 60 A it is not.
    q0, xi, rho = 1.15, 2 / 0.3, 0.04
    q = np.arange(0.3, 3.0, 0.005)
    flags = {}
    for r_max in (11.0, 60.0):
        r = (np.arange(int(r_max / 0.01)) + 0.5) * 0.01
        g = 1 + 0.3 * np.sin(q0 * r) * np.exp(-r / xi) / r
        s = partial_sq(r, g, rho, q, r_max=r_max, lorch=True)
        f = fsdp(q, s, window=(0.4, 2.0), r_max=r_max)
        flags[r_max] = f
        assert f["position"] == pytest.approx(q0, abs=0.08)  # the 1/q factor of the transform shifts it down
        assert f["resolution_fwhm_inv_A"] == pytest.approx(2 * np.pi / r_max)
        assert f["fwhm_limit_inv_A"] == pytest.approx(2 * 2 * np.pi / r_max)
    assert flags[11.0]["fwhm_limited_by_box"] is True
    assert flags[11.0]["fwhm_over_resolution"] < 2.0
    assert flags[60.0]["fwhm_limited_by_box"] is False
    assert flags[60.0]["fwhm"] == pytest.approx(0.3, abs=0.06)
    assert flags[60.0]["fwhm_deconvolved_inv_A"] == pytest.approx(0.3, abs=0.06)
    assert flags[11.0]["fwhm"] > flags[60.0]["fwhm"] + 0.15
    # without r_max nothing is checked
    assert fsdp(q, s, window=(0.4, 2.0))["fwhm_limited_by_box"] is None


# ---------------------------------------------------------- the 8069-atom reference glass

def test_reference_glass_anion_resolved_rdfs():
    from lipsglass.speciation import speciate

    box, ids, el, pos = read_structure(GLASS)
    spec = speciate(box, el, pos)
    res = glass_rdfs([(box, pos)], el, spec.unit)
    assert set(res.g) == {"Li_Li", "Li_P", "Li_S", "P_P", "P_S", "S_S", "Li_S_PS4", "P_S_PS4",
                          "Li_S_P2S7", "P_S_P2S7", "Li_S_P2S6", "P_S_P2S6"}
    cn = coordination_numbers(res)
    # intra-anion P-S bonds: 4 per P in PS4 and P2S7, 3 in P2S6; P-P: one per P2S6 P
    assert cn["P_S_PS4"]["n"] == pytest.approx(4.0, abs=1e-9)
    assert cn["P_S_P2S7"]["n"] == pytest.approx(4.0, abs=1e-9)
    assert cn["P_S_P2S6"]["n"] == pytest.approx(3.0, abs=1e-9)
    assert cn["P_P"]["n"] == pytest.approx(2 * 91 / 1209, abs=1e-9)
    assert 1.9 < cn["P_S"]["r_peak"] < 2.2
    # S belong to exactly one anion type here, so the anion-resolved Li-S neighbour counts add
    # up to the total Li-S count in every bin
    total = sum(res.neighbours[f"Li_S_{u}"] for u in ("PS4", "P2S7", "P2S6"))
    assert np.allclose(total, res.neighbours["Li_S"])


def test_reference_glass_fsdp_faber_ziman_agrees_with_direct_sum():
    box, ids, el, pos = read_structure(GLASS)
    # r_max 16 A (not the full half cell, 28 A) keeps the pair search to ~2 s; it moves the
    # FSDP by < 0.01 1/A here
    res = glass_rdfs([(box, pos)], el, r_max=16.0, dr=0.02)
    q = np.arange(0.5, 3.0, 0.01)
    fz = sq_from_rdf(res, q, "neutron", lorch=False)
    b = np.array([NEUTRON_B_FM[e] for e in el])
    direct = direct_sq(box, pos, q_max=2.0, dq=0.05, weights=b, max_vectors_per_bin=150, seed=1)
    f_fz, f_direct = fsdp(q, fz["S"]), fsdp(direct["q"], direct["S"])
    assert 1.0 < f_fz["position"] < 1.3
    assert f_fz["position"] == pytest.approx(f_direct["position"], abs=0.03)
    # both normalisations approach the same low-q limit 1 - <b^2>/<b>^2 (+ small S_cc terms)
    c = {e: np.mean(el == e) for e in NEUTRON_B_FM}
    low = 1 - sum(c[e] * NEUTRON_B_FM[e] ** 2 for e in c) / sum(c[e] * NEUTRON_B_FM[e] for e in c) ** 2
    assert direct["S"][0] == pytest.approx(low, abs=0.6)


# ---------------------------------------------------------------------------- figures

def test_structure_figures_are_written(tmp_path):
    from lipsglass.figures.structure import plot_partial_rdf, plot_sq, plot_ternary

    r = np.arange(0.01, 8, 0.02)
    table = {"r_A": r}
    for u in ("PS4", "P2S7", "P2S6"):
        table[f"g_P_S_{u}"] = 1 + 5 * np.exp(-((r - 2.05) ** 2) / 0.005)
        table[f"g_Li_S_{u}"] = 1 + np.exp(-((r - 2.45) ** 2) / 0.02)
    lit = tmp_path / "lit.csv"
    lit.write_text("name,PS4,P2S7,P2S6,source\nglass A,40,40,20,Dietrich 2017\n")
    q = np.arange(0.5, 10, 0.01)
    s = 1 + 0.5 * np.exp(-((q - 1.15) ** 2) / 0.02)
    jobs = [
        (plot_ternary, ([{"name": "sim", "PS4": 0.15, "P2S7": 0.7, "P2S6": 0.15}], lit)),
        (plot_partial_rdf, (table,)),
        (plot_sq, ({"glass": {"q": q, "S": s, "fsdp": fsdp(q, s)}},)),
    ]
    for k, (func, args) in enumerate(jobs):
        png, pdf = tmp_path / f"f{k}.png", tmp_path / f"f{k}.pdf"
        func(*args, png, pdf)
        assert png.stat().st_size > 1000 and pdf.read_bytes().startswith(b"%PDF")
