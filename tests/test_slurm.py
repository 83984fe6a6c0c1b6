"""The cluster path for real: the tiny study submitted through profiles/slurm to a one-node SLURM
(tests/slurm_cluster.py), a quench cancelled with scancel and resumed, the documented profile
blocks (profiles/README.md), and the sbatch command of every paper-scale job.

Only what a 2-core test node cannot hold is scaled down, by ``NODE_OVERLAY`` on a copy of the
shipped profile (never by editing it)."""

from __future__ import annotations

import copy
import csv
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import BIN, REPO, TINY_CONFIG, snakemake_cmd
from test_lammps_runtime import LJ_INPUT
from lipsglass.lammpsio import read_data
from slurm_cluster import OneNodeSlurm, skip_reason

PROFILE = REPO / "profiles" / "slurm"
PROFILES_README = REPO / "profiles" / "README.md"
# The shipped profile's 8-rank MD jobs run on 2 ranks (the node has 2 cores), and at most 6 jobs
# are queued at once (each job is a Python process of ~0.3 GB on a 2-core machine). Nothing else.
NODE_OVERLAY = {"set-resources": {"quench": {"tasks": 2}, "production": {"tasks": 2}}, "jobs": 6}
# Rules whose scripts render atomic structures with OVITO (a Vulkan driver): never local rules.
RENDERED_RULES = {"fig1c_snapshot", "fig3a_softness_snapshot", "fig3c_anion_snapshot", "fig4d_li_traces"}
# The rules that run LAMMPS as MPI jobs under the shipped profile.
MPI_RULES = {"quench", "production", "neb_batch"}

SLURM_SKIP = skip_reason()
needs_slurm = pytest.mark.skipif(SLURM_SKIP is not None, reason=SLURM_SKIP or "")


