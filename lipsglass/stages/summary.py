"""Summary stage: the paper's claims tested per stage, and the reproduction scorecard."""

from __future__ import annotations

from lipsglass.claims import (c7_claim, load_json, read_claim_texts, scorecard, structure_claims, transport_claims,
                              write_claim_rows, write_scorecard)
from lipsglass.composition import Composition
from lipsglass.rdf import read_table


def structure_claims_job(rdf_tables: dict[str, str], out_csv: str, li_s_shell: dict[str, list[str]] | None = None,
                         criteria: dict | None = None) -> None:
    """C13 from the partial g(r) tables; C7 (when ``li_s_shell`` lists every composition's
    per-replica li_s_shell.json) by the equivalence test of ``lipsglass.li_s_shell`` with the
    ``structure.claims`` criteria."""
    tables = {glass: read_table(path) for glass, path in rdf_tables.items()}
    rows = []
    if li_s_shell is not None:
        c = criteria or {}
        shells = {glass: [load_json(p) for p in paths] for glass, paths in li_s_shell.items()}
        source = "; ".join(p for paths in li_s_shell.values() for p in paths)
        rows.append(c7_claim(shells, c["c7_equivalence_margin_A"], c["c7_level"], c["c7_n_bootstrap"], c["c7_seed"],
                             source=source, min_li=c["c7_min_li"]))
    rows += structure_claims(tables, rdf_tables)
    write_claim_rows(out_csv, rows)


def transport_claims_job(arrhenius_files: dict[str, str], units: dict[str, dict], experimental_csv: str,
                         out_csv: str) -> None:
    arrhenius = {glass: load_json(path) for glass, path in arrhenius_files.items()}
    p2s6 = {glass: Composition(glass, dict(u)).fraction_of_P()["P2S6"] for glass, u in units.items()}
    write_claim_rows(out_csv, transport_claims(arrhenius, p2s6, experimental_csv, arrhenius_files))


def scorecard_job(claims_yaml: str, claim_files: list[str], out_csv: str, out_md: str, config_name: str,
                  out_html: str | None = None, plan_csv: str | None = None, scale_note: str = "") -> None:
    from lipsglass.planning import read_plan

    plan = read_plan(plan_csv) if plan_csv else None
    write_scorecard(scorecard(read_claim_texts(claims_yaml), claim_files, plan), out_csv, out_md, config_name, out_html,
                    scale_note)


def overview_job(scorecard_csv: str, panels: dict[str, str], out_png: str, out_pdf: str) -> None:
    """``results/figures/overview.png`` (+ PDF): the verdicts beside ``panels`` {title: PNG}."""
    from lipsglass.figures.overview import overview_figure

    overview_figure(scorecard_csv, list(panels.items()), out_png, out_pdf)
