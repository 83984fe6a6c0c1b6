"""HomCloud 5.4 (GPL-3.0-or-later: used as an external oracle only, never imported by the
workflow) as the oracle of lipsglass.homology's periodic alpha persistence diagrams."""

from __future__ import annotations

import numpy as np


def version() -> str:
    from importlib.metadata import version as v

    return f"HomCloud {v('homcloud')}"


def homcloud_diagram(box, positions: np.ndarray, dimension: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(births, deaths) in squared radii (A^2) of the ``dimension`` diagram of the periodic alpha
    filtration of ``positions`` in the orthogonal ``box``."""
    import homcloud.interface as hc

    if not box.is_orthogonal:
        raise ValueError("HomCloud's periodic alpha filtration needs an orthogonal cell")
    pos = box.wrap(np.asarray(positions, float))
    periodicity = [(float(lo), float(hi)) for lo, hi in zip(box.lo, box.hi)]
    pdlist = hc.PDList.from_alpha_filtration(pos, periodicity=periodicity, squared=True)
    d = pdlist.dth_diagram(dimension)
    return np.asarray(d.births, float), np.asarray(d.deaths, float)
