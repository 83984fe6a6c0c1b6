"""The Snakemake workflow: planning, linting, config errors, and a tiny glass end to end."""

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import REPO, TINY_CONFIG, plan, run_snakemake
from lipsglass.lammpsio import iter_dump, read_data


def job_counts(output: str) -> dict[str, int]:
    if "job " not in output and "Nothing to be done" in output:
        return {}
    table = output[output.index("job "):]
    counts = {}
    for line in table.splitlines()[2:]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        counts[parts[0]] = int(parts[1])
    return counts


@pytest.mark.parametrize("extra", [[], ["--configfile", "config/paper.yaml"]])
def test_dry_run_plans_every_glass(tmp_path, extra):
    out = plan(tmp_path, "config/config.yaml", *extra[1:]).stdout
    config = yaml.safe_load((REPO / ("config/paper.yaml" if extra else "config/config.yaml")).read_text())
    n_glass = len(config["compositions"]) * config["replicas"]     # every replica is its own glass
    n_temp = len(config["production"]["temperatures_K"])
    counts = job_counts(out)
    assert counts["build_glass"] == n_glass and counts["quench"] == n_glass and counts["tg_replica"] == n_glass
    assert counts["production"] == n_glass * n_temp
    assert counts["run_phase"] == counts["transport_run"] == n_glass * n_temp
    assert counts["transport_composition"] == counts["tg_composition"] == len(config["compositions"])


def test_an_extra_config_selects_glasses(tmp_path):
    """tests/config/config.yaml is merged onto config/config.yaml (six compositions) and selects
    only its tiny glass; a selection naming no composition stops with the key named."""
    out = plan(tmp_path, "config/config.yaml", "tests/config/config.yaml").stdout
    assert set(re.findall(r"wildcards: glass=([^,\s]+)", out)) == {"tiny-A"}
    other = tmp_path / "other.yaml"
    other.write_text("glasses: [P2S6-10, P2S6-5]\n")            # without P2S6-25: NEB on the first selected
    out = plan(tmp_path, "config/config.yaml", str(other)).stdout
    assert set(re.findall(r"wildcards: glass=([^,\s]+)", out)) == {"P2S6-10", "P2S6-5"}
    assert job_counts(out)["neb_select"] == 1 and "results/P2S6-10/neb/hops.csv" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("glasses: [P2S6-25, P2S6-99]\n")
    proc = plan(tmp_path, "config/config.yaml", str(bad), check=False)
    assert proc.returncode != 0 and "config key glasses: ['P2S6-99'] not among compositions" in proc.stdout + proc.stderr


def test_the_workflow_plans_as_a_snakemake_module(tmp_path):
    """Another workflow imports this one with `module ... use rule *` (the catalog's way of using
    it): every shipped data file is found and the whole study is planned."""
    (tmp_path / "Snakefile").write_text(
        f'configfile: "{REPO / "config" / "config.yaml"}"\n\n\n'
        f'module lipsglass:\n    snakefile:\n        "{REPO / "Snakefile"}"\n    config:\n        config\n\n\n'
        "use rule * from lipsglass as lipsglass_*\n")
    out = run_snakemake("-n", "--cores", "1", "--snakefile", str(tmp_path / "Snakefile"),
                        "--directory", str(tmp_path)).stdout
    counts = job_counts(out)
    assert counts["lipsglass_scorecard"] == 1 and counts["lipsglass_fig2b_conductivity"] == 1
    assert counts["lipsglass_production"] == 5 * 2 * 2         # 5 glasses x 2 replicas x 2 temperatures


def test_lint_is_clean():
    proc = run_snakemake("--lint")
    assert "Congratulations, your workflow is in a good condition!" in proc.stdout + proc.stderr


def test_a_sixth_glass_adds_only_its_own_jobs(tmp_path):
    before = plan(tmp_path).stdout
    extra = tmp_path / "sixth.yaml"
    extra.write_text("compositions:\n  sixth-glass:\n    units: {PS4: 20, P2S7: 30, P2S6: 10, S: 2}\n")
    after = plan(tmp_path, "config/config.yaml", str(extra)).stdout
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    n_temp, n_rep = len(config["production"]["temperatures_K"]), config["replicas"]
    old, new = job_counts(before), job_counts(after)
    assert new["build_glass"] - old["build_glass"] == n_rep
    assert new["quench"] - old["quench"] == n_rep
    assert new["production"] - old["production"] == n_temp * n_rep
    new_jobs = set(re.findall(r"wildcards: glass=([^,\s]+)", after)) - set(re.findall(r"wildcards: glass=([^,\s]+)", before))
    assert new_jobs == {"sixth-glass"}


