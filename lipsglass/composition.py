"""A glass declared by its anion units; Li follows from charge neutrality."""

from __future__ import annotations

from dataclasses import dataclass

from lipsglass.forcefield import ForceField

# Atoms of each element in one anion unit
UNIT_FORMULAS: dict[str, dict[str, int]] = {
    "PS4": {"P": 1, "S": 4},
    "P2S7": {"P": 2, "S": 7},
    "P2S6": {"P": 2, "S": 6},
    "S": {"S": 1},
}
UNIT_CHARGES = {"PS4": -3, "P2S7": -4, "P2S6": -4, "S": -2}


@dataclass(frozen=True)
class Composition:
    name: str
    units: dict[str, int]

    def __post_init__(self):
        unknown = set(self.units) - set(UNIT_FORMULAS)
        if unknown:
            raise ValueError(f"glass {self.name}: unknown anion units {sorted(unknown)}; known: {sorted(UNIT_FORMULAS)}")
        for unit, n in self.units.items():
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                raise ValueError(f"glass {self.name}: units.{unit} must be a non-negative integer, got {n!r}")
        if self.n_P == 0:
            raise ValueError(f"glass {self.name}: has no P (declare PS4, P2S7 or P2S6 units)")

    @property
    def n_Li(self) -> int:
        """Li+ count that makes the glass neutral."""
        return -sum(UNIT_CHARGES[u] * n for u, n in self.units.items())

    @property
    def n_P(self) -> int:
        return sum(UNIT_FORMULAS[u].get("P", 0) * n for u, n in self.units.items())

    @property
    def n_S(self) -> int:
        return sum(UNIT_FORMULAS[u].get("S", 0) * n for u, n in self.units.items())

    @property
    def n_atoms(self) -> int:
        return self.n_Li + self.n_P + self.n_S

    def element_counts(self) -> dict[str, int]:
        return {"Li": self.n_Li, "P": self.n_P, "S": self.n_S}

    def fraction_of_P(self) -> dict[str, float]:
        """Share of P atoms in each P-bearing unit."""
        return {u: UNIT_FORMULAS[u].get("P", 0) * self.units.get(u, 0) / self.n_P
                for u in ("PS4", "P2S7", "P2S6")}

    def formula(self) -> str:
        """LiP_x S_y as in the paper (per Li)."""
        return f"LiP{self.n_P / self.n_Li:.3f}S{self.n_S / self.n_Li:.3f}"

    def net_charge(self, ff: ForceField) -> float:
        """Sum of force-field partial charges (e); zero for a consistent force field."""
        q = ff.charges()
        total = self.n_Li * q[ff.cation]
        for unit, n in self.units.items():
            spec = ff.anions[unit]
            for role, t in spec.items():
                if role == "charge":
                    continue
                total += n * _role_count(unit, role) * q[t]
        return total


def _role_count(unit: str, role: str) -> int:
    """Atoms of a role (P, S, S_terminal, S_bridging) in one unit."""
    table = {
        ("PS4", "P"): 1, ("PS4", "S"): 4,
        ("P2S7", "P"): 2, ("P2S7", "S_terminal"): 6, ("P2S7", "S_bridging"): 1,
        ("P2S6", "P"): 2, ("P2S6", "S"): 6,
        ("S", "S"): 1,
    }
    return table[(unit, role)]


def composition_from_config(name: str, entry: dict) -> Composition:
    return Composition(name=name, units={k: int(v) for k, v in entry["units"].items()})
