"""C1's and C2's own decision rules, simulated and vectorised: the fraction of studies of a given
size that they decide, for the study planner (:mod:`lipsglass.workstation_design`).

* C1 (:func:`lipsglass.claims.transport.c1_verdict`): the slope of the compositions' glass-phase
  Ea on their P2S6 fraction, its interval the wider of the propagated one (t at the
  Welch-Satterthwaite degrees of freedom of the replica SEs) and the residual one (t at n - 2),
  against ``claims.C1.margin_eV_per_fraction``.
* C2 (:func:`lipsglass.claims.transport.c2_verdict`): every glass's log10 sigma(300 K) interval
  (t at replicas - 1 degrees of freedom) inside the widened experimental span (holds), or one
  glass's interval at the Bonferroni level over the glasses entirely outside it (does not hold).

Each composition's SE is itself estimated, as a two-temperature fit over ``replicas`` replicas
gives it: the true SE x sqrt(chi2(2 (replicas - 1)) / (2 (replicas - 1))).
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np
from scipy import stats

from lipsglass.claims.verdict import union_level


def _t_quantile(q: float, dof) -> np.ndarray:
    """Student-t quantile at ``dof`` degrees of freedom (the normal one where dof is infinite)."""
    dof = np.asarray(dof, float)
    return np.where(np.isfinite(dof), stats.t.ppf(q, np.where(np.isfinite(dof), dof, 1.0)), stats.norm.ppf(q))


def _c1_unit_draws(replicas: int, x: Sequence[float], level: float, draws: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Simulated C1 studies at unit composition SE: (the slope's error Z @ c, the rule's half-width
    H) per draw, both in units of the composition SE of Ea (the rule is scale-free: estimates and
    their SEs scale together, the Welch-Satterthwaite degrees of freedom do not change)."""
    rng = np.random.default_rng(seed)
    x = np.asarray(x, float)
    n, k = len(x), int(replicas)
    xc = x - x.mean()
    sxx = float(np.sum(xc ** 2))
    c = xc / sxx
    z = rng.normal(0.0, 1.0, (draws, n))
    nu = 2 * (k - 1)
    se = np.sqrt(rng.chisquare(nu, (draws, n)) / nu) if k >= 2 else np.ones((draws, n))
    error = z @ c
    resid = z - z.mean(axis=1, keepdims=True) - error[:, None] * xc
    terms = c ** 2 * se ** 2
    var_prop = terms.sum(axis=1)
    dof_prop = var_prop ** 2 / (terms ** 2 / (k - 1)).sum(axis=1) if k >= 2 else np.full(draws, np.inf)
    q = 0.5 + level / 2
    half = np.maximum(_t_quantile(q, dof_prop) * np.sqrt(var_prop),
                      _t_quantile(q, n - 2) * np.sqrt((resid ** 2).sum(axis=1) / (n - 2) / sxx))
    return error, half


def _c1_thresholds(replicas, x, effect, margin, level, draws, seed) -> np.ndarray:
    """Per simulated study, the largest composition SE at which it is still decided towards ``effect``."""
    return _c1_thresholds_cached(int(replicas), tuple(float(v) for v in x), float(effect), float(margin),
                                 float(level), int(draws), int(seed))


@functools.lru_cache(maxsize=256)
def _c1_thresholds_cached(replicas, x, effect, margin, level, draws, seed) -> np.ndarray:
    error, half = _c1_unit_draws(replicas, x, level, draws, seed)
    gap = abs(effect - margin)
    w = half - error if effect > margin else half + error     # decided iff se x w < gap
    with np.errstate(divide="ignore"):
        out = np.where(w > 0, gap / np.where(w > 0, w, 1.0), np.inf)
    out.setflags(write=False)
    return out


def c1_decided_fraction(se_ea: float, replicas: int, x: Sequence[float], effect: float, margin: float,
                        level: float, draws: int = 20000, seed: int = 0) -> float:
    """Fraction of simulated studies that C1's own rule (:func:`lipsglass.claims.transport.slope_interval`,
    vectorised: the wider of the propagated interval, t at the Welch-Satterthwaite degrees of
    freedom of replica SEs with replicas - 1 each, and the residual one, t at n - 2) decides in
    the direction of ``effect`` (holds above ``margin``, does not hold below it), when every
    composition's Ea scatters about a line of slope ``effect`` with SE ``se_ea``. Each
    composition's SE is itself estimated: a two-temperature fit over ``replicas`` replicas,
    se_ea x sqrt(chi2(2 (replicas - 1)) / (2 (replicas - 1)))."""
    if effect == margin:
        return 0.0
    return float(np.mean(se_ea < _c1_thresholds(replicas, x, effect, margin, level, draws, seed)))


def c1_max_se(replicas: int, x: Sequence[float], effect: float, margin: float, level: float, power: float,
              draws: int = 20000, seed: int = 0) -> float:
    """The largest composition SE of Ea at which C1 is decided with ``power``
    (:func:`c1_decided_fraction`): the (1 - power) quantile of the per-study thresholds."""
    if effect == margin:
        return 0.0
    return float(np.quantile(_c1_thresholds(replicas, x, effect, margin, level, draws, seed), 1.0 - power,
                             method="lower"))


def c2_decided_fraction(predicted: Sequence[float], se_log: float, replicas: int, region: tuple[float, float],
                        level: float, draws: int = 4000, seed: int = 0) -> float:
    """Fraction of simulated studies that C2's own rule decides as the ``predicted`` log10
    sigma of every composition says (holds: every glass's ``level`` interval, t at replicas - 1
    degrees of freedom, inside ``region``; does not hold: one glass's interval at the Bonferroni
    level over the glasses entirely outside), each glass's value scattering by ``se_log`` and its
    SE estimated as in :func:`c1_decided_fraction`."""
    rng = np.random.default_rng(seed)
    pred = np.asarray(predicted, float)
    n, k = len(pred), int(replicas)
    lo, hi = region
    v = pred + rng.normal(0.0, se_log, (draws, n))
    nu = 2 * (k - 1)
    se = se_log * np.sqrt(rng.chisquare(nu, (draws, n)) / nu) if k >= 2 else np.full((draws, n), se_log)
    dof = k - 1 if k >= 2 else np.inf
    half = _t_quantile(0.5 + level / 2, dof) * se
    half_u = _t_quantile(0.5 + union_level(level, n) / 2, dof) * se
    holds = np.all((v - half >= lo) & (v + half <= hi), axis=1)
    refuted = np.any((v + half_u < lo) | (v - half_u > hi), axis=1)
    inside = bool(np.all((pred >= lo) & (pred <= hi)))
    return float(np.mean(holds if inside else refuted))
