"""OVITO's AtomicStrainModifier (Falk-Langer non-affine squared displacement) as the oracle of
lipsglass.d2min."""

from __future__ import annotations

import numpy as np


def version() -> str:
    import ovito

    return f"OVITO {ovito.version_string}"


def ovito_d2min(box, ref: np.ndarray, cur: np.ndarray, cutoff: float) -> np.ndarray:
    """D2min (A^2) of every atom of ``cur`` against ``ref`` (same periodic ``box``, A) with the
    neighbours within ``cutoff`` (A) in the reference."""
    from ovito.data import DataCollection
    from ovito.modifiers import AtomicStrainModifier
    from ovito.pipeline import Pipeline, StaticSource

    def collection(positions):
        data = DataCollection()
        cell = np.column_stack([box.matrix.T, box.lo])  # OVITO: cell vectors as columns + origin
        data.create_cell(cell, pbc=(True, True, True))
        particles = data.create_particles(count=len(positions))
        particles.create_property("Position", data=positions)
        return data

    pipeline = Pipeline(source=StaticSource(data=collection(cur)))
    modifier = AtomicStrainModifier(cutoff=cutoff, output_nonaffine_squared_displacements=True)
    modifier.reference = StaticSource(data=collection(ref))
    pipeline.modifiers.append(modifier)
    return np.array(pipeline.compute().particles["Nonaffine Squared Displacement"])
