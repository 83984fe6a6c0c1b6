"""The force field as data, and the one builder of the LAMMPS commands that set it up.

A force-field file (``config/forcefields/NAME.yaml``) holds every parameter; this module
evaluates charges, applies the mixing rule, writes the Stillinger-Weber table and turns it all
into LAMMPS commands for a given mapping of LAMMPS type numbers to force-field types.
"""

from __future__ import annotations

import ast
import itertools
import operator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from lipsglass.lammpsio import DataFile

# Force-field files ship with the package (lipsglass/data/forcefields: in the source tree a link to
# config/forcefields, in an installed package a copy), so a plain `pip install .` finds them.
FORCEFIELD_DIR = Path(__file__).resolve().parent / "data" / "forcefields"

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.Pow: operator.pow, ast.USub: operator.neg, ast.UAdd: operator.pos}


def evaluate_expression(expr: str | float, names: dict[str, float]) -> float:
    """Evaluate an arithmetic expression of named parameters (no calls, no attributes)."""
    if isinstance(expr, (int, float)):
        return float(expr)

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise ValueError(f"unknown parameter {node.id!r} in charge expression {expr!r}")
            return float(names[node.id])
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.operand))
        raise ValueError(f"unsupported syntax in charge expression {expr!r}")

    return ev(ast.parse(str(expr), mode="eval"))


@dataclass
class TopologyTypes:
    """Force-field names of LAMMPS types 1..n of each kind (atom, bond, angle, dihedral)."""

    atom: list[str]
    bond: list[str] = field(default_factory=list)
    angle: list[str] = field(default_factory=list)
    dihedral: list[str] = field(default_factory=list)


