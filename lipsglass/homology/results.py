"""The results of the persistent homology of a glass and what is read off them: persistence
diagrams (:class:`PersistenceDiagram`), ring representatives of the H1 pairs (:class:`Rings`) under
either ring definition (``RING_DEFINITIONS``), the homology of one structure
(:class:`HomologyResult`), ring lengths and ring selections.

Filtration values are alpha^2 (A^2, squared radii), see :mod:`lipsglass.homology`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# shortest_cycle: shortest contractible cycle through the birth edge (lipsglass.homology.rings);
# optimal_volume: boundary of the optimal / stable volume of the pair (lipsglass.homology.volumes)
RING_DEFINITIONS = ("shortest_cycle", "optimal_volume")
# real-space lengths of a ring (:func:`ring_length`)
RING_LENGTHS = ("death", "diameter")


@dataclass
class PersistenceDiagram:
    """Finite persistence pairs and essential classes of an alpha filtration.

    ``birth``/``death`` are alpha^2 values (A^2, squared radii); ``dimension`` the homology
    dimension of each finite pair; ``birth_simplex``/``death_simplex`` the generating simplices
    as tuples of point indices (indices into the positions given). Essential (never dying)
    classes are in ``essential_dimension``/``essential_birth`` (A^2).
    ``n_zero_persistence`` counts pairs with death - birth <= ``min_persistence`` (A^2) that were
    not kept as features; ``n_hidden`` counts points absent from the (weighted) complex.
    """

    dimension: np.ndarray
    birth: np.ndarray
    death: np.ndarray
    birth_simplex: list[tuple[int, ...]]
    death_simplex: list[tuple[int, ...]]
    essential_dimension: np.ndarray
    essential_birth: np.ndarray
    n_points: int
    periodic: bool
    weighted: bool
    min_persistence: float
    n_zero_persistence: int
    n_hidden: int

    @classmethod
    def from_intervals(cls, intervals: np.ndarray, dim: int) -> "PersistenceDiagram":
        """A diagram of the finite pairs (n, 2) of one dimension ``dim`` only (alpha^2, A^2), e.g.
        read back from a ``pd_h*.csv``: no simplices, no essential classes."""
        n = len(intervals)
        return cls(dimension=np.full(n, dim), birth=intervals[:, 0], death=intervals[:, 1],
                   birth_simplex=[], death_simplex=[], essential_dimension=np.zeros(0, int),
                   essential_birth=np.zeros(0), n_points=0, periodic=True, weighted=False,
                   min_persistence=0.0, n_zero_persistence=0, n_hidden=0)

    def intervals(self, dim: int) -> np.ndarray:
        """(n, 2) array of finite (birth, death) alpha^2 values (A^2) in dimension ``dim``."""
        m = self.dimension == dim
        return np.column_stack([self.birth[m], self.death[m]])

    def betti_essential(self) -> dict[int, int]:
        """Number of essential classes per dimension (torus: {0: 1, 1: 3, 2: 3})."""
        dims, counts = np.unique(self.essential_dimension, return_counts=True)
        return {int(d): int(c) for d, c in zip(dims, counts)}


@dataclass
class Rings:
    """Representative cycles of the finite H1 pairs, in the order of ``diagram.intervals(1)``.

    ``size``: atoms per ring (-1: none within ``max_ring_size`` atoms); ``atoms``: point indices
    around the ring (empty if size -1); ``coordinates``: unwrapped ring coordinates (A);
    ``diameter``: largest distance between two ring atoms (A, NaN if size -1); ``birth``,
    ``death``: alpha^2 (A^2).
    """

    birth: np.ndarray
    death: np.ndarray
    size: np.ndarray
    diameter: np.ndarray
    atoms: list[np.ndarray]
    coordinates: list[np.ndarray]
    max_ring_size: int
    n_cells: np.ndarray | None = None  # optimal-volume rings: triangles in each volume (0: none)

    @property
    def persistence(self) -> np.ndarray:
        return self.death - self.birth

    def size_distribution(self) -> tuple[np.ndarray, np.ndarray]:
        """(ring sizes, number of rings of each size), sizes ascending; -1 = not resolved."""
        sizes, counts = np.unique(self.size, return_counts=True)
        return sizes, counts


@dataclass
class HomologyResult:
    """Diagram and rings of one structure. ``atom_indices[k]`` is the index, in the structure
    given to :func:`lipsglass.homology.persistence.structure_homology`, of point k of the diagram
    and rings; rings' ``atoms`` are already expressed as structure indices."""

    diagram: PersistenceDiagram
    rings: Rings | None
    atom_indices: np.ndarray
    elements: tuple[str, ...]
    margin: float
    timings: dict[str, float] = field(default_factory=dict)
    volume_rings: Rings | None = None


def ring_length(rings: Rings, length: str = "diameter") -> np.ndarray:
    """Real-space length (A) of each ring: ``"diameter"`` = largest distance between two of its
    atoms; ``"death"`` = 2 sqrt(death alpha^2), the diameter of the balls that fill the loop."""
    if length == "diameter":
        return rings.diameter.copy()
    if length == "death":
        return 2.0 * np.sqrt(np.maximum(rings.death, 0.0))
    raise ValueError(f"length must be 'diameter' or 'death', not {length!r}")


def subset_rings(rings: Rings, mask: np.ndarray) -> Rings:
    """The rings selected by a boolean mask."""
    mask = np.asarray(mask, bool)
    if mask.shape != rings.birth.shape:
        raise ValueError("mask must have one entry per ring")
    picked = np.flatnonzero(mask)
    return Rings(birth=rings.birth[mask], death=rings.death[mask], size=rings.size[mask],
                 diameter=rings.diameter[mask], atoms=[rings.atoms[k] for k in picked],
                 coordinates=[rings.coordinates[k] for k in picked], max_ring_size=rings.max_ring_size,
                 n_cells=None if rings.n_cells is None else rings.n_cells[mask])


def persistent_rings(rings: Rings, min_persistence: float) -> Rings:
    """Rings whose persistence death - birth (A^2) exceeds ``min_persistence``."""
    if not min_persistence >= 0:
        raise ValueError(f"min_persistence must be >= 0 (A^2), got {min_persistence}")
    return subset_rings(rings, rings.persistence > min_persistence)


def size_distribution(rings: Rings) -> dict:
    """Number of rings, resolved ring sizes {size (atoms): count}, the unresolved count (longer
    than max_ring_size) and the count of pairs not searched (size 0: below the ring threshold)."""
    sizes, counts = np.unique(rings.size[rings.size > 0], return_counts=True)
    return {"n_rings": int(len(rings.size)), "n_unresolved": int(np.sum(rings.size < 0)),
            "n_not_searched": int(np.sum(rings.size == 0)),
            "sizes": {int(s): int(c) for s, c in zip(sizes, counts)}}
