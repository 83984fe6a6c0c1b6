"""Converged NEB bands, physical starting paths and honest hops (issue 15, items 1-3).

References are derivable: an analytic 1-D double/triple well built from Morse attractors
(fixed atoms on a line, the mover between them) whose saddle is off-centre and whose barriers
follow from a 1-D root search; IDPP on constructed geometries; the barrier definition on
constructed energy profiles; end-state checks on constructed displacements.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from lipsglass.lammpsio import Box
from lipsglass.neb.analysis import path_barriers
from lipsglass.neb.band import converged_band, neb_launch_command
from lipsglass.neb.endstates import end_state_rejection, site_changes
from lipsglass.neb.paths import closest_approach, idpp_path, linear_path, refined_path
from lipsglass.neb.settings import NEBSettings, max_band_ranks
from lipsglass.units import EV_TO_KCAL_MOL


# --- barrier definition ---------------------------------------------------------------------------

def test_barriers_are_measured_from_the_lowest_preceding_minimum():
    # plain band: max - ends
    b = path_barriers([0.0, 0.2, 0.5, 0.3, 0.1])
    assert b["forward"] == pytest.approx(0.5) and b["backward"] == pytest.approx(0.4)
    assert b["intermediate_minima"] == [] and b["forward_top"] == 2
    # an intermediate basin below the initial state: the second peak is climbed from -0.3
    e = [0.0, 0.4, -0.3, 0.35, 0.1]
    b = path_barriers(e)
    assert b["forward"] == pytest.approx(0.65) and b["forward_top"] == 3
    assert b["backward"] == pytest.approx(0.7)  # reverse hop: from 0.1 over 0.35, then from -0.3 over 0.4
    assert b["intermediate_minima"] == [2] and b["below_initial"] and b["below_final"]
    # the reverse band has swapped barriers
    r = path_barriers(e[::-1])
    assert r["forward"] == pytest.approx(b["backward"]) and r["backward"] == pytest.approx(b["forward"])
    with pytest.raises(ValueError, match="finite"):
        path_barriers([0.0, np.nan, 0.0])


# --- band size, command line ---------------------------------------------------------------------

def test_replicas_follow_the_hop_length_with_a_minimum():
    s = NEBSettings()
    assert s.replicas_for(5.0) == 9 and s.replicas_for(8.2) == 10 and s.replicas_for(10.0) == 11
    assert NEBSettings(replicas_per_A=2.0).replicas_for(6.0) == 13
    assert NEBSettings(replicas=7).replicas_for(10.0) == 7
    assert max_band_ranks(NEBSettings(max_distance_A=10.0, ranks_per_replica=4)) == (2 * 11 - 1) * 4
    with pytest.raises(ValueError, match="min_replicas"):
        NEBSettings(min_replicas=2)
    with pytest.raises(ValueError, match="ranks_per_replica"):
        NEBSettings(ranks_per_replica=0)
    with pytest.raises(ValueError, match="refine_tolerance_eV"):
        NEBSettings(refine_tolerance_eV=0)


def test_launch_command_uses_partitions_of_several_ranks():
    cmd = neb_launch_command(9, 4, launcher="srun")
    assert cmd[:3] == ["srun", "-n", "36"]
    i = cmd.index("-partition")
    assert cmd[i + 1] == "9x4"
    local = neb_launch_command(11)
    # the environment's mpiexec, its ranks forked on this node (also inside a SLURM job)
    assert local[1:3] == ["-launcher", "fork"] and local[local.index("-n") + 1] == "11"
    assert local[local.index("-partition") + 1] == "11x1"
    with pytest.raises(ValueError):
        neb_launch_command(1)


def test_launch_command_follows_the_lammps_section():
    from lipsglass.engine.runtime import LammpsRuntime

    site = LammpsRuntime.from_config({"executable": "/opt/lammps/bin/lmp_kk", "launcher": "srun --cpu-bind=cores",
                                      "switches": {"neb_batch": "-k on t {threads} -sf kk"}})
    cmd = neb_launch_command(9, 2, launcher="srun", runtime=site)
    # the configured launcher replaces the mpi resource; the site build and its switches run the partitions
    assert cmd[:3] == ["srun", "--cpu-bind=cores", "/opt/lammps/bin/lmp_kk"]
    assert cmd[3:8] == ["-k", "on", "t", "1", "-sf"] and cmd[cmd.index("-partition") + 1] == "9x2"


# --- starting paths --------------------------------------------------------------------------------

def _frame(n=30, edge=20.0, seed=1):
    rng = np.random.default_rng(seed)
    box = Box(np.zeros(3), np.full(3, edge))
    # atoms on a jittered grid, >= 2.5 A apart
    g = np.array([[i, j, k] for i in range(4) for j in range(4) for k in range(4)], float)[:n] * 4.0 + 2.0
    return box, g + rng.normal(scale=0.2, size=g.shape)


def test_idpp_of_a_rigid_translation_is_the_linear_path():
    box, x0 = _frame()
    x1 = x0 + np.array([0.7, -0.3, 0.2])
    lin = linear_path(box, x0, x1, 7)
    idpp = idpp_path(box, x0, x1, 7)
    # all pair distances are the same in every image: the linear images already minimise S
    assert np.allclose(idpp, lin, atol=1e-3)


def test_idpp_routes_the_mover_around_an_atom_on_the_straight_line():
    box, frame = _frame()
    mover, blocker = 0, 1
    x0, x1 = frame.copy(), frame.copy()
    x0[mover] = [5.0, 10.0, 10.0]
    x1[mover] = [10.0, 10.0, 10.0]
    x0[blocker] = x1[blocker] = [7.5, 10.15, 10.0]  # 0.15 A off the straight line
    for k in range(2, len(frame)):  # keep the rest out of the way
        for x in (x0, x1):
            if np.linalg.norm(x[k] - [7.5, 10.0, 10.0]) < 4.0:
                x[k] += [0.0, 0.0, 6.0]
    lin = linear_path(box, x0, x1, 9)
    idpp = idpp_path(box, x0, x1, 9)
    assert closest_approach(box, lin, mover) < 0.2
    # end distances to the blocker are ~2.5 A, so the IDPP images keep it well away
    assert closest_approach(box, idpp, mover) > 1.5
    assert np.allclose(idpp[0], x0) and np.allclose(idpp[-1], x1)



def _li2s_overlap_hop(tmp_path, ff):
    """The Li2S test crystal (2 x 2 x 2 antifluorite cells, a = 5.70 A) and the hop of the Li at
    (1/4, 1/4, 1/4) a onto the site of the Li at (-1/4, -1/4, -1/4) a (= (7/4, 7/4, 7/4) a in the
    periodic cell), whose straight path runs through the S at the origin, its exact midpoint.
    Returns (data file, box, from_id, to_id, index of the S) with the box of the data file."""
    from lipsglass.crystals import A_LI2S, li_neighbour, write_li2s
    from lipsglass.lammpsio import read_data

    data = tmp_path / "li2s.data"
    li_ids, li_pos = write_li2s(data, ff)
    k = int(np.flatnonzero(np.all(np.isclose(li_pos, A_LI2S / 4), axis=1))[0])
    from_id, to_id = int(li_ids[k]), li_neighbour(li_ids, li_pos, k, np.full(3, 1.5 * A_LI2S))
    glass = read_data(data)
    s_origin = int(np.flatnonzero(np.all(np.isclose(glass.positions, 0.0), axis=1))[0])
    assert glass.elements()[s_origin] == "S"
    return data, glass, from_id, to_id, s_origin


def test_idpp_keeps_li_off_the_s_its_linear_path_runs_through(tmp_path):
    """Unrelaxed end states of the Li2S hop of ``_li2s_overlap_hop``: initial = crystal without
    the target Li, final = the same with the hopping Li on the target site. The linear path's
    middle image (odd image count) puts the Li exactly on the S; the IDPP path does not."""
    from lipsglass.forcefield import ForceField

    data, glass, from_id, to_id, s_origin = _li2s_overlap_hop(tmp_path, ForceField.load("ariga2022"))
    keep = glass.ids != to_id
    x0 = glass.positions[keep]
    x1 = x0.copy()
    mover = int(np.flatnonzero(glass.ids[keep] == from_id)[0])
    x1[mover] = glass.positions[glass.ids == to_id][0]
    s_index = int(np.flatnonzero(np.flatnonzero(keep) == s_origin)[0])
    lin = linear_path(glass.box, x0, x1, 9)
    # hop length sqrt(3) a / 2 = 4.94 A; the middle image (t = 1/2) is the S position, to rounding
    assert np.linalg.norm(glass.box.minimum_image(x1[mover] - x0[mover])) == pytest.approx(4.936, abs=1e-3)
    assert np.allclose(glass.box.minimum_image(lin[4, mover] - lin[4, s_index]), 0.0, atol=1e-9)
    assert closest_approach(glass.box, lin, mover) < 0.1
    idpp = idpp_path(glass.box, x0, x1, 9)
    # ends unchanged (the last one continuous with the first: the mover unwrapped)
    assert np.allclose(idpp[0], x0) and np.allclose(glass.box.minimum_image(idpp[-1] - x1), 0.0, atol=1e-9)
    # The Li-S distance is sqrt(3) a / 4 = 2.47 A in both end states, so the IDPP targets 2.47 A
    # for that pair in every image, with the largest weights (d*^-4) of its objective; the images
    # reach 1.67 A at the middle one (they keep the 3-fold axis of the hop, the S pushed back
    # along it; between the two middle images the Li passes the S, which images do not show).
    # 1.5 A: below those 1.67 A with a margin, and about twice the 0.8 A that issue 15 counted
    # as an overlap (LAMMPS crashed at 0.46 A).
    assert closest_approach(glass.box, idpp, mover) > 1.5


def test_refined_path_inserts_minimum_image_midpoints():
    box = Box(np.zeros(3), np.full(3, 10.0))
    band = np.array([[[9.5, 1.0, 1.0]], [[0.5, 1.0, 1.0]], [[1.5, 1.0, 1.0]]])  # crosses the x boundary
    fine = refined_path(box, band)
    assert fine.shape == (5, 1, 3)
    assert np.allclose(fine[:, 0, 0], [9.5, 10.0, 10.5, 11.0, 11.5])


# --- end-state checks --------------------------------------------------------------------------------

def test_concerted_moves_and_relaxed_lengths_are_rejected():
    s = NEBSettings(min_distance_A=5.0, max_distance_A=10.0, max_other_displacement_A=1.0)
    ok = dict(initial_shift_A=0.3, final_to_target_A=0.4, final_to_origin_A=6.0, tolerance_A=1.0)
    assert end_state_rejection(**ok, max_other_displacement_A=0.5, settings=s) is None
    assert end_state_rejection(**ok, max_other_displacement_A=1.6, settings=s) == "concerted_move"
    # the unrelaxed spacing was in the window, the relaxed one is not
    short = dict(ok, final_to_origin_A=4.74)
    assert end_state_rejection(**short, max_other_displacement_A=0.2, settings=s) == "length_outside_window"
    # precedence: the hopping Li's own checks come first
    assert end_state_rejection(**dict(ok, initial_shift_A=1.5), max_other_displacement_A=3.0,
                               settings=s) == "initial_moved"
    # a neighbour that changed its site is a concerted move however little it moved
    assert end_state_rejection(**ok, max_other_displacement_A=0.5, settings=s, other_site_changes=1) == "concerted_move"


def test_site_changes_tell_relaxation_from_a_refilled_vacancy():
    """Sites on a simple cubic lattice (spacing 3 A, periodic): an atom displaced 1.4 A towards a
    neighbouring site relaxed around its own (kept); one displaced 1.6 A (past the midpoint)
    changed site, also across the cell boundary; species are matched only with their own
    sites."""
    box = Box(np.zeros(3), np.full(3, 12.0))
    grid = np.array(list(itertools.product(range(4), repeat=3)), float) * 3.0
    site_types = np.where(np.arange(len(grid)) % 2 == 0, 1, 2)
    initial = grid.copy()
    final = grid.copy()
    final[0] += [-1.6, 0.0, 0.0]        # site (0,0,0) -> (9,0,0) through the x boundary: changed
    final[5] += [0.0, 1.4, 0.0]         # relaxed towards (., +3, .): kept
    final[6] += [0.0, 0.0, 1.6]         # a type-1 atom past the midpoint towards a type-2 site: the
    # nearest type-1 site along z is 6 A away, so it keeps its own site
    changed = site_changes(box, grid, site_types, site_types, initial, final)
    assert changed.tolist() == [0]
    final[6] += [0.0, 0.0, 1.5]         # now 3.1 A along z: nearer the next type-1 site (6 A away)
    assert site_changes(box, grid, site_types, site_types, initial, final).tolist() == [0, 6]


# --- LAMMPS NEB on analytic Morse landscapes (slow) ------------------------------------------------

H_A = 1.5                              # attractors sit this far off the mover's line (A)
ALPHA, R0, CUT = 1.2, 1.2, 9.0         # Morse alpha (1/A), r0 (A, < H_A: one well per attractor), cutoff (A)


def _morse(r, d):
    return d * ((1 - np.exp(-ALPHA * (r - R0))) ** 2 - 1)


def _energy_1d(x, centres):
    """Energy (eV) of the mover at x on its line; centres {x_c: depth in eV} of the attractors,
    each H_A off the line."""
    return sum(_morse(np.hypot(x - c, H_A), d) for c, d in centres.items())


def _write_morse_system(path: Path, centres: dict, mover_x: float, edge: float = 40.0) -> list[str]:
    """Data file (units real, atomic): the mover (id 1) on the line y = z = edge/2 and the fixed
    attractors at y = edge/2 + H_A; returns the LAMMPS commands of the model. The mover is held
    on its line (its y, z forces zeroed), so the energy along the path is exactly _energy_1d."""
    xs = list(centres)
    n = 1 + len(xs)
    lines = ["morse line", "", f"{n} atoms", f"{n} atom types", "",
             f"0 {edge} xlo xhi", f"0 {edge} ylo yhi", f"0 {edge} zlo zhi", "", "Masses", ""]
    lines += ["1 6.94"] + [f"{k + 2} 32.06" for k in range(len(xs))] + ["", "Atoms # atomic", ""]
    lines.append(f"1 1 {float(mover_x)!r} {edge / 2} {edge / 2}")
    lines += [f"{k + 2} {k + 2} {float(c)!r} {edge / 2 + H_A} {edge / 2}" for k, c in enumerate(xs)]
    path.write_text("\n".join(lines) + "\n")
    cmds = ["units real", "atom_style atomic", "atom_modify map array", "boundary p p p", f"read_data {path}",
            f"pair_style morse {CUT}", "pair_coeff * * 0.0 1.0 1.0"]
    cmds += [f"pair_coeff 1 {k + 2} {float(centres[c]) * EV_TO_KCAL_MOL!r} {ALPHA} {R0}" for k, c in enumerate(xs)]
    cmds += ["group attractors id > 1", "fix hold_attractors attractors setforce 0.0 0.0 0.0",
             "group mover id 1", "fix on_line mover setforce NULL 0.0 0.0"]
    return cmds


def _minimum(centres, lo, hi):
    return float(minimize_scalar(lambda x: _energy_1d(x, centres), bounds=(lo, hi), method="bounded",
                                 options={"xatol": 1e-10}).x)


def _saddle(centres, lo, hi):
    """Highest point of the line between two minima (the mover moves on the line only)."""
    return float(minimize_scalar(lambda x: -_energy_1d(x, centres), bounds=(lo, hi), method="bounded",
                                 options={"xatol": 1e-10}).x)


def _band(centres, x_start, x_end, n, tmp_path, settings):
    header = _write_morse_system(tmp_path / "line.data", centres, x_start)
    ids = np.arange(1, 2 + len(centres))
    x0 = np.array([[x_start, 20.0, 20.0]] + [[c, 20.0 + H_A, 20.0] for c in centres])
    x1 = x0.copy()
    x1[0, 0] = x_end
    box = Box(np.zeros(3), np.full(3, 40.0))
    return converged_band(header, ids, box, linear_path(box, x0, x1, n), settings, tmp_path / "neb")


@pytest.mark.slow
def test_off_centre_saddle_matches_the_analytic_barrier(tmp_path):
    centres = {10.0: 1.0, 15.0: 0.4}
    xa, xb = _minimum(centres, 9.0, 12.5), _minimum(centres, 12.5, 16.0)
    xs = _saddle(centres, xa, xb)
    forward = _energy_1d(xs, centres) - _energy_1d(xa, centres)
    backward = _energy_1d(xs, centres) - _energy_1d(xb, centres)
    n = 9
    # the saddle is off-centre: no image of the evenly spaced starting band sits on it, and the
    # middle image is more than one image spacing away
    assert abs((xs - xa) / (xb - xa) - 0.5) > 1.0 / (n - 1)
    s = NEBSettings(replicas=n, ftol_eV_A=0.005, n_steps_neb=2000, n_steps_climb=2000, print_every=50,
                    refine_tolerance_eV=0.005)
    res = _band(centres, xa, xb, n, tmp_path, s)
    assert res["converged"], res
    assert res["refined_replicas"] == 2 * n - 1
    # tolerance 3 meV: ftol 0.005 eV/A on the climbing image of a saddle with curvature ~1 eV/A^2
    assert res["forward_barrier_eV"] == pytest.approx(forward, abs=3e-3)
    assert res["backward_barrier_eV"] == pytest.approx(backward, abs=3e-3)
    assert res["refinement_change_eV"] <= s.refine_tolerance_eV


@pytest.mark.slow
def test_climb_that_reached_its_step_limit_continues_from_where_it_stopped(tmp_path):
    """The off-centre saddle above needs ~80 climbing steps: with a 50-step limit and no retry the
    band is "climb_step_limit"; with a retry the climb continues from the stopped band (with a
    100-step limit; steps summed over the runs) and reaches the analytic barrier as the
    uninterrupted climb does."""
    centres = {10.0: 1.0, 15.0: 0.4}
    xa, xb = _minimum(centres, 9.0, 12.5), _minimum(centres, 12.5, 16.0)
    forward = _energy_1d(_saddle(centres, xa, xb), centres) - _energy_1d(xa, centres)
    base = dict(replicas=9, ftol_eV_A=0.005, n_steps_neb=2000, n_steps_climb=50, print_every=50,
                refine_tolerance_eV=0.005)
    for name in ("stuck", "retried"):
        (tmp_path / name).mkdir()
    stuck = _band(centres, xa, xb, 9, tmp_path / "stuck", NEBSettings(**base, climb_retries=0))
    assert not stuck["converged"] and stuck["not_converged_reason"] == "climb_step_limit"
    assert (stuck["climb_runs"], stuck["climb_steps"]) == (1, 50)
    res = _band(centres, xa, xb, 9, tmp_path / "retried", NEBSettings(**base, climb_retries=1))
    assert res["converged"], res["not_converged_reason"]
    assert res["coarse"]["climb_runs"] == 2 and res["coarse"]["climb_steps"] > 50
    assert res["climb_runs"] >= 3  # the coarse band's two runs and the refined band's
    assert (tmp_path / "retried" / "neb" / "band_retry_1" / "neb.log").exists()
    assert res["forward_barrier_eV"] == pytest.approx(forward, abs=3e-3)


@pytest.mark.slow
def test_intermediate_minimum_is_flagged_and_barrier_taken_from_it(tmp_path):
    # three attractors: the middle, deepest one makes a basin below the initial state
    centres = {10.0: 1.0, 14.5: 1.3, 19.0: 0.8}
    xa, xm, xb = _minimum(centres, 9.0, 12.0), _minimum(centres, 12.5, 16.5), _minimum(centres, 17.0, 20.0)
    s1, s2 = _saddle(centres, xa, xm), _saddle(centres, xm, xb)
    e = {k: _energy_1d(v, centres) for k, v in dict(a=xa, m=xm, b=xb, s1=s1, s2=s2).items()}
    assert e["m"] < e["a"] - 0.2  # the intermediate basin lies well below the initial state
    expected_forward = max(e["s1"] - e["a"], e["s2"] - e["m"])
    expected_backward = max(e["s2"] - e["b"], e["s1"] - e["m"])
    from_initial = max(e["s1"], e["s2"]) - e["a"]  # the old definition
    assert expected_forward - from_initial > 0.2
    # 10 images for the whole hop; its segments get one image per A (at least 5), as in the stage.
    # Segments start from linear paths: IDPP would move the held attractors and the mover off its
    # line, where the constraints of this model keep them
    s = NEBSettings(ftol_eV_A=0.005, n_steps_neb=3000, n_steps_climb=3000, print_every=50, refine_tolerance_eV=0.02,
                    idpp_cutoff_A=0.0)
    res = _band(centres, xa, xb, 10, tmp_path, s)
    assert res["intermediate_minimum"] and res["lowest_intermediate_eV"] < -0.2
    # the band was split at the basin into two elementary hops, each with its own climbing image
    # and refinement: the basin is the minimised one, and both peaks are saddles (3 meV, as for
    # one saddle above)
    assert res["segments"] == 2 and res["converged"], res
    assert res["split_from"] == "regular"
    assert res["basin_energies_eV"][1] == pytest.approx(e["m"] - e["a"], abs=1e-3)
    assert [seg["refined_replicas"] for seg in res["segment_results"]] == [
        2 * max(5, math.ceil(abs(x1 - x0)) + 1) - 1 for x0, x1 in ((xa, xm), (xm, xb))]
    assert res["forward_barrier_eV"] == pytest.approx(expected_forward, abs=3e-3)
    assert res["backward_barrier_eV"] == pytest.approx(expected_backward, abs=3e-3)



@pytest.mark.slow
def test_basin_that_only_the_climbing_or_refined_band_resolves_splits_the_hop(tmp_path):
    """The triple well above with a 4-image band: no image of the regular band lies lower than
    both neighbours (its images straddle the basin), so the regular band is not split. The
    refined band (7 images) resolves the basin; the hop is then split there, and both barriers
    of the two elementary hops match the analytic ones as when the regular band is split."""
    centres = {10.0: 1.0, 14.5: 1.3, 19.0: 0.8}
    xa, xm, xb = _minimum(centres, 9.0, 12.0), _minimum(centres, 12.5, 16.5), _minimum(centres, 17.0, 20.0)
    s1, s2 = _saddle(centres, xa, xm), _saddle(centres, xm, xb)
    e = {k: _energy_1d(v, centres) for k, v in dict(a=xa, m=xm, b=xb, s1=s1, s2=s2).items()}
    s = NEBSettings(replicas=4, ftol_eV_A=0.005, n_steps_neb=3000, n_steps_climb=3000, print_every=50,
                    refine_tolerance_eV=0.02, idpp_cutoff_A=0.0, max_split_depth=1)
    res = _band(centres, xa, xb, 4, tmp_path, s)
    assert res["split_from"] in ("band", "refine"), res.get("split_from")
    assert res["segments"] == 2 and res["converged"], res["not_converged_reason"]
    assert res["basin_energies_eV"][1] == pytest.approx(e["m"] - e["a"], abs=1e-3)
    assert res["forward_barrier_eV"] == pytest.approx(max(e["s1"] - e["a"], e["s2"] - e["m"]), abs=3e-3)
    assert res["backward_barrier_eV"] == pytest.approx(max(e["s2"] - e["b"], e["s1"] - e["m"]), abs=3e-3)


@pytest.mark.slow
def test_hop_whose_linear_path_overlaps_an_atom_completes_from_the_idpp_path(tmp_path):
    """Issue 15 acceptance: the Li2S hop of ``_li2s_overlap_hop`` (its straight path runs through
    an S) runs to the end from the IDPP path: no LAMMPS crash, a converged band (or one reported
    not converged with its reason). Inversion through the S maps the initial state onto the final
    one, so the barriers are equal; the relaxed band goes around the S."""
    from lipsglass.forcefield import ForceField
    from lipsglass.neb.band import read_band
    from lipsglass.neb.hop import run_single_hop
    from lipsglass.neb.results import CONVERGED, NOT_CONVERGED

    data, glass, from_id, to_id, _ = _li2s_overlap_hop(tmp_path, ForceField.load("ariga2022"))
    # run_single_hop applies the settings it is given: the stage's 5-10 A length window (the
    # relaxed hop is 4.99 A) is off here, as in the command line, by the NEBSettings defaults
    settings = NEBSettings(replicas=5, n_steps_neb=300, n_steps_climb=300, print_every=50, ftol_eV_A=0.05,
                           retries=1)
    assert settings.min_distance_A == 0.0
    res = run_single_hop(data, from_id, to_id, settings, ForceField.load("ariga2022"), workdir=tmp_path / "neb")
    assert res["starting_path"] == "idpp"
    # relaxed end states are symmetric to the minimiser tolerance: the linear path still hits the S
    assert res["linear_closest_approach_A"] < 0.1
    assert res["start_closest_approach_A"] > 1.5 > res["linear_closest_approach_A"]
    assert res["status"] in (CONVERGED, NOT_CONVERGED), res.get("error", res["status"])
    assert res["status"] == CONVERGED or res["not_converged_reason"], res
    # every relaxed band keeps the Li away from every atom (it left the axis through the S): the
    # hop's own bands or, for a hop split at basins, those of every elementary hop at any depth
    hop = tmp_path / "neb" / "hop_0"
    bands = sorted(d for d in hop.rglob("*")
                   if d.is_dir() and d.name.split("_retry_")[0] in ("regular", "band", "refine"))
    assert bands
    for where in bands:
        ids, band = read_band(where, len(list(where.glob("relaxed.*.dump"))))
        assert closest_approach(glass.box, band, int(np.flatnonzero(ids == from_id)[0])) > 1.5, where
    if res["status"] == CONVERGED:
        # inversion symmetry: equal end energies and barriers (to the minimiser and ftol tolerances)
        assert abs(res["reaction_energy_eV"]) < 2e-3
        assert res["forward_barrier_eV"] == pytest.approx(res["backward_barrier_eV"], abs=2e-3)
        assert res["forward_barrier_eV"] > 0.1
