"""The stored results of production runs read back: the measured temperature of a run's thermo.csv,
its diffusion.json (with its phase.json label merged in), its DiffusionResult (diffusion.json
and msd.csv), and the species count and cell volume of a quenched glass.

Units: T in K, volumes in A^3.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lipsglass.core.tables import read_rows
from lipsglass.lammpsio import read_data
from lipsglass.transport.diffusion import DiffusionResult

__all__ = ["production_thermo_summary", "load_run_results", "merge_phase", "load_runs_with_phases",
           "load_diffusion_result", "glass_species_density"]


def production_thermo_summary(thermo_csv: str | Path, stage: str = "production") -> dict:
    """Mean and standard deviation of the temperature (K) and mean volume (A^3) over the rows of
    ``stage`` in a workflow thermo.csv. Raises ValueError if the stage has no rows."""
    rows = [r for r in read_rows(thermo_csv) if r.get("stage") == stage]
    if not rows:
        raise ValueError(f"{thermo_csv}: no rows of stage {stage!r}")
    T = np.array([float(r["T_K"]) for r in rows])
    V = np.array([float(r["volume_A3"]) for r in rows])
    return {"T_measured_K": float(T.mean()), "T_measured_std_K": float(T.std(ddof=1)) if T.size > 1 else None,
            "thermo_volume_A3": float(V.mean()), "thermo_rows": int(T.size)}


def load_run_results(paths: Sequence[str | Path]) -> list[dict]:
    """diffusion.json of each run, sorted by temperature; duplicate temperatures are an error."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    runs.sort(key=lambda r: r["temperature_K"])
    temps = [r["temperature_K"] for r in runs]
    if len(set(temps)) != len(temps):
        raise ValueError(f"duplicate temperatures among the runs: {temps}")
    return runs


def merge_phase(run: dict, phase: Mapping | None) -> dict:
    """A run's diffusion.json with its glass/liquid label (phase.json) attached."""
    out = dict(run)
    if phase is not None:
        out["phase"] = phase["label"]
        out["phase_reason"] = phase.get("reason", "")
        out["phase_criteria"] = phase
    return out


def load_runs_with_phases(run_files: Sequence[str | Path], phase_files: Sequence[str | Path]) -> list[dict]:
    """diffusion.json and phase.json of the runs of one replica (same order), sorted by T."""
    if len(run_files) != len(phase_files):
        raise ValueError(f"{len(run_files)} diffusion results for {len(phase_files)} phase labels")
    phases = {}
    for p in phase_files:
        d = json.loads(Path(p).read_text())
        phases[round(float(d["temperature_K"]))] = d
    runs = load_run_results(run_files)
    missing = [r["temperature_K"] for r in runs if round(r["temperature_K"]) not in phases]
    if missing:
        raise ValueError(f"no phase label for the runs at {missing} K")
    return [merge_phase(r, phases[round(r["temperature_K"])]) for r in runs]


def load_diffusion_result(result_json: str | Path, msd_csv: str | Path) -> DiffusionResult:
    """DiffusionResult of one run from its diffusion.json and msd.csv."""
    data = json.loads(Path(result_json).read_text())
    curve = np.genfromtxt(msd_csv, delimiter=",", names=True)
    kwargs = {f.name: data[f.name] for f in dataclasses.fields(DiffusionResult)
              if f.name not in ("lag_ps", "msd_A2") and f.name in data}
    return DiffusionResult(**kwargs, lag_ps=np.atleast_1d(curve["lag_ps"]), msd_A2=np.atleast_1d(curve["msd_A2"]))


def glass_species_density(glass_data: str | Path, species: str) -> tuple[int, float]:
    """Number of ``species`` atoms and cell volume (A^3) of a LAMMPS data file (a quenched glass)."""
    data = read_data(glass_data)
    n = int(np.count_nonzero(data.elements() == species))
    if n == 0:
        raise ValueError(f"{glass_data}: no {species} atoms")
    return n, float(data.box.volume)
