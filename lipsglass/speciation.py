"""Thiophosphate speciation from geometry alone: PS4, P2S7, P2S6, free S and "other" units.

Only elements and positions are used (no bond topology, no force-field type names), so the
same analysis applies to any LAMMPS structure, including ones this workflow did not build.
P-S and P-P bonds are every pair closer than a cutoff; the P/S bond graph is split into
connected components (scipy.sparse.csgraph) and each component is classified by its
composition and bond pattern:

=========  ==========================================================================
PS4        1 P bonded to 4 S (ortho-thiophosphate, PS4(3-))
P2S7       2 P, no P-P bond, each P bonded to 4 S, exactly one S bonded to both P
           (pyro-thiophosphate, corner-sharing tetrahedra, P2S7(4-))
P2S6       2 P joined by a P-P bond, each P bonded to 3 terminal S (hypo-thiophosphate)
S_free     an S bonded to no P (sulfide ion S(2-))
other      any other P/S component (e.g. PS3, edge-sharing P2S6(2-), longer chains); they
           are counted and listed by composition, never dropped
=========  ==========================================================================

Default cutoffs (Angstrom), checked on the three Ariga et al. (2022) reference glasses
(67/70/75 Li2S, ~500 K): bonded P-S span 1.85-2.53 A (bridging S up to 2.53 A) and the
nearest non-bonded P..S pair is at 3.1 A; bonded P-P span 2.19-2.49 A and the nearest
non-bonded P..P (across a bridging S in P2S7) is at 3.4 A. The defaults sit in the middle of
those gaps (2.8 A for both) rather than at 2.6 A, which left only 0.07 A above the longest
bridging bond of a 500 K glass and would break hot or strained units. With these cutoffs the
geometric bonds of all reference models equal their topology bonds (see tests).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from lipsglass.core.anions import ANIONS, UNITS
from lipsglass.lammpsio import Box
from lipsglass.lammpsio import iter_dump, read_structure
from lipsglass.neighbours import neighbour_pairs

DEFAULT_P_S_CUTOFF = 2.8  # Angstrom, see module docstring
DEFAULT_P_P_CUTOFF = 2.8  # Angstrom


@dataclass
class Speciation:
    """Result of :func:`speciate` for one structure.

    Per-atom arrays (length N, same order as the input positions):

    * ``unit``: unit label of the atom: one of :data:`UNITS` for P and S, ``"Li"`` for Li and
      the element symbol for any other element (those belong to no unit);
    * ``role``: ``"P"``, ``"S_terminal"`` (S bonded to one P), ``"S_bridging"`` (S bonded to
      two or more P), ``"S_free"`` (S bonded to no P), ``"Li"``, or the element symbol;
    * ``unit_index``: index of the unit (P/S connected component) the atom belongs to, 0..n-1,
      or -1 for atoms outside any unit (Li and other elements).
    """

    counts: dict[str, int]
    fraction_of_P: dict[str, float]
    unit: np.ndarray
    role: np.ndarray
    unit_index: np.ndarray
    unit_kind: np.ndarray  # label of each unit, indexed by unit_index
    bonds: np.ndarray  # (n_bonds, 2) atom indices, i < j
    bond_lengths: np.ndarray  # Angstrom
    other_units: dict[str, int] = field(default_factory=dict)  # composition -> count
    cutoffs: dict[str, float] = field(default_factory=dict)
    element_counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready summary (no per-atom arrays)."""
        el = self.element_counts
        pairs = {"P-S": 0, "P-P": 0}
        if len(self.bonds):
            kinds = np.where(self.role[self.bonds[:, 0]] == "P", "P", "S").astype(object) + "-" \
                + np.where(self.role[self.bonds[:, 1]] == "P", "P", "S").astype(object)
            pairs["P-P"] = int(np.sum(kinds == "P-P"))
            pairs["P-S"] = int(len(kinds) - pairs["P-P"])
        return {
            "n_atoms": int(len(self.unit)),
            "elements": {k: int(v) for k, v in sorted(el.items())},
            "cutoffs_A": self.cutoffs,
            "units": {k: int(self.counts[k]) for k in UNITS},
            "fraction_of_P": {k: float(v) for k, v in self.fraction_of_P.items()},
            "other_units": dict(self.other_units),
            "n_bonds": pairs,
            "bond_length_A": {
                "min": float(self.bond_lengths.min()) if len(self.bond_lengths) else None,
                "max": float(self.bond_lengths.max()) if len(self.bond_lengths) else None,
            },
        }


