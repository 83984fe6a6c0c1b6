"""Persistent homology: analytic diagrams (polygon, simple cubic lattice), periodic invariances,
weights, rings, the FSDP link, softness around rings and the CLI.

Alpha convention used throughout: a filtration value is a squared radius alpha^2 (A^2). An edge
of length l enters at (l/2)^2 when its diametral sphere is empty (Gabriel), otherwise at the
value of the coface that makes it non-Gabriel; a triangle or tetrahedron enters at its squared
circumradius when its smallest circumsphere is empty.
"""

from __future__ import annotations

import numpy as np
import pytest

from lipsglass.homology.fsdp import fsdp_enrichment_scan, fsdp_ring_link, fsdp_subset_contribution
from lipsglass.homology.persistence import alpha_persistence, structure_homology
from lipsglass.homology.results import PersistenceDiagram, Rings, ring_length
from lipsglass.homology.ring_softness import ring_coverage, ring_softness_by_size, shift_indices, shifted_fields
from lipsglass.lammpsio import Box, write_dump_frame

TOL = 1e-9


def cubic_lattice(n: int, a: float) -> np.ndarray:
    g = np.arange(n) * a
    return np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)


def jittered_lattice(n=4, a=3.0, jitter=0.35, seed=1):
    """A generic (no cospherical sets) periodic point set: lattice + random displacements."""
    rng = np.random.default_rng(seed)
    pos = cubic_lattice(n, a) + rng.uniform(-jitter, jitter, (n ** 3, 3)) + 0.5 * a
    return Box(np.zeros(3), np.full(3, n * a)), pos


def as_table(d: PersistenceDiagram) -> np.ndarray:
    t = np.column_stack([d.dimension, d.birth, d.death])
    return t[np.lexsort((t[:, 2], t[:, 1], t[:, 0]))]


def ring_table(r: Rings) -> np.ndarray:
    t = np.column_stack([r.birth, r.death, r.size])
    return t[np.lexsort((t[:, 1], t[:, 0]))]


# --- analytic diagrams ---------------------------------------------------------------------


@pytest.mark.parametrize("n", [6, 9, 12])
def test_regular_polygon_has_one_ring_of_n_atoms(n):
    # n points on a circle of radius R with neighbours c = 2 R sin(pi/n) = 2 A apart.
    # Polygon edges are Gabriel: born at (c/2)^2. All points are cocircular, so every Delaunay
    # triangle has circumradius R and every diagonal's diametral circle holds other points:
    # the single loop is filled at R^2.
    c = 2.0
    R = c / (2 * np.sin(np.pi / n))
    th = 2 * np.pi * np.arange(n) / n + 0.3
    pts = np.column_stack([R * np.cos(th), R * np.sin(th), np.zeros(n)]) + [1.0, -2.0, 0.5]
    d, rings = alpha_persistence(pts)
    h1 = d.intervals(1)
    assert h1.shape == (1, 2)
    assert h1[0, 0] == pytest.approx((c / 2) ** 2, rel=1e-9)
    assert h1[0, 1] == pytest.approx(R ** 2, rel=1e-9)
    assert not d.periodic and d.betti_essential() == {0: 1}
    assert len(d.intervals(0)) == n - 1 and np.allclose(d.intervals(0), [0.0, (c / 2) ** 2])
    assert rings.size.tolist() == [n]
    ring = rings.atoms[0]
    assert sorted(ring.tolist()) == list(range(n))
    # consecutive ring atoms are polygon neighbours (index difference 1 mod n), closing too
    steps = np.abs(np.diff(np.append(ring, ring[0])))
    assert np.all((steps == 1) | (steps == n - 1))
    assert rings.diameter[0] == pytest.approx(2 * R if n % 2 == 0 else 2 * R * np.cos(np.pi / (2 * n)))


