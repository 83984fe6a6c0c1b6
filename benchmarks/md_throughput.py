"""MD throughput of the project's LAMMPS path against plain `lmp` runs, in one session.

Two comparisons, each printed as timesteps/s and a ratio (project / baseline):

1. ``model`` (default): the 8069-atom 70Li2S-30P2S5 reference glass (PPPM 1e-5, NVT 500 K).
   Baseline: the hand-written input ``benchmarks/inputs/in.ariga_handwritten`` run by the `lmp`
   binary. Project: lipsglass' generated setup (``simulation.setup_commands``) run through the
   LAMMPS Python module exactly as the workflow runs it (``md.run_lammps``).
2. ``--workflow-input results/<glass>/nvt/<T>K/in.lammps``: an input the workflow wrote, run once
   by `lmp -in` and once through ``md.run_lammps`` (the workflow's path).

Both sides use the same accelerator (``--threads N`` OpenMP threads, or ``--mpi N`` ranks for the
baseline model run). Runs alternate baseline/project ``--repeats`` times; the best of each is
compared (least disturbed by other load on the machine).

    .venv/bin/python benchmarks/md_throughput.py --threads 2 --steps 300
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from lipsglass.forcefield import ForceField
from lipsglass.engine.runtime import accelerator_args, lammps_executable, mpiexec_executable
from lipsglass.engine.runner import run_lammps
from lipsglass.engine.setup import setup_commands

HERE = Path(__file__).resolve().parent
REFERENCE = HERE.parent.parent / "shared" / "reference" / "ariga2022"
GLASS_TYPES = ["P2", "S2", "Pa", "S1", "Sc", "P4", "S4", "Li"]
PERF = re.compile(r"Performance:.*?([\d.]+) timesteps/s")


def last_throughput(log: Path) -> float:
    found = PERF.findall(log.read_text())
    if not found:
        raise RuntimeError(f"no Performance line in {log}")
    return float(found[-1])


def run_lmp(input_file: Path, log: Path, threads: int, mpi: int, variables: dict[str, str]) -> float:
    cmd = [lammps_executable(), "-in", str(input_file), "-log", str(log), "-screen", "none", "-nocite"]
    for k, v in variables.items():
        cmd += ["-var", k, v]
    if mpi > 1:
        cmd = [mpiexec_executable(), "-np", str(mpi)] + cmd
    else:
        cmd += accelerator_args(threads)
    subprocess.run(cmd, check=True, cwd=log.parent, env={"OMP_NUM_THREADS": str(threads), "PATH": "/usr/bin:/bin"})
    return last_throughput(log)


def model_commands(workdir: Path, steps: int) -> list[str]:
    ff = ForceField.load("ariga2022")
    return setup_commands(ff, REFERENCE / "70Li2S-30P2S5.data", workdir, atom_types=GLASS_TYPES) + [
        "timestep 1.0", "thermo 100", "fix integrate all nvt temp 500.0 500.0 100.0", f"run {steps}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="OpenMP threads for both sides")
    parser.add_argument("--mpi", type=int, default=1, help="MPI ranks for the baseline model run")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workflow-input", type=Path, help="an in.lammps written by the workflow")
    parser.add_argument("--max-run-steps", type=int, default=None,
                        help="with --workflow-input: cap the last `run N` (the production) at this many steps, both sides")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lipsglass-bench-") as tmp:
        tmp = Path(tmp)
        base, proj = [], []
        for k in range(args.repeats):
            if args.workflow_input:
                text = args.workflow_input.read_text()
                if args.max_run_steps:
                    # shorten only the last (production) run: earlier stages (e.g. a volume average
                    # over the second half of an NPT run) need their full length
                    runs = list(re.finditer(r"^run (\d+)", text, flags=re.M))
                    last = runs[-1]
                    text = (text[:last.start()] + f"run {min(int(last.group(1)), args.max_run_steps)}"
                            + text[last.end():])
                # the workflow's inputs use bare file names (sw table, outputs): run both in a scratch
                # folder holding a copy of the sw table
                for sw in args.workflow_input.parent.glob("*.sw"):
                    shutil.copy(sw, tmp / sw.name)
                inp = tmp / "in.workflow"
                inp.write_text(text)
                base.append(run_lmp(inp, tmp / f"log.base{k}", args.threads, 1, {}))
                here = os.getcwd()
                os.chdir(tmp)
                try:
                    run_lammps(text.splitlines(), tmp / f"log.proj{k}", threads=args.threads)
                finally:
                    os.chdir(here)
                proj.append(last_throughput(tmp / f"log.proj{k}"))
            else:
                if not REFERENCE.is_dir():
                    print(f"needs the reference glass in {REFERENCE}", file=sys.stderr)
                    return 2
                base.append(run_lmp(HERE / "inputs" / "in.ariga_handwritten", tmp / f"log.base{k}", args.threads,
                                    args.mpi, {"DATA": str(REFERENCE / "70Li2S-30P2S5.data"),
                                               "SW": str(REFERENCE / "Li-S.sw"), "STEPS": str(args.steps)}))
                run_lammps(model_commands(tmp, args.steps), tmp / f"log.proj{k}", threads=args.threads)
                proj.append(last_throughput(tmp / f"log.proj{k}"))
            print(f"repeat {k}: baseline lmp {base[-1]:.2f} steps/s, project {proj[-1]:.2f} steps/s", flush=True)
    what = args.workflow_input or "8069-atom reference glass, PPPM 1e-5"
    accel = f"{args.mpi} MPI ranks (baseline)" if args.mpi > 1 else f"{args.threads} OpenMP threads"
    print(f"system: {what}; {accel}")
    print(f"baseline (plain lmp) best: {max(base):.2f} timesteps/s")
    print(f"project (lipsglass)  best: {max(proj):.2f} timesteps/s")
    print(f"ratio project/baseline: {max(proj) / max(base):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