def merged(base: dict, overlay: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        out[key] = merged(out.get(key) or {}, value) if isinstance(value, dict) else value
    return out


def profile_copy(folder: Path, overlay: dict) -> Path:
    """The shipped profile with ``overlay`` merged in, as a profile folder."""
    folder.mkdir(parents=True, exist_ok=True)
    shipped = yaml.safe_load((PROFILE / "config.yaml").read_text())
    (folder / "config.yaml").write_text(yaml.safe_dump(merged(shipped, overlay), sort_keys=False))
    return folder


def localrules() -> set[str]:
    text = (REPO / "Snakefile").read_text()
    block = text[text.index("localrules:"):text.index("rule all:")]
    return set(re.findall(r"^\s+(\w+),", block, re.M))


def job_env(cluster: OneNodeSlurm) -> dict[str, str]:
    """The submitting shell's environment (jobs inherit it: sbatch --export=ALL). The test node
    runs NEB bands of up to 13 srun ranks on 2 cores: MPICH throttles its idle polling there, as
    the environment's mpiexec does by itself when oversubscribed (engine.runtime)."""
    return dict(cluster.env, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                MPIR_CVAR_CH4_PROGRESS_THROTTLE="1")


def run_on_slurm(cluster: OneNodeSlurm, workdir: Path, profile: Path, *args: str, timeout: int = 1800,
                 check: bool = True) -> subprocess.CompletedProcess:
    """``snakemake --workflow-profile PROFILE`` as a user submits it, with the status queried by
    squeue (this cluster has no accounting daemon) and a short first status check."""
    env = job_env(cluster)
    cmd = snakemake_cmd("--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
                        "--workflow-profile", str(profile), "--slurm-status-command", "squeue",
                        "--slurm-init-seconds-before-status-checks", "5", *args)
    proc = subprocess.run(cmd, cwd=workdir.parent, capture_output=True, text=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{proc.stdout[-20000:]}\n{proc.stderr[-20000:]}")
    return proc


@pytest.fixture(scope="module")
def slurm():
    cluster = OneNodeSlurm().start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def slurm_tiny_run(slurm, tmp_path_factory) -> tuple[Path, str]:
    """The whole tiny study through the shipped profile (with NODE_OVERLAY), to its scorecard."""
    root = tmp_path_factory.mktemp("slurm-tiny")
    profile = profile_copy(root / "profile", NODE_OVERLAY)
    workdir = root / "work"
    workdir.mkdir()
    proc = run_on_slurm(slurm, workdir, profile, "--configfile", str(TINY_CONFIG))
    return workdir, proc.stdout + proc.stderr


# --- the tiny study on SLURM --------------------------------------------------------------------

@pytest.mark.slow
@needs_slurm
def test_tiny_study_runs_through_the_slurm_profile(slurm_tiny_run):
    workdir, log = slurm_tiny_run
    assert (workdir / "results" / "summary" / "scorecard.md").exists()
    remote = set(re.findall(r"^rule (\w+):", log, re.M))
    local = set(re.findall(r"^localrule (\w+):", log, re.M))
    n_remote_jobs = len(re.findall(r"^rule \w+:", log, re.M))
    # every non-local job went through sbatch (each attempt of a job is one submission)
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", log)
    assert len(submitted) >= n_remote_jobs > 0
    # the SLURM log path of every submission names its rule (the logs of successful jobs are removed)
    submitted_rules = set(re.findall(r"has been submitted with SLURM jobid \d+ \(log: \S*/rule_(\w+)/", log))
    assert submitted_rules == remote
    assert {"build_glass", "quench", "production", "softness_dynamics", "homology", "neb_batch"} <= remote
    assert RENDERED_RULES <= remote and not RENDERED_RULES & local
    assert local <= localrules() and not remote & localrules()
    # the study is complete: nothing left to do
    plan = subprocess.run(snakemake_cmd("-n", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
                                        "--configfile", str(TINY_CONFIG)), capture_output=True, text=True)
    assert "Nothing to be done" in plan.stdout + plan.stderr


@pytest.mark.slow
@needs_slurm
def test_md_and_neb_ran_their_lammps_on_several_ranks_with_the_profiles_launcher(slurm_tiny_run):
    workdir, _ = slurm_tiny_run
    cfg = yaml.safe_load(TINY_CONFIG.read_text())
    launcher = yaml.safe_load((PROFILE / "config.yaml").read_text())["set-resources"]["quench"]["mpi"]
    runs = [("quench", workdir / "results/tiny-A/r1/quench", workdir / "logs/tiny-A/r1/quench.log")]
    runs += [("production", workdir / f"results/tiny-A/r1/nvt/{T}K", workdir / f"logs/tiny-A/r1/production_{T}K.log")
             for T in cfg["production"]["temperatures_K"]]
    for rule, folder, log in runs:
        provenance = json.loads((folder / "provenance.json").read_text())
        assert provenance["mpi_ranks"] == 2, rule
        assert provenance["lammps_command"][:len(launcher.split()) + 2] == launcher.split() + ["-n", "2"], rule
        assert "1 by 1 by 2 MPI processor grid" in log.read_text(), rule
    # NEB bands: one LAMMPS program on R images x 1 rank, started by the profile's launcher
    neb_logs = list((workdir / "results/tiny-A/neb/hops").rglob("neb.log"))
    assert neb_logs
    partitions = {int(m) for p in neb_logs for m in re.findall(r"Running on (\d+) partitions", p.read_text())}
    assert partitions and min(partitions) >= 2
    batch_log = "".join(p.read_text() for p in (workdir / "logs/tiny-A").glob("neb_batch_*.log"))
    bands = re.findall(r": band \S+: (.*)$", batch_log, re.M)
    assert bands and all(b.startswith(f"{launcher} -n ") and " -partition " in b for b in bands)


@pytest.mark.slow
@needs_slurm
def test_slurm_results_equal_in_kind_to_the_local_run(slurm_tiny_run, tiny_run):
    """The same result files, the same table columns and JSON keys as the workstation run of the
    tiny study (numbers differ: 2 MPI ranks sum forces in another order and MD is chaotic)."""
    workdir, _ = slurm_tiny_run

    def kinds(root: Path) -> dict[str, object]:
        out = {}
        for path in sorted((root / "results").rglob("*")):
            if not path.is_file() or "neb/hops" in str(path):
                continue
            rel = str(path.relative_to(root))
            if path.suffix == ".csv":
                with path.open() as handle:
                    out[rel] = next(csv.reader(handle), [])
            elif path.suffix == ".json":
                data = json.loads(path.read_text())
                out[rel] = sorted(data) if isinstance(data, dict) else type(data).__name__
            else:
                out[rel] = path.suffix
        return out

    slurm_kinds, local_kinds = kinds(workdir), kinds(tiny_run)
    assert set(slurm_kinds) == set(local_kinds)
    differ = {k for k in local_kinds if slurm_kinds[k] != local_kinds[k]
              and not k.endswith("provenance.json")}
    assert not differ


@pytest.mark.slow
@needs_slurm
def test_a_cancelled_segmented_quench_resumes_on_slurm_and_equals_an_uninterrupted_one(slurm, tmp_path):
    """scancel between restart segments, rerun snakemake: the quench continues from its last
    finished segment and its glass equals that of a run never cancelled (2 ranks both)."""
    overlay = tmp_path / "segments.yaml"
    overlay.write_text("md:\n  segment_ps: 0.2\n")       # ~25 segments of the tiny melt-quench
    profile = profile_copy(tmp_path / "profile", merged(NODE_OVERLAY, {"retries": 0}))
    target = "results/tiny-A/r1/quench/glass.data"
    args = (target, "--configfile", str(TINY_CONFIG), str(overlay))
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    straight.mkdir(), resumed.mkdir()
    run_on_slurm(slurm, straight, profile, *args)

    env = job_env(slurm)
    cmd = snakemake_cmd("--snakefile", str(REPO / "Snakefile"), "--directory", str(resumed), "--workflow-profile",
                        str(profile), "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks",
                        "5", *args)
    first = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    progress = resumed / "results/tiny-A/r1/quench/.tmp-quench/segments.json"
    deadline = time.time() + 600
    while time.time() < deadline and first.poll() is None:
        if progress.exists() and len(json.loads(progress.read_text())["done"]) >= 5:
            break
        time.sleep(0.05)
    assert first.poll() is None, "the quench finished before it could be cancelled"
    jobs = [line.split() for line in slurm.squeue("-o", "%i %k").splitlines()]
    quench_jobs = [job_id for job_id, comment in jobs if comment.startswith("rule_quench")]
    assert len(quench_jobs) == 1
    subprocess.run(["scancel", quench_jobs[0]], check=True, env=slurm.env)
    out, _ = first.communicate(timeout=600)
    done = len(json.loads(progress.read_text())["done"])
    assert first.returncode != 0 and not (resumed / target).exists(), out[-3000:]

    run_on_slurm(slurm, resumed, profile, *args)
    log = (resumed / "logs/tiny-A/r1/quench.log").read_text()
    assert f"resumed after {done} finished segments" in log
    assert "1 by 1 by 2 MPI processor grid" in log
    assert ((resumed / "results/tiny-A/r1/quench/thermo.csv").read_bytes()
            == (straight / "results/tiny-A/r1/quench/thermo.csv").read_bytes())
    a, b = read_data(straight / target), read_data(resumed / target)
    assert np.array_equal(a.positions, b.positions) and np.array_equal(a.velocities, b.velocities)


@pytest.mark.slow
@needs_slurm
def test_the_environment_mpiexec_runs_its_ranks_inside_a_job_of_one_task(slurm, tmp_path):
    """A job with no mpi resource that still runs LAMMPS on several ranks (the validation page's
    NEB, a NEB started by hand) uses the environment's mpiexec. Inside a SLURM job MPICH's hydra
    would start the ranks as an srun step the one-task job never gets (it waited for ever); the
    command forks them on the node instead."""
    (tmp_path / "in.lj").write_text(LJ_INPUT)
    code = ("import subprocess; from lipsglass.engine.runtime import LammpsRuntime; "
            "subprocess.run(LammpsRuntime().command('quench', ranks=2, threads=1) + "
            "['-in', 'in.lj', '-log', 'lj.log', '-screen', 'none'], check=True)")
    env = dict(slurm.env, PYTHONPATH=str(REPO))
    proc = subprocess.run(["sbatch", "--wait", "-n", "1", "-t", "5", "-D", str(tmp_path), "-o", "job.out",
                           "--wrap", f"{sys.executable} -c \"{code}\""], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr + (tmp_path / "job.out").read_text()
    assert "1 by 1 by 2 MPI processor grid" in (tmp_path / "lj.log").read_text()


def rule_bodies() -> dict[str, str]:
    bodies = {}
    for path in (REPO / "workflow" / "rules").glob("*.smk"):
        for m in re.finditer(r"^rule (\w+):\n(.*?)(?=^rule |\Z)", path.read_text(), re.M | re.S):
            bodies[m.group(1)] = m.group(2)
    return bodies


def test_local_rules_are_safe_on_a_login_node():
    """Local rules run in the Snakemake process on the submit host: none renders with OVITO (a
    Vulkan driver a login node may lack) and none reads a trajectory or an MD configuration
    (work that grows with the cell); they read the summary tables of other jobs."""
    bodies = rule_bodies()
    local = localrules() - {"all"}
    assert local <= set(bodies)
    assert not local & RENDERED_RULES
    for rule in sorted(local):
        inputs = bodies[rule].split("output:")[0]
        scripts = re.findall(r'script:\s*"([^"]+)"', bodies[rule])
        assert not re.search(r"lammpstrj|trajectory|final\.data|softness_run_file", inputs), rule
        for script in scripts:
            text = (REPO / "workflow" / "rules" / script).resolve().read_text()
            assert "rendered" not in text and "ovito" not in text.lower(), rule


# --- every paper-scale job is submittable (no cluster needed) -----------------------------------

def submit_commands(workdir: Path, profile: Path, *configfiles: str) -> list[dict]:
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "slurm_submit.py"), str(workdir), str(profile),
                           *configfiles], capture_output=True, text=True, cwd=workdir, timeout=600)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return json.loads(proc.stdout)


