"""Melt-quench and NVT production protocols as LAMMPS command lists, and their execution.

Each protocol is a pure function returning the list of LAMMPS commands (also written out as an
``in.lammps`` for provenance and for running the very same input with the ``lmp`` binary); the
runner executes it through the Python module, checks every stage for non-finite energies, and
moves outputs into place only when everything succeeded.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lipsglass.forcefield import ForceField
from lipsglass.lammps_runtime import accelerator_args, lammps_executable, mpiexec_executable, open_lammps
from lipsglass.provenance import write_provenance
from lipsglass.simulation import setup_commands

# Columns of thermo.csv: LAMMPS thermo keyword -> (column name, conversion expression)
THERMO_COLUMNS = [
    ("step", "step", "step"),
    ("time_ps", "time", "time/1000.0"),      # LAMMPS real: time in fs
    ("T_K", "temp", "temp"),
    ("P_atm", "press", "press"),
    ("density_g_cm3", "density", "density"),
    ("volume_A3", "vol", "vol"),
    ("pe_kcal_mol", "pe", "pe"),
    ("ke_kcal_mol", "ke", "ke"),
    ("etotal_kcal_mol", "etotal", "etotal"),
    ("ebond_kcal_mol", "ebond", "ebond"),
    ("eangle_kcal_mol", "eangle", "eangle"),
    ("edihed_kcal_mol", "edihed", "edihed"),
    ("evdwl_kcal_mol", "evdwl", "evdwl"),
    ("ecoul_plus_elong_kcal_mol", "ecoul", "ecoul+elong"),
]
THERMO_HEADER = "stage," + ",".join(name for name, _, _ in THERMO_COLUMNS)


@dataclass(frozen=True)
class MDSettings:
    """Integration settings shared by every run (from config ``md``)."""

    timestep_fs: float = 1.0
    kspace_style: str = "pppm"
    kspace_accuracy: float = 1e-5
    thermostat_damping_fs: float = 100.0
    barostat_damping_fs: float = 1000.0
    pressure_atm: float = 1.0
    thermo_interval_fs: float = 100.0

    @classmethod
    def from_config(cls, md: dict) -> "MDSettings":
        return cls(**{k: md[k] for k in cls.__dataclass_fields__})

    def steps(self, duration_ps: float) -> int:
        """Number of MD steps in ``duration_ps`` (rounded to the nearest step)."""
        return int(round(duration_ps * 1000.0 / self.timestep_fs))

    @property
    def thermo_every(self) -> int:
        return max(1, int(round(self.thermo_interval_fs / self.timestep_fs)))


def _thermo_setup(md: MDSettings) -> list[str]:
    cmds = [f"variable th_{name} equal {expr}" for name, _, expr in THERMO_COLUMNS]
    keywords = " ".join(kw for _, kw, _ in THERMO_COLUMNS)
    cmds += [
        f"timestep {md.timestep_fs}",
        f"thermo_style custom {keywords} elong",
        "thermo_modify norm no flush yes",
        f"thermo {md.thermo_every}",
    ]
    return cmds


def _stage(name: str, md: MDSettings, thermo_csv: str, fix: str, steps: int) -> list[str]:
    """One integration stage: a fix, a thermo.csv writer labelled with the stage, a run."""
    fields = ",".join("${th_%s}" % n for n, _, _ in THERMO_COLUMNS)
    return [
        f"fix integrate all {fix}",
        f'fix thermo_csv all print {md.thermo_every} "{name},{fields}" append {thermo_csv} screen no',
        f"run {steps}",
        "unfix thermo_csv",
        "unfix integrate",
    ]


def _npt(t_start: float, t_stop: float, md: MDSettings) -> str:
    return (f"npt temp {t_start} {t_stop} {md.thermostat_damping_fs} "
            f"iso {md.pressure_atm} {md.pressure_atm} {md.barostat_damping_fs}")


def _nvt(t_start: float, t_stop: float, md: MDSettings) -> str:
    return f"nvt temp {t_start} {t_stop} {md.thermostat_damping_fs}"


def _npt_then_mean_volume(name: str, temperature: float, duration_ps: float, md: MDSettings,
                          thermo_csv: str) -> list[str]:
    """NPT at ``temperature``; the box is then scaled isotropically to the mean volume of the
    second half of the run (so the following NVT stages sample the equilibrium density)."""
    steps = md.steps(duration_ps)
    half = max(1, steps // 2)
    # running average of the volume sampled every step from the middle of the run to its end
    cmds = ["variable cell_volume equal vol",
            f"fix mean_volume all ave/time 1 1 1 v_cell_volume ave running start $(step+{steps - half})"]
    cmds += _stage(name, md, thermo_csv, _npt(temperature, temperature, md), steps)
    cmds += [
        "variable volume_scale equal (f_mean_volume/vol)^(1.0/3.0)",
        "change_box all x scale ${volume_scale} y scale ${volume_scale} z scale ${volume_scale} remap",
        "unfix mean_volume",
    ]
    return cmds


def _header(ff: ForceField, data_file: str, workdir: str, md: MDSettings) -> list[str]:
    return setup_commands(ff, data_file, workdir, topology=ff.default_topology_types(),
                          kspace=md.kspace_style, kspace_accuracy=md.kspace_accuracy)


def _labelmap(ff: ForceField) -> list[str]:
    """Type labels so written data files name their types (read back by lammpsio)."""
    topo = ff.default_topology_types()
    return ["labelmap atom " + " ".join(f"{n} {t}" for n, t in enumerate(topo.atom, start=1))]


def quench_commands(ff: ForceField, initial_data: str, workdir: str, out_data: str, thermo_csv: str,
                    md: MDSettings, q: dict) -> list[str]:
    """Minimise; melt (NPT); cool linearly under NPT; equilibrate NPT; rescale to the mean
    volume; equilibrate NVT; write the glass."""
    t_melt, t_final = float(q["melt_T_K"]), float(q["final_T_K"])
    cool_ps = abs(t_melt - t_final) / float(q["cooling_rate_K_per_ps"])
    cmds = _header(ff, initial_data, workdir, md) + _labelmap(ff) + _thermo_setup(md)
    cmds += [
        f"minimize 1.0e-6 1.0e-8 {q['minimise_max_iterations']} {10 * q['minimise_max_iterations']}",
        "reset_timestep 0",
        f"velocity all create {t_melt} {q['seed']} dist gaussian mom yes rot no",
    ]
    cmds += _stage("melt", md, thermo_csv, _npt(t_melt, t_melt, md), md.steps(q["melt_ps"]))
    cmds += _stage("cool", md, thermo_csv, _npt(t_melt, t_final, md), md.steps(cool_ps))
    cmds += _npt_then_mean_volume("npt_equilibrate", t_final, q["npt_equilibration_ps"], md, thermo_csv)
    cmds += _stage("nvt_equilibrate", md, thermo_csv, _nvt(t_final, t_final, md),
                   md.steps(q["nvt_equilibration_ps"]))
    cmds += [f"write_data {out_data} nocoeff"]
    return cmds


def production_commands(ff: ForceField, glass_data: str, workdir: str, out_data: str, thermo_csv: str,
                        trajectory: str, md: MDSettings, p: dict, temperature: float,
                        start_temperature: float, dump_interval_ps: float) -> list[str]:
    """Heat (NPT ramp) from the glass temperature to ``temperature``, equilibrate NPT, rescale to
    the mean volume, equilibrate NVT, then NVT production dumping unwrapped coordinates and image
    flags with element names."""
    seed = int(p["seed"]) + int(round(temperature))
    dump_every = max(1, md.steps(dump_interval_ps))
    elements = " ".join(ff.element(t) for t in ff.default_topology_types().atom)
    cmds = _header(ff, glass_data, workdir, md) + _labelmap(ff) + _thermo_setup(md)
    cmds += [f"velocity all create {start_temperature} {seed} dist gaussian mom yes rot no"]
    if p["heating_ps"] > 0:
        cmds += _stage("heat", md, thermo_csv, _npt(start_temperature, temperature, md), md.steps(p["heating_ps"]))
    if p["equilibration_ps"] > 0:
        cmds += _npt_then_mean_volume("npt_equilibrate", temperature, p["equilibration_ps"], md, thermo_csv)
        cmds += _stage("nvt_equilibrate", md, thermo_csv, _nvt(temperature, temperature, md),
                       md.steps(p["equilibration_ps"]) // 2 or 1)
    cmds += [
        "reset_timestep 0",
        f"dump trajectory all custom {dump_every} {trajectory} id element type mol q xu yu zu ix iy iz",
        f"dump_modify trajectory element {elements} sort id format float %.6f",
    ]
    cmds += _stage("production", md, thermo_csv, _nvt(temperature, temperature, md), md.steps(p["duration_ps"]))
    cmds += ["undump trajectory", f"write_data {out_data} nocoeff"]
    return cmds


class SimulationFailed(RuntimeError):
    """LAMMPS stopped with an error or produced non-finite energies."""


def run_lammps(commands: list[str], log_file: str | Path, threads: int = 1,
               input_copy: str | Path | None = None) -> None:
    """Execute commands in the LAMMPS Python module; the LAMMPS log goes to ``log_file``.

    ``input_copy`` receives the exact input (runnable with ``lmp -in``). Raises
    SimulationFailed with LAMMPS' message on any error or on a non-finite potential energy.
    """
    if input_copy is not None:
        Path(input_copy).write_text("\n".join(commands) + "\n")
    lmp = open_lammps(log_file=log_file, threads=threads)
    try:
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


def run_lammps_mpi(commands: list[str], log_file: str | Path, ranks: int, threads: int = 1,
                   launcher: str = "mpiexec", input_file: str | Path = "in.lammps") -> None:
    """Execute commands with the environment's `lmp` on ``ranks`` MPI ranks (Snakemake's MPI
    pattern: ``launcher`` is ``mpiexec`` here and ``srun`` on a SLURM cluster, from the rule's
    ``mpi`` resource). The input is written to ``input_file`` and run from the current folder;
    a non-zero exit raises SimulationFailed with LAMMPS' ERROR lines from the log."""
    Path(input_file).write_text("\n".join(commands) + "\n")
    exe = mpiexec_executable() if launcher == "mpiexec" else launcher
    cmd = [exe, "-n", str(int(ranks)), lammps_executable(), "-in", str(input_file), "-log", str(log_file),
           "-screen", "none", "-nocite"] + accelerator_args(threads)
    env = dict(os.environ, OMP_NUM_THREADS=str(max(1, int(threads))))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        log_text = Path(log_file).read_text() if Path(log_file).exists() else ""
        errors = [ln for ln in (log_text + proc.stdout + proc.stderr).splitlines() if "ERROR" in ln]
        raise SimulationFailed(f"LAMMPS on {ranks} MPI ranks failed (exit {proc.returncode}): "
                               + ("; ".join(errors) or proc.stderr.strip()[-2000:]))


