"""A Li hop in a real glass: its barrier is converged in the number of NEB images.

Glass: the 792-atom LiP0.465S1.605 glass of the default study (``tests/data/glasses``), the hop
Li 736 -> site of Li 755 (relaxed length 8.8 A, one of the default study's soft->hard hops).
The hop runs with the default config's NEB settings through ``run_single_hop`` (the code path of
the stage and of ``python -m lipsglass neb``): end states from the glass's inherent structure, an
IDPP starting path, a regular band, a climbing-image band of R images (one per A, at least 9)
and the refinement band of 2R - 1 images started from it. The test checks that the refinement was
run and that the two bands' barriers agree within the configured tolerance, recomputed here from
the two bands' own energy profiles, not read from the verdict field.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from lipsglass.forcefield import ForceField
from lipsglass.neb.analysis import path_barriers
from lipsglass.neb.hop import run_single_hop
from lipsglass.neb.results import CONVERGED
from lipsglass.neb.settings import neb_settings
from lipsglass.units import KCAL_MOL_TO_EV

REPO = Path(__file__).resolve().parents[1]
GLASS = REPO / "tests" / "data" / "glasses" / "P2S6-25_r1_300K.data.gz"


@pytest.mark.slow
def test_glass_hop_barrier_agrees_between_default_and_refined_band(tmp_path):
    data = tmp_path / "glass.data"
    with gzip.open(GLASS, "rb") as src, open(data, "wb") as dst:
        shutil.copyfileobj(src, dst)
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    settings = neb_settings(cfg["neb"], cfg["md"])
    res = run_single_hop(data, 736, 755, settings, ForceField.load(cfg["forcefield"]), workdir=tmp_path / "hop")

    assert res["status"] == CONVERGED, (res.get("not_converged_reason"), res.get("error"))
    assert res["other_site_changes"] == 0 and settings.min_distance_A <= res["hop_length_A"] <= settings.max_distance_A
    # the default band: one image per A of the relaxed hop length, at least min_replicas
    assert res["replicas"] == settings.replicas_for(res["hop_length_A"]) >= settings.min_replicas
    assert res["refined_replicas"] == 2 * res["replicas"] - 1
    coarse = path_barriers(res["coarse"]["path_energy_eV"])
    fine = path_barriers(res["path_energy_eV"])
    assert len(res["coarse"]["path_energy_eV"]) == res["replicas"]
    assert len(res["path_energy_eV"]) == res["refined_replicas"]
    for key in ("forward", "backward"):
        assert abs(fine[key] - coarse[key]) <= settings.refine_tolerance_eV, (key, coarse[key], fine[key])
    assert np.isclose(res["forward_barrier_eV"], fine["forward"])
    # a real barrier between two different minima, and the band's ends are the minimised end states
    assert 0.1 < res["forward_barrier_eV"] < 1.5 and 0.1 < res["backward_barrier_eV"] < 1.5
    assert np.isclose(res["reaction_energy_eV"], (res["energy_final_min_kcal_mol"] - res["energy_initial_min_kcal_mol"])
                      * KCAL_MOL_TO_EV, atol=2e-3)
