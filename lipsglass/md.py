"""Melt-quench and NVT production protocols as LAMMPS command lists, and their execution.

A protocol is a list of integration stages (:class:`Protocol`), built by a pure function and
turned into LAMMPS commands either as one input (also written out as ``in.lammps`` for provenance
and for running the very same input with the ``lmp`` binary) or, for runs longer than
``md.segment_ps``, as restart-chained segments that a killed job resumes. The runner executes
them through the Python module (OpenMP) or ``lmp`` on MPI ranks, checks for non-finite energies,
and moves outputs into place only when everything succeeded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from lipsglass.forcefield import ForceField
from lipsglass.engine.runtime import LammpsRuntime, open_lammps
from lipsglass.provenance import write_provenance
from lipsglass.engine.setup import setup_commands

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
    segment_ps: float | None = None   # runs longer than this are split into restartable segments

    @classmethod
    def from_config(cls, md: dict) -> "MDSettings":
        return cls(**{k: md[k] for k in cls.__dataclass_fields__ if k in md})

    def steps(self, duration_ps: float) -> int:
        """Number of MD steps in ``duration_ps`` (rounded to the nearest step)."""
        return int(round(duration_ps * 1000.0 / self.timestep_fs))

    @property
    def thermo_every(self) -> int:
        return max(1, int(round(self.thermo_interval_fs / self.timestep_fs)))


def _thermo_style(extra: str = "") -> list[str]:
    keywords = " ".join(kw for _, kw, _ in THERMO_COLUMNS)
    # cpuremain (column CPULeft): LAMMPS' estimate of the time left in the current run (s), so that
    # `tail -f logs/...` shows progress (it does not enter thermo.csv)
    return [f"thermo_style custom {keywords} elong cpuremain{extra}", "thermo_modify norm no flush yes"]


def _thermo_setup(md: MDSettings) -> list[str]:
    cmds = [f"variable th_{name} equal {expr}" for name, _, expr in THERMO_COLUMNS]
    return cmds + [f"timestep {md.timestep_fs}"] + _thermo_style() + [f"thermo {md.thermo_every}"]


def _stage_progress(protocol: Protocol, index: int) -> list[str]:
    """Log lines of stage ``index`` of a one-instance run: which stage starts, and a thermo column
    v_job_left_s, the wall time left for the whole job (s) at the stage's pace so far (LAMMPS'
    cpuremain of this run scaled by the steps left in the job over those left in the run)."""
    stage = protocol.stages[index]
    after = sum(s.steps for s in protocol.stages[index + 1:])
    return [
        f'print "#### stage {index + 1}/{len(protocol.stages)}: {stage.name}, {stage.steps} steps; '
        f'{after} steps in the stages after it"',
        f"variable stage_end equal $(step+{stage.steps})",
        f'variable job_left_s equal "cpuremain*(v_stage_end-step+1+{after})/(v_stage_end-step+1)"',
    ] + _thermo_style(" v_job_left_s")


def _stage(name: str, md: MDSettings, thermo_csv: str, fix: str, steps: int, run_options: str = "",
           stage_ends: bool = True, extra_fix: str | None = None) -> list[str]:
    """One integration stage (or a piece of it): a fix, a thermo.csv writer labelled with the
    stage, a run. The integrator is removed when the stage ends, so the next starts afresh."""
    fields = ",".join("${th_%s}" % n for n, _, _ in THERMO_COLUMNS)
    extra = [f"fix stage_extra all {extra_fix}"] if extra_fix else []
    return [f"fix integrate all {fix}"] + extra + [
        f'fix thermo_csv all print {md.thermo_every} "{name},{fields}" append {thermo_csv} screen no',
        f"run {steps}{run_options}",
        "unfix thermo_csv",
    ] + (["unfix integrate"] if stage_ends else []) + (["unfix stage_extra"] if extra_fix else [])


def _npt(t_start: float, t_stop: float, md: MDSettings) -> str:
    return (f"npt temp {t_start} {t_stop} {md.thermostat_damping_fs} "
            f"iso {md.pressure_atm} {md.pressure_atm} {md.barostat_damping_fs}")


def _nvt(t_start: float, t_stop: float, md: MDSettings) -> str:
    return f"nvt temp {t_start} {t_stop} {md.thermostat_damping_fs}"


@dataclass(frozen=True)
class Stage:
    """One integration stage of a protocol (one ``run`` when the protocol is not segmented)."""

    name: str                        # label of its rows in thermo.csv
    integrator: str                  # fix arguments after ``all``, e.g. an NPT ramp
    steps: int
    reset_timestep: bool = False     # the step counter restarts at 0 with this stage
    mean_volume: bool = False        # afterwards the box is scaled to the mean volume of the second half
    dump_every: int | None = None    # trajectory written every this many steps
    extra_fix: str | None = None     # a second fix of the stage (e.g. a box deformation), removed with it;
                                     # such a stage is never cut into segments (its fix acts relative to
                                     # the box at its start)

    @property
    def averaging_start(self) -> int:
        """Offset of the first step of the mean-volume window (the window ends with the stage)."""
        return self.steps - max(1, self.steps // 2)


@dataclass(frozen=True)
class Protocol:
    """A complete MD job: start from ``data_file``, ``preamble`` (minimisation, velocities; it
    leaves the step counter at 0), the stages, then ``final`` (write the result)."""

    data_file: str
    preamble: tuple[str, ...]
    stages: tuple[Stage, ...]
    final: tuple[str, ...]

    @property
    def total_steps(self) -> int:
        return sum(stage.steps for stage in self.stages)


def _mean_volume_window(stage: Stage) -> list[str]:
    # running average of the volume sampled every step from the middle of the run to its end
    return ["variable cell_volume equal vol",
            f"fix mean_volume all ave/time 1 1 1 v_cell_volume ave running start $(step+{stage.averaging_start})"]


def _rescale_to_volume(mean_volume: str) -> list[str]:
    return [f"variable volume_scale equal ({mean_volume}/vol)^(1.0/3.0)",
            "change_box all x scale ${volume_scale} y scale ${volume_scale} z scale ${volume_scale} remap"]


def _header(ff: ForceField, data_file: str | None, workdir: str, md: MDSettings,
            restart_file: str | None = None) -> list[str]:
    return setup_commands(ff, data_file, workdir, topology=ff.default_topology_types(),
                          kspace=md.kspace_style, kspace_accuracy=md.kspace_accuracy,
                          restart_file=restart_file)


def _labelmap(ff: ForceField) -> list[str]:
    """Type labels so written data files name their types (read back by lammpsio)."""
    topo = ff.default_topology_types()
    return ["labelmap atom " + " ".join(f"{n} {t}" for n, t in enumerate(topo.atom, start=1))]


def protocol_commands(ff: ForceField, protocol: Protocol, workdir: str, md: MDSettings, thermo_csv: str,
                      trajectory: str | None = None) -> list[str]:
    """The whole protocol as one LAMMPS input (one instance, one ``run`` per stage)."""
    cmds = _header(ff, protocol.data_file, workdir, md) + _labelmap(ff) + _thermo_setup(md)
    cmds += list(protocol.preamble)
    for index, stage in enumerate(protocol.stages):
        if stage.reset_timestep:
            cmds.append("reset_timestep 0")
        cmds += _stage_progress(protocol, index)
        if stage.dump_every:
            cmds += _dump_commands(ff, trajectory, stage.dump_every)
        if stage.mean_volume:
            cmds += _mean_volume_window(stage)
        cmds += _stage(stage.name, md, thermo_csv, stage.integrator, stage.steps, extra_fix=stage.extra_fix)
        if stage.dump_every:
            cmds.append("undump trajectory")
        if stage.mean_volume:
            cmds += _rescale_to_volume("f_mean_volume") + ["unfix mean_volume"]
    return cmds + list(protocol.final)


def _compress_to_density(density_g_cm3: float) -> str:
    """Affine box deformation (atoms remapped) to the cube volume holding the system's mass at
    ``density_g_cm3``; mass(all) is in g/mol (units real), 0.602214076 = N_A x 1e-24 cm^3/A^3."""
    scale = f"(mass(all)/({float(density_g_cm3)!r}*0.602214076)/vol)^(1.0/3.0)"
    return f"deform 1 x scale $({scale}) y scale $({scale}) z scale $({scale}) remap x"


def quench_protocol(initial_data: str, out_data: str, md: MDSettings, q: dict) -> Protocol:
    """Minimise; compress the loose packing to a liquid density at the melt temperature (NVT,
    affine deformation), so the melt starts as a liquid at about its own density; melt (NPT);
    cool linearly under NPT; equilibrate NPT; rescale to the mean volume; equilibrate NVT;
    write the glass."""
    t_melt, t_final = float(q["melt_T_K"]), float(q["final_T_K"])
    cool_ps = abs(t_melt - t_final) / float(q["cooling_rate_K_per_ps"])
    preamble = (
        f"minimize 1.0e-6 1.0e-8 {q['minimise_max_iterations']} {10 * q['minimise_max_iterations']}",
        "reset_timestep 0",
        f"velocity all create {t_melt} {q['seed']} dist gaussian mom yes rot no",
    )
    stages = []
    if q.get("compress_ps", 0) > 0:
        stages.append(Stage("compress", _nvt(t_melt, t_melt, md), md.steps(q["compress_ps"]),
                            extra_fix=_compress_to_density(q["melt_start_density_g_cm3"])))
    stages += [
        Stage("melt", _npt(t_melt, t_melt, md), md.steps(q["melt_ps"])),
        Stage("cool", _npt(t_melt, t_final, md), md.steps(cool_ps)),
        Stage("npt_equilibrate", _npt(t_final, t_final, md), md.steps(q["npt_equilibration_ps"]), mean_volume=True),
        Stage("nvt_equilibrate", _nvt(t_final, t_final, md), md.steps(q["nvt_equilibration_ps"])),
    ]
    return Protocol(initial_data, preamble, tuple(stages), (f"write_data {out_data} nocoeff",))


def production_protocol(glass_data: str, out_data: str, md: MDSettings, p: dict, temperature: float,
                        start_temperature: float, dump_interval_ps: float) -> Protocol:
    """Heat (NPT ramp) from the glass temperature to ``temperature``, equilibrate NPT, rescale to
    the mean volume, equilibrate NVT, then NVT production dumping unwrapped coordinates and image
    flags with element names."""
    seed = int(p["seed"]) + int(round(temperature))
    stages = []
    if p["heating_ps"] > 0:
        stages.append(Stage("heat", _npt(start_temperature, temperature, md), md.steps(p["heating_ps"])))
    if p["equilibration_ps"] > 0:
        stages.append(Stage("npt_equilibrate", _npt(temperature, temperature, md), md.steps(p["equilibration_ps"]),
                            mean_volume=True))
        stages.append(Stage("nvt_equilibrate", _nvt(temperature, temperature, md),
                            md.steps(p["equilibration_ps"]) // 2 or 1))
    stages.append(Stage("production", _nvt(temperature, temperature, md), md.steps(p["duration_ps"]),
                        reset_timestep=True, dump_every=max(1, md.steps(dump_interval_ps))))
    preamble = (f"velocity all create {start_temperature} {seed} dist gaussian mom yes rot no",)
    return Protocol(glass_data, preamble, tuple(stages), (f"write_data {out_data} nocoeff",))


def quench_commands(ff: ForceField, initial_data: str, workdir: str, out_data: str, thermo_csv: str,
                    md: MDSettings, q: dict) -> list[str]:
    return protocol_commands(ff, quench_protocol(initial_data, out_data, md, q), workdir, md, thermo_csv)


def production_commands(ff: ForceField, glass_data: str, workdir: str, out_data: str, thermo_csv: str,
                        trajectory: str, md: MDSettings, p: dict, temperature: float,
                        start_temperature: float, dump_interval_ps: float) -> list[str]:
    protocol = production_protocol(glass_data, out_data, md, p, temperature, start_temperature, dump_interval_ps)
    return protocol_commands(ff, protocol, workdir, md, thermo_csv, trajectory)


def _dump_commands(ff: ForceField, trajectory: str, dump_every: int, first_step: int | None = None) -> list[str]:
    """Trajectory dump (element names, unwrapped coordinates, image flags). A continuation
    segment appends and skips its first step, already written by the previous segment."""
    elements = " ".join(ff.element(t) for t in ff.default_topology_types().atom)
    modify = f"dump_modify trajectory element {elements} sort id format float %.6f"
    if first_step is not None:
        modify += f" append yes delay {first_step + 1}"
    return [f"dump trajectory all custom {dump_every} {trajectory} id element type mol q xu yu zu ix iy iz", modify]


# ---------------------------------------------------------------------------------------------
# Segmented runs: every stage longer than the segment length is cut into segments, each run in a
# fresh LAMMPS instance chained through restart files, so a job killed at a wall-time limit
# resumes from its last finished segment. Every run of a given plan executes the same segments,
# so a resumed run reproduces an uninterrupted one bit for bit.

@dataclass(frozen=True)
class Segment:
    index: int          # position in the plan
    stage: int          # index of its stage in the protocol
    offset: int         # steps of the stage done before this segment
    steps: int
    stage_first_step: int   # LAMMPS step at which the stage starts (``run ... start``)

    @property
    def first_step(self) -> int:
        return self.stage_first_step + self.offset


def segment_plan(protocol: Protocol, segment_steps: int | None) -> list[Segment]:
    """Cut each stage into pieces of at most ``segment_steps`` (one piece per stage when None)."""
    plan, step = [], 0
    for k, stage in enumerate(protocol.stages):
        if stage.reset_timestep:
            step = 0
        length = stage.steps if stage.extra_fix else (segment_steps or stage.steps)
        for offset in range(0, stage.steps, length):
            plan.append(Segment(len(plan), k, offset, min(length, stage.steps - offset), step))
        step += stage.steps
    return plan


def needs_segments(protocol: Protocol, segment_steps: int | None) -> bool:
    """A run is segmented when a segment length is configured and the run is longer."""
    return bool(segment_steps) and protocol.total_steps > segment_steps


def volume_file(segment: Segment) -> str:
    return f"volume_{segment.index}.txt"


def segment_commands(ff: ForceField, protocol: Protocol, plan: list[Segment], index: int, md: MDSettings,
                     thermo_csv: str, trajectory: str | None, mean_volume_before: float | None) -> list[str]:
    """LAMMPS input of segment ``index``: read the previous restart (the data file for the first),
    continue its stage with ``run N start S stop E`` (so temperature ramps continue), append to
    thermo.csv and the trajectory, write the next restart (the final data for the last).

    The integrator keeps its fix ID within a stage, so its thermostat/barostat state comes back
    from the restart; it is removed before the restart that ends a stage, so the next stage
    starts afresh, exactly as in one run. The mean-volume window of an NPT stage is written
    per step to ``volume_<index>.txt``; ``mean_volume_before`` (the mean over the window of the
    previous stage, from those files) rescales the box at the start of the following stage.
    """
    seg = plan[index]
    stage = protocol.stages[seg.stage]
    restart_in = None if index == 0 else f"segment_{index - 1}.restart"
    cmds = _header(ff, protocol.data_file if restart_in is None else None, ".", md, restart_file=restart_in)
    cmds += _labelmap(ff) + _thermo_setup(md)
    if index == 0:
        cmds += list(protocol.preamble)
    if seg.offset == 0:
        if mean_volume_before is not None:
            cmds += _rescale_to_volume(repr(float(mean_volume_before)))
        if stage.reset_timestep:
            cmds.append("reset_timestep 0")
    if stage.dump_every:
        cmds += _dump_commands(ff, trajectory, stage.dump_every, first_step=seg.first_step if seg.offset else None)
    window_start = seg.stage_first_step + stage.averaging_start
    sampling = stage.mean_volume and seg.first_step + seg.steps >= window_start
    if sampling:
        cmds += ["variable cell_volume equal vol",
                 f"fix volume_samples all ave/time 1 1 1 v_cell_volume start {max(window_start, seg.first_step)} "
                 f"file {volume_file(seg)} format \" %.17g\""]
    # within a stage the integrator's fix ID and style are kept, so its state comes back from the restart
    cmds += _stage(stage.name, md, thermo_csv, stage.integrator, seg.steps,
                   run_options=f" start {seg.stage_first_step} stop {seg.stage_first_step + stage.steps}",
                   stage_ends=seg.offset + seg.steps == stage.steps, extra_fix=stage.extra_fix)
    if stage.dump_every:
        cmds.append("undump trajectory")
    if sampling:
        cmds.append("unfix volume_samples")
    if index == len(plan) - 1:
        return cmds + list(protocol.final)
    return cmds + [f"write_restart segment_{index}.restart"]


def window_mean_volume(stage: Stage, segments: list[Segment], folder: str | Path = ".") -> float:
    """Mean volume over the last half of ``stage`` from the per-step files of its segments
    (a step at a segment boundary appears in both segments and is counted once)."""
    first = segments[0].stage_first_step
    window = range(first + stage.averaging_start, first + stage.steps + 1)
    volumes = {}
    for seg in segments:
        path = Path(folder) / volume_file(seg)
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                step, value = line.split()
                volumes.setdefault(int(step), float(value))
    missing = [s for s in window if s not in volumes]
    if missing:
        raise SimulationFailed(f"stage {stage.name}: volume samples missing at {len(missing)} steps "
                               f"(first {missing[0]}); cannot rescale to the mean volume")
    return math.fsum(volumes[s] for s in window) / len(window)


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


def _lammps_runner(runtime: LammpsRuntime, rule: str, threads: int, ranks: int, mpi_launcher: str):
    """Run a command list in this process's LAMMPS module, or with the LAMMPS program the runtime
    names (the environment's ``lmp`` on more than one MPI rank)."""
    command = runtime.command(rule, ranks, threads, mpi=mpi_launcher)
    switches = runtime.switch_args(rule, threads, ranks)

    def run(commands: list[str], log_file: str | Path, input_file: str, append_log: bool = False) -> None:
        if command is None:
            run_lammps(commands, log_file, threads=threads, input_copy=input_file, switches=switches,
                       append_log=append_log)
        else:
            run_lammps_program(commands, log_file, command, threads=threads, input_file=input_file,
                               append_log=append_log)
    return run


def run_protocol_job(kind: str, ff: ForceField, protocol: Protocol, md: MDSettings, outputs: dict[str, str],
                     log: str, threads: int, provenance: dict, ranks: int = 1,
                     mpi_launcher: str = "mpiexec", runtime: LammpsRuntime | None = None) -> None:
    """Shared body of the quench and production jobs.

    LAMMPS runs inside a scratch folder next to the outputs with bare file names, so the
    ``in.lammps`` kept with the outputs (plus the generated ``.sw`` table beside it) reruns as it
    is with ``lmp -in in.lammps`` in that folder. Outputs are moved into place only on success.
    Runs longer than ``md.segment_ps`` go through :func:`_run_segments` instead of one instance.
    """
    final_dir = Path(outputs["data"]).parent
    log = Path(log).resolve()
    outputs = {key: str(Path(path).resolve()) for key, path in outputs.items()}
    segment_steps = md.steps(md.segment_ps) if md.segment_ps else None
    segmented = needs_segments(protocol, segment_steps)
    scratch = staging_dir(final_dir, kind, keep=segmented).resolve()
    names = {key: Path(path).name for key, path in outputs.items()}
    runtime = runtime or LammpsRuntime()
    run = _lammps_runner(runtime, kind, threads, int(ranks), mpi_launcher)
    provenance = dict(provenance, **runtime.describe(kind, int(ranks), threads, mpi_launcher))
    here = os.getcwd()
    os.chdir(scratch)
    try:
        if segmented:
            plan = segment_plan(protocol, segment_steps)
            _run_segments(ff, protocol, plan, md, names, log, run)
            provenance = dict(provenance, segments=[[seg.stage, seg.offset, seg.steps] for seg in plan])
        else:
            thermo_csv_init(names["thermo"])
            commands = protocol_commands(ff, protocol, ".", md, names["thermo"], names.get("trajectory"))
            run(commands, log, names["lammps_input"])
        thermo_csv_finish(names["thermo"])
        check_thermo_finite(names["thermo"])
        write_provenance(names["provenance"], threads=threads, mpi_ranks=int(ranks), **provenance)
    finally:
        os.chdir(here)
    moves = {scratch / names[key]: outputs[key] for key in outputs}
    moves.update({sw: final_dir / sw.name for sw in scratch.glob("*.sw")})
    commit_outputs(moves, scratch)


def _truncate(path: str | Path, size: int) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(size)


def _file_size(path: str | None) -> int:
    return Path(path).stat().st_size if path and Path(path).exists() else 0


def _run_segments(ff: ForceField, protocol: Protocol, plan: list[Segment], md: MDSettings, names: dict,
                  log: Path, run) -> None:
    """Run (or resume) the segments of ``plan`` in the current (scratch) folder.

    After every segment the progress file records the sizes of thermo.csv and the trajectory;
    a rerun after a kill cuts both back to the last finished segment and continues from its
    restart file. The rule log gets one progress line per segment and the LAMMPS log of each."""
    progress_file = Path("segments.json")
    # what the finished segments were computed from: resuming is only valid for the same run
    fingerprint = hashlib.sha256(json.dumps([dataclasses.asdict(protocol), dataclasses.asdict(md),
                                             [dataclasses.asdict(seg) for seg in plan]]).encode()).hexdigest()
    progress = json.loads(progress_file.read_text()) if progress_file.exists() else {}
    discarded = progress.get("fingerprint") not in (None, fingerprint)
    if discarded:
        for stale in Path(".").iterdir():
            stale.unlink()
    if discarded or "done" not in progress:
        progress = {"fingerprint": fingerprint, "done": []}
    trajectory = names.get("trajectory")
    done = progress["done"]
    if done:   # a killed segment may have written part of its output: cut back to the last finished one
        _truncate(names["thermo"], done[-1]["thermo_bytes"])
        if trajectory and Path(trajectory).exists():
            _truncate(trajectory, done[-1]["trajectory_bytes"])
    else:
        thermo_csv_init(names["thermo"])
        if trajectory:
            Path(trajectory).unlink(missing_ok=True)
    # The rule log is only ever appended to: every segment's LAMMPS log goes there live (thermo
    # lines with CPULeft, the time left in that segment) followed by a progress line with the
    # time left for the whole run. A copy after each finished segment (log.finished) restores the
    # earlier segments' logs if the rule log was removed before a resume.
    kept_log = Path("log.finished")
    if done and not (log.exists() and kept_log.exists() and log.stat().st_size >= kept_log.stat().st_size):
        shutil.copyfile(kept_log, log) if kept_log.exists() else log.write_text("")
    with open(log, "a" if done else "w") as out:
        if done:
            out.write(f"\n#### resumed after {len(done)} finished segments of {len(plan)}\n")
        else:
            out.write(f"segmented run: {len(plan)} segments of at most {max(s.steps for s in plan)} steps "
                      f"({protocol.total_steps} steps in {len(protocol.stages)} stages)\n")
        if discarded:
            out.write("an unfinished run of different settings was found and discarded\n")
    steps_done_now, wall_now = 0, 0.0
    for seg in plan[len(done):]:
        stage = protocol.stages[seg.stage]
        previous = protocol.stages[seg.stage - 1] if seg.stage > 0 else None
        mean_volume = None
        if seg.offset == 0 and previous is not None and previous.mean_volume:
            mean_volume = window_mean_volume(previous, [s for s in plan if s.stage == seg.stage - 1])
        commands = segment_commands(ff, protocol, plan, seg.index, md, names["thermo"], trajectory, mean_volume)
        with open(log, "a") as out:
            out.write(f"\n#### segment {seg.index + 1}/{len(plan)}: {stage.name}, steps "
                      f"{seg.first_step}-{seg.first_step + seg.steps} started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        started = time.time()
        run(commands, log, f"in.segment_{seg.index}", append_log=True)
        elapsed = time.time() - started
        steps_done_now += seg.steps
        wall_now += elapsed
        done.append({"segment": seg.index, "thermo_bytes": _file_size(names["thermo"]),
                     "trajectory_bytes": _file_size(trajectory)})
        _write_progress(progress_file, progress)
        left_steps = sum(s.steps for s in plan[seg.index + 1:])
        with open(log, "a") as out:
            out.write(f"#### segment {seg.index + 1}/{len(plan)} done in {elapsed:.0f} s wall; "
                      f"{len(plan) - seg.index - 1} segments ({left_steps} steps) left, "
                      f"about {remaining_seconds(left_steps, steps_done_now, wall_now):.0f} s at this pace\n")
        shutil.copyfile(log, kept_log)
    Path(names["lammps_input"]).write_text("".join(
        f"# ---- segment {seg.index + 1}/{len(plan)} ({protocol.stages[seg.stage].name}): "
        f"a fresh LAMMPS instance, run as lmp -in in.segment_{seg.index} ----\n"
        + Path(f"in.segment_{seg.index}").read_text() for seg in plan))


def remaining_seconds(steps_left: int, steps_done: int, wall_s: float) -> float:
    """Wall time left at the pace of this job so far (steps_done in wall_s seconds)."""
    if steps_done <= 0:
        return float("nan")
    return steps_left * wall_s / steps_done


def _write_progress(path: Path, progress: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(progress, indent=1))
    os.replace(tmp, path)


def run_quench_job(initial_data: str, outputs: dict[str, str], forcefield: str, md_config: dict,
                   quench_config: dict, units: dict, log: str, threads: int, glass: str,
                   ranks: int = 1, mpi_launcher: str = "mpiexec", lammps: dict | None = None) -> None:
    """Melt-quench job; ``lammps`` is the config section of how LAMMPS runs (LammpsRuntime)."""
    ff = ForceField.load(forcefield)
    md = MDSettings.from_config(md_config)
    initial_data = str(Path(initial_data).resolve())  # before the job changes directory
    protocol = quench_protocol(initial_data, Path(outputs["data"]).name, md, quench_config)
    run_protocol_job("quench", ff, protocol, md, outputs, log, threads,
                     dict(glass=glass, composition_units=units, forcefield=forcefield, md=md_config,
                          quench=quench_config, seeds={"velocity": quench_config["seed"]}, input=initial_data),
                     ranks=int(ranks), mpi_launcher=mpi_launcher, runtime=LammpsRuntime.from_config(lammps))


def run_production_job(glass_data: str, outputs: dict[str, str], forcefield: str, md_config: dict,
                       production_config: dict, temperature: float, start_temperature: float,
                       dump_interval_ps: float, units: dict, log: str, threads: int, glass: str,
                       ranks: int = 1, mpi_launcher: str = "mpiexec", lammps: dict | None = None) -> None:
    """Heating, equilibration and NVT production at ``temperature``; ``lammps`` as run_quench_job."""
    ff = ForceField.load(forcefield)
    md = MDSettings.from_config(md_config)
    glass_data = str(Path(glass_data).resolve())  # before the job changes directory
    protocol = production_protocol(glass_data, Path(outputs["data"]).name, md, production_config, temperature,
                                   start_temperature, dump_interval_ps)
    run_protocol_job("production", ff, protocol, md, outputs, log, threads,
                     dict(glass=glass, composition_units=units, forcefield=forcefield, md=md_config,
                          production=production_config, temperature_K=temperature,
                          dump_interval_ps=dump_interval_ps,
                          seeds={"velocity": int(production_config["seed"]) + int(round(temperature))},
                          input=glass_data),
                     ranks=int(ranks), mpi_launcher=mpi_launcher, runtime=LammpsRuntime.from_config(lammps))
