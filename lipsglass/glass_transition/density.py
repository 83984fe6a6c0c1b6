"""Densities of the quenched glasses: each glass's from its data file, the mean over replicas with
its between-replica SE, the comparison with reference densities, and the density change the
glass's own thermal expansion predicts at a production temperature.

Units: densities in g/cm^3, masses in g/mol, volumes in A^3, temperatures in K.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lipsglass import units
from lipsglass.lammpsio import read_data

__all__ = ["glass_density_g_cm3", "density_summary", "compare_reference", "glass_line_change_percent"]


def glass_density_g_cm3(data_file: str | Path) -> dict:
    """Density (g/cm^3) of a LAMMPS data file: total mass from its Masses (g/mol) over the atoms,
    volume (A^3) from its box. Returns density_g_cm3, mass_g_mol, volume_A3, n_atoms."""
    data = read_data(data_file)
    mass = float(sum(data.masses[int(t)] for t in data.types))
    volume = data.box.volume
    return {"density_g_cm3": units.density_g_cm3(mass, volume), "mass_g_mol": mass, "volume_A3": volume,
            "n_atoms": data.n_atoms}


def density_summary(glass_data_files: Sequence[str | Path]) -> dict:
    """Density of every quenched replica glass (``glass_density_g_cm3``) and their mean +- SE
    (std(ddof=1)/sqrt(n); no SE for one replica, with the reason)."""
    per = [glass_density_g_cm3(p) for p in glass_data_files]
    rho = np.array([d["density_g_cm3"] for d in per], float)
    return {
        "per_replica_g_cm3": rho.tolist(),
        "mean_g_cm3": float(rho.mean()) if rho.size else None,
        "stderr_g_cm3": float(rho.std(ddof=1) / math.sqrt(rho.size)) if rho.size >= 2 else None,
        "stderr_reason": None if rho.size >= 2 else f"{rho.size} replica(s): no between-replica spread",
        "n_replicas": int(rho.size), "n_atoms_per_replica": [d["n_atoms"] for d in per],
        "data_files": [str(p) for p in glass_data_files],
        "estimator": ("density of each quenched glass at the end of the quench (data-file masses summed over the "
                      "atoms, volume of its box); mean +- std(ddof=1)/sqrt(n) over replicas"),
    }


def compare_reference(mean: float | None, reference: Mapping | None) -> dict | None:
    """Relative difference (%) of the mean density to every numeric ``*_g_cm3`` entry of the reference."""
    if reference is None:
        return None
    out = {}
    for key, value in reference.items():
        if key.endswith("_g_cm3") and isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = {"reference_g_cm3": float(value),
                        "difference_percent": None if mean is None else 100.0 * (mean - value) / value}
    return out


def glass_line_change_percent(volume_fit: Mapping, glass_volume_A3: float, temperature_K: float
                              ) -> tuple[float | None, str]:
    """Density change (%) the glass's own thermal expansion predicts between the end of its quench
    and ``temperature_K``: V(T) = V_glass + (dV/dT below Tg) (T - T_quench_end), with the slope
    of the replica's two-line volume fit (``volume_fit``: the 'volume' entry of its tg.json; its
    below-breakpoint line, also when Tg itself is not resolved: then the slope is that of the
    best two-line fit, said so). Returns (change or None, source text)."""
    slope = volume_fit.get("slope_below_A3_per_K")
    t_end = min(volume_fit["T_fit_range_K"]) if volume_fit.get("T_fit_range_K") else None
    if slope is None or t_end is None:
        return None, "no glass-line slope in tg.json: raw density change tested"
    v_glass = glass_volume_A3
    v_T = v_glass + slope * (temperature_K - t_end)
    kind = "resolved two-line fit" if volume_fit.get("resolved") else "best two-line fit (Tg itself not resolved)"
    return (100.0 * (v_glass / v_T - 1.0),
            f"glass line of the quench ({kind}): dV/dT = {slope:.3g} A^3/K from {t_end:.0f} K")
