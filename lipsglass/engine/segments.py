"""Segmented runs: every stage longer than the segment length (``md.segment_ps``) is cut into
segments, each run in a fresh LAMMPS instance chained through restart files, so a job killed at
a wall-time limit resumes from its last finished segment. Every run of a given plan executes the
same segments, so a resumed run reproduces an uninterrupted one bit for bit."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from lipsglass.engine.protocols import (Protocol, Stage, dump_commands, labelmap_commands, model_commands,
                                        rescale_to_volume, stage_commands)
from lipsglass.engine.runner import SimulationFailed
from lipsglass.engine.settings import MDSettings
from lipsglass.engine.thermo import thermo_csv_init, thermo_setup
from lipsglass.forcefield import ForceField


@dataclass(frozen=True)
class Segment:
    index: int          # position in the plan
    stage: int          # index of its stage in the protocol
    offset: int         # steps of the stage done before this segment
    steps: int
    stage_first_step: int   # LAMMPS step at which the stage starts (``run ... start``)

    @property
    def first_step(self) -> int:
        return self.stage_first_step + self.offset


def segment_plan(protocol: Protocol, segment_steps: int | None) -> list[Segment]:
    """Cut each stage into pieces of at most ``segment_steps`` (one piece per stage when None)."""
    plan, step = [], 0
    for k, stage in enumerate(protocol.stages):
        if stage.reset_timestep:
            step = 0
        length = stage.steps if stage.extra_fix else (segment_steps or stage.steps)
        for offset in range(0, stage.steps, length):
            plan.append(Segment(len(plan), k, offset, min(length, stage.steps - offset), step))
        step += stage.steps
    return plan


def needs_segments(protocol: Protocol, segment_steps: int | None) -> bool:
    """A run is segmented when a segment length is configured and the run is longer."""
    return bool(segment_steps) and protocol.total_steps > segment_steps


def volume_file(segment: Segment) -> str:
    return f"volume_{segment.index}.txt"


def segment_commands(ff: ForceField, protocol: Protocol, plan: list[Segment], index: int, md: MDSettings,
                     thermo_csv: str, trajectory: str | None, mean_volume_before: float | None) -> list[str]:
    """LAMMPS input of segment ``index``: read the previous restart (the data file for the first),
    continue its stage with ``run N start S stop E`` (so temperature ramps continue), append to
    thermo.csv and the trajectory, write the next restart (the final data for the last).

    The integrator keeps its fix ID within a stage, so its thermostat/barostat state comes back
    from the restart; it is removed before the restart that ends a stage, so the next stage
    starts afresh, exactly as in one run. The mean-volume window of an NPT stage is written
    per step to ``volume_<index>.txt``; ``mean_volume_before`` (the mean over the window of the
    previous stage, from those files) rescales the box at the start of the following stage.
    """
    seg = plan[index]
    stage = protocol.stages[seg.stage]
    restart_in = None if index == 0 else f"segment_{index - 1}.restart"
    cmds = model_commands(ff, protocol.data_file if restart_in is None else None, ".", md, restart_file=restart_in)
    cmds += labelmap_commands(ff) + thermo_setup(md)
    if index == 0:
        cmds += list(protocol.preamble)
    if seg.offset == 0:
        if mean_volume_before is not None:
            cmds += rescale_to_volume(repr(float(mean_volume_before)))
        if stage.reset_timestep:
            cmds.append("reset_timestep 0")
    if stage.dump_every:
        cmds += dump_commands(ff, trajectory, stage.dump_every, first_step=seg.first_step if seg.offset else None)
    window_start = seg.stage_first_step + stage.averaging_start
    sampling = stage.mean_volume and seg.first_step + seg.steps >= window_start
    if sampling:
        cmds += ["variable cell_volume equal vol",
                 f"fix volume_samples all ave/time 1 1 1 v_cell_volume start {max(window_start, seg.first_step)} "
                 f"file {volume_file(seg)} format \" %.17g\""]
    # within a stage the integrator's fix ID and style are kept, so its state comes back from the restart
    cmds += stage_commands(stage, md, thermo_csv, seg.steps,
                           run_options=f" start {seg.stage_first_step} stop {seg.stage_first_step + stage.steps}",
                           stage_ends=seg.offset + seg.steps == stage.steps)
    if stage.dump_every:
        cmds.append("undump trajectory")
    if sampling:
        cmds.append("unfix volume_samples")
    if index == len(plan) - 1:
        return cmds + list(protocol.final)
    return cmds + [f"write_restart segment_{index}.restart"]


def window_mean_volume(stage: Stage, segments: list[Segment], folder: str | Path = ".") -> float:
    """Mean volume over the last half of ``stage`` from the per-step files of its segments
    (a step at a segment boundary appears in both segments and is counted once)."""
    first = segments[0].stage_first_step
    window = range(first + stage.averaging_start, first + stage.steps + 1)
    volumes = {}
    for seg in segments:
        path = Path(folder) / volume_file(seg)
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                step, value = line.split()
                volumes.setdefault(int(step), float(value))
    missing = [s for s in window if s not in volumes]
    if missing:
        raise SimulationFailed(f"stage {stage.name}: volume samples missing at {len(missing)} steps "
                               f"(first {missing[0]}); cannot rescale to the mean volume")
    return math.fsum(volumes[s] for s in window) / len(window)


def _truncate(path: str | Path, size: int) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(size)


def _file_size(path: str | None) -> int:
    return Path(path).stat().st_size if path and Path(path).exists() else 0


def run_segments(ff: ForceField, protocol: Protocol, plan: list[Segment], md: MDSettings, names: dict,
                 log: Path, run) -> None:
    """Run (or resume) the segments of ``plan`` in the current (scratch) folder; ``names`` are the
    bare file names of the outputs (``thermo``, ``lammps_input``, ``trajectory`` if any) and
    ``run`` a runner of :func:`lipsglass.engine.runner.lammps_runner`.

    After every segment the progress file records the sizes of thermo.csv and the trajectory;
    a rerun after a kill cuts both back to the last finished segment and continues from its
    restart file. The rule log gets one progress line per segment and the LAMMPS log of each."""
    progress_file = Path("segments.json")
    # what the finished segments were computed from: resuming is only valid for the same run
    fingerprint = hashlib.sha256(json.dumps([dataclasses.asdict(protocol), dataclasses.asdict(md),
                                             [dataclasses.asdict(seg) for seg in plan]]).encode()).hexdigest()
    progress = json.loads(progress_file.read_text()) if progress_file.exists() else {}
    discarded = progress.get("fingerprint") not in (None, fingerprint)
    if discarded:
        for stale in Path(".").iterdir():
            stale.unlink()
    if discarded or "done" not in progress:
        progress = {"fingerprint": fingerprint, "done": []}
    trajectory = names.get("trajectory")
    done = progress["done"]
    if done:   # a killed segment may have written part of its output: cut back to the last finished one
        _truncate(names["thermo"], done[-1]["thermo_bytes"])
        if trajectory and Path(trajectory).exists():
            _truncate(trajectory, done[-1]["trajectory_bytes"])
    else:
        thermo_csv_init(names["thermo"])
        if trajectory:
            Path(trajectory).unlink(missing_ok=True)
    # The rule log is only ever appended to: every segment's LAMMPS log goes there live (thermo
    # lines with CPULeft, the time left in that segment) followed by a progress line with the
    # time left for the whole run. A copy after each finished segment (log.finished) restores the
    # earlier segments' logs if the rule log was removed before a resume.
    kept_log = Path("log.finished")
    if done and not (log.exists() and kept_log.exists() and log.stat().st_size >= kept_log.stat().st_size):
        shutil.copyfile(kept_log, log) if kept_log.exists() else log.write_text("")
    with open(log, "a" if done else "w") as out:
        if done:
            out.write(f"\n#### resumed after {len(done)} finished segments of {len(plan)}\n")
        else:
            out.write(f"segmented run: {len(plan)} segments of at most {max(s.steps for s in plan)} steps "
                      f"({protocol.total_steps} steps in {len(protocol.stages)} stages)\n")
        if discarded:
            out.write("an unfinished run of different settings was found and discarded\n")
    steps_done_now, wall_now = 0, 0.0
    for seg in plan[len(done):]:
        stage = protocol.stages[seg.stage]
        previous = protocol.stages[seg.stage - 1] if seg.stage > 0 else None
        mean_volume = None
        if seg.offset == 0 and previous is not None and previous.mean_volume:
            mean_volume = window_mean_volume(previous, [s for s in plan if s.stage == seg.stage - 1])
        commands = segment_commands(ff, protocol, plan, seg.index, md, names["thermo"], trajectory, mean_volume)
        with open(log, "a") as out:
            out.write(f"\n#### segment {seg.index + 1}/{len(plan)}: {stage.name}, steps "
                      f"{seg.first_step}-{seg.first_step + seg.steps} started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        started = time.time()
        run(commands, log, f"in.segment_{seg.index}", append_log=True)
        elapsed = time.time() - started
        steps_done_now += seg.steps
        wall_now += elapsed
        done.append({"segment": seg.index, "thermo_bytes": _file_size(names["thermo"]),
                     "trajectory_bytes": _file_size(trajectory)})
        _write_progress(progress_file, progress)
        left_steps = sum(s.steps for s in plan[seg.index + 1:])
        with open(log, "a") as out:
            out.write(f"#### segment {seg.index + 1}/{len(plan)} done in {elapsed:.0f} s wall; "
                      f"{len(plan) - seg.index - 1} segments ({left_steps} steps) left, "
                      f"about {remaining_seconds(left_steps, steps_done_now, wall_now):.0f} s at this pace\n")
        shutil.copyfile(log, kept_log)
    Path(names["lammps_input"]).write_text("".join(
        f"# ---- segment {seg.index + 1}/{len(plan)} ({protocol.stages[seg.stage].name}): "
        f"a fresh LAMMPS instance, run as lmp -in in.segment_{seg.index} ----\n"
        + Path(f"in.segment_{seg.index}").read_text() for seg in plan))


def remaining_seconds(steps_left: int, steps_done: int, wall_s: float) -> float:
    """Wall time left at the pace of this job so far (steps_done in wall_s seconds)."""
    if steps_done <= 0:
        return float("nan")
    return steps_left * wall_s / steps_done


def _write_progress(path: Path, progress: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(progress, indent=1))
    os.replace(tmp, path)
