"""A finished NEB band read and analysed apart from running it: the LAMMPS universe log
(``parse_neb_log``), the barriers of an energy profile (``path_barriers``) and the summary and
convergence verdict of one band (``neb_summary``).

5. **Barriers** from the last line of the (refined) NEB log, measured from the lowest
   preceding minimum (``path_barriers``): forward = max_i (E_i - min_{j<=i} E_j), backward =
   max_i (E_i - min_{j>=i} E_j) (eV) -- the backward barrier is the forward barrier of the
   reverse hop -- and the path (normalised reaction coordinate, energy). Intermediate minima
   are flagged.

Units: energies eV (the log's kcal/mol converted with ``lipsglass.units``), forces eV/A.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from lipsglass.neb.settings import NEBSettings
from lipsglass.units import KCAL_MOL_TO_EV


@dataclass
class NEBLog:
    """Rows of the NEB table of the universe log. Energies kcal/mol; rd normalised (0..1)."""

    steps: np.ndarray            # (n,)
    stage: np.ndarray            # (n,) 1 = regular NEB, 2 = climbing image
    max_atom_force: np.ndarray   # (n,) largest force component (kcal/mol/A) incl. nudging
    rd: np.ndarray               # (n, R)
    pe: np.ndarray               # (n, R)
    climbing_replica: int | None  # 1-based, None if the climbing stage never started
    stop_criteria: list[str]     # LAMMPS "Stopping criterion" of each stage (replica logs)

    @property
    def replicas(self) -> int:
        return self.rd.shape[1]


def parse_neb_log(path: str | Path, replica_log: str | Path | None = None) -> NEBLog:
    """Parse the NEB universe log: "Step MaxReplicaForce MaxAtomForce GradV0 GradV1 GradVc EBF
    EBR RDT RD1 PE1 ... RDN PEN" rows, with "Climbing replica = k" between the stages. The
    stop criteria come from ``replica_log`` (default: ``<path>.0``)."""
    path = Path(path)
    rows, stages, climbing, stage = [], [], None, 0
    n_cols = None
    for line in path.read_text(errors="replace").splitlines():
        words = line.split()
        if words[:2] == ["Step", "MaxReplicaForce"]:
            stage += 1
            n_cols = None
            continue
        if line.startswith("Climbing replica ="):
            climbing = int(words[-1])
            continue
        if stage == 0 or not words or not words[0].isdigit():
            continue
        try:
            values = [float(w) for w in words]
        except ValueError:
            continue
        if (len(values) - 9) % 2 or len(values) < 13:
            raise ValueError(f"{path}: NEB row with {len(values)} columns: {line!r}")
        if n_cols is not None and len(values) != n_cols:
            raise ValueError(f"{path}: NEB rows change width ({n_cols} -> {len(values)})")
        n_cols = len(values)
        rows.append(values)
        stages.append(stage)
    if not rows:
        raise ValueError(f"{path}: no NEB rows found")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ValueError(f"{path}: NEB rows of different widths {sorted(widths)}")
    table = np.array(rows)
    replica_log = Path(replica_log) if replica_log is not None else path.with_name(path.name + ".0")
    stops = []
    if replica_log.exists():
        stops = [ln.split("=", 1)[1].strip() for ln in replica_log.read_text(errors="replace").splitlines()
                 if "Stopping criterion =" in ln]
    return NEBLog(steps=table[:, 0].astype(np.int64), stage=np.array(stages), max_atom_force=table[:, 2],
                  rd=table[:, 9::2], pe=table[:, 10::2], climbing_replica=climbing, stop_criteria=stops)


def path_barriers(energy: Sequence[float]) -> dict:
    """Barriers of a band with energies ``energy`` (eV, images in path order), measured from the
    lowest *preceding* minimum: forward = max_i (E_i - min_{j<=i} E_j), backward = max_i (E_i -
    min_{j>=i} E_j). Without intermediate minima below the ends these are E_max - E_first and
    E_max - E_last; with an intermediate minimum they are the largest rise the hop has to climb
    out of any basin on the way (the rate-limiting elementary hop). The backward barrier is the
    forward barrier of the reverse hop. Also returns the image (0-based) of each barrier top and
    the interior local minima (images lower than both neighbours)."""
    e = np.asarray(energy, float)
    if e.ndim != 1 or len(e) < 3 or not np.all(np.isfinite(e)):
        raise ValueError(f"need >= 3 finite image energies, got {e}")
    rise_f = e - np.minimum.accumulate(e)
    rise_b = e - np.minimum.accumulate(e[::-1])[::-1]
    minima = [k for k in range(1, len(e) - 1) if e[k] < e[k - 1] and e[k] < e[k + 1]]
    return {"forward": float(rise_f.max()), "backward": float(rise_b.max()), "forward_top": int(np.argmax(rise_f)),
            "backward_top": int(np.argmax(rise_b)), "intermediate_minima": minima,
            "below_initial": bool(e[1:-1].min() < e[0]), "below_final": bool(e[1:-1].min() < e[-1])}


def neb_summary(log: NEBLog, settings: NEBSettings) -> dict:
    """Barriers (eV, ``path_barriers``) and path of the last NEB row, and the convergence verdict
    of this band.

    converged: the climbing stage ran and LAMMPS stopped it on the force (or, with etol > 0,
    energy) tolerance, i.e. before its step limit.
    """
    rd, pe = log.rd[-1], log.pe[-1]
    e = (pe - pe[0]) * KCAL_MOL_TO_EV
    b = path_barriers(e)
    climb_rows = log.stage == 2
    climb_steps = int(log.steps[climb_rows][-1] - log.steps[climb_rows][0]) if climb_rows.any() else 0
    stop = log.stop_criteria[1] if len(log.stop_criteria) >= 2 else None
    if stop is not None:
        converged = stop in ("force tolerance", "energy tolerance")
    else:  # replica log missing: judge by the step count
        converged = bool(climb_rows.any()) and climb_steps < int(settings.n_steps_climb)
    # the regular (non-climbing) band at the end of stage 1: a second estimate
    pe1 = log.pe[log.stage == 1][-1] if (log.stage == 1).any() else pe
    b1 = path_barriers((pe1 - pe1[0]) * KCAL_MOL_TO_EV)
    return {
        "forward_barrier_eV": b["forward"],
        "backward_barrier_eV": b["backward"],
        "reaction_energy_eV": float(e[-1]),
        "saddle_replica": b["forward_top"] + 1,
        "climbing_replica": log.climbing_replica,
        "converged": bool(converged),
        "stop_criteria": log.stop_criteria,
        "regular_forward_barrier_eV": b1["forward"],
        "regular_backward_barrier_eV": b1["backward"],
        "neb_steps": int(log.steps[-1] - log.steps[0]),
        "climb_steps": climb_steps,
        "final_max_force_component_eV_A": float(log.max_atom_force[-1] * KCAL_MOL_TO_EV),
        # interior images lower than both neighbours: the hop passes an intermediate basin and
        # its barriers are measured from the lowest preceding minimum (path_barriers)
        "intermediate_minima": [k + 1 for k in b["intermediate_minima"]],
        "intermediate_minimum": bool(b["intermediate_minima"]),
        "intermediate_below_ends": bool(b["below_initial"] and b["below_final"]),
        "lowest_intermediate_eV": float(e[1:-1].min()),
        "path_reaction_coordinate": [float(x) for x in rd],
        "path_energy_eV": [float(x) for x in e],
        "energy_initial_kcal_mol": float(pe[0]),
        "energy_final_kcal_mol": float(pe[-1]),
    }
