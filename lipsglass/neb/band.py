"""Running a NEB band with LAMMPS (REPLICA package): the command line, the input, a band run
with its climbing-image stage and retries, the refinement test, and the split of a band that
passes intermediate basins into elementary hops.

4. **NEB.** LAMMPS ``neb``, R images by the relaxed hop length (about one
   per A, at least ``min_replicas``), ``-partition RxP`` with P MPI ranks per image
   (``neb_launch_command``, the one place the command line is built), quickmin damped dynamics
   (``band_min_style``; FIRE let climbing images run away on glass hops),
   ``fix neb`` with a parallel spring (no perpendicular spring by default: LAMMPS applies it to
   the climbing image too), then the climbing-image stage. Both end replicas are held at their
   minimised states (``fix setforce`` 0 on replicas 1 and R), so the path's end energies are
   exactly the separately minimised energies. A band has converged when the climbing stage
   stopped on ``ftol`` (largest per-atom force incl. nudging, ``min_modify norm max``) before its
   step limit (a climb that reached it is continued from where it stopped with twice the limit,
   ``climb_retries`` times: ``climbing_band``) *and* a refined band of 2R - 1 images, started
   from it with midpoints inserted, converged too and reproduced both barriers within
   ``refine_tolerance_eV``; otherwise the hop is "not_converged" with the reason. A band whose
   relaxed regular stage (no climbing image yet), climbing band or refined
   band passes intermediate basins is split into elementary hops instead (``split_band``): the
   basin images are minimised and each hop between consecutive states gets its own band, climbing
   image and refinement test (a segment passing basins of its own is split again, to
   ``max_split_depth`` levels); the hop is converged when every segment is. A climbing image that
   rises more than ``climb_runaway_eV`` above the regular band has left the path
   ("climb_runaway"). A band's log is read by ``lipsglass.neb.analysis``.

Units: lengths A, energies eV in the summaries (LAMMPS real: kcal/mol, converted with
``lipsglass.units``), forces eV/A in settings (converted to kcal/mol/A for LAMMPS).
"""

from __future__ import annotations

import logging
import math
import os
import shlex
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lipsglass.engine.runtime import LammpsRuntime
from lipsglass.lammpsio import Box, read_dump
from lipsglass.engine.runner import SimulationFailed, run_lammps
from lipsglass.neb.analysis import neb_summary, parse_neb_log, path_barriers
from lipsglass.neb.endstates import minimise_state_commands, output_commands, write_neb_coords
from lipsglass.neb.paths import idpp_path, linear_path, refined_path
from lipsglass.neb.settings import NEBSettings, to_kcal_mol
from lipsglass.units import KCAL_MOL_TO_EV

log = logging.getLogger(__name__)


def neb_launch_command(replicas: int, ranks_per_replica: int = 1, launcher: str | None = None,
                       input_file: str = "in.neb", log_file: str = "neb.log",
                       runtime: LammpsRuntime | None = None) -> list[str]:
    """The one place that builds the command line of a NEB run: ``launcher -n R*P lmp <switches>
    -partition RxP -in ... -log ...`` (R images, P MPI ranks each; LAMMPS ``-partition``).
    ``launcher``: the rule's ``mpi`` resource (Snakemake's MPI pattern; None or "mpiexec" = the
    environment's mpiexec, "srun" on a cluster). ``runtime``: the config section ``lammps``
    (``LammpsRuntime``: a site executable, a launcher template and the ``neb_batch`` switches);
    None = the environment's ``lmp``."""
    r, p = int(replicas), int(ranks_per_replica)
    if r < 2 or p < 1:
        raise ValueError(f"need >= 2 replicas and >= 1 rank per replica, got {r}, {p}")
    runtime = LammpsRuntime() if runtime is None else runtime
    # force_external: a multi-partition run is always a separate program, even on one rank each
    base = runtime.command("neb_batch", ranks=r * p, threads=1, mpi=launcher, force_external=True)
    return base + ["-partition", f"{r}x{p}", "-in", input_file, "-log", log_file, "-screen", "none", "-nocite"]


