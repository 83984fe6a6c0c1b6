"""A glass declared by its anion units; Li follows from charge neutrality."""

from __future__ import annotations

from dataclasses import dataclass

from lipsglass.core.anions import ANIONS
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
                for u in ANIONS}

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


# ---- a glass from its measured speciation ----

# Anion units that carry P, as Raman and 31P NMR report a glass's speciation (fraction of P in each)
# P fractions given to two decimals (how Raman / 31P NMR speciation is reported) are reproduced to
# half their last digit
DEFAULT_FRACTION_TOLERANCE = 0.005
# cells searched up to this multiple of the target atom count before giving up
_SEARCH_FACTOR = 3


def unit_atoms(unit: str) -> int:
    """Atoms one unit brings into a neutral glass: its own atoms plus the Li that balance it."""
    return sum(UNIT_FORMULAS[unit].values()) - UNIT_CHARGES[unit]


def _normalised_p_fractions(p_fractions: dict[str, float]) -> dict[str, float]:
    unknown = set(p_fractions) - set(ANIONS)
    if unknown:
        raise ValueError(f"P fractions of unknown units {sorted(unknown)}; known: {list(ANIONS)}")
    if any(f < 0 for f in p_fractions.values()):
        raise ValueError(f"P fractions must be >= 0, got {p_fractions}")
    total = sum(p_fractions.values())
    # reported speciation sums to 1 within its rounding; anything further off is a typo
    if abs(total - 1.0) > 0.02:
        raise ValueError(f"P fractions sum to {total:.3f}; they are shares of P and must sum to 1 (within 0.02)")
    return {u: p_fractions.get(u, 0.0) / total for u in ANIONS}


def _nearest_apportionment(fractions: dict[str, float], n_P: int) -> dict[str, int] | None:
    """Unit counts holding exactly ``n_P`` P whose P fractions are nearest ``fractions`` (largest
    deviation, then sum of squares); None when no counts hold exactly n_P P (odd n_P without PS4)."""
    best, best_key = None, None
    ideal = {u: fractions[u] * n_P / UNIT_FORMULAS[u]["P"] for u in ANIONS}
    ps4_values = [0] if fractions["PS4"] == 0 else range(max(0, int(ideal["PS4"]) - 3), int(ideal["PS4"]) + 5)
    for n_ps4 in ps4_values:
        pairs, odd = divmod(n_P - n_ps4, 2)
        if odd or pairs < 0 or n_ps4 > n_P:
            continue
        if fractions["P2S7"] == 0 or fractions["P2S6"] == 0:
            splits = [(0, pairs)] if fractions["P2S7"] == 0 else [(pairs, 0)]
            if pairs and fractions["P2S7"] == 0 and fractions["P2S6"] == 0:
                continue
        else:
            centre = int(round(ideal["P2S7"]))
            splits = [(n, pairs - n) for n in range(max(0, centre - 3), min(pairs, centre + 3) + 1)]
        for n_p2s7, n_p2s6 in splits:
            units = {"PS4": n_ps4, "P2S7": n_p2s7, "P2S6": n_p2s6}
            dev = [abs(UNIT_FORMULAS[u]["P"] * units[u] / n_P - fractions[u]) for u in ANIONS]
            key = (max(dev), sum(d * d for d in dev))
            if best_key is None or key < best_key:
                best, best_key = units, key
    return best


def units_from_p_fractions(p_fractions: dict[str, float], target_atoms: int,
                           fraction_tolerance: float = DEFAULT_FRACTION_TOLERANCE) -> dict[str, int]:
    """Anion unit counts of a glass whose fractions of P in PS4, P2S7 and P2S6 (as Raman or 31P
    NMR report them) are ``p_fractions``, with about ``target_atoms`` atoms (Li by neutrality).

    For every P count the units are apportioned so that the P fractions are nearest the given
    ones (P2S7 and P2S6 hold two P, so not every P count fits every mix); among the cells whose
    every P fraction lies within ``fraction_tolerance`` of the given one, the one whose atom
    count is nearest the target is returned (ties: the closer fractions, then the smaller cell).
    Rounding each count to the target alone would trade composition for size: for PS4 0.15,
    P2S7 0.60, P2S6 0.25 and 800 atoms it gives 19/36/15 (800 atoms, PS4 share 0.157), where
    18/36/15 (792 atoms) holds the fractions exactly."""
    if target_atoms < 1:
        raise ValueError(f"target atom count must be positive, got {target_atoms}")
    if not 0 <= fraction_tolerance < 0.5:
        raise ValueError(f"fraction tolerance must lie in [0, 0.5), got {fraction_tolerance}")
    fractions = _normalised_p_fractions(p_fractions)
    atoms_per_P = sum(f * unit_atoms(u) / UNIT_FORMULAS[u]["P"] for u, f in fractions.items())
    best, best_key = None, None
    for n_P in range(1, int(_SEARCH_FACTOR * target_atoms / atoms_per_P) + 2):
        units = _nearest_apportionment(fractions, n_P)
        if units is None:
            continue
        error = max(abs(UNIT_FORMULAS[u]["P"] * units[u] / n_P - fractions[u]) for u in ANIONS)
        if error > fraction_tolerance + 1e-12:
            continue
        atoms = sum(unit_atoms(u) * n for u, n in units.items())
        key = (abs(atoms - target_atoms), error, atoms)
        if best_key is None or key < best_key:
            best, best_key = units, key
    if best is None:
        raise ValueError(f"no cell of up to {_SEARCH_FACTOR} x {target_atoms} atoms holds P fractions within "
                         f"{fraction_tolerance} of {fractions}; allow a larger --fraction-tolerance")
    return {u: n for u, n in best.items() if n > 0}


def li2s_p2s5_ratio(composition: Composition) -> float:
    """Mole fraction x of Li2S in x Li2S - (1 - x) P2S5 with the glass's Li:P ratio (Li/P = x / (1 - x))."""
    return composition.n_Li / (composition.n_Li + composition.n_P)


def s_excess_over_tie_line(composition: Composition) -> int:
    """S atoms beyond x Li2S + (1 - x) P2S5 of the same Li and P: each P2S6 (P(IV)) has one fewer,
    free S2- one more."""
    tie_line_S2 = composition.n_Li + 5 * composition.n_P  # twice the S of Li/2 Li2S + P/2 P2S5
    return (2 * composition.n_S - tie_line_S2) // 2
