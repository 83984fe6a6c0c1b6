"""Melt-quench and NVT production protocols, and the LAMMPS commands they are made of.

A protocol is a list of integration stages (:class:`Protocol`), built by a pure function and
turned into LAMMPS commands as one input (also written out as ``in.lammps`` for provenance and
for running the very same input with the ``lmp`` binary): :func:`protocol_commands`. Runs longer
than ``md.segment_ps`` are cut into restart-chained segments from the same pieces
(:mod:`lipsglass.engine.segments`).
"""

from __future__ import annotations

from dataclasses import dataclass

from lipsglass.engine.settings import MDSettings
from lipsglass.engine.setup import setup_commands
from lipsglass.engine.thermo import thermo_print, thermo_setup, thermo_style
from lipsglass.forcefield import ForceField


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


# ---- the pieces of a protocol's LAMMPS input -------------------------------------------------

def model_commands(ff: ForceField, data_file: str | None, workdir: str, md: MDSettings,
                   restart_file: str | None = None) -> list[str]:
    """The model of a run (force field, its default topology types, md's kspace), from a data
    file or a restart file."""
    return setup_commands(ff, data_file, workdir, topology=ff.default_topology_types(),
                          kspace=md.kspace_style, kspace_accuracy=md.kspace_accuracy,
                          restart_file=restart_file) + ([f"kspace_modify {md.kspace_modify}"] if md.kspace_modify else [])


def labelmap_commands(ff: ForceField) -> list[str]:
    """Type labels so written data files name their types (read back by lammpsio)."""
    topo = ff.default_topology_types()
    return ["labelmap atom " + " ".join(f"{n} {t}" for n, t in enumerate(topo.atom, start=1))]


def stage_commands(stage: Stage, md: MDSettings, thermo_csv: str, steps: int | None = None,
                   run_options: str = "", stage_ends: bool = True) -> list[str]:
    """One integration stage (or ``steps`` of it): a fix, a thermo.csv writer labelled with the
    stage, a run. The integrator is removed when the stage ends, so the next starts afresh."""
    extra = [f"fix stage_extra all {stage.extra_fix}"] if stage.extra_fix else []
    return [f"fix integrate all {stage.integrator}"] + extra + [
        thermo_print(stage.name, md, thermo_csv),
        f"run {stage.steps if steps is None else steps}{run_options}",
        "unfix thermo_csv",
    ] + (["unfix integrate"] if stage_ends else []) + (["unfix stage_extra"] if stage.extra_fix else [])


def dump_commands(ff: ForceField, trajectory: str, dump_every: int, first_step: int | None = None) -> list[str]:
    """Trajectory dump (element names, unwrapped coordinates, image flags). A continuation
    segment appends and skips its first step, already written by the previous segment."""
    elements = " ".join(ff.element(t) for t in ff.default_topology_types().atom)
    modify = f"dump_modify trajectory element {elements} sort id format float %.6f"
    if first_step is not None:
        modify += f" append yes delay {first_step + 1}"
    return [f"dump trajectory all custom {dump_every} {trajectory} id element type mol q xu yu zu ix iy iz", modify]


def rescale_to_volume(mean_volume: str) -> list[str]:
    """Scale the box (atoms remapped) to the volume ``mean_volume`` (a LAMMPS expression)."""
    return [f"variable volume_scale equal ({mean_volume}/vol)^(1.0/3.0)",
            "change_box all x scale ${volume_scale} y scale ${volume_scale} z scale ${volume_scale} remap"]


def _mean_volume_window(stage: Stage) -> list[str]:
    # running average of the volume sampled every step from the middle of the run to its end
    return ["variable cell_volume equal vol",
            f"fix mean_volume all ave/time 1 1 1 v_cell_volume ave running start $(step+{stage.averaging_start})"]


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
    ] + thermo_style(" v_job_left_s")


def protocol_commands(ff: ForceField, protocol: Protocol, workdir: str, md: MDSettings, thermo_csv: str,
                      trajectory: str | None = None) -> list[str]:
    """The whole protocol as one LAMMPS input (one instance, one ``run`` per stage)."""
    cmds = model_commands(ff, protocol.data_file, workdir, md) + labelmap_commands(ff) + thermo_setup(md)
    cmds += list(protocol.preamble)
    for index, stage in enumerate(protocol.stages):
        if stage.reset_timestep:
            cmds.append("reset_timestep 0")
        cmds += _stage_progress(protocol, index)
        if stage.dump_every:
            cmds += dump_commands(ff, trajectory, stage.dump_every)
        if stage.mean_volume:
            cmds += _mean_volume_window(stage)
        cmds += stage_commands(stage, md, thermo_csv)
        if stage.dump_every:
            cmds.append("undump trajectory")
        if stage.mean_volume:
            cmds += rescale_to_volume("f_mean_volume") + ["unfix mean_volume"]
    return cmds + list(protocol.final)


# ---- the study's two protocols -----------------------------------------------------------------

def _npt(t_start: float, t_stop: float, md: MDSettings) -> str:
    return (f"npt temp {t_start} {t_stop} {md.thermostat_damping_fs} "
            f"iso {md.pressure_atm} {md.pressure_atm} {md.barostat_damping_fs}")


def _nvt(t_start: float, t_stop: float, md: MDSettings) -> str:
    return f"nvt temp {t_start} {t_stop} {md.thermostat_damping_fs}"


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
