"""Running a LAMMPS command list: in this process's LAMMPS module (OpenMP) or as a LAMMPS program
(``lmp`` on MPI ranks, or the build a profile names), failing with LAMMPS' own message."""

from __future__ import annotations

import math
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from lipsglass.engine.runtime import LammpsRuntime, open_lammps


class SimulationFailed(RuntimeError):
    """LAMMPS stopped with an error or produced non-finite energies."""


def run_lammps(commands: list[str], log_file: str | Path, threads: int = 1,
               input_copy: str | Path | None = None, switches: list[str] | None = None,
               append_log: bool = False) -> None:
    """Execute commands in the LAMMPS Python module; the LAMMPS log goes to ``log_file``
    (appended to with ``append_log``).

    ``input_copy`` receives the exact input (runnable with ``lmp -in``). Raises
    SimulationFailed with LAMMPS' message on any error or on a non-finite potential energy.
    """
    if input_copy is not None:
        Path(input_copy).write_text("\n".join(commands) + "\n")
    lmp = open_lammps(log_file=None if append_log else log_file, threads=threads, switches=switches)
    try:
        if append_log:
            lmp.command(f'log "{Path(log_file).resolve()}" append')
        for cmd in commands:
            try:
                lmp.command(cmd)
            except Exception as exc:  # LAMMPS raises a plain Exception with its message
                raise SimulationFailed(f"LAMMPS failed at `{cmd}`: {exc}") from exc
            if cmd.startswith(("run ", "minimize ")):
                pe = lmp.get_thermo("pe")
                if not math.isfinite(pe):
                    raise SimulationFailed(f"non-finite potential energy ({pe}) after `{cmd}`")
    finally:
        lmp.close()


def run_lammps_program(commands: list[str], log_file: str | Path, command: list[str], threads: int = 1,
                       input_file: str | Path = "in.lammps", append_log: bool = False) -> None:
    """Execute commands with a LAMMPS program (``command``: launcher, executable and switches, from
    :meth:`LammpsRuntime.command`). The input is written to ``input_file`` and run from the current
    folder; with ``append_log`` a small driver appends the LAMMPS log to ``log_file`` and includes
    the input. A non-zero exit raises SimulationFailed with LAMMPS' ERROR lines."""
    input_file = Path(input_file)
    input_file.write_text("\n".join(commands) + "\n")
    log_file = Path(log_file).resolve()
    if append_log:
        driver = input_file.with_name(input_file.name + ".driver")
        driver.write_text(f'log "{log_file}" append\ninclude {input_file.name}\n')
        cmd = command + ["-in", driver.name, "-log", "none"]
    else:
        cmd = command + ["-in", str(input_file), "-log", str(log_file)]
    cmd += ["-screen", "none", "-nocite"]
    env = dict(os.environ, OMP_NUM_THREADS=str(max(1, int(threads))))
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=input_file.parent)
    except FileNotFoundError as exc:
        raise SimulationFailed(f"cannot start LAMMPS `{' '.join(command)}`: {exc} (config key lammps)") from exc
    if proc.returncode != 0:
        log_text = log_file.read_text() if log_file.exists() else ""
        errors = [ln for ln in (log_text + proc.stdout + proc.stderr).splitlines() if "ERROR" in ln]
        raise SimulationFailed(f"LAMMPS `{' '.join(command)}` failed (exit {proc.returncode}): "
                               + ("; ".join(errors) or proc.stderr.strip()[-2000:]))


def run_lammps_mpi(commands: list[str], log_file: str | Path, ranks: int, threads: int = 1,
                   launcher: str = "mpiexec", input_file: str | Path = "in.lammps") -> None:
    """Execute commands with the environment's `lmp` on ``ranks`` MPI ranks (Snakemake's MPI
    pattern: ``launcher`` is ``mpiexec`` here and ``srun`` on a SLURM cluster, from the rule's
    ``mpi`` resource)."""
    command = LammpsRuntime().command("md", ranks, threads, mpi=launcher, force_external=True)
    run_lammps_program(commands, log_file, command, threads=threads, input_file=input_file)


@dataclass(frozen=True)
class Launch:
    """How one job starts LAMMPS: its rule (which names its switches and its provenance), OpenMP
    threads per rank, MPI ranks, the rule's ``mpi`` resource (None or ``mpiexec``: the
    environment's mpiexec) and the runtime (config section ``lammps``)."""

    rule: str
    threads: int = 1
    ranks: int = 1
    mpi_launcher: str | None = "mpiexec"
    runtime: LammpsRuntime = field(default_factory=LammpsRuntime)

    def describe(self) -> dict:
        """What provenance.json records about how LAMMPS ran."""
        return self.runtime.describe(self.rule, self.ranks, self.threads, self.mpi_launcher)


def lammps_runner(launch: Launch):
    """Run a command list in this process's LAMMPS module, or with the LAMMPS program the runtime
    names (the environment's ``lmp`` on more than one MPI rank): ``run(commands, log_file,
    input_file, append_log=False)``."""
    command = launch.runtime.command(launch.rule, launch.ranks, launch.threads, mpi=launch.mpi_launcher)
    switches = launch.runtime.switch_args(launch.rule, launch.threads, launch.ranks)
    threads = launch.threads

    def run(commands: list[str], log_file: str | Path, input_file: str, append_log: bool = False) -> None:
        if command is None:
            run_lammps(commands, log_file, threads=threads, input_copy=input_file, switches=switches,
                       append_log=append_log)
        else:
            run_lammps_program(commands, log_file, command, threads=threads, input_file=input_file,
                               append_log=append_log)
    return run
