"""Total structure factor S(q) of a glass: Faber-Ziman transform of partial g(r), a direct
reciprocal-lattice sum as a check, and the first sharp diffraction peak (FSDP).

Units: r in Angstrom, q in 1/Angstrom, number density in 1/A^3, scattering lengths in fm.

Faber-Ziman (T. E. Faber, J. M. Ziman, Phil. Mag. 11 (1965) 153). With c_a the atomic
fractions and rho the total number density::

    S_ab(q) - 1 = 4 pi rho Int_0^R r^2 (g_ab(r) - 1) sin(qr)/(qr) W(r) dr
    S(q)        = 1 + sum_ab c_a c_b w_a w_b (S_ab(q) - 1) / (sum_a c_a w_a)^2

summed over ordered pairs (a, b). The weights w are coherent neutron scattering lengths b
(constant), or X-ray atomic form factors f(q) (q dependent). g(r) is known only up to R (half
the cell); cutting the integral there ripples S(q) with period ~2 pi / R. W(r) = 1 without a
window, or the Lorch function W(r) = sin(pi r / R) / (pi r / R) (E. Lorch, J. Phys. C 2 (1969)
229), which damps those ripples at the cost of broadening peaks by ~ 2 pi / R. Only q above
~2 pi / R is meaningful either way.

The direct S(q) (:func:`direct_sq`) sums over the wave vectors allowed by the periodic cell,
S(q) = 1 + (|sum_j w_j exp(i q.r_j)|^2 / N - <w^2>) / <w>^2, averaged over the vectors in each
|q| bin; with unit weights it is |sum_j exp(i q.r_j)|^2 / N. It costs O(N n_q) and is meant as
a check on small systems (or with ``max_vectors_per_bin``).
"""

from __future__ import annotations

import warnings
from typing import Mapping, Sequence

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from lipsglass.lammpsio import Box

# Bound coherent scattering lengths (fm) of the natural elements, from the NIST Center for
# Neutron Research table "Neutron scattering lengths and cross sections"
# (https://www.ncnr.nist.gov/resources/n-lengths/), which reproduces V. F. Sears,
# Neutron News 3 (1992) 26-37.
NEUTRON_B_FM = {"Li": -1.90, "P": 5.13, "S": 2.847}

# Cromer-Mann four-Gaussian fits of X-ray atomic form factors,
# f(s) = sum_i a_i exp(-b_i s^2) + c with s = sin(theta)/lambda = q / (4 pi) in 1/A,
# from International Tables for Crystallography Vol. C (2006), Table 6.1.1.4.
# Sum a_i + c = number of electrons (Li+ 2, P 15, S 16). Li is taken as Li+ and P, S as neutral
# atoms (tables for P5+ / S2- in a thiophosphate are not standard); see XRAY_SPECIES.
CROMER_MANN = {
    "Li+": ((0.6968, 0.7888, 0.3414, 0.1563), (4.6237, 1.9557, 0.6316, 10.0953), 0.0167),
    "Li": ((1.1282, 0.7508, 0.6175, 0.4653), (3.9546, 1.0524, 85.3905, 168.261), 0.0377),
    "P": ((6.4345, 4.1791, 1.7800, 1.4908), (1.9067, 27.1570, 0.5260, 68.1645), 1.1149),
    "S": ((6.9053, 5.2034, 1.4379, 1.5863), (1.4679, 22.2151, 0.2536, 56.1720), 0.8669),
}
XRAY_SPECIES = {"Li": "Li+", "P": "P", "S": "S"}  # element -> Cromer-Mann species used

FSDP_WINDOW = (0.8, 1.5)  # 1/A, where the FSDP of Li2S-P2S5 glasses lies


def form_factor(species: str, q: np.ndarray) -> np.ndarray:
    """X-ray atomic form factor (electrons) of a Cromer-Mann species at q (1/A)."""
    if species not in CROMER_MANN:
        raise ValueError(f"no Cromer-Mann coefficients for {species!r}; have {sorted(CROMER_MANN)}")
    a, b, c = CROMER_MANN[species]
    s2 = (np.asarray(q, float) / (4.0 * np.pi)) ** 2
    return c + sum(ai * np.exp(-bi * s2) for ai, bi in zip(a, b))


