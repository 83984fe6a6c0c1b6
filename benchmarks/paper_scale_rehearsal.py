"""Paper-scale rehearsal: every heavy rule of config/paper.yaml run once, through Snakemake, on one
glass at the paper's atom count (P2S6-25, 7920 atoms), with durations cut to minutes.

    .venv/bin/python benchmarks/paper_scale_rehearsal.py            # ~15-20 min wall on 2 cores
    .venv/bin/python benchmarks/paper_scale_rehearsal.py --check    # the recorded table against the profile

The real rules run (``snakemake --configfile config/paper.yaml <overlay>`` in a temporary folder;
the overlay, ``OVERLAY`` below, keeps every model setting of paper.yaml and shortens only
durations, step limits and tolerances that set how long a job runs). What they cost is read
from what Snakemake and LAMMPS measured:

* the wall time ``s``, ``cpu_time`` and peak memory ``max_rss`` (MB, the job's process tree) of
  every rule from its benchmark table ``results/benchmarks/**.tsv``;
* per MD step: the ``Loop time of T on P procs for N steps with A atoms`` lines of the LAMMPS
  logs (minimisation iterations count as steps), so a job's start-up is kept apart; the
  production run is repeated on 2 MPI ranks (``--forcerun production``, ``tasks=2``) after its
  1-rank run, which gives the parallel efficiency of 2 ranks;
* per NEB image-step: the loop times of every partition log of the hop's bands; per iteration of
  its minimisations (inherent structure, end states): their loop times;
* per dump frame read: ``lipsglass.lammpsio.iter_dump`` over the production trajectory, timed
  right after the rules ran.

Output: ``docs/rehearsal/paper_scale_rehearsal.{csv,md,json}`` (date, machine: nproc, CPU
model, memory, load average before and after). The constants of ``lipsglass/cost.py`` are copied
from the json with this script's name and the date. Finally every rule's peak memory is checked
against ``mem_mb`` of ``profiles/slurm/config.yaml`` (``--check`` repeats that check on the
recorded csv, e.g. after ``python -m lipsglass cost config/paper.yaml --profile ...``).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = REPO / "docs" / "rehearsal"   # committed: benchmarks/results would fall under .gitignore's results/
PROFILE = REPO / "profiles" / "slurm" / "config.yaml"
GLASS = "P2S6-25"

# Over config/paper.yaml: one glass, one replica, one temperature (analysed and labelled), MD of
# ~1.5k steps per job, two softness windows at paper.yaml's window/stride ratio, one NEB hop with
# 50-step band stages on one rank per image (two cores: ranks_per_replica 4 cannot run here) and
# loose end-state tolerances so that the hop reaches its bands (not a physical hop).
OVERLAY = {
    "glasses": [GLASS],
    "replicas": 1,
    "quench": {"minimise_max_iterations": 200, "compress_ps": 0.2, "melt_ps": 0.2,
               "cooling_rate_K_per_ps": 3000.0, "npt_equilibration_ps": 0.2, "nvt_equilibration_ps": 0.1},
    "production": {"temperatures_K": [300], "heating_ps": 0.1, "equilibration_ps": 0.1, "duration_ps": 1.0,
                   "dump_interval_ps": 0.025, "fine_T_K": 300.0, "fine_dump_interval_ps": 0.025},
    "structure": {"temperature_K": 300.0},
    "softness": {"temperature_K": 300.0, "label_temperature_K": 300.0, "label_recipe": "d_cum",
                 "p_hop_tau_ps": 0.1, "window_frames": 5, "window_stride_frames": 20,
                 # two windows of a 1-ps run train a narrow model: do not refuse to score (NEB selection needs softness)
                 "max_abs_standardised_feature": 1.0e6},
    "neb": {"glasses": [GLASS], "classes": ["soft->hard"], "n_per_class": 1, "batch_size": 1,
            "min_distance_A": 0.1, "ranks_per_replica": 1, "min_replicas": 3, "replicas_per_A": 0.1, "n_steps_neb": 50,
            "n_steps_climb": 50, "print_every": 50, "climb_retries": 0, "max_split_depth": 0,
            "minimise_ftol_eV_A": 0.5, "relax_tolerance_A": 100.0, "max_other_displacement_A": 100.0,
            "trajectory_temperature_K": 300.0, "trace_duration_ps": 0.5},
    # the 1-ps-quenched glass has larger Delaunay cells than paper.yaml's glasses: its homology
    # job stopped at margin 8 A asking for 9.2 A (a wider margin pads more atoms: a little dearer)
    "homology": {"margin_A": 10.0},
}

TARGETS = [
    f"results/{GLASS}/r1/quench/glass.data",
    f"results/{GLASS}/r1/nvt/300K/final.data",
    f"results/{GLASS}/r1/structure/speciation.json",
    f"results/{GLASS}/softness/labels.csv",
    f"results/{GLASS}/softness/li_properties.csv",
    f"results/{GLASS}/homology/pd_h1.csv",
    f"results/{GLASS}/neb/batches/batch_0.json",
]

# rule -> its benchmark table under results/benchmarks/
BENCHMARKS = {
    "quench": f"{GLASS}/r1/quench.tsv",
    "production": f"{GLASS}/r1/production_300K.tsv",
    "structure": f"{GLASS}/r1/structure.tsv",
    "softness_dynamics": f"{GLASS}/softness_dynamics.tsv",
    "softness_properties": f"{GLASS}/softness_properties.tsv",
    "homology": f"{GLASS}/homology.tsv",
    "neb_batch": f"{GLASS}/neb_batch_0.tsv",
}

LOOP = re.compile(r"^Loop time of ([\d.eE+-]+) on (\d+) procs for (\d+) steps with (\d+) atoms"
                  r"(?:\n(?!Loop time).*){0,3}?\n\s*([\d.]+)% CPU use", re.M)
COLUMNS = ["rule", "ranks", "atoms", "unit", "units_run", "wall_s", "cpu_s", "max_rss_MB", "lammps_core_s",
           "lammps_steps", "core_s_per_unit", "core_s_per_atom_step"]


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"nproc": os.cpu_count(), "cpu_model": cpu, "memory_GB": round(mem_kb / 1024 ** 2, 1),
            "hostname": platform.node()}


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def loop_lines(paths, wall: bool = False) -> list[tuple[float, int, int, int]]:
    """(CPU s per rank, procs, steps, atoms) of every LAMMPS run or minimisation in ``paths``
    (minimisations: steps = iterations): the loop's wall time times LAMMPS' "% CPU use" of it,
    so that time the ranks were descheduled (other users' jobs on this shared machine, or more
    ranks than cores) is not counted; ``wall``: the loop's wall time itself."""
    out = []
    for p in paths:
        for m in LOOP.finditer(Path(p).read_text(errors="replace")):
            share = 1.0 if wall else float(m.group(5)) / 100.0
            out.append((float(m.group(1)) * share, int(m.group(2)), int(m.group(3)), int(m.group(4))))
    return out


