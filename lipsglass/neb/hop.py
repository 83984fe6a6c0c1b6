"""One Li hop from end to end: end states and their checks (``lipsglass.neb.endstates``), the
IDPP starting path (``lipsglass.neb.paths``), the NEB band with its refinement
(``lipsglass.neb.band``) and the hop's ``result.json``, which marks it as finished; a finished
result is reused when it was computed for the same hop, glass, force field and settings
(``cached_result``). A LAMMPS failure is retried with half the timestep (``retries``) and then
reported as "failed" with the error.

Units: lengths A, energies eV (kcal/mol where named), times s.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Mapping

import numpy as np

from lipsglass.forcefield import ForceField
from lipsglass.engine.runtime import LammpsRuntime
from lipsglass.engine.runner import SimulationFailed
from lipsglass.neb.band import converged_band
from lipsglass.neb.endstates import file_sha256, model_header, prepare_end_states
from lipsglass.neb.paths import closest_approach, idpp_path, linear_path
from lipsglass.neb.results import CONVERGED, FAILED, NOT_CONVERGED, hop_dir, write_rows_csv
from lipsglass.neb.selection import HOP_COLUMNS
from lipsglass.neb.settings import NEBSettings

# 3: end states from the glass's inherent structure, site-change check; 4: split depth, climb retries;
# 5: split also at basins that the climbing or the refined band shows
RESULT_VERSION = 5


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def run_hop(hop_row: Mapping, glass_data: str | Path, ff: ForceField, settings: NEBSettings,
            workdir: str | Path, launcher: str | None = None,
            runtime: LammpsRuntime | None = None) -> dict:
    """End states, checks, IDPP starting path, NEB and refinement of one hop in
    ``workdir/hop_<id>``; writes ``path.csv`` and then ``result.json`` (atomically, last: its
    presence marks the hop as finished) and returns the result dict. A LAMMPS failure is retried
    ``settings.retries`` times with half the timestep each time; rejected hops and hops that
    still fail are finished results too, with their status and reason; nothing is dropped."""
    hop = {k: hop_row[k] for k in HOP_COLUMNS}
    out = hop_dir(workdir, hop["hop_id"]).resolve()
    # a hop is computed from scratch: bands, basins and segments of an earlier run (other
    # settings, a killed job) must not be mistaken for this run's
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    glass_data = Path(glass_data).resolve()
    result = dict(hop, version=RESULT_VERSION, glass_data=str(glass_data), glass_sha256=file_sha256(glass_data),
                  forcefield=ff.name, settings=settings.to_dict())
    t0 = time.perf_counter()
    errors = []
    try:
        ends = prepare_end_states(glass_data, ff, int(hop["from_id"]), int(hop["to_id"]), settings, out,
                                  inherent_dir=Path(workdir).resolve())
    except SimulationFailed as exc:
        ends = None
        errors.append(f"end states: {exc}")
    if ends is not None:
        result.update(energy_initial_min_kcal_mol=ends.energy_initial_kcal_mol,
                      energy_final_min_kcal_mol=ends.energy_final_kcal_mol,
                      initial_shift_A=ends.initial_shift_A, final_to_target_A=ends.final_to_target_A,
                      final_to_origin_A=ends.final_to_origin_A, hop_length_A=ends.hop_length_A,
                      max_other_displacement_A=ends.max_other_displacement_A,
                      max_other_atom_id=ends.max_other_atom_id, other_site_changes=len(ends.site_changed_ids),
                      site_changed_atom_ids=list(ends.site_changed_ids), end_state_wall_s=time.perf_counter() - t0)
        result["status"] = ends.rejection
    if ends is not None and ends.rejection is None:
        t1 = time.perf_counter()
        k = int(np.flatnonzero(ends.ids == int(hop["from_id"]))[0])
        n_images = settings.replicas_for(ends.hop_length_A)
        linear = linear_path(ends.box, ends.initial_positions, ends.final_positions, n_images)
        path = idpp_path(ends.box, ends.initial_positions, ends.final_positions, n_images, settings.idpp_cutoff_A)
        result.update(linear_closest_approach_A=closest_approach(ends.box, linear, k),
                      start_closest_approach_A=closest_approach(ends.box, path, k),
                      starting_path="idpp" if settings.idpp_cutoff_A > 0 else "linear",
                      path_wall_s=time.perf_counter() - t1)
        t2 = time.perf_counter()
        band = None
        for attempt in range(int(settings.retries) + 1):
            s = replace(settings, timestep_fs=settings.timestep_fs / 2 ** attempt)
            try:
                band = converged_band(model_header(ff, ends.initial_data, out, s), ends.ids, ends.box, path, s, out,
                                      launcher, runtime=runtime)
                break
            except SimulationFailed as exc:
                errors.append(f"NEB attempt {attempt + 1} (timestep {s.timestep_fs:g} fs): {exc}")
        if band is not None:
            result.update(band, neb_wall_s=time.perf_counter() - t2)
            result["status"] = CONVERGED if band["converged"] else NOT_CONVERGED
            write_rows_csv(out / "path.csv",
                           [{"replica": i + 1, "reaction_coordinate": x, "energy_eV": e}
                            for i, (x, e) in enumerate(zip(band["path_reaction_coordinate"],
                                                           band["path_energy_eV"]))],
                           ("replica", "reaction_coordinate", "energy_eV"))
    if result.get("status") is None:
        result.update(status=FAILED, error=f"failed after {len(errors)} attempts; last: {errors[-1]}")
    result.update(attempts=len(errors) + (0 if result["status"] == FAILED else 1), errors=errors,
                  wall_s=time.perf_counter() - t0)
    _write_atomic(out / "result.json", json.dumps(result, indent=1))
    return result


def cached_result(hop_row: Mapping, glass_data: str | Path, ff: ForceField, settings: NEBSettings,
                  workdir: str | Path) -> dict | None:
    """The finished result of this hop if ``result.json`` exists, parses, and was computed for
    the same hop, glass file (content hash), force field and settings; else None."""
    path = hop_dir(workdir, hop_row["hop_id"]) / "result.json"
    if not path.exists():
        return None
    try:
        res = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    same = (res.get("version") == RESULT_VERSION and "status" in res
            and all(res.get(k) == hop_row[k] for k in ("hop_id", "from_id", "to_id"))
            and res.get("glass_sha256") == file_sha256(Path(glass_data)) and res.get("forcefield") == ff.name
            and res.get("settings") == settings.to_dict())
    if same and res["status"] in (CONVERGED, NOT_CONVERGED) and not (path.parent / "path.csv").exists():
        return None
    return res if same else None


def run_single_hop(data: str | Path, from_id: int, to_id: int, settings: NEBSettings, ff: ForceField,
                   workdir: str | Path | None = None, launcher: str | None = None,
            runtime: LammpsRuntime | None = None) -> dict:
    """``run_hop`` of the hop Li ``from_id`` -> site of Li ``to_id`` (LAMMPS atom ids; ``to_id``
    is removed, as in the stage) of the data file ``data``; scratch files in ``workdir`` or, when
    None, in a temporary folder that is deleted afterwards. Returns the result dict."""
    hop = {"hop_id": 0, "from_id": int(from_id), "to_id": int(to_id), "class": "", "distance_A": float("nan"),
           "S_from": float("nan"), "S_to": float("nan")}
    data = Path(data).resolve()
    if not data.exists():
        raise FileNotFoundError(f"no data file {data}")
    if workdir is not None:
        return run_hop(hop, data, ff, settings, workdir, launcher, runtime=runtime)
    with tempfile.TemporaryDirectory(prefix="lipsglass-neb-") as tmp:
        return run_hop(hop, data, ff, settings, tmp, launcher, runtime=runtime)
