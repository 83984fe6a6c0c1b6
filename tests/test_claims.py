"""Claims C1, C2 (transport) and C13 (structure) give the verdict their decision rule defines on
constructed data whose answer is known; the scorecard gathers the rows of every stage."""

import csv

import numpy as np
import pytest

from conftest import REPO
from lipsglass.claims import Scale, read_claim_texts, scorecard, write_claim_rows, write_scorecard
from lipsglass.claims.structure import c13_verdict, peak_position
from lipsglass.claims.transport import (c1_verdict, c2_verdict, experimental_glass_span, slope_interval,
                                        transport_claims)

EXPERIMENTAL = REPO / "config" / "experimental_conductivity.csv"
C1 = {"margin_eV_per_fraction": 0.05, "min_glasses": 3}
C2 = {"margin_decades": 0.5}
CRITERIA = {"level": 0.90, "C1": C1, "C2": C2}
P2S6 = {"a": 0.25, "b": 0.20, "c": 0.15, "d": 0.10, "e": 0.05}


def _arrhenius(ea, se, sigma=2e-4, ln_se=0.1, replicas=3, **extra):
    out = {"Ea_eV": ea, "Ea_stderr_eV": se, "status": "ok", "temperatures_used_K": [400, 500, 600],
           "chi2": 1.0, "dof": 1, "sigma_300K_S_cm": sigma, "sigma_300K_ln_stderr": ln_se,
           "fit_T_range_K": [400, 600], "phase_of_fit": "glass", "replicas": replicas, "extrapolation_T_K": 300.0}
    out.update(extra)
    return out


def _c1(fits, p2s6=P2S6):
    return c1_verdict(fits, p2s6, C1, 0.90, Scale(atoms=792, glasses=5, replicas=3, ps=10.0))


# ---- C1 ---------------------------------------------------------------------------------------

def test_c1_slope_interval_is_the_wider_of_propagated_and_residual():
    x = np.array([0.05, 0.10, 0.15, 0.20, 0.25])
    # on a straight line the residual part vanishes: the interval is t(dof) x the propagated SE
    # with 2 dof per composition (3 replicas): Welch-Satterthwaite, coefficients c ~ (-2, -1, 0, 1, 2)
    # for equal SEs: 2 (sum c^2)^2 / sum c^4 = 2 x 100 / 34 dof
    interval, info = slope_interval(x, 0.3 + 0.5 * x, np.full(5, 0.01), [2] * 5, 0.90)
    se = 0.01 / np.sqrt(np.sum((x - x.mean()) ** 2))
    assert info["dof_propagated"] == pytest.approx(200 / 34)
    assert interval.high - interval.estimate == pytest.approx(1.95016 * se, rel=1e-4)   # t(0.95, 5.88)
    assert interval.estimate == pytest.approx(0.5) and info["deciding"] == "propagated"
    # scatter about the line far beyond the SEs: the residual interval (t, 3 dof) decides
    y = 0.3 + 0.5 * x + np.array([0.05, -0.05, 0.05, -0.05, 0.0])
    interval, info = slope_interval(x, y, np.full(5, 0.001), [2] * 5, 0.90)
    assert info["deciding"] == "residual" and "residual scatter" in interval.method
    assert interval.high - interval.estimate == pytest.approx(2.353363 * info["se_residual"], rel=1e-4)
    assert slope_interval(x[:2], y[:2], [0.01, 0.01], [2, 2]) is None


def test_c1_holds_does_not_hold_and_not_tested_on_constructed_fits():
    rising = {g: _arrhenius(0.30 + 0.5 * x, 0.005) for g, x in P2S6.items()}
    v = _c1(rising)
    assert v.verdict == "holds" and v.interval.low > 0.05
    assert v.row()["scale"] == "5 glasses x 3 replicas, 792 atoms, 10 ps"
    falling = {g: _arrhenius(0.40 - 0.5 * x, 0.005) for g, x in P2S6.items()}
    v = _c1(falling)
    assert v.verdict == "does not hold" and v.interval.high < 0.05 and "overturning" in v.would_decide
    # 0.02 eV SEs from 2 replicas (1 dof each): the interval straddles the margin
    flat = {g: _arrhenius(0.35 + 0.05 * x, 0.02, replicas=2) for g, x in P2S6.items()}
    v = _c1(flat)
    assert v.verdict == "not tested" and v.interval.low < 0.05 < v.interval.high
    assert "replicas per composition (now 2" in v.would_decide
    assert v.structured["sample_size"] == 2 and v.structured["threshold"] == 0.05