def benchmark_row(path: Path) -> dict:
    with open(path) as fh:
        row = next(csv.DictReader(fh, delimiter="\t"))
    return {"wall_s": float(row["s"]), "cpu_s": float(row["cpu_time"]), "max_rss_MB": float(row["max_rss"])}


def snakemake(workdir: Path, overlay: Path, targets: list[str], *extra: str) -> None:
    # targets first: the options that follow take lists
    cmd = [str(Path(sys.executable).parent / "snakemake"), *targets, "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--cores", "2", "--configfile", str(REPO / "config" / "paper.yaml"),
           str(overlay), "--set-threads", "quench=1", "production=1", "--rerun-triggers", "mtime", "--keep-going", *extra]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def md_row(rule: str, bench: dict, logs: list[Path]) -> dict:
    loops = loop_lines(logs)
    if not loops:
        raise SystemExit(f"{rule}: no LAMMPS 'Loop time' line in {', '.join(map(str, logs))}")
    procs = {p for _, p, _, _ in loops}
    atoms = max(a for *_, a in loops)
    steps = sum(s for _, _, s, _ in loops)
    core_s = sum(t * p for t, p, _, _ in loops)
    return dict(bench, rule=rule, ranks=max(procs), atoms=atoms, unit="MD step", units_run=steps,
                lammps_core_s=core_s, lammps_steps=steps, core_s_per_unit=core_s / steps,
                core_s_per_atom_step=core_s / sum(s * a for _, _, s, a in loops),
                lammps_loop_wall_s=sum(t for t, *_ in loop_lines(logs, wall=True)))


