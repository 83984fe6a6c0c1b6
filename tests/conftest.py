import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
REFERENCE = SHARED / "reference" / "ariga2022"
BIN = Path(sys.executable).parent

requires_shared = pytest.mark.skipif(
    not REFERENCE.is_dir(), reason="../shared/reference/ariga2022 is absent (reference models live outside the repo)"
)


def snakemake_cmd(*args: str) -> list[str]:
    exe = BIN / "snakemake"
    return [str(exe) if exe.exists() else shutil.which("snakemake"), *args]


def run_snakemake(*args: str, cwd: Path = REPO, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
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