def test_c1_one_replica_per_composition_carries_the_residual_scatter():
    """With a single replica the composition SEs miss the glass-to-glass spread; compositions
    scattered about the line far beyond their SEs must not give a verdict."""
    scattered = {g: _arrhenius(0.30 + 0.3 * x + d, 0.002, replicas=1)
                 for (g, x), d in zip(P2S6.items(), (0.04, -0.04, 0.04, -0.04, 0.0))}
    v = _c1(scattered)
    assert "residual scatter" in v.interval.method and v.verdict == "not tested"
    assert "compositions scatter about the line" in v.would_decide


def test_c1_without_three_glass_fits_is_not_tested_with_the_run_length_that_would_decide():
    fits = {g: _arrhenius(0.30 + 0.5 * x, 0.01) for g, x in P2S6.items()}
    for g in ("a", "b", "c"):
        fits[g] = {"Ea_eV": None, "Ea_stderr_eV": None, "status": "no_fit", "reason": "0 usable temperature(s)",
                   "replicas": 2, "temperatures": [{"temperature_K": 300.0, "phase": "glass", "n_glass_runs": 2,
                                                    "n_replicas": 2}],
                   "run_length_needed": [{"T_K": 300.0, "duration_ps": 101.1, "current_duration_ps": 10.0}]}
    fits["d"]["phase_of_fit"] = "liquid"
    v = _c1(fits)
    assert v.verdict == "not tested" and v.interval is None
    assert v.why_not_tested.startswith("1 composition(s) with a glass-phase Arrhenius fit")
    assert "300 K needs ~101 ps of production (now 10 ps)" in v.would_decide
    assert "d (P2S6 0.100 of P, 3 replicas): no glass Ea (fit covers liquid runs" in v.detail
    assert "a runs: 300 K glass" in v.detail


def test_c1_arrhenius_form_is_reported_not_decided():
    fits = {g: _arrhenius(0.30 + 0.5 * x, 0.005) for g, x in P2S6.items()}
    fits["b"]["chi2"] = 30.0     # p = 4e-8 on 1 dof
    v = _c1(fits)
    assert v.verdict == "holds"
    assert "chi2 30.00 on 1 dof, p = 4.32e-08; scatter beyond the SEs" in v.detail


# ---- C2 ---------------------------------------------------------------------------------------

def _c2(fits):
    return c2_verdict(fits, experimental_glass_span(EXPERIMENTAL), C2, 0.90, Scale(glasses=len(fits)))


def test_c2_span_is_the_experimental_glasses_widened_by_the_margin():
    assert experimental_glass_span(EXPERIMENTAL) == (1.0e-4, 3.5e-4)
    v = _c2({"a": _arrhenius(0.3, 0.01)})
    assert v.region.low == pytest.approx(-4.5) and v.region.high == pytest.approx(np.log10(3.5e-4) + 0.5)


def test_c2_holds_only_when_every_interval_lies_inside():
    # 2e-4 S/cm, ln SE 0.1, 3 replicas: log10 -3.70 +- 2.92 x 0.043 = [-3.83, -3.57], inside [-4.5, -2.96]
    inside = {g: _arrhenius(0.3, 0.01) for g in P2S6}
    v = _c2(inside)
    assert v.verdict == "holds"
    assert "extrapolated: 300 K lies 100 K below the fitted 400-600 K" in v.detail
    # one glass whose interval reaches past the widened span (a factor-e SE): not tested, not "holds"
    wide = dict(inside, c=_arrhenius(0.3, 0.01, sigma=1e-3, ln_se=1.0))
    v = _c2(wide)
    assert v.verdict == "not tested" and v.interval.high > v.region.high > v.interval.low
    assert "narrower intervals for c" in v.would_decide


def test_c2_does_not_hold_when_a_glass_lies_entirely_outside():
    low = dict({g: _arrhenius(0.3, 0.01) for g in P2S6}, e=_arrhenius(0.3, 0.01, sigma=1e-7, ln_se=0.1))
    v = _c2(low)
    assert v.verdict == "does not hold" and v.interval.high < v.region.low
    # the Bonferroni level over the five glasses: 1 - 0.10 / 5
    assert v.interval.level == pytest.approx(0.98)


