"""The anion environment of a Li and its links to softness (Chen et al. 2023, Fig. 3): the shares
of the S within a radius that belong to each anion type, the nearest and the majority anion, the
correlation of softness with those shares and the softness of the Li assigned to each anion.

Units: lengths in Angstrom; shares are fractions; softness dimensionless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from lipsglass.core.anions import ANIONS
from lipsglass.core.stats import BinnedMean, binned_mean, pearson_ci
from lipsglass.lammpsio import Box
from lipsglass.neighbours import neighbour_pairs

ANION_TYPES = tuple(sorted(ANIONS))  # the columns of the anion-environment features, alphabetical


@dataclass
class AnionEnvironment:
    """S environment of each centre within ``radius`` (A).

    shares[:, k]: fraction of those S that belong to anion_types[k] (NaN if no S within radius);
    n_sulfur: number of S within radius; nearest: anion type of the nearest S within radius;
    majority: type holding most of those S ("tie" if several share the maximum); both "" when
    no S lies within radius.
    """

    anion_types: tuple
    radius: float
    shares: np.ndarray
    n_sulfur: np.ndarray
    nearest: np.ndarray
    majority: np.ndarray


def anion_environment(box: Box, positions: np.ndarray, centres: np.ndarray, s_anion: np.ndarray,
                      radius: float = 5.0, anion_types: Sequence[str] = ANION_TYPES) -> AnionEnvironment:
    """Shares of the S within ``radius`` (A) of each centre belonging to each anion type.

    s_anion: per-atom labels (length N): the anion type of each S atom, "" for atoms that are not
    anion S. Every non-empty label must be one of ``anion_types``.
    """
    pos = np.asarray(positions, float)
    s_anion = np.asarray(s_anion).astype(str)
    centres = np.asarray(centres, np.int64)
    anion_types = tuple(anion_types)
    if s_anion.shape != (len(pos),):
        raise ValueError(f"s_anion must have one label per atom ({len(pos)}), got {s_anion.shape}")
    sulfur = np.flatnonzero(s_anion != "")
    bad = sorted(set(s_anion[sulfur]) - set(anion_types))
    if bad:
        raise ValueError(f"S labels {bad} are not among anion types {anion_types}")
    if not radius > 0:
        raise ValueError("radius must be positive")
    type_index = np.array([anion_types.index(a) for a in s_anion[sulfur]], dtype=np.int64)
    i, j, vec = neighbour_pairs(box, pos[centres], radius, other=pos[sulfur])
    dist = np.linalg.norm(vec, axis=1)
    keep = ~((centres[i] == sulfur[j]) & (dist < 1e-10))  # a centre that is itself an S
    i, j, dist = i[keep], j[keep], dist[keep]
    n, k = len(centres), len(anion_types)
    counts = np.zeros((n, k))
    np.add.at(counts, (i, type_index[j]), 1.0)
    n_s = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(n_s[:, None] > 0, counts / n_s[:, None], np.nan)
    names = np.array(anion_types, dtype=object)
    nearest = np.full(n, "", dtype=object)
    if len(dist):
        order = np.lexsort((dist, i))  # by centre, then distance
        first = order[np.r_[True, np.diff(i[order]) != 0]]
        nearest[i[first]] = names[type_index[j[first]]]
    majority = np.full(n, "", dtype=object)
    has = n_s > 0
    top = counts.max(axis=1)
    n_top = np.sum(counts == top[:, None], axis=1)
    majority[has & (n_top == 1)] = names[np.argmax(counts, axis=1)][has & (n_top == 1)]
    majority[has & (n_top > 1)] = "tie"
    return AnionEnvironment(anion_types, float(radius), shares, n_s.astype(np.int64),
                            nearest.astype(str), majority.astype(str))


def softness_share_correlations(softness, env: AnionEnvironment, bins: int | np.ndarray = 10,
                                min_count: int = 5, confidence: float = 0.95) -> dict:
    """Pearson correlation (Fisher-z CI) of softness with the share of neighbouring S in each anion
    type, per Li and binned as in the paper (bins of share 0..1, mean softness per bin; bins with
    fewer than ``min_count`` Li are excluded from the binned r and reported). Li without S within
    the radius have no share and are excluded (counted in ``n_no_sulfur``)."""
    s = np.asarray(softness, float)
    if s.shape != (len(env.shares),):
        raise ValueError(f"softness has shape {s.shape}, environment has {len(env.shares)} centres")
    if min_count < 1:
        raise ValueError("min_count must be >= 1")
    has = env.n_sulfur > 0
    out = {"n_no_sulfur": int(np.sum(~has)), "radius": env.radius}
    edges = np.linspace(0.0, 1.0, int(bins) + 1) if np.ndim(bins) == 0 else np.asarray(bins, float)
    for k, name in enumerate(env.anion_types):
        share = env.shares[has, k]
        b = binned_mean(share, s[has], edges)
        ok = b.count >= min_count
        entry = {"bins": b.to_dict(), "bins_used": int(ok.sum())}
        entry["per_li"] = pearson_ci(share, s[has], confidence) if np.ptp(share) > 0 else None
        entry["binned"] = pearson_ci(b.centres[ok], b.mean[ok], confidence) if ok.sum() >= 4 else None
        out[name] = entry
    return out


def softness_by_anion(softness, env: AnionEnvironment, by: str = "majority") -> dict[str, np.ndarray]:
    """Softness of the Li assigned to each anion type: ``by="majority"`` (type of most S within
    the radius; ties unassigned), ``"nearest"`` (type of the nearest S), or ``"any"`` (every Li
    with at least one S of that type within the radius, so a Li can count for several types)."""
    s = np.asarray(softness, float)
    if s.shape != (len(env.shares),):
        raise ValueError("softness and environment disagree in length")
    if by == "majority":
        return {a: s[env.majority == a] for a in env.anion_types}
    if by == "nearest":
        return {a: s[env.nearest == a] for a in env.anion_types}
    if by == "any":
        return {a: s[np.nan_to_num(env.shares[:, k]) > 0] for k, a in enumerate(env.anion_types)}
    raise ValueError(f"by must be 'majority', 'nearest' or 'any', got {by!r}")


def property_vs_softness(softness, values, bins: int | np.ndarray = 10,
                         softness_range: tuple[float, float] | None = None) -> BinnedMean:
    """Binned mean of a per-Li property supplied by the caller (e.g. potential energy in
    kcal/mol, Voronoi volume in A^3) against softness, with std and standard error per bin."""
    return binned_mean(softness, values, bins, softness_range)
