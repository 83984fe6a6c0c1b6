"""Claim criteria reach the claim rules only: a change of any key of the config's ``claims``
section changes the params (Snakemake's rerun trigger) of ``*_claims`` rules and of no analysis
rule. Built from the whole DAG of the tiny config (every job forced, nothing run) with two
different claims sections (tests/rule_params.py)."""

import json
import pytest
import subprocess
import sys

import yaml

from conftest import REPO

CHANGED = {"claims": {"level": 0.8, "softness_min_li_per_glass": 20, "C3": {"min_accuracy": 0.75},
                      "C4": {"margin": 0.9}, "C5": {"fraction_margin": 0.2, "p2s7_margin": 0.3, "min_group_li": 9},
                      "C6": {"margin": 0.3}, "C8": {"margin": 0.2}}}


def _params(tmp_path, name, overlay):
    """Params of every job with ``overlay`` merged last (one file path for both runs: the scorecard
    names its config files)."""
    path = tmp_path / "overlay.yaml"
    path.write_text(yaml.safe_dump(overlay))
    configs = [str(REPO / "config" / "config.yaml"), str(REPO / "tests" / "config" / "config.yaml"), str(path)]
    work = tmp_path / name
    work.mkdir()
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "rule_params.py"), str(work), *configs],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.mark.slow
def test_claim_keys_change_the_params_of_claim_rules_only(tmp_path):
    base = _params(tmp_path, "base", {"claims": yaml.safe_load((REPO / "config" / "config.yaml").read_text())["claims"]})
    changed = _params(tmp_path, "changed", CHANGED)
    assert set(base) == set(changed)
    differ = {rule for rule in base if base[rule] != changed[rule]}
    assert "softness_claims" in differ  # the check can see a change
    # the claim rules and the study plan (it sizes studies from the claims' margins) and nothing else
    users = {rule for rule in base if rule.endswith("_claims")} | {"study_plan"}
    assert differ <= users, differ - users


def test_no_analysis_section_holds_claim_criteria():
    """The softness section carries no claims block in any shipped config (they live in claims:)."""
    for path in ("config/config.yaml", "config/paper.yaml", "tests/config/config.yaml"):
        cfg = yaml.safe_load((REPO / path).read_text())
        assert "claims" not in cfg["softness"], path
        assert {"C4", "C5", "C6", "C8"} <= set(cfg["claims"]), path