def test_c2_without_a_glass_phase_sigma_is_not_tested():
    fits = {g: _arrhenius(0.3, 0.01) for g in P2S6}
    fits["a"] = _arrhenius(0.3, 0.01, phase_of_fit="mixed")
    v = _c2(fits)
    assert v.verdict == "not tested" and "no glass-phase sigma for a" in v.why_not_tested
    assert "across the glass transition" in v.detail


def test_transport_claims_rows_are_written(tmp_path):
    fits = {g: _arrhenius(0.30 + 0.5 * x, 0.005) for g, x in P2S6.items()}
    rows = transport_claims(fits, P2S6, EXPERIMENTAL, {g: f"{g}.json" for g in P2S6}, CRITERIA,
                            Scale(atoms=792, glasses=5, replicas=3, ps=10.0))
    assert [r.claim for r in rows] == ["C1", "C2"] and [r.verdict for r in rows] == ["holds", "holds"]
    write_claim_rows(tmp_path / "t.csv", [r.row() for r in rows])
    back = list(csv.DictReader(open(tmp_path / "t.csv")))
    assert back[0]["value_unit"] == "eV per unit P2S6 fraction of P" and back[0]["source"].startswith("e.json")


# ---- C13 --------------------------------------------------------------------------------------

R = np.arange(0.01, 5.0, 0.02)


def _gr(x0, width=0.04, height=100.0):
    return height * np.exp(-0.5 * ((R - x0) / width) ** 2)


def _rdf(ps4=2.09, p2s7=2.05, p2s6=2.07, second=3.65, jitter=0.0, rng=None):
    j = (lambda: rng.normal(0, jitter)) if rng is not None else (lambda: 0.0)  # noqa: E731
    return {"r_A": R, "g_P_S_PS4": _gr(ps4 + j()), "g_P_S_P2S7": _gr(p2s7 + j()),
            "g_P_S_P2S6": _gr(p2s6 + j()) + _gr(second + j(), 0.1, 15.0)}


C13 = {"bond_region_A": [2.0, 2.2], "p2s6_neighbour_region_A": [3.4, 3.8]}


def test_peak_position_refines_within_the_bin():
    for x0 in (2.071, 2.078, 2.085):
        assert peak_position(R, _gr(x0), 1.8, 2.6) == pytest.approx(x0, abs=0.001)
    assert np.isnan(peak_position(R, np.zeros_like(R), 1.8, 2.6))


def test_c13_holds_does_not_hold_and_not_tested():
    rng = np.random.default_rng(3)
    paper = {g: [_rdf(jitter=0.003, rng=rng) for _ in range(2)] for g in ("g1", "g2")}
    v = c13_verdict(paper, C13)
    assert v.verdict == "holds"
    # four glasses that agree within 0.003 A: the interval is floored at half the 0.02 A bin
    assert v.interval.high - v.interval.estimate == pytest.approx(0.01) and "floored at half a bin" in v.interval.method
    short = {"g1": [_rdf(second=3.1, jitter=0.003, rng=rng) for _ in range(2)],
             "g2": [_rdf(second=3.1, jitter=0.003, rng=rng) for _ in range(2)]}
    v = c13_verdict(short, C13)
    assert v.verdict == "does not hold" and v.interval.method.startswith("P2S6 P..S(neighbouring P)")
    assert v.interval.high < 3.4
    # a bond peak on the edge of 2.0-2.2 A: not tested
    edge = {"g1": [_rdf(ps4=2.2), _rdf(ps4=2.2)]}
    v = c13_verdict(edge, C13)
    assert v.verdict == "not tested" and v.interval.low < 2.2 < v.interval.high
    # one replica: no interval over glasses
    v = c13_verdict({"g1": [_rdf()]}, C13)
    assert v.verdict == "not tested" and v.interval is None and "fewer than 2 glasses" in v.why_not_tested


def test_c13_anion_absent_in_every_glass_is_not_tested():
    tables = [dict(_rdf()) for _ in range(3)]
    for t in tables:
        del t["g_P_S_P2S6"]
    v = c13_verdict({"g": tables}, C13)
    assert v.verdict == "not tested" and "P-S bond P2S6" in v.why_not_tested


