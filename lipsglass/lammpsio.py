"""Reading and writing LAMMPS text files: data files (atom_style full) and text dumps.

One reader for the whole project, used by the analyses (which must work on any LAMMPS
structure, not only on ones this workflow built) and by the force-field energy command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

# Element guessed from a mass (g/mol) when a file names no elements.
ELEMENT_MASSES = {"Li": 6.941, "P": 30.973762, "S": 32.066, "O": 15.999, "Na": 22.98977, "Ge": 72.63}


def element_from_mass(mass: float, tolerance: float = 0.05) -> str:
    best = min(ELEMENT_MASSES, key=lambda el: abs(ELEMENT_MASSES[el] - mass))
    if abs(ELEMENT_MASSES[best] - mass) > tolerance:
        raise ValueError(f"no element has mass {mass} g/mol (within {tolerance}); name elements explicitly")
    return best


@dataclass
class Box:
    """Periodic simulation cell: lower corner, edge lengths and tilts (LAMMPS convention)."""

    lo: np.ndarray
    hi: np.ndarray
    tilt: np.ndarray = field(default_factory=lambda: np.zeros(3))  # xy, xz, yz

    @property
    def lengths(self) -> np.ndarray:
        return self.hi - self.lo

    @property
    def matrix(self) -> np.ndarray:
        """Cell vectors as rows: a, b, c."""
        lx, ly, lz = self.lengths
        xy, xz, yz = self.tilt
        return np.array([[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]])

    @property
    def volume(self) -> float:
        return float(np.prod(self.lengths))

    @property
    def is_orthogonal(self) -> bool:
        return bool(np.all(self.tilt == 0.0))

    def wrap(self, positions: np.ndarray) -> np.ndarray:
        """Positions mapped into the cell [lo, hi)."""
        frac = (positions - self.lo) @ np.linalg.inv(self.matrix)
        frac -= np.floor(frac)
        return self.lo + frac @ self.matrix

    def minimum_image(self, vectors: np.ndarray) -> np.ndarray:
        frac = vectors @ np.linalg.inv(self.matrix)
        frac -= np.round(frac)
        return frac @ self.matrix


@dataclass
class DataFile:
    """Contents of a LAMMPS data file (atom_style full, or atomic/charge with fewer columns)."""

    box: Box
    ids: np.ndarray
    types: np.ndarray
    positions: np.ndarray
    masses: dict[int, float]
    type_labels: dict[int, str]  # from Masses comments or Atom Type Labels; may be empty
    molecules: np.ndarray | None = None
    charges: np.ndarray | None = None
    images: np.ndarray | None = None
    velocities: np.ndarray | None = None
    bonds: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), int))  # type, i, j (atom ids)
    angles: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), int))
    dihedrals: np.ndarray = field(default_factory=lambda: np.zeros((0, 5), int))
    impropers: np.ndarray = field(default_factory=lambda: np.zeros((0, 5), int))
    n_types: dict[str, int] = field(default_factory=dict)  # "atom", "bond", "angle", ...

    @property
    def n_atoms(self) -> int:
        return len(self.ids)

    def elements(self) -> np.ndarray:
        """Element symbol of every atom, from masses (labels may be force-field type names)."""
        by_type = {t: element_from_mass(m) for t, m in self.masses.items()}
        return np.array([by_type[t] for t in self.types])

    def unwrapped_positions(self) -> np.ndarray:
        if self.images is None:
            return self.positions.copy()
        return self.positions + self.images @ self.box.matrix


_HEADER_COUNTS = {
    "atoms": "atoms", "bonds": "bonds", "angles": "angles", "dihedrals": "dihedrals",
    "impropers": "impropers", "atom types": "atom", "bond types": "bond", "angle types": "angle",
    "dihedral types": "dihedral", "improper types": "improper",
}
_SECTIONS = {
    "Masses", "Atoms", "Velocities", "Bonds", "Angles", "Dihedrals", "Impropers",
    "Pair Coeffs", "PairIJ Coeffs", "Bond Coeffs", "Angle Coeffs", "Dihedral Coeffs",
    "Improper Coeffs", "BondBond Coeffs", "BondAngle Coeffs", "MiddleBondTorsion Coeffs",
    "EndBondTorsion Coeffs", "AngleTorsion Coeffs", "AngleAngleTorsion Coeffs",
    "BondBond13 Coeffs", "AngleAngle Coeffs", "Atom Type Labels", "Bond Type Labels",
    "Angle Type Labels", "Dihedral Type Labels", "Improper Type Labels",
}


def read_data(path: str | Path) -> DataFile:
    """Parse a LAMMPS data file. Atom style is taken from the ``Atoms # style`` comment, else
    inferred from the column count (full: id mol type q x y z [ix iy iz]). A truncated or
    garbled file raises InputFileError naming the file."""
    try:
        return _read_data(path)
    except InputFileError:
        raise
    except (ValueError, IndexError, KeyError, AssertionError) as exc:
        raise InputFileError(f"{path}: not a readable LAMMPS data file (truncated or garbled?): "
                             f"{type(exc).__name__}: {exc}") from exc


def _read_data(path: str | Path) -> DataFile:
    lines = Path(path).read_text().splitlines()
    counts: dict[str, int] = {}
    lo = np.zeros(3)
    hi = np.zeros(3)
    tilt = np.zeros(3)
    i = 1  # first line is a title
    while i < len(lines):
        raw = lines[i].split("#")[0].strip()
        stripped = lines[i].strip()
        if stripped.split("#")[0].strip() in _SECTIONS:
            break
        if raw:
            for key, name in _HEADER_COUNTS.items():
                if raw.endswith(key) and re.fullmatch(r"\d+\s+" + key, raw):
                    counts[name] = int(raw.split()[0])
            parts = raw.split()
            for axis, (l_key, h_key) in enumerate((("xlo", "xhi"), ("ylo", "yhi"), ("zlo", "zhi"))):
                if parts[-2:] == [l_key, h_key]:
                    lo[axis], hi[axis] = float(parts[0]), float(parts[1])
            if parts[-3:] == ["xy", "xz", "yz"]:
                tilt = np.array([float(v) for v in parts[:3]])
        i += 1

    sections: dict[str, tuple[str, list[str]]] = {}
    while i < len(lines):
        stripped = lines[i].strip()
        name, _, comment = stripped.partition("#")
        name = name.strip()
        if name in _SECTIONS:
            i += 1
            while i < len(lines) and not lines[i].strip():
                i += 1
            body = []
            while i < len(lines) and lines[i].strip() and lines[i].split("#")[0].strip() not in _SECTIONS:
                body.append(lines[i])
                i += 1
            sections[name] = (comment.strip(), body)
        else:
            i += 1

    masses: dict[int, float] = {}
    labels: dict[int, str] = {}
    for line in sections.get("Masses", ("", []))[1]:
        data, _, comment = line.partition("#")
        t, m = data.split()[:2]
        masses[int(t)] = float(m)
        if comment.strip():
            labels[int(t)] = comment.split()[0]
    for line in sections.get("Atom Type Labels", ("", []))[1]:
        t, name = line.split()[:2]
        labels[int(t)] = name

    if "Atoms" not in sections:
        raise ValueError(f"{path}: no Atoms section")
    style, atom_lines = sections["Atoms"]
    table = np.array([ln.split("#")[0].split() for ln in atom_lines], dtype=float)
    ncol = table.shape[1]
    style = style or {7: "full", 10: "full", 5: "atomic", 8: "atomic", 6: "charge", 9: "charge"}.get(ncol, "")
    if style == "full":
        ids, mol, typ, q, xyz = table[:, 0], table[:, 1], table[:, 2], table[:, 3], table[:, 4:7]
        img = table[:, 7:10] if ncol >= 10 else None
    elif style == "atomic":
        ids, mol, typ, q, xyz = table[:, 0], None, table[:, 1], None, table[:, 2:5]
        img = table[:, 5:8] if ncol >= 8 else None
    elif style == "charge":
        ids, mol, typ, q, xyz = table[:, 0], None, table[:, 1], table[:, 2], table[:, 3:6]
        img = table[:, 6:9] if ncol >= 9 else None
    else:
        raise ValueError(f"{path}: unsupported atom style {style!r} ({ncol} columns)")
    order = np.argsort(ids)
    ids = ids[order].astype(np.int64)

    def _topology(name: str, width: int) -> np.ndarray:
        body = sections.get(name, ("", []))[1]
        if not body:
            return np.zeros((0, width), dtype=np.int64)
        arr = np.array([ln.split("#")[0].split()[1: 1 + width] for ln in body], dtype=np.int64)
        return arr

    velocities = None
    if "Velocities" in sections:
        vel = np.array([ln.split()[:4] for ln in sections["Velocities"][1]], dtype=float)
        velocities = vel[np.argsort(vel[:, 0])][:, 1:4]

    n_types = {k: v for k, v in counts.items() if k in ("atom", "bond", "angle", "dihedral", "improper")}
    data = DataFile(
        box=Box(lo, hi, tilt),
        ids=ids,
        types=typ[order].astype(np.int64),
        positions=xyz[order],
        masses=masses,
        type_labels=labels,
        molecules=None if mol is None else mol[order].astype(np.int64),
        charges=None if q is None else q[order],
        images=None if img is None else img[order].astype(np.int64),
        velocities=velocities,
        bonds=_topology("Bonds", 3),
        angles=_topology("Angles", 4),
        dihedrals=_topology("Dihedrals", 5),
        impropers=_topology("Impropers", 5),
        n_types=n_types,
    )
    if counts.get("atoms", data.n_atoms) != data.n_atoms:
        raise ValueError(f"{path}: header says {counts['atoms']} atoms, Atoms section has {data.n_atoms}")
    return data


@dataclass
class DumpFrame:
    """One frame of a LAMMPS text dump, rows sorted by atom id."""

    timestep: int
    box: Box
    columns: dict[str, np.ndarray]

    @property
    def ids(self) -> np.ndarray:
        return self.columns["id"]

    def has(self, *names: str) -> bool:
        return all(n in self.columns for n in names)

    def positions(self) -> np.ndarray:
        """Wrapped/plain positions x y z (scaled xs ys zs converted)."""
        if self.has("x", "y", "z"):
            return np.column_stack([self.columns[c] for c in ("x", "y", "z")])
        if self.has("xs", "ys", "zs"):
            frac = np.column_stack([self.columns[c] for c in ("xs", "ys", "zs")])
            return self.box.lo + frac @ self.box.matrix
        if self.has("xu", "yu", "zu"):
            return self.box.wrap(self.unwrapped_positions())
        raise KeyError("dump has no x y z, xs ys zs or xu yu zu columns")

    def unwrapped_positions(self) -> np.ndarray:
        """Unwrapped coordinates: xu yu zu, or x y z plus image flags ix iy iz."""
        if self.has("xu", "yu", "zu"):
            return np.column_stack([self.columns[c] for c in ("xu", "yu", "zu")])
        if self.has("ix", "iy", "iz"):
            img = np.column_stack([self.columns[c] for c in ("ix", "iy", "iz")])
            return self.positions() + img @ self.box.matrix
        raise KeyError("dump has neither xu yu zu nor image flags ix iy iz: cannot unwrap")

    def elements(self, type_to_element: dict[int, str] | None = None) -> np.ndarray:
        if "element" in self.columns:
            return self.columns["element"]
        if "type" in self.columns and type_to_element:
            return np.array([type_to_element[int(t)] for t in self.columns["type"]])
        raise KeyError("dump has no element column; give a type -> element mapping")


_INT_COLUMNS = {"id", "type", "mol", "ix", "iy", "iz", "proc"}
_STR_COLUMNS = {"element"}


class InputFileError(ValueError):
    """An input file is truncated or garbled; the message names the file and where."""


def iter_dump(path: str | Path) -> Iterator[DumpFrame]:
    """Yield frames of a LAMMPS text dump (``dump custom``) one at a time.

    A truncated or garbled file (a killed run's partial last frame, a corrupt line) raises
    InputFileError naming the file, the frame (counted from 0), its timestep and the line."""
    with open(path) as fh:
        lineno = 0
        index = -1
        timestep = None

        def fail(what: str):
            where = f"frame {index}" + (f" (timestep {timestep})" if timestep is not None else "")
            raise InputFileError(f"{path}: {where}, line {lineno}: {what}")

        def next_line(expecting: str) -> str:
            nonlocal lineno
            line = fh.readline()
            lineno += 1
            if not line:
                fail(f"file ends inside the frame (expected {expecting}): truncated dump")
            return line

        def numbers(line: str, kind, count: int | None, what: str) -> list:
            parts = line.split()
            if count is not None and len(parts) < count:
                fail(f"{what}: expected {count} values, got {len(parts)} ({line.strip()!r})")
            try:
                return [kind(v) for v in parts]
            except ValueError:
                fail(f"{what}: not a number in {line.strip()!r}")

        while True:
            line = fh.readline()
            lineno += 1
            if not line:
                return
            if not line.strip():
                continue
            if not line.startswith("ITEM: TIMESTEP"):
                if index < 0:
                    fail(f"not a LAMMPS text dump (first line {line.strip()[:60]!r})")
                fail(f"expected 'ITEM: TIMESTEP', got {line.strip()[:60]!r}")
            index += 1
            timestep = None
            timestep = numbers(next_line("the timestep"), int, 1, "timestep")[0]
            if not next_line("ITEM: NUMBER OF ATOMS").startswith("ITEM: NUMBER OF ATOMS"):
                fail("expected 'ITEM: NUMBER OF ATOMS'")
            n = numbers(next_line("the atom count"), int, 1, "atom count")[0]
            bounds_header = next_line("ITEM: BOX BOUNDS")
            if not bounds_header.startswith("ITEM: BOX BOUNDS"):
                fail("expected 'ITEM: BOX BOUNDS'")
            bounds_header = bounds_header.split()
            triclinic = "xy" in bounds_header
            vals = np.array([numbers(next_line("box bounds"), float, 3 if triclinic else 2, "box bounds")[:3 if triclinic else 2]
                             for _ in range(3)])
            if triclinic:
                # LAMMPS writes the bounding box of a triclinic cell; recover lo/hi
                xy, xz, yz = vals[:, 2]
                xlo = vals[0, 0] - min(0.0, xy, xz, xy + xz)
                xhi = vals[0, 1] - max(0.0, xy, xz, xy + xz)
                ylo = vals[1, 0] - min(0.0, yz)
                yhi = vals[1, 1] - max(0.0, yz)
                box = Box(np.array([xlo, ylo, vals[2, 0]]), np.array([xhi, yhi, vals[2, 1]]), np.array([xy, xz, yz]))
            else:
                box = Box(vals[:, 0].copy(), vals[:, 1].copy())
            atoms_header = next_line("ITEM: ATOMS")
            if not atoms_header.startswith("ITEM: ATOMS"):
                fail("expected 'ITEM: ATOMS'")
            names = atoms_header.split()[2:]
            raw = []
            for k in range(n):
                row = next_line(f"{n} atom lines, got {k}").split()
                if len(row) != len(names):
                    fail(f"atom line {k + 1} of {n} has {len(row)} values for {len(names)} columns"
                         + (" (truncated dump)" if not row or k == n - 1 else ""))
                raw.append(row)
            table = np.array(raw, dtype=object) if raw else np.zeros((0, len(names)), dtype=object)
            columns: dict[str, np.ndarray] = {}
            for k, name in enumerate(names):
                col = table[:, k]
                try:
                    if name in _STR_COLUMNS:
                        columns[name] = col.astype(str)
                    elif name in _INT_COLUMNS:
                        columns[name] = col.astype(np.int64)
                    else:
                        columns[name] = col.astype(float)
                except ValueError:
                    bad = next(v for v in col if not _parses(v, name))
                    fail(f"column {name}: {bad!r} is not a number")
            if "id" in columns:
                order = np.argsort(columns["id"])
                columns = {k: v[order] for k, v in columns.items()}
            yield DumpFrame(timestep, box, columns)


def _parses(value: str, name: str) -> bool:
    try:
        (int if name in _INT_COLUMNS else float)(value)
        return True
    except ValueError:
        return False


def read_dump(path: str | Path) -> list[DumpFrame]:
    return list(iter_dump(path))


def read_structure(path: str | Path) -> tuple[Box, np.ndarray, np.ndarray, np.ndarray]:
    """Any LAMMPS structure (data file, or the first frame of a text dump) as
    (box, ids, elements, wrapped positions)."""
    path = Path(path)
    with open(path) as fh:
        head = fh.readline()
    if head.startswith("ITEM:"):
        frame = next(iter_dump(path))
        return frame.box, frame.ids, frame.elements(), frame.box.wrap(frame.positions())
    data = read_data(path)
    return data.box, data.ids, data.elements(), data.box.wrap(data.positions)


def write_dump_frame(fh, timestep: int, box: Box, columns: dict[str, np.ndarray]) -> None:
    """Write one frame in LAMMPS ``dump custom`` text format (used by tests and tools)."""
    n = len(next(iter(columns.values())))
    fh.write(f"ITEM: TIMESTEP\n{timestep}\nITEM: NUMBER OF ATOMS\n{n}\n")
    if box.is_orthogonal:
        fh.write("ITEM: BOX BOUNDS pp pp pp\n")
        for a in range(3):
            fh.write(f"{box.lo[a]:.10g} {box.hi[a]:.10g}\n")
    else:
        xy, xz, yz = box.tilt
        fh.write("ITEM: BOX BOUNDS xy xz yz pp pp pp\n")
        xlo_b = box.lo[0] + min(0.0, xy, xz, xy + xz)
        xhi_b = box.hi[0] + max(0.0, xy, xz, xy + xz)
        ylo_b = box.lo[1] + min(0.0, yz)
        yhi_b = box.hi[1] + max(0.0, yz)
        fh.write(f"{xlo_b:.10g} {xhi_b:.10g} {xy:.10g}\n{ylo_b:.10g} {yhi_b:.10g} {xz:.10g}\n")
        fh.write(f"{box.lo[2]:.10g} {box.hi[2]:.10g} {yz:.10g}\n")
    names = list(columns)
    fh.write("ITEM: ATOMS " + " ".join(names) + "\n")
    cols = [columns[k] for k in names]
    for row in zip(*cols):
        fh.write(" ".join(f"{v:.10g}" if isinstance(v, (float, np.floating)) else str(v) for v in row) + "\n")


def frame_masses(frame, elements: np.ndarray) -> np.ndarray:
    """Atomic masses (g/mol) of a dump frame: its mass column, else the element table; raises
    ValueError naming elements without a known mass."""
    if "mass" in frame.columns:
        return np.asarray(frame.columns["mass"], float)
    unknown = set(elements.tolist()) - set(ELEMENT_MASSES)
    if unknown:
        raise ValueError(f"no mass known for elements {sorted(unknown)}; add a mass column to the dump")
    return np.array([ELEMENT_MASSES[e] for e in elements])