@dataclass
class ForceField:
    name: str
    path: Path
    raw: dict

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def load(cls, name_or_path: str | Path, search_dir: str | Path | None = None) -> "ForceField":
        """Load by name (``config/forcefields/NAME.yaml``) or by path."""
        candidate = Path(name_or_path)
        if candidate.suffix not in (".yaml", ".yml"):
            candidate = Path(search_dir or FORCEFIELD_DIR) / f"{name_or_path}.yaml"
        if not candidate.exists():
            raise FileNotFoundError(f"force field {name_or_path!r} not found (looked for {candidate})")
        raw = yaml.safe_load(candidate.read_text())
        ff = cls(name=raw.get("name", candidate.stem), path=candidate, raw=raw)
        ff._check()
        return ff

    def _check(self) -> None:
        for key in ("types", "charges", "pair", "bonds", "angles", "special_bonds", "anions", "cation"):
            if key not in self.raw:
                raise ValueError(f"force field {self.path}: missing key {key!r}")
        missing = set(self.type_names) - set(self.raw["charges"])
        if missing:
            raise ValueError(f"force field {self.path}: no charge for types {sorted(missing)}")

    # ---- types and charges --------------------------------------------------------------
    @property
    def type_names(self) -> list[str]:
        return list(self.raw["types"])

    def canonical_type(self, name: str) -> str:
        name = self.raw.get("type_aliases", {}).get(name, name)
        if name not in self.raw["types"]:
            raise KeyError(f"type {name!r} is not in force field {self.name} (types: {self.type_names})")
        return name

    def element(self, type_name: str) -> str:
        return self.raw["types"][type_name]["element"]

    def mass(self, type_name: str) -> float:
        return float(self.raw["types"][type_name]["mass"])

    def charges(self) -> dict[str, float]:
        params = {k: float(v) for k, v in self.raw.get("charge_parameters", {}).items()}
        return {t: evaluate_expression(expr, params) for t, expr in self.raw["charges"].items()}

    @property
    def anions(self) -> dict[str, dict]:
        return self.raw["anions"]

    @property
    def cation(self) -> str:
        return self.raw["cation"]

    # ---- pair terms ---------------------------------------------------------------------
    def lj96(self, a: str, b: str) -> tuple[float, float]:
        """(eps kcal/mol, sigma A) of the 9-6 term between types a and b."""
        pair = self.raw["pair"]
        explicit = pair.get("lj96_explicit", {})
        for key in (f"{a}-{b}", f"{b}-{a}"):
            if key in explicit:
                eps, sig = explicit[key]
                return float(eps), float(sig)
        self_terms = pair["lj96_self"]
        if a not in self_terms or b not in self_terms:
            raise KeyError(f"no 9-6 parameters for pair {a}-{b} in force field {self.name}")
        (ea, sa), (eb, sb) = self_terms[a], self_terms[b]
        rule = pair.get("lj96_mixing", "sixthpower")
        if rule != "sixthpower":
            raise ValueError(f"unsupported mixing rule {rule!r}")
        sa6, sb6 = sa**6, sb**6
        eps = 2.0 * np.sqrt(ea * eb) * sa**3 * sb**3 / (sa6 + sb6)
        sig = ((sa6 + sb6) / 2.0) ** (1.0 / 6.0)
        return float(eps), float(sig)

    def sw_names(self) -> list[str]:
        """Types taking part in the three-body term (centre first)."""
        sw = self.raw.get("three_body_sw")
        if not sw:
            return []
        names = [sw["centre"]]
        for key in sw["triplets"]:
            for t in key.split("-")[1:]:
                if t not in names:
                    names.append(t)
        return names

    def sw_table(self) -> str:
        """LAMMPS ``sw`` potential file for every triplet of ``sw_names()`` (zeros where the
        force field has no term)."""
        sw = self.raw["three_body_sw"]
        names = self.sw_names()
        entries: dict[tuple[str, str, str], tuple[float, float, float]] = {}
        for key, (lam, gamma, cos0) in sw["triplets"].items():
            i, j, k = key.split("-")
            entries[(i, j, k)] = (lam, gamma, cos0)
            entries.setdefault((i, k, j), (lam, gamma, cos0))
        lines = ["# Stillinger-Weber three-body table generated by lipsglass.forcefield from "
                 f"force field {self.name}",
                 "# e1 e2 e3 epsilon sigma a lambda gamma costheta0 A B p q tol"]
        for i, j, k in itertools.product(names, repeat=3):
            if (i, j, k) in entries:
                lam, gamma, cos0 = entries[(i, j, k)]
                lines.append(f"{i} {j} {k} {sw['epsilon_kcal_mol']} {sw['sigma_A']} {sw['a']} "
                             f"{lam} {gamma} {cos0} 0 0 0 0 0")
            else:
                lines.append(f"{i} {j} {k} 0 0 0 0 0 0 0 0 0 0 0")
        return "\n".join(lines) + "\n"

    # ---- bonded terms: names of a topology entry from its atom types ---------------------
    def bond_name(self, a: str, b: str) -> str:
        for key in (f"{a}-{b}", f"{b}-{a}"):
            if key in self.raw["bonds"]:
                return key
        raise KeyError(f"force field {self.name} has no bond {a}-{b}")

    def angle_name(self, a: str, c: str, b: str) -> str:
        for key in (f"{a}-{c}-{b}", f"{b}-{c}-{a}"):
            if key in self.raw["angles"]:
                return key
        raise KeyError(f"force field {self.name} has no angle {a}-{c}-{b}")

    def dihedral_name(self, a: str, b: str, c: str, d: str) -> str:
        for key in (f"{a}-{b}-{c}-{d}", f"{d}-{c}-{b}-{a}"):
            if key in self.raw.get("dihedrals", {}):
                return key
        raise KeyError(f"force field {self.name} has no dihedral {a}-{b}-{c}-{d}")

    def default_topology_types(self) -> TopologyTypes:
        """The type order of every data file the workflow builds."""
        return TopologyTypes(atom=self.type_names, bond=list(self.raw["bonds"]),
                             angle=list(self.raw["angles"]), dihedral=list(self.raw.get("dihedrals", {})))


def infer_topology_types(data: DataFile, atom_types: list[str], ff: ForceField) -> TopologyTypes:
    """Force-field names of the bond/angle/dihedral types of a data file, from the atom types of
    their members (the coefficients stored in the file are never used)."""
    index = {int(i): k for k, i in enumerate(data.ids)}
    names = np.array([None] + list(atom_types), dtype=object)  # LAMMPS types are 1-based

    def kind(table: np.ndarray, n_types: int, namer, width: int) -> list[str]:
        result: list[str | None] = [None] * n_types
        for t in range(1, n_types + 1):
            rows = table[table[:, 0] == t]
            if len(rows) == 0:
                result[t - 1] = f"unused-{t}"
                continue
            found = set()
            for row in rows:
                member_types = [names[data.types[index[int(a)]]] for a in row[1: 1 + width]]
                found.add(namer(*member_types))
            if len(found) != 1:
                raise ValueError(f"type {t} mixes force-field terms {sorted(found)}")
            result[t - 1] = found.pop()
        return result  # type: ignore[return-value]

    return TopologyTypes(
        atom=list(atom_types),
        bond=kind(data.bonds, data.n_types.get("bond", 0), ff.bond_name, 2),
        angle=kind(data.angles, data.n_types.get("angle", 0), ff.angle_name, 3),
        dihedral=kind(data.dihedrals, data.n_types.get("dihedral", 0), ff.dihedral_name, 4),
    )


