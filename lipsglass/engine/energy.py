"""Single-point energy of a LAMMPS data file with the project's force field."""

from __future__ import annotations

import tempfile
from pathlib import Path

from lipsglass.forcefield import ForceField
from lipsglass.engine.runtime import open_lammps
from lipsglass.engine.setup import run_commands, setup_commands

ENERGY_TERMS = ("pe", "ebond", "eangle", "edihed", "evdwl", "ecoul", "elong", "temp", "press", "density")


def evaluate_energy(data_path: str | Path, ff: ForceField, atom_types: list[str] | None = None,
                    kspace: str = "ewald", kspace_accuracy: float = 1e-5, threads: int = 1,
                    log_file: str | Path | None = None) -> dict[str, float]:
    """Step-0 energy terms (kcal/mol) of a data file, as LAMMPS computes them."""
    with tempfile.TemporaryDirectory(prefix="lipsglass-energy-") as tmp:
        lmp = open_lammps(log_file=log_file, threads=threads)
        try:
            run_commands(lmp, setup_commands(ff, Path(data_path).resolve(), tmp, atom_types=atom_types,
                                             kspace=kspace, kspace_accuracy=kspace_accuracy))
            run_commands(lmp, ["thermo_style custom step " + " ".join(ENERGY_TERMS),
                               "thermo_modify norm no", "run 0"])
            values = {term: float(lmp.get_thermo(term)) for term in ENERGY_TERMS}
        finally:
            lmp.close()
    return {
        "pe": values["pe"], "ebond": values["ebond"], "eangle": values["eangle"],
        "edihed": values["edihed"], "evdwl": values["evdwl"],
        "ecoul_plus_elong": values["ecoul"] + values["elong"],
        "temp_K": values["temp"], "press_atm": values["press"], "density_g_cm3": values["density"],
        "kspace": f"{kspace} {kspace_accuracy}", "units": "kcal/mol (LAMMPS units real)",
    }