def band_commands(header: Sequence[str], settings: NEBSettings, replicas: int, coords_stem: str = "band",
                  dump_stem: str = "relaxed") -> list[str]:
    """LAMMPS input of a NEB run after the model ``header`` (which defines the initial state).
    Replica p (2..R) reads its starting coordinates from ``<coords_stem>.<p>.coords``
    (``neb ... each``); replica 1 keeps the header's state. Both end replicas are held
    (``fix setforce`` 0), so the path's end energies are the minimised end-state energies. After
    the run every replica writes its relaxed image to ``<dump_stem>.<p>.dump``."""
    r = int(replicas)
    perp = settings.perp_spring_constant_eV_A2
    return list(header) + [
        "variable p world " + " ".join(str(k) for k in range(1, r + 1)),
        "thermo_style custom step pe fnorm fmax", f"thermo {settings.print_every}",
        f"timestep {settings.timestep_fs}",
        f"min_style {settings.band_min_style}",
        # ftol tests the largest per-atom force, independent of system size
        "min_modify norm max",
        f"fix nudge all neb {to_kcal_mol(settings.spring_constant_eV_A2)!r} parallel neigh"
        + (f" perp {to_kcal_mol(perp)!r}" if perp > 0 else ""),
        "partition yes 1 fix hold_end all setforce 0.0 0.0 0.0",
        f"partition yes {r} fix hold_end all setforce 0.0 0.0 0.0",
        f"neb {settings.etol!r} {to_kcal_mol(settings.ftol_eV_A)!r} {int(settings.n_steps_neb)} "
        f"{int(settings.n_steps_climb)} {int(settings.print_every)} each {coords_stem}.${{p}}.coords",
        f"write_dump all custom {dump_stem}.${{p}}.dump id type x y z modify sort id format float %.12f",
    ]


def write_band_coords(workdir: str | Path, ids: np.ndarray, path: np.ndarray, stem: str = "band") -> None:
    """``<stem>.<p>.coords`` for images p = 2..R of ``path`` (n_images, N, 3)."""
    for p in range(2, len(path) + 1):
        write_neb_coords(Path(workdir) / f"{stem}.{p}.coords", ids, path[p - 1], f"starting image {p}")


def run_neb(commands: list[str], workdir: str | Path, replicas: int, timeout_s: float | None = None,
            ranks_per_replica: int = 1, launcher: str | None = None,
            runtime: LammpsRuntime | None = None) -> Path:
    """Run the NEB input (``neb_launch_command``) in ``workdir``; returns the universe log
    (``neb.log``; replica logs ``neb.log.0`` ...). Raises SimulationFailed with the LAMMPS error
    lines when the run fails."""
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "in.neb").write_text("\n".join(commands) + "\n")
    cmd = neb_launch_command(replicas, ranks_per_replica, launcher, runtime=runtime)
    # the batch log says how each band ran (launcher, ranks, partitions)
    log.info("band %s: %s", workdir, shlex.join(cmd))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    try:
        proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=env, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise SimulationFailed(f"NEB exceeded its time limit of {timeout_s} s in {workdir}") from exc
    errors = []
    for neb_log in sorted(workdir.glob("neb.log*")):
        errors += [ln.strip() for ln in neb_log.read_text(errors="replace").splitlines() if ln.startswith("ERROR")]
    if proc.returncode != 0 or errors:
        detail = "; ".join(dict.fromkeys(errors)) or (proc.stderr.strip()[-2000:] or proc.stdout.strip()[-2000:])
        raise SimulationFailed(f"NEB failed (exit code {proc.returncode}) in {workdir}: {detail}")
    return workdir / "neb.log"


def read_band(workdir: str | Path, replicas: int, stem: str = "relaxed") -> tuple[np.ndarray, np.ndarray]:
    """(ids, positions (R, N, 3)) of the relaxed images written by ``band_commands``."""
    frames = [read_dump(Path(workdir) / f"{stem}.{p}.dump")[-1] for p in range(1, int(replicas) + 1)]
    ids = frames[0].ids
    for f in frames:
        if not np.array_equal(f.ids, ids):
            raise SimulationFailed(f"relaxed images in {workdir} hold different atoms")
    return ids, np.stack([f.positions() for f in frames])


