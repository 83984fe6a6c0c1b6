"""Checks of the transport stage on one finished glass (prints the numbers, exit 1 on a failure).

(a) The project's D of every production run against an independent MSD: MDAnalysis
    ``EinsteinMSD`` (FFT, tidynamics) on the same dump, fitted with scipy ``linregress`` over
    the same window. Must agree within 1 %. The project removes the whole-system centre-of-mass
    drift; MDAnalysis does not, so its coordinates are corrected here with MDAnalysis' own
    centre of mass, and both sides are also compared without any correction.
(b) The reported standard error of D against plain block averaging done independently: the
    trajectory cut into the same number of contiguous blocks, MDAnalysis MSD of each block,
    the same window, SE = std(D_block, ddof=1) / sqrt(n). Must agree within a factor 2.
(c) Wall time of the whole transport analysis of the glass (every run + Arrhenius fit, re-run
    here into a scratch folder) against the MD time that produced its trajectories (column
    ``s`` of the Snakemake benchmark tables benchmarks/{glass}/production_*.tsv). Must be < 5 %.

Usage (from a workflow directory holding results/{glass}/nvt/*K and benchmarks/{glass}):
    python benchmarks/transport_checks.py GLASS [--root DIR] [--config config/config.yaml]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import stats

from lipsglass.config import load_config
from lipsglass.lammpsio import iter_dump
from lipsglass.stages.transport import arrhenius_job, diffusion_job
from lipsglass.transport.diffusion import diffusion_from_positions
from lipsglass.transport.trajectory import read_species_trajectory

REPO = Path(__file__).resolve().parent.parent


def mdanalysis_msd(trajectory: Path, species: str, timestep_fs: float):
    """MSD of ``species`` (A^2 per lag) with MDAnalysis, as stored and with the whole-system
    centre-of-mass drift removed by MDAnalysis' own masses (guessed from the elements).
    Returns (lag_ps, msd_raw, msd_com, COM-corrected in-memory Universe, selection, dt_ps)."""
    import MDAnalysis as mda
    from MDAnalysis.analysis.msd import EinsteinMSD
    from MDAnalysis.coordinates.memory import MemoryReader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # "no dt information" / "guessed masses": times come from the steps
        u = mda.Universe(str(trajectory), format="LAMMPSDUMP", topology_format="LAMMPSDUMP",
                         lammps_coordinate_convention="unwrapped")
        steps = np.array([ts.data["step"] for ts in u.trajectory])
        u.transfer_to_memory()
    if np.any(np.diff(steps) != steps[1] - steps[0]):
        raise ValueError(f"{trajectory}: frames not evenly spaced")
    dt_ps = float(steps[1] - steps[0]) * timestep_fs / 1000.0
    select = f"element {species}"
    raw = EinsteinMSD(u, select=select, msd_type="xyz", fft=True).run().results.timeseries
    xyz = u.trajectory.coordinate_array.astype(np.float64)             # (frames, atoms, 3)
    com = np.array([u.atoms.center_of_mass() for _ in u.trajectory], dtype=np.float64)
    u.load_new(xyz - (com - com[0])[:, None, :], format=MemoryReader, order="fac")
    com_removed = EinsteinMSD(u, select=select, msd_type="xyz", fft=True).run().results.timeseries
    lag = np.arange(len(steps)) * dt_ps
    return lag, raw, com_removed, u, select, dt_ps


def d_from_msd(lag_ps, msd_A2, start_ps, end_ps) -> float:
    """D (cm^2/s) = slope / 6 of an ordinary least-squares line over [start, end] (scipy)."""
    eps = 1e-6 * end_ps
    w = (lag_ps >= start_ps - eps) & (lag_ps <= end_ps + eps) & (lag_ps > 0)
    return stats.linregress(lag_ps[w], msd_A2[w]).slope / 6.0 * 1e-4


def plain_block_se(u, select: str, lag_ps, n_blocks: int, start_ps: float, end_ps: float) -> tuple[float, list]:
    from MDAnalysis.analysis.msd import EinsteinMSD

    n_frames = len(u.trajectory)
    bf = n_frames // n_blocks
    d = []
    for b in range(n_blocks):
        m = EinsteinMSD(u, select=select, msd_type="xyz", fft=True).run(start=b * bf, stop=(b + 1) * bf)
        d.append(d_from_msd(lag_ps[:bf], m.results.timeseries, start_ps, end_ps))
    return float(np.std(d, ddof=1) / math.sqrt(n_blocks)), d


def atom_group_se(u, select: str, lag_ps, n_groups: int, start_ps: float, end_ps: float, seed: int = 0) -> float:
    """Block averaging over atoms instead of time: the selected atoms split at random into
    ``n_groups`` disjoint groups, MDAnalysis MSD and D of each group over the whole run,
    SE = std(D_group, ddof=1) / sqrt(n_groups). Used when no time block is as long as the fit
    window (short runs), as the independent counterpart of the bootstrap over atoms."""
    from MDAnalysis.analysis.msd import EinsteinMSD

    ids = u.select_atoms(select).ids
    rng = np.random.default_rng(seed)
    groups = np.array_split(rng.permutation(ids), n_groups)
    d = []
    for g in groups:
        sel = "id " + " ".join(str(i) for i in g)
        m = EinsteinMSD(u, select=sel, msd_type="xyz", fft=True).run()
        d.append(d_from_msd(lag_ps, m.results.timeseries, start_ps, end_ps))
    return float(np.std(d, ddof=1) / math.sqrt(n_groups))


def benchmark_seconds(paths) -> float:
    total = 0.0
    for p in paths:
        with open(p, newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        total += sum(float(r["s"]) for r in rows)
    return total


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("glass")
    ap.add_argument("--root", type=Path, default=Path.cwd(), help="workflow directory (results/, benchmarks/)")
    ap.add_argument("--config", type=Path, default=REPO / "config" / "config.yaml")
    ap.add_argument("--temperatures-K", type=float, nargs="+",
                    help="check only these production runs (default: every configured temperature)")
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    settings, timestep_fs = cfg["transport"], cfg["md"]["timestep_fs"]
    temperatures = args.temperatures_K or cfg["production"]["temperatures_K"]
    labels = [f"{round(T)}" for T in temperatures]
    nvt = args.root / "results" / args.glass / "nvt"
    missing = [T for T in labels if not (nvt / f"{T}K" / "trajectory.lammpstrj").exists()]
    if missing:
        print(f"{args.glass}: no trajectory at {missing} K under {nvt}; the MD has not finished", file=sys.stderr)
        return 2
    glass_data = args.root / "results" / args.glass / "quench" / "glass.data"
    ok = True

    # (c) is timed first: the stage jobs exactly as the workflow runs them (every run, then the fit),
    # written to a scratch folder. Dump parsing is included (it dominates).
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        results = {}
        for T, label in zip(temperatures, labels):
            out = {"result": str(tmp / f"{label}K.json"), "msd": str(tmp / f"{label}K.csv")}
            results[label] = diffusion_job(nvt / f"{label}K" / "trajectory.lammpstrj",
                                           nvt / f"{label}K" / "thermo.csv", T, timestep_fs, settings, out)
        summary = arrhenius_job([str(tmp / f"{label}K.json") for label in labels], glass_data, settings, args.glass,
                                {"table": str(tmp / "diffusion.csv"), "arrhenius": str(tmp / "arrhenius.json")})
        t_analysis = time.perf_counter() - t0

    print(f"== transport checks: glass {args.glass}, runs {', '.join(label + ' K' for label in labels)}")
    print(f"   Arrhenius: {summary['status']} ({summary['reason']}); Ea = {summary['Ea_eV']} +- "
          f"{summary['Ea_stderr_eV']} eV")
    stored = args.root / "results" / args.glass / "transport"
    if stored.is_dir():
        print(f"   stored outputs in {stored} compared with this re-run:")
        for label in labels:
            p = stored / f"{label}K" / "diffusion.json"
            if p.exists():
                d_stored = json.loads(p.read_text())["D_cm2_s"]
                print(f"     {label:>5} K  stored D = {d_stored:.6e}  re-run D = {results[label]['D_cm2_s']:.6e}")

    print("\n   diffusive check per run (linearity of early/late D, and MSD past the cage):")
    for label in labels:
        r = results[label]
        print(f"     {label:>5} K  D_early {r['D_early_cm2_s']} D_late {r['D_late_cm2_s']} z {r['linearity_z_score']}"
              f"  past cage {r['msd_past_cage_A2']:.3g} vs {r['cage_threshold_A2']:.3g} A^2  -> {r['diffusive']}")
    print("\n(a) D: project vs MDAnalysis EinsteinMSD (same dump, same fit window), tolerance 1 %")
    print("   D in cm^2/s. Left: centre-of-mass drift removed (the reported D; MDAnalysis coordinates corrected")
    print("   with MDAnalysis' own masses). Right: no correction on either side.")
    print(f"   {'T_K':>6} {'window_ps':>13} {'slope':>6} {'diffusive':>9} {'D_project':>12} {'D_MDAnalysis':>12} "
          f"{'rel_diff':>9} | {'D_proj_raw':>12} {'D_MDA_raw':>12} {'rel_diff':>9}")
    plain = {}
    for label in labels:
        r = results[label]
        traj = nvt / f"{label}K" / "trajectory.lammpstrj"
        lag, msd_raw, msd_com, u, select, dt_ps = mdanalysis_msd(traj, settings["species"], timestep_fs)
        if abs(dt_ps - r["dt_ps"]) > 1e-9:
            raise RuntimeError(f"frame interval {dt_ps} ps (MDAnalysis) vs {r['dt_ps']} ps (project)")
        d_mda = d_from_msd(lag, msd_com, r["fit_start_ps"], r["fit_end_ps"])
        d_mda_raw = d_from_msd(lag, msd_raw, r["fit_start_ps"], r["fit_end_ps"])
        tr = read_species_trajectory(traj, settings["species"], timestep_fs=timestep_fs)
        d_nocom = diffusion_from_positions(tr.positions, tr.dt_ps, None, fit_start_ps=r["fit_start_ps"],
                                           fit_end_ps=r["fit_end_ps"], n_blocks=settings["n_blocks"],
                                           n_bootstrap=2).D_cm2_s
        rel = (d_mda - r["D_cm2_s"]) / abs(r["D_cm2_s"])
        rel_raw = (d_mda_raw - d_nocom) / abs(d_nocom)
        passed = abs(rel) < 0.01 and abs(rel_raw) < 0.01
        ok &= passed
        print(f"   {label:>6} {r['fit_start_ps']:6.2f}-{r['fit_end_ps']:<6.2f} {r['loglog_slope']:6.3f} "
              f"{str(r['diffusive']):>9} {r['D_cm2_s']:12.4e} {d_mda:12.4e} {rel:+9.2e} | {d_nocom:12.4e} "
              f"{d_mda_raw:12.4e} {rel_raw:+9.2e} {'PASS' if passed else 'FAIL'}")
        # the configured block count, and (sensitivity) 4 and the most blocks that still hold the window
        n_frames = len(u.trajectory)
        fitting = [n for n in range(2, n_frames // 3 + 1) if (n_frames // n - 1) * dt_ps >= r["fit_end_ps"] - 1e-9]
        if r["stderr_estimator"] == "blocks" and fitting:
            plain[label] = {n: plain_block_se(u, select, lag, n, r["fit_start_ps"], r["fit_end_ps"])[0]
                            for n in sorted({settings["n_blocks"], max(2, min(fitting)), max(fitting)})}
            plain[label]["kind"] = f"time blocks ({settings['n_blocks']})"
            plain[label]["reference"] = plain[label][settings["n_blocks"]]
        else:
            # the fit window is longer than a time block: the project reports the bootstrap over
            # atoms; its independent counterpart is block averaging over disjoint groups of atoms
            # 32 groups: the SE of a standard deviation from n values is ~1/sqrt(2(n-1)) = 13 %
            plain[label] = {"kind": "32 atom groups",
                            "reference": atom_group_se(u, select, lag, 32, r["fit_start_ps"], r["fit_end_ps"])}

    print("\n(b) SE of D: reported vs plain block averaging done independently with MDAnalysis (time blocks when")
    print("   the fit window fits in a block, else disjoint groups of atoms), tolerance factor 2")
    print("   plain SE with other time-block counts (sensitivity, not tested): 'n:SE'")
    print(f"   {'T_K':>6} {'SE_reported':>12} {'estimator':>15} {'SE_bootstrap':>12} {'SE_plain':>12} {'plain kind':>22} "
          f"{'ratio':>7}")
    for label in labels:
        r = results[label]
        se_plain = plain[label]["reference"]
        ratio = r["D_stderr_cm2_s"] / se_plain
        passed = 0.5 <= ratio <= 2.0
        ok &= passed
        others = "  ".join(f"{n}:{v:.3e}" for n, v in plain[label].items()
                           if isinstance(n, int) and n != settings["n_blocks"])
        print(f"   {label:>6} {r['D_stderr_cm2_s']:12.4e} {r['stderr_estimator']:>15} "
              f"{r['D_stderr_bootstrap_cm2_s']:12.4e} {se_plain:12.4e} {plain[label]['kind']:>22} {ratio:7.3f} "
              f"{'PASS' if passed else 'FAIL'}   {others}")

    print("\n(c) analysis wall time vs MD time, tolerance 5 %")
    tsv = [args.root / "benchmarks" / args.glass / f"production_{label}K.tsv" for label in labels]
    tsv = [p for p in tsv if p.exists()]
    if len(tsv) != len(labels):
        print(f"   benchmarks/{args.glass}/production_*.tsv missing for some runs under {args.root}: "
              "MD time unknown  FAIL")
        return 1
    t_md = benchmark_seconds(tsv)
    frac = t_analysis / t_md
    passed = frac < 0.05
    ok &= passed
    n_frames = sum(r["n_frames"] for r in results.values())
    n_atoms = next(iter_dump(nvt / f"{labels[0]}K" / "trajectory.lammpstrj")).ids.size
    print(f"   analysis of {len(labels)} runs ({n_frames} frames of {n_atoms} atoms) + Arrhenius fit: {t_analysis:.2f} s")
    print(f"   MD production ({len(tsv)} Snakemake benchmark tables): {t_md:.1f} s")
    run_tsv = [args.root / "benchmarks" / args.glass / f"transport_run_{label}K.tsv" for label in labels]
    if all(p.exists() for p in run_tsv):
        t_jobs = benchmark_seconds(run_tsv)
        print(f"   workflow transport_run jobs (their benchmark tables; interpreter start-up and imports "
              f"included): {t_jobs:.2f} s = {100 * t_jobs / t_md:.2f} % of the MD time")
    print(f"   ratio {100 * frac:.2f} %  {'PASS' if passed else 'FAIL'}")
    print(f"\n{'ALL CHECKS PASSED' if ok else 'SOME CHECKS FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