@pytest.mark.parametrize("overlay,key", [
    ("compositions:\n  P2S6-25:\n    units: {PS4: -1}\n", "compositions.P2S6-25.units.PS4"),
    ("quench:\n  melt_temp_K: 1500\n", "melt_temp_K"),
    ("production:\n  temperatures_K: [0]\n", "production.temperatures_K.0"),
    ("replicas: 0\n", "replicas"),
    ("transport:\n  arrhenius_phases: [solid]\n", "transport.arrhenius_phases.0"),
])
def test_bad_config_stops_the_dry_run_naming_the_key(tmp_path, overlay, key):
    bad = tmp_path / "bad.yaml"
    bad.write_text(overlay)
    proc = plan(tmp_path, "config/config.yaml", str(bad), check=False)
    assert proc.returncode != 0
    assert key in proc.stdout + proc.stderr


def _thermo(path: Path) -> dict[str, dict[str, np.ndarray]]:
    rows = list(csv.DictReader(path.open()))
    stages: dict[str, dict[str, list]] = {}
    for row in rows:
        stage = stages.setdefault(row["stage"], {})
        for k, v in row.items():
            if k != "stage":
                stage.setdefault(k, []).append(float(v))
    return {s: {k: np.array(v) for k, v in cols.items()} for s, cols in stages.items()}


def _block_stderr(x: np.ndarray, n_blocks: int = 5) -> float:
    blocks = np.array([b.mean() for b in np.array_split(x, n_blocks)])
    return float(blocks.std(ddof=1) / np.sqrt(n_blocks))


# A block SE of 5 blocks has 4 degrees of freedom: +-3 SE would be a 96 % interval (a correct run
# fails it 4 % of the time); t(0.995, 4) makes it 99 %.
BLOCK_T99 = 4.604


@pytest.mark.slow
def test_the_run_ends_with_the_scorecard_summary(tiny_run):
    """onsuccess: where the scorecard is, and the verdict counts read from it."""
    from lipsglass.claims import verdict_counts
    counts = verdict_counts(tiny_run / "results" / "summary" / "scorecard.csv")
    output = (tiny_run / "snakemake_output.txt").read_text()
    assert (f"{counts['holds']} of {sum(counts.values())} hold, {counts['does not hold']} do not hold, "
            f"{counts['not tested']} not tested") in output
    assert "Scorecard: results/summary/scorecard.md" in output and (tiny_run / "results/figures/overview.png").is_file()


