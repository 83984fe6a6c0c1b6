"""NEB stage (paper Fig. 4B, 4C, S3; claims C9, C10): Li migration barriers of sampled hops
between Li sites, their statistics by hop class, and the motion of Li around each anion type
over the first picoseconds of a production run (``lipsglass.neb.li_motion.traced_li`` picks the
Li that Fig. 4D traces; that figure is rendered by ``lipsglass.stages.rendered``).

The science lives in the package ``lipsglass.neb`` (hop selection, end states, LAMMPS NEB, result
caching, results and their statistics, Li motion) and ``lipsglass.figures.neb``; this module
reads job inputs, calls them with the configured settings and writes the outputs.

Design choices:

* Starting glass: the configuration the softness stage analyses (``final.data`` of the
  ``softness.temperature_K`` production run). ``softness.csv`` holds the softness and the
  (wrapped) position of every Li of exactly that configuration; the selection job checks that
  the Li ids and positions of both files agree (``lipsglass.neb.selection.li_of_configuration``),
  so hop classes refer to the glass the NEB runs on.
* Batches: the number of batch jobs of a glass is fixed by the config
  (``lipsglass.neb.batch.n_batches``: ceil(n_per_class * len(classes) / batch_size)) so the
  workflow's DAG is known before the selection runs; batch k runs hops k*batch_size ...
  (k+1)*batch_size - 1 of ``hops.csv`` (a batch beyond a shortfall runs nothing and says so in
  its manifest). Hops are computed in the persistent per-glass folder
  ``results/<glass>/neb/hops/`` (``lipsglass.neb.batch.run_batch``): a killed batch resumes
  with its unfinished hops only.
* Statistics: only converged hops (climbing image on ``ftol`` and a refined band reproducing
  both barriers) enter barrier statistics and claims. Hops that did not converge, were rejected
  by the end-state checks (including concerted moves and relaxed lengths outside the window),
  or failed after their retries are listed in ``barriers.csv`` with their status and reason and
  counted per class in ``barriers.json`` (with the failure rate by class); never silently kept
  or dropped (``lipsglass.neb.results``, ``lipsglass.neb.barrier_statistics``).
* Claims C9 and C10: decided in ``lipsglass.claims.neb`` (forward barriers of independent hops
  out of soft and hard Li over the NEB glasses; long hops of Li near PS4 and near P2S6 with the
  glass as unit) against the config's ``claims`` section; the ``neb_claims`` job reads the
  files, calls it and writes the rows. No analysis job here reads a claim criterion.

Units: lengths A, energies eV, time ps, softness dimensionless.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lipsglass.claims import write_claim_rows
from lipsglass.claims.neb import c9_verdict, c10_verdict
from lipsglass.core.tables import read_rows
from lipsglass.figures import note_figure
from lipsglass.figures.neb import CLASS_LABELS, plot_barrier_distributions, plot_energy_paths
from lipsglass.forcefield import ForceField
from lipsglass.jsonio import write_json
from lipsglass.engine.runtime import LammpsRuntime
from lipsglass.neb.barrier_statistics import SUMMARY_COLUMNS, summary_rows
from lipsglass.neb.batch import batch_slice, n_batches, run_batch
from lipsglass.neb.li_motion import li_motion_by_anion, trajectory_window
from lipsglass.neb.results import (BARRIER_COLUMNS, PATH_COLUMNS, barrier_rows, barriers_by_class,
                                   collect_hop_results, collection_summary, hop_dir, path_rows, read_barriers,
                                   representative_hop, write_rows_csv)
from lipsglass.neb.selection import hops_requested, li_of_configuration, read_hops_csv, select_hops
from lipsglass.neb.settings import neb_settings
from lipsglass.stages.softness import read_atom_labels, s_anion_labels

log = logging.getLogger(__name__)

MAIN_CLASSES = ("soft->hard", "hard->soft")
MOTION_COLUMNS = ("id", "nearest_anion", "displacement_A", "path_length_A", "hopped")


# ---- selection and batches ---------------------------------------------------------------------

def select_job(glass_data: str, softness_csv: str, settings: Mapping, out_hops: str, out_selection: str) -> None:
    """Seeded hop sample of one glass (``lipsglass.neb.selection.select_hops``): ``hops.csv`` and a JSON
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


