"""The rule files and the Snakefile are formatted with snakefmt (the Snakemake catalog's
standard; line length in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO


def test_rule_files_are_snakefmt_formatted():
    exe = Path(sys.executable).parent / "snakefmt"
    exe = str(exe) if exe.exists() else shutil.which("snakefmt")
    if exe is None:
        pytest.fail("snakefmt is not installed: `make setup` installs it (envs/requirements-checks.txt)")
    proc = subprocess.run([exe, "--check", "--compact-diff", "workflow", "Snakefile"], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"run `snakefmt workflow Snakefile`:\n{proc.stdout}{proc.stderr}"