@pytest.mark.parametrize("n", [3, 4])
def test_simple_cubic_lattice_diagram_and_square_rings(n):
    # Simple cubic, a = 3 A, n^3 atoms on the 3-torus. Edges (length a) enter at a^2/4, the
    # square faces (circumradius a/sqrt2) at a^2/2, the cubes (circumradius a sqrt3/2) at 3a^2/4.
    # Per cell: V=1, E=3, F=3, C=1. On the torus the edge graph has cycle rank E-V+1 = 2n^3+1;
    # after the faces fill, H1 = 3 (torus) -> 2n^3-2 finite H1 pairs (a^2/4, a^2/2), i.e. 2
    # independent square rings per cell (3 faces minus the 1 relation given by each cube's
    # boundary), and 3 essential H1. The 2-skeleton has chi = n^3 - 3n^3 + 3n^3 = n^3, so
    # b2 = n^3 - 1 + 3 = n^3 + 2 voids at a^2/2, of which n^3 - 1 die at 3a^2/4 and 3 are the
    # torus' essential H2. H0: n^3 - 1 merges at a^2/4.
    a = 3.0
    box = Box(np.zeros(3), np.full(3, n * a))
    d, rings = alpha_persistence(cubic_lattice(n, a) + 0.7, box)
    assert d.periodic
    assert d.betti_essential() == {0: 1, 1: 3, 2: 3}
    n3 = n ** 3
    for dim, count, (b, de) in ((0, n3 - 1, (0.0, a * a / 4)), (1, 2 * n3 - 2, (a * a / 4, a * a / 2)),
                                (2, n3 - 1, (a * a / 2, 3 * a * a / 4))):
        iv = d.intervals(dim)
        assert len(iv) == count
        np.testing.assert_allclose(iv, np.tile([b, de], (count, 1)), atol=TOL)
    assert np.all(rings.size == 4)
    np.testing.assert_allclose(rings.diameter, a * np.sqrt(2), atol=TOL)
    # each ring is a lattice square: 4 edges of length a
    for xyz in rings.coordinates:
        sides = np.linalg.norm(np.roll(xyz, -1, axis=0) - xyz, axis=1)
        np.testing.assert_allclose(sides, a, atol=TOL)


# --- periodic invariances ------------------------------------------------------------------


def test_translation_across_boundary_leaves_diagram_unchanged():
    box, pos = jittered_lattice()
    d0, r0 = alpha_persistence(pos, box)
    shifted = box.wrap(pos + np.array([5.37, -8.11, 13.9]))
    d1, r1 = alpha_persistence(shifted, box)
    assert len(d0.birth) > 100  # a rich diagram, not a trivial one
    # every ring edge, the closing birth edge included, is in the sub-level set at its birth;
    # an edge's alpha^2 is at least (length/2)^2, so no ring edge is longer than 2 sqrt(birth)
    for xyz, b, size in zip(r0.coordinates, r0.birth, r0.size):
        if size < 0:
            continue
        sides = np.linalg.norm(np.roll(xyz, -1, axis=0) - xyz, axis=1)
        assert len(xyz) == size >= 3 and np.all(sides <= 2 * np.sqrt(b) + 1e-9)
    # a pair without a contractible ring is born as a second loop around the box, so not
    # before the network first spans the box (the first essential H1 class)
    first_span = d0.essential_birth[d0.essential_dimension == 1].min()
    assert np.all(r0.birth[r0.size < 0] >= first_span)
    np.testing.assert_allclose(as_table(d1), as_table(d0), atol=TOL, rtol=0)
    np.testing.assert_allclose(ring_table(r1), ring_table(r0), atol=TOL, rtol=0)
    np.testing.assert_allclose(np.sort(d1.essential_birth), np.sort(d0.essential_birth), atol=TOL)


def sparse_random_set(seed=0, n=120, length=14.0):
    """Uniform random points at 1/23 A^-3: sparse, so the longest rings are larger than the
    padding that the Delaunay check accepts (7-8 A)."""
    rng = np.random.default_rng(seed)
    return Box(np.zeros(3), np.full(3, length)), rng.uniform(0.0, length, (n, 3))


def test_ring_sizes_do_not_depend_on_origin_or_margin():
    box, pos = sparse_random_set()
    d0, r0 = alpha_persistence(pos, box, margin=7.0, max_ring_size=60)
    # a ring reaches further beyond the cell faces than the padding: a search confined to the
    # padded set would have cut it
    beyond = max(float(np.max(np.maximum(c.max(axis=0) - box.hi, box.lo - c.min(axis=0))))
                 for c in r0.coordinates if len(c))
    assert beyond > 7.0
    assert np.all(r0.size > 0) and r0.size.max() >= 15
    ref = ring_table(r0)
    for shift, margin in (([7.0, 7.0, 7.0], 7.0), ([3.1, -9.4, 11.2], 7.0), ([0.0, 0.0, 0.0], 12.0)):
        d1, r1 = alpha_persistence(box.wrap(pos + shift), box, margin=margin, max_ring_size=60)
        np.testing.assert_allclose(ring_table(r1), ref, atol=TOL, rtol=0)
    # every ring is a closed chain of sub-level edges at its birth, of the reported size
    for xyz, b, size in zip(r0.coordinates, r0.birth, r0.size):
        sides = np.linalg.norm(np.roll(xyz, -1, axis=0) - xyz, axis=1)
        assert len(xyz) == size and np.all(sides <= 2 * np.sqrt(b) + 1e-9)