def check_thermo_finite(path: str | Path) -> None:
    """Fail on a non-finite value in thermo.csv (the MPI path cannot ask LAMMPS directly)."""
    with open(path) as fh:
        for line in fh:
            if any(v.strip().lower() in ("nan", "-nan", "inf", "-inf") for v in line.split(",")):
                raise SimulationFailed(f"non-finite value in {path}: {line.strip()}")


def thermo_csv_init(path: str | Path) -> None:
    Path(path).write_text(THERMO_HEADER + "\n")


def thermo_csv_finish(path: str | Path) -> None:
    """Drop the comment lines ``fix print`` adds at the start of every stage."""
    lines = Path(path).read_text().splitlines()
    Path(path).write_text("\n".join(ln for ln in lines if not ln.startswith("#")) + "\n")


def staging_dir(final_dir: str | Path, name: str) -> Path:
    """Scratch folder next to the outputs; files are moved out of it only on success."""
    path = Path(final_dir) / f".tmp-{name}"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def commit_outputs(moves: dict[str | Path, str | Path], scratch: str | Path | None = None) -> None:
    """Atomically move finished files into place (same file system), then drop the scratch."""
    for src, dst in moves.items():
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)


def _run_job(kind: str, build_commands, outputs: dict[str, str], log: str, threads: int,
             provenance: dict, ranks: int = 1, mpi_launcher: str = "mpiexec") -> None:
    """Shared body of the quench and production jobs.

    LAMMPS runs inside a scratch folder next to the outputs with bare file names, so the
    ``in.lammps`` kept with the outputs (plus the generated ``.sw`` table beside it) reruns as it
    is with ``lmp -in in.lammps`` in that folder. Outputs are moved into place only on success.
    """
    final_dir = Path(outputs["data"]).parent
    log = str(Path(log).resolve())
    outputs = {key: str(Path(path).resolve()) for key, path in outputs.items()}
    scratch = staging_dir(final_dir, kind).resolve()
    names = {key: Path(path).name for key, path in outputs.items()}
    here = os.getcwd()
    os.chdir(scratch)
    try:
        thermo_csv_init(names["thermo"])
        commands = build_commands(".", names)
        if ranks > 1:
            run_lammps_mpi(commands, log, ranks, threads=threads, launcher=mpi_launcher,
                           input_file=names["lammps_input"])
        else:
            run_lammps(commands, log, threads=threads, input_copy=names["lammps_input"])
        thermo_csv_finish(names["thermo"])
        check_thermo_finite(names["thermo"])
        write_provenance(names["provenance"], threads=threads, mpi_ranks=ranks, **provenance)
    finally:
        os.chdir(here)
    moves = {scratch / names[key]: outputs[key] for key in outputs}
    moves.update({sw: final_dir / sw.name for sw in scratch.glob("*.sw")})
    commit_outputs(moves, scratch)


