"""Softness stage, per-atom properties (rules ``softness_properties``,
``softness_replica_properties``): potential energy (LAMMPS pe/atom incl. kspace) and Voronoi cells
of every atom of the analysed structure of a configuration (itself, its inherent structure or its
time average). Design choices: ``lipsglass.stages.softness``.
"""

from __future__ import annotations

import logging
import tempfile
from collections import deque
from typing import Mapping

import numpy as np

from lipsglass.core.tables import write_rows
from lipsglass.engine.minimise import lammps_per_atom
from lipsglass.lammpsio import Box, iter_dump, read_data
from lipsglass.softness.settings import SoftnessSettings
from lipsglass.stages.softness import settings_of

log = logging.getLogger(__name__)

PROPERTY_COLUMNS = ("id", "element", "pe_kcal_mol", "voronoi_A3", "voronoi_faces", "x_A", "y_A", "z_A")


def time_averaged_positions(trajectory: str, n_frames: int, ids: np.ndarray, box: Box) -> np.ndarray:
    """Mean unwrapped position (A) of atoms ``ids`` over the last ``n_frames`` frames of a
    trajectory, wrapped into ``box`` (the run's cell, which must be the frames' cell)."""
    last: deque = deque(maxlen=int(n_frames))
    for frame in iter_dump(trajectory):
        if not (frame.has("xu", "yu", "zu") or frame.has("ix", "iy", "iz")):
            raise ValueError(f"{trajectory}: time-averaged structures need unwrapped coordinates")
        if not np.allclose(frame.box.matrix, box.matrix, atol=1e-6):
            raise ValueError(f"{trajectory}: the cell changes; time averages need an NVT run")
        order = np.argsort(frame.ids)
        if not np.array_equal(frame.ids[order], np.sort(ids)):
            raise ValueError(f"{trajectory}: atom ids differ from the configuration's")
        last.append(frame.unwrapped_positions()[order])
    if not last:
        raise ValueError(f"{trajectory}: no frames")
    return box.wrap(np.mean(np.array(last), axis=0))


def properties_job(data_file: str, forcefield: str, md: Mapping, out_csv: str, log_file: str,
                   threads: int = 1, settings: SoftnessSettings | Mapping | None = None,
                   trajectory: str | None = None, switches: list[str] | None = None) -> None:
    """``li_properties.csv`` (``PROPERTY_COLUMNS``) of every atom of the analysed structure: the
    configuration itself (``structure: instantaneous``), its inherent structure (``inherent``)
    or the mean positions over the last ``time_average_frames`` frames of ``trajectory``
    (``time_average``; the configuration is the last frame), whose positions the softness of ``softness_job`` is then computed on; plain or radical
    Voronoi cells (``softness.voronoi``)."""
    settings = SoftnessSettings() if settings is None else settings_of(settings)
    data = read_data(data_file)
    elements = dict(zip(data.ids.tolist(), data.elements().tolist()))
    minimise = ((settings.inherent_ftol_kcal_mol_A, settings.inherent_max_iterations)
                if settings.structure == "inherent" else None)
    radii = dict(settings.voronoi_radii_A) if settings.voronoi == "radical" else None
    positions = None
    if settings.structure == "time_average":
        if trajectory is None:
            raise ValueError("softness.structure: time_average needs the run's trajectory")
        positions = time_averaged_positions(trajectory, settings.time_average_frames, data.ids, data.box)
    with tempfile.TemporaryDirectory(prefix="lipsglass-softness-") as tmp:
        p = lammps_per_atom(data_file, forcefield, md, tmp, log_file, threads, minimise=minimise, voronoi_radii=radii,
                            positions=positions, switches=switches)
    pos = data.box.wrap(p["position_A"])
    write_rows(out_csv, PROPERTY_COLUMNS,
               ([int(i), elements[int(i)], f"{e:.8g}", f"{v:.8g}", int(f), *(f"{c:.8f}" for c in x)]
                for i, e, v, f, x in zip(p["id"], p["pe_kcal_mol"], p["voronoi_A3"], p["voronoi_faces"], pos)))
    log.info("%s structure%s; total pe %.6g kcal/mol = sum of pe/atom; largest force %.3g kcal/mol/A; %s Voronoi; "
             "volume %.6g A^3", settings.structure, "" if minimise is None else " (energy-minimised)",
             p["total_pe_kcal_mol"], p["fmax_kcal_mol_A"], settings.voronoi, p["volume_A3"])

