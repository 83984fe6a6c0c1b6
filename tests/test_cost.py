"""Cost model: steps from the config's durations, core-hours from atoms x steps / throughput,
restart segments from md.segment_ps; every heavy rule's jobs, tasks, wall time and memory; the
SLURM profile's runtime/mem_mb equal to the model's times the stated margins."""

import json
import math
import subprocess
import sys

import pytest
import yaml

from conftest import REPO
from lipsglass import cost
from lipsglass.composition import composition_from_config
from lipsglass.cost import cost_table, profile_resources, profile_tasks, study_cost, write_profile_resources

CONFIG = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
PROFILE = REPO / "profiles" / "slurm" / "config.yaml"


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


@pytest.mark.slow
def test_cli_prints_json_before_anything_runs():
    out = subprocess.run([sys.executable, "-m", "lipsglass", "cost", str(REPO / "config" / "config.yaml"),
                          "--atom-steps-per-core-s", "2e5", "--json"], capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    assert report["atom_steps_per_core_s"] == 2e5 and report["source"] == "given"
    assert all(row["segments"] == 1 for row in report["md_rows"])   # the demo config is not segmented
    assert {r["rule"] for r in report["rules"]} == set(cost.HEAVY_RULES)


def test_every_heavy_rule_is_costed_with_its_jobs_and_tasks():
    rows = {r["rule"]: r for r in study_cost(CONFIG, md_ranks=8)}
    assert set(rows) == set(cost.HEAVY_RULES)
    glasses, replicas, temps = len(CONFIG["compositions"]), CONFIG["replicas"], len(CONFIG["production"]["temperatures_K"])
    assert rows["quench"]["jobs"] == glasses * replicas and rows["production"]["jobs"] == glasses * replicas * temps
    assert rows["softness_replica_properties"]["jobs"] == glasses * (replicas - 1)
    neb = CONFIG["neb"]
    assert rows["neb_batch"]["jobs"] == glasses * math.ceil(neb["n_per_class"] * len(neb["classes"]) / neb["batch_size"])
    # tasks of a NEB batch: ranks_per_replica x the refined band (2R - 1) of the longest hop (10 A: R = 11)
    assert rows["neb_batch"]["tasks"] == neb["ranks_per_replica"] * (2 * (math.ceil(neb["max_distance_A"]) + 1) - 1) == 84
    for r in rows.values():
        assert r["wall_s"] > 0 and r["mem_mb"] > 0
        assert r["core_hours"] == pytest.approx(r["jobs"] * r["tasks"] * r["wall_s"] / 3600.0)


def test_md_wall_time_follows_ranks_and_efficiency():
    one = {r["rule"]: r for r in study_cost(CONFIG, md_ranks=1)}
    eight = {r["rule"]: r for r in study_cost(CONFIG, md_ranks=8)}
    for rule in cost.MD_RULES:
        segments = cost.md_steps(CONFIG)[rule]["segments"]
        work_1 = one[rule]["wall_s"] - segments * cost.MD_STARTUP_S
        work_8 = eight[rule]["wall_s"] - segments * cost.MD_STARTUP_S
        atoms = max(composition_from_config(g, e).n_atoms for g, e in CONFIG["compositions"].items())
        # an MD step of the config's md settings costs step_cost x a velocity-Verlet 1 fs step
        step_cost = cost.MD_CORE_S_PER_ATOM_STEP * cost.step_cost(CONFIG["md"])
        assert work_1 == pytest.approx(cost.md_steps(CONFIG)[rule]["steps"] * atoms * step_cost)
        assert work_8 == pytest.approx(work_1 / (8 * min(1.0, cost.MPI_EFFICIENCY_2_RANKS) ** 3))
        assert eight[rule]["mem_mb"] == pytest.approx(8 * one[rule]["mem_mb"])


def test_cli_prints_md_neb_analysis_and_total_core_hours_and_wall_time_on_nodes():
    out = subprocess.run([sys.executable, "-m", "lipsglass", "cost", str(REPO / "config" / "paper.yaml"),
                          "--nodes", "3", "--cores-per-node", "64"], capture_output=True, text=True, check=True).stdout
    summary = cost.totals(study_cost(CONFIG, md_ranks=8), nodes=3, cores_per_node=64)
    for label in ("MD", "NEB", "analysis"):
        assert f"{label}: {summary[label]:.{1 if label == 'analysis' else 0}f} core-hours" in out
    assert f"total: {summary['total']:.0f} core-hours" in out
    assert f"wall time on 3 nodes of 64 cores: {summary['wall_h']:.1f} h" in out
    assert summary["total"] == pytest.approx(summary["MD"] + summary["NEB"] + summary["analysis"])
    assert summary["wall_h"] >= summary["total"] / (3 * 64)


def test_shipped_profile_resources_are_the_cost_model_times_the_margins():
    """runtime (min) and mem_mb of every heavy rule in profiles/slurm equal the cost model of
    config/paper.yaml times TIME_MARGIN / MEM_MARGIN (rewrite them with
    `python -m lipsglass cost config/paper.yaml --profile profiles/slurm/config.yaml`)."""
    rows = study_cost(CONFIG, md_ranks=profile_tasks(PROFILE, "quench"))
    assert profile_tasks(PROFILE, "production") == profile_tasks(PROFILE, "quench")
    shipped = yaml.safe_load(PROFILE.read_text())["set-resources"]
    for r in rows:
        want = profile_resources([r])[r["rule"]]
        got = {k: shipped[r["rule"]][k] for k in ("runtime", "mem_mb")}
        assert got == want, f"{r['rule']}: profile {got}, cost model x margins {want}"
        assert got["runtime"] >= r["wall_s"] / 60.0 * cost.TIME_MARGIN
        assert got["mem_mb"] >= r["mem_mb"] * cost.MEM_MARGIN
    # the file is what the writer makes of it (so the writer keeps it unchanged)
    text = PROFILE.read_text()
    assert write_profile_resources(text, profile_resources(rows), rows) == text


def test_profile_writer_edits_values_in_place_and_keeps_comments():
    text = """# head comment
executor: slurm
default-resources:
  runtime: 60                # wall time, minutes
  mem_mb: 4000
set-resources:
  quench:
    tasks: 8                 # MPI ranks
    runtime: 2880            # an old estimate
                             # that went on over two lines
    mpi: "srun"
  homology:
    cpus_per_task: 1         # one core

# tail comment
other: 1
"""
    rows = [{"rule": "quench", "wall_s": 600.0, "mem_mb": 1234.0}, {"rule": "homology", "wall_s": 60.0, "mem_mb": 300.0},
            {"rule": "structure", "wall_s": 6000.0, "mem_mb": 800.0}]
    resources = profile_resources(rows)
    out = write_profile_resources(text, resources, rows)
    data = yaml.safe_load(out)
    assert data["set-resources"]["quench"] == {"tasks": 8, "runtime": math.ceil(10 * cost.TIME_MARGIN),
                                               "mpi": "srun", "mem_mb": 100 * math.ceil(12.34 * cost.MEM_MARGIN)}
    assert data["set-resources"]["homology"]["runtime"] == max(cost.MIN_RUNTIME_MIN, math.ceil(cost.TIME_MARGIN))
    assert data["set-resources"]["structure"]["runtime"] == math.ceil(100 * cost.TIME_MARGIN)
    assert data["default-resources"] == {"runtime": 60, "mem_mb": 4000} and data["other"] == 1
    for kept in ("# head comment", "# wall time, minutes", "# MPI ranks", "# one core", "# tail comment"):
        assert kept in out
    assert "an old estimate" not in out and "over two lines" not in out
    assert write_profile_resources(out, resources, rows) == out


@pytest.mark.slow
def test_profile_errors_name_the_file_or_section(tmp_path):
    with pytest.raises(ValueError, match="set-resources"):
        write_profile_resources("executor: slurm\n", {}, [])
    missing = tmp_path / "none.yaml"
    out = subprocess.run([sys.executable, "-m", "lipsglass", "cost", str(REPO / "config" / "paper.yaml"),
                          "--profile", str(missing)], capture_output=True, text=True)
    assert out.returncode != 0 and str(missing) in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_readme_states_the_cost_models_paper_scale_totals():
    """The README's cluster table is the model's output (python -m lipsglass cost config/paper.yaml),
    so a changed constant or config cannot leave it stale."""
    rows = study_cost(CONFIG, md_ranks=profile_tasks(PROFILE, "quench"))
    t = cost.totals(rows, nodes=4, cores_per_node=128)
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Cluster"):readme.index("## Outputs")]
    assert f"| {round(t['MD'])} |" in section
    assert f"| {round(t['analysis'])} |" in section
    assert f"at most {round(t['NEB'])} " in section and f"**at most {round(t['total'])}**" in section
    assert f"{round(t['MD'] + t['analysis'])} without NEB" in section
    assert f"4 nodes of 128 cores: {round(t['wall_h'])} h" in section
    assert f"{round(t['critical_path_h'])} h critical path" in section


def test_the_md_settings_set_the_md_throughput_and_a_2_fs_step_halves_the_steps():
    """md.run_style and md.timestep_fs pick the measured step cost (benchmarks/md_settings.py); an
    unmeasured r-RESPA setting is refused rather than costed at a guessed rate; an outer step of
    2 fs halves the steps of every run."""
    verlet = dict(CONFIG, md={**CONFIG["md"], "timestep_fs": 1.0, "run_style": "verlet"})
    assert cost.md_atom_steps_per_core_s(verlet) == cost.DEFAULT_ATOM_STEPS_PER_CORE_S
    for style in ("verlet", cost.RESPA_2):
        two = dict(CONFIG, md={**CONFIG["md"], "timestep_fs": 2.0, "run_style": style})
        factor = cost.step_cost(two["md"])
        assert factor == cost.STEP_COST[(style, 2.0)] and 1.0 <= factor < 2.0   # dearer per step, cheaper per ps
        assert cost.md_atom_steps_per_core_s(two) == pytest.approx(cost.DEFAULT_ATOM_STEPS_PER_CORE_S / factor)
        steps_1, steps_2 = cost.md_steps(verlet), cost.md_steps(two)
        q = CONFIG["quench"]["minimise_max_iterations"]
        assert steps_2["production"]["steps"] * 2 == steps_1["production"]["steps"]
        assert (steps_2["quench"]["steps"] - q) * 2 == pytest.approx(steps_1["quench"]["steps"] - q, abs=2)
    assert cost.step_cost({"timestep_fs": 0.5}) == 1.0          # velocity Verlet at another step: same work per step
    with pytest.raises(ValueError, match="no measured step cost"):
        cost.md_atom_steps_per_core_s(dict(CONFIG, md={**CONFIG["md"], "run_style": "respa 2 4"}))


def test_per_temperature_durations_are_costed_run_by_run():
    """production.durations_ps: each temperature's runs at their own length (cost_table rows and the
    production rule's core-hours), the profile's runtime from the longest."""
    base = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["production"].update(temperatures_K=[300, 450, 500], durations_ps={450: 190.0, 500: 90.0})
    p, dt_ps = config["production"], config["md"]["timestep_fs"] / 1000.0
    overhead = p["heating_ps"] + p["equilibration_ps"] * 1.5
    rows = {(r["glass"], r["rule"]): r for r in cost_table(config, atom_steps_per_core_s=1.0e5)}
    g = next(iter(config["compositions"]))
    for T, ps in ((300, p["duration_ps"]), (450, 190.0), (500, 90.0)):
        assert rows[(g, f"production {T}K")]["steps"] == round((overhead + ps) / dt_ps)
    one = {r["rule"]: r for r in study_cost(config, md_ranks=1, atom_steps_per_core_s=1.0e5)}["production"]
    plain = {r["rule"]: r for r in study_cost(base, md_ranks=1, atom_steps_per_core_s=1.0e5)}["production"]
    steps = [round((overhead + ps) / dt_ps) for ps in (p["duration_ps"], 190.0, 90.0)]
    assert one["wall_s"] > plain["wall_s"] and one["jobs"] == plain["jobs"] // 2 * 3
    per_job_startup = one["wall_s"] - max(steps) * (plain["wall_s"] - cost.MD_STARTUP_S) / steps[0]
    assert per_job_startup == pytest.approx(cost.MD_STARTUP_S)
    glasses_x_replicas = plain["jobs"] // 2
    expected = glasses_x_replicas * sum(cost.MD_STARTUP_S + s * (plain["wall_s"] - cost.MD_STARTUP_S) / steps[0]
                                        for s in steps) / 3600.0
    assert one["core_hours"] == pytest.approx(expected)
    assert f"/{steps[1]}/{steps[2]} steps at 300/450/500 K" in one["basis"]   # steps per temperature named


def test_cli_costs_an_overlay_over_the_default_config(tmp_path):
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("production:\n  temperatures_K: [300, 450, 500]\n  durations_ps: {450: 190.0, 500: 90.0}\n")
    out = subprocess.run([sys.executable, "-m", "lipsglass", "cost", str(overlay), "--md-ranks", "1", "--json",
                          "--atom-steps-per-core-s", "2e5"], capture_output=True, text=True, check=True, cwd=REPO)
    report = json.loads(out.stdout)
    by = {(r["glass"], r["rule"]): r for r in report["md_rows"]}
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    p, dt_ps = default["production"], default["md"]["timestep_fs"] / 1000.0
    overhead = p["heating_ps"] + p["equilibration_ps"] * 1.5
    assert by[("P2S6-5", "production 450K")]["steps"] == round((overhead + 190.0) / dt_ps)
    assert by[("P2S6-5", "production 500K")]["steps"] == round((overhead + 90.0) / dt_ps)
    both = subprocess.run([sys.executable, "-m", "lipsglass", "cost", "config/config.yaml", str(overlay), "--json",
                           "--md-ranks", "1", "--atom-steps-per-core-s", "2e5"], capture_output=True, text=True,
                          check=True, cwd=REPO)
    assert json.loads(both.stdout)["md_rows"] == report["md_rows"]