def find_bonds(box: Box, elements: np.ndarray, positions: np.ndarray,
               p_s_cutoff: float = DEFAULT_P_S_CUTOFF,
               p_p_cutoff: float = DEFAULT_P_P_CUTOFF) -> tuple[np.ndarray, np.ndarray]:
    """P-S and P-P bonds from geometry: every such pair closer than its cutoff (Angstrom),
    under periodic boundaries. S-S, Li-X, ... pairs are never bonds here.

    Returns (bonds (n, 2) atom indices with i < j, bond lengths in Angstrom).
    """
    elements = np.asarray(elements)
    positions = np.asarray(positions, float)
    if positions.ndim != 2 or positions.shape[1] != 3:
        raise ValueError(f"positions must have shape (N, 3), got {positions.shape}")
    if len(elements) != len(positions):
        raise ValueError(f"{len(elements)} elements but {len(positions)} positions")
    for name, value in (("p_s_cutoff", p_s_cutoff), ("p_p_cutoff", p_p_cutoff)):
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive distance in Angstrom, got {value}")
    ps = np.flatnonzero((elements == "P") | (elements == "S"))
    if len(ps) < 2:
        return np.zeros((0, 2), np.int64), np.zeros(0)
    i, j, vec = neighbour_pairs(box, positions[ps], max(p_s_cutoff, p_p_cutoff))
    i, j = ps[i], ps[j]
    r = np.linalg.norm(vec, axis=1)
    p_i, p_j = elements[i] == "P", elements[j] == "P"
    is_pp = p_i & p_j
    is_ps = p_i ^ p_j
    keep = (is_pp & (r < p_p_cutoff)) | (is_ps & (r < p_s_cutoff))
    a, b = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
    order = np.lexsort((b, a))
    return np.column_stack([a[order], b[order]]).astype(np.int64), r[keep][order]


def classify_units(elements: np.ndarray, bonds: np.ndarray) -> Speciation:
    """Classify the P/S bond graph given as atom-index pairs (from :func:`find_bonds`, or from
    any other source such as a data file's topology) into units. See the module docstring."""
    elements = np.asarray(elements)
    n = len(elements)
    bonds = np.asarray(bonds, np.int64).reshape(-1, 2)
    if len(bonds) and (bonds.min() < 0 or bonds.max() >= n):
        raise ValueError("bond indices out of range")
    is_p = elements == "P"
    is_s = elements == "S"
    ps = np.flatnonzero(is_p | is_s)
    if len(bonds) and not np.all(is_p[bonds] | is_s[bonds]):
        raise ValueError("bonds may only join P and S atoms")

    # components of the P/S subgraph; local index = position in ps
    local = np.full(n, -1, np.int64)
    local[ps] = np.arange(len(ps))
    a, b = local[bonds[:, 0]], local[bonds[:, 1]]
    if len(ps):
        graph = coo_matrix((np.ones(len(bonds)), (a, b)), shape=(len(ps), len(ps)))
        n_comp, comp_local = connected_components(graph, directed=False)
    else:  # no P or S at all: no units
        n_comp, comp_local = 0, np.zeros(0, np.int64)
    comp = np.full(n, -1, np.int64)
    comp[ps] = comp_local

    # per-atom bond counts, per-component statistics (all vectorised with bincount)
    pp_bond = is_p[bonds[:, 0]] & is_p[bonds[:, 1]]
    ps_bonds = bonds[~pp_bond]
    deg_ps = np.bincount(ps_bonds.ravel(), minlength=n)  # P-S bonds of each atom
    deg_pp = np.bincount(bonds[pp_bond].ravel(), minlength=n)
    c_ps = comp[ps]
    n_p = np.bincount(c_ps, weights=is_p[ps], minlength=n_comp).astype(int)
    n_s = np.bincount(c_ps, weights=is_s[ps], minlength=n_comp).astype(int)
    n_pp = np.bincount(comp[bonds[pp_bond, 0]], minlength=n_comp)
    n_psb = np.bincount(comp[ps_bonds[:, 0]], minlength=n_comp) if len(ps_bonds) else np.zeros(n_comp, int)
    s_deg2 = np.bincount(c_ps, weights=(is_s & (deg_ps == 2))[ps], minlength=n_comp).astype(int)
    s_deg_gt1 = np.bincount(c_ps, weights=(is_s & (deg_ps > 1))[ps], minlength=n_comp).astype(int)
    p_deg4 = np.bincount(c_ps, weights=(is_p & (deg_ps == 4) & (deg_pp == 0))[ps], minlength=n_comp).astype(int)
    p_deg3pp = np.bincount(c_ps, weights=(is_p & (deg_ps == 3) & (deg_pp == 1))[ps], minlength=n_comp).astype(int)

    kind = np.full(n_comp, "other", dtype=object)
    # 1 P + 4 S connected by P-S bonds only is necessarily the PS4 star
    kind[(n_p == 1) & (n_s == 4)] = "PS4"
    kind[(n_p == 2) & (n_s == 7) & (n_pp == 0) & (n_psb == 8) & (p_deg4 == 2)
         & (s_deg2 == 1) & (s_deg_gt1 == 1)] = "P2S7"
    kind[(n_p == 2) & (n_s == 6) & (n_pp == 1) & (n_psb == 6) & (p_deg3pp == 2)
         & (s_deg_gt1 == 0)] = "P2S6"
    kind[(n_p == 0) & (n_s == 1)] = "S_free"
    kind = kind.astype(str)

    unit = elements.astype(object).copy()
    unit[ps] = kind[comp[ps]]
    role = elements.astype(object).copy()
    role[is_p] = "P"
    role[is_s & (deg_ps == 0)] = "S_free"
    role[is_s & (deg_ps == 1)] = "S_terminal"
    role[is_s & (deg_ps >= 2)] = "S_bridging"

    counts = {k: int(np.sum(kind == k)) for k in UNITS}
    total_p = int(is_p.sum())
    p_in = {k: int(np.sum(n_p[kind == k])) for k in ANIONS + ("other",)}
    fraction = {k: (v / total_p if total_p else float("nan")) for k, v in p_in.items()}
    other = Counter(f"P{p}S{s}" + (f"_PP{q}" if q else "")
                    for p, s, q in zip(n_p[kind == "other"], n_s[kind == "other"], n_pp[kind == "other"]))
    uniq, cnt = np.unique(elements, return_counts=True)
    return Speciation(
        counts=counts, fraction_of_P=fraction, unit=unit.astype(str), role=role.astype(str),
        unit_index=comp, unit_kind=kind, bonds=bonds, bond_lengths=np.zeros(0),
        other_units=dict(sorted(other.items())), element_counts=dict(zip(uniq.tolist(), cnt.tolist())),
    )


