"""The whole transport analysis of one run: its trajectory read, the tracer D with its errors and
diffusive check, and with a temperature the conductivities and the measured Haven ratio.

Units: positions in Angstrom, times in ps, MSD in A^2, D in cm^2/s, temperatures in K,
conductivities in S/cm, charges in units of e, volumes in A^3.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from lipsglass import units
from lipsglass.core.tables import write_rows
from lipsglass.transport.conductivity import (ConductivitySettings, einstein_conductivity, measured_haven_ratio,
                                              nernst_einstein_conductivity)
from lipsglass.transport.diffusion import DiffusionFit, DiffusionResult, diffusion_from_positions
from lipsglass.transport.msd import local_loglog_slope
from lipsglass.transport.trajectory import SpeciesTrajectory, read_species_trajectory

__all__ = ["analyse_trajectory", "write_msd_csv"]


def analyse_trajectory(path: str | Path, species: str = "Li", *, dt_ps: float | None = None,
                       timestep_fs: float | None = None, type_to_element: dict[int, str] | None = None,
                       temperature_K: float | None = None, remove_com: bool = True,
                       fit: DiffusionFit | None = None, conductivity: ConductivitySettings | None = None,
                       **overrides) -> tuple[dict, DiffusionResult]:
    """Everything for one run: tracer D of ``species`` (``diffusion_from_positions`` with ``fit``;
    the site spacing of the cage check is (mean V / N_species)^(1/3)), and with ``temperature_K``
    the Nernst-Einstein conductivity (charge and Haven ratio of ``conductivity``), the collective
    (Einstein) conductivity of the SAME ions with the SAME charge (Li only, q = species_charge_e,
    whole-system centre of mass removed) with its SE, and the measured Haven ratio
    sigma_NE(H=1) / sigma_collective with its SE. ``overrides``: fields of ``DiffusionFit`` or
    ``ConductivitySettings`` given as keywords (e.g. ``n_bootstrap=200, seed=1``; None
    settings: their defaults). Returns (JSON-ready dict, DiffusionResult with the MSD curve)."""
    charge_keys = ConductivitySettings.__dataclass_fields__
    conductivity = replace(conductivity or ConductivitySettings(),
                           **{k: v for k, v in overrides.items() if k in charge_keys})
    fit = replace(fit or DiffusionFit(), **{k: v for k, v in overrides.items() if k not in charge_keys})
    traj = read_species_trajectory(path, species, dt_ps=dt_ps, timestep_fs=timestep_fs,
                                   type_to_element=type_to_element)
    volume = float(traj.volumes_A3.mean())
    n_species = traj.positions.shape[1]
    spacing = (volume / n_species) ** (1.0 / 3.0)
    res = diffusion_from_positions(traj.positions, traj.dt_ps, traj.com if remove_com else None, fit,
                                   site_spacing_A=spacing)
    out = {"trajectory": str(path), "species": species, **res.to_dict(),
           "n_atoms_total": traj.n_atoms_total, "time_span_ps": float(traj.times_ps[-1]),
           "volume_A3": volume, "volume_rel_spread": float(np.ptp(traj.volumes_A3) / volume)}
    if temperature_K is not None:
        out.update(_conductivities(traj, res, volume, temperature_K, conductivity, remove_com, fit.seed))
    return out, res


def _conductivities(traj: SpeciesTrajectory, res: DiffusionResult, volume: float, temperature_K: float,
                    conductivity: ConductivitySettings, remove_com: bool, seed: int) -> dict:
    """The conductivity entries of a run's result (``analyse_trajectory``)."""
    species, q, haven = traj.species, conductivity.species_charge_e, conductivity.haven_ratio
    out = {}
    sigma, se = nernst_einstein_conductivity(res.D_cm2_s, res.n_atoms, volume, temperature_K,
                                             q, res.D_stderr_cm2_s, haven_ratio=haven)
    out["temperature_K"] = float(temperature_K)
    out["haven_ratio"] = float(haven)
    out["sigma_NE_S_cm"] = sigma
    out["sigma_NE_stderr_S_cm"] = se
    out["sigma_NE_assumptions"] = (f"Nernst-Einstein sigma = n q^2 D / (H k_B T), H = {haven:g} (assumed, "
                                   f"not measured), q = {q:g} e, n = {res.n_atoms} {species} / V")
    # Collective coordinate of the same ions and charge as NE, in the whole-system COM frame.
    rel = traj.positions - (traj.com[:, None, :] if remove_com else 0.0)
    P = q * rel.sum(axis=1)
    sigma_ne1, se_ne1 = nernst_einstein_conductivity(res.D_cm2_s, res.n_atoms, volume, temperature_K,
                                                     q, res.D_stderr_cm2_s)
    n_species = traj.positions.shape[1]
    ref = 6.0 * n_species * q ** 2 * max(res.D_cm2_s, 0.0) / units.ANGSTROM2_PS_TO_CM2_S
    ein = einstein_conductivity(P, traj.dt_ps, volume, temperature_K, res.fit_start_ps, res.fit_end_ps,
                                res.n_blocks, reference_slope_e2A2_ps=ref,
                                n_simulations=conductivity.n_collective_simulations, seed=seed)
    out["sigma_einstein_S_cm"] = ein["sigma_S_cm"]
    out["sigma_einstein_stderr_S_cm"] = ein["sigma_stderr_S_cm"]
    out["sigma_einstein_stderr_estimator"] = ein["stderr_estimator"]
    out["sigma_einstein_blocks_S_cm"] = ein["sigma_blocks_S_cm"]
    out["sigma_einstein_note"] = ein["note"]
    if ein["reason"]:
        out["sigma_einstein_reason"] = ein["reason"]
    out["sigma_einstein_definition"] = (
        f"{species} only, q = {q:+g} e, centre-of-mass of the whole system "
        f"{'removed' if remove_com else 'NOT removed'}; sigma = slope of <|P(t)-P(0)|^2> / (6 V k_B T), "
        f"P = q sum_i r_i, same fit window as D")
    h, h_se, h_note = measured_haven_ratio(sigma_ne1, se_ne1, ein["sigma_S_cm"], ein["sigma_stderr_S_cm"])
    out["haven_ratio_measured"] = h
    out["haven_ratio_measured_stderr"] = h_se
    out["haven_ratio_measured_note"] = h_note
    return out


def write_msd_csv(path: str | Path, res: DiffusionResult) -> None:
    """CSV lag_ps, msd_A2 and the local log-log slope dlnMSD_dlnt (``nan`` at lag 0 and wherever
    the MSD is not positive), readable with numpy.loadtxt/genfromtxt."""
    keep = res.lag_ps > 0
    slope = np.full(res.lag_ps.shape, np.nan)
    if np.all(res.msd_A2[keep] > 0):
        slope[keep] = local_loglog_slope(res.lag_ps, res.msd_A2)
    write_rows(path, ["lag_ps", "msd_A2", "dlnMSD_dlnt"],
               ([repr(float(t)), repr(float(m)), repr(float(s))] for t, m, s in zip(res.lag_ps, res.msd_A2, slope)))
