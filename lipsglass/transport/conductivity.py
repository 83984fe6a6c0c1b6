"""Ionic conductivity of the diffusing species: Nernst-Einstein from the tracer D, the collective
(Einstein) conductivity of the same ions, and the measured Haven ratio.

Units: D in cm^2/s, volumes in A^3, temperatures in K, charges in units of e, conductivities in
S/cm, the charge displacement P in e A.

* Nernst-Einstein: sigma = n q^2 D / (H k_B T) with the configured (assumed) Haven ratio H,
  n = N_species / V, q = ``species_charge_e``.
* Collective (Einstein) conductivity of the SAME ions with the SAME charge:
  sigma = lim d/dt <|P(t) - P(0)|^2> / (6 V k_B T), P = q sum_i (r_i - R_com) over the species
  only (R_com: whole-system centre of mass), fitted on D's window, with an SE always (time blocks
  when the window fits in a block, else a Brownian model of P, see ``einstein_conductivity``).
* Measured Haven ratio H = sigma_NE(H=1) / sigma_collective with a delta-method SE
  (``measured_haven_ratio``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lipsglass import units
from lipsglass.transport.msd import fit_msd_line, msd_fft, window_mask

__all__ = ["ConductivitySettings", "nernst_einstein_conductivity", "collective_conductivity_S_cm",
           "einstein_conductivity", "measured_haven_ratio"]


@dataclass(frozen=True)
class ConductivitySettings:
    """The conductivities of one run: the charge of the diffusing species (e) in both the
    Nernst-Einstein and the collective conductivity, the assumed Haven ratio of Nernst-Einstein,
    and the number of simulated Brownian paths behind the collective conductivity's model SE."""

    species_charge_e: float = 1.0
    haven_ratio: float = 1.0
    n_collective_simulations: int = 400


def nernst_einstein_conductivity(D_cm2_s: float, n_ions: int, volume_A3: float, T_K: float,
                                 charge_e: float = 1.0, D_stderr_cm2_s: float | None = None,
                                 haven_ratio: float = 1.0) -> tuple[float, float | None]:
    """Nernst-Einstein conductivity sigma = n (z e)^2 D / (H k_B T) in S/cm, n = n_ions/V.

    Haven ratio H = 1 neglects ion-ion velocity cross-correlations (stated assumption).
    Returns (sigma, its SE propagated from the SE of D; None if no SE given). V and T are
    taken as exact.
    """
    # A negative D (noise on an immobile species) is passed through, not clipped: it gives a
    # negative sigma that shows the run has no measurable transport.
    if not (np.isfinite(D_cm2_s) and n_ions > 0 and volume_A3 > 0 and T_K > 0 and haven_ratio > 0):
        raise ValueError("need a finite D, n_ions > 0, volume > 0, T > 0, haven_ratio > 0")
    n_cm3 = n_ions / (volume_A3 * units.ANGSTROM3_TO_CM3)
    q = charge_e * units.ELEMENTARY_CHARGE_C
    factor = n_cm3 * q * q / (haven_ratio * units.BOLTZMANN_J_K * T_K)  # S/cm per cm^2/s
    se = None if D_stderr_cm2_s is None else factor * D_stderr_cm2_s
    return factor * D_cm2_s, se


def collective_conductivity_S_cm(slope_e2A2_per_ps: float, volume_A3: float, T_K: float) -> float:
    """Einstein conductivity (S/cm) from the slope d<|dP|^2>/dt of the total charge
    displacement MSD (e^2 A^2 / ps): sigma = slope / (6 V k_B T)."""
    if not (volume_A3 > 0 and T_K > 0):
        raise ValueError("volume and temperature must be positive")
    e = units.ELEMENTARY_CHARGE_C
    slope_SI = slope_e2A2_per_ps * e * e * 1e-20 / 1e-12            # C^2 m^2 / s
    sigma_S_m = slope_SI / (6.0 * volume_A3 * 1e-30 * units.BOLTZMANN_J_K * T_K)
    return sigma_S_m * 1e-2                                          # S/m -> S/cm