def scattering_weights(elements: Sequence[str], q: np.ndarray, weighting) -> dict[str, np.ndarray]:
    """Scattering weight of each element on the q grid: 'neutron', 'xray', 'number' (all 1)
    or a mapping element -> constant."""
    out = {}
    for e in elements:
        if weighting == "neutron":
            if e not in NEUTRON_B_FM:
                raise ValueError(f"no neutron scattering length for {e!r}")
            out[e] = np.full_like(q, NEUTRON_B_FM[e])
        elif weighting == "xray":
            if e not in XRAY_SPECIES:
                raise ValueError(f"no X-ray form factor species for {e!r}")
            out[e] = form_factor(XRAY_SPECIES[e], q)
        elif weighting == "number":
            out[e] = np.ones_like(q)
        elif isinstance(weighting, Mapping):
            out[e] = np.full_like(q, float(weighting[e]))
        else:
            raise ValueError(f"weighting must be 'neutron', 'xray', 'number' or a mapping, got {weighting!r}")
    return out


def partial_sq(r: np.ndarray, g: np.ndarray, density: float, q: np.ndarray,
               r_max: float | None = None, lorch: bool = True) -> np.ndarray:
    """Faber-Ziman partial S_ab(q) from g_ab(r) given at equally spaced bin centres r (A).

    density: total number density (1/A^3); r_max: the cutoff R of the data (default the last
    bin's upper edge), used by the Lorch window.
    """
    r = np.asarray(r, float)
    g = np.asarray(g, float)
    q = np.asarray(q, float)
    if r.shape != g.shape or r.ndim != 1:
        raise ValueError("r and g must be 1-D arrays of equal length")
    dr = np.diff(r)
    if len(r) < 2 or not np.allclose(dr, dr[0], rtol=1e-6):
        raise ValueError("r must be an equally spaced grid")
    dr = dr[0]
    if r_max is None:
        r_max = r[-1] + 0.5 * dr
    window = np.sinc(r / r_max) if lorch else np.ones_like(r)
    # midpoint rule on bin centres; np.sinc(x) = sin(pi x) / (pi x)
    kernel = np.sinc(np.outer(q, r) / np.pi)
    return 1.0 + 4.0 * np.pi * density * dr * kernel @ (r ** 2 * (g - 1.0) * window)


def faber_ziman_sq(r: np.ndarray, partials: Mapping[tuple[str, str], np.ndarray],
                   concentrations: Mapping[str, float], density: float, q: np.ndarray,
                   weighting="neutron", lorch: bool = True, r_max: float | None = None) -> dict:
    """Total Faber-Ziman S(q) from element-pair g(r).

    partials: {(a, b): g_ab on r}; each unordered element pair once (g_ab = g_ba).
    concentrations: atomic fractions (must sum to 1); density: total number density (1/A^3);
    weighting: 'neutron' (NIST b), 'xray' (Cromer-Mann f(q)), 'number' or {element: weight}.
    Returns {'q', 'S', 'partials': {(a, b): S_ab(q)}, 'weights': {(a, b): w_ab(q)}}.
    """
    q = np.asarray(q, float)
    elements = sorted(concentrations)
    total = sum(concentrations.values())
    if not np.isclose(total, 1.0, atol=1e-6):
        raise ValueError(f"concentrations sum to {total}, not 1")
    sym = {}
    for (a, b), g in partials.items():
        sym[(a, b)] = sym[(b, a)] = g
    missing = [(a, b) for a in elements for b in elements if (a, b) not in sym and concentrations[a] * concentrations[b] > 0]
    if missing:
        raise ValueError(f"missing partial g(r) for element pairs {sorted({tuple(sorted(m)) for m in missing})}")
    w = scattering_weights(elements, q, weighting)
    mean_w = sum(concentrations[e] * w[e] for e in elements)
    if np.any(mean_w == 0):
        raise ValueError("mean scattering weight is zero: Faber-Ziman S(q) undefined")
    s_total = np.ones_like(q)
    s_ab, w_ab = {}, {}
    for x, a in enumerate(elements):
        for b in elements[x:]:
            if (a, b) not in sym:
                continue
            s = partial_sq(r, sym[(a, b)], density, q, r_max=r_max, lorch=lorch)
            mult = 1.0 if a == b else 2.0  # (a, b) and (b, a)
            wt = mult * concentrations[a] * concentrations[b] * w[a] * w[b] / mean_w ** 2
            s_total = s_total + wt * (s - 1.0)
            s_ab[(a, b)], w_ab[(a, b)] = s, wt
    return {"q": q, "S": s_total, "partials": s_ab, "weights": w_ab}