def neb_rows(bench: dict, hops_dir: Path) -> list[dict]:
    """neb_batch as a whole, its NEB image-steps (partition logs of every band) and its
    minimisation iterations (inherent structure and end states)."""
    band_core_s, image_steps, ranks_seen = 0.0, 0, []
    for universe in sorted(hops_dir.rglob("neb.log")):
        parts = sorted(universe.parent.glob("neb.log.*"))
        loops = loop_lines(parts)
        if not loops:
            continue
        ranks = sum(p for _, p, _, _ in loops) // max(1, len(loops) // len(parts))
        ranks_seen.append(ranks)
        band_core_s += sum(t * p for t, p, _, _ in loops)
        image_steps += sum(s for _, _, s, _ in loops)
    mins = loop_lines([p for p in hops_dir.rglob("*.log") if not p.name.startswith("neb.log")])
    if not image_steps or not mins:
        raise SystemExit(f"neb_batch: no band or minimisation log with a 'Loop time' line under {hops_dir}")
    atoms = max(a for *_, a in mins)
    evals = sum(s for _, _, s, _ in mins)
    min_core_s = sum(t * p for t, p, _, _ in mins)
    whole = dict(bench, rule="neb_batch", ranks=max(ranks_seen), atoms=atoms, unit="hop", units_run=1,
                 lammps_core_s=None, lammps_steps=None, core_s_per_unit=bench["cpu_s"], core_s_per_atom_step=None)
    band = {"rule": "neb_batch (bands)", "ranks": max(ranks_seen), "atoms": atoms, "unit": "image-step",
            "units_run": image_steps, "wall_s": None, "cpu_s": None, "max_rss_MB": None,
            "lammps_core_s": band_core_s, "lammps_steps": image_steps, "core_s_per_unit": band_core_s / image_steps,
            "core_s_per_atom_step": band_core_s / image_steps / atoms}
    minim = {"rule": "neb_batch (minimisations)", "ranks": 1, "atoms": atoms, "unit": "minimisation iteration",
             "units_run": evals, "wall_s": None, "cpu_s": None, "max_rss_MB": None, "lammps_core_s": min_core_s,
             "lammps_steps": evals, "core_s_per_unit": min_core_s / evals, "core_s_per_atom_step": min_core_s / evals / atoms}
    return [whole, band, minim]


def dump_parse_cost(trajectory: Path) -> tuple[int, float]:
    """Frames of a dump and the CPU seconds of reading one (lipsglass.lammpsio.iter_dump, as the
    structure and softness jobs read it)."""
    import time

    from lipsglass.lammpsio import iter_dump

    start = time.process_time()
    frames = sum(1 for frame in iter_dump(trajectory) if frame.unwrapped_positions() is not None)
    return frames, (time.process_time() - start) / frames


def analysis_row(rule: str, bench: dict, unit: str, units_run: int, atoms: int) -> dict:
    return dict(bench, rule=rule, ranks=1, atoms=atoms, unit=unit, units_run=units_run, lammps_core_s=None,
                lammps_steps=None, core_s_per_unit=bench["cpu_s"] / units_run, core_s_per_atom_step=None)