def neb_band_ranks(configfiles: list[str]) -> int:
    config = {}
    for name in configfiles:
        config = merged(config, yaml.safe_load((REPO / name).read_text()))
    from lipsglass.neb.settings import NEBSettings, max_band_ranks
    band = {k: v for k, v in config["neb"].items() if k in NEBSettings.__dataclass_fields__}
    return max_band_ranks(NEBSettings.from_config(band))


@pytest.mark.parametrize("configfiles", [["config/config.yaml", "config/paper.yaml"],
                                         ["config/config.yaml", "config/reproduction.yaml"]])
def test_every_job_of_the_paper_and_reproduction_studies_is_submittable(tmp_path, configfiles):
    rows = submit_commands(tmp_path / "work", PROFILE, *[str(REPO / c) for c in configfiles])
    assert rows
    refused = [(r["rule"], r["wildcards"], r["error"]) for r in rows if "error" in r]
    assert not refused
    rules = {r["rule"] for r in rows}
    assert MPI_RULES <= rules and not rules & localrules()
    for row in rows:
        command = row["command"]
        assert command.startswith("sbatch ") and f"-t {row['resources']['runtime']}" in command
        if row["rule"] in MPI_RULES:
            ntasks = int(re.search(r"--ntasks=(\d+)", command).group(1))
            assert ntasks > 1 and row["resources"]["mpi"]
    neb = [r for r in rows if r["rule"] == "neb_batch"]
    assert {int(re.search(r"--ntasks=(\d+)", r["command"]).group(1)) for r in neb} == {neb_band_ranks(configfiles)}


