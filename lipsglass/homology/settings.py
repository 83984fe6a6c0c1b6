"""Settings of the homology analysis: the ``homology`` config section as a frozen dataclass.

The defaults here are the defaults of the config schema (``lipsglass/data/config.schema.yaml``)
and the values of ``config/config.yaml``; tests/test_homology_settings.py keeps them equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Mapping

from lipsglass.homology.complex import DEFAULT_MARGIN, SHANNON_RADII
from lipsglass.homology.results import RING_DEFINITIONS, RING_LENGTHS
from lipsglass.homology.rings import DEFAULT_MAX_RING_SIZE
from lipsglass.homology.volumes import DEFAULT_VOLUME_CUTOFF


@dataclass(frozen=True)
class HomologySettings:
    """Every knob of the homology stage (config ``homology``; units in the names, see
    config/config.yaml for the meaning of each).

    Complex: ``elements`` (atoms of the alpha complex), ``margin_A`` (periodic padding, checked),
    ``weighted`` (weights ``radii``^2, radii in A per element). Rings: H1 pairs with persistence
    above ``min_persistence_A2`` (A^2), searched up to ``max_ring_size`` atoms, under both ring
    definitions; ``ring_definition`` is the one that decides the verdicts, ``volume_epsilon_A2``
    the stable-volume noise band (A^2), ``volume_cutoff_A`` the first search radius of a volume.
    C11 inputs: ``large_ring_size`` (atoms), ``ring_length`` (primary ring length),
    ``fsdp_weighting`` (S(q) whose FSDP is linked), ``random_subsets`` and
    ``enrichment_thresholds_A2``. C12 inputs: ``li_ring_cutoff_A`` and ``shifts``. ``seed``:
    random subsets (C11) and softness-field translations (C12).
    """

    elements: tuple[str, ...] = ("P", "S")
    margin_A: float = DEFAULT_MARGIN
    weighted: bool = False
    radii: Mapping[str, float] = field(default_factory=lambda: dict(SHANNON_RADII))
    min_persistence_A2: float = 1.0
    max_ring_size: int = DEFAULT_MAX_RING_SIZE
    ring_definition: str = "shortest_cycle"
    volume_epsilon_A2: float = 0.5
    volume_cutoff_A: float = DEFAULT_VOLUME_CUTOFF
    large_ring_size: int = 8
    ring_length: str = "death"
    fsdp_weighting: str = "neutron"
    li_ring_cutoff_A: float = 3.5
    seed: int = 2023
    random_subsets: int = 999
    enrichment_thresholds_A2: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 3.0)
    shifts: int = 999

    def __post_init__(self):
        object.__setattr__(self, "elements", tuple(self.elements))
        object.__setattr__(self, "radii", dict(self.radii))
        object.__setattr__(self, "enrichment_thresholds_A2", tuple(self.enrichment_thresholds_A2))
        if self.ring_definition not in RING_DEFINITIONS:
            raise ValueError(f"homology.ring_definition must be one of {list(RING_DEFINITIONS)}, "
                             f"got {self.ring_definition!r}")
        if self.ring_length not in RING_LENGTHS:
            raise ValueError(f"homology.ring_length must be one of {list(RING_LENGTHS)}, got {self.ring_length!r}")

    @classmethod
    def from_config(cls, section: Mapping) -> "HomologySettings":
        """From the ``homology`` config section, or the part of it a rule passes: missing keys
        take the defaults above, unknown keys raise ValueError (they would otherwise be ignored)."""
        known = {f.name for f in fields(cls)}
        unknown = set(section) - known
        if unknown:
            raise ValueError(f"unknown homology settings {sorted(unknown)}; known: {sorted(known)}")
        return cls(**dict(section))

    @classmethod
    def coerce(cls, settings: "HomologySettings | Mapping") -> "HomologySettings":
        """``settings`` itself, or parsed from a config mapping (the job boundary)."""
        return settings if isinstance(settings, cls) else cls.from_config(settings)

    @property
    def weight_radii(self) -> dict[str, float] | None:
        """Radii (A) of the weighted complex (weights = radii^2), None when not ``weighted``."""
        return {str(k): float(v) for k, v in self.radii.items()} if self.weighted else None
