"""Energy minimisation with LAMMPS in this process (the project's one model setup,
``lipsglass.engine.setup.setup_commands``): inherent structures of thermal snapshots
(``InherentStructures``) and per-atom potential energy and Voronoi cells of a configuration or of
its energy minimum (``lammps_per_atom``).

Units (LAMMPS real): lengths A, energies kcal/mol, forces kcal/mol/A, volumes A^3.
"""

from __future__ import annotations

import ctypes
import tempfile
from pathlib import Path
from typing import Mapping

import numpy as np

from lipsglass.forcefield import ForceField
from lipsglass.engine.runtime import open_lammps
from lipsglass.lammpsio import Box, read_data
from lipsglass.engine.setup import run_commands, setup_commands


class InherentStructures:
    """Energy minimisation (LAMMPS, conjugate gradient, the project's one model setup
    ``lipsglass.engine.setup.setup_commands``) of configurations of one run: the inherent structure
    of a thermal snapshot, its vibrations quenched away (Stillinger-Weber). One LAMMPS instance
    holds the model of ``data_file`` (topology, box, force field); each call replaces the
    positions, minimises (LAMMPS ``minimize 0 ftol``: ftol in kcal/mol/A on the 2-norm of the
    global force vector; ``max_iterations`` steps at most; the largest force component left is
    kept in ``max_fmax``) and returns the minimised positions. Use as a context manager.

    Calls take (box, positions, ids) like ``dump_windows``' ``structure`` hook; the box must be
    the data file's (an NVT run). Results are cached per configuration, so a second pass over the
    same frames (the D2min-cutoff sensitivity run) does not minimise again."""

    def __init__(self, data_file: str, forcefield: str, md: Mapping, ftol: float, max_iterations: int,
                 log_file: str | None, threads: int = 1, switches: list[str] | None = None):
        self.args = (data_file, forcefield, md, log_file, threads)
        self.switches = switches
        self.ftol, self.max_iterations = float(ftol), int(max_iterations)
        self.lmp, self._tmp, self.cache = None, None, {}
        self.n_minimised, self.max_fmax = 0, 0.0

    def __enter__(self):
        data_file, forcefield, md, log_file, threads = self.args
        self._tmp = tempfile.TemporaryDirectory(prefix="lipsglass-inherent-")
        ff = ForceField.load(forcefield)
        self.data = read_data(data_file)
        commands = setup_commands(ff, str(Path(data_file).resolve()), self._tmp.name,
                                  topology=ff.default_topology_types(), kspace=md["kspace_style"],
                                  kspace_accuracy=md["kspace_accuracy"])
        self.lmp = open_lammps(log_file=log_file, threads=threads, switches=self.switches)
        run_commands(self.lmp, commands + ["thermo_style custom step pe fmax", "thermo_modify norm no"])
        if int(self.lmp.get_natoms()) != int(self.lmp.extract_global("nlocal")):
            raise RuntimeError("inherent structures run serially (one MPI rank)")
        self.ids = np.sort(self.data.ids)
        return self

    def __exit__(self, *exc):
        if self.lmp is not None:
            self.lmp.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __call__(self, box: Box, positions: np.ndarray, ids: np.ndarray) -> np.ndarray:
        if self.lmp is None:
            raise RuntimeError("InherentStructures is used outside its 'with' block")
        if not np.allclose(box.matrix, self.data.box.matrix, atol=1e-6) or not np.allclose(box.lo, self.data.box.lo,
                                                                                          atol=1e-6):
            raise ValueError("inherent structures: the frame's box differs from the run's data file (NVT expected)")
        pos = np.asarray(positions, float)
        key = pos.tobytes()
        if key in self.cache:
            return self.cache[key]
        order = np.argsort(ids)
        if not np.array_equal(np.asarray(ids)[order], self.ids):
            raise ValueError("inherent structures: the frame's atom ids differ from the run's data file")
        x = np.ascontiguousarray(pos[order]).ravel()
        self.lmp.scatter_atoms("x", 1, 3, (ctypes.c_double * len(x))(*x))
        self.lmp.command(f"minimize 0.0 {self.ftol} {self.max_iterations} {10 * self.max_iterations}")
        self.max_fmax = max(self.max_fmax, float(self.lmp.get_thermo("fmax")))
        out = np.empty_like(pos)
        out[order] = np.ctypeslib.as_array(self.lmp.gather_atoms("x", 1, 3)).reshape(-1, 3)
        self.n_minimised += 1
        self.cache[key] = out
        return out