def run_quench_job(initial_data: str, outputs: dict[str, str], forcefield: str, md_config: dict,
                   quench_config: dict, units: dict, log: str, threads: int, glass: str,
                   ranks: int = 1, mpi_launcher: str = "mpiexec") -> None:
    ff = ForceField.load(forcefield)
    md = MDSettings.from_config(md_config)
    initial_data = str(Path(initial_data).resolve())  # before the job changes directory

    def build(scratch, staged):
        return quench_commands(ff, initial_data, scratch, staged["data"],
                               staged["thermo"], md, quench_config)

    _run_job("quench", build, outputs, log, threads,
             dict(glass=glass, composition_units=units, forcefield=forcefield, md=md_config,
                  quench=quench_config, seeds={"velocity": quench_config["seed"]}, input=initial_data),
             ranks=int(ranks), mpi_launcher=mpi_launcher)


def run_production_job(glass_data: str, outputs: dict[str, str], forcefield: str, md_config: dict,
                       production_config: dict, temperature: float, start_temperature: float,
                       dump_interval_ps: float, units: dict, log: str, threads: int, glass: str,
                       ranks: int = 1, mpi_launcher: str = "mpiexec") -> None:
    ff = ForceField.load(forcefield)
    md = MDSettings.from_config(md_config)
    glass_data = str(Path(glass_data).resolve())  # before the job changes directory

    def build(scratch, staged):
        return production_commands(ff, glass_data, scratch, staged["data"],
                                   staged["thermo"], staged["trajectory"], md, production_config,
                                   temperature, start_temperature, dump_interval_ps)

    _run_job("production", build, outputs, log, threads,
             dict(glass=glass, composition_units=units, forcefield=forcefield, md=md_config,
                  production=production_config, temperature_K=temperature,
                  dump_interval_ps=dump_interval_ps,
                  seeds={"velocity": int(production_config["seed"]) + int(round(temperature))},
                  input=glass_data),
             ranks=int(ranks), mpi_launcher=mpi_launcher)
