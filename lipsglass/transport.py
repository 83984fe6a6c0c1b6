"""Li transport from MD trajectories: MSD, diffusion coefficient, Arrhenius law, conductivity.

Units throughout: positions in Angstrom, times in ps, MSD in A^2, D in cm^2/s (A^2/ps only
inside the fits), temperatures in K, activation energies in eV, conductivities in S/cm,
charges in units of e, volumes in A^3.

Estimators (each choice is a documented, configurable default):

* MSD: averaged over all time origins, computed per particle with the FFT (Wiener-Khinchin)
  algorithm of Calandrini et al. / Kneller (nMOLDYN), O(T log T) per particle; identical to the
  direct windowed average and to tidynamics / MDAnalysis ``EinsteinMSD(fft=True)``.
* Centre-of-mass drift: the per-frame displacement of the centre of mass of the WHOLE system
  (all atoms, masses from a ``mass`` column or from the elements) is subtracted from every atom,
  so a thermostat-induced or numerical drift of the cell contents does not count as diffusion.
* Fit window (``choose_fit_window``): all fractions refer to the duration of ONE BLOCK
  (trajectory duration / n_blocks, see below); the numbers in parentheses are the library
  defaults (the shipped config's are in ``DEFAULT_TRANSPORT_SETTINGS``). The window ends at
  ``end_frac`` (0.6) of it:
  longer lags average over few time origins and are noisy. Its start is the earliest lag
  >= ``start_frac`` (0.1) of it for which the log-log slope of the MSD over [start, end] is
  within ``slope_tol`` (0.1) of 1, i.e. past the ballistic and cage regimes; if no start up
  to ``end - min_span_frac`` does that, the start whose slope is closest to 1 is used and the
  run is reported as such. D = (slope of MSD vs t, least squares with intercept) / 6.
  ``fit_start_ps`` / ``fit_end_ps`` override the rule.
* Why the window lives inside one block: the primary standard error comes from n_blocks
  (default 5, at least 4) independent, contiguous time blocks. Each block's D is the SAME
  estimator (same lag window in ps) applied to 1/n of the data, so the full-trajectory D has
  variance ~ var(D_block)/n and SE = std(D_block, ddof=1)/sqrt(n). (A window defined as a
  fraction of each block's own length would instead give block D's as noisy as the full one,
  because the variance of an MSD-slope estimate depends on lag/duration only, and SE would be
  underestimated by sqrt(n).) Block estimates lose the time origins whose displacement
  straddles a block border (up to ~60 % of them at the longest lag of the default window),
  which makes this SE conservative: for Brownian walkers with the defaults it exceeds the true
  SE by ~15-20 % (measured over 300 seeds; the 95 % interval covered D in ~96 % of them). The
  95 % interval uses Student's t with n_blocks - 1 degrees of freedom.
* Second estimate: bootstrap over the atoms of the species (resample atoms with replacement,
  refit D on the same window). It treats atoms as independent, so it misses collective
  correlations; it is reported beside the block SE, not instead of it.
* ``diffusive`` (with a reason string) requires BOTH parts of a check that tests diffusion:
  (a) linearity: the window's lags are split into an early and a late half, each fitted with
  its own line (slope and intercept), giving D_early and D_late. Separate intercepts make the
  comparison a pure curvature test, independent of how the vibration/cage offset is modelled
  (an intercept fixed from the whole window would itself be pulled by any curvature). The SE
  of the DIFFERENCE is bootstrapped over atoms with the same resamples as D (the halves share
  atoms and time origins, so their errors are correlated); the run is linear when
  |D_early - D_late| <= ``linearity_z`` (2.576) x SE(difference). The bootstrap is used even when
  the block SE is primary: 4-dof block SEs would make a far weaker test. (b) motion past the
  cage: MSD(window end) - fitted intercept >= ``cage_multiple`` (1.0) x d^2, d = (V / N)^(1/3)
  the site spacing of the species (``site_spacing_A``). Calibrated on exact random walks with a
  0.35 A vibration and on caged walkers (tests/test_transport_calibration.py). The log-log slope
  of the raw MSD is reported as information only: it measures the vibration/cage intercept, not
  sub-diffusion. Non-diffusive runs are reported, never dropped.
* Conductivity: Nernst-Einstein sigma = n q^2 D / (H k_B T) with the configured (assumed) H,
  n = N_species / V, q = ``species_charge_e``; and the collective (Einstein) conductivity of the
  SAME ions with the SAME charge: sigma = lim d/dt <|P(t) - P(0)|^2> / (6 V k_B T),
  P = q sum_i (r_i - R_com) over the species only (R_com: whole-system centre of mass), fitted on
  D's window, with an SE always (time blocks when the window fits in a block, else a Brownian
  model of P, see ``einstein_conductivity``); and the measured Haven ratio
  H = sigma_NE(H=1) / sigma_collective with a delta-method SE (``measured_haven_ratio``).
* One analysis, one answer: ``analysis_options`` turns a ``transport`` config section into the
  arguments of ``analyse_trajectory``; the workflow and the ``diffusion`` command both use it.
"""

from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from lipsglass import units
from lipsglass.lammpsio import ELEMENT_MASSES, frame_masses, iter_dump

__all__ = [
    "msd_fft", "center_of_mass", "local_loglog_slope", "loglog_slope", "choose_fit_window",
    "fit_msd_line", "diffusion_A2ps_to_cm2s", "DiffusionResult", "diffusion_from_positions",
    "SpeciesTrajectory", "read_species_trajectory", "analyse_trajectory", "analysis_options",
    "DEFAULT_TRANSPORT_SETTINGS", "OPTIONAL_TRANSPORT_SETTINGS", "measured_haven_ratio",
    "ArrheniusFit", "arrhenius_fit", "nernst_einstein_conductivity",
    "collective_conductivity_S_cm", "einstein_conductivity", "parse_type_map", "parse_charges",
    "register",
]

# ----------------------------------------------------------------------------------------
# Mean squared displacement
# ----------------------------------------------------------------------------------------