# ---- collection, statistics and claims ------------------------------------------------------------

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
    rows = barrier_rows(collect_hop_results(hops, workdir))
    write_rows_csv(outputs["barriers"], rows, BARRIER_COLUMNS)
    write_rows_csv(outputs["paths"], path_rows(rows, workdir), PATH_COLUMNS)
    write_json(outputs["summary"], collection_summary(rows, json.loads(Path(selection_json).read_text())))


def summary_job(barriers: Mapping[str, str], settings: Mapping, out_csv: str) -> None:
    """``neb_summary.csv``: class statistics and the soft->hard vs hard->soft test per glass and
    for the hops of all glasses pooled (``lipsglass.neb.barrier_statistics.summary_rows``)."""
    hops = {glass: read_barriers(path) for glass, path in barriers.items()}
    write_rows_csv(out_csv, summary_rows(hops, int(settings["n_bootstrap"]), int(settings["seed"])), SUMMARY_COLUMNS)


def claims_job(barriers: Mapping[str, str], motion: Mapping[str, Mapping[str, str]], criteria: Mapping, level: float,
               atoms: Mapping[str, int], out_csv: str) -> None:
    """``neb_claims.csv`` with C9 and C10 (decided in ``lipsglass.claims.neb``). ``barriers``:
    barriers.csv of every NEB glass; ``motion[glass][replica]``: li_motion.json paths;
    ``criteria``: the config's ``claims.C9`` and ``claims.C10``; ``level``: ``claims.level``;
    ``atoms``: atoms per glass (composition; the scale of the rows)."""
    motions = {g: {r: json.loads(Path(p).read_text()) for r, p in reps.items()} for g, reps in motion.items()}
    write_claim_rows(out_csv, [
        c9_verdict({g: read_barriers(p) for g, p in barriers.items()}, criteria["C9"], float(level), atoms,
                   "; ".join(str(p) for p in barriers.values())).row(),
        c10_verdict(motions, criteria["C10"], float(level), atoms,
                    "; ".join(str(p) for reps in motion.values() for p in reps.values())).row(),
    ])


# ---- Li motion at the trajectory temperature ---------------------------------------------------

def li_motion_job(trajectory: str, atom_labels: str, settings: Mapping, md: Mapping, radius_A: float,
                  temperature_K: float, out_csv: str, out_json: str) -> None:
    """Motion of every Li over the first ``trace_duration_ps`` of the run
    (``lipsglass.neb.li_motion.li_motion_by_anion``): per-Li table and per-anion summary."""
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


# ---- figures -------------------------------------------------------------------------------

def paths_figure_job(glass: str, barriers: str, paths: str, out_png: str, out_pdf: str) -> None:
    """Fig. 4B: energy along the path of the median-barrier converged hop of soft->hard and of
    hard->soft (``lipsglass.neb.results.representative_hop``)."""
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
        note_figure(f"{glass}: no converged soft->hard or hard->soft hop (see barriers.csv)", out_png, out_pdf)
        return
    note = f"; no converged hop: {', '.join(missing)}" if missing else ""
    plot_energy_paths(curves, out_png, out_pdf, hop_classes=classes, title=f"{glass}{note}")


def barriers_figure_job(barriers: Mapping[str, str], classes: Sequence[str], out_png: str, out_pdf: str) -> None:
    """Fig. 4C (main classes) / Fig. S3 (all four): forward barriers of converged hops per glass."""
    per_glass = {g: barriers_by_class(read_barriers(p)) for g, p in barriers.items()}
    if not any(len(v[c]) for v in per_glass.values() for c in classes):
        note_figure(f"no converged hop in classes {', '.join(classes)}", out_png, out_pdf)
        return
    plot_barrier_distributions(per_glass, out_png, out_pdf, classes=tuple(classes),
                               title="converged hops only")