@pytest.mark.slow
def test_tiny_glass_end_to_end(tiny_run):
    """Build -> quench -> two production temperatures of a 126-atom glass."""
    cfg = yaml.safe_load(TINY_CONFIG.read_text())
    res = tiny_run / "results" / "tiny-A" / "r1"

    # the built and quenched glass keep the declared composition and are neutral
    glass = read_data(res / "quench" / "glass.data")
    n_atoms = 126
    assert glass.n_atoms == n_atoms
    assert abs(glass.charges.sum()) < 1e-6
    assert (glass.elements() == "Li").sum() == 41

    quench = _thermo(res / "quench" / "thermo.csv")
    assert list(quench) == ["compress", "melt", "cool", "npt_equilibrate", "nvt_equilibrate"]
    # the compression ends at the configured liquid density, before the NPT melt
    assert abs(quench["compress"]["density_g_cm3"][-1] - cfg["quench"]["melt_start_density_g_cm3"]) < 0.05
    final_T = cfg["quench"]["final_T_K"]
    eq = quench["nvt_equilibrate"]["T_K"]
    assert abs(eq.mean() - final_T) < max(0.02 * final_T, BLOCK_T99 * _block_stderr(eq))
    assert 1.6 < quench["nvt_equilibrate"]["density_g_cm3"][-1] < 2.0   # physically sensible glass

    for T in cfg["production"]["temperatures_K"]:
        folder = res / "nvt" / f"{round(T)}K"
        prod = _thermo(folder / "thermo.csv")["production"]
        temps = prod["T_K"]
        # mean temperature within 2 %, or within the 99 % interval of the block mean for this tiny system
        tolerance = max(0.02 * T, BLOCK_T99 * _block_stderr(temps))
        assert abs(temps.mean() - T) < tolerance, (T, temps.mean(), tolerance)
        assert np.all(np.isfinite(prod["pe_kcal_mol"]))

        frames = list(iter_dump(folder / "trajectory.lammpstrj"))
        interval = cfg["production"]["fine_dump_interval_ps"] if T == cfg["production"]["fine_T_K"] \
            else cfg["production"]["dump_interval_ps"]
        assert len(frames) == round(cfg["production"]["duration_ps"] / interval) + 1
        assert all(len(f.ids) == n_atoms for f in frames)
        assert set(frames[0].columns["element"]) == {"Li", "P", "S"}
        # unwrapped coordinates are continuous: no jump of the order of the box between frames,
        # and they agree with wrapped positions + image flags
        li = frames[0].columns["element"] == "Li"
        unwrapped = np.array([f.unwrapped_positions()[li] for f in frames])
        steps = np.linalg.norm(np.diff(unwrapped, axis=0), axis=2)
        assert steps.max() < 0.25 * frames[0].box.lengths.min()
        # image flags are consistent with the unwrapped coordinates: removing them puts every
        # atom back in the cell (LAMMPS re-wraps only at neighbour-list rebuilds, so allow the
        # 2 A neighbour skin)
        last = frames[-1]
        images = np.column_stack([last.columns[c] for c in ("ix", "iy", "iz")])
        inside = last.unwrapped_positions() - images @ last.box.matrix
        assert np.all(inside > last.box.lo - 2.0) and np.all(inside < last.box.hi + 2.0)
        assert np.abs(images).max() >= 1 or T < 500   # atoms do cross the boundary in the hot run

        prov = yaml.safe_load((folder / "provenance.json").read_text())
        assert prov["temperature_K"] == T and "git_commit" in prov["environment"]
        assert prov["seeds"]["velocity"] == cfg["production"]["seed"] + round(T)   # replica 1 keeps the seeds

    # replica 2 is another glass: its own packing and velocities, the same composition
    other = read_data(tiny_run / "results" / "tiny-A" / "r2" / "quench" / "glass.data")
    assert other.n_atoms == n_atoms and not np.allclose(other.positions, glass.positions)
    prov2 = yaml.safe_load((tiny_run / "results" / "tiny-A" / "r2" / "nvt" / "600K" / "provenance.json").read_text())
    assert prov2["seeds"]["velocity"] != cfg["production"]["seed"] + 600

    # every run is labelled glass or liquid; the composition tables and Tg exist with their estimators
    for T in cfg["production"]["temperatures_K"]:
        phase = json.loads((res / "transport" / f"{round(T)}K" / "phase.json").read_text())
        assert phase["label"] in ("glass", "liquid") and phase["reason"]
    composition = json.loads((tiny_run / "results" / "tiny-A" / "transport" / "arrhenius.json").read_text())
    assert composition["replicas"] == 2 and "between-replica" in composition["combination_estimator"]
    assert len(composition["temperatures"]) == len(cfg["production"]["temperatures_K"])
    assert all(t["phase"] in ("glass", "liquid", "mixed") for t in composition["temperatures"])
    tg = json.loads((tiny_run / "results" / "tiny-A" / "tg.json").read_text())
    assert tg["scan_rate_K_per_ps"] > 0 and len(tg["replicas"]) == 2
    assert tg["glass_density"]["mean_g_cm3"] > 0


