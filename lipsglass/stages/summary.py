"""Summary stage: the paper's claims tested per stage, the study plan that would decide the
undecided ones, and the reproduction scorecard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Sequence

import yaml

from lipsglass.claims import load_json, read_claim_texts, scorecard, write_claim_rows, write_scorecard
from lipsglass.claims.structure import structure_claims
from lipsglass.claims.transport import transport_claims
from lipsglass.claims.verdict import Scale
from lipsglass.composition import Composition
from lipsglass.core.tables import read_rows, read_table
from lipsglass.figures.overview import overview_figure
from lipsglass.planning import read_plan, study_plan, write_plan
from lipsglass.workstation_design import design_from_files, write_workstation_overlay


def study_scale(units: dict[str, dict], replicas: int, production_ps: float, note: str = "") -> Scale:
    """Atoms per glass (range over the compositions), compositions x replicas, ps per production run."""
    atoms = [sum(Composition(glass, dict(u)).element_counts().values()) for glass, u in units.items()]
    return Scale(atoms=(min(atoms), max(atoms)) if atoms else None, glasses=len(units), replicas=replicas,
                 ps=production_ps, note=note)


def structure_claims_job(rdf_tables: dict[str, list[str]], li_s_shell: dict[str, list[str]], units: dict[str, dict],
                         production_ps: float, criteria: dict, out_csv: str) -> None:
    """C7 and C13 (:mod:`lipsglass.claims.structure`) from every replica's li_s_shell.json and
    partial_rdf.csv ({composition: [replica files]}); ``criteria``: the config's claims section
    (level, C7, C13)."""

    tables = {glass: [read_table(p) for p in paths] for glass, paths in rdf_tables.items()}
    shells = {glass: [load_json(p) for p in paths] for glass, paths in li_s_shell.items()}
    frames = sorted({int(s["n_frames"]) for reps in shells.values() for s in reps})
    note = (f"{frames[0]}-{frames[-1]}" if len(frames) > 1 else f"{frames[0]}") + " frames per glass" if frames else ""
    scale = study_scale(units, max(len(p) for p in rdf_tables.values()), production_ps, note)
    sources = {"C7": "; ".join(p for paths in li_s_shell.values() for p in paths),
               "C13": "; ".join(p for paths in rdf_tables.values() for p in paths)}
    rows = structure_claims(tables, shells, criteria, scale, sources)
    write_claim_rows(out_csv, [r.row() for r in rows])


def transport_claims_job(arrhenius_files: dict[str, str], units: dict[str, dict], experimental_csv: str,
                         production_ps: float, criteria: dict, out_csv: str) -> None:
    """C1 and C2 (:mod:`lipsglass.claims.transport`) from every composition's arrhenius.json;
    ``criteria``: the config's claims section (level, C1, C2)."""

    arrhenius = {glass: load_json(path) for glass, path in arrhenius_files.items()}
    p2s6 = {glass: Composition(glass, dict(u)).fraction_of_P()["P2S6"] for glass, u in units.items()}
    replicas = max(int(a.get("replicas") or 1) for a in arrhenius.values())
    scale = study_scale(units, replicas, production_ps)
    rows = transport_claims(arrhenius, p2s6, experimental_csv, arrhenius_files, criteria, scale)
    write_claim_rows(out_csv, [r.row() for r in rows])


def study_plan_job(claim_files: Sequence[str], arrhenius_files: Mapping[str, str], barrier_files: Mapping[str, str],
                   config: Mapping, out_csv: str, out_yaml: str, paper_config: str | None = None,
                   run_files: Sequence[str] = (), phase_files: Sequence[str] = (), tg_files: Sequence[str] = (),
                   experimental_csv: str | None = None, out_workstation: str | None = None) -> None:
    """The plan of every undecided claim of the claim tables (study_plan.csv, :mod:`lipsglass.planning`),
    the config overlay that would decide them (reproduction.yaml) and, from the measured runs
    (``run_files``: diffusion.json, ``phase_files``, ``tg_files``), the workstation design that
    decides C1/C2 at this cell size (``out_workstation``, :mod:`lipsglass.workstation_design`)."""
    rows = [r for path in claim_files for r in read_rows(path)]
    arrhenius = {g: json.loads(Path(p).read_text()) for g, p in arrhenius_files.items()}
    barriers = {g: read_rows(p) for g, p in barrier_files.items()}
    paper = yaml.safe_load(Path(paper_config).read_text()) if paper_config else None
    design = None
    if run_files:
        design = design_from_files(run_files, phase_files, tg_files, config, experimental_csv, rows)
    needs, overlay = study_plan(rows, config, arrhenius, barriers, paper_config=paper, design=design)
    write_plan(needs, overlay, config, out_csv, out_yaml)
    if out_workstation:
        write_workstation_overlay(design or {"feasible": False, "reason": "no measured runs"}, config, out_workstation)


def scorecard_job(claims_yaml: str, claim_files: list[str], out_csv: str, out_md: str, config_name: str,
                  out_html: str | None = None, plan_csv: str | None = None, scale_note: str = "") -> None:

    plan = read_plan(plan_csv) if plan_csv else None
    write_scorecard(scorecard(read_claim_texts(claims_yaml), claim_files, plan), out_csv, out_md, config_name, out_html,
                    scale_note)


def overview_job(scorecard_csv: str, panels: dict[str, str], out_png: str, out_pdf: str) -> None:
    """``results/figures/overview.png`` (+ PDF): the verdicts beside ``panels`` {title: PNG}."""

    overview_figure(scorecard_csv, list(panels.items()), out_png, out_pdf)