def sq_from_rdf(result, q: np.ndarray, weighting="neutron", lorch: bool = True) -> dict:
    """Faber-Ziman S(q) from an :class:`lipsglass.rdf.RdfResult` of :func:`glass_rdfs` (uses
    its element groups, element-pair g(r) named ``A_B``, total density and r_max).

    For S(q) compute the g(r) up to the largest r the cell allows
    (``glass_rdfs(..., r_max=max_rdf_range(box))``): the 12 A default of the g(r) tables
    broadens the FSDP (by ~0.2 1/A FWHM with the Lorch window on the 8069-atom glasses)."""
    elements = list(result.element_groups)
    if not elements:
        raise ValueError("this RdfResult has no element groups (make it with glass_rdfs)")
    if sum(result.sizes[e] for e in elements) != result.n_atoms:
        raise ValueError("the element groups of this RdfResult do not cover all atoms")
    conc = {e: result.sizes[e] / result.n_atoms for e in elements}
    partials = {}
    for name, (a, b) in result.pairs.items():
        if a in conc and b in conc:
            partials[(a, b)] = result.g[name]
    return faber_ziman_sq(result.r, partials, conc, result.density, q, weighting, lorch,
                          r_max=result.r_max)


def reciprocal_vectors(box: Box, q_max: float) -> np.ndarray:
    """Wave vectors (1/A) of the periodic cell with 0 < |q| <= q_max, one of each +/- pair."""
    if not q_max > 0:
        raise ValueError("q_max must be positive")
    basis = 2.0 * np.pi * np.linalg.inv(box.matrix).T  # rows b_j with a_i . b_j = 2 pi delta_ij
    lengths = np.linalg.norm(box.matrix, axis=1)
    n = np.ceil(q_max * lengths / (2.0 * np.pi)).astype(int)  # |h_i| <= q |a_i| / 2 pi
    h, k, l = np.meshgrid(*(np.arange(-m, m + 1) for m in n), indexing="ij")
    hkl = np.column_stack([h.ravel(), k.ravel(), l.ravel()])
    positive = (hkl[:, 0] > 0) | ((hkl[:, 0] == 0) & (hkl[:, 1] > 0)) | \
        ((hkl[:, 0] == 0) & (hkl[:, 1] == 0) & (hkl[:, 2] > 0))
    qv = hkl[positive] @ basis
    qn = np.linalg.norm(qv, axis=1)
    return qv[qn <= q_max]


