"""Every knob of the softness stage (config ``softness``) in one frozen ``SoftnessSettings``,
parsed and checked once, and the small settings objects of the science functions derived from it
(``rsf``, ``windows``, ``classifier``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from lipsglass.d2min import DEFAULT_MIN_NEIGHBOURS
from lipsglass.softness.classifier import (DEFAULT_CONFIDENCE, DEFAULT_CS, DEFAULT_MAX_ABS_Z, DEFAULT_OUTER_FOLDS,
                                           RSF_MIN_FEATURE_STD, ClassifierSettings)
from lipsglass.softness.environment import ANION_TYPES
from lipsglass.softness.features import DEFAULT_CHANNELS, DEFAULT_TRUNCATION, DEFAULT_WIDTH, RSFSettings, rsf_settings
from lipsglass.softness.windows import WindowSettings

# S of every unit type gets its own RSF channel when S is split by anion; the channel set is
# fixed (not taken from the glass) so that models of different glasses share feature columns.
S_UNITS = ANION_TYPES + ("S_free",)
# Mobility labels: "d_cum" (the paper's: D_cum quantiles of the glass) or "p_hop" (window
# maximum of the hop indicator, absolute thresholds in A^2); the analysed structure:
# "instantaneous" (the thermal snapshot), "inherent" (its LAMMPS energy minimum) or
# "time_average" (positions averaged over the time_average_frames frames ending at it).
LABEL_RECIPES = ("d_cum", "p_hop")
STRUCTURES = ("instantaneous", "inherent", "time_average")


@dataclass(frozen=True)
class SoftnessSettings:
    """Every knob of the softness stage (config ``softness``), parsed and checked once; units in
    the names (A, K). See config/config.yaml for the meaning of each; the classifier knobs:

    outer_folds: cross-fitting folds (GroupKFold over Li) of the accuracy; cv_folds: inner
    GroupKFold folds choosing C among ``Cs``; min_feature_std: features whose training std is
    below this fraction of the median feature std are dropped; max_abs_standardised_feature:
    standardised features beyond this are refused (and outlier-dominated features dropped);
    accuracy_confidence: level of the accuracy intervals; learning_curve_fractions /
    learning_curve_repeats: training sizes (fractions of the pooled Li outside an outer fold) and
    repeats of the learning curve (``learning_curve``, C3); channel_variants: channel sets (subsets
    of ``channels``) whose cross-fitted accuracies are reported beside the model's
    (``channel_variant_metrics``; model.json ``metrics.channel_variants``).

    Labels and structures: label_temperature_K (default temperature_K): run whose windows are
    labelled; label_recipe: ``d_cum`` (quantiles mobile_quantile / immobile_quantile of D_cum)
    or ``p_hop`` (window maximum of ``p_hop`` with interval p_hop_tau_ps against the absolute
    thresholds p_hop_mobile_A2 / p_hop_immobile_A2); structure: ``instantaneous`` or
    ``inherent`` (energy minimum, inherent_ftol_kcal_mol_A, inherent_max_iterations); voronoi:
    ``plain`` or ``radical`` (voronoi_radii_A per element); d2min_cutoff_sensitivity_A: a
    second D2min cutoff for C3's sensitivity run (None: none).
    """

    temperature_K: float = 300.0
    label_temperature_K: float | None = None  # run whose windows are labelled (default temperature_K)
    label_recipe: str = "d_cum"               # d_cum (the paper's) or p_hop
    p_hop_tau_ps: float = 1.0
    p_hop_mobile_A2: float = 2.0
    p_hop_immobile_A2: float = 0.5
    structure: str = "instantaneous"          # instantaneous, inherent (energy-minimised) or time_average
    time_average_frames: int = 5
    inherent_ftol_kcal_mol_A: float = 0.5
    inherent_max_iterations: int = 2000
    voronoi: str = "plain"                    # plain or radical
    voronoi_radii_A: Mapping | None = None
    d2min_cutoff_A: float | str = 3.6
    d2min_cutoff_sensitivity_A: float | None = None
    d2min_normalise: str = "per-neighbour"
    min_neighbours: int = DEFAULT_MIN_NEIGHBOURS
    window_frames: int = 10
    window_stride_frames: int = 10
    mobile_quantile: float = 0.9
    immobile_quantile: float = 0.1
    hop_distance_A: float = 2.0
    channels: tuple = DEFAULT_CHANNELS
    split_S_by_anion: bool = False
    rsf_mu_min_A: float = 1.0
    rsf_mu_max_A: float = 6.0
    rsf_mu_step_A: float = 0.1
    rsf_width_A: float = DEFAULT_WIDTH
    rsf_truncation_widths: float = DEFAULT_TRUNCATION
    outer_folds: int = DEFAULT_OUTER_FOLDS
    Cs: tuple = DEFAULT_CS
    cv_folds: int = 5
    seed: int = 0
    min_feature_std: float = RSF_MIN_FEATURE_STD
    max_abs_standardised_feature: float = DEFAULT_MAX_ABS_Z
    accuracy_confidence: float = DEFAULT_CONFIDENCE
    anion_radius_A: float = 5.0
    anion_assignment: str = "majority"
    share_bins: int = 10
    min_bin_count: int = 5
    softness_bins: int = 40
    property_bins: int = 10
    gr_dr_A: float = 0.05
    gr_r_max_A: float = 8.0
    channel_variants: tuple = ()
    learning_curve_fractions: tuple = (0.25, 0.5, 1.0)
    learning_curve_repeats: int = 1

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(str(c) for c in self.channels))
        object.__setattr__(self, "Cs", tuple(float(c) for c in self.Cs))
        object.__setattr__(self, "channel_variants", tuple(tuple(str(c) for c in v) for v in self.channel_variants))
        for v in self.channel_variants:
            if not v or len(set(v)) != len(v) or not set(v) <= set(self.channels):
                raise ValueError(f"channel variant {list(v)}: needs distinct channels among channels {list(self.channels)}")
        object.__setattr__(self, "learning_curve_fractions", tuple(float(f) for f in self.learning_curve_fractions))
        f = self.learning_curve_fractions
        if not f or any(not 0 < v <= 1 for v in f) or list(f) != sorted(set(f)):
            raise ValueError(f"softness.learning_curve_fractions must be increasing fractions in (0, 1], got {list(f)}")
        if self.learning_curve_repeats < 1:
            raise ValueError(f"softness.learning_curve_repeats must be >= 1, got {self.learning_curve_repeats}")
        if isinstance(self.d2min_cutoff_A, str):
            if self.d2min_cutoff_A != "from g(r)":
                raise ValueError(f"d2min_cutoff_A must be a number or 'from g(r)', got {self.d2min_cutoff_A!r}")
        elif not float(self.d2min_cutoff_A) > 0:
            raise ValueError(f"d2min_cutoff_A must be positive, got {self.d2min_cutoff_A}")
        if self.label_temperature_K is None:
            object.__setattr__(self, "label_temperature_K", float(self.temperature_K))
        if self.label_recipe not in LABEL_RECIPES:
            raise ValueError(f"softness.label_recipe must be one of {list(LABEL_RECIPES)}, got {self.label_recipe!r}")
        if not (self.p_hop_tau_ps > 0 and 0 < self.p_hop_immobile_A2 <= self.p_hop_mobile_A2):
            raise ValueError(f"need softness.p_hop_tau_ps > 0 and 0 < p_hop_immobile_A2 <= p_hop_mobile_A2, got "
                             f"{self.p_hop_tau_ps}, {self.p_hop_immobile_A2}, {self.p_hop_mobile_A2}")
        if self.structure not in STRUCTURES:
            raise ValueError(f"softness.structure must be one of {list(STRUCTURES)}, got {self.structure!r}")
        if self.time_average_frames < 1:
            raise ValueError(f"softness.time_average_frames must be >= 1, got {self.time_average_frames}")
        if not (self.inherent_ftol_kcal_mol_A > 0 and self.inherent_max_iterations >= 1):
            raise ValueError("softness.inherent_ftol_kcal_mol_A must be positive and inherent_max_iterations >= 1")
        if self.voronoi not in ("plain", "radical"):
            raise ValueError(f"softness.voronoi must be 'plain' or 'radical', got {self.voronoi!r}")
        if self.voronoi == "radical":
            radii = dict(self.voronoi_radii_A or {})
            if not radii or not all(float(r) > 0 for r in radii.values()):
                raise ValueError("softness.voronoi: radical needs positive softness.voronoi_radii_A for every element")
        if self.d2min_cutoff_sensitivity_A is not None and not float(self.d2min_cutoff_sensitivity_A) > 0:
            raise ValueError(f"softness.d2min_cutoff_sensitivity_A must be positive or null, got "
                             f"{self.d2min_cutoff_sensitivity_A}")
        if self.d2min_normalise not in ("none", "per-neighbour"):
            raise ValueError(f"d2min_normalise must be 'none' or 'per-neighbour', got {self.d2min_normalise!r}")
        if not 0 < self.immobile_quantile <= self.mobile_quantile < 1:
            raise ValueError(f"need 0 < immobile_quantile <= mobile_quantile < 1, got {self.immobile_quantile}, "
                             f"{self.mobile_quantile}")
        if self.outer_folds < 2 or self.cv_folds < 2:
            raise ValueError(f"outer_folds and cv_folds must be >= 2, got {self.outer_folds}, {self.cv_folds}")
        if not self.Cs or min(self.Cs) <= 0:
            raise ValueError(f"Cs must be positive, got {self.Cs}")
        if not 0 <= self.min_feature_std < 1:
            raise ValueError(f"min_feature_std is a fraction of the typical feature std in [0, 1), got {self.min_feature_std}")
        if not self.max_abs_standardised_feature > 0:
            raise ValueError(f"max_abs_standardised_feature must be positive, got {self.max_abs_standardised_feature}")
        if not 0 < self.accuracy_confidence < 1:
            raise ValueError(f"accuracy_confidence must lie in (0, 1), got {self.accuracy_confidence}")
        if self.anion_assignment not in ("majority", "nearest", "any"):
            raise ValueError(f"anion_assignment must be majority, nearest or any, got {self.anion_assignment!r}")
        if self.split_S_by_anion and "S" not in self.channels:
            raise ValueError("split_S_by_anion needs S among the RSF channels")
        self.mu_grid()  # checks the grid

    @classmethod
    def from_config(cls, cfg: Mapping) -> "SoftnessSettings":
        """From the ``softness`` config section. Unknown keys raise ValueError (they would
        otherwise be silently ignored); missing keys take the defaults above."""
        return _from_mapping(cls, cfg, "softness")

    def mu_grid(self) -> np.ndarray:
        """RSF Gaussian centres (A) from ``rsf_mu_min_A``..``rsf_mu_max_A`` in ``rsf_mu_step_A``."""
        lo, hi, step = self.rsf_mu_min_A, self.rsf_mu_max_A, self.rsf_mu_step_A
        if not (hi > lo and step > 0):
            raise ValueError(f"RSF grid needs rsf_mu_max_A > rsf_mu_min_A and a positive step, got {lo}, {hi}, {step}")
        n = int(math.floor((hi - lo) / step + 1e-9))
        return np.round(lo + step * np.arange(n + 1), 10)

    def rsf_channels(self) -> list[str]:
        """RSF channels: the configured elements, with S replaced by one channel per S unit type
        (``S:PS4``, ``S:P2S7``, ``S:P2S6``, ``S:S_free``) when ``split_S_by_anion``."""
        channels = list(self.channels)
        if not self.split_S_by_anion:
            return channels
        k = channels.index("S")
        return channels[:k] + [f"S:{u}" for u in S_UNITS] + channels[k + 1:]

    def model_features(self) -> dict:
        """RSF settings stored with a model (``rsf_settings``)."""
        return rsf_settings(self.rsf_channels(), self.mu_grid(), self.rsf_width_A, truncation=self.rsf_truncation_widths,
                            centre_species="Li", split="S" if self.split_S_by_anion else None)

    def rsf(self) -> RSFSettings:
        """The radial structure functions: ``rsf_channels``, ``mu_grid``, width and truncation."""
        return RSFSettings(tuple(self.rsf_channels()), tuple(self.mu_grid()), self.rsf_width_A,
                           self.rsf_truncation_widths)

    def windows(self, cutoff: float) -> WindowSettings:
        """Settings of ``dump_windows`` for the stage's label windows of Li at D2min cutoff
        ``cutoff`` (A), counting S for the coordination baseline."""
        return WindowSettings(frames_per_window=self.window_frames, stride=self.window_stride_frames, species="Li",
                              cutoff=cutoff, normalise=self.d2min_normalise, hop_distance=self.hop_distance_A,
                              min_neighbours=self.min_neighbours, count_species="S",
                              average_frames=self.time_average_frames if self.structure == "time_average" else 1,
                              rsf=self.rsf())

    def classifier(self) -> ClassifierSettings:
        """Settings of ``train_softness_model``, ``evaluate_classifier`` and ``learning_curve``."""
        return ClassifierSettings(n_folds=self.outer_folds, Cs=self.Cs, cv=self.cv_folds, seed=self.seed,
                                  min_feature_std=self.min_feature_std, max_abs_z=self.max_abs_standardised_feature,
                                  confidence=self.accuracy_confidence)


def _from_mapping(cls, cfg: Mapping, where: str):
    known = set(cls.__dataclass_fields__)
    unknown = set(cfg) - known
    if unknown:
        raise ValueError(f"unknown {where} settings {sorted(unknown)}; known: {sorted(known)}")
    return cls(**dict(cfg))