def run_band(header: Sequence[str], ids: np.ndarray, path: np.ndarray, settings: NEBSettings,
             workdir: str | Path, launcher: str | None = None,
            runtime: LammpsRuntime | None = None) -> tuple[dict, np.ndarray]:
    """One NEB run of the band started from ``path`` (n_images, N, 3; atoms in ``ids`` order; the
    first image must be the state ``header`` defines) in ``workdir``: (``neb_summary`` of the
    run, relaxed images (n_images, N, 3)). Raises SimulationFailed when LAMMPS fails."""
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in [*workdir.glob("neb.log*"), *workdir.glob("relaxed.*.dump"), *workdir.glob("band.*.coords")]:
        stale.unlink()
    n = len(path)
    write_band_coords(workdir, ids, path)
    log = run_neb(band_commands(header, settings, n), workdir, n, settings.timeout_s,
                  settings.ranks_per_replica, launcher, runtime=runtime)
    summary = neb_summary(parse_neb_log(log), settings)
    got_ids, band = read_band(workdir, n)
    if not np.array_equal(got_ids, ids):
        raise SimulationFailed(f"relaxed images in {workdir} hold other atoms than the starting path")
    return summary, band


def climbing_band(header: Sequence[str], ids: np.ndarray, path: np.ndarray, settings: NEBSettings,
                  workdir: str | Path, regular_top_eV: float, launcher: str | None = None,
                  runtime: LammpsRuntime | None = None) -> tuple[dict, np.ndarray]:
    """``run_band`` of ``path`` with its climbing stage in ``workdir``; a climbing stage that
    reached its step limit is run again from where it stopped (``workdir``_retry_k, with
    ``n_steps_climb`` * 2^k steps), ``settings.climb_retries`` times, unless its climbing image
    already rose more than ``settings.climb_runaway_eV`` above ``regular_top_eV`` (the highest
    image of the relaxed regular band). Returns the last run's summary, with ``climb_steps``
    summed over the runs, ``climb_runs`` and ``band_dir`` (the folder name of the last run's
    images), and its relaxed images."""
    workdir = Path(workdir)
    summary, band = run_band(header, ids, path, settings, workdir, launcher, runtime=runtime)
    climb_steps, runs, last = summary["climb_steps"], 1, workdir
    for retry in range(1, int(settings.climb_retries) + 1):
        if summary["converged"] or max(summary["path_energy_eV"]) - regular_top_eV > float(settings.climb_runaway_eV):
            break
        # LAMMPS neb needs at least one logged block of regular steps first (N1 = 0 aborts in its
        # run summary); they pull the climbing image back down a little, so each retry gets twice
        # the previous step limit. Quickmin starts from rest. (Halving the timestep instead slowed
        # a smooth climb that needed 79 steps past 150: tests/test_neb_band.py.)
        again = replace(settings, n_steps_neb=int(settings.print_every),
                        n_steps_climb=int(settings.n_steps_climb) * 2 ** retry)
        last = workdir.with_name(f"{workdir.name}_retry_{retry}")
        summary, band = run_band(header, ids, band, again, last, launcher, runtime=runtime)
        climb_steps, runs = climb_steps + summary["climb_steps"], runs + 1
    return dict(summary, climb_steps=climb_steps, climb_runs=runs, band_dir=last.name), band


