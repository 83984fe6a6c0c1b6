"""Segmented runs (md.segment_ps): a melt-quench or production run killed mid-way and rerun
resumes from its last finished segment and gives the same trajectory, thermo.csv and final state
as an uninterrupted run of the same segments with the same seed."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import REPO
from lipsglass.builder import build_glass, write_data_file
from lipsglass.composition import Composition
from lipsglass.forcefield import ForceField
from lipsglass.lammpsio import read_data
from lipsglass.engine.protocols import Stage, production_protocol, quench_protocol
from lipsglass.engine.runner import SimulationFailed
from lipsglass.engine.segments import Segment, segment_plan, window_mean_volume
from lipsglass.engine.settings import MDSettings
from lipsglass.stages.md import run_production_job, run_quench_job

CONFIG = yaml.safe_load((REPO / "tests" / "config" / "config.yaml").read_text())
MD = dict(CONFIG["md"], segment_ps=0.2)
QUENCH = dict(CONFIG["quench"], melt_ps=0.5, cooling_rate_K_per_ps=900.0, npt_equilibration_ps=0.6,
              nvt_equilibration_ps=0.3)   # stages of 500 (compression), 500, 1000, 600 and 300 steps: 14 segments
PRODUCTION = dict(seed=7, temperatures_K=[600.0], heating_ps=0.0, equilibration_ps=0.2, duration_ps=0.8,
                  dump_interval_ps=0.05, fine_T_K=600.0, fine_dump_interval_ps=0.05)  # 6 segments
UNITS = {"PS4": 2, "P2S7": 4, "P2S6": 1}


def quench_job(folder: Path, initial: Path) -> tuple:
    names = ("glass.data", "thermo.csv", "in.lammps", "provenance.json")
    return run_quench_job, dict(
        initial_data=str(initial), outputs={k: str(folder / n) for k, n in zip(("data", "thermo", "lammps_input",
                                                                                "provenance"), names)},
        forcefield="ariga2022", md_config=MD, quench_config=QUENCH, units=UNITS, log=str(folder / "quench.log"),
        threads=1, glass="restart-test")


def production_job(folder: Path, glass: Path) -> tuple:
    names = ("trajectory.lammpstrj", "thermo.csv", "final.data", "in.lammps", "provenance.json")
    return run_production_job, dict(
        glass_data=str(glass), outputs={k: str(folder / n) for k, n in zip(("trajectory", "thermo", "data",
                                                                            "lammps_input", "provenance"), names)},
        forcefield="ariga2022", md_config=MD, production_config=PRODUCTION, temperature=600.0,
        start_temperature=300.0, dump_interval_ps=0.05, units=UNITS, log=str(folder / "production.log"),
        threads=1, glass="restart-test")


def run_in_fresh_process(job: tuple, folder: Path) -> None:
    """Run the job in a new Python process, as a workflow job runs: the runs compared bit for bit
    must not depend on what earlier tests left in this process (LAMMPS instances and libraries
    loaded in-process can change floating-point state, and MD amplifies the last bit)."""
    function, arguments = job
    args_file = folder.parent / f"{folder.name}-args.json"
    args_file.write_text(json.dumps(arguments))
    code = (f"import json; from lipsglass.stages.md import {function.__name__}; "
            f"{function.__name__}(**json.load(open({str(args_file)!r})))")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=600)


def kill_after_segments(job: tuple, folder: Path, kind: str, n_done: int) -> int:
    """Run the job in a child process and SIGKILL it (no clean-up, like a wall-time kill) once
    ``n_done`` segments are finished; returns how many were finished."""
    function, arguments = job
    args_file = folder.parent / f"{folder.name}-args.json"
    args_file.write_text(json.dumps(arguments))
    code = (f"import json; from lipsglass.stages.md import {function.__name__}; "
            f"{function.__name__}(**json.load(open({str(args_file)!r})))")
    proc = subprocess.Popen([sys.executable, "-c", code])
    progress = folder / f".tmp-{kind}" / "segments.json"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if progress.exists() and len(json.loads(progress.read_text())["done"]) >= n_done:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return len(json.loads(progress.read_text())["done"])


@pytest.fixture(scope="module")
def tiny_glass(tmp_path_factory) -> Path:
    ff = ForceField.load("ariga2022")
    built = build_glass(Composition("r", UNITS), ff, seed=2, density_g_cm3=1.2, min_distance_A=2.2)
    return write_data_file(built, ff, tmp_path_factory.mktemp("glass") / "glass.data")


def assert_same_state(a_path: Path, b_path: Path) -> None:
    a, b = read_data(a_path), read_data(b_path)
    assert np.array_equal(a.positions, b.positions) and np.array_equal(a.velocities, b.velocities)
    assert np.array_equal(a.box.lo, b.box.lo) and np.array_equal(a.box.hi, b.box.hi)


@pytest.mark.slow
def test_killed_and_resumed_quench_equals_uninterrupted(tmp_path, tiny_glass):
    md = MDSettings.from_config(MD)
    plan = segment_plan(quench_protocol("in", "out", md, QUENCH), md.steps(md.segment_ps))
    # the compression (a box deformation relative to its start) is never cut; the rest is
    assert QUENCH["compress_ps"] == 0.5
    assert [s.steps for s in plan] == [500] + [200, 200, 100] + [200] * 5 + [200, 200, 200] + [200, 100]
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    straight.mkdir(), resumed.mkdir()
    run_in_fresh_process(quench_job(straight, tiny_glass), straight)
    # segment 10 (0-based) samples the mean-volume window of the NPT stage: kill inside it
    done = kill_after_segments(quench_job(resumed, tiny_glass), resumed, "quench", 10)
    assert 10 <= done < len(plan) and not (resumed / "glass.data").exists()

    run_in_fresh_process(quench_job(resumed, tiny_glass), resumed)
    log = (resumed / "quench.log").read_text()
    assert f"resumed after {done} finished segments" in log
    # the rule log keeps every segment's LAMMPS log (before and after the kill), with LAMMPS'
    # time-left column and the job's own estimate after each segment; the last segment before the
    # kill may lack its "done" line (the kill can fall between its checkpoint and that line)
    for k in range(1, len(plan) + 1):
        assert k == done or f"#### segment {k}/{len(plan)} done in " in log, k
    assert log.count("Loop time") >= len(plan) and "CPULeft" in log and "s at this pace" in log
    assert (resumed / "thermo.csv").read_bytes() == (straight / "thermo.csv").read_bytes()
    assert_same_state(straight / "glass.data", resumed / "glass.data")
    assert not (resumed / ".tmp-quench").exists()
    # the cooling ramp continues across segments: thermostat target follows the ramp, so the
    # temperature at the end of cooling is near final_T_K, far from the melt
    rows = [ln.split(",") for ln in (straight / "thermo.csv").read_text().splitlines()[1:]]
    steps = [(r[0], int(r[1])) for r in rows]
    assert steps == sorted(set(steps), key=steps.index)   # no step written twice
    nvt_volumes = {float(r[6]) for r in rows if r[0] == "nvt_equilibrate"}
    assert len(nvt_volumes) == 1   # NVT at the mean volume of the NPT window
    npt = [(int(r[1]), float(r[6])) for r in rows if r[0] == "npt_equilibrate"]
    window = [v for step, v in npt if step >= npt[-1][0] - 300]
    assert abs(nvt_volumes.pop() - np.mean(window)) < 3 * np.std(window)
    provenance = json.loads((straight / "provenance.json").read_text())
    assert len(provenance["segments"]) == len(plan)


@pytest.mark.slow
def test_killed_and_resumed_production_equals_uninterrupted(tmp_path, tiny_glass):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    straight.mkdir(), resumed.mkdir()
    run_in_fresh_process(production_job(straight, tiny_glass), straight)
    # segments: NPT, NVT equilibration, then 4 production segments; kill after the first of those
    done = kill_after_segments(production_job(resumed, tiny_glass), resumed, "production", 3)
    assert 3 <= done < 6 and not (resumed / "trajectory.lammpstrj").exists()

    run_in_fresh_process(production_job(resumed, tiny_glass), resumed)
    assert f"resumed after {done} finished segments" in (resumed / "production.log").read_text()
    for name in ("trajectory.lammpstrj", "thermo.csv"):
        assert (resumed / name).read_bytes() == (straight / name).read_bytes(), name
    assert_same_state(straight / "final.data", resumed / "final.data")
    frames = (straight / "trajectory.lammpstrj").read_text().count("ITEM: TIMESTEP")
    assert frames == round(PRODUCTION["duration_ps"] / PRODUCTION["dump_interval_ps"]) + 1
    steps = [int(line.split(",")[1]) for line in (straight / "thermo.csv").read_text().splitlines()[1:]
             if line.startswith("production")]
    assert steps == sorted(set(steps))   # segment boundaries are not written twice


@pytest.mark.slow
def test_unfinished_run_of_other_settings_is_discarded(tmp_path, tiny_glass):
    folder = tmp_path / "run"
    folder.mkdir()
    function, arguments = production_job(folder, tiny_glass)
    kill_after_segments((function, arguments), folder, "production", 3)
    other_seed = dict(arguments, production_config=dict(PRODUCTION, seed=8))
    run_production_job(**other_seed)
    log = (folder / "production.log").read_text()
    assert "discarded" in log and "resumed" not in log
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    run_production_job(**dict(production_job(fresh, tiny_glass)[1], production_config=dict(PRODUCTION, seed=8)))
    assert (fresh / "trajectory.lammpstrj").read_bytes() == (folder / "trajectory.lammpstrj").read_bytes()


def test_segment_plan_cuts_every_stage_and_keeps_ramps_whole():
    md = MDSettings.from_config(dict(MD, segment_ps=0.3))
    protocol = production_protocol("glass", "out", md, dict(PRODUCTION, heating_ps=0.5), 600.0, 300.0, 0.05)
    plan = segment_plan(protocol, md.steps(md.segment_ps))
    # heat 500 -> 300+200; NPT 200; NVT 100; production 800 -> 300+300+200 (step counter reset)
    assert [(s.stage, s.offset, s.steps) for s in plan] == [
        (0, 0, 300), (0, 300, 200), (1, 0, 200), (2, 0, 100), (3, 0, 300), (3, 300, 300), (3, 600, 200)]
    assert [s.first_step for s in plan] == [0, 300, 500, 700, 0, 300, 600]
    assert {s.stage_first_step for s in plan if s.stage == 0} == {0}
    assert sum(s.steps for s in plan) == protocol.total_steps
    assert len(segment_plan(protocol, None)) == len(protocol.stages)


def write_volumes(path: Path, samples: dict) -> None:
    path.write_text("# Time-averaged data\n# TimeStep v_cell_volume\n"
                    + "".join(f"{s} {v!r}\n" for s, v in samples.items()))


def test_window_mean_volume_counts_boundary_steps_once(tmp_path):
    stage = Stage("npt", "npt", 10, mean_volume=True)    # window: steps 105..110 of a stage at 100
    plan = [Segment(0, 0, 0, 4, 100), Segment(1, 0, 4, 4, 100), Segment(2, 0, 8, 2, 100)]
    volumes = {step: 1000.0 + step for step in range(105, 111)}
    write_volumes(tmp_path / "volume_1.txt", {s: volumes[s] for s in (105, 106, 107, 108)})
    write_volumes(tmp_path / "volume_2.txt", {s: volumes[s] for s in (108, 109, 110)})
    assert window_mean_volume(stage, plan, tmp_path) == pytest.approx(1000.0 + 107.5, abs=1e-12)
    (tmp_path / "volume_2.txt").unlink()
    with pytest.raises(SimulationFailed, match="volume samples missing at 2 steps"):
        window_mean_volume(stage, plan, tmp_path)
