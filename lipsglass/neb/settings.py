"""Every knob of a NEB hop calculation (``NEBSettings``), its reading from the ``neb`` config
section and the MPI size of the largest band it can need.

Units: lengths A, energies eV, forces eV/A (converted to LAMMPS real units, kcal/mol, by
``to_kcal_mol`` where the LAMMPS input is written).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Mapping

from lipsglass.units import EV_TO_KCAL_MOL


@dataclass(frozen=True)
class NEBSettings:
    """Every knob of a hop calculation (units in the names; eV-based, converted for LAMMPS).

    Band size: ``replicas`` images incl. both ends when set; otherwise (None, the default) by
    the relaxed hop length L: max(min_replicas, ceil(L * replicas_per_A) + 1), about one image
    per A. One MPI partition per image with ``ranks_per_replica`` ranks each
    (``-partition RxP``).
    spring_constant_eV_A2: ``fix neb`` parallel spring (``parallel neigh``).
    perp_spring_constant_eV_A2: ``fix neb ... perp`` spring against kinks; 0 (default) switches
    it off: LAMMPS applies it to the climbing image too, where it can hold a kinked band at a
    point that is not a saddle.
    etol: NEB energy tolerance (relative change per step; 0 disables it so only ftol counts).
    ftol_eV_A: NEB force tolerance, largest per-atom force incl. nudging (``min_modify norm max``).
    n_steps_neb, n_steps_climb: step limits of the regular and the climbing-image stage
    (multiples of print_every). timestep_fs: timestep of the damped dynamics.
    minimise_ftol_eV_A / minimise_max_iterations: end-state minimisation (cg then FIRE).
    kspace_style / kspace_accuracy: as in the MD (None = force-field default).
    relax_tolerance_A: end-state acceptance tolerance (see ``lipsglass.neb.endstates``).
    min_distance_A / max_distance_A: window of the relaxed hop length (A).
    max_other_displacement_A: largest displacement of any other atom between the minimised end
    states; above it, or when any other atom changes its site (nearest inherent-structure site
    of its species), the hop is a concerted move and is rejected ("concerted_move"). Li beside
    a vacancy relax towards it by up to ~2 A without leaving their sites.
    idpp_cutoff_A: pair cutoff of the IDPP starting path (A); 0 = linear interpolation.
    refine_tolerance_eV: a band is converged only when a refined band (2R - 1 images, started
    from the converged one with midpoints inserted) reproduces both barriers within this.
    retries: further attempts of a hop whose LAMMPS run failed, each with half the timestep.
    timeout_s: wall-time limit of one NEB run (None: none).
    band_min_style: damped dynamics of the bands (``min_style`` of ``neb``): quickmin (default)
    or fire. With fire, climbing images of glass hops whose regular band had converged ran away
    (10-29 eV, also with ``min_modify tmax 2``); quickmin converged the same climbing band.
    climb_retries: a climbing stage that reached ``n_steps_climb`` without converging is run
    again this often from where it stopped, retry k with ``n_steps_climb`` * 2^k steps
    (quickmin from rest; the largest atom force of a stuck glass band swung between 0.04 and
    0.5 eV/A for 500 steps at 1 fs).
    max_split_depth: levels of splitting a band at its basins (``split_band``): 0 = never; 1 =
    the hop's band only; 2 = segments with basins of their own are split too (on the default
    glass, 2 of 3 unconverged hops had a depth-1 segment that passed a basin and whose refined
    band found it 0.08-0.14 eV deeper).
    segment_min_replicas: images of an elementary hop (segment), at least (one per A of its
    largest atom displacement otherwise; its refinement then has 2R - 1 >= 9).
    basin_separation_A: a minimised basin image is an intermediate state when it lies farther
    than this (largest atom displacement, A) from both states it separates.
    climb_runaway_eV: a climbing image this far above the highest image of its relaxed regular
    band left the valley of the path ("climb_runaway"; a saddle lies ~0.1-0.3 eV above the
    nearest image of a one-per-A band).
    """

    replicas: int | None = None
    replicas_per_A: float = 1.0
    min_replicas: int = 9
    ranks_per_replica: int = 1
    spring_constant_eV_A2: float = 0.1
    perp_spring_constant_eV_A2: float = 0.0
    etol: float = 0.0
    ftol_eV_A: float = 0.05
    n_steps_neb: int = 1000
    n_steps_climb: int = 1000
    print_every: int = 50
    timestep_fs: float = 1.0
    minimise_ftol_eV_A: float = 0.005
    minimise_max_iterations: int = 5000
    kspace_style: str | None = None
    kspace_accuracy: float | None = None
    relax_tolerance_A: float = 1.0
    min_distance_A: float = 0.0
    max_distance_A: float = float("inf")
    max_other_displacement_A: float = 2.0
    idpp_cutoff_A: float = 6.0
    refine_tolerance_eV: float = 0.05
    retries: int = 1
    timeout_s: float | None = None
    band_min_style: str = "quickmin"
    climb_retries: int = 1
    max_split_depth: int = 2
    segment_min_replicas: int = 5
    basin_separation_A: float = 0.3
    climb_runaway_eV: float = 1.0

    def __post_init__(self):
        if self.band_min_style not in ("quickmin", "fire"):
            raise ValueError(f"NEB setting band_min_style must be quickmin or fire, got {self.band_min_style!r}")
        if self.replicas is not None and int(self.replicas) < 3:
            raise ValueError(f"NEB setting replicas must be >= 3 (one free image at least), got {self.replicas}")
        if int(self.min_replicas) < 3:
            raise ValueError(f"NEB setting min_replicas must be >= 3, got {self.min_replicas}")
        if int(self.ranks_per_replica) < 1:
            raise ValueError(f"NEB setting ranks_per_replica must be >= 1, got {self.ranks_per_replica}")
        for name in ("spring_constant_eV_A2", "ftol_eV_A", "timestep_fs", "minimise_ftol_eV_A", "relax_tolerance_A",
                     "replicas_per_A", "max_other_displacement_A", "refine_tolerance_eV", "basin_separation_A",
                     "climb_runaway_eV"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"NEB setting {name} must be positive, got {getattr(self, name)}")
        for name in ("perp_spring_constant_eV_A2", "etol", "idpp_cutoff_A", "retries", "min_distance_A",
                     "climb_retries", "max_split_depth"):
            if float(getattr(self, name)) < 0:
                raise ValueError(f"NEB setting {name} must be >= 0, got {getattr(self, name)}")
        if int(self.segment_min_replicas) < 3:
            raise ValueError(f"NEB setting segment_min_replicas must be >= 3, got {self.segment_min_replicas}")
        if not float(self.min_distance_A) < float(self.max_distance_A):
            raise ValueError(f"NEB settings need min_distance_A < max_distance_A, got {self.min_distance_A}, "
                             f"{self.max_distance_A}")
        for name in ("n_steps_neb", "n_steps_climb"):
            n = int(getattr(self, name))
            if n < 0 or n % int(self.print_every):
                raise ValueError(f"NEB setting {name} ({n}) must be a non-negative multiple of print_every "
                                 f"({self.print_every}), as the LAMMPS neb command requires")

    @classmethod
    def from_config(cls, cfg: Mapping, md: Mapping | None = None) -> "NEBSettings":
        """From the ``neb`` config section; kspace falls back to the ``md`` section. Unknown keys
        raise ValueError (they would otherwise be silently ignored)."""
        known = set(cls.__dataclass_fields__)
        unknown = set(cfg) - known
        if unknown:
            raise ValueError(f"unknown NEB settings {sorted(unknown)}; known: {sorted(known)}")
        values = dict(cfg)
        if md is not None:
            values.setdefault("kspace_style", md.get("kspace_style"))
            values.setdefault("kspace_accuracy", md.get("kspace_accuracy"))
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)

    def replicas_for(self, hop_length_A: float) -> int:
        """Images of the band of a hop of relaxed length ``hop_length_A`` (A), both ends included."""
        if self.replicas is not None:
            return int(self.replicas)
        return max(int(self.min_replicas), int(math.ceil(float(hop_length_A) * float(self.replicas_per_A))) + 1)


def to_kcal_mol(x_eV: float) -> float:
    """An energy (or force, per A) in eV as kcal/mol, the LAMMPS real unit of the inputs."""
    return float(x_eV) * EV_TO_KCAL_MOL


def neb_settings(settings: Mapping, md: Mapping) -> NEBSettings:
    """The NEB knobs of the ``neb`` config section (the keys that are ``NEBSettings`` fields;
    the section's other keys drive selection, statistics and traces), kspace from ``md``."""
    known = set(NEBSettings.__dataclass_fields__)
    return NEBSettings.from_config({k: v for k, v in settings.items() if k in known}, md)


def max_band_ranks(settings: NEBSettings) -> int:
    """MPI ranks of the largest band a hop can need: the refined band (2R - 1 images) of the
    longest hop the window admits (max_distance_A; min_replicas when it is unbounded), times
    ranks_per_replica."""
    length = settings.max_distance_A if math.isfinite(settings.max_distance_A) else 0.0
    return (2 * settings.replicas_for(length) - 1) * int(settings.ranks_per_replica)
