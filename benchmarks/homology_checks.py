"""Checks of the homology stage's rings (prints the numbers, exit 1 on a failure).

(a) Translation: every structure given is also translated by half a box along the three cell
    vectors; the persistent H1 pairs (persistence > --min-persistence A^2) and their ring sizes
    under each ring definition (--definitions: shortest cycle at birth on the periodic graph,
    boundary of the stable volume with --epsilon) must be identical.
(b) Timing: CPU time of the whole homology (periodic alpha complex, persistence, rings of the
    kept pairs under each definition) of each structure, and of each part, against --max-seconds
    (the issue's bound: Ariga's 8069-atom 70:30 model, P+S, under 30 s on one core).

Usage:
    python benchmarks/homology_checks.py results/*/r1/nvt/300K/final.data
    python benchmarks/homology_checks.py /path/to/70Li2S-30P2S5.data --max-seconds 30 --definitions shortest_cycle
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from lipsglass.homology.persistence import structure_homology
from lipsglass.homology.results import RING_DEFINITIONS
from lipsglass.lammpsio import Box, read_structure


def _key(rings, min_persistence: float):
    keep = rings.persistence > min_persistence
    rows = np.column_stack([rings.birth[keep], rings.death[keep], rings.size[keep]])
    return rows[np.lexsort((rows[:, 2], rows[:, 1], rows[:, 0]))]


def check(path: str, min_persistence: float, max_seconds: float | None, elements: tuple[str, ...],
          max_ring_size: int, definitions: tuple[str, ...], epsilon: float) -> bool:
    box, _, el, pos = read_structure(path)
    kw = dict(select=elements, max_ring_size=max_ring_size, ring_min_persistence=min_persistence,
              ring_definitions=definitions, volume_epsilon=epsilon)
    c0 = time.process_time()
    res = structure_homology(box, el, box.wrap(pos), **kw)
    cpu = time.process_time() - c0
    half = 0.5 * box.matrix.sum(axis=0)
    moved = structure_homology(box, el, box.wrap(pos + half), **kw)
    ok = max_seconds is None or cpu < max_seconds
    parts = []
    for name, attr in (("shortest_cycle", "rings"), ("optimal_volume", "volume_rings")):
        if name not in definitions:
            continue
        a, b = _key(getattr(res, attr), min_persistence), _key(getattr(moved, attr), min_persistence)
        same_pairs = a.shape == b.shape and np.allclose(a[:, :2], b[:, :2], rtol=0, atol=1e-8)
        changed = int(np.sum(a[:, 2] != b[:, 2])) if same_pairs else -1
        sizes = a[:, 2].astype(int)
        ok = ok and same_pairs and changed == 0
        parts.append(f"{name}: {len(a)} pairs ({int(np.sum(sizes > 0))} resolved, {int(np.sum(sizes < 0))} "
                     f"unresolved), sizes changed by the translation: {changed}, "
                     f"{res.timings[name + '_s']:.1f} s wall")
    print(f"{path}: {len(res.atom_indices)} atoms ({','.join(elements)}), persistence > {min_persistence} A^2; "
          f"diagram {res.timings['diagram_s']:.1f} s wall; " + "; ".join(parts)
          + f"; whole homology {cpu:.1f} s CPU{'' if max_seconds is None else f' (bound {max_seconds} s)'}: "
          f"{'ok' if ok else 'FAIL'}")
    return ok


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+")
    p.add_argument("--min-persistence", type=float, default=1.0, help="A^2 (config homology.min_persistence_A2)")
    p.add_argument("--max-seconds", type=float, default=None, help="CPU-time bound per structure (s)")
    p.add_argument("--elements", default="P,S")
    p.add_argument("--max-ring-size", type=int, default=40)
    p.add_argument("--definitions", default=",".join(RING_DEFINITIONS), help="ring definitions, comma separated")
    p.add_argument("--epsilon", type=float, default=0.5, help="stable-volume noise band, A^2 (homology.volume_epsilon_A2)")
    a = p.parse_args(argv)
    elements = tuple(e for e in a.elements.split(",") if e)
    definitions = tuple(d for d in a.definitions.split(",") if d)
    ok = [check(f, a.min_persistence, a.max_seconds, elements, a.max_ring_size, definitions, a.epsilon)
          for f in a.files]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
