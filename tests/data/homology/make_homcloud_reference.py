"""Generates the HomCloud reference files of this folder (run once; HomCloud is not needed by the
tests, which read the files). HomCloud 5.4.0 (PyPI ``homcloud``, GPL-3.0) is an independent
periodic alpha-filtration implementation (CGAL periodic Delaunay), with optimal 1-cycles and
optimal / stable volumes (Obayashi 2018, 2023).

    pip install homcloud==5.4.0
    python tests/data/homology/make_homcloud_reference.py

Point set: 120 points drawn uniformly in a periodic 14 A cube (numpy default_rng(0)), sparse
enough that the longest rings exceed the padding that gudhi's path needs. Files:
    points.csv           x_A, y_A, z_A; the box is [0, 14)^3 A
    homcloud_pd.csv      dim, birth_A2, death_A2 of every finite pair (squared alpha radii)
    homcloud_rings.csv   H1 pairs with persistence > 1 A^2: birth_A2, death_A2, the vertex
                         indices (space separated) of the optimal 1-cycle, of the boundary of the
                         optimal volume and of the stable volume with noise band 0.5 A^2, the
                         number of triangles of each volume, and the winding of the optimal
                         1-cycle around the torus (cell vectors; 0 0 0: contractible loop)
"""

import csv
from pathlib import Path

import numpy as np
import homcloud.interface as hc

HERE = Path(__file__).resolve().parent
L = 14.0
N = 120
MIN_PERSISTENCE = 1.0   # A^2
EPSILON = 0.5           # A^2, stable-volume noise band


def winding(pts: np.ndarray, edges) -> np.ndarray:
    """Cell vectors wound by a closed walk over ``edges`` (vertex pairs): the sum of the
    minimum-image steps along the walk, divided by the box length."""
    nbrs: dict[int, list[int]] = {}
    for a, b in edges:
        nbrs.setdefault(int(a), []).append(int(b))
        nbrs.setdefault(int(b), []).append(int(a))
    start = int(edges[0][0])
    prev, cur, total = None, start, np.zeros(3)
    for _ in range(len(edges)):
        nxt = [v for v in nbrs[cur] if v != prev][0] if prev is not None else nbrs[cur][0]
        step = pts[nxt] - pts[cur]
        total += step - L * np.round(step / L)
        prev, cur = cur, nxt
    assert cur == start, "not a simple cycle"
    return np.round(total / L).astype(int)


def main() -> None:
    pts = np.random.default_rng(0).uniform(0.0, L, (N, 3))
    with open(HERE / "points.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["x_A", "y_A", "z_A"])
        w.writerows([f"{x:.12f}" for x in p] for p in pts)
    pts = np.loadtxt(HERE / "points.csv", delimiter=",", skiprows=1)  # exactly what the tests read
    pdl = hc.PDList.from_alpha_filtration(pts, periodicity=((0.0, L), (0.0, L), (0.0, L)),
                                          save_boundary_map=True)
    with open(HERE / "homcloud_pd.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["dim", "birth_A2", "death_A2"])
        for dim in (0, 1, 2):
            pd = pdl.dth_diagram(dim)
            for b, d in zip(pd.births, pd.deaths):
                if np.isfinite(d):
                    w.writerow([dim, f"{b:.12g}", f"{d:.12g}"])
    with open(HERE / "homcloud_rings.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["birth_A2", "death_A2", "optimal_1_cycle", "optimal_volume", "stable_volume",
                    "optimal_volume_cells", "stable_volume_cells", "optimal_1_cycle_winding"])
        for pair in pdl.dth_diagram(1).pairs():
            if not pair.death - pair.birth > MIN_PERSISTENCE:
                continue
            one_cycle = pair.optimal_1_cycle()
            cycle = one_cycle.boundary_points("vindexes")
            volume = pair.optimal_volume()
            stable = pair.stable_volume(EPSILON)
            w.writerow([f"{pair.birth:.12g}", f"{pair.death:.12g}"]
                       + [" ".join(str(int(i)) for i in sorted(v))
                          for v in (cycle, volume.boundary_points("vindexes"), stable.boundary_points("vindexes"))]
                       + [len(volume.cells("vindexes")), len(stable.cells("vindexes")),
                          " ".join(str(int(x)) for x in winding(pts, one_cycle.path("vindexes")))])


if __name__ == "__main__":
    main()
