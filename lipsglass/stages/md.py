"""MD stage: the melt-quench and production jobs of the workflow (scripts quench.py and
production.py), run through the engine (:mod:`lipsglass.engine`).

LAMMPS runs inside a scratch folder next to the outputs with bare file names, so the
``in.lammps`` kept with the outputs (plus the generated ``.sw`` table beside it) reruns as it is
with ``lmp -in in.lammps`` in that folder. Outputs are moved into place only on success. Runs
longer than ``md.segment_ps`` run as restart-chained segments that a killed job resumes.
"""

from __future__ import annotations

import os
from pathlib import Path

from lipsglass.engine.outputs import commit_outputs, staging_dir
from lipsglass.engine.protocols import Protocol, production_protocol, protocol_commands, quench_protocol
from lipsglass.engine.runner import Launch, lammps_runner
from lipsglass.engine.runtime import LammpsRuntime
from lipsglass.engine.segments import needs_segments, run_segments, segment_plan
from lipsglass.engine.settings import MDSettings
from lipsglass.engine.thermo import check_thermo_finite, thermo_csv_finish, thermo_csv_init
from lipsglass.forcefield import ForceField
from lipsglass.provenance import write_provenance


def run_protocol_job(ff: ForceField, protocol: Protocol, md: MDSettings, outputs: dict[str, str], log: str,
                     provenance: dict, launch: Launch) -> None:
    """Shared body of the quench and production jobs (``launch.rule`` names the job: its scratch
    folder and LAMMPS switches): one LAMMPS instance, or the segments of
    :func:`lipsglass.engine.segments.run_segments` when the run is longer than ``md.segment_ps``."""
    kind = launch.rule
    final_dir = Path(outputs["data"]).parent
    log = Path(log).resolve()
    outputs = {key: str(Path(path).resolve()) for key, path in outputs.items()}
    segment_steps = md.segment_steps
    segmented = needs_segments(protocol, segment_steps)
    scratch = staging_dir(final_dir, kind, keep=segmented).resolve()
    names = {key: Path(path).name for key, path in outputs.items()}
    run = lammps_runner(launch)
    provenance = dict(provenance, **launch.describe())
    here = os.getcwd()
    os.chdir(scratch)
    try:
        if segmented:
            plan = segment_plan(protocol, segment_steps)
            run_segments(ff, protocol, plan, md, names, log, run)
            provenance = dict(provenance, segments=[[seg.stage, seg.offset, seg.steps] for seg in plan])
        else:
            thermo_csv_init(names["thermo"])
            commands = protocol_commands(ff, protocol, ".", md, names["thermo"], names.get("trajectory"))
            run(commands, log, names["lammps_input"])
        thermo_csv_finish(names["thermo"])
        check_thermo_finite(names["thermo"])
        write_provenance(names["provenance"], threads=launch.threads, mpi_ranks=launch.ranks, **provenance)
    finally:
        os.chdir(here)
    moves = {scratch / names[key]: outputs[key] for key in outputs}
    moves.update({sw: final_dir / sw.name for sw in scratch.glob("*.sw")})
    commit_outputs(moves, scratch)


def run_quench_job(initial_data: str, outputs: dict[str, str], forcefield: str, md_config: dict,
                   quench_config: dict, units: dict, log: str, threads: int, glass: str,
                   ranks: int = 1, mpi_launcher: str = "mpiexec", lammps: dict | None = None) -> None:
    """Melt-quench job; ``lammps`` is the config section of how LAMMPS runs (LammpsRuntime)."""
    ff = ForceField.load(forcefield)
    md = MDSettings.from_config(md_config)
    initial_data = str(Path(initial_data).resolve())  # before the job changes directory
    protocol = quench_protocol(initial_data, Path(outputs["data"]).name, md, quench_config)
    run_protocol_job(ff, protocol, md, outputs, log,
                     dict(glass=glass, composition_units=units, forcefield=forcefield, md=md_config,
                          quench=quench_config, seeds={"velocity": quench_config["seed"]}, input=initial_data),
                     Launch("quench", threads, int(ranks), mpi_launcher, LammpsRuntime.from_config(lammps)))


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
    run_protocol_job(ff, protocol, md, outputs, log,
                     dict(glass=glass, composition_units=units, forcefield=forcefield, md=md_config,
                          production=production_config, temperature_K=temperature,
                          dump_interval_ps=dump_interval_ps,
                          seeds={"velocity": int(production_config["seed"]) + int(round(temperature))},
                          input=glass_data),
                     Launch("production", threads, int(ranks), mpi_launcher, LammpsRuntime.from_config(lammps)))