def test_the_submit_check_catches_an_mpi_job_of_one_task(tmp_path):
    """The check that would have caught the shipped `tasks: 1` of the MD rules."""
    profile = profile_copy(tmp_path / "profile", {"set-resources": {"quench": {"tasks": 1}}})
    rows = submit_commands(tmp_path / "work", profile, str(REPO / "config/config.yaml"), str(REPO / "config/paper.yaml"))
    refused = {r["rule"] for r in rows if "error" in r}
    assert refused == {"quench"}
    assert all("'tasks' must be greater than 1" in r["error"] for r in rows if "error" in r)


# --- profiles/README.md, tried -------------------------------------------------------------------

def readme_blocks() -> tuple[list[str], list[dict]]:
    """The shell lines (4-space indented blocks) and YAML blocks of profiles/README.md."""
    text = PROFILES_README.read_text()
    yaml_blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]
    shell = [line.strip() for block in re.findall(r"(?:\n\n)((?:    \S.*\n)+)", text) for line in block.splitlines()]
    return shell, yaml_blocks


def test_profiles_readme_commands_and_yaml_blocks_are_known_to_this_test():
    """Every command and YAML block of profiles/README.md is one the tests below run; a new one
    must be added there."""
    shell, blocks = readme_blocks()
    assert shell == [
        "git clone <this repository> lipsglass && cd lipsglass",
        "make setup",
        "pip install -r envs/requirements.txt -r envs/requirements-slurm.txt -c envs/constraints.txt",
        "pip install --no-deps -e .",
        "cp -r profiles/slurm profiles/site",
        "snakemake -n --workflow-profile profiles/site --configfile config/paper.yaml",
        "snakemake --workflow-profile profiles/site --configfile config/paper.yaml",
        "snakemake --unlock --workflow-profile profiles/site --configfile config/paper.yaml",
    ]
    assert [sorted(b) for b in blocks] == [["default-resources"], ["set-resources"], ["config"]]


