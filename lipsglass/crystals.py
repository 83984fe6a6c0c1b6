"""Small crystals of the force field's species as LAMMPS data files: standard cases with known
answers for the NEB tests and the validation page (``make validate``)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from lipsglass.forcefield import ForceField

A_LI2S = 5.70  # A, cubic cell edge of the Li2S test crystal (fixed; its cubic symmetry holds at any edge)


def write_li2s(path: str | Path, ff: ForceField, a: float = A_LI2S, n: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """n x n x n antifluorite Li2S (S0 on fcc sites, Li on all tetrahedral sites) as a data file
    in the workflow's type order. Returns (ids of Li, Li positions in A)."""
    topo = ff.default_topology_types()
    t_li, t_s = topo.atom.index("Li") + 1, topo.atom.index("S0") + 1
    q = ff.charges()
    fcc = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    tet = np.array(list(itertools.product((0.25, 0.75), repeat=3)))
    cells = np.array(list(itertools.product(range(n), repeat=3)))
    s_pos = ((cells[:, None, :] + fcc[None]) * a).reshape(-1, 3)
    li_pos = ((cells[:, None, :] + tet[None]) * a).reshape(-1, 3)
    lines = ["Li2S antifluorite test crystal", "", f"{len(s_pos) + len(li_pos)} atoms", f"{len(topo.atom)} atom types",
             f"{len(topo.bond)} bond types", f"{len(topo.angle)} angle types", f"{len(topo.dihedral)} dihedral types",
             "", f"0 {n * a} xlo xhi", f"0 {n * a} ylo yhi", f"0 {n * a} zlo zhi", "", "Masses", ""]
    lines += [f"{k} {ff.mass(t)} # {t}" for k, t in enumerate(topo.atom, 1)]
    lines += ["", "Atoms # full", ""]
    k = 0
    for t, group in ((t_s, s_pos), (t_li, li_pos)):
        for x, y, z in group:
            k += 1
            lines.append(f"{k} {k} {t} {q[topo.atom[t - 1]]} {x:.10f} {y:.10f} {z:.10f}")
    Path(path).write_text("\n".join(lines) + "\n")
    li_ids = np.arange(len(s_pos) + 1, len(s_pos) + len(li_pos) + 1)
    return li_ids, li_pos


def li_neighbour(li_ids: np.ndarray, li_pos: np.ndarray, k: int, shift) -> int:
    """Id of the Li at ``li_pos[k] + shift`` (A); raises ValueError unless exactly one is there."""
    j = np.flatnonzero(np.all(np.isclose(li_pos, li_pos[k] + np.asarray(shift, float)), axis=1))
    if len(j) != 1:
        raise ValueError(f"{len(j)} Li at {li_pos[k] + np.asarray(shift, float)} A (expected one)")
    return int(li_ids[j[0]])
