"""Summary stage: the paper's claims tested per stage, and the reproduction scorecard."""

from __future__ import annotations

from lipsglass.claims import (load_json, read_claim_texts, scorecard, structure_claims, transport_claims,
                              write_claim_rows, write_scorecard)
from lipsglass.composition import Composition
from lipsglass.rdf import read_table


def structure_claims_job(rdf_tables: dict[str, str], out_csv: str) -> None:
    tables = {glass: read_table(path) for glass, path in rdf_tables.items()}
    write_claim_rows(out_csv, structure_claims(tables, rdf_tables))


def transport_claims_job(arrhenius_files: dict[str, str], units: dict[str, dict], experimental_csv: str,
                         out_csv: str) -> None:
    arrhenius = {glass: load_json(path) for glass, path in arrhenius_files.items()}
    p2s6 = {glass: Composition(glass, dict(u)).fraction_of_P()["P2S6"] for glass, u in units.items()}
    write_claim_rows(out_csv, transport_claims(arrhenius, p2s6, experimental_csv, arrhenius_files))


def scorecard_job(claims_yaml: str, claim_files: list[str], out_csv: str, out_md: str, config_name: str,
                  out_html: str | None = None) -> None:
    write_scorecard(scorecard(read_claim_texts(claims_yaml), claim_files), out_csv, out_md, config_name, out_html)
