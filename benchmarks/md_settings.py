"""MD settings of the paper and demo configs against cheaper candidates: throughput, LAMMPS' timing
breakdown and physics equivalence, in one run on this machine (issue 28, items 1-2).

    python benchmarks/md_settings.py throughput  [--out DIR] [--repeats 3]
    python benchmarks/md_settings.py forces      [--out DIR]
    python benchmarks/md_settings.py drift       [--out DIR] [--nve-ps 10]
    python benchmarks/md_settings.py transport   [--out DIR] --candidates NAME
    python benchmarks/md_settings.py report      [--out DIR]

Systems: ``paper``, the 8069-atom 70Li2S-30P2S5 glass of Ariga et al. (shared/reference/ariga2022,
converted to the workflow's type order) with config/paper.yaml's ``md`` section; ``demo``, a
quenched ~800-atom glass of the default study (``--study``, default ../study/results) with
config/config.yaml's ``md`` section. The input of every run is the workflow's own
(``lipsglass.engine.protocols.protocol_commands``: header, thermo.csv writer, NVT stage at 500 K); a candidate
changes MDSettings fields (what the workflow would emit) and, where the workflow has no key for
it, edits lines of that input (``Candidate.edits``).

* ``throughput``: every candidate of every system in one interleaved loop (``--repeats`` rounds,
  all candidates per round), best of N per candidate: steps/s, simulated fs per wall second,
  atom-steps/s per core (atoms x steps/s / cores used), the ratio of simulated time per wall
  second to the current input, and LAMMPS' "MPI task timing breakdown" (Pair, Bond, Kspace,
  Neigh, Comm, Output, Modify, Other) of the best run.
* ``forces``: RMS force error of every distinct Coulomb setting against ``kspace_style ewald 1e-8``
  (``pair_modify table 0``) on the paper glass and two demo glasses, relative to the force between
  two unit charges 1 A apart (LAMMPS' definition of ``kspace_accuracy``).
* ``drift``: NVE from the default study's equilibrated 500 K configurations (``nvt/500K/final.data``),
  total-energy drift per atom per ns in kT with its standard error.
* ``transport``: the default study's 500 K production protocol (the workflow's
  ``run_production_job``, same glasses and seeds) for one candidate on every demo glass; Li D
  (``lipsglass.transport``) and Li-S, P-S g(r) (``lipsglass.rdf``) against the study's own runs
  (the current input, checked identical to what the code generates now).
* ``report``: decisions (``lipsglass.md_equivalence``) and ``report.md`` / ``report.json``.

Results go to ``--out`` (default /tmp/lipsglass-md-settings), never into the repository; the
measured report is copied by hand to docs/md_cost.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import re
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from lipsglass.engine.protocols import Protocol, Stage, protocol_commands
from lipsglass.engine.runtime import accelerator_args, lammps_executable, mpiexec_executable, open_lammps
from lipsglass.engine.settings import MDSettings
from lipsglass.forcefield import ForceField, infer_topology_types
from lipsglass.lammpsio import iter_dump, read_data
from lipsglass.md_equivalence import (QQR2E_REAL, Check, drift_check, eligibility, energy_drift, force_check,
                                      paired_check, rdf_check, rms_force_error)
from lipsglass.rdf import partial_rdfs
from lipsglass.stages.md import run_production_job
from lipsglass.transport.analysis import analyse_trajectory
from lipsglass.transport.settings import analysis_options

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
REFERENCE = REPO.parent / "shared" / "reference" / "ariga2022" / "70Li2S-30P2S5.data"
REFERENCE_TYPES = ["P2", "S2", "Pa", "S1", "Sc", "P4", "S4", "Li"]
STUDY = REPO.parent / "study" / "results"
DEMO_GLASS = "P2S6-15/r1"            # throughput glass of the demo system (middle composition)
DRIFT_GLASSES = ["P2S6-5/r1", "P2S6-25/r2"]
FORCE_GLASSES = ["P2S6-5/r1", "P2S6-25/r2"]
DEFAULT_OUT = Path("/tmp/lipsglass-md-settings")
T_K = 500.0
QQR2E = 332.06371                    # LAMMPS real units: force (kcal/mol/A) of two unit charges 1 A apart
BREAKDOWN_SECTIONS = ("Pair", "Bond", "Kspace", "Neigh", "Comm", "Output", "Modify", "Other")


# ---- candidates --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """One MD setting: MDSettings fields over the system's config (``md``), line edits of the
    generated input where the workflow has no key (``edits``: (regex, replacement) on whole
    lines), and how LAMMPS is launched (MPI ranks x OpenMP threads).

    ``physics``: what the candidate changes of the dynamics, deciding which equivalence runs it
    needs: ``none`` (same Hamiltonian, integrator and forces: layout, neighbour lists, output),
    ``integrator`` (same forces, other time stepping), ``forces`` (another Coulomb setting).
    """
    name: str
    label: str
    md: dict = field(default_factory=dict)
    edits: tuple = ()
    ranks: int = 1
    threads: int = 1
    physics: str = "none"
    systems: tuple = ("paper", "demo")

    def settings(self, base: dict) -> MDSettings:
        return MDSettings.from_config({**base, **self.md})

    @property
    def cores(self) -> int:
        return self.ranks * self.threads


RESPA_2 = "respa 2 2 bond 1 angle 1 dihedral 1 pair 2 kspace 2"
RESPA_3 = "respa 2 3 bond 1 angle 1 dihedral 1 pair 2 kspace 2"
RESPA_2_2 = "respa 3 2 2 bond 1 angle 1 dihedral 1 pair 2 kspace 3"


def _coul_cutoff(rc: float) -> tuple:
    return ((r"^pair_style hybrid/overlay lj/class2/coul/long (\S+) \S+", rf"pair_style hybrid/overlay lj/class2/coul/long \g<1> {rc}"),)


def _neighbour(skin: float, every: int = 1, delay: int = 0) -> tuple:
    return ((r"^neighbor \S+ bin$", f"neighbor {skin} bin"),
            (r"^neigh_modify .*$", f"neigh_modify delay {delay} every {every} check yes"))


CANDIDATES = [
    Candidate("current", "current input, 1 MPI rank x 1 thread (one core)"),
    Candidate("omp1x2", "current input, 1 MPI rank x 2 OpenMP threads (the workflow's local jobs)", threads=2),
    Candidate("mpi2x1", "current input, 2 MPI ranks x 1 thread (the SLURM profile's layout)", ranks=2, threads=1),
    Candidate("thermo10x", "thermo/thermo.csv every 10 x the config's interval",
              md={"__thermo_factor": 10}),
    Candidate("skin1.5", "neighbor skin 1.5 A (check every step)", edits=_neighbour(1.5)),
    Candidate("skin1.0", "neighbor skin 1.0 A (check every step)", edits=_neighbour(1.0)),
    Candidate("every2", "neigh_modify every 2 delay 0 check yes (skin 2 A)", edits=_neighbour(2.0, every=2)),
    Candidate("coul10", "Coulomb real-space cutoff 10 A (LJ 12 A), PPPM grid chosen by LAMMPS at 1e-5",
              edits=_coul_cutoff(10.0), physics="forces"),
    Candidate("coul9", "Coulomb real-space cutoff 9 A (LJ 12 A), PPPM grid chosen by LAMMPS at 1e-5",
              edits=_coul_cutoff(9.0), physics="forces"),
    Candidate("diffad", "PPPM analytic differentiation (kspace_modify diff ad), grid chosen at 1e-5",
              md={"kspace_modify": "diff ad"}, physics="forces"),
    Candidate("verlet2", "plain velocity Verlet at 2 fs (control for r-RESPA)", md={"timestep_fs": 2.0},
              physics="integrator"),
    Candidate("respa2", "r-RESPA: bonded 1 fs, pair + kspace 2 fs", md={"timestep_fs": 2.0, "run_style": RESPA_2},
              physics="integrator"),
    Candidate("respa3", "r-RESPA: bonded 1 fs, pair + kspace 3 fs", md={"timestep_fs": 3.0, "run_style": RESPA_3},
              physics="integrator"),
    Candidate("respa2-2", "r-RESPA: bonded 1 fs, pair 2 fs, kspace 4 fs",
              md={"timestep_fs": 4.0, "run_style": RESPA_2_2}, physics="integrator"),
]
BY_NAME = {c.name: c for c in CANDIDATES}


def combined(name: str, label: str, parts: list[str], ranks: int | None = None, threads: int | None = None) -> Candidate:
    """A candidate made of several others (their md fields and edits merged, the last launch)."""
    md, edits, physics = {}, (), set()
    for p in parts:
        c = BY_NAME[p]
        md.update(c.md)
        edits += c.edits
        physics.add(c.physics)
    last = BY_NAME[parts[-1]]
    kind = "forces" if "forces" in physics else "integrator" if "integrator" in physics else "none"
    return Candidate(name, label, md=md, edits=edits, ranks=ranks or last.ranks, threads=threads or last.threads,
                     physics=kind)


# ---- systems -----------------------------------------------------------------------------------

def config_md(config: str) -> dict:
    return dict(yaml.safe_load((REPO / "config" / config).read_text())["md"])


def convert_reference(out: Path) -> Path:
    """The 8069-atom reference glass in the workflow's type order (atom, bond, angle and dihedral
    types renumbered by force-field name; rows, coordinates, images and velocities as they are)."""
    path = out / "paper_glass.data"
    if path.exists():
        return path
    ff = ForceField.load("ariga2022")
    d = read_data(REFERENCE)
    types = [ff.canonical_type(t) for t in REFERENCE_TYPES]
    topo = infer_topology_types(d, types, ff)
    target = ff.default_topology_types()
    amap = {k + 1: target.atom.index(t) + 1 for k, t in enumerate(types)}
    bmap = {k + 1: target.bond.index(t) + 1 for k, t in enumerate(topo.bond)}
    gmap = {k + 1: target.angle.index(t) + 1 for k, t in enumerate(topo.angle)}
    dmap = {k + 1: target.dihedral.index(t) + 1 for k, t in enumerate(topo.dihedral)}
    charges = ff.charges()
    out_lines = [f"LAMMPS data file: {REFERENCE.name} in the workflow's type order (benchmarks/md_settings.py)", "",
                 f"{d.n_atoms} atoms", f"{len(target.atom)} atom types", f"{len(d.bonds)} bonds",
                 f"{len(target.bond)} bond types", f"{len(d.angles)} angles", f"{len(target.angle)} angle types",
                 f"{len(d.dihedrals)} dihedrals", f"{len(target.dihedral)} dihedral types", ""]
    for axis, label in enumerate("xyz"):
        out_lines.append(f"{float(d.box.lo[axis])!r} {float(d.box.hi[axis])!r} {label}lo {label}hi")
    out_lines += ["", "Masses", ""] + [f"{n} {ff.mass(t)!r} # {t}" for n, t in enumerate(target.atom, start=1)]
    out_lines += ["", "Atoms # full", ""]
    for k in range(d.n_atoms):
        t = amap[int(d.types[k])]
        x, y, z = d.positions[k]
        ix, iy, iz = d.images[k]
        out_lines.append(f"{int(d.ids[k])} {int(d.molecules[k])} {t} {charges[target.atom[t - 1]]!r} "
                         f"{float(x)!r} {float(y)!r} {float(z)!r} {int(ix)} {int(iy)} {int(iz)}")
    out_lines += ["", "Velocities", ""]
    out_lines += [f"{int(i)} {float(v[0])!r} {float(v[1])!r} {float(v[2])!r}" for i, v in zip(d.ids, d.velocities)]
    for title, rows, tmap in (("Bonds", d.bonds, bmap), ("Angles", d.angles, gmap), ("Dihedrals", d.dihedrals, dmap)):
        out_lines += ["", title, ""]
        out_lines += [f"{n} {tmap[int(r[0])]} " + " ".join(str(int(a)) for a in r[1:]) for n, r in enumerate(rows, start=1)]
    path.write_text("\n".join(out_lines) + "\n")
    return path


def systems(out: Path, study: Path) -> dict[str, dict]:
    return {
        "paper": {"data": convert_reference(out), "md": config_md("paper.yaml"), "atoms": 8069,
                  "what": "8069-atom 70Li2S-30P2S5 reference glass (Ariga 2022), config/paper.yaml md"},
        "demo": {"data": study / DEMO_GLASS / "quench" / "glass.data", "md": config_md("config.yaml"),
                 "atoms": read_data(study / DEMO_GLASS / "quench" / "glass.data").n_atoms,
                 "what": f"default-study glass {DEMO_GLASS} (quench/glass.data), config/config.yaml md"},
    }


# ---- inputs and runs ---------------------------------------------------------------------------

def apply_edits(commands: list[str], edits: tuple) -> list[str]:
    out = list(commands)
    for pattern, repl in edits:
        rx = re.compile(pattern)
        hits = [k for k, c in enumerate(out) if rx.search(c)]
        if not hits:
            raise ValueError(f"edit {pattern!r} matches no line of the input")
        for k in hits:
            out[k] = rx.sub(repl, out[k])
    return out


def md_settings(cand: Candidate, base: dict) -> MDSettings:
    md = dict(base, **{k: v for k, v in cand.md.items() if not k.startswith("__")})
    if "__thermo_factor" in cand.md:
        md["thermo_interval_fs"] = float(base["thermo_interval_fs"]) * cand.md["__thermo_factor"]
    return MDSettings.from_config(md)


def nvt_input(cand: Candidate, system: dict, steps_fs: float, workdir: Path, warmup_fs: float = 50.0,
              preamble: tuple = ()) -> tuple[list[str], MDSettings]:
    """The workflow's input for an NVT run at T_K: a short warm-up stage, then the measured stage
    of ``steps_fs`` fs (its LAMMPS timing breakdown is the last of the log)."""
    ff = ForceField.load("ariga2022")
    md = md_settings(cand, system["md"])
    nvt = f"nvt temp {T_K} {T_K} {md.thermostat_damping_fs}"
    protocol = Protocol(str(system["data"]), preamble or (f"velocity all create {T_K} 4928 dist gaussian mom yes rot no",),
                        (Stage("warmup", nvt, md.steps(warmup_fs / 1000.0)), Stage("measured", nvt, md.steps(steps_fs / 1000.0))), ())
    cmds = protocol_commands(ff, protocol, str(workdir), md, str(workdir / "thermo.csv"))
    return apply_edits(cmds, cand.edits), md


def launch(cand: Candidate, input_file: Path, log: Path) -> list[str]:
    cmd = [lammps_executable(), "-in", str(input_file), "-log", str(log), "-screen", "none", "-nocite"]
    if cand.ranks > 1:
        return [mpiexec_executable(), "-launcher", "fork", "-n", str(cand.ranks)] + cmd + accelerator_args(cand.threads)
    return cmd + accelerator_args(cand.threads)


def run_lmp(cand: Candidate, commands: list[str], workdir: Path, tag: str) -> str:
    workdir.mkdir(parents=True, exist_ok=True)
    inp, log = workdir / f"in.{tag}", workdir / f"log.{tag}"
    inp.write_text("\n".join(commands) + "\n")
    env = dict(os.environ, OMP_NUM_THREADS=str(cand.threads))
    proc = subprocess.run(launch(cand, inp, log), cwd=workdir, env=env, capture_output=True, text=True)
    text = log.read_text() if log.exists() else ""
    if proc.returncode != 0:
        errors = [ln for ln in (text + proc.stdout + proc.stderr).splitlines() if "ERROR" in ln]
        raise RuntimeError(f"{cand.name}: LAMMPS failed: {'; '.join(errors) or proc.stderr[-1500:]}")
    return text


_LOOP = re.compile(r"Loop time of ([\d.eE+-]+) on (\d+) procs for (\d+) steps with (\d+) atoms")
_PERF = re.compile(r"Performance: .*?([\d.]+) timesteps/s(?:, ([\d.]+) katom-step/s)?")
_CPU = re.compile(r"([\d.]+)% CPU use with (\d+) MPI tasks x (\d+) OpenMP threads")
_ROW = re.compile(r"^(\w+)\s+\|\s*([\d.eE+-]+)\s*\|\s*([\d.eE+-]+)\s*\|\s*([\d.eE+-]+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*$")


def parse_last_run(log: str) -> dict:
    """Loop time, steps, performance, CPU use, the MPI task timing breakdown and neighbour
    statistics of the last ``run`` of a LAMMPS log."""
    start = log.rfind("Loop time of")
    if start < 0:
        raise ValueError("no 'Loop time' line in the log")
    tail = log[start:]
    loop = _LOOP.search(tail)
    out = {"loop_s": float(loop.group(1)), "procs": int(loop.group(2)), "steps": int(loop.group(3)),
           "atoms": int(loop.group(4))}
    perf = _PERF.search(tail)
    out["steps_per_s"] = float(perf.group(1))
    cpu = _CPU.search(tail)
    if cpu:
        out["cpu_use_percent"] = float(cpu.group(1))
    # CPU seconds of the loop (all ranks and threads): wall x "% CPU use" (per MPI task) x tasks
    out["cpu_s"] = out["loop_s"] * out.get("cpu_use_percent", 100.0) / 100.0 * out["procs"]
    breakdown = {}
    for line in tail.splitlines():
        m = _ROW.match(line.strip())
        if m and m.group(1) in BREAKDOWN_SECTIONS:
            breakdown[m.group(1)] = {"avg_s": float(m.group(3)), "percent": float(m.group(6))}
    out["breakdown"] = breakdown
    m = re.search(r"Neighbor list builds = (\d+)", tail)
    out["neighbour_builds"] = int(m.group(1)) if m else None
    m = re.search(r"Dangerous builds = (\d+)", tail)
    out["dangerous_builds"] = int(m.group(1)) if m else None
    return out


def parse_kspace(log: str) -> dict:
    """PPPM/Ewald parameters LAMMPS chose (the last setup in the log)."""
    out = {}
    for key, rx in (("g_ewald", r"G vector \(1/distance\) = ([\d.eE+-]+)"),
                    ("grid", r"grid = (\d+ \d+ \d+)"),
                    ("order", r"stencil order = (\d+)"),
                    ("estimated_abs_rms_force", r"estimated absolute RMS force accuracy = ([\d.eE+-]+)"),
                    ("estimated_rel_force", r"estimated relative force accuracy = ([\d.eE+-]+)"),
                    ("kvectors", r"KSpace vectors: actual max1d max3d = (\d+)")):
        found = re.findall(rx, log)
        if found:
            out[key] = found[-1]
    return out


# ---- throughput --------------------------------------------------------------------------------

def cmd_throughput(args) -> int:
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    systs = systems(out, args.study)
    chosen = [candidate(n) for n in args.candidates] if args.candidates else CANDIDATES + COMBINATIONS
    runs = [(s, c) for s in args.systems for c in chosen if s in c.systems]
    results: dict = {s: {c.name: [] for _, c in runs if _ == s} for s in args.systems}
    kspace: dict = {}
    started = time.time()
    load_before = os.getloadavg()
    for rep in range(args.repeats):
        for sname, cand in runs:
            sysd = systs[sname]
            fs = args.paper_fs if sname == "paper" else args.demo_fs
            work = out / "throughput" / sname / cand.name
            cmds, md = nvt_input(cand, sysd, fs, work, warmup_fs=args.warmup_fs)
            old = work / f"log.r{rep}"
            if args.reuse and old.exists() and "Loop time" in old.read_text().split("measured")[-1]:
                log = old.read_text()          # a finished run of an interrupted benchmark
            elif args.reuse_only:
                print(f"round {rep} {sname:5s} {cand.name:12s} not finished: left out", flush=True)
                continue
            else:
                log = run_lmp(cand, cmds, work, f"r{rep}")
            res = parse_last_run(log)
            res["timestep_fs"] = md.timestep_fs
            results[sname][cand.name].append(res)
            kspace.setdefault(sname, {})[cand.name] = parse_kspace(log)
            print(f"round {rep} {sname:5s} {cand.name:12s} {res['steps_per_s']:8.2f} steps/s "
                  f"({res['steps_per_s'] * md.timestep_fs:8.2f} fs/s) cpu {res.get('cpu_use_percent')}% "
                  f"{res['atoms'] * res['steps'] * md.timestep_fs / res['cpu_s']:10.4g} atom-fs per CPU-s", flush=True)
    summary = {}
    for sname, per in results.items():
        rows = {}
        for name, reps in per.items():
            best = max(reps, key=lambda r: r["steps_per_s"])
            cand = candidate(name)
            fs_per_s = best["steps_per_s"] * best["timestep_fs"]
            best_cpu = max(reps, key=lambda r: r["steps"] / r["cpu_s"])
            rows[name] = {"label": cand.label, "ranks": cand.ranks, "threads": cand.threads, "cores": cand.cores,
                          "physics": cand.physics, "timestep_fs": best["timestep_fs"],
                          "steps_per_s": best["steps_per_s"], "fs_per_s": fs_per_s,
                          "atom_steps_per_core_s": best["atoms"] * best["steps_per_s"] / cand.cores,
                          "atom_fs_per_core_s": best["atoms"] * fs_per_s / cand.cores,
                          "all_steps_per_s": [r["steps_per_s"] for r in reps],
                          "cpu_s_per_step": best_cpu["cpu_s"] / best_cpu["steps"],
                          "atom_fs_per_cpu_s": best_cpu["atoms"] * best_cpu["steps"] * best["timestep_fs"] / best_cpu["cpu_s"],
                          "atom_steps_per_cpu_s": best_cpu["atoms"] * best_cpu["steps"] / best_cpu["cpu_s"],
                          "all_cpu_use_percent": [r.get("cpu_use_percent") for r in reps],
                          "breakdown": best["breakdown"], "cpu_use_percent": best.get("cpu_use_percent"),
                          "neighbour_builds": best["neighbour_builds"], "dangerous_builds": best["dangerous_builds"],
                          "steps": best["steps"], "atoms": best["atoms"], "kspace": kspace[sname][name]}
        cur = rows["current"]
        for r in rows.values():
            r["ratio_fs_per_s_vs_current"] = r["fs_per_s"] / cur["fs_per_s"]
            r["ratio_per_core_vs_current"] = r["atom_fs_per_core_s"] / cur["atom_fs_per_core_s"]
            r["ratio_per_cpu_s_vs_current"] = r["atom_fs_per_cpu_s"] / cur["atom_fs_per_cpu_s"]
        summary[sname] = {"system": systs[sname]["what"], "atoms": cur["atoms"], "candidates": rows}
    meta = machine_info()
    meta.update(repeats=args.repeats, paper_fs=args.paper_fs, demo_fs=args.demo_fs, wall_s=time.time() - started,
                load_before=load_before, load_after=os.getloadavg())
    (out / "throughput.json").write_text(json.dumps({"meta": meta, "systems": summary}, indent=1))
    print(f"wrote {out / 'throughput.json'}")
    return 0


def machine_info() -> dict:
    cpu = ""
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                   if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    return {"date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "git": git}


# ---- (c) forces against Ewald 1e-8 ------------------------------------------------------------

def single_point_forces(cand: Candidate, system: dict, workdir: Path, reference: bool = False) -> tuple[np.ndarray, dict]:
    """Per-atom forces (sorted by atom id) of the system's configuration with the candidate's
    setting, or with the Ewald reference (kspace_style ewald 1e-8, Coulomb pair table off)."""
    ff = ForceField.load("ariga2022")
    md = md_settings(cand, system["md"])
    protocol = Protocol(str(system["data"]), (), (), ())
    cmds = apply_edits(protocol_commands(ff, protocol, str(workdir), md, str(workdir / "thermo.csv")), cand.edits)
    if reference:
        cmds = apply_edits(cmds, ((r"^kspace_style .*$", "kspace_style ewald 1e-8"),))
        k = next(i for i, c in enumerate(cmds) if c.startswith("kspace_style"))
        cmds.insert(k + 1, "pair_modify pair lj/class2/coul/long table 0")
    cmds = [c for c in cmds if not c.startswith("run_style")] + ["run 0"]
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / ("log.reference" if reference else f"log.{cand.name}")
    lmp = open_lammps(log_file=log, threads=1)
    try:
        for c in cmds:
            lmp.command(c)
        nlocal = int(lmp.extract_global("nlocal"))          # the arrays also hold the ghost atoms
        ids = np.array(lmp.numpy.extract_atom("id"), int)[:nlocal].copy()
        forces = np.array(lmp.numpy.extract_atom("f"), float)[:nlocal].copy()
        pe = float(lmp.get_thermo("pe"))
    finally:
        lmp.close()
    order = np.argsort(ids)
    return forces[order], {"pe_kcal_mol": pe, **parse_kspace(log.read_text())}


def force_systems(out: Path, study: Path) -> dict[str, dict]:
    systs = systems(out, study)
    found = {"paper": systs["paper"]}
    for g in FORCE_GLASSES:
        found[f"demo:{g}"] = dict(systs["demo"], data=study / g / "nvt" / "500K" / "final.data")
    return found


def cmd_forces(args) -> int:
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    names = args.candidates or [c.name for c in CANDIDATES + COMBINATIONS if c.physics == "forces"] + ["current"]
    cands = [candidate(n) for n in dict.fromkeys(["current"] + names)]
    result = json.loads((out / "forces.json").read_text()) if (out / "forces.json").exists() else {}
    for sname, sysd in force_systems(out, args.study).items():
        if args.systems and sname.split(":")[0] not in args.systems:
            continue
        work = out / "forces" / sname.replace(":", "_").replace("/", "_")
        t0 = time.time()
        ref, ref_info = single_point_forces(BY_NAME["current"], sysd, work, reference=True)
        entry = result.setdefault(sname, {})
        entry["reference"] = {**ref_info, "seconds": time.time() - t0, "rms_force_kcal_mol_A": float(np.sqrt(np.mean(np.sum(ref ** 2, axis=1))))}
        for cand in cands:
            f, info = single_point_forces(cand, sysd, work)
            err = rms_force_error(f, ref)
            entry[cand.name] = {**info, "rms_error_kcal_mol_A": err, "relative_error": err / QQR2E_REAL,
                                "accuracy": float(md_settings(cand, sysd["md"]).kspace_accuracy)}
            print(f"{sname:22s} {cand.name:12s} RMS force error {err:.4g} kcal/mol/A = {err / QQR2E_REAL:.3g} relative "
                  f"(LAMMPS estimate {info.get('estimated_rel_force')}, grid {info.get('grid')})", flush=True)
        (out / "forces.json").write_text(json.dumps(result, indent=1))
    return 0


# ---- (a) NVE drift ------------------------------------------------------------------------------

def cmd_drift(args) -> int:


    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    systs = systems(out, args.study)
    names = args.candidates or ["current"] + [c.name for c in CANDIDATES + COMBINATIONS if c.physics != "none"]
    jobs = []
    for name in dict.fromkeys(names):
        cand = candidate(name)
        cand = dataclasses.replace(cand, ranks=1, threads=1)     # layout changes nothing here: one core each
        for g in DRIFT_GLASSES:
            sysd = dict(systs["demo"], data=args.study / g / "nvt" / "500K" / "final.data",
                        md={**systs["demo"]["md"], "thermo_interval_fs": args.thermo_fs})
            jobs.append((cand, g, sysd))

    def one(job):
        cand, g, sysd = job
        work = out / "drift" / cand.name / g.replace("/", "_")
        ff = ForceField.load("ariga2022")
        md = md_settings(cand, sysd["md"])
        protocol = Protocol(str(sysd["data"]), (), (Stage("nve", "nve", md.steps(args.nve_ps)),), ())
        cmds = apply_edits(protocol_commands(ff, protocol, str(work), md, str(work / "thermo.csv")), cand.edits)
        work.mkdir(parents=True, exist_ok=True)
        (work / "thermo.csv").write_text("stage,step,time_ps,T_K,P_atm,density_g_cm3,volume_A3,pe,ke,etotal\n")
        log = run_lmp(cand, cmds, work, "nve")
        rows = [ln.split(",") for ln in (work / "thermo.csv").read_text().splitlines()[1:]
                if ln and not ln.startswith("#")]
        t = np.array([float(r[2]) for r in rows])
        e = np.array([float(r[9]) for r in rows])
        atoms = parse_last_run(log)["atoms"]
        d = energy_drift(t, e, atoms, T_K)
        d.update(glass=g, mean_T_K=float(np.mean([float(r[3]) for r in rows])),
                 dangerous_builds=parse_last_run(log)["dangerous_builds"])
        print(f"{cand.name:12s} {g:12s} drift {d['drift_kT_per_atom_ns']:+.4f} +- {d['stderr_kT_per_atom_ns']:.4f} "
              f"kT/atom/ns over {d['span_ps']:.1f} ps (mean T {d['mean_T_K']:.0f} K)", flush=True)
        return cand.name, d

    result = json.loads((out / "drift.json").read_text()) if (out / "drift.json").exists() else {}
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for name, d in pool.map(one, jobs):
            result.setdefault(name, {})[d["glass"]] = d
            (out / "drift.json").write_text(json.dumps(result, indent=1))
    return 0


# ---- (b) Li D and g(r) at 500 K ------------------------------------------------------------------

def study_glasses(study: Path) -> list[str]:
    return sorted(str(p.parents[2].relative_to(study)) for p in study.glob("*/r*/nvt/500K/trajectory.lammpstrj"))


def run_analysis(run_dir: Path, transport: dict, structure: dict) -> dict:
    """Li D (the workflow's transport analysis) and the Li-S, P-S g(r) (lipsglass.rdf) of one
    500 K run folder."""
    traj = run_dir / "trajectory.lammpstrj"
    dt_ps = float(json.loads((run_dir / "provenance.json").read_text())["dump_interval_ps"])   # time between frames
    # D is the least-squares slope in the workflow's fit window; its bootstrap SE is not used here (the
    # comparison's SE is over replicas), so few resamples
    res, _ = analyse_trajectory(traj, **dict(analysis_options(transport), n_bootstrap=20), dt_ps=dt_ps)
    frames, elements = [], None
    for frame in iter_dump(traj):
        if elements is None:
            elements = frame.elements()
        frames.append((frame.box, frame.positions()))
    groups = {e: np.flatnonzero(elements == e) for e in ("Li", "P", "S")}
    rdf = partial_rdfs(frames, groups, {"Li_S": ("Li", "S"), "P_S": ("P", "S")}, r_max=RDF_R_MAX,
                       dr=float(structure["rdf_dr_A"]))
    return {"D_cm2_s": res["D_cm2_s"], "D_stderr_cm2_s": res["D_stderr_cm2_s"], "r": rdf.r.tolist(),
            "Li_S": rdf.g["Li_S"].tolist(), "P_S": rdf.g["P_S"].tolist(), "frames": len(frames)}


RDF_R_MAX = 8.0


def _produce(job: tuple) -> str:
    """The default study's 500 K production of one glass with a candidate's md settings (the
    workflow's run_production_job; same input glass, protocol and velocity seed as the study)."""
    study, out, name, md_config, g = job
    src = study / g / "nvt" / "500K"
    prov = json.loads((src / "provenance.json").read_text())
    dest = out / "transport" / name / g
    outputs = {k: str(dest / n) for k, n in (("trajectory", "trajectory.lammpstrj"), ("thermo", "thermo.csv"),
                                              ("data", "final.data"), ("lammps_input", "in.lammps"),
                                              ("provenance", "provenance.json"))}
    if not (dest / "trajectory.lammpstrj").exists():
        production = dict(prov["production"], seed=prov["seeds"]["velocity"] - 500)
        t0 = time.time()
        run_production_job(prov["input"], outputs, "ariga2022", md_config, production, 500.0, 300.0,
                           prov["dump_interval_ps"], prov["composition_units"], str(dest / "log.lammps"),
                           threads=1, glass=prov["glass"])
        print(f"{name} {g}: production done in {time.time() - t0:.0f} s", flush=True)
    return g


def cmd_transport(args) -> int:
    out = args.out
    cand = candidate(args.candidates[0])
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    glasses = study_glasses(args.study)
    md_config = dict(config["md"], **{k: v for k, v in cand.md.items() if not k.startswith("__")})
    if cand.edits:
        raise SystemExit(f"{cand.name}: line edits cannot go through the workflow's production job; add an md key")

    # separate processes: the LAMMPS module is one MPI rank per process, and the job changes directory
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        done = list(pool.map(_produce, [(args.study, out, cand.name, md_config, g) for g in glasses]))
    result = {"candidate": cand.name, "md": md_config, "glasses": {}}
    dirs = [d for g in done for d in (args.study / g / "nvt" / "500K", out / "transport" / cand.name / g)]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        analysed = list(pool.map(run_analysis, dirs, [config["transport"]] * len(dirs), [config["structure"]] * len(dirs)))
    for k, g in enumerate(done):
        result["glasses"][g] = {"current": analysed[2 * k], "candidate": analysed[2 * k + 1]}
        print(f"{g}: D current {result['glasses'][g]['current']['D_cm2_s']:.3g}, "
              f"{cand.name} {result['glasses'][g]['candidate']['D_cm2_s']:.3g} cm2/s", flush=True)
    (out / f"transport_{cand.name}.json").write_text(json.dumps(result))
    return 0


# ---- report ---------------------------------------------------------------------------------------

def equivalence(cand: Candidate, forces: dict, drift: dict, transport: dict, accuracy: float) -> dict:
    """The checks of lipsglass.md_equivalence for one candidate. A candidate that changes neither
    forces nor integrator (layout, neighbour skin with a check every step, output interval) runs
    the current input's force field evaluation and time stepping: it inherits the current
    input's drift and force checks (its dangerous neighbour builds are checked separately)."""
    checks = []
    drift_of = cand.name if cand.physics != "none" else "current"
    dc = drift_check(list(drift.get(drift_of, {}).values()))
    if drift_of != cand.name and dc.passed is not None:
        dc.detail = "inherited from current (same forces and integrator): " + dc.detail
    checks.append(dc)
    force_of = cand.name if cand.physics == "forces" else "current"
    errors = [sysd[force_of]["rms_error_kcal_mol_A"] for sysd in forces.values() if force_of in sysd]
    fc = force_check(errors, accuracy)
    if force_of != cand.name and fc.passed is not None:
        fc.detail = "inherited from current (same force evaluation): " + fc.detail
    checks.append(fc)
    t = transport.get(cand.name) or (transport.get("current-rerun") if cand.physics == "none" else None)
    if t:
        gl = sorted(t["glasses"])
        cur = [t["glasses"][g]["current"] for g in gl]
        new = [t["glasses"][g]["candidate"] for g in gl]
        checks.append(paired_check("Li_D_500K", [c["D_cm2_s"] for c in cur], [c["D_cm2_s"] for c in new], tests=3))
        r = np.array(cur[0]["r"])
        for pair in ("Li_S", "P_S"):
            checks.append(rdf_check(f"g_{pair}", r, np.array([c[pair] for c in cur]), np.array([c[pair] for c in new]),
                                    coarsen=5, r_range=(1.5, RDF_R_MAX)))
    elif cand.physics == "none":
        checks.append(Check("D_and_gr", True, detail="inherited: same forces and integrator as current"))
    else:
        checks.append(Check("D_and_gr", None, detail="not run (CPU budget): the 500 K production of the 10 demo glasses"))
    return eligibility(checks)


def _fmt(x, spec=".3g"):
    return "-" if x is None else format(x, spec)


def cmd_report(args) -> int:
    out = args.out
    tp = {}
    for f in args.throughput or [out / "throughput.json"]:
        data = json.loads(Path(f).read_text())
        for sname, entry in data["systems"].items():
            tp[sname] = dict(entry, meta=data["meta"])
    forces = json.loads((out / "forces.json").read_text()) if (out / "forces.json").exists() else {}
    drift = json.loads((out / "drift.json").read_text()) if (out / "drift.json").exists() else {}
    transport = {}
    for f in out.glob("transport_*.json"):
        d = json.loads(f.read_text())
        transport[d["candidate"]] = d
    decisions, lines = {}, ["# MD settings: throughput and physics equivalence (benchmarks/md_settings.py)", ""]
    for sname, entry in tp.items():
        accuracy = float(config_md("paper.yaml" if sname == "paper" else "config.yaml")["kspace_accuracy"])
        meta = entry["meta"]
        lines += [f"## {sname}: {entry['system']}", "",
                  f"Measured {meta['date_utc']} on {meta['nproc']} cores ({meta['cpu']}), git {meta['git']}; "
                  f"{meta['repeats']} interleaved rounds, best of each; load average {meta['load_before'][0]:.1f} before, "
                  f"{meta['load_after'][0]:.1f} after.", "",
                  "| candidate | layout | dt (fs) | steps/s | atom-steps/s per core (wall) | atom-fs per CPU-s | "
                  "ratio per CPU-s | ratio wall fs/s | CPU s per step / current | eligible | failed / not run |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        rows = entry["candidates"]
        for name, r in rows.items():
            cand = candidate(name)
            dec = equivalence(cand, forces, drift, transport, accuracy)
            decisions.setdefault(sname, {})[name] = dec
            lines.append(f"| {name} | {r['ranks']}x{r['threads']} | {r['timestep_fs']:g} | {r['steps_per_s']:.2f} | "
                         f"{r['atom_steps_per_core_s']:.3g} | {r['atom_fs_per_cpu_s']:.3g} | "
                         f"{r['ratio_per_cpu_s_vs_current']:.2f} | {r['ratio_fs_per_s_vs_current']:.2f} | "
                         f"{r['cpu_s_per_step'] / rows['current']['cpu_s_per_step']:.3f} | "
                         f"{'yes' if dec['eligible'] else 'no'} | "
                         f"{', '.join(dec['failed'] + [n + ' (not run)' for n in dec['not_run']]) or '-'} |")
        lines += ["", "LAMMPS timing breakdown of the best run (% of loop time):", "",
                  "| candidate | " + " | ".join(BREAKDOWN_SECTIONS) + " | neighbour builds (dangerous) | PPPM grid | CPU use % |",
                  "|---|" + "---|" * (len(BREAKDOWN_SECTIONS) + 3)]
        for name, r in rows.items():
            b = r["breakdown"]
            lines.append(f"| {name} | " + " | ".join(_fmt(b.get(k, {}).get("percent"), ".1f") for k in BREAKDOWN_SECTIONS)
                         + f" | {r['neighbour_builds']} ({r['dangerous_builds']}) | {r['kspace'].get('grid', '-')} | "
                         + f"{_fmt(r['cpu_use_percent'], '.0f')} |")
        lines.append("")
    lines += ["## Equivalence checks", ""]
    if forces:
        lines += ["Force error against Ewald 1e-8 (relative to 332.06371 kcal/mol/A):", "",
                  "| configuration | setting | relative RMS error | LAMMPS estimate | grid | g_ewald |", "|---|---|---|---|---|---|"]
        for sname, entry in forces.items():
            for name, e in entry.items():
                if name != "reference":
                    lines.append(f"| {sname} | {name} | {e['relative_error']:.3g} | {e.get('estimated_rel_force', '-')} | "
                                 f"{e.get('grid', '-')} | {e.get('g_ewald', '-')} |")
        lines.append("")
    if drift:
        lines += ["NVE energy drift at 500 K (kT per atom per ns, +- SE):", "", "| setting | " + " | ".join(DRIFT_GLASSES) + " |",
                  "|---|" + "---|" * len(DRIFT_GLASSES)]
        for name, per in drift.items():
            lines.append(f"| {name} | " + " | ".join(
                f"{per[g]['drift_kT_per_atom_ns']:+.4f} +- {per[g]['stderr_kT_per_atom_ns']:.4f}" if g in per else "-"
                for g in DRIFT_GLASSES) + " |")
        lines.append("")
    for name, t in transport.items():
        gl = sorted(t["glasses"])
        lines += [f"Li D at 500 K, {name} vs current (10 ps production, the default study's protocol):", "",
                  "| glass | D current (cm2/s) | D " + name + " (cm2/s) |", "|---|---|---|"]
        lines += [f"| {g} | {t['glasses'][g]['current']['D_cm2_s']:.3g} | {t['glasses'][g]['candidate']['D_cm2_s']:.3g} |"
                  for g in gl]
        lines.append("")
    lines += ["## Decisions", ""]
    for sname, per in decisions.items():
        for name, dec in per.items():
            lines.append(f"- {sname} / {name}: " + ("eligible" if dec["eligible"] else "not eligible") + "; "
                         + "; ".join(f"{c['name']}: {'pass' if c['passed'] else 'FAIL' if c['passed'] is False else 'not run'}"
                                     f" ({c['detail']})" for c in dec["checks"]))
    (out / "report.md").write_text("\n".join(lines) + "\n")
    (out / "report.json").write_text(json.dumps({"throughput": tp, "forces": forces, "drift": drift,
                                                 "decisions": decisions,
                                                 "transport": {k: {"glasses": sorted(v["glasses"])} for k, v in transport.items()}},
                                                indent=1))
    print(f"wrote {out / 'report.md'} and report.json")
    return 0


def candidate(name: str) -> Candidate:
    for c in CANDIDATES + COMBINATIONS:
        if c.name == name:
            return c
    raise SystemExit(f"unknown candidate {name!r}: {[c.name for c in CANDIDATES + COMBINATIONS]}")


COMBINATIONS: list[Candidate] = [
    combined("respa2-mpi2x1", "r-RESPA 1/2 fs on 2 MPI ranks x 1 thread", ["respa2", "mpi2x1"]),
    combined("respa2-omp1x2", "r-RESPA 1/2 fs on 1 MPI rank x 2 OpenMP threads", ["respa2", "omp1x2"]),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report folder (default %(default)s)")
        p.add_argument("--study", type=Path, default=STUDY, help="results/ of a finished default study")
        p.add_argument("--candidates", nargs="*", help="candidate names (default: all)")
        return p

    p = common(sub.add_parser("throughput"))
    p.add_argument("--systems", nargs="*", default=["paper", "demo"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--paper-fs", type=float, default=300.0, help="measured stage length, paper glass (fs)")
    p.add_argument("--demo-fs", type=float, default=2000.0, help="measured stage length, demo glass (fs)")
    p.add_argument("--warmup-fs", type=float, default=50.0, help="NVT stage before the measured one (fs)")
    p.add_argument("--reuse", action="store_true",
                   help="take the finished runs of an interrupted benchmark in --out from their logs")
    p.add_argument("--reuse-only", action="store_true",
                   help="with --reuse: summarise the finished runs only (unfinished rounds are left out)")
    p.set_defaults(func=cmd_throughput)
    p = common(sub.add_parser("forces"))
    p.add_argument("--systems", nargs="*", default=None, help="paper and/or demo (default both)")
    p.set_defaults(func=cmd_forces)
    p = common(sub.add_parser("drift"))
    p.add_argument("--nve-ps", type=float, default=10.0)
    p.add_argument("--thermo-fs", type=float, default=10.0, help="energy sampling interval (fs)")
    p.add_argument("--jobs", type=int, default=2, help="one-core LAMMPS runs at once")
    p.set_defaults(func=cmd_drift)
    p = common(sub.add_parser("transport"))
    p.add_argument("--jobs", type=int, default=2, help="one-core production jobs at once")
    p.set_defaults(func=cmd_transport)
    p = common(sub.add_parser("report"))
    p.add_argument("--throughput", nargs="*", type=Path, help="throughput.json files (default: OUT/throughput.json)")
    p.set_defaults(func=cmd_report)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
