"""NEB migration barriers: hop selection, end-state checks, log parsing, Li motion by anion,
figures (fast), and LAMMPS NEB runs on a Li2S antifluorite crystal (slow).

Physics reference of the slow tests: in antifluorite Li2S the vacancy hop of a Li between two
neighbouring tetrahedral sites (a/2 apart along x) is mapped onto itself by the mirror plane
x = const half-way between the sites. The saddle point then lies on that plane, so the
minimum of the energy with the hopping Li held on the plane (its x force zeroed, everything
else relaxed) is the saddle energy, an estimate independent of the NEB machinery. The
minimisation must start off the straight line: the point of the plane on the line is a
symmetric stationary point (a second-order saddle, 0.705 eV above the initial state) where a
minimiser started on it stays; started 0.3 A off it along the (-1,-1) or (1,1) diagonal it
finds the minimum (0.582 eV), with the hopping Li bent towards an octahedral site. Symmetry also
makes the forward and backward barriers equal and the end-state energies equal.
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import pytest

from lipsglass.crystals import A_LI2S, li_neighbour, write_li2s
from lipsglass.forcefield import ForceField
from lipsglass.lammpsio import Box, DumpFrame
from lipsglass.neb.analysis import neb_summary, parse_neb_log
from lipsglass.neb.batch import run_batch
from lipsglass.neb.endstates import end_state_rejection
from lipsglass.neb.endstates import minimise_commands as _minimise_commands
from lipsglass.neb.endstates import model_header as _header
from lipsglass.neb.hop import cached_result, run_hop
from lipsglass.neb.li_motion import li_motion_by_anion
from lipsglass.neb.results import CONVERGED, barriers_by_class, collect_results, representative_hop, status_counts
from lipsglass.neb.selection import HOP_CLASSES, select_hops
from lipsglass.neb.settings import NEBSettings
from lipsglass.units import KCAL_MOL_TO_EV


@pytest.fixture(scope="module")
def ff():
    return ForceField.load("ariga2022")


# --- hop selection ----------------------------------------------------------------------------

def _random_li(n=120, edge=24.0, seed=3):
    rng = np.random.default_rng(seed)
    box = Box(np.zeros(3), np.full(3, edge))
    pos = rng.uniform(0, edge, (n, 3))
    ids = np.arange(1000, 1000 + n) * 3  # non-contiguous ids
    softness = rng.normal(size=n)
    return box, pos, ids, softness


def _brute_candidates(box, pos, ids, softness, dmin, dmax, threshold=0.0):
    """Every ordered pair in the window by direct O(N^2) minimum-image distances."""
    out = {}
    for a, b in itertools.permutations(range(len(pos)), 2):
        d = np.linalg.norm(box.minimum_image(pos[b] - pos[a]))
        if dmin <= d <= dmax:
            cls = f"{'soft' if softness[a] > threshold else 'hard'}->{'soft' if softness[b] > threshold else 'hard'}"
            out[(int(ids[a]), int(ids[b]))] = (cls, d)
    return out


def test_select_hops_respects_window_classes_and_seed():
    box, pos, ids, s = _random_li()
    sel = select_hops(box, pos, ids, s, n_per_class=15, seed=7)
    truth = _brute_candidates(box, pos, ids, s, 5.0, 10.0)
    assert sel.candidates == {c: sum(1 for v in truth.values() if v[0] == c) for c in HOP_CLASSES}
    assert all(n == 0 for n in sel.shortfall.values())
    assert len(sel.rows) == 60 and [r["hop_id"] for r in sel.rows] == list(range(60))
    pairs = set()
    for r in sel.rows:
        key = (r["from_id"], r["to_id"])
        cls, d = truth[key]  # KeyError if the hop is outside the window
        assert r["class"] == cls and r["distance_A"] == pytest.approx(d, abs=1e-9)
        assert 5.0 <= r["distance_A"] <= 10.0
        k_from, k_to = np.flatnonzero(ids == r["from_id"])[0], np.flatnonzero(ids == r["to_id"])[0]
        assert (r["S_from"], r["S_to"]) == (s[k_from], s[k_to])
        pairs.add(key)
    assert len(pairs) == 60  # sampled without replacement
    again = select_hops(box, pos, ids, s, n_per_class=15, seed=7)
    other = select_hops(box, pos, ids, s, n_per_class=15, seed=8)
    assert again.rows == sel.rows
    assert other.rows != sel.rows


def test_select_hops_threshold_moves_class_boundary():
    box, pos, ids, s = _random_li()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sel = select_hops(box, pos, ids, s, n_per_class=10 ** 6, seed=1, soft_threshold=0.5,
                          min_distance_A=6.0, max_distance_A=8.0)
    truth = _brute_candidates(box, pos, ids, s, 6.0, 8.0, threshold=0.5)
    # asking for more than exists returns every candidate exactly once
    assert {(r["from_id"], r["to_id"]): r["class"] for r in sel.rows} == {k: v[0] for k, v in truth.items()}


def test_select_hops_reports_shortfall():
    box = Box(np.zeros(3), np.full(3, 30.0))
    # three Li on a line 6 A apart: soft, soft, hard -> no hard->hard hop exists
    pos = np.array([[1.0, 1, 1], [7.0, 1, 1], [13.0, 1, 1]])
    ids, s = np.array([1, 2, 3]), np.array([1.0, 0.5, -1.0])
    with pytest.warns(UserWarning, match="hard->hard"):
        sel = select_hops(box, pos, ids, s, n_per_class=2, seed=0)
    # candidates: 1<->2 (6 A, soft-soft both ways), 2<->3 (6 A), 1<->3 (12 A: outside)
    assert sel.candidates == {"soft->hard": 1, "hard->soft": 1, "soft->soft": 2, "hard->hard": 0}
    assert sel.shortfall == {"soft->hard": 1, "hard->soft": 1, "soft->soft": 0, "hard->hard": 2}
    assert sorted((r["from_id"], r["to_id"]) for r in sel.rows) == [(1, 2), (2, 1), (2, 3), (3, 2)]


def test_select_hops_rejects_bad_input():
    box, pos, ids, s = _random_li()
    with pytest.raises(ValueError, match="half the smallest cell width"):
        select_hops(box, pos, ids, s, 1, 0, max_distance_A=12.0)
    with pytest.raises(ValueError, match="one entry per position"):
        select_hops(box, pos, ids[:-1], s, 1, 0)
    with pytest.raises(ValueError, match="unknown hop classes"):
        select_hops(box, pos, ids, s, {"soft->medium": 1}, 0)
    with pytest.raises(ValueError, match="min_distance_A < max_distance_A"):
        select_hops(box, pos, ids, s, 1, 0, min_distance_A=8.0, max_distance_A=6.0)


# --- settings, end-state checks, log parsing ---------------------------------------------------

def test_settings_validation_and_config():
    s = NEBSettings.from_config({"replicas": 7, "ftol_eV_A": 0.02}, md={"kspace_style": "ewald", "kspace_accuracy": 1e-6})
    assert (s.replicas, s.ftol_eV_A, s.kspace_style, s.kspace_accuracy) == (7, 0.02, "ewald", 1e-6)
    with pytest.raises(ValueError, match="unknown NEB settings"):
        NEBSettings.from_config({"replica": 5})
    with pytest.raises(ValueError, match="multiple of print_every"):
        NEBSettings(n_steps_neb=120, print_every=50)
    with pytest.raises(ValueError, match="replicas must be >= 3"):
        NEBSettings(replicas=2)
    with pytest.raises(ValueError, match="perp_spring_constant_eV_A2"):
        NEBSettings(perp_spring_constant_eV_A2=-1.0)
    for bad in (dict(max_split_depth=-1), dict(climb_retries=-1), dict(segment_min_replicas=2),
                dict(basin_separation_A=0.0), dict(climb_runaway_eV=-1.0)):
        with pytest.raises(ValueError, match=next(iter(bad))):
            NEBSettings(**bad)


def test_end_state_rejection_reasons():
    assert end_state_rejection(0.2, 0.3, 6.0, 1.0) is None
    assert end_state_rejection(1.5, 0.3, 6.0, 1.0) == "initial_moved"
    assert end_state_rejection(0.2, 4.0, 2.0, 1.0) == "final_relaxed_back"
    assert end_state_rejection(0.2, 1.6, 5.0, 1.0) == "final_off_target"


def _fake_log(tmp_path, stage1, stage2, climbing, stops):
    """NEB universe log with the LAMMPS layout (9 leading columns, then RD PE per replica)."""
    r = len(stage1[0][1])
    head = ("    Step     MaxReplicaForce  MaxAtomForce GradV0 GradV1 GradVc EBF EBR RDT "
            + " ".join(f"RD{k} PE{k}" for k in range(1, r + 1)))

    def row(step, pe, rd):
        return f"{step} 1.0 0.5 0 0 0 0 0 1.0 " + " ".join(f"{x} {e}" for x, e in zip(rd, pe))

    rd = np.linspace(0, 1, r)
    lines = ["LAMMPS (22 Jul 2025)", "Running on 3 partitions of processors", head]
    lines += [row(step, pe, rd) for step, pe in stage1]
    lines += [f"Climbing replica = {climbing}", head] + [row(step, pe, rd) for step, pe in stage2]
    (tmp_path / "neb.log").write_text("\n".join(lines) + "\n")
    (tmp_path / "neb.log.0").write_text("\n".join(f"  Stopping criterion = {s}" for s in stops) + "\n")
    return tmp_path / "neb.log"


def test_parse_neb_log_barriers_and_convergence(tmp_path):
    e0, e_top, e1 = -1000.0, -990.0, -995.0  # kcal/mol
    path = _fake_log(tmp_path, [(0, [e0, -980.0, -992.0, e1]), (50, [e0, -991.0, -993.0, e1])],
                     [(50, [e0, -991.0, -993.0, e1]), (80, [e0, e_top, -993.5, e1])], 2,
                     ["max iterations", "force tolerance"])
    log = parse_neb_log(path)
    assert log.replicas == 4 and log.climbing_replica == 2
    assert list(log.stage) == [1, 1, 2, 2]
    s = neb_summary(log, NEBSettings(n_steps_neb=50, n_steps_climb=100))
    assert s["forward_barrier_eV"] == pytest.approx((e_top - e0) * KCAL_MOL_TO_EV)
    assert s["backward_barrier_eV"] == pytest.approx((e_top - e1) * KCAL_MOL_TO_EV)
    assert s["path_energy_eV"][0] == 0.0 and s["saddle_replica"] == 2
    assert s["converged"] and s["climb_steps"] == 30 and not s["intermediate_below_ends"]
    # the climbing stage hit its step limit: not converged
    path = _fake_log(tmp_path, [(0, [e0, -980.0, e1])], [(0, [e0, -985.0, e1]), (100, [e0, -1001.0, e1])], 2,
                     ["force tolerance", "max iterations"])
    s = neb_summary(parse_neb_log(path), NEBSettings(n_steps_neb=50, n_steps_climb=100))
    assert not s["converged"] and s["intermediate_below_ends"]
    # the band dips below the initial state: the barrier is climbed from that minimum (-1001)
    assert s["forward_barrier_eV"] == pytest.approx((e1 - (-1001.0)) * KCAL_MOL_TO_EV)


def test_collection_helpers():
    rows = [{"hop_id": k, "class": c, "status": st, "forward_barrier_eV": b}
            for k, (c, st, b) in enumerate([("soft->hard", CONVERGED, 0.3), ("soft->hard", CONVERGED, 0.1),
                                            ("soft->hard", CONVERGED, 0.2), ("hard->soft", "not_converged", 0.5),
                                            ("hard->soft", "final_relaxed_back", None)])]
    assert representative_hop(rows, "soft->hard")["hop_id"] == 2  # median barrier 0.2
    assert representative_hop(rows, "hard->soft") is None
    b = barriers_by_class(rows)
    assert sorted(b["soft->hard"]) == [0.1, 0.2, 0.3] and len(b["hard->soft"]) == 0
    assert list(barriers_by_class(rows, converged_only=False)["hard->soft"]) == [0.5]
    counts = status_counts(rows)
    assert counts[CONVERGED] == 3 and counts["not_converged"] == 1 and counts["final_relaxed_back"] == 1


# --- Li motion by anion (Fig. 4D analysis) -----------------------------------------------------

def test_li_motion_by_anion():
    box = Box(np.zeros(3), np.full(3, 20.0))
    # atoms: 1 S of PS4 at (2,2,2), 2 S of P2S6 at (12,12,12), Li 3 next to PS4, Li 4 next to P2S6
    ids = np.array([1, 2, 3, 4])
    labels = np.array(["PS4", "P2S6", "", ""])
    base = np.array([[2.0, 2, 2], [12.0, 12, 12], [4.4, 2, 2], [14.4, 12, 12]])
    frames = []
    for t in range(4):
        pos = base.copy()
        pos[2, 0] += 3.0 * t          # Li 3 runs 9 A along x (crossing the boundary later)
        pos[3, 1] += (-1) ** t * 0.5  # Li 4 rattles: +-0.5 A in y
        wrapped = box.wrap(pos)
        img = np.floor((pos - box.lo) / box.lengths).astype(int)
        frames.append(DumpFrame(t, box, {"id": ids, "x": wrapped[:, 0], "y": wrapped[:, 1], "z": wrapped[:, 2],
                                         "ix": img[:, 0], "iy": img[:, 1], "iz": img[:, 2]}))
    m = li_motion_by_anion(frames, np.array([3, 4]), labels, hop_distance_A=3.0)
    assert list(m.nearest_anion) == ["PS4", "P2S6"]
    assert m.displacement_A == pytest.approx([9.0, 1.0])  # Li 4: +0.5 at t=0, -0.5 at t=3
    assert m.path_length_A == pytest.approx([9.0, 3.0])
    assert list(m.hopped) == [True, False]
    assert m.by_anion["PS4"]["hopped_fraction"] == 1.0 and m.by_anion["P2S6"]["hopped_fraction"] == 0.0
    assert m.by_anion["P2S7"]["n"] == 0
    with pytest.raises(ValueError, match="labels"):
        li_motion_by_anion(frames, np.array([3]), labels[:2], 3.0)


# --- figures -----------------------------------------------------------------------------------

def test_figures_write_png_and_pdf(tmp_path):
    from lipsglass.figures.neb import plot_barrier_distributions, plot_energy_paths

    rc = np.linspace(0, 1, 5)
    plot_energy_paths({"soft->hard (hop 1)": (rc, [0, 0.2, 0.3, 0.2, 0.1]),
                       "hard->soft (hop 2)": (rc, [0, 0.3, 0.5, 0.3, -0.1])},
                      tmp_path / "a.png", tmp_path / "a.pdf",
                      hop_classes={"soft->hard (hop 1)": "soft->hard", "hard->soft (hop 2)": "hard->soft"})
    rng = np.random.default_rng(0)
    plot_barrier_distributions({"g1": {"soft->hard": rng.uniform(0.1, 0.4, 20), "hard->soft": rng.uniform(0.3, 0.7, 20)},
                                "g2": {"soft->hard": [0.2], "hard->soft": []}},
                               tmp_path / "b.png", tmp_path / "b.pdf", classes=HOP_CLASSES)
    from lipsglass.figures.neb import plot_representative_paths
    from lipsglass.neb.results import write_rows_csv

    rows = []
    for k, (c, b) in enumerate([("soft->hard", 0.2), ("soft->hard", 0.4), ("soft->hard", 0.3), ("hard->soft", 0.6)]):
        rows.append({"hop_id": k, "class": c, "status": CONVERGED, "forward_barrier_eV": b})
        write_rows_csv(tmp_path / "w" / f"hop_{k}" / "path.csv",
                       [{"replica": i + 1, "reaction_coordinate": x, "energy_eV": b * np.sin(np.pi * x)}
                        for i, x in enumerate(rc)], ("replica", "reaction_coordinate", "energy_eV"))
    drawn = plot_representative_paths(rows, tmp_path / "w", tmp_path / "e.png", tmp_path / "e.pdf")
    assert [h["hop_id"] for h in drawn] == [2, 3]  # median of 0.2, 0.3, 0.4 is hop 2
    for stem in "abe":
        assert (tmp_path / f"{stem}.png").stat().st_size > 0 and (tmp_path / f"{stem}.pdf").stat().st_size > 0
    with pytest.raises(ValueError, match="must not decrease"):
        plot_energy_paths({"x": ([0, 1, 0.5], [0, 1, 0])}, tmp_path / "d.png", tmp_path / "d.pdf")


# --- LAMMPS NEB on Li2S (slow) -------------------------------------------------------------------

def _neighbour(li_ids, li_pos, k, shift):
    return li_neighbour(li_ids, li_pos, k, shift)


def _hop(hop_id, a, b):
    return {"hop_id": hop_id, "from_id": a, "to_id": b, "class": "soft->hard", "distance_A": A_LI2S / 2,
            "S_from": 1.0, "S_to": -1.0}


def _mirror_plane_energy(ff, data, from_id, to_id, x_plane, settings, workdir, yz_A=None) -> float:
    """Minimum energy (kcal/mol) with Li ``from_id`` held on the plane x = x_plane (its x force
    zeroed; y, z and all other atoms relaxed), target Li deleted, started with the Li at
    (x_plane, yz_A) (default: its own y, z)."""
    from lipsglass.engine.runner import run_lammps

    workdir.mkdir(parents=True, exist_ok=True)
    cmds = _header(ff, data, workdir, settings) + [
        f"group gone id {to_id}", "delete_atoms group gone compress no", f"set atom {from_id} x {x_plane!r}"
        + (f" y {float(yz_A[0])!r} z {float(yz_A[1])!r}" if yz_A is not None else ""),
        f"group hopper id {from_id}", "fix on_plane hopper setforce 0.0 NULL NULL"]
    cmds += _minimise_commands(settings) + [f'print "$(pe:%.15g)" file {workdir / "e.txt"} screen no']
    run_lammps(cmds, workdir / "plane.log")
    return float((workdir / "e.txt").read_text().split()[-1])


@pytest.mark.slow
def test_neb_barrier_matches_mirror_plane_saddle(tmp_path, ff):
    data = tmp_path / "li2s.data"
    li_ids, li_pos = write_li2s(data, ff)
    a = int(li_ids[0])
    b = _neighbour(li_ids, li_pos, 0, [A_LI2S / 2, 0, 0])
    settings = NEBSettings(replicas=5, n_steps_neb=300, n_steps_climb=300, print_every=50, ftol_eV_A=0.01,
                           minimise_ftol_eV_A=0.001)
    res = run_hop(_hop(0, a, b), data, ff, settings, tmp_path / "neb")
    assert res["status"] == CONVERGED, res
    # NEB end energies are the separately minimised energies (log prints 8 significant digits)
    assert res["energy_initial_kcal_mol"] == pytest.approx(res["energy_initial_min_kcal_mol"], rel=1e-6)
    assert res["energy_final_kcal_mol"] == pytest.approx(res["energy_final_min_kcal_mol"], rel=1e-6)
    # mirror symmetry: equal end energies (to the minimiser tolerance) and equal barriers
    assert abs(res["reaction_energy_eV"]) < 2e-3
    assert res["forward_barrier_eV"] == pytest.approx(res["backward_barrier_eV"], abs=2e-3)
    # the reported band is the refined one (2 x 5 - 1 images): its middle image is the saddle
    mid = res["refined_replicas"] // 2
    assert res["refined_replicas"] == 9 and res["saddle_replica"] == mid + 1
    assert res["path_reaction_coordinate"][mid] == pytest.approx(0.5, abs=0.01)
    # independent saddle energy: constrained minimum on the mirror plane
    x_plane = float(li_pos[0, 0] + A_LI2S / 4)
    # started 0.3 A off the symmetric stationary point of the plane (see the module docstring)
    e_plane = _mirror_plane_energy(ff, data, a, b, x_plane, settings, tmp_path / "plane",
                                   yz_A=(float(li_pos[0, 1] - 0.3), float(li_pos[0, 2] - 0.3)))
    reference = (e_plane - res["energy_initial_min_kcal_mol"]) * KCAL_MOL_TO_EV
    assert reference > 0.05  # a real barrier, not a flat landscape
    # tolerance: ftol 0.01 eV/A on the climbing image and minimiser tolerances, a few meV
    assert res["forward_barrier_eV"] == pytest.approx(reference, abs=5e-3)
    path = (tmp_path / "neb" / "hop_0" / "path.csv").read_text().splitlines()
    assert path[0] == "replica,reaction_coordinate,energy_eV" and len(path) == 10


@pytest.mark.slow
def test_killed_batch_resumes_only_missing_hops(tmp_path, ff):
    data = tmp_path / "li2s.data"
    li_ids, li_pos = write_li2s(data, ff)
    a = int(li_ids[0])
    hops = [_hop(0, a, _neighbour(li_ids, li_pos, 0, [A_LI2S / 2, 0, 0])),
            _hop(1, a, _neighbour(li_ids, li_pos, 0, [0, A_LI2S / 2, 0]))]
    settings = NEBSettings(replicas=3, n_steps_neb=100, n_steps_climb=100, print_every=50, ftol_eV_A=0.05)
    work = tmp_path / "batch"
    first = run_batch(hops, data, ff, settings, work)
    assert [r["status"] for r in first] == [CONVERGED, CONVERGED]
    files = [work / f"hop_{k}" / "result.json" for k in (0, 1)]
    kept_mtime = files[0].stat().st_mtime_ns
    files[1].unlink()  # the batch was killed before hop 1 finished
    second = run_batch(hops, data, ff, settings, work)
    assert files[0].stat().st_mtime_ns == kept_mtime  # hop 0 was not redone
    assert files[1].exists()
    for r1, r2 in zip(first, second):
        assert r2["forward_barrier_eV"] == pytest.approx(r1["forward_barrier_eV"], abs=1e-9)
        assert r2["backward_barrier_eV"] == pytest.approx(r1["backward_barrier_eV"], abs=1e-9)
    # both hops are symmetry-equivalent (x and y neighbours in a cubic crystal)
    assert second[0]["forward_barrier_eV"] == pytest.approx(second[1]["forward_barrier_eV"], abs=2e-3)
    # the glass's inherent structure was minimised once for the batch, not once per hop
    assert len(list(work.glob("inherent_*.data"))) == 1
    assert not list(work.glob("hop_*/inherent*"))
    # a changed setting invalidates the cache
    assert cached_result(hops[0], data, ff, settings, work) is not None
    assert cached_result(hops[0], data, ff, NEBSettings(replicas=3, n_steps_neb=100, n_steps_climb=100,
                                                          print_every=50, ftol_eV_A=0.04), work) is None
    rows = collect_results(files)
    assert [r["hop_id"] for r in rows] == [0, 1] and all(r["status"] == CONVERGED for r in rows)


@pytest.mark.slow
def test_inherent_structure_is_computed_once_and_keyed_by_what_it_depends_on(tmp_path, ff):
    from lipsglass.lammpsio import read_data
    from lipsglass.neb.endstates import inherent_structure

    data = tmp_path / "li2s.data"
    write_li2s(data, ff)
    settings = NEBSettings(replicas=3, print_every=50)
    first = inherent_structure(data, ff, settings, tmp_path / "cache")
    stamp = first.stat().st_mtime_ns
    assert inherent_structure(data, ff, settings, tmp_path / "cache") == first
    assert first.stat().st_mtime_ns == stamp                     # reused, not recomputed
    assert not list((tmp_path / "cache").glob("*.partial.data"))  # only a complete file is left
    # another minimisation tolerance or another glass file gives another structure file
    other = inherent_structure(data, ff, NEBSettings(replicas=3, print_every=50, minimise_ftol_eV_A=0.01),
                               tmp_path / "cache")
    assert other != first
    shifted = tmp_path / "li2s_moved.data"
    glass = data.read_text().splitlines()
    shifted.write_text("\n".join(glass[:1] + ["# another glass"] + glass[1:]) + "\n")
    assert inherent_structure(shifted, ff, settings, tmp_path / "cache") not in (first, other)
    # the structure is the minimised glass: same atoms, same cell
    a, b = read_data(data), read_data(first)
    assert sorted(a.ids.tolist()) == sorted(b.ids.tolist())
