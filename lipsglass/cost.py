"""Cost model of a configuration: atoms, MD steps and core-hours of every LAMMPS rule, from a
throughput measured on this machine, before anything runs.

    python -m lipsglass cost config/paper.yaml [--measure | --atom-steps-per-core-s R]

The throughput is in atom-steps per second per core (LAMMPS' ``katom-step/s`` times 1000 on one
core); the cost of a step scales linearly with the atom count at fixed density and cutoff (pair
and neighbour work dominate; PPPM is O(N log N), a small correction we neglect).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from lipsglass.composition import composition_from_config
from lipsglass.config import load_config
from lipsglass.md import MDSettings, needs_segments, production_protocol, quench_protocol, segment_plan

# Measured here (2026-11-25, one core, no other load): 792-atom demo glass 139 steps/s
# (1.10e5 atom-steps/s); 8069-atom reference glass 19 steps/s (1.53e5 atom-steps/s).
DEFAULT_ATOM_STEPS_PER_CORE_S = 1.2e5


def md_steps(config: dict) -> dict[str, dict]:
    """MD steps and restart segments of the quench and of one production temperature, from the
    same protocols the jobs run (minimisation counted as its maximum iteration count)."""
    md = MDSettings.from_config(config["md"])
    segment_steps = md.steps(md.segment_ps) if md.segment_ps else None
    q = config["quench"]
    protocols = {
        "quench": quench_protocol("glass.data", "out.data", md, q),
        "production": production_protocol("glass.data", "out.data", md, config["production"],
                                          config["production"]["temperatures_K"][0], q["final_T_K"],
                                          config["production"]["dump_interval_ps"]),
    }
    extra = {"quench": q["minimise_max_iterations"], "production": 0}
    return {kind: {"steps": protocol.total_steps + extra[kind],
                   "segments": len(segment_plan(protocol, segment_steps))
                   if needs_segments(protocol, segment_steps) else 1}
            for kind, protocol in protocols.items()}


def cost_table(config: dict, atom_steps_per_core_s: float) -> list[dict]:
    """One row per composition and LAMMPS rule; ``core_hours`` covers all ``replicas`` glasses of
    the composition (``core_hours_per_replica`` one of them)."""
    runs = md_steps(config)
    replicas = int(config.get("replicas", 1))
    rows = []
    for name, entry in config["compositions"].items():
        n = composition_from_config(name, entry).n_atoms
        labels = [("quench", "quench")] + [("production", f"production {round(T)}K")
                                           for T in config["production"]["temperatures_K"]]
        for kind, label in labels:
            one = n * runs[kind]["steps"] / atom_steps_per_core_s / 3600.0
            rows.append({"glass": name, "rule": label, "atoms": n, "steps": runs[kind]["steps"],
                         "segments": runs[kind]["segments"], "replicas": replicas,
                         "core_hours_per_replica": one, "core_hours": one * replicas})
    return rows


def measure_throughput(config: dict, steps: int = 200) -> float:
    """Atom-steps per second on one core for the first glass of the config (built, minimised
    briefly, then NVT at 300 K), with the config's kspace settings."""
    from lipsglass.builder import build_glass, write_data_file
    from lipsglass.forcefield import ForceField
    from lipsglass.lammps_runtime import open_lammps
    from lipsglass.simulation import setup_commands

    name, entry = next(iter(config["compositions"].items()))
    ff = ForceField.load(config["forcefield"])
    md = MDSettings.from_config(config["md"])
    glass = build_glass(composition_from_config(name, entry), ff, seed=1, density_g_cm3=1.6,
                        min_distance_A=config["build"]["min_distance_A"])
    with tempfile.TemporaryDirectory(prefix="lipsglass-cost-") as tmp:
        data = write_data_file(glass, ff, Path(tmp) / "glass.data")
        lmp = open_lammps(threads=1)
        try:
            for cmd in setup_commands(ff, data, tmp, topology=ff.default_topology_types(),
                                      kspace=md.kspace_style, kspace_accuracy=md.kspace_accuracy):
                lmp.command(cmd)
            for cmd in ["minimize 1e-4 1e-6 100 1000", "velocity all create 300 1", f"timestep {md.timestep_fs}",
                        "fix integrate all nvt temp 300 300 100", "run 20"]:
                lmp.command(cmd)
            start = time.perf_counter()
            lmp.command(f"run {steps}")
            seconds = time.perf_counter() - start
        finally:
            lmp.close()
    return glass.positions.shape[0] * steps / seconds


def _cli(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    rate = args.atom_steps_per_core_s
    source = "given"
    if args.measure:
        rate, source = measure_throughput(config), "measured now on one core"
    elif rate is None:
        rate, source = DEFAULT_ATOM_STEPS_PER_CORE_S, "default (measured on this project's reference machine)"
    rows = cost_table(config, rate)
    if args.json:
        json.dump({"atom_steps_per_core_s": rate, "source": source, "rows": rows}, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    print(f"throughput: {rate:.3g} atom-steps/s per core ({source})")
    print(f"{'glass':<14} {'rule':<18} {'atoms':>6} {'steps':>10} {'segments':>9} {'replicas':>9} {'core-hours':>11}")
    for r in rows:
        print(f"{r['glass']:<14} {r['rule']:<18} {r['atoms']:>6} {r['steps']:>10} {r['segments']:>9} "
              f"{r['replicas']:>9} {r['core_hours']:>11.2f}")
    total = sum(r["core_hours"] for r in rows)
    print(f"total MD: {total:.1f} core-hours ({total / args.cores:.1f} h on {args.cores} cores at perfect scaling)")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("cost", help="atoms, MD steps and core-hours of each LAMMPS rule of a config")
    p.add_argument("config", help="config YAML (e.g. config/paper.yaml)")
    p.add_argument("--measure", action="store_true", help="measure the throughput now (builds the first glass)")
    p.add_argument("--atom-steps-per-core-s", type=float, help="throughput to assume")
    p.add_argument("--cores", type=int, default=2, help="cores for the wall-time estimate")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cli)
