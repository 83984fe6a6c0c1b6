"""Checks of the homology stage's rings (prints the numbers, exit 1 on a failure).

(a) Translation: every structure given is also translated by half a box along the three cell
    vectors; the persistent H1 pairs (persistence > --min-persistence A^2) and their ring sizes
    (shortest cycle at birth, searched on the periodic graph) must be identical.
(b) Timing: wall and CPU time of the whole homology (periodic alpha complex, persistence, rings
    of the kept pairs) of each structure on one core, against --max-seconds (the issue's bound:
    Ariga's 8069-atom 70:30 model, P+S, under 30 s).

Usage:
    python benchmarks/homology_checks.py results/*/r1/nvt/300K/final.data
    python benchmarks/homology_checks.py /path/to/70Li2S-30P2S5.data --max-seconds 30
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from lipsglass.homology import structure_homology
from lipsglass.lammpsio import Box, read_structure


def _key(result, min_persistence: float):
    rings = result.rings
    keep = rings.persistence > min_persistence
    rows = np.column_stack([rings.birth[keep], rings.death[keep], rings.size[keep]])
    return rows[np.lexsort((rows[:, 2], rows[:, 1], rows[:, 0]))]


def check(path: str, min_persistence: float, max_seconds: float | None, elements: tuple[str, ...],
          max_ring_size: int) -> bool:
    box, _, el, pos = read_structure(path)
    t0, c0 = time.perf_counter(), time.process_time()
    res = structure_homology(box, el, box.wrap(pos), select=elements, max_ring_size=max_ring_size,
                             ring_min_persistence=min_persistence)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    half = 0.5 * box.matrix.sum(axis=0)
    moved = structure_homology(box, el, box.wrap(pos + half), select=elements, max_ring_size=max_ring_size,
                               ring_min_persistence=min_persistence)
    a, b = _key(res, min_persistence), _key(moved, min_persistence)
    same_pairs = a.shape == b.shape and np.allclose(a[:, :2], b[:, :2], rtol=0, atol=1e-8)
    changed = int(np.sum(a[:, 2] != b[:, 2])) if same_pairs else -1
    sizes = a[:, 2].astype(int)
    ok = same_pairs and changed == 0 and (max_seconds is None or cpu < max_seconds)
    print(f"{path}: {len(res.atom_indices)} atoms ({','.join(elements)}), {len(a)} pairs with persistence > "
          f"{min_persistence} A^2 ({int(np.sum(sizes > 0))} resolved, {int(np.sum(sizes < 0))} longer than "
          f"{max_ring_size}); half-box translation: pairs {'identical' if same_pairs else 'DIFFER'}, "
          f"ring sizes changed: {changed}; homology {wall:.1f} s wall, {cpu:.1f} s CPU"
          f"{'' if max_seconds is None else f' (bound {max_seconds} s)'}: {'ok' if ok else 'FAIL'}")
    return ok


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+")
    p.add_argument("--min-persistence", type=float, default=1.0, help="A^2 (config homology.min_persistence_A2)")
    p.add_argument("--max-seconds", type=float, default=None, help="CPU-time bound per structure (s)")
    p.add_argument("--elements", default="P,S")
    p.add_argument("--max-ring-size", type=int, default=40)
    a = p.parse_args(argv)
    elements = tuple(e for e in a.elements.split(",") if e)
    ok = [check(f, a.min_persistence, a.max_seconds, elements, a.max_ring_size) for f in a.files]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
