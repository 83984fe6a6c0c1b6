"""LAMMPS on MPI ranks (Snakemake's MPI pattern) gives the energies of the one-rank Python-module
path to within rounding, and fails with LAMMPS' own message."""

import re

import pytest

from lipsglass.builder import build_glass, write_data_file
from lipsglass.composition import Composition
from lipsglass.forcefield import ForceField
from lipsglass.engine.runner import SimulationFailed, run_lammps, run_lammps_mpi
from lipsglass.engine.setup import setup_commands


def _pe_series(log):
    """(step, pe) rows of the thermo output of the last run in a LAMMPS log."""
    text = open(log).read()
    block = text[text.rindex("Step") :].split("Loop time")[0]
    return [tuple(map(float, ln.split())) for ln in block.splitlines()[1:] if re.match(r"^\s*\d", ln)]


def test_two_ranks_match_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ff = ForceField.load("ariga2022")
    glass = build_glass(Composition("mpi", {"PS4": 3, "P2S7": 6, "P2S6": 2}), ff, seed=4, density_g_cm3=1.2,
                        min_distance_A=2.2)
    data = write_data_file(glass, ff, tmp_path / "glass.data")
    commands = setup_commands(ff, data, ".", topology=ff.default_topology_types(), kspace="pppm",
                              kspace_accuracy=1e-5) + [
        # loop geom: velocities independent of how atoms are spread over ranks
        "velocity all create 600 5 loop geom", "timestep 1.0", "fix integrate all nve",
        "thermo_style custom step pe", "thermo_modify format float %.12g", "thermo 10", "run 20"]
    run_lammps(commands, tmp_path / "log.one", threads=1)
    run_lammps_mpi(commands, tmp_path / "log.two", ranks=2, input_file=tmp_path / "in.two")
    one, two = _pe_series(tmp_path / "log.one"), _pe_series(tmp_path / "log.two")
    assert [s for s, _ in one] == [s for s, _ in two] == [0, 10, 20]
    for (_, a), (_, b) in zip(one, two):
        assert b == pytest.approx(a, rel=1e-9)   # summation order differs between 1 and 2 ranks
    grid = re.search(r"(\d+) by (\d+) by (\d+) MPI processor grid", open(tmp_path / "log.two").read())
    assert int(grid[1]) * int(grid[2]) * int(grid[3]) == 2   # really two ranks


def test_mpi_failure_carries_the_lammps_message(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SimulationFailed, match="Unrecognized pair style"):
        run_lammps_mpi(["units real", "pair_style not_a_style"], tmp_path / "log.bad", ranks=2,
                       input_file=tmp_path / "in.bad")