def site_profile(folder: Path) -> Path:
    """`cp -r profiles/slurm profiles/site` and the README's account/partition block applied."""
    _, blocks = readme_blocks()
    return profile_copy(folder, blocks[0])


def test_profiles_readme_site_profile_plans_and_submits_the_paper_study(tmp_path):
    """Steps 2, 3 and 5: the copied profile with the account and partition block; the dry run;
    the submission as the sbatch command of every job (the paper study does not fit this node)."""
    shell, blocks = readme_blocks()
    profile = site_profile(tmp_path / "site")
    # the README's MPI block is what the shipped profile has
    shipped = yaml.safe_load((PROFILE / "config.yaml").read_text())
    for rule, values in blocks[1]["set-resources"].items():
        assert {k: shipped["set-resources"][rule][k] for k in values} == values
    work = tmp_path / "work"
    work.mkdir()
    for line in shell:
        if line.startswith(("snakemake -n", "snakemake --unlock")):
            args = line.split()[1:]
            args[args.index("profiles/site")] = str(profile)
            args[args.index("config/paper.yaml")] = str(REPO / "config/paper.yaml")
            proc = subprocess.run(snakemake_cmd(*args, "--snakefile", str(REPO / "Snakefile"), "--directory",
                                                str(work)), capture_output=True, text=True, timeout=600)
            assert proc.returncode == 0, proc.stderr[-3000:]
    rows = submit_commands(tmp_path / "submit", profile, str(REPO / "config/config.yaml"), str(REPO / "config/paper.yaml"))
    assert rows and not [r for r in rows if "error" in r]
    account = blocks[0]["default-resources"]["slurm_account"]
    partition = blocks[0]["default-resources"]["slurm_partition"]
    assert all(f"-A {account}" in r["command"] and f"-p {partition}" in r["command"] for r in rows)


@pytest.mark.slow
@needs_slurm
def test_profiles_readme_site_lammps_runs_a_quench_on_slurm(slurm, tmp_path):
    """Step 4: the site-LAMMPS block (its executable replaced by this environment's `lmp`, the one
    LAMMPS build here) runs the tiny glass's quench on 2 ranks through the copied profile."""
    from lipsglass.engine.runtime import lammps_executable
    _, blocks = readme_blocks()
    site = copy.deepcopy(blocks[2])
    assert site["config"]["lammps"]["executable"] == "/opt/lammps/bin/lmp"
    site["config"]["lammps"]["executable"] = lammps_executable()
    profile = profile_copy(tmp_path / "site", merged(merged(blocks[0], NODE_OVERLAY), site))
    # the README's account does not exist on the test cluster: unset it (the plugin then submits
    # without -A), the partition is the test cluster's
    text = yaml.safe_load((profile / "config.yaml").read_text())
    text["default-resources"].pop("slurm_account")
    text["default-resources"]["slurm_partition"] = "debug"
    (profile / "config.yaml").write_text(yaml.safe_dump(text, sort_keys=False))
    work = tmp_path / "work"
    work.mkdir()
    run_on_slurm(slurm, work, profile, "results/tiny-A/r1/quench/glass.data", "--configfile", str(TINY_CONFIG))
    provenance = json.loads((work / "results/tiny-A/r1/quench/provenance.json").read_text())
    launcher = yaml.safe_load((PROFILE / "config.yaml").read_text())["set-resources"]["quench"]["mpi"].split()
    assert provenance["lammps_command"] == launcher + ["-n", "2", lammps_executable()]
    assert "1 by 1 by 2 MPI processor grid" in (work / "logs/tiny-A/r1/quench.log").read_text()
