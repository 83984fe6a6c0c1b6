"""The one anion vocabulary of the project.

Speciation labels every P and S atom with the structural unit it belongs to; the thiophosphate
anions are PS4 (ortho, PS4^3-), P2S7 (pyro, P2S7^4-, corner-sharing) and P2S6 (hypo, P2S6^4-,
P-P bonded). The order below (PS4, P2S7, P2S6) is the order of every table and figure.
"""

ANIONS: tuple[str, ...] = ("PS4", "P2S7", "P2S6")
"""The thiophosphate anions, in the project's order."""

UNITS: tuple[str, ...] = ANIONS + ("S_free", "other")
"""Every unit label of a P or S atom: the anions, isolated S2- (S_free) and anything else."""

ANION_PAIRS: tuple[tuple[str, str], ...] = (("PS4", "P2S7"), ("PS4", "P2S6"), ("P2S7", "P2S6"))
"""The unordered pairs of distinct anions, in the project's order."""