# rules whose peak memory the rehearsal measures on another rule's run: the same script on a
# configuration of the same size
SAME_SCRIPT = {"softness_replica_properties": "softness_properties"}


def profile_mem_mb(profile: Path) -> dict[str, float]:
    data = yaml.safe_load(profile.read_text())
    default = float(data["default-resources"]["mem_mb"])
    rules = data.get("set-resources", {})
    return {rule: float(rules.get(rule, {}).get("mem_mb", default)) for rule in [*BENCHMARKS, *SAME_SCRIPT]}


def check_memory(rows: list[dict], profile: Path) -> list[str]:
    """Rules whose measured peak memory exceeds their mem_mb in ``profile``."""
    limits = profile_mem_mb(profile)
    bad = []
    for rule, limit in limits.items():
        for r in rows:
            if r["rule"] == SAME_SCRIPT.get(rule, rule) and r.get("max_rss_MB") not in (None, ""):
                rss = float(r["max_rss_MB"])
                print(f"  {rule:<28} (run: {r['rule']}, {r['ranks']} ranks): peak {rss:6.0f} MB <= mem_mb {limit:.0f}"
                      f" {'ok' if rss <= limit else 'EXCEEDED'}")
                if rss > limit:
                    bad.append(f"{rule}: peak {rss:.0f} MB > mem_mb {limit:.0f} of {profile}")
    return bad


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def write_tables(rows: list[dict], meta: dict, constants: dict, out: Path) -> None:
    out.mkdir(exist_ok=True)
    with open(out / "paper_scale_rehearsal.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: _fmt(r.get(k)) for k in COLUMNS})
    (out / "paper_scale_rehearsal.json").write_text(json.dumps({"meta": meta, "constants": constants, "rows": rows},
                                                               indent=1) + "\n")
    head = ("| rule | MPI ranks | atoms | unit | units run | wall (s) | CPU (s) | peak RSS (MB) | "
            "core-s per unit | core-s per atom-step |")
    lines = [f"Paper-scale rehearsal, {meta['date']} ({meta['script']}): {meta['machine']['nproc']} cores "
             f"({meta['machine']['cpu_model']}), {meta['machine']['memory_GB']} GB; load average "
             f"(1/5/15 min) {meta['load_before']} before, {meta['load_after']} after (the machine is shared).",
             "", head, "|" + "---|" * 10]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(k)) for k in
                                       ("rule", "ranks", "atoms", "unit", "units_run", "wall_s", "cpu_s", "max_rss_MB",
                                        "core_s_per_unit", "core_s_per_atom_step")) + " |")
    lines += ["", "Derived constants (lipsglass/cost.py):", ""]
    lines += [f"- `{k}` = {v:.4g}" for k, v in constants.items()]
    (out / "paper_scale_rehearsal.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def run(keep: Path | None, out: Path) -> int:
    """Run the rules (``measure``), then derive and write the table (``derive``)."""
    work = Path(tempfile.mkdtemp(prefix="lipsglass-rehearsal-")) if keep is None else keep
    measure(work)
    return derive(work, out)


def measure(work: Path) -> None:
    """Every heavy rule once in ``work``; its meta.json records date, machine and load."""
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "script": "benchmarks/paper_scale_rehearsal.py", "machine": machine(), "load_before": load_average(),
            "overlay": OVERLAY}
    work.mkdir(parents=True, exist_ok=True)
    overlay = work / "rehearsal.yaml"
    overlay.write_text(yaml.safe_dump(OVERLAY, sort_keys=False))
    bench_dir = work / "results" / "benchmarks"
    # 1. every heavy rule once: quench on 2 MPI ranks (the MPI path of the cluster jobs), the rest
    #    on one rank or core
    snakemake(work, overlay, TARGETS, "--set-resources", "quench:tasks=2")
    one_rank = work / "production_1rank"
    one_rank.mkdir(exist_ok=True)
    shutil.copy(bench_dir / BENCHMARKS["production"], one_rank / "benchmark.tsv")
    shutil.copy(work / f"logs/{GLASS}/r1/production_300K.log", one_rank / "production.log")
    # 2. the same production run on 2 MPI ranks: parallel efficiency of 2 ranks
    snakemake(work, overlay, [f"results/{GLASS}/r1/nvt/300K/final.data"], "--set-resources", "production:tasks=2",
              "--forcerun", "production")
    meta["load_after"] = load_average()
    meta["dump_frames"], meta["dump_read_core_s_per_frame"] = dump_parse_cost(
        work / f"results/{GLASS}/r1/nvt/300K/trajectory.lammpstrj")
    (work / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")


def derive(work: Path, out: Path) -> int:
    """The table and constants of the rehearsal in ``work`` (benchmark tables and LAMMPS logs),
    written to ``out``; then the memory check against the profile."""
    meta = json.loads((work / "meta.json").read_text())
    bench_dir = work / "results" / "benchmarks"
    one_rank = work / "production_1rank"
    rows = [md_row("quench", benchmark_row(bench_dir / BENCHMARKS["quench"]), [work / f"logs/{GLASS}/r1/quench.log"]),
            md_row("production", benchmark_row(one_rank / "benchmark.tsv"), [one_rank / "production.log"]),
            md_row("production", benchmark_row(bench_dir / BENCHMARKS["production"]),
                   [work / f"logs/{GLASS}/r1/production_300K.log"])]
    atoms = rows[0]["atoms"]
    trajectory = work / f"results/{GLASS}/r1/nvt/300K/trajectory.lammpstrj"
    # timed by measure(); a folder measured before that was recorded is timed now
    read_frames, parse_s = ((meta["dump_frames"], meta["dump_read_core_s_per_frame"]) if "dump_frames" in meta
                            else dump_parse_cost(trajectory))
    used_frames = min(read_frames, int(yaml.safe_load((REPO / "config/paper.yaml").read_text())
                                       ["structure"]["max_frames"]))
    dynamics = json.loads((work / f"results/{GLASS}/softness/dynamics.json").read_text())
    structure = analysis_row("structure", benchmark_row(bench_dir / BENCHMARKS["structure"]), "frame", used_frames, atoms)
    # per analysed frame without reading the dump (paper.yaml reads 2001 frames and analyses 50)
    structure["core_s_per_unit"] = (structure["cpu_s"] - read_frames * parse_s) / used_frames
    parse = {"rule": "dump reading (iter_dump)", "ranks": 1, "atoms": atoms, "unit": "frame", "units_run": read_frames,
             "wall_s": None, "cpu_s": read_frames * parse_s, "max_rss_MB": None, "lammps_core_s": None,
             "lammps_steps": None, "core_s_per_unit": parse_s, "core_s_per_atom_step": None}
    rows += [structure, parse,
             analysis_row("softness_dynamics", benchmark_row(bench_dir / BENCHMARKS["softness_dynamics"]), "window",
                          int(dynamics["n_windows"]), atoms),
             analysis_row("softness_properties", benchmark_row(bench_dir / BENCHMARKS["softness_properties"]),
                          "configuration", 1, atoms),
             analysis_row("homology", benchmark_row(bench_dir / BENCHMARKS["homology"]), "configuration", 1, atoms)]
    neb, neb_band, neb_min = neb_rows(benchmark_row(bench_dir / BENCHMARKS["neb_batch"]),
                                      work / f"results/{GLASS}/neb/hops")
    rows += [neb, neb_band, neb_min]
    with np.load(work / f"results/{GLASS}/softness/features.npz") as f:
        feature_mb = sum(f[k].nbytes for k in f.files) / 1e6

    by = {(r["rule"], r["ranks"]): r for r in rows}
    p1, p2 = by[("production", 1)], by[("production", 2)]
    constants = {
        "MD_CORE_S_PER_ATOM_STEP": p1["core_s_per_atom_step"],
        "MPI_EFFICIENCY_2_RANKS": p1["core_s_per_atom_step"] / p2["core_s_per_atom_step"],
        # job wall time outside LAMMPS' loops (Python, reading the data file, PPPM set-up, writing)
        "MD_STARTUP_S": p1["wall_s"] - p1["lammps_loop_wall_s"],
        "MD_RSS_MB_PER_RANK": by[("quench", 2)]["max_rss_MB"] / 2,
        "NEB_CORE_S_PER_ATOM_IMAGE_STEP": neb_band["core_s_per_atom_step"],
        "NEB_CORE_S_PER_ATOM_ITERATION": neb_min["core_s_per_atom_step"],
        "NEB_RSS_MB_PER_RANK": neb["max_rss_MB"] / neb["ranks"],
        "DUMP_CORE_S_PER_ATOM_FRAME": parse_s / atoms,
        "STRUCTURE_CORE_S_PER_FRAME": by[("structure", 1)]["core_s_per_unit"],
        "STRUCTURE_RSS_MB": by[("structure", 1)]["max_rss_MB"],
        "SOFTNESS_DYNAMICS_CORE_S_PER_WINDOW": by[("softness_dynamics", 1)]["core_s_per_unit"],
        "SOFTNESS_DYNAMICS_RSS_MB": by[("softness_dynamics", 1)]["max_rss_MB"],
        "SOFTNESS_FEATURES_MB_PER_WINDOW": feature_mb / int(dynamics["n_windows"]),
        "SOFTNESS_PROPERTIES_CORE_S": by[("softness_properties", 1)]["core_s_per_unit"],
        "SOFTNESS_PROPERTIES_RSS_MB": by[("softness_properties", 1)]["max_rss_MB"],
        "HOMOLOGY_CORE_S": by[("homology", 1)]["core_s_per_unit"],
        "HOMOLOGY_RSS_MB": by[("homology", 1)]["max_rss_MB"],
        "REHEARSAL_ATOMS": float(atoms),
    }
    write_tables(rows, meta, constants, out)
    print(f"work folder: {work}")
    bad = check_memory(rows, PROFILE)
    if bad:
        print("\n".join(bad), file=sys.stderr)
        return 1
    return 0


def check(csv_path: Path) -> int:
    with open(csv_path) as fh:
        rows = list(csv.DictReader(fh))
    bad = check_memory(rows, PROFILE)
    if bad:
        print("\n".join(bad), file=sys.stderr)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true",
                        help="only check the recorded peak memories (docs/rehearsal/paper_scale_rehearsal.csv) "
                             "against the profile's mem_mb")
    parser.add_argument("--workdir", type=Path, help="run in this folder and keep it (default: a new temporary one)")
    parser.add_argument("--derive", type=Path, metavar="WORKDIR",
                        help="only derive the table again from the folder of an earlier run (its logs and benchmarks)")
    parser.add_argument("--units-divisor", type=int, default=1,
                        help="divide the glass's anion units by this (a quick trial of the script, not a measurement)")
    args = parser.parse_args()
    if args.check:
        return check(OUT / "paper_scale_rehearsal.csv")
    if args.derive:
        return derive(args.derive, OUT)
    if args.units_divisor > 1:
        units = yaml.safe_load((REPO / "config/paper.yaml").read_text())["compositions"][GLASS]["units"]
        OVERLAY["compositions"] = {GLASS: {"units": {k: max(1, v // args.units_divisor) for k, v in units.items()}}}
        return run(args.workdir, Path(tempfile.mkdtemp(prefix="lipsglass-rehearsal-trial-")))
    return run(args.workdir, OUT)


if __name__ == "__main__":
    raise SystemExit(main())
