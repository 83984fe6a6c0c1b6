"""Cost of restartable segments: one production job run in one LAMMPS instance and the same job
split into restart-chained segments (md.segment_ps), in one session on the same glass.

Prints the wall time of each and the ratio segmented / one instance (> 1 is the overhead of
writing and reading restart files and re-initialising the force field and PPPM per segment).

    .venv/bin/python benchmarks/segment_overhead.py --glass results/P2S6-25/quench/glass.data \\
        --duration-ps 6 --segment-ps 1 --threads 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

from lipsglass.engine.protocols import production_protocol
from lipsglass.engine.segments import needs_segments, segment_plan
from lipsglass.engine.settings import MDSettings
from lipsglass.stages.md import run_production_job

HERE = Path(__file__).resolve().parent
NAMES = ("trajectory.lammpstrj", "thermo.csv", "final.data", "in.lammps", "provenance.json")


def timed_job(folder: Path, glass: Path, md: dict, production: dict, threads: int) -> float:
    folder.mkdir()
    start = time.perf_counter()
    run_production_job(glass_data=str(glass), outputs={k: str(folder / n) for k, n in zip(
                           ("trajectory", "thermo", "data", "lammps_input", "provenance"), NAMES)},
                       forcefield="ariga2022", md_config=md, production_config=production,
                       temperature=production["temperatures_K"][0], start_temperature=300.0,
                       dump_interval_ps=production["dump_interval_ps"], units={}, log=str(folder / "log"),
                       threads=threads, glass="benchmark")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--glass", type=Path, default=Path("results/P2S6-25/quench/glass.data"),
                        help="a quenched glass written by the workflow")
    parser.add_argument("--config", type=Path, default=HERE.parent / "config" / "config.yaml",
                        help="md settings are taken from here")
    parser.add_argument("--duration-ps", type=float, default=6.0)
    parser.add_argument("--segment-ps", type=float, default=1.0)
    parser.add_argument("--temperature", type=float, default=600.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if not args.glass.exists():
        print(f"{args.glass}: no such glass (run the workflow's quench first, or pass --glass)", file=sys.stderr)
        return 2
    config = yaml.safe_load(args.config.read_text())
    md_one = {k: v for k, v in config["md"].items() if k != "segment_ps"}
    md_segmented = dict(md_one, segment_ps=args.segment_ps)
    production = dict(seed=1, temperatures_K=[args.temperature], heating_ps=0.0, equilibration_ps=0.0,
                      duration_ps=args.duration_ps, dump_interval_ps=0.2, fine_T_K=args.temperature,
                      fine_dump_interval_ps=0.2)
    settings = MDSettings.from_config(md_segmented)
    protocol = production_protocol("glass", "out", settings, production, args.temperature, 300.0, 0.2)
    segment_steps = settings.steps(args.segment_ps)
    if not needs_segments(protocol, segment_steps):
        print("the run is not longer than one segment: nothing to compare", file=sys.stderr)
        return 2
    n_segments = len(segment_plan(protocol, segment_steps))
    with tempfile.TemporaryDirectory(prefix="lipsglass-segments-") as tmp:
        one = timed_job(Path(tmp) / "one", args.glass, md_one, production, args.threads)
        segmented = timed_job(Path(tmp) / "segmented", args.glass, md_segmented, production, args.threads)
    steps = protocol.total_steps
    print(f"system: {args.glass}; {steps} NVT steps at {args.temperature:g} K; {args.threads} OpenMP threads")
    print(f"one instance:          {one:8.1f} s wall ({steps / one:.1f} steps/s)")
    print(f"{n_segments:3d} segments:           {segmented:8.1f} s wall ({steps / segmented:.1f} steps/s)")
    print(f"ratio segmented/one instance: {segmented / one:.3f} "
          f"({(segmented - one) / (n_segments - 1):.2f} s per extra segment)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
