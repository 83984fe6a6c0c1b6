"""Claim verdicts follow their stated criteria on synthetic stage outputs."""

import csv

import numpy as np
import pytest

from conftest import REPO
from lipsglass.claims import read_claim_texts, scorecard, structure_claims, transport_claims, write_claim_rows, write_scorecard

EXPERIMENTAL = REPO / "config" / "experimental_conductivity.csv"


def _arrhenius(ea, se, sigma, sigma_se):
    return {"Ea_eV": ea, "Ea_stderr_eV": se, "temperatures_used_K": [500, 600, 700, 800], "chi2": 2.0, "dof": 2,
            "sigma_300K_S_cm": sigma, "sigma_300K_stderr_S_cm": sigma_se}


def test_c1_holds_when_ea_rises_with_p2s6_and_not_when_flat():
    p2s6 = {"a": 0.25, "b": 0.15, "c": 0.05}
    rising = {"a": _arrhenius(0.40, 0.01, 2e-4, 5e-5), "b": _arrhenius(0.35, 0.01, 2e-4, 5e-5),
              "c": _arrhenius(0.30, 0.01, 2e-4, 5e-5)}
    rows = {r["claim"]: r for r in transport_claims(rising, p2s6, EXPERIMENTAL, {g: g for g in p2s6})}
    assert rows["C1"]["verdict"] == "holds"
    assert rows["C2"]["verdict"] == "holds"          # 2e-4 S/cm lies within 1e-4..3.5e-4
    flat = {g: _arrhenius(0.35 + 0.005 * k, 0.02, 1e-7, 1e-8) for k, g in enumerate(p2s6)}
    rows = {r["claim"]: r for r in transport_claims(flat, p2s6, EXPERIMENTAL, {g: g for g in p2s6})}
    assert rows["C1"]["verdict"] == "does not hold"  # slope -0.05/0.1 eV per unit fraction: not > 2 SE
    assert rows["C2"]["verdict"] == "does not hold"  # 1e-7 S/cm far below every glass value


def test_c13_from_synthetic_gr():
    r = np.arange(0.01, 8, 0.02)
    peak = lambda r0: np.exp(-((r - r0) / 0.05) ** 2)  # noqa: E731
    table = {"r_A": r, "g_P_S_PS4": peak(2.09), "g_P_S_P2S7": peak(2.07),
             "g_P_S_P2S6": peak(2.05) + 0.3 * peak(3.6)}
    assert structure_claims({"g": table}, {"g": "x"})[0]["verdict"] == "holds"
    table["g_P_S_P2S6"] = peak(2.05) + 0.3 * peak(3.1)
    assert structure_claims({"g": table}, {"g": "x"})[0]["verdict"] == "does not hold"


def test_scorecard_has_one_row_per_claim_and_marks_untested(tmp_path):
    texts = read_claim_texts(REPO / "config" / "paper_claims.yaml")
    assert [c["id"] for c in texts] == [f"C{k}" for k in range(1, 14)]
    part = tmp_path / "part.csv"
    write_claim_rows(part, [{"claim": "C13", "verdict": "holds", "measured": "2.07 A", "criterion": "c", "source": "s"}])
    rows = scorecard(texts, [part])
    assert len(rows) == 13
    assert {r["claim"]: r["verdict"] for r in rows}["C13"] == "holds"
    assert all(r["verdict"] == "not tested" and r["criterion"] for r in rows if r["claim"] != "C13")
    write_scorecard(rows, tmp_path / "s.csv", tmp_path / "s.md", "test", tmp_path / "s.html")
    assert len(list(csv.DictReader(open(tmp_path / "s.csv")))) == 13
    page = (tmp_path / "s.html").read_text()
    assert page.count("<tr style=") == 13 and "1 claims hold, 0 do not hold, 12 not tested." in page
    assert "2.07 A" in page and "<b>holds</b>" in page
    with pytest.raises(ValueError):
        write_claim_rows(part, [{"claim": "C1", "verdict": "maybe", "measured": "", "criterion": "", "source": ""}])