def test_rings_only_for_kept_pairs():
    box, pos = sparse_random_set(seed=1)
    _, every = alpha_persistence(pos, box, margin=8.0, max_ring_size=60)
    _, kept = alpha_persistence(pos, box, margin=8.0, max_ring_size=60, ring_min_persistence=1.0)
    searched = every.persistence > 1.0
    assert 0 < searched.sum() < len(searched)
    assert np.all(kept.size[~searched] == 0) and all(len(a) == 0 for a, s in zip(kept.atoms, searched) if not s)
    np.testing.assert_array_equal(kept.size[searched], every.size[searched])
    with pytest.raises(ValueError, match="ring_min_persistence"):
        alpha_persistence(pos, box, margin=8.0, ring_min_persistence=-1.0)


def test_shuffled_atom_order_gives_identical_diagram():
    box, pos = jittered_lattice(seed=2)
    d0, r0 = alpha_persistence(pos, box)
    perm = np.random.default_rng(5).permutation(len(pos))
    d1, r1 = alpha_persistence(pos[perm], box)
    np.testing.assert_allclose(as_table(d1), as_table(d0), atol=TOL, rtol=0)
    np.testing.assert_allclose(ring_table(r1), ring_table(r0), atol=TOL, rtol=0)


def test_equivalent_triclinic_cell_gives_identical_diagram():
    # cell vectors (L,0,0), (L,L,0), (0,0,L) span the same lattice as the cubic cell, so the
    # periodic point set, hence the diagram, is the same: exercises the triclinic padding
    box, pos = jittered_lattice(seed=3)
    L = box.lengths[0]
    tri = Box(np.zeros(3), np.full(3, L), np.array([L, 0.0, 0.0]))
    d0, r0 = alpha_persistence(pos, box)
    d1, r1 = alpha_persistence(tri.wrap(pos), tri)
    np.testing.assert_allclose(as_table(d1), as_table(d0), atol=TOL, rtol=0)
    np.testing.assert_allclose(ring_table(r1), ring_table(r0), atol=TOL, rtol=0)


def test_equal_weights_shift_the_whole_filtration():
    # with one weight w for all points the power distance is |x-p|^2 - w: every orthosphere
    # has the circumsphere's centre and radius^2 - w, so every value shifts by -w
    box, pos = jittered_lattice(seed=4)
    w = 0.81
    d0, _ = alpha_persistence(pos, box)
    d1, _ = alpha_persistence(pos, box, weights=np.full(len(pos), w))
    assert d1.weighted and d1.n_hidden == 0
    np.testing.assert_allclose(as_table(d1), as_table(d0) - [0.0, w, w], atol=1e-8, rtol=0)


def test_too_small_margin_is_refused():
    box, pos = jittered_lattice()
    with pytest.raises(ValueError, match="margin"):
        alpha_persistence(pos, box, margin=0.5)


def test_bad_inputs_raise():
    box, pos = jittered_lattice()
    with pytest.raises(ValueError):
        alpha_persistence(pos[:, :2], box)
    with pytest.raises(ValueError):
        alpha_persistence(pos, box, weights=np.ones(3))
    with pytest.raises(ValueError):
        alpha_persistence(pos, box, precision="sloppy")
    with pytest.raises(ValueError, match="cell is too small"):
        # a single-atom cubic cell: an edge joins two images of the same atom
        alpha_persistence(np.zeros((2, 3)) + [[0, 0, 0], [1.5, 1.5, 1.5]], Box(np.zeros(3), np.full(3, 3.0)))