@pytest.mark.slow
def test_tiny_run_used_the_declared_lammps_and_its_analyses_are_sound(tiny_run):
    """The MD ran with the external `lmp` of the profile; the analyses of the quenched tiny glass
    recover what was built; D at the hottest temperature is finite and positive; the scorecard
    has every claim with a valid verdict."""
    from lipsglass.engine.runtime import lammps_executable
    cfg = yaml.safe_load(TINY_CONFIG.read_text())
    for replica in ("1", "2"):
        res = tiny_run / "results" / "tiny-A" / f"r{replica}"
        quench = json.loads((res / "quench" / "provenance.json").read_text())
        assert quench["lammps_command"] == [lammps_executable()]
        hot = json.loads((res / "nvt" / "600K" / "provenance.json").read_text())
        # the profile's per-rule switches of production, with its one thread filled in
        assert hot["lammps_command"] == [lammps_executable(), "-sf", "omp", "-pk", "omp", "1"]
        # molecular force field: the quench keeps every anion unit as built
        speciation = json.loads((res / "structure" / "speciation.json").read_text())
        built = cfg["compositions"]["tiny-A"]["units"]
        assert speciation["units"] == {**built, "S_free": 0, "other": 0}
    rows = list(csv.DictReader((tiny_run / "results" / "tiny-A" / "transport" / "diffusion.csv").open()))
    hottest = max(rows, key=lambda r: float(r["T_K"]))
    assert float(hottest["T_K"]) == max(cfg["production"]["temperatures_K"])
    D = float(hottest["D_cm2_s"])
    assert np.isfinite(D) and D > 0
    scorecard = list(csv.DictReader((tiny_run / "results" / "summary" / "scorecard.csv").open()))
    assert [r["claim"] for r in scorecard] == [f"C{k}" for k in range(1, 14)]
    # a 126-atom glass (one composition) is too small for every claim that depends on sampling (Li,
    # glasses, hops): none of C1-C12 may be decided; C13 (bond geometry of the force field) may be
    verdicts = {r["claim"]: r["verdict"] for r in scorecard}
    assert {c: v for c, v in verdicts.items() if c != "C13"} == {f"C{k}": "not tested" for k in range(1, 13)}
    assert verdicts["C13"] in ("holds", "not tested")
    assert all(r["scale"] and r["scale"] != "no data" for r in scorecard), [r["claim"] for r in scorecard if not r["scale"]]
    assert all(r["would_decide"] for r in scorecard if r["verdict"] != "holds")  # what would decide each
    # every claim row's shown interval and region say what its verdict says
    from lipsglass.claims.scorecard import read_claim_rows, verdict_agrees_with_interval

    rows = [r for f in sorted((tiny_run / "results" / "summary").glob("*_claims.csv")) for r in read_claim_rows(f)]
    assert len(rows) == 13 and all(verdict_agrees_with_interval(r) for r in rows), \
        [(r["claim"], r["verdict"], r["estimate"], r["ci_low"], r["ci_high"], r["region"]) for r in rows
         if not verdict_agrees_with_interval(r)]


def _planned(workdir: Path, *configs: Path) -> dict[str, int]:
    # one --configfile with every file (a repeated flag keeps only the last list)
    args = ["-n", "--cores", "1", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
            "--configfile", *map(str, configs)]
    return job_counts(run_snakemake(*args).stdout)


MD_RULES = ("build_glass", "quench", "production")


@pytest.mark.slow
def test_a_new_temperature_or_replica_reruns_no_finished_md(tiny_run, tmp_path):
    """On the finished tiny study: a further production temperature plans only its own MD jobs,
    a further replica only its own glass (build, quench, its runs), a further glass only its own;
    a changed claim threshold, segment length or LAMMPS build plans no MD job at all."""
    cfg = yaml.safe_load(TINY_CONFIG.read_text())
    assert not set(MD_RULES) & set(_planned(tiny_run, TINY_CONFIG))     # the study is complete
    for name, overlay in [
        ("claims", {"claims": {**cfg["claims"], "C7": {**cfg["claims"]["C7"], "margin_A": 0.05},
                               "C3": {**cfg["claims"]["C3"], "min_accuracy": 0.8},
                               "C4": {**cfg["claims"]["C4"], "margin": 0.8},
                               "C9": {**cfg["claims"]["C9"], "min_hops_per_class": 12}}}),
        ("segments", {"md": {**cfg["md"], "segment_ps": 0.5}}),
        ("lammps", {"lammps": {"executable": "/opt/site/lmp", "launcher": "srun",
                               "switches": {"default": "-sf gpu -pk gpu 1"}}}),
    ]:
        extra = tmp_path / f"{name}.yaml"
        extra.write_text(yaml.safe_dump(overlay))
        planned = _planned(tiny_run, TINY_CONFIG, extra)
        assert not set(MD_RULES) & set(planned), (name, planned)
    second = tmp_path / "second-glass.yaml"
    second.write_text(yaml.safe_dump({"compositions": {"tiny-B": {"units": {"PS4": 4, "P2S7": 5, "P2S6": 2}}},
                                      "glasses": ["tiny-A", "tiny-B"]}))
    counts = _planned(tiny_run, TINY_CONFIG, second)
    n_temp = len(cfg["production"]["temperatures_K"])
    assert counts["build_glass"] == counts["quench"] == cfg["replicas"]          # tiny-B only
    assert counts["production"] == cfg["replicas"] * n_temp
    hotter = tmp_path / "hotter.yaml"
    hotter.write_text(yaml.safe_dump({"production": dict(cfg["production"],
                                                         temperatures_K=cfg["production"]["temperatures_K"] + [700.0])}))
    counts = _planned(tiny_run, TINY_CONFIG, hotter)
    assert counts["production"] == cfg["replicas"]                       # 700 K of each replica, nothing else
    assert "quench" not in counts and "build_glass" not in counts
    third = tmp_path / "third.yaml"
    third.write_text("replicas: 3\n")
    counts = _planned(tiny_run, TINY_CONFIG, third)
    assert counts["build_glass"] == counts["quench"] == 1
    assert counts["production"] == len(cfg["production"]["temperatures_K"])