def msd_fft(positions: np.ndarray, per_particle: bool = False, chunk: int = 512) -> np.ndarray:
    """Mean squared displacement (A^2 if positions are in A), averaged over all time origins.

    ``positions``: unwrapped coordinates, shape (n_frames, n_particles, 3) (or (n_frames, 3)
    for one particle / one collective coordinate), frames evenly spaced in time.
    Returns MSD[m] for lags m = 0 .. n_frames-1, averaged over particles (shape (n_frames,)),
    or per particle (shape (n_frames, n_particles)) with ``per_particle=True``.

    MSD[m] = 1/(T-m) sum_k |r_{k+m} - r_k|^2 = (S1[m] - 2 S2[m]) / (T-m) with
    S1[m] = sum_{k<T-m} (|r_k|^2 + |r_{k+m}|^2) from cumulative sums and the autocorrelation
    S2[m] = sum_k r_k . r_{k+m} from a zero-padded FFT (padding to >= 2T-1 avoids wrap-around).
    """
    x = np.asarray(positions, dtype=np.float64)
    single = x.ndim == 2
    if single:
        x = x[:, None, :]
    if x.ndim != 3 or x.shape[-1] < 1:
        raise ValueError(f"positions must have shape (n_frames, n_particles, dim) or (n_frames, dim); got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("positions contain NaN or inf")
    n_frames, n_particles, _ = x.shape
    if n_frames < 2:
        raise ValueError(f"need at least 2 frames for an MSD, got {n_frames}")
    n_fft = 1 << int(math.ceil(math.log2(2 * n_frames)))
    lag_count = (n_frames - np.arange(n_frames)).astype(np.float64)  # number of origins per lag
    out = np.empty((n_frames, n_particles))
    for a in range(0, n_particles, chunk):
        # The MSD of each particle is invariant to a constant shift; removing the time-mean
        # keeps the FFT round-off relative to the displacements, not to the box coordinates.
        xc = x[:, a:a + chunk, :] - x[:, a:a + chunk, :].mean(axis=0)
        sq = np.einsum("tpd,tpd->tp", xc, xc)
        cum = np.concatenate([np.zeros((1, sq.shape[1])), np.cumsum(sq, axis=0)])
        m = np.arange(n_frames)
        s1 = cum[n_frames - m] + (cum[n_frames] - cum[m])
        spec = np.fft.rfft(xc, n=n_fft, axis=0)
        s2 = np.fft.irfft(spec * spec.conj(), n=n_fft, axis=0)[:n_frames].sum(axis=-1)
        out[:, a:a + chunk] = (s1 - 2.0 * s2) / lag_count[:, None]
    out[0] = 0.0  # exactly zero by definition; the FFT leaves ~1e-16 round-off there
    if per_particle:
        return out[:, 0] if single else out
    return out.mean(axis=1)


def center_of_mass(positions: np.ndarray, masses: np.ndarray) -> np.ndarray:
    """Centre of mass (A) of every frame: positions (n_frames, n_atoms, 3) or (n_atoms, 3),
    masses (n_atoms,) in g/mol. Use unwrapped positions so the result is continuous in time."""
    pos = np.asarray(positions, float)
    m = np.asarray(masses, float)
    if pos.shape[-2] != m.shape[0]:
        raise ValueError(f"{m.shape[0]} masses for {pos.shape[-2]} atoms")
    if np.any(m <= 0):
        raise ValueError("masses must be positive")
    return np.einsum("...nd,n->...d", pos, m) / m.sum()


# ----------------------------------------------------------------------------------------
# Fits
# ----------------------------------------------------------------------------------------


def diffusion_A2ps_to_cm2s(value: float | np.ndarray) -> float | np.ndarray:
    """Convert a diffusion coefficient (or its SE) from A^2/ps to cm^2/s (x 1e-4)."""
    return value * units.ANGSTROM2_PS_TO_CM2_S


def local_loglog_slope(lag_ps: np.ndarray, msd: np.ndarray) -> np.ndarray:
    """Local slope d ln MSD / d ln t at every lag > 0 (second-order finite differences on the
    non-uniform ln t grid); 1 = diffusive, 2 = ballistic, < 1 = sub-diffusive (caged).
    Returns an array aligned with ``lag_ps[lag_ps > 0]``."""
    t = np.asarray(lag_ps, float)
    y = np.asarray(msd, float)
    keep = t > 0
    if np.any(y[keep] <= 0):
        raise ValueError("MSD must be positive at every lag > 0 to take its logarithm")
    if keep.sum() < 2:
        raise ValueError("need at least two positive lags for a log-log slope")
    return np.gradient(np.log(y[keep]), np.log(t[keep]))


def loglog_slope(lag_ps: np.ndarray, msd: np.ndarray) -> float:
    """Least-squares slope of ln MSD against ln t over the given points (the mean local
    slope of the window, robust to single noisy points)."""
    t = np.asarray(lag_ps, float)
    y = np.asarray(msd, float)
    if np.any(t <= 0) or np.any(y <= 0):
        raise ValueError("log-log slope needs positive lags and a positive MSD (is the species immobile?)")
    return float(np.polyfit(np.log(t), np.log(y), 1)[0])


def _window_mask(lag_ps: np.ndarray, start_ps: float, end_ps: float) -> np.ndarray:
    # half a part per million of tolerance so window edges given as k*dt include lag k
    eps = 1e-6 * max(abs(end_ps), 1e-12)
    return (lag_ps >= start_ps - eps) & (lag_ps <= end_ps + eps) & (lag_ps > 0)


def fit_msd_line(lag_ps: np.ndarray, msd: np.ndarray, start_ps: float, end_ps: float,
                 dim: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares line MSD = 2*dim*D*t + c on lags in [start_ps, end_ps].

    ``msd`` may be (n_lags,) or (n_lags, k) for k curves fitted at once. Returns
    (D in A^2/ps, intercept c in A^2), each of shape () or (k,). The intercept absorbs the
    ballistic/cage offset, so D is the long-time slope only.
    """
    t = np.asarray(lag_ps, float)
    y = np.asarray(msd, float)
    mask = _window_mask(t, start_ps, end_ps)
    if mask.sum() < 3:
        raise ValueError(f"fit window [{start_ps:g}, {end_ps:g}] ps holds {mask.sum()} lags; need >= 3 "
                         "(lengthen the window or write frames more often)")
    design = np.column_stack([t[mask], np.ones(mask.sum())])
    coef, *_ = np.linalg.lstsq(design, y[mask], rcond=None)
    return coef[0] / (2.0 * dim), coef[1]


def choose_fit_window(lag_ps: np.ndarray, msd: np.ndarray, reference_ps: float, *,
                      start_frac: float = 0.1, end_frac: float = 0.6, min_span_frac: float = 0.25,
                      slope_tol: float = 0.1) -> tuple[float, float, str]:
    """Automatic fit window (ps) for an MSD curve; rule in the module docstring.

    ``reference_ps``: the duration the fractions refer to (one block's duration in
    ``diffusion_from_positions``). Returns (start_ps, end_ps, note) where ``note`` says whether
    a start with |log-log slope - 1| <= slope_tol was found.
    """
    if not 0 <= start_frac < end_frac:
        raise ValueError(f"need 0 <= start_frac < end_frac, got {start_frac}, {end_frac}")
    if not 0 < min_span_frac <= end_frac - start_frac:
        raise ValueError(f"min_span_frac must be in (0, end_frac - start_frac], got {min_span_frac}")
    t = np.asarray(lag_ps, float)
    y = np.asarray(msd, float)
    end = end_frac * reference_ps
    last_start = end - min_span_frac * reference_ps
    first = start_frac * reference_ps
    candidates = t[(t >= first - 1e-9 * reference_ps) & (t <= last_start + 1e-9 * reference_ps) & (t > 0)]
    if candidates.size == 0:
        # the allowed start range falls between two lags: take the first lag after it
        later = t[(t >= first - 1e-9 * reference_ps) & (t > 0) & (t < end)]
        if later.size == 0:
            raise ValueError(f"no lag between {first:g} and {end:g} ps: too few frames for an automatic window")
        candidates = later[:1]
    slopes = []
    for s in candidates:
        mask = _window_mask(t, s, end)
        if mask.sum() < 3:
            slopes.append(np.nan)
            continue
        slopes.append(loglog_slope(t[mask], y[mask]))
    slopes = np.array(slopes)
    if np.all(np.isnan(slopes)):
        raise ValueError("every candidate fit window holds fewer than 3 lags: write frames more often")
    ok = np.abs(slopes - 1.0) <= slope_tol
    if np.any(ok):
        k = int(np.argmax(ok))
        note = f"earliest start with |log-log slope - 1| <= {slope_tol}"
    else:
        k = int(np.nanargmin(np.abs(slopes - 1.0)))
        note = (f"no start gives |log-log slope - 1| <= {slope_tol}; start with slope closest to 1 "
                f"({slopes[k]:.3f}) used")
    return float(candidates[k]), float(end), note


# ----------------------------------------------------------------------------------------
# Diffusion coefficient with errors
# ----------------------------------------------------------------------------------------


@dataclass
class DiffusionResult:
    """Tracer diffusion of one species. D values in cm^2/s, times in ps, MSD in A^2."""

    D_cm2_s: float
    D_stderr_cm2_s: float | None          # primary SE (estimator named in stderr_estimator)
    stderr_estimator: str
    D_stderr_blocks_cm2_s: float | None
    D_stderr_bootstrap_cm2_s: float
    D_ci95_cm2_s: tuple[float, float] | None
    D_blocks_cm2_s: list[float]
    loglog_slope: float
    fit_start_ps: float
    fit_end_ps: float
    fit_window_rule: str
    intercept_A2: float
    diffusive: bool
    diffusive_reason: str
    n_atoms: int
    n_frames: int
    dt_ps: float
    n_blocks: int
    block_frames: int
    frames_outside_blocks: int
    n_bootstrap: int
    com_drift_removed: bool
    lag_ps: np.ndarray = field(repr=False)
    msd_A2: np.ndarray = field(repr=False)
    blocks_note: str = ""
    # diffusive check (defaults None so results written before the check existed still load)
    D_early_cm2_s: float | None = None           # D of the early half of the fit window (own line)
    D_late_cm2_s: float | None = None            # D of the late half
    D_early_stderr_cm2_s: float | None = None    # atom-bootstrap SEs of the halves ...
    D_late_stderr_cm2_s: float | None = None
    D_difference_stderr_cm2_s: float | None = None  # ... and of their difference (bootstrapped directly)
    linearity_z_score: float | None = None       # (D_early - D_late) / SE(difference)
    linearity_z: float | None = None             # threshold on |linearity_z_score|
    linear: bool | None = None
    early_window_ps: tuple[float, float] | None = None
    late_window_ps: tuple[float, float] | None = None
    msd_end_A2: float | None = None              # MSD at the window end
    msd_past_cage_A2: float | None = None        # MSD(window end) - fitted intercept
    cage_threshold_A2: float | None = None       # cage_multiple x site_spacing_A^2
    cage_multiple: float | None = None
    site_spacing_A: float | None = None          # (V / N_species)^(1/3)
    past_cage: bool | None = None

    def to_dict(self, with_curve: bool = False) -> dict:
        """JSON-ready dict (the MSD curve only with ``with_curve``)."""
        d = asdict(self)
        d.pop("lag_ps")
        d.pop("msd_A2")
        if with_curve:
            d["lag_ps"] = self.lag_ps.tolist()
            d["msd_A2"] = self.msd_A2.tolist()
        d["estimators"] = {
            "msd": "FFT, all time origins, whole-system centre-of-mass drift removed" if self.com_drift_removed
                   else "FFT, all time origins, no centre-of-mass correction",
            "D": "least-squares slope of MSD vs t (with intercept) / 6 in the fit window",
            "stderr_blocks": f"{self.n_blocks} contiguous time blocks, same window: std(ddof=1)/sqrt(n)",
            "stderr_bootstrap": f"{self.n_bootstrap} bootstrap resamples of the atoms, same window",
            "ci95": "D +- t(0.975, n_blocks-1) x block SE",
            "diffusive": ("both: (a) D of the early and late halves of the fit window (each its own least-squares "
                          "line with intercept) agree: |D_early - D_late| <= linearity_z x SE(D_early - D_late), "
                          "SE of the difference bootstrapped over atoms; (b) MSD(window end) - fitted intercept >= "
                          "cage_multiple x d^2, d = (V / N)^(1/3); the log-log slope is information only"),
        }
        return d


def _t975(dof: int) -> float:
    from scipy import stats
    return float(stats.t.ppf(0.975, dof))


def diffusion_from_positions(positions: np.ndarray, dt_ps: float, com: np.ndarray | None = None, *,
                             fit_start_ps: float | None = None, fit_end_ps: float | None = None,
                             n_blocks: int = 5, n_bootstrap: int = 200, seed: int = 0,
                             start_frac: float = 0.1, end_frac: float = 0.6, min_span_frac: float = 0.25,
                             slope_tol: float = 0.1, linearity_z: float = 2.576, cage_multiple: float = 1.0,
                             site_spacing_A: float | None = None) -> DiffusionResult:
    """Tracer diffusion coefficient of the atoms in ``positions``.

    positions: unwrapped coordinates (n_frames, n_atoms, 3), A, frames ``dt_ps`` apart.
    com: centre of mass of the whole system per frame (n_frames, 3), A; its displacement from
    frame 0 is subtracted from every atom (None: no correction).
    linearity_z, cage_multiple, site_spacing_A (A, typically (V / N_species)^(1/3)): the
    diffusive check (module docstring); without ``site_spacing_A`` part (b) is not evaluated
    and the reason says so.
    Window and error estimators: see the module docstring. Raises ValueError on too short
    trajectories, n_blocks < 4, or windows with fewer than 3 lags.
    """
    pos = np.asarray(positions, float)
    if pos.ndim != 3 or pos.shape[2] != 3:
        raise ValueError(f"positions must be (n_frames, n_atoms, 3), got {pos.shape}")
    n_frames, n_atoms, _ = pos.shape
    if n_atoms < 1:
        raise ValueError("no atoms of the species")
    if not dt_ps > 0:
        raise ValueError(f"dt_ps must be positive, got {dt_ps}")
    if n_blocks < 4:
        raise ValueError(f"n_blocks must be >= 4 for a block standard error, got {n_blocks}")
    if n_bootstrap < 2:
        raise ValueError(f"n_bootstrap must be >= 2, got {n_bootstrap}")
    if not linearity_z > 0:
        raise ValueError(f"linearity_z must be positive, got {linearity_z}")
    if not cage_multiple >= 0:
        raise ValueError(f"cage_multiple must be >= 0, got {cage_multiple}")
    if site_spacing_A is not None and not site_spacing_A > 0:
        raise ValueError(f"site_spacing_A must be positive, got {site_spacing_A}")
    if n_frames < 4 * n_blocks:
        raise ValueError(f"{n_frames} frames are too few for {n_blocks} blocks (need >= {4 * n_blocks})")
    if com is not None:
        com = np.asarray(com, float)
        if com.shape != (n_frames, 3):
            raise ValueError(f"com must be (n_frames, 3) = ({n_frames}, 3), got {com.shape}")
        pos = pos - (com - com[0])[:, None, :]

    lag = np.arange(n_frames) * dt_ps
    msd_atoms = msd_fft(pos, per_particle=True)
    msd = msd_atoms.mean(axis=1)

    block_frames = n_frames // n_blocks
    block_ps = (block_frames - 1) * dt_ps
    start, end = fit_start_ps, fit_end_ps
    rule = "given"
    if end is None:
        end = end_frac * block_ps
    if start is None:
        if end <= start_frac * block_ps:
            raise ValueError(f"fit end {end:g} ps lies before the default start ({start_frac} x one block = "
                             f"{start_frac * block_ps:g} ps); give fit_start_ps")
        span = min(min_span_frac, end / block_ps - start_frac)
        start, _, note = choose_fit_window(lag, msd, block_ps, start_frac=start_frac, end_frac=end / block_ps,
                                           min_span_frac=span, slope_tol=slope_tol)
        rule = f"automatic: {note}; fractions of one block ({block_ps:g} ps)"
    elif fit_end_ps is None:
        rule = f"start given, end = {end_frac} x one block ({block_ps:g} ps)"
    if not 0 < start < end:
        raise ValueError(f"need 0 < fit start < fit end, got {start:g}, {end:g} ps")
    if end > lag[-1] * (1 + 1e-9):
        raise ValueError(f"fit end {end:g} ps exceeds the trajectory ({lag[-1]:g} ps)")

    d_A2ps, intercept = fit_msd_line(lag, msd, start, end)
    mask = _window_mask(lag, start, end)
    lag_w = lag[mask]
    slope_ll = loglog_slope(lag_w, msd[mask]) if np.all(msd[mask] > 0) else float("nan")

    # Bootstrap over atoms: multinomial counts give each resample's mean MSD as one matmul.
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_atoms, np.full(n_atoms, 1.0 / n_atoms), size=n_bootstrap)  # (B, N)
    boot_msd = msd_atoms[mask] @ counts.T / n_atoms                                          # (lags, B)
    boot_d, _ = fit_msd_line(lag_w, boot_msd, start, end)
    se_boot = float(np.std(boot_d, ddof=1))

    # Independent time blocks with the same window (see module docstring for why).
    blocks_note = ""
    d_blocks: list[float] = []
    se_blocks = None
    ci = None
    if end <= block_ps * (1 + 1e-9):
        lag_b = lag[:block_frames]
        for b in range(n_blocks):
            msd_b = msd_fft(pos[b * block_frames:(b + 1) * block_frames])
            d_blocks.append(float(fit_msd_line(lag_b, msd_b, start, end)[0]))
        se_blocks = float(np.std(d_blocks, ddof=1) / math.sqrt(n_blocks))
        half = _t975(n_blocks - 1) * se_blocks
        ci = (diffusion_A2ps_to_cm2s(d_A2ps - half), diffusion_A2ps_to_cm2s(d_A2ps + half))
        estimator = "blocks"
    else:
        blocks_note = (f"fit end {end:g} ps is longer than one of {n_blocks} blocks ({block_ps:g} ps): "
                       "no block SE; the primary SE is the atom bootstrap")
        estimator = "bootstrap_atoms"

    # Diffusive check (a): linearity. The window's lags split in an early and a late half, each
    # fitted with its own line (slope and intercept), so the test measures curvature only and
    # does not depend on how the cage/vibration intercept is modelled. The SE of the difference
    # is bootstrapped directly over atoms (same resamples as D): the halves share atoms and
    # time origins, so their errors are correlated and sqrt(SE_e^2 + SE_l^2) would be wrong.
    conv = units.ANGSTROM2_PS_TO_CM2_S
    halves = np.array_split(np.arange(lag_w.size), 2)
    lin = {}
    if min(h.size for h in halves) >= 3:
        (e0, e1), (l0, l1) = [(lag_w[h[0]], lag_w[h[-1]]) for h in halves]
        d_early = float(fit_msd_line(lag_w[halves[0]], msd[mask][halves[0]], e0, e1)[0])
        d_late = float(fit_msd_line(lag_w[halves[1]], msd[mask][halves[1]], l0, l1)[0])
        b_early = fit_msd_line(lag_w[halves[0]], boot_msd[halves[0]], e0, e1)[0]
        b_late = fit_msd_line(lag_w[halves[1]], boot_msd[halves[1]], l0, l1)[0]
        se_e, se_l = float(np.std(b_early, ddof=1)), float(np.std(b_late, ddof=1))
        se_diff = float(np.std(b_early - b_late, ddof=1))
        if se_diff > 0:
            z = (d_early - d_late) / se_diff
        else:   # identical resamples (e.g. one atom): only an exact match counts as linear
            z = 0.0 if d_early == d_late else math.copysign(math.inf, d_early - d_late)
        linear = bool(abs(z) <= linearity_z)
        lin = dict(D_early_cm2_s=d_early * conv, D_late_cm2_s=d_late * conv, D_early_stderr_cm2_s=se_e * conv,
                   D_late_stderr_cm2_s=se_l * conv, D_difference_stderr_cm2_s=se_diff * conv,
                   linearity_z_score=float(z), early_window_ps=(float(e0), float(e1)),
                   late_window_ps=(float(l0), float(l1)))
        if linear:
            why_a = (f"D_early = {d_early * conv:.3e} and D_late = {d_late * conv:.3e} cm^2/s agree "
                     f"(|z| = {abs(z):.2f} <= {linearity_z:g})")
        elif z > 0:
            why_a = (f"not linear: D_early = {d_early * conv:.3e} > D_late = {d_late * conv:.3e} cm^2/s "
                     f"(z = {z:.2f}, |z| > {linearity_z:g}): MSD bends down, sub-diffusive in the fit window")
        else:
            why_a = (f"not linear: D_early = {d_early * conv:.3e} < D_late = {d_late * conv:.3e} cm^2/s "
                     f"(z = {z:.2f}, |z| > {linearity_z:g}): MSD bends up, ballistic motion or residual drift")
    else:
        linear = False
        why_a = (f"fit window holds {lag_w.size} lags: too few to test linearity (each half needs >= 3); "
                 "lengthen the window or write frames more often")

    # Diffusive check (b): motion past the cage, MSD(end) - intercept vs cage_multiple x d^2.
    msd_end = float(msd[mask][-1])
    past = msd_end - float(intercept)
    if site_spacing_A is None:
        past_cage, threshold = None, None
        why_b = "motion past the cage not tested (no site spacing given)"
    else:
        threshold = float(cage_multiple * site_spacing_A ** 2)
        past_cage = bool(past >= threshold)
        if past_cage:
            why_b = (f"MSD(end) - intercept = {past:.3g} A^2 >= {cage_multiple:g} x d^2 = {threshold:.3g} A^2 "
                     f"(site spacing d = {site_spacing_A:.3g} A)")
        else:
            why_b = (f"caged: MSD(end) - intercept = {past:.3g} A^2 < {cage_multiple:g} x d^2 = {threshold:.3g} A^2 "
                     f"(site spacing d = {site_spacing_A:.3g} A): sub-diffusive (caged) within the fit window; "
                     "D is not a long-time diffusion coefficient")
    diffusive = bool(linear and past_cage is not False)
    failed = [w for ok, w in ((linear, why_a), (past_cage is not False, why_b)) if not ok]
    if diffusive:
        reason = f"diffusive: {why_a}; {why_b}; log-log slope {slope_ll:.3f} (information only)"
    else:
        if past_cage is None:
            failed.append(why_b)
        reason = "not diffusive: " + "; ".join(failed) + f"; log-log slope {slope_ll:.3f} (information only)"

    se_primary = se_blocks if se_blocks is not None else se_boot
    return DiffusionResult(
        D_cm2_s=float(diffusion_A2ps_to_cm2s(d_A2ps)),
        D_stderr_cm2_s=float(diffusion_A2ps_to_cm2s(se_primary)),
        stderr_estimator=estimator,
        D_stderr_blocks_cm2_s=None if se_blocks is None else float(diffusion_A2ps_to_cm2s(se_blocks)),
        D_stderr_bootstrap_cm2_s=float(diffusion_A2ps_to_cm2s(se_boot)),
        D_ci95_cm2_s=None if ci is None else (float(ci[0]), float(ci[1])),
        D_blocks_cm2_s=[float(diffusion_A2ps_to_cm2s(v)) for v in d_blocks],
        loglog_slope=slope_ll, fit_start_ps=float(start), fit_end_ps=float(end), fit_window_rule=rule,
        intercept_A2=float(intercept), diffusive=diffusive, diffusive_reason=reason,
        n_atoms=n_atoms, n_frames=n_frames, dt_ps=float(dt_ps), n_blocks=n_blocks, block_frames=block_frames,
        frames_outside_blocks=n_frames - n_blocks * block_frames, n_bootstrap=n_bootstrap,
        com_drift_removed=com is not None, lag_ps=lag, msd_A2=msd, blocks_note=blocks_note,
        linearity_z=float(linearity_z), linear=linear, msd_end_A2=msd_end, msd_past_cage_A2=float(past),
        cage_threshold_A2=threshold, cage_multiple=float(cage_multiple),
        site_spacing_A=None if site_spacing_A is None else float(site_spacing_A), past_cage=past_cage, **lin,
    )


# ----------------------------------------------------------------------------------------
# Conductivity
# ----------------------------------------------------------------------------------------


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
    if _window_mask(lag, fit_start_ps, fit_end_ps).sum() < 3:
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


# ----------------------------------------------------------------------------------------
# Arrhenius law
# ----------------------------------------------------------------------------------------


@dataclass
class ArrheniusFit:
    """ln D = ln D0 - Ea / (k_B T), from weighted least squares in (1/T, ln D).

    ``cov`` is the covariance of (ln D0, Ea_eV). With ``absolute_sigma`` the input SEs are
    taken at face value; otherwise the covariance is scaled by the reduced chi^2.
    """

    Ea_eV: float
    Ea_stderr_eV: float
    D0_cm2_s: float
    D0_stderr_cm2_s: float
    ln_D0: float
    ln_D0_stderr: float
    cov: np.ndarray
    chi2: float
    dof: int
    absolute_sigma: bool
    T_K: np.ndarray
    D_cm2_s: np.ndarray
    D_stderr_cm2_s: np.ndarray

    def predict(self, T_K: float | np.ndarray) -> dict:
        """D at temperature(s) T_K with the delta-method SE from the parameter covariance:
        var ln D = var(lnD0) + var(Ea)/(kT)^2 - 2 cov(lnD0, Ea)/(kT); SE_D = D * sd(ln D).
        Also the (asymmetric) 95 % interval exp(ln D +- 1.96 sd)."""
        T = np.asarray(T_K, float)
        if np.any(T <= 0):
            raise ValueError("temperatures must be positive")
        x = 1.0 / (units.BOLTZMANN_EV_K * T)
        ln_d = self.ln_D0 - self.Ea_eV * x
        var = self.cov[0, 0] + x * x * self.cov[1, 1] - 2.0 * x * self.cov[0, 1]
        sd = np.sqrt(var)
        d = np.exp(ln_d)
        out = {"T_K": T, "D_cm2_s": d, "D_stderr_cm2_s": d * sd, "ln_D_stderr": sd,
               "D_ci95_low_cm2_s": np.exp(ln_d - 1.96 * sd), "D_ci95_high_cm2_s": np.exp(ln_d + 1.96 * sd)}
        if T.ndim == 0:
            out = {k: float(v) for k, v in out.items()}
        return out

    def to_dict(self) -> dict:
        return {"Ea_eV": self.Ea_eV, "Ea_stderr_eV": self.Ea_stderr_eV, "D0_cm2_s": self.D0_cm2_s,
                "D0_stderr_cm2_s": self.D0_stderr_cm2_s, "ln_D0": self.ln_D0, "ln_D0_stderr": self.ln_D0_stderr,
                "cov_lnD0_Ea": self.cov.tolist(), "chi2": self.chi2, "dof": self.dof,
                "absolute_sigma": self.absolute_sigma, "T_K": self.T_K.tolist(), "D_cm2_s": self.D_cm2_s.tolist(),
                "D_stderr_cm2_s": self.D_stderr_cm2_s.tolist()}


def arrhenius_fit(T_K, D_cm2_s, D_stderr_cm2_s, absolute_sigma: bool = True) -> ArrheniusFit:
    """Weighted least squares of ln D vs 1/(k_B T): weights 1/SE(ln D)^2 with SE(ln D) = SE_D/D
    (first-order delta method). Returns Ea (eV), D0 (cm^2/s) with SEs and covariance."""
    T = np.asarray(T_K, float)
    D = np.asarray(D_cm2_s, float)
    S = np.asarray(D_stderr_cm2_s, float)
    if not (T.shape == D.shape == S.shape and T.ndim == 1):
        raise ValueError("T_K, D_cm2_s and D_stderr_cm2_s must be 1-D arrays of equal length")
    if T.size < 2 or np.unique(T).size < 2:
        raise ValueError("an Arrhenius fit needs at least two distinct temperatures")
    if np.any(T <= 0) or np.any(D <= 0) or np.any(S <= 0) or not np.all(np.isfinite(S)):
        raise ValueError("temperatures, D and their SEs must be positive and finite "
                         "(a non-positive D cannot enter a fit of ln D)")
    y = np.log(D)
    sy = S / D
    x = 1.0 / (units.BOLTZMANN_EV_K * T)                  # 1/eV
    A = np.column_stack([np.ones_like(x), -x])           # parameters (ln D0, Ea)
    w = 1.0 / sy ** 2
    normal = A.T @ (A * w[:, None])
    cov = np.linalg.inv(normal)
    p = cov @ (A.T @ (w * y))
    resid = y - A @ p
    chi2 = float(np.sum(w * resid ** 2))
    dof = T.size - 2
    if not absolute_sigma:
        if dof < 1:
            raise ValueError("absolute_sigma=False needs at least three temperatures")
        cov = cov * chi2 / dof
    ln_d0, ea = float(p[0]), float(p[1])
    return ArrheniusFit(Ea_eV=ea, Ea_stderr_eV=float(math.sqrt(cov[1, 1])), D0_cm2_s=math.exp(ln_d0),
                        D0_stderr_cm2_s=math.exp(ln_d0) * math.sqrt(cov[0, 0]), ln_D0=ln_d0,
                        ln_D0_stderr=float(math.sqrt(cov[0, 0])), cov=cov, chi2=chi2, dof=dof,
                        absolute_sigma=absolute_sigma, T_K=T, D_cm2_s=D, D_stderr_cm2_s=S)


# ----------------------------------------------------------------------------------------
# Reading dumps
# ----------------------------------------------------------------------------------------


@dataclass
class SpeciesTrajectory:
    """What a transport analysis needs from a dump, collected frame by frame (memory ~ the
    species only): unwrapped species positions (n_frames, n_species, 3) A, whole-system
    centre of mass (n_frames, 3) A, total charge displacement sum_i q_i r_i (n_frames, 3) e*A
    (None without charges), cell volumes (A^3), times (ps) and LAMMPS timesteps."""

    species: str
    ids: np.ndarray
    positions: np.ndarray
    com: np.ndarray
    dipole: np.ndarray | None
    net_charge_e: float | None
    volumes_A3: np.ndarray
    times_ps: np.ndarray
    timesteps: np.ndarray
    n_atoms_total: int

    @property
    def dt_ps(self) -> float:
        return float(self.times_ps[1] - self.times_ps[0])

    def charge_displacement(self) -> np.ndarray:
        """sum_i q_i (r_i - R_com) per frame (e A): the collective charge coordinate in the
        centre-of-mass frame (equal to sum_i q_i r_i for a neutral system)."""
        if self.dipole is None:
            raise ValueError("no charges were given for this trajectory")
        return self.dipole - self.net_charge_e * self.com


def parse_type_map(text: str | None) -> dict[int, str] | None:
    """'1:Li,2:P,3:S' -> {1: 'Li', 2: 'P', 3: 'S'}."""
    if not text:
        return None
    out = {}
    for item in text.split(","):
        try:
            k, v = item.split(":")
            out[int(k)] = v.strip()
        except ValueError:
            raise ValueError(f"bad type-map entry {item!r}; expected TYPE:ELEMENT, e.g. 1:Li") from None
    return out


def parse_charges(text: str | None) -> dict | None:
    """'Li:1,P:5,S:-2' (by element) or '1:0.6,2:-0.6' (by LAMMPS type) -> dict."""
    if not text:
        return None
    out: dict = {}
    for item in text.split(","):
        try:
            k, v = item.split(":")
            k = k.strip()
            out[int(k) if k.lstrip("-").isdigit() else k] = float(v)
        except ValueError:
            raise ValueError(f"bad charge entry {item!r}; expected ELEMENT:q or TYPE:q") from None
    return out


def _atom_charges(frame, elements: np.ndarray, charges) -> np.ndarray | None:
    if charges is None:
        return None
    if isinstance(charges, str):
        if charges != "q":
            raise ValueError(f"charges must be a mapping, an array or 'q' (dump column), got {charges!r}")
        if "q" not in frame.columns:
            raise ValueError("charges='q' but the dump has no q column")
        return np.asarray(frame.columns["q"], float)
    if isinstance(charges, dict):
        keys = set(charges)
        if all(isinstance(k, (int, np.integer)) for k in keys):
            if "type" not in frame.columns:
                raise ValueError("charges are given by type but the dump has no type column")
            types = frame.columns["type"]
            missing = set(np.unique(types).tolist()) - keys
            if missing:
                raise ValueError(f"no charge given for atom types {sorted(missing)}")
            return np.array([charges[int(t)] for t in types], float)
        missing = set(np.unique(elements).tolist()) - keys
        if missing:
            raise ValueError(f"no charge given for elements {sorted(missing)}")
        return np.array([charges[e] for e in elements], float)
    q = np.asarray(charges, float)
    if q.shape != (len(elements),):
        raise ValueError(f"{q.shape} charges for {len(elements)} atoms")
    return q


def read_species_trajectory(path: str | Path, species: str = "Li", *, dt_ps: float | None = None,
                            timestep_fs: float | None = None, type_to_element: dict[int, str] | None = None,
                            charges=None) -> SpeciesTrajectory:
    """Read a LAMMPS text dump (``id`` + ``element`` or ``type`` with ``type_to_element``;
    ``xu yu zu`` or ``x y z ix iy iz``) frame by frame, keeping only what transport needs.

    Time: ``dt_ps`` (time between frames) or ``timestep_fs`` (MD timestep; frame times are the
    TIMESTEP values times it). The frames must be evenly spaced and hold the same atoms.
    Masses for the centre of mass come from a ``mass`` column if present, else from elements.
    ``charges``: None, 'q' (dump column), {element: q}, {type: q} or a per-atom array (id order).
    """
    if (dt_ps is None) == (timestep_fs is None):
        raise ValueError("give exactly one of dt_ps (time between frames) or timestep_fs (MD timestep): "
                         "a text dump carries no time unit")
    frames = iter_dump(path)
    ids = sel = masses = q = None
    elements = None
    pos_l, com_l, dip_l, vol_l, step_l = [], [], [], [], []
    for frame in frames:
        if ids is None:
            ids = frame.ids.copy()
            try:
                elements = np.asarray(frame.elements(type_to_element))
            except KeyError as exc:
                raise ValueError(f"{path}: {exc.args[0]}") from None
            sel = np.flatnonzero(elements == species)
            if sel.size == 0:
                raise ValueError(f"{path}: no {species} atoms (elements present: {sorted(set(elements.tolist()))})")
            masses = frame_masses(frame, elements)
            q = _atom_charges(frame, elements, charges)
        elif frame.ids.shape != ids.shape or not np.array_equal(frame.ids, ids):
            raise ValueError(f"{path}: frame at step {frame.timestep} holds different atoms than the first frame")
        try:
            r = frame.unwrapped_positions()
        except KeyError as exc:
            raise ValueError(f"{path}: {exc.args[0]}") from None
        pos_l.append(r[sel])
        com_l.append(masses @ r / masses.sum())
        if q is not None:
            dip_l.append(q @ r)
        vol_l.append(frame.box.volume)
        step_l.append(frame.timestep)
    if ids is None:
        raise ValueError(f"{path}: no frames")
    if len(pos_l) < 2:
        raise ValueError(f"{path}: a transport analysis needs at least 2 frames, found {len(pos_l)}")
    steps = np.array(step_l, dtype=np.int64)
    dsteps = np.diff(steps)
    if np.any(dsteps <= 0):
        k = int(np.flatnonzero(dsteps <= 0)[0])
        raise ValueError(f"{path}: timesteps not increasing ({steps[k]} then {steps[k + 1]}); "
                         "remove duplicated frames of restarts first")
    if np.any(dsteps != dsteps[0]):
        raise ValueError(f"{path}: frames are not evenly spaced (timestep gaps {sorted(set(dsteps.tolist()))}); "
                         "the all-origins MSD needs a constant frame interval")
    if dt_ps is not None:
        if not dt_ps > 0:
            raise ValueError(f"dt_ps must be positive, got {dt_ps}")
        times = np.arange(len(steps)) * float(dt_ps)
    else:
        if not timestep_fs > 0:
            raise ValueError(f"timestep_fs must be positive, got {timestep_fs}")
        times = (steps - steps[0]) * float(timestep_fs) / units.FS_PER_PS
    return SpeciesTrajectory(
        species=species, ids=ids[sel], positions=np.stack(pos_l), com=np.stack(com_l),
        dipole=np.stack(dip_l) if q is not None else None,
        net_charge_e=float(q.sum()) if q is not None else None,
        volumes_A3=np.array(vol_l), times_ps=times, timesteps=steps, n_atoms_total=len(ids))


# The transport settings of the shipped config/config.yaml (``transport`` section), used when no
# config file is given (tests/test_transport.py checks that they match the shipped file).
# Keys the config schema does not (yet) hold take their default here (see ``analysis_options``).
DEFAULT_TRANSPORT_SETTINGS = {
    "species": "Li", "species_charge_e": 1.0, "n_blocks": 5, "n_bootstrap": 200, "seed": 2023,
    "fit_start_frac": 0.5, "fit_end_frac": 3.0, "fit_min_span_frac": 1.0, "fit_slope_tol": 0.1,
    "haven_ratio": 1.0,
}
# Settings with defaults outside the config schema: linearity_z (|z| threshold of the linearity
# test), cage_multiple (MSD past the cage must reach this many squared site spacings),
# n_collective_simulations (Brownian paths of the collective-conductivity SE).
OPTIONAL_TRANSPORT_SETTINGS = {"linearity_z": 2.576, "cage_multiple": 1.0, "n_collective_simulations": 400}


def analysis_options(settings: Mapping | None = None) -> dict:
    """The ONE translation of a ``transport`` config section into ``analyse_trajectory`` keyword
    arguments (species, charge, Haven ratio, fit window, SEs, diffusive check). The workflow
    (``lipsglass.stages.transport.analyse_run``) and the ``diffusion`` command both call it, so
    the same trajectory and settings give the same D, SE and diffusive flag. ``None``: the
    shipped defaults (``DEFAULT_TRANSPORT_SETTINGS``). Keys not used here (Arrhenius, slope
    limits kept for information) are ignored."""
    s = {**DEFAULT_TRANSPORT_SETTINGS, **OPTIONAL_TRANSPORT_SETTINGS, **dict(settings or {})}
    return {
        "species": str(s["species"]), "species_charge_e": float(s["species_charge_e"]),
        "haven_ratio": float(s["haven_ratio"]), "n_blocks": int(s["n_blocks"]),
        "n_bootstrap": int(s["n_bootstrap"]), "seed": int(s["seed"]), "start_frac": float(s["fit_start_frac"]),
        "end_frac": float(s["fit_end_frac"]), "min_span_frac": float(s["fit_min_span_frac"]),
        "slope_tol": float(s["fit_slope_tol"]), "linearity_z": float(s["linearity_z"]),
        "cage_multiple": float(s["cage_multiple"]), "n_collective_simulations": int(s["n_collective_simulations"]),
    }


def analyse_trajectory(path: str | Path, species: str = "Li", *, dt_ps: float | None = None,
                       timestep_fs: float | None = None, type_to_element: dict[int, str] | None = None,
                       temperature_K: float | None = None, species_charge_e: float = 1.0, haven_ratio: float = 1.0,
                       remove_com: bool = True, n_collective_simulations: int = 400,
                       **fit_options) -> tuple[dict, DiffusionResult]:
    """Everything for one run: tracer D of ``species`` (see ``diffusion_from_positions`` for
    ``fit_options``; the site spacing of the cage check is (mean V / N_species)^(1/3)), and with
    ``temperature_K`` the Nernst-Einstein conductivity (charge ``species_charge_e``, Haven ratio
    ``haven_ratio``), the collective (Einstein) conductivity of the SAME ions with the SAME
    charge (Li only, q = species_charge_e, whole-system centre of mass removed) with its SE, and
    the measured Haven ratio sigma_NE(H=1) / sigma_collective with its SE.
    Returns (JSON-ready dict, DiffusionResult with the MSD curve)."""
    traj = read_species_trajectory(path, species, dt_ps=dt_ps, timestep_fs=timestep_fs,
                                   type_to_element=type_to_element)
    volume = float(traj.volumes_A3.mean())
    n_species = traj.positions.shape[1]
    spacing = (volume / n_species) ** (1.0 / 3.0)
    res = diffusion_from_positions(traj.positions, traj.dt_ps, traj.com if remove_com else None,
                                   site_spacing_A=spacing, **fit_options)
    out = {"trajectory": str(path), "species": species, **res.to_dict(),
           "n_atoms_total": traj.n_atoms_total, "time_span_ps": float(traj.times_ps[-1]),
           "volume_A3": volume, "volume_rel_spread": float(np.ptp(traj.volumes_A3) / volume)}
    if temperature_K is not None:
        sigma, se = nernst_einstein_conductivity(res.D_cm2_s, res.n_atoms, volume, temperature_K,
                                                 species_charge_e, res.D_stderr_cm2_s, haven_ratio=haven_ratio)
        out["temperature_K"] = float(temperature_K)
        out["haven_ratio"] = float(haven_ratio)
        out["sigma_NE_S_cm"] = sigma
        out["sigma_NE_stderr_S_cm"] = se
        out["sigma_NE_assumptions"] = (f"Nernst-Einstein sigma = n q^2 D / (H k_B T), H = {haven_ratio:g} (assumed, "
                                       f"not measured), q = {species_charge_e:g} e, n = {res.n_atoms} {species} / V")
        # Collective coordinate of the same ions and charge as NE, in the whole-system COM frame.
        rel = traj.positions - (traj.com[:, None, :] if remove_com else 0.0)
        P = species_charge_e * rel.sum(axis=1)
        sigma_ne1, se_ne1 = nernst_einstein_conductivity(res.D_cm2_s, res.n_atoms, volume, temperature_K,
                                                         species_charge_e, res.D_stderr_cm2_s)
        ref = 6.0 * n_species * species_charge_e ** 2 * max(res.D_cm2_s, 0.0) / units.ANGSTROM2_PS_TO_CM2_S
        ein = einstein_conductivity(P, traj.dt_ps, volume, temperature_K, res.fit_start_ps, res.fit_end_ps,
                                    res.n_blocks, reference_slope_e2A2_ps=ref,
                                    n_simulations=n_collective_simulations, seed=fit_options.get("seed", 0))
        out["sigma_einstein_S_cm"] = ein["sigma_S_cm"]
        out["sigma_einstein_stderr_S_cm"] = ein["sigma_stderr_S_cm"]
        out["sigma_einstein_stderr_estimator"] = ein["stderr_estimator"]
        out["sigma_einstein_blocks_S_cm"] = ein["sigma_blocks_S_cm"]
        out["sigma_einstein_note"] = ein["note"]
        if ein["reason"]:
            out["sigma_einstein_reason"] = ein["reason"]
        out["sigma_einstein_definition"] = (
            f"{species} only, q = {species_charge_e:+g} e, centre-of-mass of the whole system "
            f"{'removed' if remove_com else 'NOT removed'}; sigma = slope of <|P(t)-P(0)|^2> / (6 V k_B T), "
            f"P = q sum_i r_i, same fit window as D")
        h, h_se, h_note = measured_haven_ratio(sigma_ne1, se_ne1, ein["sigma_S_cm"], ein["sigma_stderr_S_cm"])
        out["haven_ratio_measured"] = h
        out["haven_ratio_measured_stderr"] = h_se
        out["haven_ratio_measured_note"] = h_note
    return out, res


# ----------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------


def _cmd_diffusion(args) -> int:
    import json
    import sys

    type_map = parse_type_map(args.type_map)
    if args.ff_types:
        from lipsglass.forcefield import ForceField
        ff = ForceField.load(args.forcefield)
        names = [ff.canonical_type(n.strip()) for n in args.ff_types.split(",")]
        if type_map is None:
            type_map = {i + 1: ff.element(n) for i, n in enumerate(names)}
    if args.config:
        from lipsglass.config import load_config
        cfg = load_config(args.config)
        settings, source = cfg["transport"], str(args.config)
        config_timestep_fs = float(cfg["md"]["timestep_fs"])
    else:
        settings, source = DEFAULT_TRANSPORT_SETTINGS, "defaults of the shipped config/config.yaml"
        config_timestep_fs = None
    options = analysis_options(settings)
    overrides = {k: v for k, v in (("species", args.species), ("n_blocks", args.n_blocks),
                                   ("n_bootstrap", args.n_bootstrap), ("seed", args.seed)) if v is not None}
    options.update(overrides)
    if args.fit_start_ps is not None:
        options["fit_start_ps"] = args.fit_start_ps
        overrides["fit_start_ps"] = args.fit_start_ps
    if args.fit_end_ps is not None:
        options["fit_end_ps"] = args.fit_end_ps
        overrides["fit_end_ps"] = args.fit_end_ps
    dt_ps, timestep_fs = args.dt_ps, args.timestep_fs
    if dt_ps is None and timestep_fs is None:
        if config_timestep_fs is None:
            raise ValueError("give --dt-ps or --timestep-fs, or --config (its md.timestep_fs is used)")
        timestep_fs = config_timestep_fs
    species = options.pop("species")
    out, res = analyse_trajectory(args.traj, species, dt_ps=dt_ps, timestep_fs=timestep_fs,
                                  type_to_element=type_map, temperature_K=args.temperature_K, **options)
    out["settings_source"] = source
    out["settings_overridden"] = overrides
    if args.msd_out:
        write_msd_csv(args.msd_out, res)
        out["msd_csv"] = str(args.msd_out)
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


def write_msd_csv(path: str | Path, res: DiffusionResult) -> None:
    """CSV lag_ps, msd_A2 and the local log-log slope dlnMSD_dlnt (``nan`` at lag 0 and wherever
    the MSD is not positive), readable with numpy.loadtxt/genfromtxt."""
    keep = res.lag_ps > 0
    slope = np.full(res.lag_ps.shape, np.nan)
    if np.all(res.msd_A2[keep] > 0):
        slope[keep] = local_loglog_slope(res.lag_ps, res.msd_A2)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["lag_ps", "msd_A2", "dlnMSD_dlnt"])
        for t, m, s in zip(res.lag_ps, res.msd_A2, slope):
            writer.writerow([repr(float(t)), repr(float(m)), repr(float(s))])


def register(subparsers) -> None:
    """Add the ``diffusion`` sub-command."""
    p = subparsers.add_parser(
        "diffusion", help="tracer D (cm^2/s) of one species from a LAMMPS text dump, JSON to stdout; with --config "
                          "exactly the workflow's analysis (transport settings and md.timestep_fs of that file)")
    p.add_argument("traj", help="LAMMPS text dump: id, element (or type + --type-map), xu yu zu or x y z ix iy iz")
    p.add_argument("--config", help="workflow config file (e.g. config/config.yaml): its transport section and "
                                    "md.timestep_fs; default: the shipped config's transport settings")
    p.add_argument("--species", help="element whose diffusion is measured (default: transport.species)")
    t = p.add_mutually_exclusive_group()
    t.add_argument("--dt-ps", type=float, help="time between dump frames (ps)")
    t.add_argument("--timestep-fs", type=float, help="MD timestep (fs); frame times = TIMESTEP x this "
                                                     "(default with --config: md.timestep_fs)")
    p.add_argument("--type-map", help="type -> element, e.g. 1:Li,2:P,3:S")
    p.add_argument("--ff-types", help="force-field type name of each LAMMPS type in order (e.g. "
                                      "P2,S2,Pa,S1,Sc,P4,S4,Li): gives the elements")
    p.add_argument("--forcefield", default="ariga2022", help="force field for --ff-types (default ariga2022)")
    p.add_argument("--temperature-K", type=float, help="run temperature: adds the Nernst-Einstein and collective "
                                                       "(Einstein) conductivities in S/cm and the Haven ratio")
    p.add_argument("--fit-start-ps", type=float, help="override: fit window start (ps); default automatic")
    p.add_argument("--fit-end-ps", type=float, help="override: fit window end (ps); default fit_end_frac x one block")
    p.add_argument("--n-blocks", type=int, help="override: time blocks for the standard error (>= 4)")
    p.add_argument("--n-bootstrap", type=int, help="override: bootstrap resamples over atoms")
    p.add_argument("--seed", type=int, help="override: bootstrap random seed")
    p.add_argument("--msd-out", help="write lag_ps, msd_A2, local log-log slope to this CSV")
    p.set_defaults(func=_cmd_diffusion)