def einstein_conductivity(charge_displacement: np.ndarray, dt_ps: float, volume_A3: float, T_K: float,
                          fit_start_ps: float, fit_end_ps: float, n_blocks: int = 5, *,
                          reference_slope_e2A2_ps: float | None = None, n_simulations: int = 400,
                          seed: int = 0) -> dict:
    """Collective (Einstein) conductivity from P(t) = sum_i q_i r_i(t) (e A, shape (n_frames, 3),
    unwrapped, centre of mass removed), fitted on [fit_start_ps, fit_end_ps] like D.

    Always returns a standard error (``sigma_stderr_S_cm``) and names its estimator:

    * ``blocks``: the window fits in one of ``n_blocks`` contiguous time blocks: std(ddof=1)/sqrt(n)
      of the block values (same window in ps), as for D.
    * ``brownian_model``: the window is longer than a block. P(t) is ONE collective coordinate,
      so there is nothing to resample over atoms, and with a window of half the run a moving-block
      bootstrap of time origins has too few independent blocks to work. The SE is then the
      spread of the same estimator over ``n_simulations`` seeded Brownian paths P(t) of the
      same length and frame spacing with the fitted slope and the fitted intercept (as white
      noise of variance intercept/6 per axis): the model the MSD fit itself assumes in the window
      (the approach of kinisi's Brownian MSD covariance). Its scale is the diffusion rate of P,
      so a noisy low (or negative) estimate would understate it: the model slope is
      max(fitted slope, ``reference_slope_e2A2_ps``), the latter the value expected without ion-ion
      correlations (N q^2 6 D_tracer, Haven ratio 1), which is conservative when the true
      collective slope is below it.

    A negative sigma (noise) is reported as is, with its SE. If no SE can be computed (window
    with < 3 lags, or a zero model slope) sigma and SE are None with a ``reason``.
    """
    p = np.asarray(charge_displacement, float)
    if p.ndim != 2 or p.shape[1] != 3:
        raise ValueError(f"charge displacement must be (n_frames, 3), got {p.shape}")
    n_frames = p.shape[0]
    lag = np.arange(n_frames) * dt_ps
    out = {"sigma_S_cm": None, "sigma_stderr_S_cm": None, "stderr_estimator": None, "sigma_blocks_S_cm": [],
           "n_blocks": n_blocks, "note": "", "reason": ""}
    if window_mask(lag, fit_start_ps, fit_end_ps).sum() < 3:
        out["reason"] = f"fit window [{fit_start_ps:g}, {fit_end_ps:g}] ps holds fewer than 3 lags: no fit, no SE"
        return out
    msd = msd_fft(p)
    slope6, intercept = fit_msd_line(lag, msd, fit_start_ps, fit_end_ps)   # slope6 = slope / 6
    sigma = collective_conductivity_S_cm(6.0 * slope6, volume_A3, T_K)
    block_frames = n_frames // n_blocks
    if fit_end_ps <= (block_frames - 1) * dt_ps * (1 + 1e-9) and n_blocks >= 2:
        blocks = []
        for b in range(n_blocks):
            m_b = msd_fft(p[b * block_frames:(b + 1) * block_frames])
            s_b, _ = fit_msd_line(lag[:block_frames], m_b, fit_start_ps, fit_end_ps)
            blocks.append(collective_conductivity_S_cm(6.0 * s_b, volume_A3, T_K))
        out.update(sigma_S_cm=float(sigma), sigma_stderr_S_cm=float(np.std(blocks, ddof=1) / math.sqrt(n_blocks)),
                   stderr_estimator="blocks", sigma_blocks_S_cm=[float(v) for v in blocks],
                   note=f"SE: std(ddof=1)/sqrt(n) over {n_blocks} contiguous time blocks, same window")
        return out
    model_slope = 6.0 * float(slope6)
    floor = "fitted slope"
    if reference_slope_e2A2_ps is not None and reference_slope_e2A2_ps > model_slope:
        model_slope, floor = float(reference_slope_e2A2_ps), "Haven-ratio-1 slope (above the fitted one)"
    if not model_slope > 0:
        out["reason"] = "fitted slope is not positive and no reference slope was given: no model SE"
        return out
    rng = np.random.default_rng(seed)
    noise_sd = math.sqrt(max(float(intercept), 0.0) / 6.0)
    steps = rng.normal(scale=math.sqrt(model_slope / 3.0 * dt_ps), size=(n_frames - 1, n_simulations, 3))
    paths = np.concatenate([np.zeros((1, n_simulations, 3)), np.cumsum(steps, axis=0)])
    if noise_sd > 0:
        paths += rng.normal(scale=noise_sd, size=paths.shape)
    sim_slope6, _ = fit_msd_line(lag, msd_fft(paths, per_particle=True), fit_start_ps, fit_end_ps)
    se = collective_conductivity_S_cm(6.0 * float(np.std(sim_slope6, ddof=1)), volume_A3, T_K)
    out.update(sigma_S_cm=float(sigma), sigma_stderr_S_cm=float(se), stderr_estimator="brownian_model",
               note=(f"fit window longer than one of {n_blocks} blocks: SE = spread of the estimator over "
                     f"{n_simulations} Brownian paths with the {floor} and the fitted intercept as white noise"))
    return out


def measured_haven_ratio(sigma_NE: float, sigma_NE_stderr: float | None, sigma_collective: float | None,
                sigma_collective_stderr: float | None) -> tuple[float | None, float | None, str]:
    """Measured Haven ratio H = sigma_NE / sigma_collective (sigma_NE with H = 1) and its SE by the
    delta method, (SE_H/H)^2 = (SE_NE/NE)^2 + (SE_c/c)^2, ignoring the covariance of the two
    estimates (same trajectory). The covariance comes from the self part that the collective MSD
    shares with the tracer MSD and is non-negative, so leaving it out can only enlarge the SE
    (conservative); it is small anyway, since the collective SE (one coordinate) dominates.
    Returns (H, SE, note); H and SE are None (with the reason) when sigma_collective is missing
    or not positive."""
    if sigma_collective is None or sigma_collective_stderr is None:
        return None, None, "no collective conductivity with a standard error"
    if not sigma_collective > 0:
        return None, None, f"collective conductivity {sigma_collective:.3g} S/cm is not positive: H undefined"
    h = sigma_NE / sigma_collective
    rel_ne = 0.0 if not sigma_NE_stderr or sigma_NE == 0 else sigma_NE_stderr / sigma_NE
    rel_c = sigma_collective_stderr / sigma_collective
    se = abs(h) * math.sqrt(rel_ne ** 2 + rel_c ** 2)
    note = ("H = sigma_NE(H=1) / sigma_collective; SE by the delta method without the (non-negative) covariance "
            "of the two estimates: conservative")
    if rel_c > 0.3:
        note += (f"; the collective SE is {100 * rel_c:.0f} % of its value, so H is poorly determined "
                 "(delta method rough)")
    return float(h), float(se), note