def converged_band(header: Sequence[str], ids: np.ndarray, box: Box, path: np.ndarray, settings: NEBSettings,
                   workdir: str | Path, launcher: str | None = None,
                   runtime: LammpsRuntime | None = None, depth: int = 0) -> dict:
    """NEB of ``path`` in three steps: a regular band, then either a split into elementary hops
    or a climbing-image band and its refinement test.

    1. The regular band (no climbing image) is relaxed (``workdir/regular``). When it has an
       interior image lower than both neighbours, the hop passes an intermediate basin: one
       climbing image cannot converge every peak of such a band (on the default glasses it ran
       away to 7-25 eV, or a refined band moved the barrier by 0.05-0.23 eV). The band is then
       split (``split_band``): every such image is minimised into its basin, and each elementary
       hop between consecutive states gets its own band (this function again, to
       ``settings.max_split_depth``; a segment at that depth with basins of its own keeps its
       barrier from the lowest preceding image and its refinement test).
    2. Otherwise the climbing-image band starts from the relaxed regular band (``workdir/band``).
       A climbing stage that reached its step limit is continued from where it stopped,
       ``settings.climb_retries`` times (``climbing_band``). A climbing image that rose more than
       ``settings.climb_runaway_eV`` above the highest image of the regular band left the valley
       ("climb_runaway").
       When the converged climbing band shows basins its regular band did not (the climbing
       image pulled images into them), the band is split there as in 1.
    3. Otherwise a band of 2R - 1 images started from it (``refined_path``) is run too, and the
       result is converged only when that band converged as well and both barriers agree
       within ``settings.refine_tolerance_eV``. A refined band that moved the barrier because it
       resolved basins between the coarse images is split there as in 1 (on P2S6-5, a 1.00 eV
       refined barrier against 0.85 eV coarse, with basins at two of its images).

    Returns the refined band's summary (the climbing band's when no refinement ran) with
    ``coarse`` (the climbing band's summary), ``climb_runs`` (climbing-stage runs of both bands,
    retries included; summed over the segments of a split band), ``refined_replicas``,
    ``refinement_change_eV``
    (largest |change| of the two barriers), ``segments`` (1 for an unsplit band) and
    ``not_converged_reason`` (None, "climb_step_limit", "climb_runaway",
    "refinement_not_converged", "refinement_changed_barrier", or those of segments, prefixed
    "segment k:"); a split band's summary is described in ``split_band``."""
    workdir = Path(workdir)
    regular, relaxed = run_band(header, ids, path, replace(settings, n_steps_climb=0), workdir / "regular", launcher,
                                runtime=runtime)
    if regular["intermediate_minimum"] and depth < int(settings.max_split_depth):
        split = split_band(header, ids, box, relaxed, regular, settings, workdir, launcher, runtime, depth)
        if split is not None:
            return split
    top = max(regular["path_energy_eV"])
    coarse, band = climbing_band(header, ids, relaxed, settings, workdir / "band", top, launcher, runtime)
    rise = max(coarse["path_energy_eV"]) - top
    reason = None if coarse["converged"] else "climb_step_limit"
    if rise > float(settings.climb_runaway_eV):
        reason = "climb_runaway"
    out = dict(coarse, converged=reason is None, replicas=len(path), refined_replicas=None,
               refinement_change_eV=None, coarse=None, segments=1, not_converged_reason=reason,
               climb_rise_eV=float(rise))
    if reason is not None:
        return out
    can_split = depth < int(settings.max_split_depth)
    if coarse["intermediate_minimum"] and can_split:
        # the climbing image pulled the band into basins its regular band did not show
        split = split_band(header, ids, box, band, coarse, settings, workdir, launcher, runtime, depth,
                           band_dir=coarse["band_dir"])
        if split is not None:
            return split
    fine_path = refined_path(box, band)
    fine, fine_band = climbing_band(header, ids, fine_path, settings, workdir / "refine", top, launcher, runtime)
    change = max(abs(fine["forward_barrier_eV"] - coarse["forward_barrier_eV"]),
                 abs(fine["backward_barrier_eV"] - coarse["backward_barrier_eV"]))
    if not fine["converged"]:
        reason = "refinement_not_converged"
    elif change > settings.refine_tolerance_eV:
        reason = "refinement_changed_barrier"
        if fine["intermediate_minimum"] and can_split:
            # the refined band resolved basins between the coarse band's images: the hop is not
            # elementary, and its barrier is that of its elementary hops
            split = split_band(header, ids, box, fine_band, fine, settings, workdir, launcher, runtime, depth,
                               band_dir=fine["band_dir"])
            if split is not None:
                return split
    return dict(fine, converged=reason is None, replicas=len(path), refined_replicas=len(fine_path),
                refinement_change_eV=float(change), not_converged_reason=reason, segments=1,
                climb_runs=coarse["climb_runs"] + fine["climb_runs"],
                climb_rise_eV=float(rise), coarse={k: coarse[k] for k in COARSE_KEYS})