def test_structure_selection_maps_indices_back():
    # P+S on the lattice, Li in the cube centres; selecting P,S must give the lattice diagram
    # and ring atoms that index P/S atoms of the full structure
    a, n = 3.0, 3
    lattice = cubic_lattice(n, a)
    li = lattice + a / 2
    positions = np.vstack([li, lattice])
    elements = np.array(["Li"] * len(li) + ["P", "S"] * (len(lattice) // 2) + ["S"])
    box = Box(np.zeros(3), np.full(3, n * a))
    res = structure_homology(box, elements, positions, select=("P", "S"))
    d_ref, _ = alpha_persistence(lattice, box)
    np.testing.assert_allclose(as_table(res.diagram), as_table(d_ref), atol=TOL)
    ring_atoms = np.concatenate(res.rings.atoms)
    assert np.all(np.isin(elements[ring_atoms], ["P", "S"]))
    assert np.all(ring_atoms >= len(li))
    with pytest.raises(ValueError, match="no atoms"):
        structure_homology(box, elements, positions, select=("Ge",))


# --- FSDP link and softness ----------------------------------------------------------------


def _rings(sizes, diameters, births, deaths):
    return Rings(np.asarray(births, float), np.asarray(deaths, float), np.asarray(sizes),
                 np.asarray(diameters, float), [np.arange(s) for s in sizes], [np.zeros((s, 3)) for s in sizes], 40)


def test_fsdp_ring_link_shares():
    # d = 2 pi / q = 5 A; window for fwhm = 0.2 q: [2pi/(1.1 q), 2pi/(0.9 q)] = [4.545, 5.556] A
    q = 2 * np.pi / 5.0
    rings = _rings([4, 4, 10, 12, 9], [3.0, 5.0, 5.2, 5.5, 9.0], [1, 1, 1, 1, 1], [2, 4, 3, 5, 9])
    out = fsdp_ring_link(rings, q, q_fwhm=0.2 * q)
    assert out["d_fsdp_A"] == pytest.approx(5.0)
    assert out["window_A"][0] == pytest.approx(5.0 / 1.1) and out["window_A"][1] == pytest.approx(5.0 / 0.9)
    # in window: the 2nd (size 4, persistence 3), 3rd (size 10, pers 2), 4th (size 12, pers 4)
    assert out["n_in_window"] == 3
    assert out["large_ring_share"] == pytest.approx(6.0 / 9.0)
    assert out["large_ring_share_count"] == pytest.approx(2.0 / 3.0)
    assert out["per_size"][4]["fraction_in_window"] == pytest.approx(3.0 / 4.0)
    assert out["per_size"][9]["fraction_in_window"] == 0.0
    np.testing.assert_allclose(ring_length(rings, "death"), 2 * np.sqrt([2, 4, 3, 5, 9]))
    with pytest.raises(ValueError):
        fsdp_ring_link(rings, -1.0)


def test_enrichment_scan_compares_window_with_all_rings():
    # same rings as above; at persistence > 0: large (> 8) share in window 2/3, overall 3/5
    q = 2 * np.pi / 5.0
    rings = _rings([4, 4, 10, 12, 9], [3.0, 5.0, 5.2, 5.5, 9.0], [1, 1, 1, 1, 1], [2, 4, 3, 5, 9])
    scan = fsdp_enrichment_scan(rings, q, 0.2 * q, [0.0, 2.5, 10.0], length="diameter")
    assert scan[0]["large_share_in_window"] == pytest.approx(2 / 3) and scan[0]["large_share_all"] == pytest.approx(3 / 5)
    assert scan[0]["enrichment"] == pytest.approx((2 / 3) / (3 / 5))
    # persistence > 2.5 keeps rings 2, 4, 5 (persistence 3, 4, 8): in window sizes 4 and 12
    assert scan[1]["n_rings"] == 3 and scan[1]["large_share_in_window"] == pytest.approx(0.5)
    assert scan[1]["enrichment"] == pytest.approx(0.5 / (2 / 3))
    assert scan[2] == {"min_persistence_A2": 10.0, "n_rings": 0}


def test_fsdp_subset_contribution_sums_to_sq_and_finds_a_planted_wave():
    rng = np.random.default_rng(3)
    L = 20.0
    box = Box(np.zeros(3), np.full(3, L))
    q0 = 2 * np.pi / L * 4          # a cell wave vector along x, |q| = 1.257 1/A
    n_wave, n_rand = 300, 700
    # "ring" atoms modulated at q0 (planes x = k 2 pi / q0), the others uniform
    x = (rng.integers(0, 4, n_wave) + rng.normal(0, 0.03, n_wave)) * (2 * np.pi / q0)
    wave = np.column_stack([x, rng.uniform(0, L, (n_wave, 2))]) % L
    pos = np.vstack([wave, rng.uniform(0, L, (n_rand, 3))])
    w = np.where(np.arange(len(pos)) % 2 == 0, 2.0, 1.0)
    pool = np.arange(len(pos))
    out = fsdp_subset_contribution(box, pos, w, {"wave": np.arange(n_wave), "uniform": np.arange(n_wave, len(pos))},
                                   pool, (q0 - 0.01, q0 + 0.01), n_random=199, seed=1)
    assert out["n_vectors"] == 3    # (4,0,0), (0,4,0), (0,0,4) with positive first nonzero index
    big, flat = out["subsets"]["wave"], out["subsets"]["uniform"]
    assert big["p_random"] == pytest.approx(1 / 200) and big["mean_contribution"] > big["random_q05_q95"][1]
    assert flat["mean_contribution"] < out["pool_mean"]
    # atom contributions add up to <|rho(q)|^2> / (N <w>^2) over the window's vectors
    qv = np.array([[q0, 0, 0], [0, q0, 0], [0, 0, q0]])
    rho = np.exp(1j * pos @ qv.T).T @ w
    total = np.mean(np.abs(rho) ** 2) / (len(w) * w.mean() ** 2)
    n_all = len(pos)
    assert out["pool_mean"] * n_all == pytest.approx(total, rel=1e-9)
    with pytest.raises(ValueError, match="no wave vector"):
        fsdp_subset_contribution(box, pos, w, {}, pool, (0.01, 0.02))


def test_ring_coverage_and_softness_test():
    box = Box(np.zeros(3), np.full(3, 40.0))
    # ring A (size 4) at the origin corner (wrapped across the boundary), ring B (size 6) at 20
    ring_a = np.array([[0.5, 0.5, 0.5], [39.5, 0.5, 0.5], [39.5, 39.5, 0.5], [0.5, 39.5, 0.5]])
    ring_b = 20.0 + np.array([[1.5 * np.cos(t), 1.5 * np.sin(t), 0.0] for t in np.arange(6) * np.pi / 3])
    positions = np.vstack([ring_a, ring_b])
    rng = np.random.default_rng(0)
    dirs = rng.normal(size=(600, 3))
    dirs /= np.linalg.norm(dirs, axis=1)[:, None]
    li = np.vstack([box.wrap(np.array([0.0, 0.0, 0.5]) + 2.0 * dirs[:200]), 20.0 + 2.0 * dirs[200:400],
                    np.array([10.0, 10.0, 10.0]) + 0.5 * dirs[400:]])
    cov = ring_coverage(box, positions, [np.arange(4), np.arange(4, 10), np.arange(3)], [4, 6, -1], li, 3.5)
    assert sorted(cov) == [4, 6]   # the unresolved ring is left out
    assert cov[4].tolist() == list(range(200)) and cov[6].tolist() == list(range(200, 400))
    # the class statistic and its spread over translated fields, on a network with many rings and
    # uniformly spread Li (the shift null assumes a stationary field: Li spread through the cell)
    net = rng.uniform(0.0, 20.0, (330, 3))
    box = Box(np.zeros(3), np.full(3, 20.0))
    li = rng.uniform(0.0, 20.0, (160, 3))
    _, rings = alpha_persistence(net, box, margin=8.0, ring_min_persistence=1.0)
    cov = ring_coverage(box, net, rings.atoms, rings.size, li, 3.5)
    s = rng.normal(size=len(li))
    shifts = shift_indices(box, li, 199, np.random.default_rng(1))
    assert shifts.shape == (199, len(li))
    assert np.array_equal(shifted_fields(box, li, s, 199, np.random.default_rng(1)), s[shifts])
    res = ring_softness_by_size(cov, s, shifts)
    k = min(cov, key=lambda c: abs(len(cov[c]) - len(li) / 4))
    assert res["per_size"][k]["n_li"] == len(cov[k])
    assert res["per_size"][k]["d"] == pytest.approx((s[cov[k]].mean() - s.mean()) / s.std())
    null = np.array(res["per_size"][k]["null_d"])
    fields = s[shifts]
    expected = (fields[:, cov[k]].mean(axis=1) - fields.mean(axis=1)) / fields.std(axis=1)
    assert null.shape == (199,) and np.allclose(null, expected)
    # independent softness: the translated d spread around 0 with the spread of a class mean of
    # ~n independent values (these Li are uncorrelated), sd(d) ~ sqrt(1/n - 1/N)
    n = len(cov[k])
    assert abs(null.mean()) < 3 * null.std() / np.sqrt(199) + 0.02
    assert 0.6 < null.std() / np.sqrt(1 / n - 1 / len(li)) < 1.4
    # a class made softer by 2 sd: its d far outside the translated spread
    s2 = s.copy()
    s2[cov[k]] += 2.0
    planted = ring_softness_by_size(cov, s2, shifts)["per_size"][k]
    assert planted["d"] > np.quantile(planted["null_d"], 0.95) and planted["d"] > 0.7
    with pytest.raises(ValueError, match="one column per Li"):
        ring_softness_by_size(cov, s, shifts[:, :-1])


# --- CLI -----------------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["element", "type"])
def test_cli_writes_h1_csv(tmp_path, capsys, column):
    from lipsglass.cli import main

    a, n = 3.0, 3
    pos = cubic_lattice(n, a) + 0.2
    box = Box(np.zeros(3), np.full(3, n * a))
    path = tmp_path / "sc.dump"
    label = np.array(["S"] * len(pos)) if column == "element" else np.ones(len(pos), int)
    with open(path, "w") as fh:
        write_dump_frame(fh, 0, box, {"id": np.arange(1, len(pos) + 1), column: label,
                                      "x": pos[:, 0], "y": pos[:, 1], "z": pos[:, 2]})
    extra = ["--type-elements", "S"] if column == "type" else []
    assert main(["homology", str(path), "--elements", "S", "--margin", "7", *extra]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "birth_A2,death_A2,ring_size"
    rows = np.array([[float(x) for x in line.split(",")] for line in lines[1:]])
    assert len(rows) == 2 * n ** 3 - 2
    np.testing.assert_allclose(rows, np.tile([a * a / 4, a * a / 2, 4], (len(rows), 1)), atol=1e-8)


# --- figures -------------------------------------------------------------------------------


def test_figures_write_png_and_pdf(tmp_path):
    from lipsglass.figures import homology as fig

    box, pos = jittered_lattice()
    d, rings = alpha_persistence(pos, box)
    fig.plot_persistence_diagrams({"g1": d}, tmp_path / "pd.png", tmp_path / "pd.pdf", bins=20)
    fig.plot_ring_size_distribution({"g1": rings}, tmp_path / "rs.png", tmp_path / "rs.pdf")
    link = fsdp_ring_link(rings, 2 * np.pi / 4.0)
    fig.plot_rings_fsdp({"g1": link}, tmp_path / "s4.png", tmp_path / "s4.pdf")
    rng = np.random.default_rng(0)
    li = rng.uniform(0, 12, (50, 3))
    soft = rng.normal(size=50)
    cov = ring_coverage(box, pos, rings.atoms, rings.size, li, 3.5)
    res = ring_softness_by_size(cov, soft, shift_indices(box, li, 19, rng))
    res.update(values={s: soft[v] for s, v in cov.items()}, cutoff_A=3.5)
    fig.plot_softness_by_ring_size({"g1": res}, {"g1": soft}, tmp_path / "s5.png", tmp_path / "s5.pdf")
    for stem in ("pd", "rs", "s4", "s5"):
        for ext in ("png", "pdf"):
            assert (tmp_path / f"{stem}.{ext}").stat().st_size > 1000


def test_direct_highs_call_matches_linprog(monkeypatch):
    # the optimal-volume LPs go to scipy's bundled HiGHS directly; the solutions must equal
    # scipy.optimize.linprog(method="highs") exactly (same model and options), since equally small
    # volumes with different boundaries make the ring depend on which optimum the solver returns
    from scipy import sparse
    from scipy.optimize import linprog

    import lipsglass.homology.volumes as hom

    solve = hom._solve_lp
    checked = []

    def both(c, a_eq, n_rows, bounds, duals=False):
        out = solve(c, a_eq, n_rows, bounds, duals=duals)
        x, y = out if duals and out is not None else (out, None)
        indptr, indices, data = a_eq
        a = sparse.csc_matrix((data, indices, indptr), shape=(n_rows, len(c)))
        ref = linprog(c, A_eq=a, b_eq=np.zeros(n_rows), bounds=bounds, method="highs")
        assert (x is None) == (ref.status != 0)  # infeasible within a cutoff: searched larger
        if x is not None:
            assert np.array_equal(x, ref.x)
            if duals:  # column generation prices with them: linprog's marginals, c - A^T y >= 0 at x = 0
                assert np.array_equal(y, ref.eqlin.marginals)
                reduced = c - a.T @ y
                at_lower = (x <= bounds[:, 0] + 1e-9) & (bounds[:, 0] < bounds[:, 1])  # not the fixed ones
                assert np.all(reduced[at_lower] >= -1e-7)
            checked.append(len(c))
        return out

    monkeypatch.setattr(hom, "_solve_lp", both)
    from pathlib import Path

    # the committed periodic random set of the HomCloud oracle test (14 A cell)
    pts = np.loadtxt(Path(__file__).parent / "data" / "homology" / "points.csv", delimiter=",", skiprows=1)
    box = Box(np.zeros(3), np.full(3, 14.0))
    _, rings = alpha_persistence(pts, box, margin=8.0, max_ring_size=60, ring_min_persistence=1.0,
                                 ring_definition="optimal_volume", volume_epsilon=0.5)
    assert len(checked) >= len(rings.size[rings.persistence > 1.0]) > 10
    n_local = len(checked)
    # a cutoff inside the skin sends every pair to the column-generation round (LPs with duals)
    alpha_persistence(pts, box, margin=8.0, max_ring_size=60, ring_min_persistence=1.0,
                      ring_definition="optimal_volume", volume_epsilon=0.5, volume_cutoff=1.0)
    assert len(checked) - n_local > 2 * n_local


def test_column_generation_reaches_the_whole_lp_optimum(monkeypatch):
    # the last round of the optimal-volume search (no volume accepted within the cutoffs) solves
    # the LP over all triangles of the pair by column generation; its optimum (sum |x_t|) must be
    # the one of the whole LP, for starts that hold a volume and starts that hold none
    from pathlib import Path

    import lipsglass.homology.volumes as hom

    grown = hom._grown_volume_lp
    seen = []

    def both(bnd, edge_pos, n_edges, start, everything, t_d, pb):
        cand, x = grown(bnd, edge_pos, n_edges, start, everything, t_d, pb)
        feasible = hom._volume_lp(bnd, edge_pos, np.union1d(start, [t_d]), t_d, pb) is not None
        whole_cand, whole_x = hom._volume_lp(bnd, edge_pos, everything, t_d, pb)
        assert np.abs(x).sum() == pytest.approx(np.abs(whole_x).sum(), abs=1e-6)
        assert set(cand) <= set(everything) and np.isin(cand, everything).all()
        d = cand[np.abs(x) > 1e-5]  # the volume has no boundary on the edges after the birth
        edges = bnd[d].ravel()
        later = edge_pos[edges] > pb
        net = np.bincount(edges[later], weights=np.tile(hom._TRIANGLE_SIGNS, len(d))[later]
                          * np.repeat(x[np.abs(x) > 1e-5], 3)[later], minlength=n_edges)
        assert np.allclose(net, 0.0, atol=1e-6)
        seen.append((feasible, len(cand) < len(everything)))
        return cand, x

    monkeypatch.setattr(hom, "_grown_volume_lp", both)
    pts = np.loadtxt(Path(__file__).parent / "data" / "homology" / "points.csv", delimiter=",", skiprows=1)
    box = Box(np.zeros(3), np.full(3, 14.0))
    for cutoff in (1.0, 2.0):  # inside the skin: every pair reaches the last round (from 2 A / 4 A)
        alpha_persistence(pts, box, margin=8.0, max_ring_size=60, ring_min_persistence=1.0,
                          ring_definition="optimal_volume", volume_epsilon=0.5, volume_cutoff=cutoff)
    assert sum(f for f, _ in seen) >= 5 and sum(not f for f, _ in seen) >= 5  # both kinds of start
    assert sum(s for _, s in seen) >= 0.8 * len(seen)  # and it is a real saving: fewer columns than the whole LP
