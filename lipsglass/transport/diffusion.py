"""Tracer diffusion coefficient of one species from its unwrapped trajectory, with two standard
errors and the diffusive check (linearity of the MSD and motion past the cage).

Units: positions in Angstrom, times in ps, MSD in A^2, D in cm^2/s (A^2/ps only inside the
fits). The knobs are a ``DiffusionFit``; the numbers in parentheses below are its (library)
defaults, the shipped config's are those of ``lipsglass.transport.settings.TransportSettings``.

* Centre-of-mass drift: the per-frame displacement of the centre of mass of the WHOLE system
  (all atoms, masses from a ``mass`` column or from the elements) is subtracted from every atom,
  so a thermostat-induced or numerical drift of the cell contents does not count as diffusion.
* Fit window (``choose_fit_window``): all fractions refer to the duration of ONE BLOCK
  (trajectory duration / n_blocks, see below). The window ends at ``end_frac`` (0.6) of it:
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
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from scipy import stats

from lipsglass import units
from lipsglass.transport.msd import fit_msd_line, loglog_slope, msd_fft, window_mask

__all__ = ["DiffusionFit", "DiffusionResult", "diffusion_A2ps_to_cm2s", "choose_fit_window",
           "diffusion_from_positions"]


@dataclass(frozen=True)
class DiffusionFit:
    """The knobs of the tracer-D estimator (module docstring), with the library defaults.

    n_blocks: contiguous time blocks of the block SE (>= 4); n_bootstrap: resamples of the atom
    bootstrap; seed: its random seed; start_frac, end_frac, min_span_frac, slope_tol: the
    automatic fit window, fractions of one block's duration; linearity_z, cage_multiple: the
    diffusive check; fit_start_ps / fit_end_ps (ps): a given window (None: the rule).
    ``lipsglass.transport.settings.TransportSettings.diffusion_fit`` gives the configured one.
    """

    n_blocks: int = 5
    n_bootstrap: int = 200
    seed: int = 0
    start_frac: float = 0.1
    end_frac: float = 0.6
    min_span_frac: float = 0.25
    slope_tol: float = 0.1
    linearity_z: float = 2.576
    cage_multiple: float = 1.0
    fit_start_ps: float | None = None
    fit_end_ps: float | None = None


def diffusion_A2ps_to_cm2s(value: float | np.ndarray) -> float | np.ndarray:
    """Convert a diffusion coefficient (or its SE) from A^2/ps to cm^2/s (x 1e-4)."""
    return value * units.ANGSTROM2_PS_TO_CM2_S


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
        mask = window_mask(t, s, end)
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


def diffusion_from_positions(positions: np.ndarray, dt_ps: float, com: np.ndarray | None = None,
                             fit: DiffusionFit | None = None, *, site_spacing_A: float | None = None,
                             **overrides) -> DiffusionResult:
    """Tracer diffusion coefficient of the atoms in ``positions``.

    positions: unwrapped coordinates (n_frames, n_atoms, 3), A, frames ``dt_ps`` apart.
    com: centre of mass of the whole system per frame (n_frames, 3), A; its displacement from
    frame 0 is subtracted from every atom (None: no correction).
    fit: the estimator's knobs (None: the ``DiffusionFit`` defaults); ``overrides``: fields of
    ``DiffusionFit`` given as keywords (e.g. ``n_blocks=4, fit_end_ps=60.0``) replace its values.
    site_spacing_A (A, typically (V / N_species)^(1/3)): the cage part of the diffusive check
    (module docstring); without it part (b) is not evaluated and the reason says so.
    Window and error estimators: see the module docstring. Raises ValueError on too short
    trajectories, n_blocks < 4, or windows with fewer than 3 lags.
    """
    fit = replace(fit or DiffusionFit(), **overrides)
    n_blocks, n_bootstrap = fit.n_blocks, fit.n_bootstrap
    linearity_z, cage_multiple = fit.linearity_z, fit.cage_multiple
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
    start, end, rule = _fit_window(lag, msd, block_ps, fit)

    d_A2ps, intercept = fit_msd_line(lag, msd, start, end)
    mask = window_mask(lag, start, end)
    lag_w = lag[mask]
    slope_ll = loglog_slope(lag_w, msd[mask]) if np.all(msd[mask] > 0) else float("nan")

    # Bootstrap over atoms: multinomial counts give each resample's mean MSD as one matmul.
    rng = np.random.default_rng(fit.seed)
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
        half = float(stats.t.ppf(0.975, n_blocks - 1)) * se_blocks
        ci = (diffusion_A2ps_to_cm2s(d_A2ps - half), diffusion_A2ps_to_cm2s(d_A2ps + half))
        estimator = "blocks"
    else:
        blocks_note = (f"fit end {end:g} ps is longer than one of {n_blocks} blocks ({block_ps:g} ps): "
                       "no block SE; the primary SE is the atom bootstrap")
        estimator = "bootstrap_atoms"

    linear, why_a, lin = _linearity(lag_w, msd[mask], boot_msd, linearity_z)
    msd_end = float(msd[mask][-1])
    past, past_cage, threshold, why_b = _past_cage(msd_end, float(intercept), site_spacing_A, cage_multiple)
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


def _fit_window(lag: np.ndarray, msd: np.ndarray, block_ps: float, fit: DiffusionFit) -> tuple[float, float, str]:
    """(start_ps, end_ps, rule text) of the fit window: given, or by ``choose_fit_window`` with
    fractions of one block (``block_ps``)."""
    start, end = fit.fit_start_ps, fit.fit_end_ps
    rule = "given"
    if end is None:
        end = fit.end_frac * block_ps
    if start is None:
        if end <= fit.start_frac * block_ps:
            raise ValueError(f"fit end {end:g} ps lies before the default start ({fit.start_frac} x one block = "
                             f"{fit.start_frac * block_ps:g} ps); give fit_start_ps")
        span = min(fit.min_span_frac, end / block_ps - fit.start_frac)
        start, _, note = choose_fit_window(lag, msd, block_ps, start_frac=fit.start_frac, end_frac=end / block_ps,
                                           min_span_frac=span, slope_tol=fit.slope_tol)
        rule = f"automatic: {note}; fractions of one block ({block_ps:g} ps)"
    elif fit.fit_end_ps is None:
        rule = f"start given, end = {fit.end_frac} x one block ({block_ps:g} ps)"
    if not 0 < start < end:
        raise ValueError(f"need 0 < fit start < fit end, got {start:g}, {end:g} ps")
    if end > lag[-1] * (1 + 1e-9):
        raise ValueError(f"fit end {end:g} ps exceeds the trajectory ({lag[-1]:g} ps)")
    return start, end, rule


def _linearity(lag_w: np.ndarray, msd_w: np.ndarray, boot_msd: np.ndarray, linearity_z: float
               ) -> tuple[bool, str, dict]:
    """Diffusive check (a), on the fit window's lags ``lag_w``, the MSD there and its atom-bootstrap
    resamples (lags, B): (linear, reason, DiffusionResult fields of the halves).

    The window's lags split in an early and a late half, each fitted with its own line (slope and
    intercept), so the test measures curvature only and does not depend on how the
    cage/vibration intercept is modelled. The SE of the difference is bootstrapped directly over
    atoms (same resamples as D): the halves share atoms and time origins, so their errors are
    correlated and sqrt(SE_e^2 + SE_l^2) would be wrong."""
    conv = units.ANGSTROM2_PS_TO_CM2_S
    halves = np.array_split(np.arange(lag_w.size), 2)
    if min(h.size for h in halves) < 3:
        return False, (f"fit window holds {lag_w.size} lags: too few to test linearity (each half needs >= 3); "
                       "lengthen the window or write frames more often"), {}
    (e0, e1), (l0, l1) = [(lag_w[h[0]], lag_w[h[-1]]) for h in halves]
    d_early = float(fit_msd_line(lag_w[halves[0]], msd_w[halves[0]], e0, e1)[0])
    d_late = float(fit_msd_line(lag_w[halves[1]], msd_w[halves[1]], l0, l1)[0])
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
        why = (f"D_early = {d_early * conv:.3e} and D_late = {d_late * conv:.3e} cm^2/s agree "
               f"(|z| = {abs(z):.2f} <= {linearity_z:g})")
    elif z > 0:
        why = (f"not linear: D_early = {d_early * conv:.3e} > D_late = {d_late * conv:.3e} cm^2/s "
               f"(z = {z:.2f}, |z| > {linearity_z:g}): MSD bends down, sub-diffusive in the fit window")
    else:
        why = (f"not linear: D_early = {d_early * conv:.3e} < D_late = {d_late * conv:.3e} cm^2/s "
               f"(z = {z:.2f}, |z| > {linearity_z:g}): MSD bends up, ballistic motion or residual drift")
    return linear, why, lin


def _past_cage(msd_end: float, intercept: float, site_spacing_A: float | None, cage_multiple: float
               ) -> tuple[float, bool | None, float | None, str]:
    """Diffusive check (b), motion past the cage: MSD(end) - intercept (A^2) against
    cage_multiple x d^2. Returns (MSD past the cage, passed (None: not tested), threshold, reason)."""
    past = msd_end - intercept
    if site_spacing_A is None:
        return past, None, None, "motion past the cage not tested (no site spacing given)"
    threshold = float(cage_multiple * site_spacing_A ** 2)
    past_cage = bool(past >= threshold)
    if past_cage:
        why = (f"MSD(end) - intercept = {past:.3g} A^2 >= {cage_multiple:g} x d^2 = {threshold:.3g} A^2 "
               f"(site spacing d = {site_spacing_A:.3g} A)")
    else:
        why = (f"caged: MSD(end) - intercept = {past:.3g} A^2 < {cage_multiple:g} x d^2 = {threshold:.3g} A^2 "
               f"(site spacing d = {site_spacing_A:.3g} A): sub-diffusive (caged) within the fit window; "
               "D is not a long-time diffusion coefficient")
    return past, past_cage, threshold, why
