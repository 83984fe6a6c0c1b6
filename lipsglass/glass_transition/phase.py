"""Glass or liquid: the label of a production run from its density, the motion of its anion
centres and its temperature relative to Tg.

Units: temperatures in K, times in ps, MSD in A^2, diffusion coefficients in cm^2/s, densities
in g/cm^3, lengths in A.

* Phase label (``phase_label``): a production run is 'liquid' if any of (i) its density fell
  by more than ``max_density_drop_percent`` from the quenched glass (beyond the glass's own
  thermal expansion), (ii) its anion centres (P) diffuse: the late-window slope of their MSD
  (whole-system centre-of-mass drift removed) gives D_P above ``max_anion_D_cm2_s`` AND at least
  ``anion_k_sigma`` standard errors above zero (SE from the spread of the per-atom slopes: atoms
  treated as independent; ``msd_plateau``), (iii) T >= Tg of its glass when Tg is known.
  Otherwise 'glass'.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from lipsglass import units
from lipsglass.glass_transition.settings import GlassTransitionSettings
from lipsglass.transport.msd import fit_msd_line, loglog_slope, msd_fft
from lipsglass.transport.trajectory import read_species_trajectory

__all__ = ["anion_msd", "msd_plateau", "phase_label", "PLATEAU_ESTIMATOR"]


def anion_msd(trajectory: str | Path, timestep_fs: float, species: str = "P", *, per_particle: bool = False
              ) -> tuple[np.ndarray, np.ndarray]:
    """MSD (A^2) of the ``species`` atoms of a LAMMPS text dump against lag (ps).

    Frames are read with the transport reader (``lipsglass.transport.trajectory.read_species_trajectory``):
    unwrapped ``xu yu zu`` (or x y z + image flags), the same atoms in every frame, evenly spaced
    frames at TIMESTEP x ``timestep_fs`` (fs); the whole-system centre of mass (masses from a
    ``mass`` column, else from the element names) is subtracted frame by frame, so a drift of the
    cell contents is not counted.
    MSD over all time origins (FFT, ``lipsglass.transport.msd.msd_fft``). Returns (lag_ps, msd_A2):
    msd_A2 of shape (n_lags,), or (n_lags, n_atoms) with ``per_particle=True``.
    """
    # the transport stage's reader: same frame checks (same atoms, evenly spaced) and centre of mass
    traj = read_species_trajectory(trajectory, species, timestep_fs=timestep_fs)
    if len(traj.times_ps) < 3:
        raise ValueError(f"{trajectory}: {len(traj.times_ps)} frames; an MSD plateau test needs >= 3")
    lag_ps = traj.times_ps - traj.times_ps[0]
    return lag_ps, msd_fft(traj.positions - traj.com[:, None, :], per_particle=per_particle)


PLATEAU_ESTIMATOR = ("least-squares slope of MSD vs lag (with intercept) over lags in [{a:g}, {b:g}] of the "
                     "longest lag, D = slope / 6; SE = std(per-atom D, ddof=1)/sqrt(n_atoms) (atoms treated as "
                     "independent); 'diffusing' if D > {dmax:g} cm^2/s and D > {k:g} SE, else 'plateau'")


def msd_plateau(lag_ps, msd_A2, *, start_frac: float = 0.25, end_frac: float = 0.6,
                max_D_cm2_s: float = 1e-6, k_sigma: float = 3.0, spacing_A: float | None = None) -> dict:
    """Does an MSD curve plateau (vibrating atoms) or keep rising (diffusing atoms)?

    ``msd_A2``: (n_lags,) or per atom (n_lags, n_atoms), A^2, against ``lag_ps`` (ps). The late
    window spans lags [start_frac, end_frac] x the longest lag, past the ~1 ps cage build-up and
    short of the noisy longest lags. D_late_cm2_s = slope / 6 there; its SE comes from the
    spread of per-atom slopes (None for a single averaged curve, and then the threshold alone
    decides). Verdict 'diffusing' if D_late > ``max_D_cm2_s`` and D_late > ``k_sigma`` SE,
    else 'plateau'. Also reports the log-log slope in the window (about 0 for a plateau, 1 for
    diffusion), the MSD at the window end, and with ``spacing_A`` (e.g. the mean P-P spacing,
    A) the ratio MSD_end / spacing^2.
    """
    t = np.asarray(lag_ps, float)
    y = np.asarray(msd_A2, float)
    span = float(t[-1])
    start, end = start_frac * span, end_frac * span
    slope_A2ps, _ = fit_msd_line(t, y, start, end)            # D in A^2/ps (slope / 6)
    slope_A2ps = np.atleast_1d(slope_A2ps)
    D = float(slope_A2ps.mean()) * units.ANGSTROM2_PS_TO_CM2_S
    se = (float(slope_A2ps.std(ddof=1) / math.sqrt(slope_A2ps.size)) * units.ANGSTROM2_PS_TO_CM2_S
          if slope_A2ps.size > 1 else None)
    mean_curve = y.mean(axis=1) if y.ndim == 2 else y
    window = (t >= start - 1e-9 * span) & (t <= end + 1e-9 * span) & (t > 0)
    ll = loglog_slope(t[window], mean_curve[window]) if np.all(mean_curve[window] > 0) else None
    msd_end = float(np.interp(end, t, mean_curve))
    significant = se is None or D > k_sigma * se
    diffusing = bool(D > max_D_cm2_s and significant)
    if diffusing:
        reason = (f"MSD still rising: D_late = {D:.2e} cm^2/s > {max_D_cm2_s:.1e}"
                  + ("" if se is None else f" and {D / se:.1f} SE above zero"))
    elif D > max_D_cm2_s:
        reason = f"D_late = {D:.2e} cm^2/s above {max_D_cm2_s:.1e} but within {k_sigma:g} SE of zero: plateau"
    else:
        reason = f"D_late = {D:.2e} cm^2/s <= {max_D_cm2_s:.1e}: MSD plateaus"
    return {
        "verdict": "diffusing" if diffusing else "plateau", "reason": reason,
        "D_late_cm2_s": D, "D_late_stderr_cm2_s": se, "D_late_sigmas": (D / se) if se else None,
        "loglog_slope_late": ll, "window_ps": [start, end], "msd_end_A2": msd_end,
        "spacing_A": spacing_A, "msd_end_over_spacing2": (msd_end / spacing_A ** 2) if spacing_A else None,
        "n_atoms": int(slope_A2ps.size) if y.ndim == 2 else None, "max_D_cm2_s": max_D_cm2_s, "k_sigma": k_sigma,
        "estimator": PLATEAU_ESTIMATOR.format(a=start_frac, b=end_frac, dmax=max_D_cm2_s, k=k_sigma),
    }


def phase_label(*, temperature_K: float, glass_density_g_cm3: float, run_density_g_cm3: float,
                lag_ps, msd_A2, Tg_K: float | None = None, settings: GlassTransitionSettings | None = None,
                spacing_A: float | None = None, Tg_source: str | None = None,
                expected_change_percent: float | None = None, expected_source: str | None = None) -> dict:
    """Glass or liquid for one production run at ``temperature_K`` (K).

    Criteria (each with value and verdict): (i) density: change of the run's density
    (``run_density_g_cm3``, e.g. mean of its production rows) relative to the quenched glass
    (``glass_density_g_cm3``), in %, beyond what the glass's own thermal expansion explains
    (``expected_change_percent``: the density change along the glass line of the quench, from
    its below-Tg slope; 0 when unknown): an excess drop beyond ``max_density_drop_percent`` ->
    liquid (a glass heated by 300 K expands by several % without becoming a liquid);
    (ii) anion-centre MSD (``lag_ps`` ps, ``msd_A2`` A^2, per atom or averaged): ``msd_plateau``
    'diffusing' -> liquid; (iii) T/Tg: T >= Tg_K -> liquid (no verdict when Tg is unknown).
    label = 'liquid' if any criterion says liquid, else 'glass'; reason names the criteria.
    The thresholds (``max_density_drop_percent``, the anion MSD window ``anion_msd_start_frac`` /
    ``anion_msd_end_frac``, ``max_anion_D_cm2_s``, ``anion_k_sigma``) come from ``settings``
    (None: the ``GlassTransitionSettings`` defaults).
    """
    s = settings or GlassTransitionSettings()
    max_density_drop_percent = float(s.max_density_drop_percent)
    msd_start_frac, msd_end_frac = float(s.anion_msd_start_frac), float(s.anion_msd_end_frac)
    max_anion_D_cm2_s, k_sigma = float(s.max_anion_D_cm2_s), float(s.anion_k_sigma)
    change = 100.0 * (run_density_g_cm3 - glass_density_g_cm3) / glass_density_g_cm3
    expected = 0.0 if expected_change_percent is None else float(expected_change_percent)
    excess = change - expected
    density = {"glass_density_g_cm3": glass_density_g_cm3, "run_density_g_cm3": run_density_g_cm3,
               "density_change_percent": change, "expected_glass_change_percent": expected,
               "expected_source": expected_source or ("none: raw change tested" if expected_change_percent is None
                                                      else "given"),
               "excess_change_percent": excess, "max_density_drop_percent": max_density_drop_percent,
               "verdict": "liquid" if -excess > max_density_drop_percent else "glass"}
    msd = msd_plateau(lag_ps, msd_A2, start_frac=msd_start_frac, end_frac=msd_end_frac,
                      max_D_cm2_s=max_anion_D_cm2_s, k_sigma=k_sigma, spacing_A=spacing_A)
    msd["verdict_phase"] = "liquid" if msd["verdict"] == "diffusing" else "glass"
    tg = {"T_K": temperature_K, "Tg_K": Tg_K, "Tg_source": Tg_source,
          "T_over_Tg": (temperature_K / Tg_K) if Tg_K else None,
          "verdict": None if Tg_K is None else ("liquid" if temperature_K >= Tg_K else "glass"),
          "note": ("Tg of the glass's own quench at its (fast) cooling rate: an upper bound for the Tg that "
                   "applies on the longer time scale of the heating, equilibration and production stages")}
    if Tg_K is None:
        tg["note"] = "Tg unknown (not resolved for this replica): no verdict from T/Tg"
    reasons = []
    if density["verdict"] == "liquid":
        reasons.append(f"density fell by {-change:.1f} % from the quenched glass, {-excess:.1f} % more than the glass's "
                       f"thermal expansion ({-expected:.1f} %; limit {max_density_drop_percent:g} %)")
    if msd["verdict"] == "diffusing":
        reasons.append(f"anion centres diffuse ({msd['reason']})")
    if tg["verdict"] == "liquid":
        reasons.append(f"T = {temperature_K:g} K >= Tg = {Tg_K:.0f} K")
    label = "liquid" if reasons else "glass"
    if not reasons:
        reasons.append("density kept, anion-centre MSD plateaus" + ("" if Tg_K is None else
                                                                    f", T below Tg = {Tg_K:.0f} K"))
    return {"label": label, "reason": "; ".join(reasons), "temperature_K": temperature_K,
            "criteria": {"density": density, "anion_msd": msd, "T_over_Tg": tg}}