def speciate(box: Box, elements: np.ndarray, positions: np.ndarray,
             p_s_cutoff: float = DEFAULT_P_S_CUTOFF,
             p_p_cutoff: float = DEFAULT_P_P_CUTOFF) -> Speciation:
    """Speciation of one structure from elements and positions (Angstrom) alone.

    Cost: one periodic KD-tree pair search over the P and S atoms, O(N log N).
    """
    elements = np.asarray(elements).astype(str)
    bonds, lengths = find_bonds(box, elements, positions, p_s_cutoff, p_p_cutoff)
    result = classify_units(elements, bonds)
    result.bond_lengths = lengths
    result.cutoffs = {"P-S": float(p_s_cutoff), "P-P": float(p_p_cutoff)}
    return result


def anion_groups(spec: Speciation) -> dict[str, np.ndarray]:
    """Atom-index groups for anion-resolved analyses: ``P_<unit>`` and ``S_<unit>`` for each
    unit in :data:`UNITS` that has atoms (S_free only as ``S_S_free``), plus ``Li``."""
    groups: dict[str, np.ndarray] = {}
    for u in UNITS:
        for el in ("P", "S"):
            is_el = (spec.role == "P") if el == "P" else np.char.startswith(spec.role, "S_")
            idx = np.flatnonzero((spec.unit == u) & is_el)
            if len(idx):
                groups[f"{el}_{u}"] = idx
    li = np.flatnonzero(spec.role == "Li")
    if len(li):
        groups["Li"] = li
    return groups


# ----------------------------------------------------------------------------- reading a frame

def read_speciation_frame(path: str, frame: int = 0, type_elements: str | None = None):
    """Box, ids, elements and wrapped positions of a LAMMPS data file or of one frame of a text dump
    (``frame`` -1 is the last; ``type_elements`` "P,S,..." names the types of a dump without elements)."""
    with open(path) as fh:
        is_dump = fh.readline().startswith("ITEM:")
    if not is_dump:
        if frame not in (0, -1):
            raise ValueError("--frame applies to dumps only; a data file holds one structure")
        box, ids, elements, positions = read_structure(path)
        return box, ids, elements, positions
    mapping = None
    if type_elements:
        mapping = {k + 1: el.strip() for k, el in enumerate(type_elements.split(","))}
    chosen = None
    for k, fr in enumerate(iter_dump(path)):
        chosen = fr
        if k == frame:
            break
    else:
        if frame != -1:
            raise ValueError(f"{path}: has no frame {frame}")
    if chosen is None:
        raise ValueError(f"{path}: no frames")
    try:
        elements = chosen.elements(mapping)
    except KeyError as exc:
        raise ValueError(f"{path}: dump has no element column; pass --type-elements "
                         "(elements of types 1, 2, ... comma separated)") from exc
    return chosen.box, chosen.ids, np.asarray(elements).astype(str), chosen.box.wrap(chosen.positions())
