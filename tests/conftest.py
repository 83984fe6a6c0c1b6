import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
REFERENCE = SHARED / "reference" / "ariga2022"
BIN = Path(sys.executable).parent

# The distributed Ariga et al. (2022) 70:30 model, its reference energies, the Li-S sw table and the
# crystal cells are carried in tests/data/ariga2022 (see its README), so the force-field checks
# run in any clone; the 67:33 and 75:25 glasses are only in ../shared (optional).
TEST_DATA = REPO / "tests" / "data" / "ariga2022"

requires_shared = pytest.mark.skipif(
    not REFERENCE.is_dir(), reason="../shared/reference/ariga2022 is absent (the 67:33 and 75:25 models live outside the repo)"
)


def reference_file(name: str) -> Path:
    """A distributed Ariga file: from tests/data/ariga2022 (a ``.gz`` there is unpacked once into the
    system temporary folder, never into the repository), else from ../shared."""
    carried = TEST_DATA / name
    if carried.exists():
        return carried
    packed = TEST_DATA / f"{name}.gz"
    if packed.exists():
        digest = hashlib.sha256(packed.read_bytes()).hexdigest()[:16]
        target = Path(tempfile.gettempdir()) / f"lipsglass-test-data-{digest}" / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(f".{os.getpid()}.part")
            with gzip.open(packed, "rb") as src, open(partial, "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.replace(partial, target)
        return target
    return REFERENCE / name


def snakemake_cmd(*args: str) -> list[str]:
    exe = BIN / "snakemake"
    return [str(exe) if exe.exists() else shutil.which("snakemake"), *args]


def run_snakemake(*args: str, cwd: Path | None = None, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
    """Snakemake on the repository's Snakefile, never with the repository as working directory
    (it would write .snakemake/ into a live project): without --directory, an empty temporary
    folder with the default config."""
    args = list(args)
    scratch = None
    if "--directory" not in args:
        scratch = tempfile.TemporaryDirectory(prefix="lipsglass-snakemake-")
        args += ["--directory", scratch.name]
        if "--snakefile" not in args:
            args += ["--snakefile", str(REPO / "Snakefile")]
        if "--configfile" not in args:
            args += ["--configfile", str(REPO / "config" / "config.yaml")]
    cwd = cwd or (Path(scratch.name) if scratch else Path(tempfile.gettempdir()))
    try:
        return _run_snakemake(args, cwd, check, timeout)
    finally:
        if scratch is not None:
            scratch.cleanup()


def _run_snakemake(args: list[str], cwd: Path, check: bool, timeout: int) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(snakemake_cmd(*args), cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def plan(workdir: Path, *configfiles: str, extra: tuple[str, ...] = (), check: bool = True) -> subprocess.CompletedProcess:
    """Dry run of the workflow in an empty working directory (independent of any local results),
    with the given config files (paths relative to the repository)."""
    files = [str(REPO / c) if not Path(c).is_absolute() else c for c in (configfiles or ("config/config.yaml",))]
    return run_snakemake("-n", "--cores", "2", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
                         "--configfile", *files, *extra, check=check)


TINY_CONFIG = REPO / "tests" / "config" / "config.yaml"


@pytest.fixture(scope="session")
def site_lammps_profile(tmp_path_factory) -> Path:
    """A user's profile declaring LAMMPS as an external program, the way a cluster user declares
    the site build (here the environment's own `lmp` binary, run as a separate process)."""
    from lipsglass.engine.runtime import lammps_executable
    profile = tmp_path_factory.mktemp("site-profile")
    (profile / "config.yaml").write_text(yaml.safe_dump({"config": {"lammps": {
        "executable": lammps_executable(), "launcher": None,
        "switches": {"default": None, "production": "-sf omp -pk omp {threads}"}}}}))
    return profile


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, site_lammps_profile) -> Path:
    """The whole workflow (every stage and figure) on a 126-atom glass (a few minutes), with the
    MD run by an external `lmp` declared in a profile."""
    workdir = tmp_path_factory.mktemp("tiny-workflow")
    proc = run_snakemake("--cores", "2", "--configfile", str(TINY_CONFIG), "--directory", str(workdir),
                         "--snakefile", str(REPO / "Snakefile"), "--profile", str(site_lammps_profile), timeout=1800)
    (workdir / "snakemake_output.txt").write_text(proc.stdout + proc.stderr)
    return workdir