def style_commands(ff: ForceField) -> list[str]:
    """Commands that come before ``read_data`` / ``create_box``."""
    pair = ff.raw["pair"]
    sb = ff.raw["special_bonds"]
    pair_style = f"pair_style hybrid/overlay lj/class2/coul/long {pair['cutoff_lj_A']} {pair['cutoff_coul_A']}"
    if ff.sw_names():
        pair_style += " sw"
    return [
        "units real",
        "atom_style full",
        "boundary p p p",
        pair_style,
        "bond_style class2",
        "angle_style class2",
        "dihedral_style class2",
        "special_bonds lj {} {} {} coul {} {} {}".format(*sb["lj"], *sb["coul"]),
    ]


def coefficient_commands(ff: ForceField, topo: TopologyTypes, sw_file: str | Path | None,
                         kspace: str | None = None, kspace_accuracy: float | None = None) -> list[str]:
    """Masses, charges, pair/bond/angle/dihedral coefficients and kspace for LAMMPS types
    mapped to force-field types by ``topo``. Call after the box and atoms exist."""
    cmds: list[str] = []
    charges = ff.charges()
    atom = [ff.canonical_type(t) for t in topo.atom]
    for n, t in enumerate(atom, start=1):
        cmds.append(f"mass {n} {ff.mass(t)!r}")
        cmds.append(f"set type {n} charge {charges[t]!r}")
    for (ni, ti), (nj, tj) in itertools.combinations_with_replacement(list(enumerate(atom, start=1)), 2):
        eps, sig = ff.lj96(ti, tj)
        cmds.append(f"pair_coeff {ni} {nj} lj/class2/coul/long {eps!r} {sig!r}")
    sw_names = ff.sw_names()
    if sw_names:
        if sw_file is None:
            raise ValueError("force field has a three-body term: give the sw table file")
        mapping = " ".join(t if t in sw_names else "NULL" for t in atom)
        cmds.append(f"pair_coeff * * sw {sw_file} {mapping}")
    for n, name in enumerate(topo.bond, start=1):
        if name.startswith("unused"):
            cmds.append(f"bond_coeff {n} 1.0 0.0 0.0 0.0")
            continue
        r0, k2, k3, k4 = ff.raw["bonds"][name]
        cmds.append(f"bond_coeff {n} {r0} {k2} {k3} {k4}")
    for n, name in enumerate(topo.angle, start=1):
        if name.startswith("unused"):
            cmds += [f"angle_coeff {n} 109.5 0 0 0", f"angle_coeff {n} bb 0 1 1", f"angle_coeff {n} ba 0 0 1 1"]
            continue
        a = ff.raw["angles"][name]
        cmds.append(f"angle_coeff {n} {a['theta0']} {a['K'][0]} {a['K'][1]} {a['K'][2]}")
        cmds.append("angle_coeff {} bb {} {} {}".format(n, *a["bb"]))
        cmds.append("angle_coeff {} ba {} {} {} {}".format(n, *a["ba"]))
    for n, name in enumerate(topo.dihedral, start=1):
        k = [0] * 6 if name.startswith("unused") else ff.raw["dihedrals"][name]
        cmds.append("dihedral_coeff {} {} {} {} {} {} {}".format(n, *k))
        # class2 cross terms are all zero in this force field
        cmds += [f"dihedral_coeff {n} mbt 0 0 0 0", f"dihedral_coeff {n} ebt 0 0 0 0 0 0 0 0",
                 f"dihedral_coeff {n} at 0 0 0 0 0 0 0 0", f"dihedral_coeff {n} aat 0 0 0",
                 f"dihedral_coeff {n} bb13 0 0 0"]
    ks = ff.raw.get("kspace", {})
    style = kspace or ks.get("style", "pppm")
    accuracy = kspace_accuracy or ks.get("accuracy", 1e-5)
    cmds.append(f"kspace_style {style} {accuracy}")
    return cmds


def write_sw_table(ff: ForceField, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(ff.sw_table())
    return path