def test_cluster_profile_plans_paper_scale_with_resources(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="SLURM executor plugin not installed (make setup installs it)")
    out = plan(tmp_path, "config/config.yaml", "config/paper.yaml",
               extra=("--workflow-profile", str(REPO / "profiles" / "slurm"))).stdout
    counts = job_counts(out)
    n_rep = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())["replicas"]
    assert counts["quench"] == 5 * n_rep and counts["production"] == 25 * n_rep
    quench = out[out.index("rule quench:"):]
    quench = quench[: quench.index("\n\n")]
    # the plan carries the shipped profile's resources of the MPI job (tasks, launcher, wall time)
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())["set-resources"]["quench"]
    for key in ("tasks", "cpus_per_task", "runtime", "mpi"):
        assert f"{key}={profile[key]}" in quench, key
    # light jobs are localrules (a dry run does not print where jobs run, so check the list):
    # every name is a rule of the workflow, none is an MD, NEB or analysis job of a trajectory
    assert "localrules directive specifies rules that are not present" not in out
    snakefile = (REPO / "Snakefile").read_text()
    local = set(re.findall(r"^    (\w+),$", snakefile[snakefile.index("localrules:"):snakefile.index("rule all:")],
                           re.M))
    assert {"scorecard", "fig2a_arrhenius", "transport_claims", "neb_claims"} <= local
    assert not local & {"build_glass", "quench", "production", "neb_batch", "transport_run", "structure",
                        "softness_properties", "homology"}


def test_reproduction_config_plans_on_the_cluster_profile(tmp_path):
    """config/reproduction.yaml (the study plan of the default study) plans on the SLURM profile
    with the sizes it asks for."""
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="SLURM executor plugin not installed (make setup installs it)")
    overlay = yaml.safe_load((REPO / "config" / "reproduction.yaml").read_text())
    out = plan(tmp_path, "config/config.yaml", "config/reproduction.yaml",
               extra=("--workflow-profile", str(REPO / "profiles" / "slurm"))).stdout
    counts = job_counts(out)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    n_glass = len(config["compositions"]) * overlay.get("replicas", config["replicas"])
    temps = overlay.get("production", {}).get("temperatures_K", config["production"]["temperatures_K"])
    assert counts["production"] == n_glass * len(temps)
    assert counts["study_plan"] == 1 and counts["validation"] == 1


@pytest.mark.slow
def test_report_shows_every_figure_in_a_headless_browser(tiny_run):
    """snakemake --report of the tiny run, opened in headless Chromium: every PNG figure the
    workflow wrote and the scorecard are listed, displayed and captioned; a corrupted figure
    in a copy of the report is caught."""
    from lipsglass.report_check import check_report, find_chromium
    if find_chromium() is None:
        pytest.skip("no Chromium: make setup installs Debian's chromium when run as root; "
                    "else install it or set LIPSGLASS_CHROMIUM")
    run_snakemake("--cores", "1", "--configfile", str(TINY_CONFIG), "--directory", str(tiny_run),
                  "--snakefile", str(REPO / "Snakefile"), "--report", "results/report.html")
    report = tiny_run / "results" / "report.html"
    figures = sorted(str(p.relative_to(tiny_run)) for p in (tiny_run / "results").rglob("*.png"))
    assert len(figures) >= 20
    expected = figures + ["results/summary/scorecard.html"]
    result = check_report(report, expected)
    assert result["problems"] == [] and sorted(result["shown"]) == sorted(expected)

    # the check can fail: a figure whose image data is broken is reported as not decoded
    text = report.read_text()
    victim = Path(figures[0]).name
    marker = f"filename={victim};base64,"
    start = text.index(marker) + len(marker)
    broken = tiny_run / "results" / "broken_report.html"
    broken.write_text(text[:start] + "bm90IGEgcG5n" + text[start + 40:])   # base64 of "not a png"
    result = check_report(broken, [figures[0], "results/figures/no_such_figure.png"])
    assert any(figures[0] in p and "not" in p for p in result["problems"])
    assert any("no_such_figure.png: not in the report" in p for p in result["problems"])
