"""NEB stage (paper Fig. 4B, 4C, S3; claims C9, C10): Li migration barriers of sampled hops
between Li sites, their statistics by hop class, and the motion of Li around each anion type
over the first picoseconds of a production run (``traced_li`` picks the Li that Fig. 4D traces;
that figure is rendered by ``lipsglass.stages.rendered``).

The science lives in ``lipsglass.neb`` (hop selection, end states, LAMMPS NEB, result caching,
Li motion) and ``lipsglass.figures.neb``; this module reads job inputs, calls them with the
configured settings and writes the outputs.

Design choices:

* Starting glass: the configuration the softness stage analyses (``final.data`` of the
  ``softness.temperature_K`` production run). ``softness.csv`` holds the softness and the
  (wrapped) position of every Li of exactly that configuration; the selection job checks that
  the Li ids and positions of both files agree, so hop classes refer to the glass the NEB runs on.
* Batches: the number of batch jobs of a glass is fixed by the config
  (ceil(n_per_class * len(classes) / batch_size)) so the workflow's DAG is known before the
  selection runs; batch k runs hops k*batch_size ... (k+1)*batch_size - 1 of ``hops.csv`` (a
  batch beyond a shortfall runs nothing and says so in its manifest). Hops are computed in the
  persistent per-glass folder ``results/<glass>/neb/hops/`` (``lipsglass.neb.run_batch``): a
  killed batch resumes with its unfinished hops only.
* Statistics: only converged hops (climbing image on ``ftol`` and a refined band reproducing
  both barriers) enter barrier statistics and claims. Hops that did not converge, were rejected
  by the end-state checks (including concerted moves and relaxed lengths outside the window),
  or failed after their retries are listed in ``barriers.csv`` with their status and reason and
  counted per class in ``barriers.json`` (with the failure rate by class); never silently kept
  or dropped.
* C9 criterion (paired design): every converged soft->hard or hard->soft hop gives the barrier
  out of the soft site minus the barrier out of the hard site (its forward and backward
  barriers: the backward barrier is the forward barrier of the reverse hop), pooled over the NEB
  glasses. Holds when the exact 95% Hodges-Lehmann (Wilcoxon signed-rank) interval lies below 0;
  does not hold when it lies above -``claims.c9_margin_eV`` (the data exclude a soft-site
  advantage of that size); "not tested" otherwise or with fewer than
  ``claims.min_hops_per_class`` (>= 10) converged hops in either class, stating the number of
  hops needed for power ``claims.c9_power`` from the observed spread of the differences.
* C10 criterion: over the first ``trace_duration_ps`` of the ``trajectory_temperature_K`` run of
  every glass and replica, Li whose nearest anion S belongs to PS4 make long hops (net
  displacement > ``hop_distance_A``) more often than Li nearest to P2S6, analysed with the
  Cochran-Mantel-Haenszel common odds ratio stratified by glass and replica (so the
  composition-level mobility is not mixed into the local effect): holds when its 95%
  (Robins-Breslow-Greenland) interval lies above 1, does not hold when it lies below 1, "not
  tested" otherwise or when either group has fewer than ``claims.min_li_per_anion`` Li.

Units: lengths A, energies eV, time ps, softness dimensionless.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
from scipy import stats

from lipsglass.claims import write_claim_rows
from lipsglass.forcefield import ForceField
from lipsglass.jsonio import write_json
from lipsglass.lammps_runtime import LammpsRuntime
from lipsglass.lammpsio import iter_dump, read_data
from lipsglass.neb import (CONVERGED, HOP_CLASSES, NEBSettings, barriers_by_class, collect_results, hop_dir,
                           li_motion_by_anion, read_hops_csv, read_path_csv, representative_hop, run_batch,
                           select_hops, status_counts, write_rows_csv)
from lipsglass.stages.softness import read_atom_labels, s_anion_labels

log = logging.getLogger(__name__)

MAIN_CLASSES = ("soft->hard", "hard->soft")
BARRIER_COLUMNS = ("hop_id", "from_id", "to_id", "class", "distance_A", "S_from", "S_to", "E_forward_eV",
                   "E_backward_eV", "converged", "status", "not_converged_reason", "reaction_energy_eV",
                   "regular_forward_eV", "max_force_eV_A", "initial_shift_A", "final_to_target_A", "hop_length_A",
                   "max_other_displacement_A", "other_site_changes", "replicas", "refined_replicas",
                   "refinement_change_eV", "segments", "intermediate_minimum", "linear_closest_approach_A", "attempts",
                   "wall_s", "error")
PATH_COLUMNS = ("hop_id", "class", "status", "replica", "reaction_coordinate", "energy_eV")
SUMMARY_COLUMNS = ("glass", "kind", "class", "n", "n_not_converged", "n_excluded", "n_failed", "failure_rate", "mean_eV", "mean_ci_low_eV",
                   "mean_ci_high_eV", "median_eV", "median_ci_low_eV", "median_ci_high_eV", "n_other",
                   "mannwhitney_p", "median_diff_eV", "median_diff_ci_low_eV", "median_diff_ci_high_eV",
                   "n_pairs", "paired_sd_eV", "wilcoxon_p", "note")
MOTION_COLUMNS = ("id", "nearest_anion", "displacement_A", "path_length_A", "hopped")
POOLED = "pooled"


# ---- settings ------------------------------------------------------------------------------

def neb_settings(settings: Mapping, md: Mapping) -> NEBSettings:
    """The NEB knobs of the ``neb`` config section (the keys that are ``NEBSettings`` fields;
    the section's other keys drive selection, statistics and traces), kspace from ``md``."""
    known = set(NEBSettings.__dataclass_fields__)
    return NEBSettings.from_config({k: v for k, v in settings.items() if k in known}, md)


def hops_requested(settings: Mapping) -> dict[str, int]:
    """Hops drawn per class: ``n_per_class`` for the configured classes, 0 for the others."""
    classes = list(settings["classes"])
    unknown = set(classes) - set(HOP_CLASSES)
    if unknown:
        raise ValueError(f"unknown hop classes {sorted(unknown)}; classes are {HOP_CLASSES}")
    return {c: int(settings["n_per_class"]) if c in classes else 0 for c in HOP_CLASSES}


def n_batches(settings: Mapping) -> int:
    """Batch jobs per glass: ceil(hops requested / batch_size), from the config alone."""
    n = sum(hops_requested(settings).values())
    return math.ceil(n / int(settings["batch_size"]))


def batch_slice(rows: Sequence, batch: int, batch_size: int) -> list:
    """Hops of batch ``batch`` (0-based): rows batch*batch_size ... (batch+1)*batch_size - 1."""
    if batch < 0 or batch_size < 1:
        raise ValueError(f"need batch >= 0 and batch_size >= 1, got {batch}, {batch_size}")
    return list(rows[batch * batch_size:(batch + 1) * batch_size])


# ---- selection -----------------------------------------------------------------------------

def _read_rows(path: str | Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def li_of_configuration(glass_data: str | Path, softness_csv: str | Path, tolerance_A: float = 1e-3):
    """(box, Li ids, Li positions (A, wrapped), softness) of the configuration ``glass_data``,
    the softness taken from ``softness_csv``. Raises ValueError unless both files hold the
    same Li at the same positions (within ``tolerance_A``, minimum image): the softness must
    describe the glass the NEB starts from."""
    data = read_data(glass_data)
    li = np.flatnonzero(data.elements() == "Li")
    if len(li) == 0:
        raise ValueError(f"{glass_data}: no Li")
    order = li[np.argsort(data.ids[li])]
    ids, pos = data.ids[order].astype(np.int64), data.box.wrap(data.positions[order])
    rows = _read_rows(softness_csv)
    table = {int(r["id"]): r for r in rows}
    if sorted(table) != ids.tolist():
        extra, missing = set(table) - set(ids.tolist()), set(ids.tolist()) - set(table)
        raise ValueError(f"{softness_csv} and {glass_data} hold different Li (only in the softness table: "
                         f"{sorted(extra)[:5]}, only in the configuration: {sorted(missing)[:5]})")
    s = np.array([float(table[int(i)]["S"]) for i in ids])
    xyz = np.array([[float(table[int(i)][c]) for c in ("x_A", "y_A", "z_A")] for i in ids])
    off = np.linalg.norm(data.box.minimum_image(xyz - pos), axis=1)
    if off.max() > tolerance_A:
        k = int(np.argmax(off))
        raise ValueError(f"Li {ids[k]} lies {off[k]:.3g} A from its softness-table position: {softness_csv} does "
                         f"not describe {glass_data}")
    return data.box, ids, pos, s


def select_job(glass_data: str, softness_csv: str, settings: Mapping, out_hops: str, out_selection: str) -> None:
    """Seeded hop sample of one glass (``lipsglass.neb.select_hops``): ``hops.csv`` and a JSON
    with the candidates, requests and shortfall per class."""
    neb_settings(settings, {})  # inconsistent NEB knobs fail here, before any batch job starts
    box, ids, pos, s = li_of_configuration(glass_data, softness_csv)
    sel = select_hops(box, pos, ids, s, hops_requested(settings), seed=int(settings["seed"]),
                      min_distance_A=float(settings["min_distance_A"]),
                      max_distance_A=float(settings["max_distance_A"]),
                      soft_threshold=float(settings["soft_threshold"]))
    sel.write_csv(out_hops)
    write_json(out_selection, {
        "configuration": str(glass_data), "softness": str(softness_csv), "n_Li": len(ids),
        "n_soft": int(np.sum(s > sel.soft_threshold)), "n_hard": int(np.sum(s <= sel.soft_threshold)),
        "n_hops": len(sel.rows), "candidates": sel.candidates, "requested": sel.requested,
        "shortfall": sel.shortfall, "seed": sel.seed, "min_distance_A": sel.min_distance_A,
        "max_distance_A": sel.max_distance_A, "soft_threshold": sel.soft_threshold,
        "n_batches": n_batches(settings), "batch_size": int(settings["batch_size"]),
    })


# ---- batches -------------------------------------------------------------------------------

def batch_job(glass_data: str, hops_csv: str, forcefield: str, settings: Mapping, md: Mapping, batch_size: int,
              batch: int, workdir: str, out_manifest: str, launcher: str | None = None,
              lammps: Mapping | None = None) -> None:
    """Run batch ``batch`` of the hops of ``hops_csv`` in ``workdir`` (finished hops are reused)
    and write a manifest: hop ids, statuses, barriers and wall times of the batch. ``settings``:
    the NEB knobs (``NEBSettings`` fields) of the ``neb`` section; ``md``: kspace settings;
    ``launcher``: MPI launcher (the rule's ``mpi`` resource); ``lammps``: the config section
    ``lammps`` (site executable, launcher, switches; ``LammpsRuntime``), not a rerun trigger."""
    hops = batch_slice(read_hops_csv(hops_csv), int(batch), int(batch_size))
    neb = neb_settings(settings, md)
    ff = ForceField.load(forcefield)
    log.info("batch %s: %d hops (%s) in %s", batch, len(hops), [h["hop_id"] for h in hops], workdir)
    results = run_batch(hops, glass_data, ff, neb, workdir, launcher, runtime=LammpsRuntime.from_config(lammps))
    write_json(out_manifest, {
        "batch": int(batch), "hop_ids": [h["hop_id"] for h in hops],
        "note": "" if hops else "no hops in this batch (the selection returned fewer hops than requested)",
        "results": [{"hop_id": r["hop_id"], "class": r["class"], "status": r["status"],
                     "forward_barrier_eV": r.get("forward_barrier_eV"), "wall_s": r.get("wall_s"),
                     "result": str(hop_dir(workdir, r["hop_id"]) / "result.json")} for r in results],
        "settings": neb.to_dict(), "glass_data": str(glass_data),
    })


# ---- collection ------------------------------------------------------------------------------

def barrier_rows(results: Sequence[Mapping]) -> list[dict]:
    """``barriers.csv`` rows (BARRIER_COLUMNS) of collected results (``collect_results``).
    Barriers of rejected or failed hops are empty; non-converged hops keep their provisional
    barriers with converged = False and are excluded from every statistic."""
    out = []
    for r in results:
        out.append({"hop_id": r["hop_id"], "from_id": r["from_id"], "to_id": r["to_id"], "class": r["class"],
                    "distance_A": r["distance_A"], "S_from": r["S_from"], "S_to": r["S_to"],
                    "E_forward_eV": r.get("forward_barrier_eV"), "E_backward_eV": r.get("backward_barrier_eV"),
                    "converged": r["status"] == CONVERGED, "status": r["status"],
                    "not_converged_reason": r.get("not_converged_reason"),
                    "reaction_energy_eV": r.get("reaction_energy_eV"),
                    "regular_forward_eV": r.get("regular_forward_barrier_eV"),
                    "max_force_eV_A": r.get("final_max_force_component_eV_A"),
                    "initial_shift_A": r.get("initial_shift_A"), "final_to_target_A": r.get("final_to_target_A"),
                    "hop_length_A": r.get("hop_length_A"),
                    "max_other_displacement_A": r.get("max_other_displacement_A"),
                    "other_site_changes": r.get("other_site_changes"),
                    "replicas": r.get("replicas"), "refined_replicas": r.get("refined_replicas"),
                    "refinement_change_eV": r.get("refinement_change_eV"), "segments": r.get("segments"),
                    "intermediate_minimum": r.get("intermediate_minimum"),
                    "linear_closest_approach_A": r.get("linear_closest_approach_A"), "attempts": r.get("attempts"),
                    "wall_s": r.get("wall_s"), "error": r.get("error")})
    return out


def read_barriers(path: str | Path) -> list[dict]:
    """``barriers.csv`` with numbers restored (empty cells -> None) and the keys the library's
    helpers expect (``forward_barrier_eV``)."""
    out = []
    for r in _read_rows(path):
        row = dict(r)
        for k in ("hop_id", "from_id", "to_id"):
            row[k] = int(r[k])
        for k in ("distance_A", "S_from", "S_to", "E_forward_eV", "E_backward_eV", "reaction_energy_eV",
                  "regular_forward_eV", "max_force_eV_A", "initial_shift_A", "final_to_target_A", "hop_length_A",
                  "max_other_displacement_A", "refinement_change_eV", "linear_closest_approach_A", "wall_s"):
            row[k] = float(r[k]) if r.get(k) not in ("", "None", None) else None
        row["converged"] = r["converged"] == "True"
        row["forward_barrier_eV"] = row["E_forward_eV"]
        row["backward_barrier_eV"] = row["E_backward_eV"]
        out.append(row)
    return out


def collect_job(hops_csv: str, selection_json: str, manifests: Sequence[str], workdir: str, outputs: Mapping[str, str]
                ) -> None:
    """Gather the result of every selected hop into ``barriers.csv`` (one row per hop, every
    status), ``barriers.json`` (status / rejection counts, per-class counts, selection
    bookkeeping) and ``paths.csv`` (energy along the path of every hop that has one)."""
    hops = read_hops_csv(hops_csv)
    covered = set()
    for m in manifests:
        covered.update(json.loads(Path(m).read_text())["hop_ids"])
    missing_batch = sorted({h["hop_id"] for h in hops} - covered)
    if missing_batch:
        raise ValueError(f"hops {missing_batch[:10]} are in no batch manifest: batch_size or n_per_class changed "
                         "since the batches ran")
    result_files = [hop_dir(workdir, h["hop_id"]) / "result.json" for h in hops]
    absent = [str(p) for p in result_files if not p.exists()]
    if absent:
        raise ValueError(f"missing hop results {absent[:5]}")
    results = collect_results(result_files)
    for h, r in zip(sorted(hops, key=lambda h: h["hop_id"]), results):
        if (h["hop_id"], h["from_id"], h["to_id"]) != (r["hop_id"], r["from_id"], r["to_id"]):
            raise ValueError(f"result of hop {h['hop_id']} does not belong to the selected hop (stale work folder?)")
    rows = barrier_rows(results)
    write_rows_csv(outputs["barriers"], rows, BARRIER_COLUMNS)
    paths = []
    for r in rows:
        path_csv = hop_dir(workdir, r["hop_id"]) / "path.csv"
        if path_csv.exists():
            rc, e = read_path_csv(path_csv)
            paths += [{"hop_id": r["hop_id"], "class": r["class"], "status": r["status"], "replica": k + 1,
                       "reaction_coordinate": x, "energy_eV": y} for k, (x, y) in enumerate(zip(rc, e))]
    write_rows_csv(outputs["paths"], paths, PATH_COLUMNS)
    selection = json.loads(Path(selection_json).read_text())
    per_class = {c: status_counts([r for r in rows if r["class"] == c]) for c in HOP_CLASSES}
    not_converged = [r["hop_id"] for r in rows if r["status"] != CONVERGED]
    write_json(outputs["summary"], {
        "n_hops": len(rows), "status_counts": status_counts(rows), "status_counts_by_class": per_class,
        "failure_rate_by_class": {c: (n["failed"] / sum(n.values()) if sum(n.values()) else None)
                                  for c, n in per_class.items()},
        # converged or rejected with a stated reason, i.e. not failed and not unconverged
        "decided_fraction": (sum(r["status"] not in ("failed", "not_converged") for r in rows) / len(rows)
                             if rows else None),
        "not_converged_reasons": {r["hop_id"]: r["not_converged_reason"] for r in rows
                                  if r["status"] == "not_converged"},
        "failures": {r["hop_id"]: r["error"] for r in rows if r["status"] == "failed"},
        "excluded_from_statistics": not_converged,
        "note": "only converged hops enter barrier statistics; the others are listed with their status and reason",
        "selection": {k: selection[k] for k in ("candidates", "requested", "shortfall", "seed", "min_distance_A",
                                                "max_distance_A", "soft_threshold")},
        "total_wall_s": float(sum(r["wall_s"] or 0.0 for r in rows)),
        "mean_wall_s_per_hop": float(np.mean([r["wall_s"] for r in rows if r["wall_s"] is not None]))
        if rows else None,
    })


# ---- statistics ------------------------------------------------------------------------------

def bootstrap_ci(values: Sequence[float], statistic: Callable = np.median, n_boot: int = 2000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of ``statistic`` (applied along axis 1) over resamples of
    ``values`` with replacement; (nan, nan) for fewer than 2 values."""
    x = np.asarray(values, float)
    if not 0 < level < 1 or n_boot < 1:
        raise ValueError(f"need 0 < level < 1 and n_boot >= 1, got {level}, {n_boot}")
    if len(x) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    boot = statistic(x[rng.integers(0, len(x), (int(n_boot), len(x)))], axis=1)
    a = (1 - level) / 2
    return float(np.quantile(boot, a)), float(np.quantile(boot, 1 - a))


def bootstrap_difference_ci(a: Sequence[float], b: Sequence[float], statistic: Callable = np.median,
                            n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of statistic(a) - statistic(b), resampling both samples
    independently; (nan, nan) when either has fewer than 2 values."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or len(b) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    da = statistic(a[rng.integers(0, len(a), (int(n_boot), len(a)))], axis=1)
    db = statistic(b[rng.integers(0, len(b), (int(n_boot), len(b)))], axis=1)
    q = (1 - level) / 2
    return float(np.quantile(da - db, q)), float(np.quantile(da - db, 1 - q))


def class_statistics(glass: str, rows: Sequence[Mapping], n_boot: int, seed: int) -> list[dict]:
    """Per hop class of one glass (or the pooled hops): n converged, n not converged, n excluded
    (rejected/failed), mean and median forward barrier with bootstrap 95% CIs; then the test
    row soft->hard vs hard->soft (two-sided Mann-Whitney U p-value, difference of medians
    soft->hard minus hard->soft with its bootstrap CI)."""
    barriers = barriers_by_class(rows)
    out = []
    for c in HOP_CLASSES:
        members = [r for r in rows if r["class"] == c]
        v = barriers[c]
        mean_ci = bootstrap_ci(v, np.mean, n_boot, seed)
        median_ci = bootstrap_ci(v, np.median, n_boot, seed)
        out.append({"glass": glass, "kind": "class", "class": c, "n": len(v),
                    "n_not_converged": sum(r["status"] == "not_converged" for r in members),
                    "n_excluded": sum(r["status"] not in (CONVERGED, "not_converged") for r in members),
                    # LAMMPS failures after the retries, of all attempted hops of the class
                    "n_failed": sum(r["status"] == "failed" for r in members),
                    "failure_rate": (sum(r["status"] == "failed" for r in members) / len(members)
                                     if members else None),
                    "mean_eV": float(v.mean()) if len(v) else None, "mean_ci_low_eV": mean_ci[0],
                    "mean_ci_high_eV": mean_ci[1], "median_eV": float(np.median(v)) if len(v) else None,
                    "median_ci_low_eV": median_ci[0], "median_ci_high_eV": median_ci[1]})
    a, b = barriers["soft->hard"], barriers["hard->soft"]
    d = paired_differences(rows)
    test = {"glass": glass, "kind": "test", "class": "soft-site minus hard-site barrier (paired)", "n": len(a),
            "n_other": len(b), "n_pairs": len(d)}
    if len(a) and len(b):
        test["mannwhitney_p"] = float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    if len(d):
        t = signed_rank_test(d)
        test.update(median_diff_eV=t["estimate"], median_diff_ci_low_eV=t["ci_low"],
                    median_diff_ci_high_eV=t["ci_high"], wilcoxon_p=t["p_value"], paired_sd_eV=t["sd"],
                    note="Hodges-Lehmann estimate of (barrier out of the soft site - barrier out of the hard "
                         "site) over converged soft->hard and hard->soft hops, exact 95% interval; Wilcoxon "
                         "signed-rank p (exact for <= 50 pairs); mannwhitney_p: unpaired forward barriers")
    else:
        test["note"] = "no converged soft->hard or hard->soft hop"
    out.append(test)
    return out


# ---- C9: paired design -----------------------------------------------------------------------

def paired_differences(rows: Sequence[Mapping]) -> np.ndarray:
    """Per converged soft->hard or hard->soft hop: barrier out of the soft site minus barrier out
    of the hard site (eV). A hop's backward barrier is the forward barrier of its reverse hop,
    so a soft->hard hop gives forward - backward and a hard->soft hop backward - forward: both
    barriers of every hop are used, paired within the hop (same path, same glass)."""
    out = []
    for r in rows:
        if r["status"] != CONVERGED or r["class"] not in MAIN_CLASSES:
            continue
        f, b = float(r["forward_barrier_eV"]), float(r["backward_barrier_eV"])
        out.append(f - b if r["class"] == "soft->hard" else b - f)
    return np.array(out, float)


def signed_rank_null(n: int) -> np.ndarray:
    """Exact null distribution P(T+ = t), t = 0 .. n(n+1)/2, of the Wilcoxon signed-rank
    statistic of n untied, non-zero differences (each rank positive with probability 1/2)."""
    m = n * (n + 1) // 2
    counts = np.zeros(m + 1)
    counts[0] = 1.0
    for k in range(1, n + 1):
        shifted = np.zeros_like(counts)
        shifted[k:] = counts[:-k]
        counts = counts + shifted
    return counts / counts.sum()


def signed_rank_test(d: Sequence[float], level: float = 0.95) -> dict:
    """Wilcoxon signed-rank test of median(d) = 0 (two-sided p; exact for <= 50 values, else the
    normal approximation) and the Hodges-Lehmann estimate (median of the Walsh averages) with
    its exact distribution-free interval [W_(k), W_(M+1-k)] (M = n(n+1)/2 Walsh averages, k the
    largest integer with P(T+ <= k - 1) <= (1 - level)/2); an interval that no k achieves (n < 6
    at 95%) is (-inf, inf). sd: sample standard deviation of d (nan for n < 2)."""
    x = np.asarray(d, float)
    n = len(x)
    if n == 0:
        raise ValueError("no differences")
    i, j = np.triu_indices(n)
    walsh = np.sort((x[i] + x[j]) / 2)
    null = np.cumsum(signed_rank_null(n))
    alpha = (1 - level) / 2
    ok = np.flatnonzero(null <= alpha)  # P(T+ <= t) <= alpha for t in ok; k - 1 = t
    if len(ok):
        k = int(ok[-1]) + 1
        low, high = float(walsh[k - 1]), float(walsh[len(walsh) - k])
    else:
        low, high = -math.inf, math.inf
    if np.all(x == 0):
        p = 1.0
    else:
        p = float(stats.wilcoxon(x, alternative="two-sided", method="exact" if n <= 50 else "approx").pvalue)
    return {"n": n, "estimate": float(np.median(walsh)), "ci_low": low, "ci_high": high, "p_value": p,
            "sd": float(np.std(x, ddof=1)) if n > 1 else float("nan")}


def pairs_needed(sd_eV: float, margin_eV: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Converged hops (pairs) a two-sided signed-rank test at level alpha needs to detect a shift
    of ``margin_eV`` with the given power when the paired differences spread with ``sd_eV``:
    n = ((z_{1-alpha/2} + z_power) sd / margin)^2 / (3/pi) (normal-theory size divided by the
    signed-rank test's asymptotic relative efficiency 3/pi under normality)."""
    if not (sd_eV > 0 and margin_eV > 0 and 0 < alpha < 1 and 0 < power < 1):
        raise ValueError(f"need sd > 0, margin > 0, 0 < alpha, power < 1; got {sd_eV}, {margin_eV}, {alpha}, {power}")
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return int(math.ceil((z * sd_eV / margin_eV) ** 2 * math.pi / 3))


def summary_job(barriers: Mapping[str, str], settings: Mapping, out_csv: str) -> None:
    """``neb_summary.csv``: class statistics and the soft->hard vs hard->soft test per glass and
    for the hops of all glasses pooled."""
    n_boot, seed = int(settings["n_bootstrap"]), int(settings["seed"])
    pooled, rows = [], []
    for glass, path in barriers.items():
        hops = read_barriers(path)
        pooled += hops
        rows += class_statistics(glass, hops, n_boot, seed)
    rows += class_statistics(POOLED, pooled, n_boot, seed)
    # undefined statistics (empty class, CI of fewer than 2 hops) are empty cells, as None is
    rows = [{k: ("" if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()} for r in rows]
    write_rows_csv(out_csv, rows, SUMMARY_COLUMNS)


def read_summary(path: str | Path) -> list[dict]:
    out = []
    for r in _read_rows(path):
        row = dict(r)
        for k in SUMMARY_COLUMNS[3:-1]:
            row[k] = float(r[k]) if r[k] not in ("", "None", "nan") else float("nan")
        out.append(row)
    return out


def wilson_interval(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n (default 95%)."""
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"need n >= 1 and 0 <= k <= n, got k={k}, n={n}")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def two_proportion(k1: int, n1: int, k2: int, n2: int) -> dict:
    """p1 - p2 with the Newcombe (1998, method 10) hybrid score 95% interval and the two-sided
    pooled z-test p-value (1.0 when both proportions are 0 or both 1: no evidence of a
    difference)."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1)
    l2, u2 = wilson_interval(k2, n2)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    pool = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2))
    p = 1.0 if se == 0 else float(2 * stats.norm.sf(abs(d) / se))
    return {"p1": p1, "p2": p2, "difference": d, "ci_low": low, "ci_high": high, "p_value": p}


def _f(x, fmt=".3f") -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, fmt)


def c9_claim(summary: Sequence[Mapping], claims: Mapping, source: str) -> dict:
    """Claim C9 from ``neb_summary.csv`` rows (criterion in the module docstring). ``claims``:
    min_hops_per_class, c9_margin_eV, c9_power."""
    tests = {r["glass"]: r for r in summary if r["kind"] == "test"}
    classes = {(r["glass"], r["class"]): r for r in summary if r["kind"] == "class"}
    min_n = int(claims["min_hops_per_class"])
    margin = float(claims["c9_margin_eV"])
    power = float(claims["c9_power"])
    if min_n < 10:
        raise ValueError(f"config key neb.claims.min_hops_per_class must be >= 10 (the issue's minimum), got {min_n}")
    parts = []
    for glass, t in tests.items():
        sh, hs = classes[(glass, "soft->hard")], classes[(glass, "hard->soft")]
        parts.append(f"{glass}: soft->hard n={int(sh['n'])} converged ({int(sh['n_not_converged'])} not converged, "
                     f"{int(sh['n_excluded'])} rejected/failed), hard->soft n={int(hs['n'])} "
                     f"({int(hs['n_not_converged'])} not converged, {int(hs['n_excluded'])} rejected/failed); "
                     f"soft-site minus hard-site barrier {_f(t['median_diff_eV'])} eV "
                     f"[{_f(t['median_diff_ci_low_eV'])}, {_f(t['median_diff_ci_high_eV'])}], "
                     f"signed-rank p = {_f(t['wilcoxon_p'], '.3g')}")
    criterion = (f"paired design: for every converged soft->hard and hard->soft hop, barrier out of the soft site "
                 f"minus barrier out of the hard site (forward and backward barrier of the same path), pooled over "
                 f"the NEB glasses; holds when the exact 95% Hodges-Lehmann interval lies below 0, does not hold "
                 f"when it lies above -{margin:g} eV (the data exclude a soft-site advantage of {margin:g} eV), "
                 f"not tested otherwise or with fewer than {min_n} converged hops per class (then: hops needed "
                 f"for power {power:g} at a {margin:g} eV advantage from the observed spread)")
    t = tests[POOLED]
    n_a, n_b = int(t["n"]), int(t["n_other"])
    sd = float(t["paired_sd_eV"])
    low, high = float(t["median_diff_ci_low_eV"]), float(t["median_diff_ci_high_eV"])
    pooled_classes = [classes[(POOLED, c)] for c in MAIN_CLASSES]
    attempted = sum(int(r["n"]) + int(r["n_not_converged"]) + int(r["n_excluded"]) for r in pooled_classes)
    observed = math.isfinite(sd) and sd > 0 and n_a + n_b >= 3
    spread = sd if observed else float(claims["c9_assumed_sd_eV"])
    need = pairs_needed(spread, margin, power=power)
    source_of_spread = (f"the observed spread sd = {sd:.3f} eV" if observed else
                        f"an assumed spread sd = {spread:g} eV (claims.c9_assumed_sd_eV: fewer than 3 converged hops, "
                        f"no usable observed spread)")
    need_text = f"{need} converged hops in total (about {math.ceil(need / 2)} per class) from {source_of_spread}"
    if attempted:
        rate = (n_a + n_b) / attempted
        need_text += (f"; {n_a + n_b} of {attempted} attempted hops converged" +
                      (f", so about {math.ceil(need / rate)} attempted hops" if rate > 0 else
                       ", so the yield must rise first (e.g. a larger concerted-move limit or shorter hops)"))
    verdict = "not tested"
    if n_a < min_n or n_b < min_n:
        parts.append(f"too few converged hops: {n_a} soft->hard and {n_b} hard->soft (need >= {min_n} each); "
                     f"deciding C9 needs {need_text}")
    elif high < 0:
        verdict = "holds"
    elif low > -margin:
        verdict = "does not hold"
    else:
        parts.append(f"the interval [{low:.3f}, {high:.3f}] eV neither excludes 0 nor a {margin:g} eV advantage; "
                     f"deciding C9 needs {need_text}")
    return {"claim": "C9", "verdict": verdict, "measured": "; ".join(parts), "criterion": criterion,
            "source": source}


def mantel_haenszel(tables: Sequence[Sequence[Sequence[int]]], level: float = 0.95) -> dict:
    """Cochran-Mantel-Haenszel analysis of 2x2 tables [[a, b], [c, d]] (rows: group 1, group 2;
    columns: event, no event), one per stratum: the Mantel-Haenszel common odds ratio with the
    Robins-Breslow-Greenland (1986) interval, and the CMH chi-square test (continuity corrected,
    two-sided p). Strata with fewer than 2 members or an empty row are skipped (they carry no
    information). ``log_odds_ratio`` and ``log_odds_ratio_se`` (the RBG standard error) are
    returned for study planning (lipsglass.planning)."""
    num = den = 0.0
    sum_pr = sum_ps_qr = sum_qs = 0.0
    sum_r = sum_s = 0.0
    a_sum = e_sum = v_sum = 0.0
    used = 0
    for tab in tables:
        (a, b), (c, d) = [[float(v) for v in row] for row in tab]
        n = a + b + c + d
        if n < 2 or a + b == 0 or c + d == 0:
            continue
        used += 1
        r, s_ = a * d / n, b * c / n
        p, q = (a + d) / n, (b + c) / n
        num += r
        den += s_
        sum_r += r
        sum_s += s_
        sum_pr += p * r
        sum_ps_qr += p * s_ + q * r
        sum_qs += q * s_
        m1, n1 = a + c, a + b
        a_sum += a
        e_sum += n1 * m1 / n
        v_sum += n1 * (c + d) * m1 * (b + d) / (n * n * (n - 1))
    out = {"strata": used, "odds_ratio": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"),
           "p_value": float("nan"), "log_odds_ratio": float("nan"), "log_odds_ratio_se": float("nan")}
    if used == 0:
        return out
    if v_sum > 0:
        chi2 = (abs(a_sum - e_sum) - 0.5) ** 2 / v_sum if abs(a_sum - e_sum) > 0.5 else 0.0
        out["p_value"] = float(stats.chi2.sf(chi2, 1))
    else:
        out["p_value"] = 1.0
    if num > 0 and den > 0:
        lor = math.log(num / den)
        var = sum_pr / (2 * sum_r ** 2) + sum_ps_qr / (2 * sum_r * sum_s) + sum_qs / (2 * sum_s ** 2)
        z = stats.norm.ppf(0.5 + level / 2)
        out.update(odds_ratio=num / den, ci_low=math.exp(lor - z * math.sqrt(var)),
                   ci_high=math.exp(lor + z * math.sqrt(var)), log_odds_ratio=lor, log_odds_ratio_se=math.sqrt(var))
    elif num > 0:
        out.update(odds_ratio=math.inf)
    elif den > 0:
        out.update(odds_ratio=0.0)
    return out


def c10_claim(motion: Mapping[str, Mapping[str, Mapping]], claims: Mapping, source: str) -> dict:
    """Claim C10 from the ``li_motion.json`` of every glass and replica (``motion[glass][replica]``),
    stratified by glass and replica (criterion in the module docstring)."""
    min_n = int(claims["min_li_per_anion"])
    parts, tables, totals = [], [], {"PS4": [0, 0], "P2S6": [0, 0]}
    first = None
    for glass, replicas in motion.items():
        items = []
        for rep, m in replicas.items():
            first = first or m
            row = []
            for a in ("PS4", "P2S6"):
                n = int(m["by_anion"][a]["n"])
                k = int(m["by_anion"][a]["n_hopped"])
                totals[a][0] += k
                totals[a][1] += n
                row.append([k, n - k])
            tables.append(row)
            items.append(f"r{rep}: PS4 {row[0][0]}/{sum(row[0])}, P2S6 {row[1][0]}/{sum(row[1])} hopped")
        parts.append(f"{glass}: " + ", ".join(items))
    (k1, n1), (k2, n2) = totals["PS4"], totals["P2S6"]
    criterion = (f"over the first {first['duration_ps']:g} ps at {first['temperature_K']:g} K, Li nearest to PS4 S "
                 f"make long hops (net displacement > {first['hop_distance_A']:g} A) more often than Li nearest to "
                 f"P2S6 S within the same glass: Cochran-Mantel-Haenszel analysis stratified by glass and replica "
                 f"(composition-level mobility is not mixed into the local effect); holds when the 95% interval "
                 f"of the common odds ratio lies above 1, does not hold when it lies below 1, not tested otherwise "
                 f"or with fewer than {min_n} Li per group")
    verdict = "not tested"
    plan = {}
    if n1 < min_n or n2 < min_n:
        parts.append(f"too few Li: {n1} near PS4, {n2} near P2S6 (need {min_n} each)")
    else:
        t = mantel_haenszel(tables)
        if math.isfinite(t["log_odds_ratio_se"]):
            # structured columns for lipsglass.planning: log MH odds ratio against 0 (odds ratio 1); its
            # SE falls as 1/sqrt(Li) per group, so the smaller group sizes the study
            plan = {"effect": t["log_odds_ratio"], "effect_se": t["log_odds_ratio_se"], "threshold": 0.0,
                    "sample_size": min(n1, n2),
                    "sample_unit": f"Li near {'PS4' if n1 <= n2 else 'P2S6'} (smaller group, all strata)"}
        parts.append(f"all strata: PS4 {k1}/{n1}, P2S6 {k2}/{n2} hopped; Mantel-Haenszel odds ratio "
                     f"{t['odds_ratio']:.3g} [{t['ci_low']:.3g}, {t['ci_high']:.3g}] over {t['strata']} strata, "
                     f"CMH p = {t['p_value']:.3g}")
        if t["ci_low"] > 1:
            verdict = "holds"
        elif t["ci_high"] < 1:
            verdict = "does not hold"
        else:
            parts.append("the interval includes 1: more Li (glasses, replicas or a longer window) would decide it")
    return {"claim": "C10", "verdict": verdict, "measured": "; ".join(parts), "criterion": criterion,
            "source": source, **plan}


def claims_job(summary_csv: str, motion: Mapping[str, Mapping[str, str]], claims: Mapping, out_csv: str) -> None:
    """``neb_claims.csv`` with C9 and C10. ``motion[glass][replica]``: li_motion.json paths."""
    motions = {g: {r: json.loads(Path(p).read_text()) for r, p in reps.items()} for g, reps in motion.items()}
    write_claim_rows(out_csv, [
        c9_claim(read_summary(summary_csv), claims, str(summary_csv)),
        c10_claim(motions, claims, "; ".join(str(p) for reps in motion.values() for p in reps.values())),
    ])


# ---- Li motion at the trajectory temperature ---------------------------------------------------

def trajectory_window(trajectory: str | Path, duration_ps: float, timestep_fs: float) -> list:
    """The frames of the first ``duration_ps`` of a trajectory (time from the first frame's
    timestep). Raises ValueError when the trajectory is shorter than the window."""
    if not duration_ps > 0:
        raise ValueError(f"duration_ps must be positive, got {duration_ps}")
    frames, t0 = [], None
    for f in iter_dump(trajectory):
        t0 = f.timestep if t0 is None else t0
        t = (f.timestep - t0) * timestep_fs / 1000.0
        if t > duration_ps + 1e-9:
            break
        frames.append(f)
    if t0 is None:
        raise ValueError(f"{trajectory}: no frames")
    span = (frames[-1].timestep - t0) * timestep_fs / 1000.0
    if span < duration_ps - 1e-9:
        raise ValueError(f"{trajectory} spans {span:g} ps, shorter than the {duration_ps:g} ps window")
    return frames


def li_motion_job(trajectory: str, atom_labels: str, settings: Mapping, md: Mapping, radius_A: float,
                  temperature_K: float, out_csv: str, out_json: str) -> None:
    """Motion of every Li over the first ``trace_duration_ps`` of the run
    (``lipsglass.neb.li_motion_by_anion``): per-Li table and per-anion summary."""
    frames = trajectory_window(trajectory, float(settings["trace_duration_ps"]), float(md["timestep_fs"]))
    ids = frames[0].ids
    labels = s_anion_labels(ids, read_atom_labels(atom_labels))
    li_ids = ids[frames[0].elements() == "Li"]
    m = li_motion_by_anion(frames, li_ids, labels, float(settings["hop_distance_A"]), radius_A)
    write_rows_csv(out_csv, [{"id": int(i), "nearest_anion": a, "displacement_A": f"{d:.4f}",
                              "path_length_A": f"{p:.4f}", "hopped": bool(h)}
                             for i, a, d, p, h in zip(m.li_ids, m.nearest_anion, m.displacement_A,
                                                      m.path_length_A, m.hopped)], MOTION_COLUMNS)
    by_anion = {a: dict(v, n_hopped=int(np.sum(m.hopped[m.nearest_anion == a]))) for a, v in m.by_anion.items()}
    write_json(out_json, {
        "trajectory": str(trajectory), "temperature_K": float(temperature_K),
        "duration_ps": float(settings["trace_duration_ps"]), "n_frames": len(frames),
        "hop_distance_A": m.hop_distance_A, "anion_radius_A": float(radius_A), "n_Li": len(li_ids),
        "n_Li_without_anion_S": int(np.sum(m.nearest_anion == "")), "hopped_fraction": float(m.hopped.mean()),
        "by_anion": by_anion,
        "definition": "nearest anion: type of the nearest PS4/P2S7/P2S6 S within anion_radius_A at the first frame; "
                      "hopped: net displacement over the window > hop_distance_A",
    })


def traced_li(motion_rows: Sequence[Mapping], settings: Mapping, anions: Sequence[str]) -> list[int]:
    """Atom ids of the Li traced in Fig. 4D: for each of ``anions`` in turn, ``traces_per_anion``
    Li (fewer if fewer exist) drawn without replacement, by one generator seeded with
    ``settings["seed"]``, from the rows of ``li_motion.csv`` (``motion_rows``: ``id``,
    ``nearest_anion``) whose nearest anion is that type; ids of each anion sorted."""
    rng = np.random.default_rng(int(settings["seed"]))
    chosen = []
    for a in anions:
        members = sorted(int(r["id"]) for r in motion_rows if r["nearest_anion"] == a)
        k = min(int(settings["traces_per_anion"]), len(members))
        chosen += sorted(rng.choice(members, size=k, replace=False).tolist()) if k else []
    return chosen


# ---- figures -------------------------------------------------------------------------------

def _note_figure(text: str, out_png: str, out_pdf: str) -> None:
    """A figure that states why the data figure cannot be drawn (so the workflow completes and
    the reason is visible where the figure is expected)."""
    import matplotlib.pyplot as plt

    from lipsglass.figures import save_figure

    fig, ax = plt.subplots(figsize=(4.5, 2.0))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=9)
    save_figure(fig, out_png, out_pdf)


def paths_figure_job(glass: str, barriers: str, paths: str, out_png: str, out_pdf: str) -> None:
    """Fig. 4B: energy along the path of the median-barrier converged hop of soft->hard and of
    hard->soft (``lipsglass.neb.representative_hop``)."""
    from lipsglass.figures.neb import CLASS_LABELS, plot_energy_paths

    rows = read_barriers(barriers)
    table = _read_rows(paths)
    curves, classes, missing = {}, {}, []
    for c in MAIN_CLASSES:
        hop = representative_hop(rows, c)
        if hop is None:
            missing.append(c)
            continue
        pts = [r for r in table if int(r["hop_id"]) == hop["hop_id"]]
        label = f"{CLASS_LABELS[c]} (hop {hop['hop_id']}, {hop['forward_barrier_eV']:.2f} eV)"
        curves[label] = ([float(r["reaction_coordinate"]) for r in pts], [float(r["energy_eV"]) for r in pts])
        classes[label] = c
    if not curves:
        _note_figure(f"{glass}: no converged soft->hard or hard->soft hop (see barriers.csv)", out_png, out_pdf)
        return
    note = f"; no converged hop: {', '.join(missing)}" if missing else ""
    plot_energy_paths(curves, out_png, out_pdf, hop_classes=classes, title=f"{glass}{note}")


def barriers_figure_job(barriers: Mapping[str, str], classes: Sequence[str], out_png: str, out_pdf: str) -> None:
    """Fig. 4C (main classes) / Fig. S3 (all four): forward barriers of converged hops per glass."""
    from lipsglass.figures.neb import plot_barrier_distributions

    per_glass = {g: barriers_by_class(read_barriers(p)) for g, p in barriers.items()}
    if not any(len(v[c]) for v in per_glass.values() for c in classes):
        _note_figure(f"no converged hop in classes {', '.join(classes)}", out_png, out_pdf)
        return
    plot_barrier_distributions(per_glass, out_png, out_pdf, classes=tuple(classes),
                               title="converged hops only")


