"""Softness stage, summaries over glasses (rules ``softness_correlations``, ``softness_claims``):
the descriptive correlations table and the claim rows of C4, C5, C6 and C8, decided by
``lipsglass.claims.softness``. Design choices: ``lipsglass.stages.softness``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping

from lipsglass.claims import read_claim_texts, write_claim_rows
from lipsglass.claims.softness import GlassSoftness, SoftnessCriteria, report_markdown, softness_claims
from lipsglass.composition import Composition
from lipsglass.core.tables import read_rows, write_rows
from lipsglass.softness.settings import SoftnessSettings
from lipsglass.softness.table import CORRELATION_COLUMNS, correlation_rows
from lipsglass.stages.softness import read_softness, settings_of

log = logging.getLogger(__name__)


def correlations_job(softness: Mapping[str, str], settings: SoftnessSettings | Mapping, out_csv: str) -> None:
    settings = settings_of(settings)
    tables = {g: read_softness(p) for g, p in softness.items()}
    write_rows(out_csv, CORRELATION_COLUMNS, correlation_rows(tables, settings))


def p2s6_fraction_of_p(units: Mapping[str, int]) -> float:
    """Share of P in P2S6 units (the paper's composition axis)."""
    return float(Composition("glass", dict(units)).fraction_of_P()["P2S6"])


def composition_atoms(units: Mapping[str, int]) -> int:
    """Atoms of a glass of the composition with these anion units."""
    return int(Composition("glass", dict(units)).n_atoms)


def labelled_ps(windows_csv: str | Path, timestep_fs: float) -> float:
    """Length (ps) of the labelled trajectory of a glass: first window start to last window end."""
    rows = read_rows(windows_csv)
    return (max(int(r["end_timestep"]) for r in rows) - min(int(r["start_timestep"]) for r in rows)) * timestep_fs / 1000


def claims_job(softness: Mapping[str, Mapping[str, str]], units: Mapping[str, Mapping], windows: Mapping[str, str],
               timestep_fs: float, claims_yaml: str, claims: Mapping, anion_assignment: str, out_csv: str,
               out_md: str) -> None:
    """``softness_claims.csv`` (claim rows, ``lipsglass.claims.write_claim_rows``) and ``.md`` (per-glass
    detail) of C4, C5, C6 and C8, decided by ``lipsglass.claims.softness``. ``softness``: per
    composition {replica: softness.csv} of every glass scored; ``windows``: per composition the
    windows.csv of its labelled run (the ps of dynamics behind the softness); ``claims``: the
    config's ``claims`` section (the keys of ``lipsglass.claims.softness.CLAIM_KEYS``)."""
    glasses = [GlassSoftness.from_table(read_softness(path), comp, replica, p2s6_fraction_of_p(units[comp]),
                                        composition_atoms(units[comp]), anion_assignment)
               for comp, per in softness.items() for replica, path in per.items()]
    ps = min(labelled_ps(p, timestep_fs) for p in windows.values()) if windows else None
    verdicts = softness_claims(glasses, SoftnessCriteria.from_config(claims), ps)
    write_claim_rows(out_csv, [v.row() for v in verdicts])
    statements = {c["id"]: c["statement"] for c in read_claim_texts(claims_yaml)}
    Path(out_md).write_text(report_markdown(verdicts, statements, glasses))
    for v in verdicts:
        log.info("%s: %s (%s)", v.claim, v.verdict, "no interval" if v.interval is None else v.interval.text())