def lammps_per_atom(data_file: str, forcefield: str, md: Mapping, workdir: str | Path, log_file: str,
                    threads: int = 1, rtol: float = 1e-6, minimise: tuple[float, int] | None = None,
                    voronoi_radii: Mapping[str, float] | None = None,
                    positions: np.ndarray | None = None, switches: list[str] | None = None) -> dict[str, np.ndarray]:
    """Per-atom potential energy (kcal/mol; ``compute pe/atom`` with all terms incl. kspace),
    Voronoi cell volume (A^3), face count and position (A) of every atom of a data file, sorted
    by id.

    ``positions`` (atoms in id order, A): evaluate these positions in the data file's cell (e.g.
    time-averaged ones) instead of the file's. ``minimise`` = (ftol kcal/mol/A, max iterations): first minimise the energy (conjugate
    gradient) and report the inherent structure. ``voronoi_radii`` ({element: radius A}): radical
    (power, radius-weighted) tessellation via ``compute voronoi/atom radius v_r`` instead of the
    plain one. Checks that sum(pe/atom) equals LAMMPS' total potential energy (relative ``rtol``)
    and that the cell volumes tile the box (both tessellations do), so a term missing from
    pe/atom cannot pass unnoticed.
    """
    ff = ForceField.load(forcefield)
    commands = setup_commands(ff, str(Path(data_file).resolve()), workdir, topology=ff.default_topology_types(),
                              kspace=md["kspace_style"], kspace_accuracy=md["kspace_accuracy"])
    commands += ["thermo_style custom step pe fmax vol", "thermo_modify norm no"]
    setup, commands = commands, []
    if minimise is not None:
        ftol, iterations = minimise
        commands += [f"minimize 0.0 {float(ftol)} {int(iterations)} {10 * int(iterations)}"]
    voro = "compute voro all voronoi/atom"
    if voronoi_radii is not None:
        data = read_data(data_file)
        type_element = dict(zip(data.types.tolist(), data.elements().tolist()))
        missing = sorted({e for e in type_element.values()} - set(voronoi_radii))
        if missing:
            raise ValueError(f"softness.voronoi_radii_A has no radius for {missing}")
        terms = "+".join(f"(type=={t})*{float(voronoi_radii[e])}" for t, e in sorted(type_element.items()))
        commands += [f"variable vradius atom {terms}"]
        voro += " radius v_vradius"
    commands += ["compute pe_atom all pe/atom",  # no keywords: pair bond angle dihedral improper kspace fix
                 voro,
                 "compute pe_sum all reduce sum c_pe_atom",
                 "thermo_style custom step pe c_pe_sum vol fmax",
                 "run 0"]
    lmp = open_lammps(log_file=log_file, threads=threads, switches=switches)
    try:
        run_commands(lmp, setup)
        if positions is not None:
            x = np.ascontiguousarray(np.asarray(positions, float)).ravel()
            if len(x) != 3 * int(lmp.get_natoms()):
                raise ValueError(f"{len(x) // 3} positions for {int(lmp.get_natoms())} atoms")
            lmp.scatter_atoms("x", 1, 3, (ctypes.c_double * len(x))(*x))
        run_commands(lmp, commands)
        # imported here: the LAMMPS module loads only once open_lammps has prepared it (lipsglass.engine.runtime)
        from lammps import LMP_STYLE_ATOM, LMP_TYPE_ARRAY, LMP_TYPE_VECTOR

        nlocal = lmp.extract_global("nlocal")
        ids = np.array(lmp.numpy.extract_atom("id")[:nlocal], dtype=np.int64)
        pos = np.array(lmp.numpy.extract_atom("x")[:nlocal], float)
        pe = np.array(lmp.numpy.extract_compute("pe_atom", LMP_STYLE_ATOM, LMP_TYPE_VECTOR)[:nlocal], float)
        cells = np.array(lmp.numpy.extract_compute("voro", LMP_STYLE_ATOM, LMP_TYPE_ARRAY)[:nlocal], float)
        total = float(lmp.get_thermo("pe"))
        volume = float(lmp.get_thermo("vol"))
        fmax = float(lmp.get_thermo("fmax"))
        natoms = int(lmp.get_natoms())
    finally:
        lmp.close()
    if nlocal != natoms:
        raise RuntimeError(f"{nlocal} local atoms of {natoms}: run this serially (one MPI rank)")
    if not abs(pe.sum() - total) <= rtol * max(abs(total), 1.0):
        raise RuntimeError(f"sum of pe/atom {pe.sum():.8g} differs from the total pe {total:.8g} kcal/mol")
    if not abs(cells[:, 0].sum() - volume) <= 1e-6 * volume:
        raise RuntimeError(f"Voronoi volumes sum to {cells[:, 0].sum():.8g} A^3, box {volume:.8g} A^3")
    order = np.argsort(ids)
    return {"id": ids[order], "pe_kcal_mol": pe[order], "voronoi_A3": cells[order, 0],
            "voronoi_faces": cells[order, 1], "position_A": pos[order], "total_pe_kcal_mol": total,
            "volume_A3": volume, "fmax_kcal_mol_A": fmax}

