"""Job-level glue of the build stage: one glass's random starting structure (lipsglass.builder)."""

import json
import os
import time
from pathlib import Path

from lipsglass.builder import build_glass, build_summary, write_data_file
from lipsglass.composition import Composition
from lipsglass.forcefield import ForceField
from lipsglass.provenance import write_provenance


def build_glass_job(glass: str, units: dict, forcefield: str, build_config: dict, out_data: str,
                    out_provenance: str, log: str) -> None:
    """Workflow job (``workflow/scripts/build_glass.py``): build glass ``glass`` from its unit
    counts and the config's ``build`` block (seed, density_g_cm3, min_distance_A), write the
    data file and its provenance. The data file appears only once complete (atomic rename)."""
    missing = {"seed", "density_g_cm3", "min_distance_A"} - set(build_config)
    if missing:
        raise ValueError(f"build config lacks {sorted(missing)}")
    start = time.perf_counter()
    ff = ForceField.load(forcefield)
    composition = Composition(glass, {k: int(v) for k, v in units.items()})
    built = build_glass(composition, ff, int(build_config["seed"]),
                        density_g_cm3=float(build_config["density_g_cm3"]),
                        min_distance_A=float(build_config["min_distance_A"]))
    out_data = Path(out_data)
    out_data.parent.mkdir(parents=True, exist_ok=True)
    partial = out_data.with_name(out_data.name + ".partial")
    write_data_file(built, ff, partial)
    summary = build_summary(built)
    summary["seconds"] = time.perf_counter() - start
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    Path(log).write_text(json.dumps(summary, indent=1) + "\n")
    write_provenance(out_provenance, glass=glass, composition_units=dict(units), forcefield=forcefield,
                     build=dict(build_config), seeds={"build": int(build_config["seed"])}, summary=summary)
    os.replace(partial, out_data)
