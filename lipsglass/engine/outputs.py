"""Outputs of an MD job: a scratch folder next to them, kept across a killed segmented run, and the
atomic move of the finished files into place."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def staging_dir(final_dir: str | Path, name: str, keep: bool = False) -> Path:
    """Scratch folder next to the outputs; files are moved out of it only on success. With
    ``keep`` an existing folder (a killed segmented run) is kept so the run can resume."""
    path = Path(final_dir) / f".tmp-{name}"
    if path.exists() and not keep:
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def commit_outputs(moves: dict[str | Path, str | Path], scratch: str | Path | None = None) -> None:
    """Atomically move finished files into place (same file system), then drop the scratch."""
    for src, dst in moves.items():
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)
