"""Calibration of every claim's test: how often it gives a wrong verdict on a null at the claim's
margin (with the data's correlations), and how often it finds a planted effect of the planned size.

Each claim family module (:data:`FAMILIES`) defines ``CALIBRATIONS``: {claim id: function(seed)
-> :class:`Calibration`}. The function simulates its claim's data (the unit of independence and
the correlations of the study's data: Li of a glass correlated in space, replicas of one quench,
hops of a glass) with the true estimand exactly at the region's boundary, runs the claim's own
decision code ``n_draws`` times and counts the verdicts; then again with an effect planted at the
size the study plan sizes for, and counts "holds". The suite (tests/test_claims_calibration.py)
runs every one and requires, with Monte Carlo error, each wrong-verdict rate at most the nominal
(1 - level) / 2; ``docs/claims.md`` holds the table (``python -m lipsglass claims-calibration``
writes it, a test keeps it equal).
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass

FAMILIES = ("transport", "structure", "classifier", "softness", "neb", "homology")


@dataclass(frozen=True)
class Calibration:
    """Measured error rates of one claim's test.

    ``estimand``/``unit``/``margin``: what is decided, over which independent units, against
    what (with its unit); ``null``/``planted``: the simulated data of the two experiments in words
    (with their correlations and sizes); ``n_draws``: draws of each; ``false_holds`` and
    ``false_does_not_hold``: fractions of null draws with that verdict (the null sits on the
    region's boundary, so either verdict is an error there); ``power``: fraction of planted draws
    that give "holds" (for a claim that the study finds does not hold, ``power`` may be of
    "does not hold" at the planted size: ``power_of`` says which)."""

    claim: str
    estimand: str
    unit: str
    margin: str
    null: str
    planted: str
    n_draws: int
    nominal: float
    false_holds: float
    false_does_not_hold: float
    power: float
    power_of: str = "holds"

    def mc_bound(self) -> float:
        """Nominal rate plus three binomial standard errors of a rate at the nominal value with
        ``n_draws`` draws: the largest measured rate consistent with a calibrated test."""
        p = self.nominal
        return p + 3 * math.sqrt(p * (1 - p) / self.n_draws)

    def calibrated(self) -> bool:
        bound = self.mc_bound()
        return self.false_holds <= bound and self.false_does_not_hold <= bound


def calibration_functions() -> dict:
    """{claim: function(seed) -> Calibration} of every family module."""
    out = {}
    for family in FAMILIES:
        module = importlib.import_module(f"lipsglass.claims.{family}")
        for claim, fn in getattr(module, "CALIBRATIONS", {}).items():
            if claim in out:
                raise ValueError(f"claim {claim} calibrated in two families")
            out[claim] = fn
    return dict(sorted(out.items(), key=lambda kv: int(kv[0][1:])))


TABLE_HEADER = ("| claim | estimand | unit of independence | margin | null (at the margin) | planted effect | draws "
                "| false holds | false does not hold | nominal | power |")


def table(calibrations: list[Calibration]) -> str:
    """The Markdown calibration table of docs/claims.md."""
    lines = [TABLE_HEADER, "|" + "---|" * 11]
    for c in calibrations:
        lines.append(f"| {c.claim} | {c.estimand} | {c.unit} | {c.margin} | {c.null} | {c.planted} | {c.n_draws} | "
                     f"{c.false_holds:.3f} | {c.false_does_not_hold:.3f} | {c.nominal:.3f} | "
                     f"{c.power:.2f} ({c.power_of}) |")
    return "\n".join(lines)
