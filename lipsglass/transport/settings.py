"""The settings of the transport analysis (config section ``transport``), parsed once.

One analysis, one answer: the workflow (``lipsglass.stages.transport``) and the ``diffusion``
command (``lipsglass.cli``) both turn a ``transport`` section into a ``TransportSettings`` and
take the estimator's knobs from its ``diffusion_fit()`` and ``conductivity()``, so the same
trajectory and settings give the same D, SE and diffusive flag.

The defaults below are those of the config schema (``lipsglass/data/config.schema.yaml``) and of
the shipped config/config.yaml; tests/test_transport_stage.py keeps the three in step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Mapping

from lipsglass.transport.conductivity import ConductivitySettings
from lipsglass.transport.diffusion import DiffusionFit

__all__ = ["TransportSettings", "analysis_options"]


@dataclass(frozen=True)
class TransportSettings:
    """Every knob of the transport analysis; units in the names (K, e). Values are kept as given
    (they are echoed into the outputs); ``diffusion_fit`` and ``conductivity`` convert them.

    species / species_charge_e: the diffusing species (element) and its charge (e) in the
    Nernst-Einstein and the collective conductivity. n_blocks, n_bootstrap, seed: time blocks of
    the SE of D, atom-bootstrap resamples and their seed. fit_start_frac, fit_end_frac,
    fit_min_span_frac, fit_slope_tol: the MSD fit window, fractions of one block's duration.
    linearity_z, cage_multiple: the diffusive check. n_collective_simulations: Brownian paths of
    the collective conductivity's SE. arrhenius_min_T_K, arrhenius_exclude_T_K,
    arrhenius_phases, arrhenius_absolute_sigma: which runs enter the Arrhenius fit and how it
    weighs them; extrapolation_T_K: where D and sigma are extrapolated to; haven_ratio: the
    assumed H of Nernst-Einstein.
    """

    species: str = "Li"
    species_charge_e: float = 1.0
    n_blocks: int = 5
    n_bootstrap: int = 200
    seed: int = 2023
    fit_start_frac: float = 0.5
    fit_end_frac: float = 3.0
    fit_min_span_frac: float = 1.0
    fit_slope_tol: float = 0.1
    linearity_z: float = 2.576
    cage_multiple: float = 1.0
    n_collective_simulations: int = 400
    arrhenius_min_T_K: float = 0.0
    arrhenius_exclude_T_K: tuple = ()
    arrhenius_phases: tuple | None = ("glass",)
    arrhenius_absolute_sigma: bool = True
    extrapolation_T_K: float = 300.0
    haven_ratio: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "arrhenius_exclude_T_K", tuple(self.arrhenius_exclude_T_K))
        if self.arrhenius_phases is not None:
            object.__setattr__(self, "arrhenius_phases", tuple(self.arrhenius_phases))

    @classmethod
    def from_config(cls, section: Mapping | None) -> "TransportSettings":
        """From a ``transport`` config section (None: the defaults). Missing keys take their
        default; keys that are not settings (e.g. retired ones kept for information) are ignored."""
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in dict(section or {}).items() if k in known})

    @classmethod
    def of(cls, settings: "TransportSettings | Mapping | None") -> "TransportSettings":
        """``settings`` itself, or parsed from a config section (``from_config``)."""
        return settings if isinstance(settings, cls) else cls.from_config(settings)

    def to_dict(self) -> dict:
        """The settings as a config section (sequences as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def diffusion_fit(self) -> DiffusionFit:
        """The knobs of the tracer-D estimator (automatic window: no fit_start_ps / fit_end_ps)."""
        return DiffusionFit(n_blocks=int(self.n_blocks), n_bootstrap=int(self.n_bootstrap), seed=int(self.seed),
                            start_frac=float(self.fit_start_frac), end_frac=float(self.fit_end_frac),
                            min_span_frac=float(self.fit_min_span_frac), slope_tol=float(self.fit_slope_tol),
                            linearity_z=float(self.linearity_z), cage_multiple=float(self.cage_multiple))

    def conductivity(self) -> ConductivitySettings:
        """The charge, Haven ratio and simulated paths of the conductivities of a run."""
        return ConductivitySettings(species_charge_e=float(self.species_charge_e), haven_ratio=float(self.haven_ratio),
                                    n_collective_simulations=int(self.n_collective_simulations))


def analysis_options(settings: TransportSettings | Mapping | None = None) -> dict:
    """The keyword form of the analysis of one run: species, species_charge_e, haven_ratio, the
    ``DiffusionFit`` fields of the automatic window and n_collective_simulations, as
    ``lipsglass.transport.analysis.analyse_trajectory`` (and, without the first three and the
    last, ``lipsglass.transport.diffusion.diffusion_from_positions``) accept them as keywords.
    ``None``: the shipped defaults."""
    s = TransportSettings.of(settings)
    cond = s.conductivity()
    fit = {k: v for k, v in asdict(s.diffusion_fit()).items() if k not in ("fit_start_ps", "fit_end_ps")}
    return {"species": str(s.species), "species_charge_e": cond.species_charge_e, "haven_ratio": cond.haven_ratio,
            **fit, "n_collective_simulations": cond.n_collective_simulations}
