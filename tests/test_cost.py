"""Cost model: steps from the config's durations, core-hours from atoms x steps / throughput,
restart segments from md.segment_ps."""

import json
import subprocess
import sys

import pytest
import yaml

from conftest import REPO
from lipsglass.cost import cost_table

CONFIG = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())


def test_steps_segments_and_core_hours_follow_from_the_config():
    q, p, dt_ps = CONFIG["quench"], CONFIG["production"], CONFIG["md"]["timestep_fs"] / 1000.0
    quench_ps = q["compress_ps"] + q["melt_ps"] + (q["melt_T_K"] - q["final_T_K"]) / q["cooling_rate_K_per_ps"] \
        + q["npt_equilibration_ps"] + q["nvt_equilibration_ps"]
    production_ps = p["heating_ps"] + p["equilibration_ps"] * 1.5 + p["duration_ps"]   # NPT, then NVT half as long
    rows = cost_table(CONFIG, atom_steps_per_core_s=1.0e5)
    assert len(rows) == len(CONFIG["compositions"]) * (1 + len(p["temperatures_K"]))
    first = rows[0]
    units = CONFIG["compositions"][first["glass"]]["units"]
    # Li3PS4, Li4P2S7, Li4P2S6
    assert first["atoms"] == (5 + 3) * units["PS4"] + (9 + 4) * units["P2S7"] + (8 + 4) * units["P2S6"]
    assert first["steps"] == round(quench_ps / dt_ps) + q["minimise_max_iterations"]
    assert rows[1]["steps"] == round(production_ps / dt_ps)
    one = first["atoms"] * first["steps"] / 1.0e5 / 3600.0
    assert first["core_hours_per_replica"] == pytest.approx(one)
    assert first["core_hours"] == pytest.approx(one * CONFIG["replicas"])    # every replica is its own glass
    # segment_ps 200: compress 10 -> 1 (never cut), melt 100 -> 1, cooling 900 -> 5, NPT 200 -> 1, NVT 100 -> 1
    segment = CONFIG["md"]["segment_ps"]
    assert segment == 200.0 and first["segments"] == 9
    assert rows[1]["segments"] == 1 + 1 + 1 + p["duration_ps"] // segment


def test_cli_prints_json_before_anything_runs():
    out = subprocess.run([sys.executable, "-m", "lipsglass", "cost", str(REPO / "config" / "config.yaml"),
                          "--atom-steps-per-core-s", "2e5", "--json"], capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    assert report["atom_steps_per_core_s"] == 2e5 and report["source"] == "given"
    assert all(row["segments"] == 1 for row in report["rows"])   # the demo config is not segmented
