"""Mean squared displacement (MSD) of unwrapped trajectories and straight-line fits to it.

Units: positions in Angstrom, times (lags) in ps, MSD in A^2, D in A^2/ps inside the fits.

* MSD: averaged over all time origins, computed per particle with the FFT (Wiener-Khinchin)
  algorithm of Calandrini et al. / Kneller (nMOLDYN), O(T log T) per particle; identical to the
  direct windowed average and to tidynamics / MDAnalysis ``EinsteinMSD(fft=True)``.
* Fits: least-squares line MSD = 6 D t + c on a window of lags (``fit_msd_line``; the intercept
  absorbs the ballistic/cage offset) and the log-log slope d ln MSD / d ln t, local
  (``local_loglog_slope``) or over a window (``loglog_slope``).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["msd_fft", "local_loglog_slope", "loglog_slope", "window_mask", "fit_msd_line"]


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


def window_mask(lag_ps: np.ndarray, start_ps: float, end_ps: float) -> np.ndarray:
    """Lags > 0 in [start_ps, end_ps] (ps), with half a part per million of tolerance so window
    edges given as k*dt include lag k."""
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
    mask = window_mask(t, start_ps, end_ps)
    if mask.sum() < 3:
        raise ValueError(f"fit window [{start_ps:g}, {end_ps:g}] ps holds {mask.sum()} lags; need >= 3 "
                         "(lengthen the window or write frames more often)")
    design = np.column_stack([t[mask], np.ones(mask.sum())])
    coef, *_ = np.linalg.lstsq(design, y[mask], rcond=None)
    return coef[0] / (2.0 * dim), coef[1]
