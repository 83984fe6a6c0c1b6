"""Results of finished hops: the statuses of a hop, where its files lie, the collection of its
``result.json`` into rows, the ``barriers.csv`` and ``paths.csv`` tables of a glass with their
status counts (``barriers.json``), and the barriers by hop class.

Only converged hops (climbing image on ``ftol`` and a refined band reproducing both barriers)
enter barrier statistics; hops that did not converge, were rejected by the end-state checks or
failed after their retries are listed with their status and reason, never silently kept or
dropped.

Units: energies eV, lengths A, forces eV/A, times s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from lipsglass.core.tables import read_rows, write_rows
from lipsglass.neb.selection import HOP_CLASSES, HOP_COLUMNS


# statuses of a finished hop (result.json "status")
CONVERGED, NOT_CONVERGED = "converged", "not_converged"
REJECTIONS = ("initial_moved", "final_relaxed_back", "final_off_target", "concerted_move", "length_outside_window")
FAILED = "failed"
RESULT_COLUMNS = HOP_COLUMNS + ("status", "forward_barrier_eV", "backward_barrier_eV", "reaction_energy_eV",
                                "regular_forward_barrier_eV", "regular_backward_barrier_eV",
                                "converged", "not_converged_reason", "replicas", "refined_replicas",
                                "refinement_change_eV", "intermediate_minimum", "intermediate_below_ends",
                                "saddle_replica", "neb_steps", "final_max_force_component_eV_A", "initial_shift_A",
                                "final_to_target_A", "final_to_origin_A", "hop_length_A",
                                "max_other_displacement_A", "max_other_atom_id", "linear_closest_approach_A",
                                "start_closest_approach_A", "attempts", "wall_s", "error")
BARRIER_COLUMNS = ("hop_id", "from_id", "to_id", "class", "distance_A", "S_from", "S_to", "E_forward_eV",
                   "E_backward_eV", "converged", "status", "not_converged_reason", "reaction_energy_eV",
                   "regular_forward_eV", "max_force_eV_A", "initial_shift_A", "final_to_target_A", "hop_length_A",
                   "max_other_displacement_A", "other_site_changes", "replicas", "refined_replicas",
                   "refinement_change_eV", "segments", "intermediate_minimum", "linear_closest_approach_A", "attempts",
                   "wall_s", "error")
PATH_COLUMNS = ("hop_id", "class", "status", "replica", "reaction_coordinate", "energy_eV")


def write_rows_csv(path: str | Path, rows: Sequence[Mapping], columns: Sequence[str]) -> None:
    """``rows`` (mappings; keys outside ``columns`` ignored) as the CSV table ``path`` with the
    header ``columns`` (``lipsglass.core.tables.write_rows``), creating its folder."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_rows(path, columns, rows)


def hop_dir(workdir: str | Path, hop_id: int) -> Path:
    """Work folder of hop ``hop_id`` (its ``result.json``, ``path.csv`` and LAMMPS files)."""
    return Path(workdir) / f"hop_{int(hop_id)}"


def collect_results(paths: Iterable[str | Path]) -> list[dict]:
    """Flat rows (RESULT_COLUMNS; missing values None) from ``result.json`` files, sorted by
    hop_id. Barriers of rejected or failed hops are None; non-converged hops keep their
    (provisional) barriers with status "not_converged"."""
    rows = []
    for p in paths:
        res = json.loads(Path(p).read_text())
        rows.append({k: res.get(k) for k in RESULT_COLUMNS})
    return sorted(rows, key=lambda r: r["hop_id"])


def status_counts(rows: Iterable[Mapping]) -> dict[str, int]:
    """Number of hops per status (converged, not_converged, each rejection reason, failed)."""
    counts = {s: 0 for s in (CONVERGED, NOT_CONVERGED, *REJECTIONS, FAILED)}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return counts


def barriers_by_class(rows: Iterable[Mapping], converged_only: bool = True) -> dict[str, np.ndarray]:
    """Forward barriers (eV) per hop class; only converged hops unless ``converged_only`` is
    False (then non-converged ones count too; rejected and failed hops never do)."""
    keep = {CONVERGED} if converged_only else {CONVERGED, NOT_CONVERGED}
    out = {c: [] for c in HOP_CLASSES}
    for r in rows:
        if r["status"] in keep:
            out[r["class"]].append(float(r["forward_barrier_eV"]))
    return {c: np.array(v) for c, v in out.items()}


def representative_hop(rows: Sequence[Mapping], hop_class: str) -> Mapping | None:
    """The converged hop of ``hop_class`` whose forward barrier is the median of its class
    (lower median for an even count), for the example path of Fig. 4B; None if there is none."""
    members = sorted((r for r in rows if r["class"] == hop_class and r["status"] == CONVERGED),
                     key=lambda r: (r["forward_barrier_eV"], r["hop_id"]))
    if not members:
        return None
    return members[(len(members) - 1) // 2]

def read_path_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(normalised reaction coordinate, energy in eV relative to the initial state) of a hop."""
    rows = read_rows(path)
    return (np.array([float(r["reaction_coordinate"]) for r in rows]),
            np.array([float(r["energy_eV"]) for r in rows]))


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


def collect_hop_results(hops: Sequence[Mapping], workdir: str | Path) -> list[dict]:
    """``collect_results`` of the hops ``hops`` (rows of ``hops.csv``) from their folders in
    ``workdir``, sorted by hop_id. Raises ValueError when a hop has no ``result.json`` or its
    result belongs to another hop (a stale work folder)."""
    result_files = [hop_dir(workdir, h["hop_id"]) / "result.json" for h in hops]
    absent = [str(p) for p in result_files if not p.exists()]
    if absent:
        raise ValueError(f"missing hop results {absent[:5]}")
    results = collect_results(result_files)
    for h, r in zip(sorted(hops, key=lambda h: h["hop_id"]), results):
        if (h["hop_id"], h["from_id"], h["to_id"]) != (r["hop_id"], r["from_id"], r["to_id"]):
            raise ValueError(f"result of hop {h['hop_id']} does not belong to the selected hop (stale work folder?)")
    return results


def path_rows(rows: Sequence[Mapping], workdir: str | Path) -> list[dict]:
    """``paths.csv`` rows (PATH_COLUMNS): the energy along the path of every hop of ``rows``
    (``barriers.csv`` rows) that has a ``path.csv`` in its folder in ``workdir``."""
    paths = []
    for r in rows:
        path_csv = hop_dir(workdir, r["hop_id"]) / "path.csv"
        if path_csv.exists():
            rc, e = read_path_csv(path_csv)
            paths += [{"hop_id": r["hop_id"], "class": r["class"], "status": r["status"], "replica": k + 1,
                       "reaction_coordinate": x, "energy_eV": y} for k, (x, y) in enumerate(zip(rc, e))]
    return paths


def collection_summary(rows: Sequence[Mapping], selection: Mapping) -> dict:
    """``barriers.json`` of a glass from its ``barriers.csv`` rows and its selection bookkeeping
    (``selection.json``): status and rejection counts (overall and per class), the failure rate
    by class, the decided fraction, reasons and errors, the hops excluded from statistics and the
    wall time."""
    per_class = {c: status_counts([r for r in rows if r["class"] == c]) for c in HOP_CLASSES}
    not_converged = [r["hop_id"] for r in rows if r["status"] != CONVERGED]
    return {
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
    }
