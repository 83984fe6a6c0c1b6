"""Radial structure functions (RSF) of a centre atom (Cubuk, Schoenholz et al. PRL 114, 108001
(2015)): Gaussian-weighted counts of the neighbours of each channel (element, or S split by anion
type) on a grid of distances; the features of the softness classifier.

Units: lengths in Angstrom; RSF values are dimensionless Gaussian-weighted neighbour counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import sparse

from lipsglass.lammpsio import Box
from lipsglass.neighbours import neighbour_pairs

# Gaussian centres 1.0..6.0 A in 0.1 A steps and width L = 0.1 A: the grid spacing equals the
# width (as in Cubuk et al.), fine enough to resolve the Li-S contact at 2.45 A and the first
# (broad) Li-S minimum at 3.3-3.7 A, and 6 A covers the second Li-S shell.
DEFAULT_MU = np.round(np.arange(1.0, 6.0 + 1e-9, 0.1), 10)  # A
DEFAULT_WIDTH = 0.1  # A
# Pairs are summed out to mu_max + DEFAULT_TRUNCATION * L. At 3 L a Gaussian still weighs
# exp(-4.5) = 1.1%; at 5 L, exp(-12.5) = 4e-6, negligible.
DEFAULT_TRUNCATION = 5.0
DEFAULT_CHANNELS = ("Li", "P", "S")


@dataclass(frozen=True)
class RSFSettings:
    """How the RSFs are computed (``radial_structure_functions``): ``channels`` (labels X, in
    output order), Gaussian centres ``mu`` (A), width ``width`` (L, A) and ``truncation`` (pairs
    summed out to max(mu) + truncation * L)."""

    channels: tuple = DEFAULT_CHANNELS
    mu: tuple = tuple(DEFAULT_MU)
    width: float = DEFAULT_WIDTH
    truncation: float = DEFAULT_TRUNCATION

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(str(c) for c in self.channels))
        object.__setattr__(self, "mu", tuple(float(m) for m in np.asarray(self.mu, float)))


def channel_labels(elements: np.ndarray, groups: np.ndarray | None = None, split: str = "S") -> np.ndarray:
    """Per-atom RSF channel labels: the element, or for atoms of element ``split`` (documented
    extension: S split by anion type) ``f"{split}:{group}"`` with ``groups`` the per-atom group
    names (e.g. the anion each S belongs to; entries of other atoms are ignored)."""
    elements = np.asarray(elements).astype(str)
    if groups is None:
        return elements
    groups = np.asarray(groups).astype(str)
    if groups.shape != elements.shape:
        raise ValueError(f"groups has shape {groups.shape}, elements {elements.shape}")
    target = elements == split
    if np.any(groups[target] == ""):
        raise ValueError(f"{int(np.sum(groups[target] == ''))} {split} atoms have an empty group name")
    out = elements.astype(object)
    out[target] = np.char.add(f"{split}:", groups[target])
    return out.astype(str)


def rsf_feature_names(channels: Sequence[str], mu: np.ndarray = DEFAULT_MU) -> list[str]:
    """Feature names in the column order of ``radial_structure_functions``: ``G_<channel>(<mu>)``."""
    return [f"G_{c}({m:.3f})" for c in channels for m in np.asarray(mu, float)]


def radial_structure_functions(box: Box, positions: np.ndarray, labels: np.ndarray, centres: np.ndarray,
                               channels: Sequence[str] = DEFAULT_CHANNELS, mu: np.ndarray = DEFAULT_MU,
                               width: float = DEFAULT_WIDTH, truncation: float = DEFAULT_TRUNCATION,
                               chunk: int = 200_000) -> np.ndarray:
    """Radial structure functions G_X(i; mu) = sum_{j in X} exp(-(r_ij - mu)^2 / (2 L^2)).

    box, positions: periodic cell and (N, 3) positions (A); labels: per-atom channel label
    (element, or see ``channel_labels``); centres: indices of the atoms i; channels: the labels X,
    in output order; mu: Gaussian centres (A); width: L (A). Pairs are found once with the
    project's KD-tree search out to max(mu) + truncation * L. Every label must be one of
    ``channels`` (so no atom is left out unnoticed).
    Returns (n_centres, n_channels * n_mu), channel-major (names: ``rsf_feature_names``).
    """
    pos = np.asarray(positions, float)
    labels = np.asarray(labels).astype(str)
    centres = np.asarray(centres, dtype=np.int64)
    mu = np.asarray(mu, float)
    channels = list(channels)
    if pos.ndim != 2 or pos.shape[1] != 3 or labels.shape != (len(pos),):
        raise ValueError("positions must be (N, 3) and labels (N,)")
    if mu.ndim != 1 or len(mu) == 0 or not width > 0 or not truncation > 0:
        raise ValueError("mu must be a non-empty 1D grid; width and truncation positive")
    if len(set(channels)) != len(channels):
        raise ValueError(f"duplicate channels: {channels}")
    unknown = sorted(set(labels) - set(channels))
    if unknown:
        raise ValueError(f"atoms with labels {unknown} belong to no channel {channels}")
    if len(centres) and (centres.min() < 0 or centres.max() >= len(pos)):
        raise ValueError("centre index out of range")
    channel_index = {c: k for k, c in enumerate(channels)}
    atom_channel = np.array([channel_index[lab] for lab in labels], dtype=np.int64) if len(labels) else np.zeros(0, np.int64)
    cutoff = float(mu.max() + truncation * width)
    i, j, vec = neighbour_pairs(box, pos[centres], cutoff, other=pos)
    dist = np.linalg.norm(vec, axis=1)
    keep = ~((centres[i] == j) & (dist < 1e-10))  # the centre itself (its periodic images stay)
    i, j, dist = i[keep], j[keep], dist[keep]
    n_ch, n_mu = len(channels), len(mu)
    rows = i * n_ch + atom_channel[j]
    out = np.zeros((len(centres) * n_ch, n_mu))
    inv2l2 = 1.0 / (2.0 * width * width)
    for start in range(0, len(dist), chunk):
        sl = slice(start, start + chunk)
        weights = np.exp(-((dist[sl, None] - mu[None, :]) ** 2) * inv2l2)
        # sparse row-sum: accumulates each pair's Gaussians onto its (centre, channel) row
        assign = sparse.csr_matrix((np.ones(len(weights)), (rows[sl], np.arange(len(weights)))),
                                   shape=(len(out), len(weights)))
        out += assign @ weights
    return out.reshape(len(centres), n_ch * n_mu)


def rsf_settings(channels=DEFAULT_CHANNELS, mu=DEFAULT_MU, width=DEFAULT_WIDTH, truncation=DEFAULT_TRUNCATION,
                 centre_species: str = "Li", split: str | None = None) -> dict:
    """The RSF settings a ``SoftnessModel`` stores to recompute its features (JSON-ready)."""
    return {"centre_species": centre_species, "channels": list(channels),
            "mu": np.asarray(mu, float).tolist(), "width": float(width), "truncation": float(truncation),
            "split": split}


def feature_channel(name: str) -> str:
    """Element channel of an RSF feature name ``G_<channel>(<mu>)``; split channels ``S:<unit>``
    belong to their element (S)."""
    if not (name.startswith("G_") and "(" in name):
        raise ValueError(f"not an RSF feature name: {name!r}")
    return name[2:name.index("(")].split(":")[0]


def count_within(box: Box, positions: np.ndarray, centres: np.ndarray, targets: np.ndarray,
                 cutoff: float) -> np.ndarray:
    """Number of atoms ``targets`` closer than ``cutoff`` (A) to each centre (the centre itself
    excluded), periodic boundaries."""
    pos = np.asarray(positions, float)
    centres, targets = np.asarray(centres, np.int64), np.asarray(targets, np.int64)
    if len(targets) == 0:
        return np.zeros(len(centres), np.int64)
    i, j, vec = neighbour_pairs(box, pos[centres], cutoff, other=pos[targets])
    keep = ~((centres[i] == targets[j]) & (np.linalg.norm(vec, axis=1) < 1e-10))
    return np.bincount(i[keep], minlength=len(centres)).astype(np.int64)
