"""The link of the rings to the first sharp diffraction peak (FSDP; claim C11's inputs, paper
Fig. S4), in real space (ring lengths against the FSDP's real-space window, and the enrichment of
large rings in it) and in reciprocal space (the atoms' exact contributions to S(q) over the FSDP).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from lipsglass.homology.results import Rings, ring_length
from lipsglass.lammpsio import Box
from lipsglass.structure_factor import reciprocal_vectors, scattering_weights


def fsdp_ring_link(rings: Rings, q_fsdp: float, q_fwhm: float | None = None,
                   length: str = "diameter", large_ring: int = 8) -> dict:
    """Relate ring sizes to the FSDP (pure function of the rings and the peak position).

    q_fsdp: FSDP position (1/A); q_fwhm: its full width at half maximum (1/A, default
    0.25 * q_fsdp). The FSDP's real-space window is [2 pi / (q + fwhm/2), 2 pi / (q - fwhm/2)]
    (A) around d = 2 pi / q. For each ring size: count, mean/std of the ring length (A, see
    :func:`ring_length`) and the persistence-weighted fraction of its rings whose length lies in
    the window. ``large_ring_share``: of the total persistence (death - birth, A^2) of all rings
    whose length lies in the window, the share carried by rings of more than ``large_ring``
    atoms (``large_ring_share_count``: the same share by number). Unresolved rings (size -1)
    are counted in ``n_unresolved`` and excluded from the shares.
    """
    if not q_fsdp > 0:
        raise ValueError(f"q_fsdp must be positive (1/A), got {q_fsdp}")
    q_fwhm = 0.25 * q_fsdp if q_fwhm is None else float(q_fwhm)
    if not 0 < q_fwhm < 2 * q_fsdp:
        raise ValueError(f"q_fwhm must lie in (0, 2 q_fsdp), got {q_fwhm}")
    d = 2.0 * np.pi / q_fsdp
    window = (2.0 * np.pi / (q_fsdp + q_fwhm / 2), 2.0 * np.pi / (q_fsdp - q_fwhm / 2))
    resolved = rings.size > 0
    size = rings.size[resolved]
    L = ring_length(rings, length)[resolved]
    pers = rings.persistence[resolved]
    in_win = (L >= window[0]) & (L <= window[1])
    per_size = {}
    for s in np.unique(size):
        m = size == s
        per_size[int(s)] = {
            "count": int(m.sum()),
            "length_mean_A": float(L[m].mean()),
            "length_std_A": float(L[m].std()),
            "persistence_sum_A2": float(pers[m].sum()),
            "fraction_in_window": float(pers[m & in_win].sum() / pers[m].sum()),
        }
    large = size > large_ring
    total = pers[in_win].sum()
    return {
        "q_fsdp_inv_A": float(q_fsdp), "q_fwhm_inv_A": q_fwhm, "d_fsdp_A": d,
        "window_A": window, "length": length, "large_ring": large_ring,
        "per_size": per_size,
        "large_ring_share": float(pers[in_win & large].sum() / total) if total > 0 else float("nan"),
        "large_ring_share_count": float((in_win & large).sum() / in_win.sum()) if in_win.any() else float("nan"),
        "n_in_window": int(in_win.sum()), "n_unresolved": int((~resolved).sum()),
    }


def fsdp_enrichment_scan(rings: Rings, q_fsdp: float, q_fwhm: float | None, thresholds, length: str = "death",
                         large_ring: int = 8) -> list[dict]:
    """C11 in real space, as enrichment: for each persistence threshold (A^2), among the
    resolved rings with persistence above it, the share of rings with more than ``large_ring``
    atoms inside the FSDP's real-space window (see :func:`fsdp_ring_link`) against that share
    among all of them (no window). ``enrichment`` = share in window / share overall (1: the
    window selects large rings no more than chance; NaN if undefined)."""
    out = []
    for t in thresholds:
        sub = Rings(birth=rings.birth, death=rings.death, size=np.where(rings.persistence > t, rings.size, 0),
                    diameter=rings.diameter, atoms=rings.atoms, coordinates=rings.coordinates,
                    max_ring_size=rings.max_ring_size)
        ok = sub.size > 0
        if not ok.any():
            out.append({"min_persistence_A2": float(t), "n_rings": 0})
            continue
        link = fsdp_ring_link(sub, q_fsdp, q_fwhm, length=length, large_ring=large_ring)
        share_all = float(np.mean(sub.size[ok] > large_ring))
        share_win = link["large_ring_share_count"]
        out.append({"min_persistence_A2": float(t), "n_rings": int(ok.sum()), "n_in_window": link["n_in_window"],
                    "large_share_in_window": share_win, "large_share_all": share_all,
                    "enrichment": share_win / share_all if share_all > 0 and np.isfinite(share_win) else float("nan")})
    return out


def fsdp_subset_contribution(box: Box, positions: np.ndarray, weights: np.ndarray, subsets: dict[str, np.ndarray],
                             pool: np.ndarray, q_window: tuple[float, float], n_random: int = 999,
                             seed: int = 0) -> dict:
    """C11 in reciprocal space: per-atom contribution of atom subsets to S(q) in the FSDP window.

    S(q) over the cell's wave vectors with q_window[0] <= |q| <= q_window[1] (1/A) splits exactly
    into atom contributions c_j = <Re[w_j exp(i q.r_j) rho(q)*]>_q / (N <w>^2) with rho(q) =
    sum_k w_k exp(i q.r_k) over all atoms (positions, A; weights, e.g. neutron b). For each named
    subset (atom indices): mean c_j over its atoms, and where it falls among ``n_random``
    random subsets of equal size drawn from ``pool`` (indices; e.g. all network atoms):
    ``p_random`` = (1 + #random means >= it) / (1 + n_random). Also the mean c_j of the pool.
    Caveat: neighbouring atoms share the phase of the density wave, so the c_j of a connected set
    (the atoms of rings) vary more than those of independently drawn atoms and ``p_random`` is
    optimistic. Translating the set instead (nearest pool atom to each translated position) is
    not a valid null either: it favours atoms with large Voronoi cells, whose c_j differ (on the
    default study it put both large- and small-ring atoms above the null at p = 0.001)."""
    pos = np.asarray(positions, float) - box.lo
    w = np.asarray(weights, float)
    qv = reciprocal_vectors(box, q_window[1])
    qv = qv[np.linalg.norm(qv, axis=1) >= q_window[0]]
    if len(qv) == 0:
        raise ValueError(f"no wave vector of the cell has {q_window[0]:.3f} <= |q| <= {q_window[1]:.3f} 1/A")
    phase = pos @ qv.T
    cos, sin = np.cos(phase), np.sin(phase)
    rho_re, rho_im = w @ cos, w @ sin
    c = w * (cos @ rho_re + sin @ rho_im) / len(qv) / (len(w) * w.mean() ** 2)
    rng = np.random.default_rng(seed)
    pool = np.asarray(pool, int)
    out = {"q_window_inv_A": [float(q_window[0]), float(q_window[1])], "n_vectors": int(len(qv)),
           "pool_mean": float(c[pool].mean()), "n_random": int(n_random), "subsets": {}}
    for name, idx in subsets.items():
        idx = np.asarray(idx, int)
        if len(idx) == 0 or len(idx) > len(pool):
            out["subsets"][name] = {"n_atoms": int(len(idx))}
            continue
        rand = np.array([c[rng.choice(pool, len(idx), replace=False)].mean() for _ in range(n_random)])
        m = float(c[idx].mean())
        out["subsets"][name] = {"n_atoms": int(len(idx)), "mean_contribution": m,
                                "random_q05_q95": np.percentile(rand, [5, 95]).tolist(),
                                "p_random": float((1 + np.sum(rand >= m)) / (1 + n_random))}
    return out


def ring_atom_sets(rings: Rings, index: Mapping[int, int], large_ring: int) -> dict[str, np.ndarray]:
    """Structure indices (sorted, each once) of the atoms of the rings larger than ``large_ring``
    atoms (``large_rings``) and of the resolved rings up to that size (``small_rings``); the
    rings' ``atoms`` hold atom ids, mapped to indices by ``index``."""
    classes = (("large_rings", lambda s: s > large_ring), ("small_rings", lambda s: 0 < s <= large_ring))
    return {name: np.unique(np.concatenate([[index[int(i)] for i in a] for a, s in zip(rings.atoms, rings.size)
                                            if keep(s)] or [np.zeros(0, int)])).astype(int)
            for name, keep in classes}


def atom_weights(elements: Sequence[str], q: float, weighting: str) -> np.ndarray:
    """Scattering weight of every atom at ``q`` (1/A) under ``weighting`` (neutron, xray)."""
    table = scattering_weights(sorted(set(elements)), np.array([q]), weighting)
    return np.array([table[e][0] for e in elements], float)