# ---- scorecard --------------------------------------------------------------------------------

def _row(claim, verdict, estimate=None):
    row = {"claim": claim, "verdict": verdict, "estimand": "an estimand", "scale": "5 glasses x 2 replicas",
           "region": "> 0.05 eV", "detail": "per-glass numbers", "source": "s"}
    if estimate is not None:
        row.update(estimate=f"{estimate}", ci_low=f"{estimate - 0.01}", ci_high=f"{estimate + 0.01}", level="0.9",
                   value_unit="A")
    return row


def test_scorecard_has_one_row_per_claim_and_marks_untested(tmp_path):
    texts = read_claim_texts(REPO / "config" / "paper_claims.yaml")
    assert [c["id"] for c in texts] == [f"C{k}" for k in range(1, 14)]
    part = tmp_path / "part.csv"
    write_claim_rows(part, [_row("C13", "holds", 2.07)])
    rows = scorecard(texts, [part])
    assert len(rows) == 13
    assert {r["claim"]: r["verdict"] for r in rows}["C13"] == "holds"
    assert {r["claim"]: r["estimate"] for r in rows}["C13"] == "2.07 [2.06, 2.08] A (90%)"
    assert all(r["verdict"] == "not tested" and r["detail"] for r in rows if r["claim"] != "C13")
    write_scorecard(rows, tmp_path / "s.csv", tmp_path / "s.md", "test", tmp_path / "s.html")
    assert len(list(csv.DictReader(open(tmp_path / "s.csv")))) == 13
    page = (tmp_path / "s.html").read_text()
    assert page.count("<tr style=") == 13 and "1 claims hold, 0 do not hold, 12 not tested." in page
    assert "2.07 [2.06, 2.08] A" in page and "<b>holds</b>" in page
    with pytest.raises(ValueError, match="maybe"):
        write_claim_rows(part, [dict(_row("C1", "holds"), verdict="maybe")])
    with pytest.raises(ValueError, match="scale"):
        write_claim_rows(part, [dict(_row("C1", "holds"), scale="")])


def _scorecard(tmp_path, verdicts):
    rows = [{"claim": f"C{k + 1}", "figure": "Fig. 2A", "statement": f"statement {k + 1}", "verdict": v,
             "estimate": "-", "region": "", "scale": "no data"} for k, v in enumerate(verdicts)]
    write_scorecard(rows, tmp_path / "scorecard.csv", tmp_path / "scorecard.md", "config/config.yaml")
    return tmp_path / "scorecard.csv"


def test_the_end_of_a_run_counts_the_verdicts_of_the_scorecard(tmp_path):
    from lipsglass.claims import study_summary, verdict_counts
    verdicts = ["holds", "not tested", "does not hold", "not tested", "holds", "not tested"]
    csv_path = _scorecard(tmp_path, verdicts)
    assert verdict_counts(csv_path) == {"holds": 2, "does not hold": 1, "not tested": 3}
    text = study_summary(csv_path, tmp_path / "scorecard.md", tmp_path / "report.html")
    assert "2 of 6 hold, 1 do not hold, 3 not tested" in text
    assert f"Scorecard: {tmp_path / 'scorecard.md'}" in text and "make report" in text
    (tmp_path / "report.html").write_text("<html></html>")
    assert f"report: {tmp_path / 'report.html'}" in study_summary(csv_path, "s.md", tmp_path / "report.html")
    assert "has not been built" in study_summary(tmp_path / "absent.csv", "s.md", "r.html")
    csv_path.write_text(csv_path.read_text().replace("does not hold", "maybe"))
    with pytest.raises(ValueError, match="maybe"):
        verdict_counts(csv_path)


@pytest.mark.slow
def test_the_overview_figure_shows_the_verdicts_beside_the_panels(tmp_path):
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt
    from lipsglass.figures.overview import overview_figure
    panel = tmp_path / "panel.png"
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    fig.savefig(panel)
    plt.close(fig)
    csv_path = _scorecard(tmp_path, ["holds", "does not hold", "not tested"])
    overview_figure(csv_path, [("A", panel), ("B", panel), ("C", panel)], tmp_path / "o.png", tmp_path / "o.pdf")
    image = mpimg.imread(tmp_path / "o.png")
    assert image.shape[1] > image.shape[0] > 300 and (tmp_path / "o.pdf").stat().st_size > 0
