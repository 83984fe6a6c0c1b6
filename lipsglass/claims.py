"""The paper's claims (config/paper_claims.yaml) tested against this study's outputs, and the
reproduction scorecard that gathers them.

Every stage that tests claims writes rows with the columns of :data:`CLAIM_COLUMNS`:
``verdict`` is one of :data:`VERDICTS`, ``measured`` states the numbers with their
uncertainties, ``criterion`` the rule applied, ``source`` the rule output the numbers come from.
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path

import numpy as np
import yaml
from scipy import stats

CLAIM_COLUMNS = ("claim", "verdict", "measured", "criterion", "source")
VERDICTS = ("holds", "does not hold", "not tested")


def read_claim_texts(path: str | Path) -> list[dict]:
    return yaml.safe_load(Path(path).read_text())["claims"]


def write_claim_rows(path: str | Path, rows: list[dict]) -> None:
    for row in rows:
        if row["verdict"] not in VERDICTS:
            raise ValueError(f"claim {row['claim']}: verdict {row['verdict']!r} not in {VERDICTS}")
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CLAIM_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def read_claim_rows(path: str | Path) -> list[dict]:
    with open(path) as fh:
        return list(csv.DictReader(fh))


# ---- transport: C1, C2 ------------------------------------------------------------------------

def transport_claims(arrhenius: dict[str, dict], p2s6_fraction: dict[str, float],
                     experimental_csv: str | Path, sources: dict[str, str]) -> list[dict]:
    """C1 (Arrhenius; Ea falls with the P2S6 content) and C2 (Nernst-Einstein sigma(300 K) within
    the range of experimental 70Li2S-30P2S5 glasses).

    C1 criterion: every glass has an Arrhenius fit (>= 3 diffusive temperatures) whose reduced
    chi^2 p-value is > 0.01, and the weighted regression of Ea on the P2S6 fraction of P has a
    positive slope by more than 2 standard errors.
    C2 criterion: the 95% interval of every glass's sigma(300 K) overlaps the span of the
    experimental values of kind 'glass' in the CSV (glass-ceramics are shown, not used)."""
    glasses = sorted(arrhenius, key=lambda g: p2s6_fraction[g])
    source = "; ".join(sources[g] for g in glasses)
    ea = np.array([np.nan if arrhenius[g].get("Ea_eV") is None else arrhenius[g]["Ea_eV"] for g in glasses], float)
    ea_se = np.array([np.nan if arrhenius[g].get("Ea_stderr_eV") is None else arrhenius[g]["Ea_stderr_eV"]
                      for g in glasses], float)
    x = np.array([p2s6_fraction[g] for g in glasses])
    measured = ", ".join(f"{g}: Ea = {e:.3f} +- {s:.3f} eV" for g, e, s in zip(glasses, ea, ea_se))
    rows = []
    usable = np.isfinite(ea) & np.isfinite(ea_se) & (ea_se > 0)
    n_temps = [len(arrhenius[g].get("temperatures_used_K") or []) for g in glasses]
    pvals = [float(stats.chi2.sf(arrhenius[g]["chi2"], arrhenius[g]["dof"]))
             if arrhenius[g].get("chi2") is not None and (arrhenius[g].get("dof") or 0) > 0 else None
             for g in glasses]
    if usable.sum() < 3:
        rows.append({"claim": "C1", "verdict": "not tested", "measured": measured or "no Arrhenius fits",
                     "criterion": "needs Arrhenius fits of at least 3 glasses", "source": source})
    else:
        w = 1.0 / ea_se[usable] ** 2
        X = np.column_stack([np.ones(usable.sum()), x[usable]])
        cov = np.linalg.inv(X.T @ (X * w[:, None]))
        beta = cov @ X.T @ (w * ea[usable])
        slope, slope_se = beta[1], np.sqrt(cov[1, 1])
        arrhenius_ok = all(n >= 3 for n in n_temps) and all(p is None or p > 0.01 for p in pvals)
        holds = arrhenius_ok and slope > 2 * slope_se
        rows.append({
            "claim": "C1", "verdict": "holds" if holds else "does not hold",
            "measured": (f"{measured}; dEa/d(P2S6 fraction of P) = {slope:.3f} +- {slope_se:.3f} eV; "
                         f"temperatures per fit {n_temps}; chi2 p-values {['%.3g' % p if p is not None else 'n/a' for p in pvals]}"),
            "criterion": "Arrhenius fit of >= 3 diffusive temperatures with chi2 p > 0.01 for every glass, and "
                         "weighted slope of Ea vs P2S6 fraction > 2 standard errors",
            "source": source})
    with open(experimental_csv) as fh:
        exp = [r for r in csv.DictReader(line for line in fh if not line.startswith("#"))]
    glass_values = np.array([float(r["sigma_S_cm"]) for r in exp if r["kind"] == "glass"])
    lo, hi = glass_values.min(), glass_values.max()
    sig = [(g, arrhenius[g].get("sigma_300K_S_cm"), arrhenius[g].get("sigma_300K_stderr_S_cm")) for g in glasses]
    ok = [s is not None and se is not None and (s + 1.96 * se >= lo) and (s - 1.96 * se <= hi) for _, s, se in sig]
    text = ", ".join(f"{g}: {s:.3g} +- {se:.2g} S/cm" if s is not None else f"{g}: n/a" for g, s, se in sig)
    tested = all(s is not None for _, s, _ in sig)
    rows.append({
        "claim": "C2", "verdict": ("holds" if all(ok) else "does not hold") if tested else "not tested",
        "measured": f"sigma(300 K, Nernst-Einstein, Haven ratio 1) {text}; experimental glasses {lo:.2g}-{hi:.2g} S/cm",
        "criterion": "95% interval of each glass overlaps the span of experimental glass conductivities",
        "source": source})
    return rows


# ---- structure: C13 -------------------------------------------------------------------------

def _peak_position(r: np.ndarray, g: np.ndarray, lo: float, hi: float) -> float:
    window = (r >= lo) & (r <= hi)
    if not window.any() or not np.isfinite(g[window]).any() or g[window].max() <= 0:
        return float("nan")
    return float(r[window][np.nanargmax(g[window])])


def structure_claims(rdf_tables: dict[str, dict[str, np.ndarray]], sources: dict[str, str]) -> list[dict]:
    """C13: P-S bonds ~2.1 A in all three anions; in P2S6 the P to S-on-the-neighbouring-P
    distance lies in 3.4-3.8 A. Criterion: first P-S peak of every anion within 2.0-2.2 A in every
    glass, and the second P-S peak of P2S6 (3.0-4.2 A search window) within 3.4-3.8 A."""
    parts, ok = [], True
    for glass, t in rdf_tables.items():
        r = t["r_A"]
        first = {a: _peak_position(r, t[f"g_P_S_{a}"], 1.8, 2.6) for a in ("PS4", "P2S7", "P2S6")
                 if f"g_P_S_{a}" in t}
        second = _peak_position(r, t["g_P_S_P2S6"], 3.0, 4.2) if "g_P_S_P2S6" in t else float("nan")
        ok &= all(2.0 <= v <= 2.2 for v in first.values()) and len(first) == 3 and 3.4 <= second <= 3.8
        parts.append(f"{glass}: P-S peak " + ", ".join(f"{a} {v:.2f} A" for a, v in first.items())
                     + f"; P2S6 P..S(neighbouring P) {second:.2f} A")
    return [{"claim": "C13", "verdict": "holds" if ok else "does not hold", "measured": "; ".join(parts),
             "criterion": "first P-S g(r) peak of each anion in 2.0-2.2 A, P2S6 second P-S peak in 3.4-3.8 A "
                          "(bin width of the g(r) tables)",
             "source": "; ".join(sources.values())}]


# ---- scorecard ------------------------------------------------------------------------------

def scorecard(claim_texts: list[dict], claim_files: list[str | Path]) -> list[dict]:
    """One row per claim of the paper: statement, verdict, numbers, criterion and source; claims no
    stage reported are 'not tested' with the reason."""
    found: dict[str, dict] = {}
    for path in claim_files:
        for row in read_claim_rows(path):
            row.setdefault("source", str(path))
            row["source"] = row["source"] or str(path)
            row["measured"] = row.get("measured") or row.get("numbers", "")
            if row["verdict"] == "not testable":  # a stage could not test it with these data
                row["verdict"] = "not tested"
            found[row["claim"]] = row
    rows = []
    for claim in claim_texts:
        row = found.get(claim["id"], {"verdict": "not tested", "measured": "",
                                      "criterion": "no stage of this workflow produced a test of this claim",
                                      "source": ""})
        rows.append({"claim": claim["id"], "figure": claim.get("figure", ""), "statement": claim["statement"],
                     "verdict": row["verdict"], "measured": row["measured"], "criterion": row["criterion"],
                     "source": row["source"]})
    return rows


def write_scorecard(rows: list[dict], out_csv: str | Path, out_md: str | Path, config_name: str,
                    out_html: str | Path | None = None) -> None:
    """The scorecard as CSV, Markdown and (for the HTML report, which shows HTML inline) HTML."""
    fields = ["claim", "figure", "statement", "verdict", "measured", "criterion", "source"]
    with open(out_csv, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    counts = {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}
    lines = [
        "# Reproduction scorecard",
        "",
        f"Chen et al., ACS Energy Lett. 8 (2023) 1969, reproduced with this workflow ({config_name}).",
        f"{counts['holds']} claims hold, {counts['does not hold']} do not hold, {counts['not tested']} not tested.",
        "",
        "| claim | paper's statement | verdict | measured | criterion | from |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [f"{r['claim']} ({r['figure']})", r["statement"], f"**{r['verdict']}**", r["measured"],
                 r["criterion"], r["source"]]
        lines.append("| " + " | ".join(str(c).replace("|", "/").replace("\n", " ") for c in cells) + " |")
    Path(out_md).write_text("\n".join(lines) + "\n")
    if out_html is not None:
        Path(out_html).write_text(scorecard_html(rows, lines[2], lines[3]))


VERDICT_COLOURS = {"holds": "#d9f2e3", "does not hold": "#f9dcdc", "not tested": "#eeeeee"}


def scorecard_html(rows: list[dict], title: str, counts: str) -> str:
    """A self-contained HTML page of the scorecard table (every cell escaped)."""
    esc = html.escape
    head = "".join(f"<th>{h}</th>" for h in ("claim", "paper's statement", "verdict", "measured", "criterion", "from"))
    body = "".join(
        f"<tr style='background:{VERDICT_COLOURS.get(r['verdict'], '#ffffff')}'>"
        f"<td>{esc(r['claim'])} ({esc(str(r['figure']))})</td><td>{esc(r['statement'])}</td>"
        f"<td><b>{esc(r['verdict'])}</b></td><td>{esc(str(r['measured']))}</td><td>{esc(str(r['criterion']))}</td>"
        f"<td><code>{esc(str(r['source']))}</code></td></tr>" for r in rows)
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Reproduction scorecard</title>"
            "<style>body{font-family:sans-serif;font-size:13px} table{border-collapse:collapse}"
            " td,th{border:1px solid #999;padding:4px;vertical-align:top;text-align:left}</style></head><body>"
            f"<h1>Reproduction scorecard</h1><p>{esc(title)}</p><p>{esc(counts)}</p>"
            f"<table id='scorecard'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>\n")


def load_json(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())
