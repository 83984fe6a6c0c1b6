"""Partial pair distribution functions g_AB(r) under periodic boundaries, coordination numbers.

Definitions (r in Angstrom, volumes in A^3). For index sets A and B of one frame with volume V,
counting ordered pairs (a in A, b in B, a != b) at distance in the shell [r, r + dr)::

    g_AB(r) = n_AB(r) * V / ((N_A N_B - N_AB) * 4/3 pi ((r + dr)^3 - r^3))

where N_AB = |A intersect B| (so A == B gives the usual N_A (N_A - 1) normalisation, and
disjoint sets N_A N_B). This is the ideal-gas normalisation: uniformly random points give
g = 1 in every shell, whatever the overlap of A and B. Frames are averaged with equal weight,
each normalised by its own volume. The running coordination number is the mean number of B
atoms around an A atom within r, counted directly (not re-integrated from g).

The pair search is :func:`lipsglass.neighbours.neighbour_pairs` (periodic KD-tree), done once
per frame for all requested pairs, so the cost is O(N rho r_max^3) per frame. r_max may not
exceed half the smallest distance between opposite cell faces: beyond it an atom would see
the same neighbour through two images and g(r) would measure the cell, not the glass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import numpy as np
from scipy.signal import find_peaks

from lipsglass.lammpsio import Box
from lipsglass.neighbours import neighbour_pairs
from lipsglass.speciation import ANIONS, DEFAULT_P_P_CUTOFF, DEFAULT_P_S_CUTOFF, speciate

DEFAULT_R_MAX = 12.0  # Angstrom, used when the cell allows it
DEFAULT_DR = 0.02  # Angstrom


def max_rdf_range(box: Box) -> float:
    """Largest usable r_max (Angstrom): half the smallest distance between opposite faces of
    the cell (half the shortest edge for an orthogonal box)."""
    inv = np.linalg.inv(box.matrix)
    return float(0.5 * np.min(1.0 / np.linalg.norm(inv, axis=0)))


def _as_frames(frames) -> list[tuple[Box, np.ndarray]]:
    if isinstance(frames, tuple) and len(frames) == 2 and isinstance(frames[0], Box):
        frames = [frames]
    frames = [(box, np.asarray(pos, float)) for box, pos in frames]
    if not frames:
        raise ValueError("no frames given")
    n = len(frames[0][1])
    for k, (_, pos) in enumerate(frames):
        if pos.ndim != 2 or pos.shape[1] != 3:
            raise ValueError(f"frame {k}: positions must have shape (N, 3), got {pos.shape}")
        if len(pos) != n:
            raise ValueError(f"frame {k} has {len(pos)} atoms, frame 0 has {n}")
    return frames


@dataclass
class RdfResult:
    """Partial g(r) of several pairs on one r grid (Angstrom), averaged over ``n_frames``.

    ``g[name]`` is g(r) at the bin centres ``r``; ``neighbours[name]`` is the mean number of B
    atoms per A atom in each bin (its cumulative sum is the running coordination number);
    ``pairs[name]`` the (A, B) group names; ``sizes`` the number of atoms in each group;
    ``density`` the mean total number density (1/A^3) over frames.
    """

    edges: np.ndarray
    g: dict[str, np.ndarray]
    neighbours: dict[str, np.ndarray]
    pairs: dict[str, tuple[str, str]]
    sizes: dict[str, int]
    n_frames: int
    n_atoms: int
    density: float
    r_max: float
    notes: list[str] = field(default_factory=list)
    element_groups: list[str] = field(default_factory=list)  # groups that are whole elements

    @property
    def r(self) -> np.ndarray:
        """Bin centres, Angstrom."""
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    def running_coordination(self, name: str) -> np.ndarray:
        """Mean number of B neighbours of an A atom within each upper bin edge ``edges[1:]``."""
        return np.cumsum(self.neighbours[name])

    def coordination_at(self, name: str, r_cut: float) -> float:
        """Mean number of B atoms within r_cut (Angstrom) of an A atom (linear interpolation
        of the running coordination between bin edges)."""
        cum = np.concatenate([[0.0], self.running_coordination(name)])
        return float(np.interp(r_cut, self.edges, cum))

    def table(self) -> dict[str, np.ndarray]:
        """Columns ``r_A`` and ``g_<name>`` for every pair, ready for :func:`write_table`."""
        out = {"r_A": self.r}
        out.update({f"g_{name}": g for name, g in self.g.items()})
        return out


def partial_rdfs(frames, groups: Mapping[str, Sequence[int]],
                 pairs: Mapping[str, tuple[str, str]] | Iterable[tuple[str, str]],
                 r_max: float | None = None, dr: float = DEFAULT_DR) -> RdfResult:
    """g_AB(r) for several (A, B) pairs of atom-index groups, averaged over frames.

    frames: a list of (Box, positions (N, 3) Angstrom), or a single such tuple; groups index
    the same atoms in every frame. pairs: {name: (A, B)} or a list of (A, B) (named ``A_B``).
    r_max (Angstrom): default min(12, :func:`max_rdf_range`); a larger request raises.
    dr: bin width (Angstrom). One neighbour search per frame serves all pairs.
    """
    frames = _as_frames(frames)
    n = len(frames[0][1])
    if not isinstance(pairs, Mapping):
        pairs = {f"{a}_{b}": (a, b) for a, b in pairs}
    if not pairs:
        raise ValueError("no pairs requested")
    masks: dict[str, np.ndarray] = {}
    for name, idx in groups.items():
        idx = np.asarray(idx, np.int64)
        if len(idx) and (idx.min() < 0 or idx.max() >= n):
            raise ValueError(f"group {name!r} has indices outside 0..{n - 1}")
        m = np.zeros(n, bool)
        m[idx] = True
        if m.sum() != len(idx):
            raise ValueError(f"group {name!r} lists an atom twice")
        masks[name] = m
    for name, (a, b) in pairs.items():
        for g in (a, b):
            if g not in masks:
                raise ValueError(f"pair {name!r}: unknown group {g!r}")
            if not masks[g].any():
                raise ValueError(f"pair {name!r}: group {g!r} is empty, g(r) is undefined")
    limit = min(max_rdf_range(box) for box, _ in frames)
    notes = []
    if r_max is None:
        r_max = min(DEFAULT_R_MAX, limit)
        if r_max < DEFAULT_R_MAX:
            notes.append(f"r_max limited to half the smallest cell width, {r_max:.4g} A")
    elif r_max > limit * (1 + 1e-12):
        raise ValueError(f"r_max = {r_max} A exceeds half the smallest cell width ({limit:.4g} A)")
    if not dr > 0 or dr >= r_max:
        raise ValueError(f"bin width dr must be in (0, r_max), got {dr}")
    n_bins = int(np.floor(r_max / dr + 1e-9))
    edges = np.arange(n_bins + 1) * dr
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)

    sizes = {name: int(m.sum()) for name, m in masks.items()}
    g_sum = {name: np.zeros(n_bins) for name in pairs}
    nb_sum = {name: np.zeros(n_bins) for name in pairs}
    used = sorted({g for ab in pairs.values() for g in ab})
    member = np.column_stack([masks[g] for g in used])  # (N, n_groups)
    sub = np.flatnonzero(member.any(axis=1))  # search only atoms that enter some pair
    # atoms with the same group memberships are interchangeable here: histogram once per
    # pair of membership signatures, then sum signatures into the requested pairs
    signatures, sig = np.unique(member[sub], axis=0, return_inverse=True)
    sig = sig.ravel()
    n_sig = len(signatures)
    sig_of = {g: signatures[:, c].astype(float) for c, g in enumerate(used)}
    n_ordered = {}
    for name, (a, b) in pairs.items():
        n_ordered[name] = sizes[a] * sizes[b] - int(np.sum(masks[a] & masks[b]))
        if n_ordered[name] <= 0:
            raise ValueError(f"pair {name!r}: a single shared atom has no pairs")
    density = 0.0
    for box, pos in frames:
        i, j, vec = neighbour_pairs(box, pos[sub], edges[-1])
        k = np.floor(np.linalg.norm(vec, axis=1) / dr).astype(np.int64)
        inside = k < n_bins
        code = (sig[i[inside]] * n_sig + sig[j[inside]]) * n_bins + k[inside]
        hist = np.bincount(code, minlength=n_sig * n_sig * n_bins).reshape(n_sig, n_sig, n_bins)
        # unique pairs i<j: count both orders so that A==B and A!=B share one formula
        hist = hist + hist.transpose(1, 0, 2)
        volume = box.volume if box.is_orthogonal else abs(np.linalg.det(box.matrix))
        density += n / volume
        for name, (a, b) in pairs.items():
            counts = np.einsum("s,t,stk->k", sig_of[a], sig_of[b], hist)
            g_sum[name] += counts * volume / (n_ordered[name] * shell)
            nb_sum[name] += counts / sizes[a]
    nf = len(frames)
    return RdfResult(edges=edges, g={k: v / nf for k, v in g_sum.items()},
                     neighbours={k: v / nf for k, v in nb_sum.items()}, pairs=dict(pairs),
                     sizes=sizes, n_frames=nf, n_atoms=n, density=density / nf, r_max=float(edges[-1]),
                     notes=notes)


def partial_rdf(frames, a: Sequence[int], b: Sequence[int], r_max: float | None = None,
                dr: float = DEFAULT_DR) -> tuple[np.ndarray, np.ndarray]:
    """g_AB(r) between two index sets (A == B or overlapping allowed). Returns (r bin centres
    in Angstrom, g)."""
    res = partial_rdfs(frames, {"A": a, "B": b}, {"AB": ("A", "B")}, r_max, dr)
    return res.r, res.g["AB"]


def first_shell(r: np.ndarray, g: np.ndarray, smooth: float = 0.1, prominence: float = 0.1,
                min_search_A: tuple[float | None, float | None] | None = None,
                min_after_peak_A: float = 0.0) -> dict[str, float]:
    """First peak and first minimum after it of a g(r).

    g is smoothed by a moving average over ``smooth`` Angstrom (only for locating extrema).
    The first peak is the first maximum whose prominence is at least ``prominence`` times the
    highest point of the smoothed curve (so noise ripples on the rising edge are skipped).

    The minimum is searched only at r >= r_peak + ``min_after_peak_A`` (Angstrom), because on a
    single frame (or a few) a noise dip just behind the peak can pass the prominence test:

    * without ``min_search_A``: the first minimum in that range with at least ``prominence``
      relative to the following rise (a flat zero plateau, as between bonded and non-bonded
      P-S, is reported at its centre). ``min_after_peak_A = 0`` is the historical behaviour;
    * with ``min_search_A = (lo, hi)`` (Angstrom; either may be None: lo defaults to
      r_peak + ``min_after_peak_A``, hi to the end of the table): a physical window where the
      first minimum of this pair must lie (e.g. (2.9, 3.8) A for Li-S, whose first minimum is at
      ~3.2 A); the minimum is the lowest point of the smoothed curve in it (centre of the lowest
      plateau), so noise dips that are higher than the true minimum are never chosen.
      ``min_at_window_edge`` is 1.0 when that point is on the window edge (the curve still falls
      or rises there: widen the window), else 0.0.

    Returns r_peak, g_peak, r_min, g_min (NaN when not found) and, with a window,
    min_at_window_edge.
    """
    r = np.asarray(r, float)
    g = np.asarray(g, float)
    if r.shape != g.shape or r.ndim != 1 or len(r) < 3:
        raise ValueError("r and g must be 1-D arrays of the same length (>= 3)")
    if min_after_peak_A < 0:
        raise ValueError(f"min_after_peak_A must be >= 0, got {min_after_peak_A}")
    dr = float(np.median(np.diff(r)))
    w = max(1, int(round(smooth / dr)))
    if w > 1:
        kernel = np.ones(w) / w
        gs = np.convolve(np.pad(g, (w // 2, w - 1 - w // 2), mode="edge"), kernel, mode="valid")
    else:
        gs = g.copy()
    nan = float("nan")
    out = {"r_peak": nan, "g_peak": nan, "r_min": nan, "g_min": nan}
    if min_search_A is not None:
        out["min_at_window_edge"] = nan
    top = float(np.max(gs))
    if not top > 0:
        return out
    # pad with zeros so a peak at the very start and a minimum plateau at the end are found
    peaks, _ = find_peaks(np.concatenate([[0.0], gs, [0.0]]), prominence=prominence * top)
    peaks = peaks - 1
    peaks = peaks[(peaks >= 0) & (peaks < len(gs))]
    if not len(peaks):
        return out
    kp = int(peaks[0])
    out["r_peak"], out["g_peak"] = float(r[kp]), float(g[kp])
    lo = r[kp] + min_after_peak_A
    if min_search_A is not None:
        lo_w, hi_w = min_search_A
        lo = max(lo, lo_w) if lo_w is not None else lo
        hi = float(r[-1]) if hi_w is None else float(hi_w)
        inside = np.flatnonzero((r >= lo - 1e-9) & (r <= hi + 1e-9) & (np.arange(len(r)) > kp))
        if not len(inside):
            return out
        gw = gs[inside]
        lowest = np.flatnonzero(gw <= gw.min() + 1e-9 * max(1.0, abs(gw.min())))
        # centre of the lowest plateau: the run of lowest points containing the first of them
        breaks = np.flatnonzero(np.diff(lowest) != 1)
        run_end = int(lowest[breaks[0]] if len(breaks) else lowest[-1])
        k = int(inside[(lowest[0] + run_end) // 2])
        out["r_min"], out["g_min"] = float(r[k]), float(g[k])
        out["min_at_window_edge"] = float(k == inside[0] or k == inside[-1])
        return out
    k0 = kp + int(np.searchsorted(r[kp:], lo - 1e-9))
    if k0 >= len(r):
        return out
    # from the peak on (so the prominence is measured against the rise after each dip), keeping
    # only minima at r >= lo
    tail = -gs[kp:]
    mins, _ = find_peaks(np.concatenate([tail, [-np.inf]]), prominence=prominence * top)
    mins = mins[(mins > 0) & (mins < len(tail)) & (kp + mins >= k0)]
    if len(mins):
        km = kp + int(mins[0])
        out["r_min"], out["g_min"] = float(r[km]), float(g[km])
    return out


def coordination_numbers(result: RdfResult, smooth: float = 0.1, prominence: float = 0.1,
                         min_search_A: Mapping[str, tuple[float | None, float | None]] | None = None
                         ) -> dict[str, dict[str, float]]:
    """For each pair: first peak, first minimum (:func:`first_shell`) and the mean number of B
    atoms around an A atom within the first minimum (NaN if no minimum was found).
    ``min_search_A``: optional {pair name: (lo, hi) Angstrom} windows for the first minimum."""
    out = {}
    windows = dict(min_search_A or {})
    for name, g in result.g.items():
        shell = first_shell(result.r, g, smooth, prominence, min_search_A=windows.get(name))
        cn = result.coordination_at(name, shell["r_min"]) if np.isfinite(shell["r_min"]) else float("nan")
        out[name] = {**shell, "n": cn}
    return out


ELEMENT_ORDER = ("Li", "P", "S")


def glass_rdfs(frames, elements: Sequence[str], unit_labels: Sequence[str] | None = None,
               r_max: float | None = None, dr: float = DEFAULT_DR,
               p_s_cutoff: float | None = None, p_p_cutoff: float | None = None) -> RdfResult:
    """All element-pair g(r) of a glass plus P-S and Li-S resolved by anion.

    Columns (pair names): every element pair ``A_B`` with A <= B in the order Li, P, S, then
    others alphabetically (``Li_Li``, ``Li_P``, ``Li_S``, ``P_P``, ``P_S``, ``S_S``); for each
    unit U among PS4, P2S7, P2S6 present: ``P_S_U`` (P of any U unit with S of any U unit, so
    intra- and inter-unit distances of that anion type, as in the paper's Fig. 1D left) and
    ``Li_S_U`` (all Li with S of U units, Fig. 1D right); ``Li_S_S_free`` if free S exist.
    unit_labels: per-atom unit labels (``Speciation.unit``); default: :func:`speciate` on the
    first frame (in the molecular force field the units do not change between frames).
    """

    frames = _as_frames(frames)
    elements = np.asarray(elements).astype(str)
    if len(elements) != len(frames[0][1]):
        raise ValueError(f"{len(elements)} elements but {len(frames[0][1])} atoms")
    if unit_labels is None:
        box, pos = frames[0]
        unit_labels = speciate(box, elements, pos,
                               DEFAULT_P_S_CUTOFF if p_s_cutoff is None else p_s_cutoff,
                               DEFAULT_P_P_CUTOFF if p_p_cutoff is None else p_p_cutoff).unit
    unit_labels = np.asarray(unit_labels).astype(str)
    present = sorted(set(elements.tolist()), key=lambda e: (ELEMENT_ORDER.index(e) if e in ELEMENT_ORDER else 99, e))
    groups = {e: np.flatnonzero(elements == e) for e in present}
    pairs = {}
    for x, a in enumerate(present):
        for b in present[x:]:
            if not (a == b and len(groups[a]) < 2):
                pairs[f"{a}_{b}"] = (a, b)
    for u in list(ANIONS) + ["S_free"]:
        s_u = np.flatnonzero((elements == "S") & (unit_labels == u))
        p_u = np.flatnonzero((elements == "P") & (unit_labels == u))
        if len(s_u):
            groups[f"S_{u}"] = s_u
            if "Li" in groups:
                pairs[f"Li_S_{u}"] = ("Li", f"S_{u}")
        if len(p_u) and len(s_u):
            groups[f"P_{u}"] = p_u
            pairs[f"P_S_{u}"] = (f"P_{u}", f"S_{u}")
    result = partial_rdfs(frames, groups, pairs, r_max=r_max, dr=dr)
    result.element_groups = list(present)
    return result
