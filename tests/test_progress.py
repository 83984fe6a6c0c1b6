"""Progress in the logs of the jobs that take minutes: NEB batches (each hop's start, end, status
and the batch's time left), softness dynamics (each window) and MD runs (which stage runs, and the
whole job's time left as a thermo column)."""

import logging
import re
from types import SimpleNamespace

import numpy as np
import yaml

from conftest import REPO
from lipsglass.neb import batch as neb
from lipsglass.stages import softness_dynamics as softness_stage


def test_an_neb_batch_logs_every_hop_with_the_time_left(monkeypatch, caplog, tmp_path):
    hops = [{"hop_id": k, "from_id": 10 + k, "to_id": 20 + k, "class": "soft->hard"} for k in range(3)]
    finished = {0: {"hop_id": 0, "status": "converged"}}
    walls = iter([1.0, 3.0])
    clock = [0.0]

    def fake_run_hop(hop, *args, **kwargs):
        clock[0] += next(walls)
        return {"hop_id": hop["hop_id"], "status": "not_converged" if hop["hop_id"] == 1 else "converged",
                "forward_barrier_eV": 0.5}

    monkeypatch.setattr(neb, "cached_result", lambda hop, *a: finished.get(hop["hop_id"]))
    monkeypatch.setattr(neb, "run_hop", fake_run_hop)
    monkeypatch.setattr(neb.time, "perf_counter", lambda: clock[0])
    with caplog.at_level(logging.INFO, logger="lipsglass.neb"):
        results = neb.run_batch(hops, "glass.data", None, None, tmp_path)
    assert [r["hop_id"] for r in results] == [0, 1, 2]
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "hop 1/3 (id 0, soft->hard, Li 10 -> site of Li 20): finished earlier, converged"
    assert lines[1].endswith("hop 2/3 (id 1, soft->hard, Li 11 -> site of Li 21): started")
    # one hop left at the 1 s of the one computed so far
    assert "not_converged, forward barrier 0.500 eV in 1 s; 1 hops left, about 0 min at 0.0 min per hop" in lines[2]
    assert lines[3].endswith("started") and "converged" in lines[4] and lines[4].endswith("batch done")


def test_batch_time_left_is_the_mean_hop_time_times_the_hops_left():
    assert neb.batch_time_left([60.0, 180.0], 3) == "3 hops left, about 6 min at 2.0 min per hop so far"
    assert neb.batch_time_left([60.0], 0) == "batch done"


def test_softness_dynamics_logs_each_window(caplog):
    on_window = softness_stage.window_logger("D2min cutoff 3.6 A")
    window = SimpleNamespace(start_timestep=0, end_timestep=500, ids=np.arange(40),
                             dynamics=SimpleNamespace(hop_fraction=0.1))
    with caplog.at_level(logging.INFO, logger="lipsglass.stages.softness_dynamics"):
        on_window(window)
        on_window(SimpleNamespace(start_timestep=500, end_timestep=1000, ids=np.arange(40),
                                  dynamics=SimpleNamespace(hop_fraction=0.25)))
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("D2min cutoff 3.6 A: window 1 (timesteps 0-500) done, 10 % of 40 Li hopped")
    assert lines[1].startswith("D2min cutoff 3.6 A: window 2 (timesteps 500-1000) done, 25 % of 40 Li hopped")


def test_a_quench_log_names_each_stage_and_the_job_time_left(tmp_path):
    """A real (tiny, short) quench: the log says which of its 5 stages starts, and the thermo
    column v_job_left_s falls to 0 as the job ends."""
    from lipsglass.builder import build_glass, write_data_file
    from lipsglass.composition import Composition
    from lipsglass.forcefield import ForceField
    from lipsglass.stages.md import run_quench_job

    cfg = yaml.safe_load((REPO / "tests" / "config" / "config.yaml").read_text())
    ff = ForceField.load("ariga2022")
    write_data_file(build_glass(Composition("tiny", {"PS4": 3, "P2S7": 6, "P2S6": 2}), ff, seed=1), ff,
                    tmp_path / "initial.data")
    quench = dict(cfg["quench"], melt_ps=0.2, compress_ps=0.1, cooling_rate_K_per_ps=3000.0,
                  npt_equilibration_ps=0.2, nvt_equilibration_ps=0.1)
    out = tmp_path / "out"
    log = tmp_path / "quench.log"
    run_quench_job(str(tmp_path / "initial.data"), {"data": str(out / "glass.data"), "thermo": str(out / "thermo.csv"),
                                                    "lammps_input": str(out / "in.lammps"),
                                                    "provenance": str(out / "provenance.json")},
                   "ariga2022", cfg["md"], quench, {"PS4": 3, "P2S7": 6, "P2S6": 2}, str(log), 1, "tiny")
    text = log.read_text()
    starts = re.findall(r"^#### stage (\d)/5: (\w+), (\d+) steps; (\d+) steps in the stages after it$", text, re.M)
    assert [int(s[0]) for s in starts] == [1, 2, 3, 4, 5]
    assert [int(s[3]) for s in starts] == sorted((int(s[3]) for s in starts), reverse=True) and starts[-1][3] == "0"
    column = None
    left = []
    for line in text.splitlines():
        if "v_job_left_s" in line:
            column = line.split().index("v_job_left_s")
        elif column is not None and re.match(r"^\s+\d+\s", line) and len(line.split()) > column:
            left.append(float(line.split()[column]))
        elif line.startswith("Loop time"):
            column = None
    assert left and left[-1] == 0.0 and max(left) > 0
