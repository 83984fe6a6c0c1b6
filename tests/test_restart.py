"""Segmented production: a run killed mid-way and resumed gives the same trajectory, thermo.csv
and final state as an uninterrupted run with the same seed."""

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
from lipsglass.md import run_production_job

MD = yaml.safe_load((REPO / "tests" / "config" / "config.yaml").read_text())["md"]
PRODUCTION = dict(seed=7, temperatures_K=[600.0], heating_ps=0.0, equilibration_ps=0.2, duration_ps=0.8,
                  dump_interval_ps=0.05, fine_T_K=600.0, fine_dump_interval_ps=0.05, segment_ps=0.2)
NAMES = ("trajectory.lammpstrj", "thermo.csv", "final.data", "in.lammps", "provenance.json")


def job_arguments(folder: Path, glass: Path) -> dict:
    return dict(glass_data=str(glass), outputs={k: str(folder / n) for k, n in
                                                 zip(("trajectory", "thermo", "data", "lammps_input", "provenance"), NAMES)},
                forcefield="ariga2022", md_config=MD, production_config=PRODUCTION, temperature=600.0,
                start_temperature=300.0, dump_interval_ps=0.05, units={"PS4": 2, "P2S7": 4, "P2S6": 1},
                log=str(folder / "production.log"), threads=1, glass="restart-test")


@pytest.mark.slow
def test_killed_and_resumed_run_equals_uninterrupted(tmp_path):
    ff = ForceField.load("ariga2022")
    built = build_glass(Composition("r", {"PS4": 2, "P2S7": 4, "P2S6": 1}), ff, seed=2, density_g_cm3=1.2,
                        min_distance_A=2.2)
    glass = write_data_file(built, ff, tmp_path / "glass.data")

    straight = tmp_path / "straight"
    straight.mkdir()
    run_production_job(**job_arguments(straight, glass))

    resumed = tmp_path / "resumed"
    resumed.mkdir()
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps(job_arguments(resumed, glass)))
    code = ("import json, sys; from lipsglass.md import run_production_job; "
            f"run_production_job(**json.load(open({str(args_file)!r})))")
    proc = subprocess.Popen([sys.executable, "-c", code])
    progress = resumed / ".tmp-production" / "segments.json"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if progress.exists() and len(json.loads(progress.read_text())["done"]) >= 1:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)   # like a wall-time kill: no clean-up
    proc.wait()
    done = len(json.loads(progress.read_text())["done"])
    assert 1 <= done < 4 and not (resumed / "trajectory.lammpstrj").exists()

    run_production_job(**job_arguments(resumed, glass))   # the rerun resumes from the last segment
    log = (resumed / "production.log").read_text()
    assert f"resumed after {done} finished segments" in log
    for name in ("trajectory.lammpstrj", "thermo.csv"):
        assert (resumed / name).read_bytes() == (straight / name).read_bytes(), name
    a, b = read_data(straight / "final.data"), read_data(resumed / "final.data")
    assert np.array_equal(a.positions, b.positions) and np.array_equal(a.velocities, b.velocities)
    frames = (straight / "trajectory.lammpstrj").read_text().count("ITEM: TIMESTEP")
    assert frames == round(PRODUCTION["duration_ps"] / PRODUCTION["dump_interval_ps"]) + 1
    steps = [int(line.split(",")[1]) for line in (straight / "thermo.csv").read_text().splitlines()[1:]
             if line.startswith("production")]
    assert steps == sorted(set(steps))   # segment boundaries are not written twice
