"""A quench's cooling ramp read from its thermo.csv: temperature axis, volume, specific volume and
enthalpy of every row of a stage, in time order.

Units: temperatures in K, times in ps, volumes in A^3, specific volumes in cm^3/g, densities in
g/cm^3, energies and enthalpies in kcal/mol (whole cell, LAMMPS ``units real``), pressures in
atm, scan rates in K/ps.

* Temperature axis: by default the ramp temperature, i.e. the least-squares line T(t) through
  the instantaneous temperatures of the ramp rows (the thermostat target, delayed by the
  thermostat lag). The instantaneous kinetic temperature of a ~1000-atom cell scatters by
  tens of K, an error in the abscissa that would flatten both slopes and blur Tg;
  ``temperature_axis='measured'`` uses it anyway.
* Enthalpy: H = E_total + P V, with P the imposed (barostat) pressure by default, since the
  instantaneous virial pressure of a small cell scatters by ~10^3 atm and would add noise of
  hundreds of kcal/mol; 1 atm A^3 = 1.01325e-25 J, i.e. ``ATM_A3_TO_KCAL_MOL`` kcal/mol.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lipsglass import units
from lipsglass.core.tables import read_rows

__all__ = ["ATM_A3_TO_KCAL_MOL", "QUANTITY_UNITS", "QUANTITY_COLUMN", "load_ramp", "bin_in_temperature"]

# 1 atm * A^3 = 101325 Pa * 1e-30 m^3 = 1.01325e-25 J; per mole: * N_A / 4184 J/kcal
ATM_A3_TO_KCAL_MOL = 101325.0 * 1e-30 * units.AVOGADRO / 4184.0   # = 1.458397e-5 kcal/mol

# quantity -> unit suffix of its keys
QUANTITY_UNITS = {"volume": "A3", "enthalpy": "kcal_mol", "specific_volume": "cm3_g"}

# quantity -> ramp column it is fitted from
QUANTITY_COLUMN = {"volume": "volume_A3", "enthalpy": "enthalpy_kcal_mol",
                   "specific_volume": "specific_volume_cm3_g"}

_RAMP_COLUMNS = ("time_ps", "T_K", "P_atm", "density_g_cm3", "volume_A3", "etotal_kcal_mol")


def load_ramp(thermo_csv: str | Path, stage: str = "cool", *, temperature_axis: str = "ramp",
              enthalpy_pressure: str = "imposed", pressure_atm: float = 1.0) -> dict:
    """Rows of ``stage`` in a workflow thermo.csv as arrays (time order): time_ps, T_measured_K,
    T_K (the axis: ramp line or measured), volume_A3, specific_volume_cm3_g (1/density),
    enthalpy_kcal_mol (E_total + P V, P imposed or instantaneous), plus the ramp line
    (dT_dt_K_per_ps, its intercept) and the cell mass mass_g_mol (density x volume)."""
    if temperature_axis not in ("ramp", "measured"):
        raise ValueError(f"temperature_axis must be 'ramp' or 'measured', got {temperature_axis!r}")
    if enthalpy_pressure not in ("imposed", "instantaneous"):
        raise ValueError(f"enthalpy_pressure must be 'imposed' or 'instantaneous', got {enthalpy_pressure!r}")
    rows = [r for r in read_rows(thermo_csv, required=("stage", *_RAMP_COLUMNS)) if r["stage"] == stage]
    if len(rows) < 3:
        raise ValueError(f"{thermo_csv}: {len(rows)} rows of stage {stage!r}; need >= 3")
    col = {c: np.array([float(r[c]) for r in rows]) for c in _RAMP_COLUMNS}
    t = col["time_ps"]
    slope, intercept = np.polyfit(t - t[0], col["T_K"], 1)
    T_ramp = intercept + slope * (t - t[0])
    p = np.full(t.shape, float(pressure_atm)) if enthalpy_pressure == "imposed" else col["P_atm"]
    return {
        "time_ps": t, "T_measured_K": col["T_K"],
        "T_K": T_ramp if temperature_axis == "ramp" else col["T_K"],
        "volume_A3": col["volume_A3"], "specific_volume_cm3_g": 1.0 / col["density_g_cm3"],
        "enthalpy_kcal_mol": col["etotal_kcal_mol"] + p * col["volume_A3"] * ATM_A3_TO_KCAL_MOL,
        "dT_dt_K_per_ps": float(slope), "ramp_T_start_K": float(intercept),
        "mass_g_mol": float(np.median(col["density_g_cm3"] * col["volume_A3"] * units.ANGSTROM3_TO_CM3
                                      * units.AVOGADRO)),
        "n_rows": len(rows),
    }


def bin_in_temperature(T_K: np.ndarray, y: np.ndarray, bin_K: float) -> tuple[np.ndarray, np.ndarray]:
    """Means of T and y in consecutive temperature bins of width ``bin_K`` (K); empty bins dropped."""
    if not bin_K > 0:
        raise ValueError(f"bin_K must be positive, got {bin_K}")
    idx = np.floor((T_K - T_K.min()) / bin_K).astype(int)
    keys = np.unique(idx)
    return (np.array([T_K[idx == k].mean() for k in keys]), np.array([y[idx == k].mean() for k in keys]))
