"""The project's force-field implementation against the reference energies of the Ariga models."""

import json
import subprocess
import sys

import pytest

from conftest import reference_file, requires_shared
from lipsglass.engine.energy import evaluate_energy
from lipsglass.forcefield import ForceField

GLASS_TYPES = ["P2", "S2", "Pa", "S1", "Sc", "P4", "S4", "Li"]
TERMS = ("ebond", "eangle", "edihed", "evdwl")


@pytest.fixture(scope="module")
def reference():
    return json.loads(reference_file("reference_energies.json").read_text())


# 70:30 is carried in tests/data (a clone without ../shared checks the force field with it)
@pytest.mark.parametrize("model", ["70Li2S-30P2S5", pytest.param("67Li2S-33P2S5", marks=requires_shared),
                                   pytest.param("75Li2S-25P2S5", marks=requires_shared)])
@pytest.mark.slow
def test_reference_energies_ewald(model, reference):
    ref = reference[model]
    got = evaluate_energy(reference_file(f"{model}.data"), ForceField.load("ariga2022"), GLASS_TYPES, kspace="ewald")
    for term in TERMS:
        assert got[term] == pytest.approx(ref[term], rel=1e-6), term
    assert got["pe"] == pytest.approx(ref["pe"], rel=1e-5)
    assert got["ecoul_plus_elong"] == pytest.approx(ref["ecoul_plus_elong"], rel=1e-5)


@pytest.mark.slow
def test_reference_energy_pppm_through_the_command_line(reference):
    proc = subprocess.run(
        [sys.executable, "-m", "lipsglass", "energy", str(reference_file("70Li2S-30P2S5.data")),
         "--kspace", "pppm", "--types", ",".join(GLASS_TYPES)],
        capture_output=True, text=True, check=True)
    got = json.loads(proc.stdout)
    assert got["pe"] == pytest.approx(reference["70Li2S-30P2S5_pppm"]["pe"], rel=1e-5)
    assert got["pe"] == pytest.approx(reference["70Li2S-30P2S5"]["pe"], rel=1e-5)


@pytest.mark.parametrize("crystal,types", [
    ("Li7P3S11", None), ("beta-Li3PS4", None), ("gamma-Li3PS4", None), ("Li7PS6", None),
    ("Li4P2S6", ["Li", "P2", "S2"]),   # this file names its P2S6 types plain 'P' and 'S'
])
def test_crystal_cells(crystal, types):
    # most crystal files name their types in Masses comments (Li7PS6 calls S0 'S')
    got = evaluate_energy(reference_file(f"{crystal}.data"), ForceField.load("ariga2022"), types, kspace="ewald")
    assert got["pe"] < 0 and all(abs(got[t]) < 1e6 for t in TERMS)
