"""Transport of a composition: the production runs of its independent glass replicas combined.

The science (per-temperature combination over replicas, glass/liquid/mixed labels, the Arrhenius
fits by phase, the run length that would resolve unresolved glassy temperatures) is in
``lipsglass.transport.composition``; this module reads the replicas' results, calls it with
the ``transport`` settings and writes the outputs.

Files: ``results/{glass}/transport/diffusion.csv`` (``COMPOSITION_COLUMNS``) and
``arrhenius.json`` (the keys of a replica's arrhenius.json, plus ``replicas``,
``per_replica_Ea``, ``fits_by_phase``, ``phase_of_fit``, ``fit_T_range_K``,
``sigma_<T>K_ln_stderr``, ``run_length_needed``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lipsglass.core.settings import job_settings
from lipsglass.jsonio import write_json
from lipsglass.transport.composition import composition_summary, per_replica_ea
from lipsglass.transport.runs import glass_species_density, load_runs_with_phases
from lipsglass.transport.settings import TransportSettings
from lipsglass.transport.tables import COMPOSITION_COLUMNS, composition_rows, write_diffusion_table

log = logging.getLogger(__name__)


def composition_job(replica_run_files: Sequence[Sequence[str | Path]], replica_phase_files: Sequence[Sequence[str | Path]],
                    replica_arrhenius_files: Sequence[str | Path], replica_glass_data: Sequence[str | Path],
                    settings: Mapping, glass: str, duration_ps: float | Mapping[int, float] | None,
                    outputs: Mapping[str, str]) -> dict:
    """Workflow job of one composition: ``outputs['table']`` (diffusion.csv) and
    ``outputs['arrhenius']`` (arrhenius.json) from the per-run results of all its replicas.
    ``settings``: the ``transport`` section; ``duration_ps``: the production length of the runs,
    or {T: length} (production.durations_ps)."""
    s = job_settings(TransportSettings, settings, "transport")
    replica_runs = [load_runs_with_phases(r, p) for r, p in zip(replica_run_files, replica_phase_files)]
    densities = [glass_species_density(p, s.species) for p in replica_glass_data]
    n_species = {d[0] for d in densities}
    if len(n_species) != 1:
        raise ValueError(f"replicas of {glass} hold different numbers of {s.species}: {sorted(n_species)}")
    volume = float(np.mean([d[1] for d in densities]))
    summary, combined, reasons = composition_summary(
        replica_runs, s, n_species.pop(), volume,
        f"mean cell volume of the {len(densities)} quenched replica glasses", duration_ps)
    replica_fits = [json.loads(Path(p).read_text()) for p in replica_arrhenius_files]
    summary = {"glass": glass, **summary, "per_replica_Ea": per_replica_ea(replica_fits),
               "replica_arrhenius": [str(p) for p in replica_arrhenius_files]}
    log.info("%s: %d replicas; %s (%s); phase of the fit: %s", glass, summary["replicas"], summary["status"],
             summary["reason"], summary["phase_of_fit"])
    for row in summary["run_length_needed"]:
        log.info("%s: glassy %g K unresolved; production length needed: %s ps", glass, row["T_K"], row.get("duration_ps"))
    write_diffusion_table(outputs["table"], composition_rows(combined, reasons), COMPOSITION_COLUMNS)
    write_json(outputs["arrhenius"], summary)
    return summary
