"""The one LAMMPS setup builder: a force field plus a data file -> a ready LAMMPS instance.

Every LAMMPS run of the project (energy evaluation, melt-quench, production, minimisation,
NEB inputs) starts from ``setup_commands`` so the model is defined in exactly one place.
"""

from __future__ import annotations

from pathlib import Path

from lipsglass.forcefield import (ForceField, TopologyTypes, coefficient_commands, infer_topology_types,
                                  style_commands, write_sw_table)
from lipsglass.lammpsio import read_data

# Neighbour-list settings used for every run (skin 2 A; rebuild checked every step).
NEIGHBOUR_COMMANDS = ["neighbor 2.0 bin", "neigh_modify delay 0 every 1 check yes"]


def resolve_atom_types(data_path: str | Path, ff: ForceField, atom_types: list[str] | None) -> list[str]:
    """Force-field type of each LAMMPS atom type of a data file: as given, else from the
    Masses comments / Atom Type Labels of the file."""
    data = read_data(data_path)
    n = data.n_types.get("atom", len(data.masses))
    if atom_types:
        if len(atom_types) != n:
            raise ValueError(f"{data_path} has {n} atom types but {len(atom_types)} names were given: {atom_types}")
        return [ff.canonical_type(t) for t in atom_types]
    if len(data.type_labels) != n:
        raise ValueError(f"{data_path}: atom types are not named in the file (Masses comments); "
                         "give them with --types in LAMMPS type order")
    return [ff.canonical_type(data.type_labels[t]) for t in range(1, n + 1)]


def setup_commands(ff: ForceField, data_path: str | Path, workdir: str | Path,
                   atom_types: list[str] | None = None, topology: TopologyTypes | None = None,
                   kspace: str | None = None, kspace_accuracy: float | None = None,
                   extra_read_data: str = "", restart_file: str | Path | None = None) -> list[str]:
    """LAMMPS commands that define the model of ``data_path`` with force field ``ff``.

    With ``restart_file`` (and ``topology``) the state comes from a LAMMPS restart file instead
    and every coefficient is applied again (restart files do not store the sw table).

    Coefficients stored in the data file are ignored (``nocoeff``): the force-field file is the
    only source of parameters. Topology types are inferred from the data file unless given.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if topology is None:
        if restart_file is not None:
            raise ValueError("reading a restart file needs the topology types")
        types = resolve_atom_types(data_path, ff, atom_types)
        topology = infer_topology_types(read_data(data_path), types, ff)
    sw_file = write_sw_table(ff, workdir / f"{ff.name}.sw") if ff.sw_names() else None
    if sw_file is not None and not Path(workdir).is_absolute():
        sw_file = sw_file.name if str(workdir) == "." else sw_file
    styles = style_commands(ff)
    if restart_file is not None:
        # units, atom style and boundaries come with the restart; the interaction styles are set
        # again after it (a hybrid pair style with sw is not stored in restart files)
        box_defining = ("units ", "atom_style ", "boundary ")
        head = [c for c in styles if c.startswith(box_defining)]
        styles = head + [f"read_restart {restart_file}"] + [c for c in styles if not c.startswith(box_defining)]
    else:
        styles = styles + [f"read_data {data_path} nocoeff {extra_read_data}".strip()]
    return (styles
            + coefficient_commands(ff, topology, sw_file, kspace, kspace_accuracy)
            + NEIGHBOUR_COMMANDS)


def run_commands(lmp, commands: list[str]) -> None:
    """Issue commands one by one so a LAMMPS error names the failing line."""
    for cmd in commands:
        lmp.command(cmd)
