"""HomCloud 5.4 (GPL-3.0-or-later: used as an external oracle only, never imported by the
workflow) as the oracle of lipsglass.homology's periodic alpha persistence diagrams."""

from __future__ import annotations

from importlib.metadata import version as v

import numpy as np


def version() -> str:
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


def homcloud_stable_volumes(box, positions: np.ndarray, min_persistence: float,
                            epsilon: float) -> list[tuple[float, float, int, int]]:
    """HomCloud's stable volumes (Obayashi 2023; the optimal volume when ``epsilon`` = 0) of the
    H1 pairs with death - birth > ``min_persistence`` (A^2) of the periodic alpha filtration:
    (birth, death, triangles of the volume, atoms on its boundary = the ring) per pair."""
    import homcloud.interface as hc

    if not box.is_orthogonal:
        raise ValueError("HomCloud's periodic alpha filtration needs an orthogonal cell")
    pos = box.wrap(np.asarray(positions, float))
    periodicity = [(float(lo), float(hi)) for lo, hi in zip(box.lo, box.hi)]
    pdlist = hc.PDList.from_alpha_filtration(pos, periodicity=periodicity, squared=True, save_boundary_map=True)
    out = []
    for pair in pdlist.dth_diagram(1).pairs():
        if not pair.death - pair.birth > min_persistence:
            continue
        volume = pair.stable_volume(epsilon) if epsilon > 0 else pair.optimal_volume()
        out.append((float(pair.birth), float(pair.death), len(volume.cells("vindexes")),
                    len(volume.boundary_points("vindexes"))))
    return out
