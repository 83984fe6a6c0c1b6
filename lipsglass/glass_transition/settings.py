"""The settings of the glass-transition analysis (config section ``glass_transition``, plus the
barostat pressure of the quench), parsed once.

The defaults below are those of the config schema (``lipsglass/data/config.schema.yaml``; the
barostat pressure: ``md.pressure_atm``) and of the shipped config/config.yaml;
tests/test_glass_transition.py keeps them in step. ``stage`` and ``quantities`` are not config
keys: the workflow fits the 'cool' rows, V and H.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

__all__ = ["GlassTransitionSettings"]


@dataclass(frozen=True)
class GlassTransitionSettings:
    """Every knob of the Tg fit and of the glass/liquid label; units in the names (K, atm, %, cm^2/s).
    Values are kept as given (they are echoed into tg.json and phase.json).

    Tg from the quench ramp: stage (thermo.csv stage of the cooling ramp), quantities ('volume':
    V in A^3, 'enthalpy': H = E + P V in kcal/mol, 'specific_volume'), T_range_K ([low, high] K
    of the rows fitted; None: the whole ramp), bin_K (average rows in T bins this wide first;
    None: every row), temperature_axis ('ramp': the line T(t) through the rows, or 'measured'),
    enthalpy_pressure ('imposed': pressure_atm, or 'instantaneous'), pressure_atm (barostat),
    min_points_per_side, tg_k_sigma (slope change of a resolved Tg, in SE of the difference),
    confidence (level of the Tg interval).
    Glass/liquid label of a production run: anion_species (anion centres whose MSD is tested),
    max_density_drop_percent, anion_msd_start_frac / anion_msd_end_frac (late MSD window,
    fractions of the longest lag), max_anion_D_cm2_s and anion_k_sigma (a diffusing anion
    centre), tg_quantity (whose Tg enters T/Tg; the other if unresolved).
    """

    stage: str = "cool"
    quantities: tuple = ("volume", "enthalpy")
    T_range_K: Sequence[float] | None = None
    bin_K: float | None = None
    temperature_axis: str = "ramp"
    enthalpy_pressure: str = "imposed"
    pressure_atm: float = 1.0
    min_points_per_side: int = 5
    tg_k_sigma: float = 4.0
    confidence: float = 0.95
    anion_species: str = "P"
    max_density_drop_percent: float = 2.0
    anion_msd_start_frac: float = 0.25
    anion_msd_end_frac: float = 0.6
    max_anion_D_cm2_s: float = 1e-6
    anion_k_sigma: float = 3.0
    tg_quantity: str = "volume"

    def __post_init__(self):
        object.__setattr__(self, "quantities", tuple(self.quantities))

    @classmethod
    def from_config(cls, section: Mapping | None) -> "GlassTransitionSettings":
        """From a ``glass_transition`` section (with ``pressure_atm``; None: the defaults). Missing
        keys take their default; unknown keys raise ValueError (they would otherwise be ignored)."""
        values = dict(section or {})
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown glass_transition settings {sorted(unknown)}")
        return cls(**values)

    @classmethod
    def of(cls, settings: "GlassTransitionSettings | Mapping | None") -> "GlassTransitionSettings":
        """``settings`` itself, or parsed from a config section (``from_config``)."""
        return settings if isinstance(settings, cls) else cls.from_config(settings)

    def to_dict(self) -> dict:
        """Every setting, as recorded in tg.json and phase.json (sequences as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
