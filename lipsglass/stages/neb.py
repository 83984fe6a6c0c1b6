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
* Claims C9 and C10: decided in ``lipsglass.claims.neb`` (forward barriers of independent hops
  out of soft and hard Li over the NEB glasses; long hops of Li near PS4 and near P2S6 with the
  glass as unit) against the config's ``claims`` section; the ``neb_claims`` job reads the
  files, calls it and writes the rows. No analysis job here reads a claim criterion.

Units: lengths A, energies eV, time ps, softness dimensionless.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from scipy import stats

from lipsglass.claims import write_claim_rows
from lipsglass.core.stats import bootstrap_ci, bootstrap_difference_ci
from lipsglass.core.tables import read_rows
from lipsglass.forcefield import ForceField
from lipsglass.jsonio import write_json
from lipsglass.engine.runtime import LammpsRuntime
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
SUMMARY_COLUMNS = ("glass", "kind", "class", "n", "n_not_converged", "n_excluded", "n_failed", "failure_rate", "mean_eV",
                   "mean_ci_low_eV", "mean_ci_high_eV", "median_eV", "median_ci_low_eV", "median_ci_high_eV", "n_other",
                   "mannwhitney_p", "median_diff_eV", "median_diff_ci_low_eV", "median_diff_ci_high_eV", "note")
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
    rows = read_rows(softness_csv)
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
    for r in read_rows(path):
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

def class_statistics(glass: str, rows: Sequence[Mapping], n_boot: int, seed: int) -> list[dict]:
    """Per hop class of one glass (or the pooled hops): n converged, n not converged, n excluded
    (rejected/failed), mean and median forward barrier with bootstrap 95% CIs; then the
    descriptive row soft->hard vs hard->soft (two-sided Mann-Whitney U p-value, difference of
    medians soft->hard minus hard->soft with its bootstrap CI)."""
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
    test = {"glass": glass, "kind": "test", "class": "soft->hard minus hard->soft forward barrier", "n": len(a),
            "n_other": len(b)}
    if len(a) and len(b):
        lo, hi = bootstrap_difference_ci(a, b, np.median, n_boot, seed)
        test.update(mannwhitney_p=float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue),
                    median_diff_eV=float(np.median(a) - np.median(b)), median_diff_ci_low_eV=lo,
                    median_diff_ci_high_eV=hi,
                    note="descriptive (every converged hop, hops sharing a Li included): difference of median "
                         "forward barriers with its bootstrap 95% CI and the two-sided Mann-Whitney p; claim C9 "
                         "is decided in lipsglass.claims.neb")
    else:
        test["note"] = "no converged soft->hard or hard->soft hop"
    out.append(test)
    return out


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
    for r in read_rows(path):
        row = dict(r)
        for k in SUMMARY_COLUMNS[3:-1]:
            row[k] = float(r[k]) if r[k] not in ("", "None", "nan") else float("nan")
        out.append(row)
    return out


def claims_job(barriers: Mapping[str, str], motion: Mapping[str, Mapping[str, str]], criteria: Mapping, level: float,
               atoms: Mapping[str, int], out_csv: str) -> None:
    """``neb_claims.csv`` with C9 and C10 (decided in ``lipsglass.claims.neb``). ``barriers``:
    barriers.csv of every NEB glass; ``motion[glass][replica]``: li_motion.json paths;
    ``criteria``: the config's ``claims.C9`` and ``claims.C10``; ``level``: ``claims.level``;
    ``atoms``: atoms per glass (composition; the scale of the rows)."""
    from lipsglass.claims.neb import c9_verdict, c10_verdict

    motions = {g: {r: json.loads(Path(p).read_text()) for r, p in reps.items()} for g, reps in motion.items()}
    write_claim_rows(out_csv, [
        c9_verdict({g: read_barriers(p) for g, p in barriers.items()}, criteria["C9"], float(level), atoms,
                   "; ".join(str(p) for p in barriers.values())).row(),
        c10_verdict(motions, criteria["C10"], float(level), atoms,
                    "; ".join(str(p) for reps in motion.values() for p in reps.values())).row(),
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
        "trajectory": str(trajectory), "temperature_K": float(temperature_K), "n_atoms": len(ids),
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
    table = read_rows(paths)
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


