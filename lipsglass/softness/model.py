"""A trained softness model: the hyperplane of the classifier in standardised feature space,
softness = signed distance to it (S > 0 soft, predicted mobile), serialised to JSON; it refuses
(ValueError) samples whose standardised features lie beyond its bound instead of extrapolating.

Units: softness is a distance in standardised feature space (dimensionless).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from lipsglass.d2min import IMMOBILE, MOBILE
from lipsglass.lammpsio import Box
from lipsglass.softness.features import radial_structure_functions

MODEL_FORMATS = ("lipsglass-softness-model-1", "lipsglass-softness-model-2")


@dataclass
class SoftnessModel:
    """A trained softness hyperplane, serialisable to JSON (no pickle).

    In standardised features z = (x - mean) / scale the classifier's decision is w.z + b and
    softness S = (w.z + b) / |w| (signed distance to the hyperplane, S > 0 soft = predicted
    mobile). ``features`` records how to recompute x from a structure (RSF settings).

    ``dropped_features``: features removed by the ``FeatureFilter`` (coef 0, scale 1 here; their
    training std is in the record); ``max_abs_standardised_feature``: the bound beyond which a
    sample is refused (ValueError) instead of scored (None: no check, format-1 models). With
    every kept |z| <= bound, |S| <= ``softness_bound`` = bound |w|_1 / |w|_2 + |b| / |w|_2.
    """

    feature_names: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    C: float
    seed: int
    metrics: dict = field(default_factory=dict)
    features: dict = field(default_factory=dict)
    dropped_features: list = field(default_factory=list)
    max_abs_standardised_feature: float | None = None
    feature_filter: dict = field(default_factory=dict)

    @classmethod
    def from_pipeline(cls, pipe, feature_names, seed: int, metrics: dict | None = None,
                      features: dict | None = None) -> "SoftnessModel":
        filt, scaler, clf = pipe.named_steps["filter"], pipe.named_steps["scale"], pipe.named_steps["logistic"]
        if list(clf.classes_) != [IMMOBILE, MOBILE]:
            raise ValueError(f"classifier classes must be [0, 1] (immobile, mobile), got {clf.classes_}")
        if len(feature_names) != filt.n_features_in_:
            raise ValueError(f"{len(feature_names)} feature names for {filt.n_features_in_} features")
        keep = filt.support_
        mean, scale, coef = filt.mean_.copy(), np.ones(len(keep)), np.zeros(len(keep))
        mean[keep], scale[keep], coef[keep] = scaler.mean_, scaler.scale_, clf.coef_[0]
        bound = None if filt.max_abs_z is None else float(filt.max_abs_z)
        info = {"min_relative_std": float(filt.min_relative_std), "typical_std": float(filt.typical_std_),
                "max_abs_z": bound, "n_features": int(len(keep)), "n_kept": int(keep.sum()),
                "rule": "dropped if std < min_relative_std x typical_std (median std of the features with "
                        "non-zero std on the training samples), or if a training sample lies beyond max_abs_z "
                        "standard deviations (outlier-dominated)"}
        return cls(list(feature_names), mean, scale, coef, float(clf.intercept_[0]), float(clf.C_), int(seed),
                   metrics or {}, features or {}, filt.dropped(list(feature_names)), bound, info)

    @property
    def kept(self) -> np.ndarray:
        """Mask of the features the hyperplane uses (not dropped)."""
        dropped = {d["index"] for d in self.dropped_features}
        return np.array([k not in dropped for k in range(len(self.coef))], bool)

    @property
    def softness_bound(self) -> float | None:
        """Largest |S| of any sample within the bound (None without a bound)."""
        if self.max_abs_standardised_feature is None:
            return None
        norm = np.linalg.norm(self.coef)
        return float((self.max_abs_standardised_feature * np.abs(self.coef).sum() + abs(self.intercept)) / norm)

    def _z(self, X, check: bool = True) -> np.ndarray:
        X = np.asarray(X, float)
        if X.ndim != 2 or X.shape[1] != len(self.coef):
            raise ValueError(f"expected (n, {len(self.coef)}) features, got {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("features contain NaN or inf")
        z = (X - self.mean) / self.scale
        z[:, ~self.kept] = 0.0  # dropped features carry no weight, whatever their value
        bound = self.max_abs_standardised_feature
        if check and bound is not None and z.size:
            beyond = np.abs(z) > bound
            if beyond.any():
                r, c = np.unravel_index(int(np.argmax(np.abs(z))), z.shape)
                raise ValueError(
                    f"refusing to score {int(beyond.any(axis=1).sum())} of {len(z)} samples: a standardised feature "
                    f"lies beyond the model's bound |z| <= {bound:g} (features outside the training distribution). "
                    f"Largest: sample {r}, feature {self.feature_names[c]} = {X[r, c]:.6g} (training mean "
                    f"{self.mean[c]:.6g}, std {self.scale[c]:.6g}), z = {z[r, c]:+.4g}")
        return z

    def standardised(self, X, check: bool = True) -> np.ndarray:
        """z = (x - mean) / scale (dropped features 0); ValueError beyond the bound when ``check``."""
        return self._z(X, check)

    def decision(self, X, check: bool = True) -> np.ndarray:
        """w.z + b: the logistic-regression log-odds of being mobile."""
        return self._z(X, check) @ self.coef + self.intercept

    def softness(self, X, check: bool = True) -> np.ndarray:
        """Signed distance (standardised feature units) to the hyperplane; > 0 soft. Samples with
        a kept standardised feature beyond the bound raise ValueError (``check=False``: no check)."""
        norm = np.linalg.norm(self.coef)
        if norm == 0:
            raise ValueError("all coefficients are zero: the hyperplane (and softness) is undefined")
        return self.decision(X, check) / norm

    def predict_mobile(self, X, check: bool = True) -> np.ndarray:
        return self.decision(X, check) > 0

    def softness_of_structure(self, box: Box, positions: np.ndarray, labels: np.ndarray,
                              centres: np.ndarray) -> np.ndarray:
        """Softness of ``centres`` in a configuration, with the RSF settings stored in ``features``
        (``labels`` as for ``radial_structure_functions``)."""
        f = self.features
        missing = {"channels", "mu", "width", "truncation"} - set(f)
        if missing:
            raise ValueError(f"model has no RSF settings {sorted(missing)}: compute features yourself")
        x = radial_structure_functions(box, positions, labels, centres, f["channels"], np.asarray(f["mu"]),
                                       f["width"], f["truncation"])
        return self.softness(x)

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("mean", "scale", "coef"):
            d[k] = np.asarray(getattr(self, k)).tolist()
        d["softness_bound"] = self.softness_bound
        d["format"] = MODEL_FORMATS[-1]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SoftnessModel":
        if d.get("format") not in MODEL_FORMATS:
            raise ValueError(f"not a lipsglass softness model (format {d.get('format')!r})")
        bound = d.get("max_abs_standardised_feature")
        model = cls(list(d["feature_names"]), np.asarray(d["mean"], float), np.asarray(d["scale"], float),
                    np.asarray(d["coef"], float), float(d["intercept"]), float(d["C"]), int(d["seed"]),
                    d.get("metrics", {}), d.get("features", {}), list(d.get("dropped_features", [])),
                    None if bound is None else float(bound), d.get("feature_filter", {}))
        if not (len(model.feature_names) == len(model.mean) == len(model.scale) == len(model.coef)):
            raise ValueError("model arrays disagree in length")
        return model

    def save(self, path: str | Path) -> None:
        # json writes floats with repr(), which round-trips float64 exactly
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "SoftnessModel":
        return cls.from_dict(json.loads(Path(path).read_text()))


def within_bound(model: SoftnessModel, X: np.ndarray) -> np.ndarray:
    """Mask of the samples whose kept standardised features all lie within the model's bound."""
    z = model.standardised(X, check=False)
    bound = model.max_abs_standardised_feature
    return np.ones(len(z), bool) if bound is None else np.all(np.abs(z) <= bound, axis=1)


def score(model: SoftnessModel, x: np.ndarray, ids: np.ndarray, what: str) -> np.ndarray:
    """Softness of samples ``x`` (atom ids ``ids``), refusing (ValueError naming the Li, the
    feature and its value) any beyond the model's bound on standardised features."""
    inside = within_bound(model, x)
    if not inside.all():
        bad = np.flatnonzero(~inside)
        try:
            model.softness(x[bad])
        except ValueError as err:
            raise ValueError(f"{what}: {len(bad)} Li (ids {ids[bad][:10].tolist()}) lie outside the training "
                             f"distribution; {err}") from err
    return model.softness(x)