COARSE_KEYS = ("forward_barrier_eV", "backward_barrier_eV", "saddle_replica", "neb_steps", "climb_steps",
               "climb_runs", "converged", "path_reaction_coordinate", "path_energy_eV")


def place_atoms_command(dump: str | Path) -> str:
    """LAMMPS command moving the atoms of the current model to the positions of the last frame of
    ``dump`` (a LAMMPS dump with id x y z), keeping the cell."""
    dump = Path(dump).resolve()
    return f"read_dump {dump} {int(read_dump(dump)[-1].timestep)} x y z box no replace yes"


def minimise_state(header: Sequence[str], dump: str | Path, settings: NEBSettings, prefix: str | Path,
                   ) -> tuple[np.ndarray, np.ndarray, float]:
    """Minimise the atoms of the model ``header`` placed at the last frame of ``dump`` (a LAMMPS
    dump with id x y z); writes ``<prefix>.dump`` and ``<prefix>_energy.txt``. Returns (ids,
    positions (N, 3) A, energy kcal/mol)."""
    prefix = Path(prefix).resolve()
    cmds = list(header) + [place_atoms_command(dump)] + minimise_state_commands(settings) + output_commands(prefix)
    run_lammps(cmds, prefix.with_suffix(".log"), input_copy=prefix.parent / f"in.{prefix.name}")
    state = read_dump(prefix.with_suffix(".dump"))[-1]
    return state.ids, state.positions(), float(Path(f"{prefix}_energy.txt").read_text().split()[-1])


