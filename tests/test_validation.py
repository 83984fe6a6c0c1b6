"""The validation page (lipsglass.validation): its standard cases carry known answers, every row
that runs agrees within its tolerance, rows that cannot run say why, and a disagreement fails."""

import csv

from conftest import TEST_DATA
from lipsglass import validation as V
from lipsglass.cli import main
from lipsglass.transport.analysis import analyse_trajectory


def test_random_walk_case_has_the_planted_D(tmp_path):
    dump = tmp_path / "walk.lammpstrj"
    planted = V.random_walk_dump(dump, n_li=64, n_s=16, n_frames=201, seed=3)
    _, res = analyse_trajectory(dump, "Li", dt_ps=0.1)
    assert abs(res.D_cm2_s - planted) < 3 * res.D_stderr_cm2_s
    assert res.D_stderr_cm2_s < 0.2 * planted


def test_every_row_that_runs_agrees_and_the_page_is_written(tmp_path):
    # the NEB row runs two NEBs (minutes): tests/test_neb_oracle.py checks that row itself
    rows = V.run_all(reference_dir=TEST_DATA, skip=["NEB barrier (eV)"])
    counts = V.write_page(rows, tmp_path)
    failed = [(r.quantity, r.note) for r in rows if r.passed is False]
    assert counts["FAIL"] == 0, failed
    for r in rows:
        if r.passed is None:
            assert r.note.startswith("not run: ") and len(r.note) > 12
        else:
            assert r.oracle_version and r.tolerance and r.lipsglass and r.oracle
    with open(tmp_path / "agreement.csv") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == len(rows) and set(V.COLUMNS) <= set(table[0])
    assert "<table id='validation'>" in (tmp_path / "agreement.html").read_text()


def test_a_disagreeing_row_fails_the_command(tmp_path, monkeypatch):
    monkeypatch.setattr(V, "run_all", lambda reference_dir=None: [
        V.Row("x", "1", "2", "1", "<= 0.1", False, "oracle 1.0"), V.Row("y", passed=None, note="not run: absent")])
    assert main(["validate", "--out", str(tmp_path)]) == 1
    monkeypatch.setattr(V, "run_all", lambda reference_dir=None: [V.Row("y", passed=None, note="not run: absent")])
    assert main(["validate", "--out", str(tmp_path)]) == 0


def test_reference_dir_is_switchable(tmp_path, monkeypatch):
    (tmp_path / "reference_energies.json").write_text("{}")
    assert V.ariga_reference_dir(tmp_path) == tmp_path
    monkeypatch.setenv("LIPSGLASS_ARIGA_REFERENCE", str(tmp_path))
    assert V.ariga_reference_dir() == tmp_path
