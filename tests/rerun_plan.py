"""The jobs Snakemake plans in a finished study for each of several config overlays, in one process
(the Snakefile parsed once per overlay, nothing run, nothing written but Snakemake's own metadata
reads): which rules a change of each config key reruns.

    python tests/rerun_plan.py WORKDIR BASE_CONFIG... -- OVERLAY_JSON_FILE

OVERLAY_JSON_FILE holds {name: overlay mapping}; prints {name: {rule: jobs planned}} as JSON, and under "rule_graph" {rule: rules
consuming its outputs}
(an overlay the config validation rejects maps to {"error": message}).
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, ResourceSettings

REPO = Path(__file__).resolve().parent.parent


def planned_rules(api: SnakemakeApi, workdir: Path, configfiles: list[Path]) -> dict[str, int]:
    """{rule: number of jobs} that Snakemake would rerun in ``workdir`` with ``configfiles`` (its
    default rerun triggers: mtime, params, input, code, software-env), and under "new:<rule>" the
    jobs whose outputs do not exist yet (a key that adds a glass, replica or temperature adds jobs:
    that is no rerun)."""
    workflow_api = api.workflow(resource_settings=ResourceSettings(cores=2),
                                config_settings=ConfigSettings(configfiles=configfiles),
                                snakefile=REPO / "Snakefile", workdir=workdir)
    workflow_api.dag(dag_settings=DAGSettings())
    workflow = workflow_api._workflow
    workflow._prepare_dag(forceall=False, ignore_incomplete=False, lock_warn_only=True, nolock=True)
    workflow._build_dag()
    jobs = list(workflow.dag.needrun_jobs())
    new = [job for job in jobs if not all((workdir / str(f)).exists() for f in job.output)]
    reruns = [job for job in jobs if job not in new]
    return {**Counter(job.rule.name for job in reruns), **{f"new:{rule}": n for rule, n in
                                                          Counter(job.rule.name for job in new).items()}}


def rule_graph(api: SnakemakeApi, workdir: Path, configfiles: list[Path]) -> dict[str, list[str]]:
    """{rule: rules that consume its outputs} of the whole DAG (every job forced)."""
    workflow_api = api.workflow(resource_settings=ResourceSettings(cores=2),
                                config_settings=ConfigSettings(configfiles=configfiles),
                                snakefile=REPO / "Snakefile", workdir=workdir)
    workflow_api.dag(dag_settings=DAGSettings(forceall=True))
    workflow = workflow_api._workflow
    workflow._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True, nolock=True)
    workflow._build_dag()
    consumers: dict[str, set[str]] = {}
    for job in workflow.dag.jobs:
        consumers.setdefault(job.rule.name, set())
        for upstream in workflow.dag.dependencies[job]:
            consumers.setdefault(upstream.rule.name, set()).add(job.rule.name)
    return {rule: sorted(users) for rule, users in consumers.items()}


def main(workdir: Path, base: list[Path], overlays: dict[str, dict]) -> dict[str, dict]:
    """{"rule_graph": ..., overlay name: {rule: jobs planned}}."""
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="lipsglass-rerun-") as tmp:
        with SnakemakeApi(OutputSettings(quiet=None)) as api:
            for name, overlay in overlays.items():
                path = Path(tmp) / "overlay.yaml"
                path.write_text(yaml.safe_dump(overlay))
                try:  # an empty overlay adds no file: the study's own config files, unchanged
                    out[name] = planned_rules(api, workdir, [*base, path] if overlay else list(base))
                except Exception as error:  # noqa: BLE001  (a rejected overlay is reported, not fatal)
                    out[name] = {"error": f"{type(error).__name__}: {error}"[:500]}
            # last: a forced DAG built in this process must not precede the plans it could leak into
            out["rule_graph"] = rule_graph(api, workdir, base)
    return out


if __name__ == "__main__":
    args = sys.argv[1:]
    split = args.index("--")
    workdir, *configs = args[:split]
    overlays = json.loads(Path(args[split + 1]).read_text())
    json.dump(main(Path(workdir), [Path(c) for c in configs], overlays), sys.stdout)
