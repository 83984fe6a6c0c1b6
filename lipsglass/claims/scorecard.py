"""Claim tables and the reproduction scorecard.

Every claim stage writes rows of :data:`CLAIM_COLUMNS` (``Verdict.row``). The scorecard gathers
them, one line per claim (verdict, the deciding estimate with its interval, the region it is
decided against, the scale of the evidence, a link to the claim's section), and a page with each
claim's detail: estimand, unit of independence, margin and its reason, per-glass numbers, the
calibration of its test, and for a verdict other than "holds" the study that would decide it.
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path

import yaml

from lipsglass.claims.verdict import Interval, Region, decide
from lipsglass.claims.verdict import VERDICTS
from lipsglass.composition import composition_from_config
from lipsglass.config import production_duration_ps, selected_glasses
from lipsglass.core.tables import read_rows

CLAIM_COLUMNS = ("claim", "verdict", "estimand", "estimate", "ci_low", "ci_high", "level", "interval_method",
                 "value_unit", "region", "region_low", "region_high", "margin_reason", "unit_of_independence", "scale", "detail", "source",
                 "would_decide", "why_not_tested")
# optional, for the study plan (lipsglass.planning): the estimate, its standard error, the value it
# is decided against, and the count of independent samples it came from (with their unit); or the
# claim's own sizing (size_factor: growth of the independent samples that would decide it, and why)
STRUCTURED_COLUMNS = ("effect", "effect_se", "threshold", "sample_size", "sample_unit", "size_factor", "size_basis")
SCORECARD_COLUMNS = ("claim", "figure", "statement", "verdict", "estimate", "region", "scale", "estimand",
                     "unit_of_independence", "margin_reason", "detail", "would_decide", "source")
MAX_CELL = 300          # characters of a scorecard table cell; the detail lives on the claim's section
CALIBRATION_DOC = "docs/claims.md"   # the calibration table of every claim's test


def read_claim_texts(path: str | Path) -> list[dict]:
    return yaml.safe_load(Path(path).read_text())["claims"]


def write_claim_rows(path: str | Path, rows: list[dict]) -> None:
    """Write claim rows (``Verdict.row()`` dicts); every verdict must be one of :data:`VERDICTS`."""
    for row in rows:
        if row["verdict"] not in VERDICTS:
            raise ValueError(f"claim {row['claim']}: verdict {row['verdict']!r} not in {VERDICTS}")
        missing = [c for c in ("estimand", "scale") if not row.get(c)]
        if missing:
            raise ValueError(f"claim {row['claim']}: the claim row has no {', '.join(missing)}")
    fields = CLAIM_COLUMNS + tuple(c for c in STRUCTURED_COLUMNS if any(c in row for row in rows))
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def read_claim_rows(path: str | Path) -> list[dict]:
    return read_rows(path)


def estimate_text(row: dict) -> str:
    """'0.12 [0.05, 0.19] eV (90 %)', or '-' without an interval."""
    if not row.get("estimate"):
        return "-"
    unit = f" {row['value_unit']}" if row.get("value_unit") else ""
    level = f" ({float(row['level']):.0%})" if row.get("level") else ""
    f = lambda v: f"{float(v):.3g}"  # noqa: E731
    return f"{f(row['estimate'])} [{f(row['ci_low'])}, {f(row['ci_high'])}]{unit}{level}"


def scorecard(claim_texts: list[dict], claim_files: list[str | Path], plan: dict[str, str] | None = None) -> list[dict]:
    """One row per claim of the paper (:data:`SCORECARD_COLUMNS`); claims no stage reported are
    'not tested' with the reason. ``plan`` (claim -> text, ``lipsglass.planning.read_plan``) gives
    the study that would decide (or overturn) every verdict other than 'holds'; a stage's own
    ``would_decide`` text comes first."""
    found: dict[str, dict] = {}
    for path in claim_files:
        for row in read_claim_rows(path):
            row["source"] = row.get("source") or str(path)
            found[row["claim"]] = row
    rows = []
    for claim in claim_texts:
        row = found.get(claim["id"])
        if row is None:
            row = {"verdict": "not tested", "estimand": "", "scale": "no data", "region": "",
                   "detail": "no stage of this workflow produced a test of this claim", "source": ""}
        out = {"claim": claim["id"], "figure": claim.get("figure", ""), "statement": claim["statement"],
               "verdict": row["verdict"], "estimate": estimate_text(row)}
        for col in ("region", "scale", "estimand", "unit_of_independence", "margin_reason", "detail", "source"):
            out[col] = row.get(col, "")
        decide = [t for t in (row.get("why_not_tested", ""), row.get("would_decide", "")) if t]
        if row["verdict"] != "holds" and plan is not None and plan.get(claim["id"]):
            decide.append(f"study plan: {plan[claim['id']]}")
        out["would_decide"] = "; ".join(decide)
        rows.append(out)
    return rows


def study_size_text(config: dict) -> str:
    """The study's size for the scorecard's header: glasses x replicas, atoms per glass, and the
    production runs (temperatures, ps)."""

    glasses = selected_glasses(config)
    atoms = sorted(composition_from_config(g, config["compositions"][g]).n_atoms for g in glasses)
    p = config["production"]
    temps = "/".join(f"{float(t):g}" for t in p["temperatures_K"])
    atom_text = f"{atoms[0]}" if atoms[0] == atoms[-1] else f"{atoms[0]}-{atoms[-1]}"
    n, k = len(glasses), config["replicas"]
    lengths = [production_duration_ps(p, t) for t in p["temperatures_K"]]
    runs = (f"{lengths[0]:g} ps at {temps} K" if len(set(lengths)) == 1 else
            ", ".join(f"{d:g} ps at {float(t):g} K" for t, d in zip(p["temperatures_K"], lengths)))
    return f"{n} glass{'es' if n != 1 else ''} x {k} replica{'s' if k != 1 else ''} of {atom_text} atoms, production {runs}"


def _cell(text: str) -> str:
    text = str(text).replace("|", "/").replace("\n", " ")
    if len(text) > MAX_CELL:
        raise ValueError(f"scorecard cell of {len(text)} characters (at most {MAX_CELL}; the detail goes to the "
                         f"claim's section): {text[:80]}...")
    return text


def anchor(claim: str) -> str:
    return claim.lower()


def write_scorecard(rows: list[dict], out_csv: str | Path, out_md: str | Path, config_name: str,
                    out_html: str | Path | None = None, scale_note: str = "") -> None:
    """The scorecard as CSV, Markdown (one line per claim, then one section per claim) and HTML.
    ``scale_note``: the study's size (atoms, glasses x replicas, ps), stated in the header."""
    with open(out_csv, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=SCORECARD_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    counts = {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}
    title = f"Chen et al., ACS Energy Lett. 8 (2023) 1969, reproduced with this workflow ({config_name})."
    if scale_note:
        title += f" Study: {scale_note}."
    count_line = (f"{counts['holds']} claims hold, {counts['does not hold']} do not hold, "
                  f"{counts['not tested']} not tested.")
    lines = ["# Reproduction scorecard", "", title, count_line, "",
             f"Verdicts: an interval on each claim's estimand against a region fixed in advance (holds: inside; does "
             f"not hold: entirely outside; otherwise not tested). Calibration of every test: {CALIBRATION_DOC}.", "",
             "| claim | verdict | estimate [interval] | claim's region | scale | detail |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        cells = [f"{r['claim']} ({r['figure']})", f"**{r['verdict']}**", r["estimate"], r["region"] or "-",
                 r["scale"], f"[{r['claim']}](#{anchor(r['claim'])})"]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines.append("")
    for r in rows:
        lines += [f"## {r['claim']}", "", f"**{r['statement']}** ({r['figure']}): **{r['verdict']}**", ""]
        for label, key in (("Estimand", "estimand"), ("Estimate", "estimate"), ("Claim's region", "region"),
                           ("Margin", "margin_reason"), ("Unit of independence", "unit_of_independence"),
                           ("Scale", "scale"), ("Detail", "detail"), ("What would decide it", "would_decide"),
                           ("From", "source")):
            if r.get(key):
                lines.append(f"- {label}: {str(r[key]).replace(chr(10), ' ')}")
        lines.append("")
    Path(out_md).write_text("\n".join(lines) + "\n")
    if out_html is not None:
        Path(out_html).write_text(scorecard_html(rows, title, count_line))


VERDICT_COLOURS = {"holds": "#d9f2e3", "does not hold": "#f9dcdc", "not tested": "#eeeeee"}


def scorecard_html(rows: list[dict], title: str, counts: str) -> str:
    """A self-contained HTML page: the one-line-per-claim table, each claim's detail one click
    away (its section below, linked from the row)."""
    esc = html.escape
    head = "".join(f"<th>{h}</th>" for h in ("claim", "paper's statement", "verdict", "estimate [interval]",
                                            "claim's region", "scale", "detail"))
    body = "".join(
        f"<tr style='background:{VERDICT_COLOURS.get(r['verdict'], '#ffffff')}'>"
        f"<td>{esc(r['claim'])} ({esc(str(r['figure']))})</td><td>{esc(r['statement'])}</td>"
        f"<td><b>{esc(r['verdict'])}</b></td><td>{esc(r['estimate'])}</td><td>{esc(r['region'] or '-')}</td>"
        f"<td>{esc(r['scale'])}</td><td><a href='#{anchor(r['claim'])}'>{esc(r['claim'])}</a></td></tr>"
        for r in rows)
    sections = []
    for r in rows:
        items = "".join(f"<li>{label}: {esc(str(r[key]))}</li>" for label, key in (
            ("Estimand", "estimand"), ("Margin", "margin_reason"), ("Unit of independence", "unit_of_independence"),
            ("Detail", "detail"), ("What would decide it", "would_decide"), ("From", "source")) if r.get(key))
        sections.append(f"<h2 id='{anchor(r['claim'])}'>{esc(r['claim'])}: {esc(r['verdict'])}</h2>"
                        f"<p>{esc(r['statement'])} ({esc(str(r['figure']))})</p><ul>{items}</ul>")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Reproduction scorecard</title>"
            "<style>body{font-family:sans-serif;font-size:13px} table{border-collapse:collapse}"
            " td,th{border:1px solid #999;padding:4px;vertical-align:top;text-align:left}</style></head><body>"
            f"<h1>Reproduction scorecard</h1><p>{esc(title)}</p><p>{esc(counts)}</p>"
            f"<table id='scorecard'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            + "".join(sections) + "</body></html>\n")


def load_json(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def verdict_counts(scorecard_csv: str | Path) -> dict[str, int]:
    """Number of claims of each verdict (:data:`VERDICTS`) in a scorecard CSV (``write_scorecard``)."""
    rows = read_rows(scorecard_csv)
    unknown = {r["verdict"] for r in rows} - set(VERDICTS)
    if unknown:
        raise ValueError(f"{scorecard_csv}: verdicts {sorted(unknown)} not among {VERDICTS}")
    return {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}


def study_summary(scorecard_csv: str | Path, scorecard_md: str | Path, report_html: str | Path) -> str:
    """The lines a finished run ends with: where the scorecard and the report are, and how many
    claims hold, do not hold and are not tested (nothing about the claims when this run did not
    reach the scorecard, e.g. ``--until quench``)."""
    if not Path(scorecard_csv).is_file():
        return "The scorecard has not been built by this run (make run builds it)."
    counts = verdict_counts(scorecard_csv)
    total = sum(counts.values())
    report = (f"report: {report_html}" if Path(report_html).is_file()
              else f"report: make report (snakemake --report {report_html})")
    return (f"Claims of Chen et al. (2023): {counts['holds']} of {total} hold, {counts['does not hold']} do not hold, "
            f"{counts['not tested']} not tested.\nScorecard: {scorecard_md}; {report}; figures: results/figures/ "
            f"(overview.png first).")


README_BEGIN = "<!-- claims table: generated by python -m lipsglass claims-table results/summary/scorecard.csv --write README.md -->"
README_END = "<!-- end of the claims table -->"


def readme_table(rows: list[dict]) -> str:
    """The README's claim table from a scorecard CSV's rows: the same verdicts, estimates,
    regions and scales as the scorecard, one line per claim."""
    lines = ["| claim | the paper says | verdict | estimate [interval] | claim's region | scale |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| " + " | ".join(_cell(c) for c in (f"{r['claim']} ({r['figure']})", r["statement"],
                                                          r["verdict"], r["estimate"], r["region"] or "-",
                                                          r["scale"])) + " |")
    return "\n".join(lines)


def write_between_markers(path: str | Path, begin: str, end: str, text: str) -> None:
    """Replace what stands between the marker lines ``begin`` and ``end`` of a Markdown file (a
    generated table) by ``text``; an error naming the file when a marker is missing."""
    path = Path(path)
    doc = path.read_text()
    if begin not in doc or end not in doc:
        raise ValueError(f"{path} has no generated table between its markers ({begin})")
    head, rest = doc.split(begin, 1)
    path.write_text(head + begin + "\n" + text + "\n" + end + rest.split(end, 1)[1])


def verdict_agrees_with_interval(row: dict) -> bool:
    """A claim row's shown interval and region say what its verdict says: inside -> holds,
    entirely outside -> does not hold, straddling -> not tested. A row without an interval must
    be 'not tested'. (A claim of parts shows the part that decided, at the level it was decided.)"""
    if not row.get("estimate"):
        return row["verdict"] == "not tested"

    interval = Interval(float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"]), float(row["level"]))
    region = Region(float(row["region_low"]), float(row["region_high"]))
    shown = decide(interval, region)
    return shown == row["verdict"] or (row["verdict"] == "not tested" and bool(row.get("why_not_tested")))