def split_band(header: Sequence[str], ids: np.ndarray, box: Box, band: np.ndarray, summary: Mapping,
               settings: NEBSettings, workdir: Path, launcher: str | None, runtime: LammpsRuntime | None,
               depth: int, band_dir: str = "regular") -> dict | None:
    """Split a relaxed ``band`` (its NEB ``summary``; images in ``workdir/band_dir``: the regular
    band, or a climbing or refined band that showed basins the regular band did not) at its
    basins into elementary hops; None when no image minimises into a basin distinct from its
    neighbouring states.

    Each interior image lower than both neighbours is minimised (``minimise_state``); a basin
    within ``settings.basin_separation_A`` (largest atom displacement) of the previous state or of the
    final state is dropped. Each elementary hop between consecutive states starts from an IDPP
    path of one image per A of its largest atom displacement (at least ``segment_min_replicas``;
    ``settings.replicas`` when fixed) and runs through ``converged_band``. The energies of all
    segments, on the scale of the initial state, make one profile: barriers from the lowest
    preceding minimum (``path_barriers``); the reaction coordinate of each segment is scaled by
    its share of the 3N-dimensional path length. The split is converged when every segment is.
    """
    workdir = Path(workdir)
    e0 = summary["energy_initial_kcal_mol"]
    states = [(np.asarray(band[0], float), float(e0), None)]
    for m in summary["intermediate_minima"]:   # 1-based replica numbers
        basin = workdir / (f"basin_{int(m)}" if band_dir == "regular" else f"basin_{band_dir}_{int(m)}")
        got_ids, x, e = minimise_state(header, workdir / band_dir / f"relaxed.{int(m)}.dump", settings, basin)
        if not np.array_equal(got_ids, ids):
            raise SimulationFailed(f"minimised basin of image {m} in {workdir} holds other atoms")
        apart = [float(np.linalg.norm(box.minimum_image(x - y), axis=1).max()) for y in (states[-1][0], band[-1])]
        if min(apart) > float(settings.basin_separation_A):
            states.append((x, e, basin.with_suffix(".dump")))
    if len(states) == 1:
        return None
    states.append((np.asarray(band[-1], float), float(summary["energy_final_kcal_mol"]), None))
    segments, energies, coords = [], [], []
    lengths = [float(np.linalg.norm(box.minimum_image(b[0] - a[0]))) for a, b in zip(states, states[1:])]
    offset = 0.0
    for k, ((xa, _, dump_a), (xb, _, _), length) in enumerate(zip(states, states[1:], lengths)):
        seg_header = list(header) + ([place_atoms_command(dump_a)] if dump_a is not None else [])
        largest = float(np.linalg.norm(box.minimum_image(xb - xa), axis=1).max())
        n = settings.replicas_for(largest) if settings.replicas is not None else \
            max(int(settings.segment_min_replicas), int(math.ceil(largest * settings.replicas_per_A)) + 1)
        path = idpp_path(box, xa, xb, n, settings.idpp_cutoff_A) if settings.idpp_cutoff_A > 0 \
            else linear_path(box, xa, xb, n)
        seg = converged_band(seg_header, ids, box, path, settings, workdir / f"segment_{k}", launcher,
                             runtime=runtime, depth=depth + 1)
        segments.append(seg)
        e_abs = (seg["energy_initial_kcal_mol"] - e0) * KCAL_MOL_TO_EV + np.asarray(seg["path_energy_eV"])
        rd = offset + np.asarray(seg["path_reaction_coordinate"]) * length
        energies.append(e_abs if k == 0 else e_abs[1:])
        coords.append(rd if k == 0 else rd[1:])
        offset += length
    e = np.concatenate(energies)
    rd = np.concatenate(coords) / offset
    b = path_barriers(e)
    failed = [(k, s["not_converged_reason"]) for k, s in enumerate(segments) if not s["converged"]]
    changes = [s["refinement_change_eV"] for s in segments if s.get("refinement_change_eV") is not None]
    return {
        "forward_barrier_eV": b["forward"], "backward_barrier_eV": b["backward"], "reaction_energy_eV": float(e[-1]),
        "saddle_replica": b["forward_top"] + 1, "climbing_replica": None,
        "converged": not failed, "stop_criteria": [c for s in segments for c in s["stop_criteria"]],
        "regular_forward_barrier_eV": summary["regular_forward_barrier_eV"],
        "regular_backward_barrier_eV": summary["regular_backward_barrier_eV"],
        "neb_steps": sum(s["neb_steps"] for s in segments), "climb_steps": sum(s["climb_steps"] for s in segments),
        "climb_runs": sum(s.get("climb_runs", 0) for s in segments),
        "final_max_force_component_eV_A": max(s["final_max_force_component_eV_A"] for s in segments),
        "intermediate_minima": [k + 1 for k in b["intermediate_minima"]],
        "intermediate_minimum": bool(b["intermediate_minima"]),
        "intermediate_below_ends": bool(b["below_initial"] and b["below_final"]),
        "lowest_intermediate_eV": float(e[1:-1].min()),
        "path_reaction_coordinate": [float(x) for x in rd], "path_energy_eV": [float(x) for x in e],
        "energy_initial_kcal_mol": float(e0), "energy_final_kcal_mol": float(summary["energy_final_kcal_mol"]),
        "replicas": len(band), "refined_replicas": None,
        "refinement_change_eV": max(changes) if changes else None,
        "not_converged_reason": None if not failed else "; ".join(f"segment {k}: {r}" for k, r in failed),
        "segments": len(segments),
        "basin_energies_eV": [float((st[1] - e0) * KCAL_MOL_TO_EV) for st in states],
        "segment_results": [{key: s.get(key) for key in ("forward_barrier_eV", "backward_barrier_eV", "converged",
                                                         "not_converged_reason", "replicas", "refined_replicas",
                                                         "refinement_change_eV", "segments", "climb_runs")}
                            for s in segments],
        "coarse": None, "regular": {k: summary.get(k) for k in COARSE_KEYS}, "split_from": band_dir,
    }
