"""Integration settings shared by every MD run (config section ``md``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MDSettings:
    """Integration settings shared by every run (from config ``md``)."""

    timestep_fs: float = 1.0
    kspace_style: str = "pppm"
    kspace_accuracy: float = 1e-5
    thermostat_damping_fs: float = 100.0
    barostat_damping_fs: float = 1000.0
    pressure_atm: float = 1.0
    thermo_interval_fs: float = 100.0
    segment_ps: float | None = None   # runs longer than this are split into restartable segments
    run_style: str = "verlet"         # LAMMPS run_style arguments, e.g. r-RESPA "respa 2 2 bond 1 pair 2 kspace 2"
                                      # (timestep_fs is then the outer step); verlet emits nothing
    kspace_modify: str | None = None  # LAMMPS kspace_modify arguments (e.g. "diff ad"); None emits nothing

    @classmethod
    def from_config(cls, md: dict) -> "MDSettings":
        return cls(**{k: md[k] for k in cls.__dataclass_fields__ if k in md})

    def steps(self, duration_ps: float) -> int:
        """Number of MD steps in ``duration_ps`` (rounded to the nearest step)."""
        return int(round(duration_ps * 1000.0 / self.timestep_fs))

    @property
    def thermo_every(self) -> int:
        return max(1, int(round(self.thermo_interval_fs / self.timestep_fs)))

    @property
    def segment_steps(self) -> int | None:
        """Steps of one restartable segment (None: runs are not segmented)."""
        return self.steps(self.segment_ps) if self.segment_ps else None
