"""The generated rerun test: on the finished tiny study, every leaf key of the config is changed in
turn to another valid value (tests/config_variants.py), and the jobs Snakemake then plans are
compared with the rules the schema declares to read that key (``read_by`` in
lipsglass/data/config.schema.yaml, lipsglass.config.key_readers):

* nothing reruns but the declared readers and what consumes their outputs;
* every declared reader present in the study reruns (the declaration is not wider than the reads);
* no MD, softness-dynamics or NEB-band job reruns for a claim criterion, a figure option or a
  runtime setting (keys declared ``read_by: []`` or read only by claim, figure and summary rules).
"""

import json
import subprocess
import sys

import pytest
import yaml

from config_variants import leaf_keys, variants
from conftest import REPO, TINY_CONFIG
from lipsglass.config import SCHEMA_PATH, key_readers

pytestmark = pytest.mark.slow

# Jobs that cost minutes to hours at paper scale: none may rerun for a key they do not read.
EXPENSIVE = {"build_glass", "quench", "production", "softness_dynamics", "softness_replica_dynamics",
             "softness_properties", "softness_replica_properties", "neb_batch"}
NAMES_CONFIG_FILES = {"all", "scorecard", "overview_figure"}
# Declared readers that need not rerun in the tiny study, and why (the read depends on other values).
CONDITIONAL = {"production.dump_interval_ps": "the softness rules read it only when their labelled run is not at "
                                              "production.fine_T_K (the tiny study labels the fine run)"}
# Keys without another valid value in this configuration, and why.
UNCHANGEABLE = {"forcefield": "the only force field shipped (config/forcefields/ariga2022.yaml)"}


def _downstream(rules: set[str], consumers: dict[str, list[str]]) -> set[str]:
    seen, todo = set(rules), list(rules)
    while todo:
        for user in consumers.get(todo.pop(), []):
            if user not in seen:
                seen.add(user)
                todo.append(user)
    return seen


@pytest.fixture(scope="module")
def rerun_plans(tiny_run, tmp_path_factory):
    # the finished study's config: the tiny config alone (a --configfile replaces the Snakefile's default)
    base = yaml.safe_load(TINY_CONFIG.read_text())
    found, none = variants(base, yaml.safe_load(SCHEMA_PATH.read_text()))
    # two processes side by side (each parses the Snakefile once per overlay: ~1 s)
    names = ["unchanged", *found]
    chunks = [names[k::2] for k in range(2)]
    folder = tmp_path_factory.mktemp("rerun")
    procs = []
    for k, chunk in enumerate(chunks):
        path = folder / f"overlays_{k}.json"
        path.write_text(json.dumps({name: found.get(name, {}) for name in chunk}))
        procs.append(subprocess.Popen([sys.executable, str(REPO / "tests" / "rerun_plan.py"), str(tiny_run),
                                       str(TINY_CONFIG), "--", str(path)],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tiny_run))
    plans = {}
    for proc in procs:
        out, err = proc.communicate(timeout=1800)
        assert proc.returncode == 0, err[-3000:]
        plans.update(json.loads(out))
    return base, found, none, plans


def test_every_key_has_a_changed_value(rerun_plans):
    _, found, none, _ = rerun_plans
    assert set(none) == set(UNCHANGEABLE), none
    assert len(found) + len(none) == len(list(leaf_keys(rerun_plans[0]))) > 150


def test_the_finished_study_plans_nothing(rerun_plans):
    assert rerun_plans[3]["unchanged"] == {}


def test_each_key_reruns_only_its_readers(rerun_plans):
    _, found, _, plans = rerun_plans
    consumers = plans["rule_graph"]
    present = set(consumers)
    wrong = []
    for key in found:
        assert "error" not in plans[key], (key, plans[key])
        # new jobs (a key adding glasses, replicas, temperatures) are no rerun; "all" is the target;
        # the scorecard (and the overview that shows it) names the config files, so an overlay file reruns it
        planned = {rule for rule in plans[key] if not rule.startswith("new:")} - NAMES_CONFIG_FILES
        touched = {rule.removeprefix("new:") for rule in plans[key]}
        readers = set(key_readers(key))
        if "*" in readers:  # shapes the whole study: every rule may rerun or gain jobs
            continue
        allowed = _downstream(readers, consumers)
        extra = planned - allowed
        missing = set() if key in CONDITIONAL else (readers & present) - touched
        if extra or missing:
            wrong.append(f"{key}: reran undeclared {sorted(extra)}; declared readers not rerun {sorted(missing)}")
    assert not wrong, "\n".join(wrong)


def test_no_expensive_job_reruns_for_a_claim_figure_or_runtime_key(rerun_plans):
    _, found, _, plans = rerun_plans
    consumers = plans["rule_graph"]
    for key in found:
        readers = set(key_readers(key))
        reruns = {rule for rule in plans[key] if not rule.startswith("new:")}  # new jobs are no rerun
        # a key whose readers feed no expensive job (claims, figures, runtime settings) reruns none
        if "*" not in readers and not _downstream(readers, consumers) & EXPENSIVE:
            assert not reruns & EXPENSIVE, (key, plans[key])
    # new jobs of a key that adds glasses, replicas or temperatures are allowed (none are reruns)
    claims = [k for k in found if k.startswith("claims.")]
    assert claims and all(not set(plans[k]) & EXPENSIVE for k in claims)