def direct_sq(box: Box, positions: np.ndarray, q_max: float, dq: float = 0.05,
              weights: np.ndarray | None = None, max_vectors_per_bin: int | None = None,
              seed: int = 0, chunk: int = 2_000_000) -> dict[str, np.ndarray]:
    """S(q) directly from positions: average of the (weighted) single-vector S over the cell's
    wave vectors in |q| bins of width dq (1/A), up to q_max.

    weights: per-atom scattering weights (e.g. neutron b); None means unit weights.
    max_vectors_per_bin: randomly keep at most this many vectors per bin (seeded), to bound
    the O(N n_q) cost. Returns {'q': mean |q| of each non-empty bin, 'S', 'n_vectors'}.
    """
    pos = np.asarray(positions, float)
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise ValueError("positions must have shape (N, 3)")
    n = len(pos)
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    if w.shape != (n,):
        raise ValueError("weights must have one value per atom")
    mean_w, mean_w2 = w.mean(), np.mean(w ** 2)
    if mean_w == 0:
        raise ValueError("mean weight is zero: normalised S(q) undefined")
    qv = reciprocal_vectors(box, q_max)
    qn = np.linalg.norm(qv, axis=1)
    bins = np.floor(qn / dq).astype(np.int64)
    if max_vectors_per_bin is not None:
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(qv))
        # rank of each vector within its bin, in random order
        b_sorted = bins[order]
        srt = np.argsort(b_sorted, kind="stable")
        first = np.searchsorted(b_sorted[srt], b_sorted[srt], side="left")
        rank = np.empty(len(qv), np.int64)
        rank[srt] = np.arange(len(qv)) - first
        keep = np.zeros(len(qv), bool)
        keep[order[rank < max_vectors_per_bin]] = True
        qv, qn, bins = qv[keep], qn[keep], bins[keep]
    rel = pos - box.lo
    s_single = np.empty(len(qv))
    step = max(1, chunk // max(n, 1))
    for start in range(0, len(qv), step):
        phase = rel @ qv[start:start + step].T  # (N, m)
        re = w @ np.cos(phase)
        im = w @ np.sin(phase)
        s_single[start:start + step] = (re ** 2 + im ** 2) / n
    s_single = 1.0 + (s_single - mean_w2) / mean_w ** 2
    nb = int(bins.max()) + 1 if len(bins) else 0
    count = np.bincount(bins, minlength=nb)
    ok = count > 0
    q_mean = np.bincount(bins, weights=qn, minlength=nb)[ok] / count[ok]
    s_mean = np.bincount(bins, weights=s_single, minlength=nb)[ok] / count[ok]
    return {"q": q_mean, "S": s_mean, "n_vectors": count[ok]}


def _gauss_line(q, q0, amp, sigma, c0, c1):
    return amp * np.exp(-0.5 * ((q - q0) / sigma) ** 2) + c0 + c1 * q


FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


# The FSDP width is flagged as limited by the cell when the measured FWHM is below this multiple
# of 2 pi / r_max. On the 8069-atom 70Li2S-30P2S5 glass of Ariga et al. (Lorch window, g(r) cut at
# r_max = 8-24 A) the measured widths follow FWHM^2 = FWHM_0^2 + (2 pi / r_max)^2 to within 4 %
# (FWHM_0 ~ 0.31 1/A); at FWHM < 2 x 2 pi / r_max the cut-off term inflates the width by > 15 %.
FSDP_RESOLUTION_MULTIPLE = 2.0


def fsdp(q: np.ndarray, s: np.ndarray, window: tuple[float, float] = FSDP_WINDOW,
         r_max: float | None = None, resolution_multiple: float = FSDP_RESOLUTION_MULTIPLE) -> dict:
    """Position, height and FWHM of the first sharp diffraction peak of S(q) in ``window`` (1/A).

    A Gaussian on a linear background is least-squares fitted to S(q) inside the window
    (the FSDP of a glass sits on a sloping background): ``position`` (1/A) and ``fwhm`` (1/A)
    are the Gaussian's, ``height`` its amplitude above the background, ``s_peak`` the value of
    S at the position. If the fit fails or puts the peak outside the window, the highest point
    (parabola-refined) is reported with ``method='maximum'``, ``height`` = S there and
    ``fwhm`` measured at half that height. ``at_window_edge`` flags a maximum on the window edge
    (no peak inside it).

    r_max (Angstrom): where the g(r) behind a Faber-Ziman S(q) was cut (half the cell). That
    cut (with or without the Lorch window) convolves S(q) with a kernel ~ 2 pi / r_max wide, so
    a FWHM near that value measures the cell, not the glass. With r_max the result has
    ``resolution_fwhm_inv_A`` = 2 pi / r_max, ``fwhm_limit_inv_A`` = ``resolution_multiple``
    times that, ``fwhm_over_resolution`` = fwhm / (2 pi / r_max), ``fwhm_limited_by_box`` =
    fwhm < fwhm_limit (None when no FWHM was measured) and ``fwhm_deconvolved_inv_A`` =
    sqrt(fwhm^2 - (2 pi / r_max)^2), a rough estimate of the width of an infinite cell (the
    quadrature rule fits the Ariga 70Li2S-30P2S5 glass, see FSDP_RESOLUTION_MULTIPLE; NaN when
    fwhm <= 2 pi / r_max, i.e. the width is all resolution). Without r_max these keys are
    absent except ``fwhm_limited_by_box`` = None (not checked).
    """
    q = np.asarray(q, float)
    s = np.asarray(s, float)
    lo, hi = window
    if not lo < hi:
        raise ValueError(f"bad FSDP window {window}")
    m = (q >= lo) & (q <= hi) & np.isfinite(s)
    if m.sum() < 6:
        raise ValueError(f"only {m.sum()} S(q) points in the FSDP window {window}; need >= 6")
    qw, sw = q[m], s[m]
    k = int(np.argmax(sw))
    edge = k == 0 or k == len(qw) - 1
    # parabola through the maximum and its neighbours
    q_max, s_max = qw[k], sw[k]
    if not edge:
        y0, y1, y2 = sw[k - 1], sw[k], sw[k + 1]
        den = y0 - 2 * y1 + y2
        if den < 0:
            t = 0.5 * (y0 - y2) / den
            q_max = qw[k] + t * (qw[k + 1] - qw[k - 1]) / 2.0
            s_max = y1 - 0.25 * (y0 - y2) * t
    out = {"window": [float(lo), float(hi)], "at_window_edge": bool(edge)}
    p0 = [q_max, max(s_max - sw.min(), 1e-6), (hi - lo) / 6.0, sw.min(), 0.0]
    try:
        with warnings.catch_warnings():  # the parameter covariance is not used
            warnings.simplefilter("ignore", OptimizeWarning)
            popt, _ = curve_fit(_gauss_line, qw, sw, p0=p0, maxfev=20000)
        q0, amp, sigma, c0, c1 = popt
        fit_ok = bool(lo <= q0 <= hi and amp > 0 and abs(sigma) < (hi - lo))
    except (RuntimeError, ValueError):
        fit_ok = False
    if fit_ok and not edge:
        out.update(method="gaussian+linear fit", position=float(q0), height=float(amp),
                   fwhm=float(FWHM_PER_SIGMA * abs(sigma)), s_peak=float(_gauss_line(q0, *popt)),
                   background=[float(c0), float(c1)])
        return _box_limit(out, r_max, resolution_multiple)
    # fallback: width at half the maximum, by linear interpolation on each side
    half = 0.5 * s_max
    left = np.flatnonzero(sw[:k + 1] < half)
    right = np.flatnonzero(sw[k:] < half)
    width = float("nan")
    if len(left) and len(right):
        i = left[-1]
        j = k + right[0]
        ql = np.interp(half, [sw[i], sw[i + 1]], [qw[i], qw[i + 1]])
        qr = np.interp(half, [sw[j], sw[j - 1]], [qw[j], qw[j - 1]])
        width = float(qr - ql)
    out.update(method="maximum", position=float(q_max), height=float(s_max), fwhm=width,
               s_peak=float(s_max), background=None)
    return _box_limit(out, r_max, resolution_multiple)


def _box_limit(out: dict, r_max: float | None, multiple: float) -> dict:
    """Add the cell-resolution check of the FSDP width (see :func:`fsdp`)."""
    if r_max is None:
        out["fwhm_limited_by_box"] = None
        return out
    if not r_max > 0 or not multiple > 0:
        raise ValueError(f"r_max and resolution_multiple must be positive, got {r_max}, {multiple}")
    res = 2.0 * np.pi / float(r_max)
    fwhm = out.get("fwhm", float("nan"))
    measured = fwhm is not None and np.isfinite(fwhm)
    out.update(r_max_A=float(r_max), resolution_fwhm_inv_A=float(res), resolution_multiple=float(multiple),
               fwhm_limit_inv_A=float(multiple * res),
               fwhm_over_resolution=float(fwhm / res) if measured else float("nan"),
               fwhm_limited_by_box=bool(fwhm < multiple * res) if measured else None,
               fwhm_deconvolved_inv_A=float(np.sqrt(fwhm ** 2 - res ** 2)) if measured and fwhm > res
               else float("nan"))
    return out
