"""Melt-quench and NVT production protocols as LAMMPS command lists, and their execution.

Each protocol is a pure function returning the list of LAMMPS commands (also written out as an
``in.lammps`` for provenance and for running the very same input with the ``lmp`` binary); the
runner executes it through the Python module, checks every stage for non-finite energies, and
moves outputs into place only when everything succeeded.
"""

from __future__ import annotations

import json
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
                        start_temperature: float, dump_interval_ps: float,
                        restart_out: str | None = None) -> list[str]:
    """Heat (NPT ramp) from the glass temperature to ``temperature``, equilibrate NPT, rescale to
    the mean volume, equilibrate NVT, then NVT production dumping unwrapped coordinates and image
    flags with element names."""
    seed = int(p["seed"]) + int(round(temperature))
    dump_every = max(1, md.steps(dump_interval_ps))
    cmds = _header(ff, glass_data, workdir, md) + _labelmap(ff) + _thermo_setup(md)
    cmds += [f"velocity all create {start_temperature} {seed} dist gaussian mom yes rot no"]
    if p["heating_ps"] > 0:
        cmds += _stage("heat", md, thermo_csv, _npt(start_temperature, temperature, md), md.steps(p["heating_ps"]))
    if p["equilibration_ps"] > 0:
        cmds += _npt_then_mean_volume("npt_equilibrate", temperature, p["equilibration_ps"], md, thermo_csv)
        cmds += _stage("nvt_equilibrate", md, thermo_csv, _nvt(temperature, temperature, md),
                       md.steps(p["equilibration_ps"]) // 2 or 1)
    cmds += ["reset_timestep 0"]
    if restart_out is not None:
        # segmented run: stop here; the production segments start from this restart file
        return cmds + [f"write_restart {restart_out}"]
    cmds += _dump_commands(ff, trajectory, dump_every)
    cmds += _stage("production", md, thermo_csv, _nvt(temperature, temperature, md), md.steps(p["duration_ps"]))
    cmds += ["undump trajectory", f"write_data {out_data} nocoeff"]
    return cmds


def _dump_commands(ff: ForceField, trajectory: str, dump_every: int, first_step: int | None = None) -> list[str]:
    """Trajectory dump (element names, unwrapped coordinates, image flags). A continuation
    segment appends and skips its first step, already written by the previous segment."""
    elements = " ".join(ff.element(t) for t in ff.default_topology_types().atom)
    modify = f"dump_modify trajectory element {elements} sort id format float %.6f"
    if first_step is not None:
        modify += f" append yes delay {first_step + 1}"
    return [f"dump trajectory all custom {dump_every} {trajectory} id element type mol q xu yu zu ix iy iz", modify]


def production_segments(md: MDSettings, p: dict) -> list[int]:
    """Steps of each production segment: ``segment_ps`` long, the last one the remainder; one
    segment when ``segment_ps`` is not set."""
    total = md.steps(p["duration_ps"])
    segment = md.steps(p["segment_ps"]) if p.get("segment_ps") else total
    return [min(segment, total - start) for start in range(0, total, segment)]


def production_segment_commands(ff: ForceField, restart_in: str, restart_out: str, workdir: str,
                                 thermo_csv: str, trajectory: str, md: MDSettings, temperature: float,
                                 dump_interval_ps: float, start_step: int, steps: int,
                                 out_data: str | None) -> list[str]:
    """One production segment in a fresh LAMMPS instance: read the previous restart, apply the
    force field again, continue the NVT run (the thermostat state comes back with the fix ID),
    append to the trajectory and thermo.csv, write the next restart. Every run, interrupted or
    not, executes the same segments, so a resumed run reproduces an uninterrupted one."""
    cmds = setup_commands(ff, None, workdir, topology=ff.default_topology_types(), kspace=md.kspace_style,
                          kspace_accuracy=md.kspace_accuracy, restart_file=restart_in)
    cmds += _labelmap(ff) + _thermo_setup(md)
    cmds += _dump_commands(ff, trajectory, max(1, md.steps(dump_interval_ps)),
                           first_step=start_step if start_step > 0 else None)
    fields = ",".join("${th_%s}" % n for n, _, _ in THERMO_COLUMNS)
    cmds += [
        f"fix integrate all {_nvt(temperature, temperature, md)}",
        f'fix thermo_csv all print {md.thermo_every} "production,{fields}" append {thermo_csv} screen no',
        f"run {steps}",
        "undump trajectory",
        "unfix thermo_csv",
        f"write_restart {restart_out}",   # with fix integrate defined: its state is saved
    ]
    if out_data is not None:
        cmds.append(f"write_data {out_data} nocoeff")
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
    lines = [ln for ln in Path(path).read_text().splitlines() if not ln.startswith("#")]
    # a continued segment prints the step its predecessor ended on again: keep the first
    seen, kept = set(), []
    for ln in lines:
        key = tuple(ln.split(",")[:2])
        if key not in seen:
            seen.add(key)
            kept.append(ln)
    Path(path).write_text("\n".join(kept) + "\n")


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


def _truncate(path: str | Path, size: int) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(size)


def _run_segmented_production(ff: ForceField, glass_data: str, outputs: dict[str, str], md: MDSettings,
                              p: dict, temperature: float, start_temperature: float, dump_interval_ps: float,
                              log: str, threads: int, provenance: dict) -> None:
    """Production split into ``segment_ps`` segments chained through restart files, each in a
    fresh LAMMPS instance. Progress (restart file, trajectory and thermo.csv sizes) is recorded
    after every segment in the kept scratch folder, so a job killed at a wall-time limit resumes
    from its last finished segment; files are moved into place only when all are done."""
    final_dir = Path(outputs["data"]).parent
    log = Path(log).resolve()
    outputs = {key: str(Path(path).resolve()) for key, path in outputs.items()}
    scratch = staging_dir(final_dir, "production", keep=True).resolve()
    names = {key: Path(path).name for key, path in outputs.items()}
    plan = production_segments(md, p)
    here = os.getcwd()
    os.chdir(scratch)
    try:
        progress_file = Path("segments.json")
        progress = json.loads(progress_file.read_text()) if progress_file.exists() else {"done": []}
        if progress.get("plan") not in (None, plan):
            raise SimulationFailed(f"{scratch}: unfinished run with another segment plan {progress['plan']}; "
                                   f"remove the folder to start again")
        progress["plan"] = plan
        inputs = []
        if "equilibrated" not in progress:
            thermo_csv_init(names["thermo"])
            Path(names["trajectory"]).unlink(missing_ok=True)
            cmds = production_commands(ff, glass_data, ".", names["data"], names["thermo"], names["trajectory"], md,
                                       p, temperature, start_temperature, dump_interval_ps,
                                       restart_out="equilibrated.restart")
            run_lammps(cmds, "log.equilibration", threads=threads, input_copy="in.equilibration")
            progress["equilibrated"] = {"thermo_bytes": Path(names["thermo"]).stat().st_size}
            _write_progress(progress_file, progress)
        with open(log, "w") as out:
            out.write(f"segmented production: {len(plan)} segments of {plan[0]} steps; resumed after "
                      f"{len(progress['done'])} finished segments\n" if progress["done"] else "")
        # a killed segment may have written part of its output: cut back to the last finished one
        last = progress["done"][-1] if progress["done"] else {"trajectory_bytes": 0, **progress["equilibrated"]}
        _truncate(names["thermo"], last["thermo_bytes"])
        if Path(names["trajectory"]).exists():
            _truncate(names["trajectory"], last["trajectory_bytes"])
        for k, steps in enumerate(plan):
            if k < len(progress["done"]):
                continue
            restart_in = "equilibrated.restart" if k == 0 else f"segment_{k - 1}.restart"
            cmds = production_segment_commands(
                ff, restart_in, f"segment_{k}.restart", ".", names["thermo"], names["trajectory"], md, temperature,
                dump_interval_ps, start_step=sum(plan[:k]), steps=steps,
                out_data=names["data"] if k == len(plan) - 1 else None)
            run_lammps(cmds, f"log.segment_{k}", threads=threads, input_copy=f"in.segment_{k}")
            progress["done"].append({"segment": k, "restart": f"segment_{k}.restart",
                                     "trajectory_bytes": Path(names["trajectory"]).stat().st_size,
                                     "thermo_bytes": Path(names["thermo"]).stat().st_size})
            _write_progress(progress_file, progress)
        parts = ["in.equilibration"] + [f"in.segment_{k}" for k in range(len(plan))]
        Path(names["lammps_input"]).write_text("".join(
            f"# ---- {part}: run in a fresh LAMMPS instance ----\n" + Path(part).read_text() for part in parts))
        with open(log, "a") as out:
            for part in ["log.equilibration"] + [f"log.segment_{k}" for k in range(len(plan))]:
                if Path(part).exists():
                    out.write(f"\n#### {part}\n" + Path(part).read_text())
        thermo_csv_finish(names["thermo"])
        check_thermo_finite(names["thermo"])
        write_provenance(names["provenance"], threads=threads, mpi_ranks=1, segments=plan, **provenance)
    finally:
        os.chdir(here)
    moves = {scratch / names[key]: outputs[key] for key in outputs}
    moves.update({sw: final_dir / sw.name for sw in scratch.glob("*.sw")})
    commit_outputs(moves, scratch)


def _write_progress(path: Path, progress: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(progress, indent=1))
    os.replace(tmp, path)


def run_production_job(glass_data: str, outputs: dict[str, str], forcefield: str, md_config: dict,
                       production_config: dict, temperature: float, start_temperature: float,
                       dump_interval_ps: float, units: dict, log: str, threads: int, glass: str,
                       ranks: int = 1, mpi_launcher: str = "mpiexec") -> None:
    ff = ForceField.load(forcefield)
    md = MDSettings.from_config(md_config)
    glass_data = str(Path(glass_data).resolve())  # before the job changes directory

    if production_config.get("segment_ps"):
        if int(ranks) > 1:
            raise ValueError("segmented production runs use OpenMP threads, not MPI ranks (set tasks: 1)")
        _run_segmented_production(
            ff, glass_data, outputs, md, production_config, temperature, start_temperature, dump_interval_ps, log,
            threads, dict(glass=glass, composition_units=units, forcefield=forcefield, md=md_config,
                          production=production_config, temperature_K=temperature, dump_interval_ps=dump_interval_ps,
                          seeds={"velocity": int(production_config["seed"]) + int(round(temperature))},
                          input=glass_data))
        return

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
