"""The params of every job of a configuration's whole DAG (every job forced), as JSON, without
running anything: which rules a config key reaches.

    python tests/rule_params.py WORKDIR CONFIGFILE... > params.json

Prints {rule: [params of each of its jobs, as strings]}; a rule whose params change when a key
changes reruns when that key changes (Snakemake's params rerun trigger).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, ResourceSettings

REPO = Path(__file__).resolve().parent.parent


def rule_params(workdir: Path, configfiles: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with SnakemakeApi(OutputSettings(quiet=None)) as api:
        workflow_api = api.workflow(resource_settings=ResourceSettings(),
                                    config_settings=ConfigSettings(configfiles=[Path(c) for c in configfiles]),
                                    snakefile=REPO / "Snakefile", workdir=workdir)
        workflow_api.dag(dag_settings=DAGSettings(forceall=True))
        workflow = workflow_api._workflow
        workflow._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True, nolock=True)
        workflow._build_dag()
        for job in sorted(workflow.dag.jobs, key=lambda j: (j.rule.name, str(sorted(j.wildcards.items())))):
            params = {k: v for k, v in job.params.items()}
            out.setdefault(job.rule.name, []).append(json.dumps(params, sort_keys=True, default=str))
    return out


if __name__ == "__main__":
    workdir, *configs = sys.argv[1:]
    json.dump(rule_params(Path(workdir), configs), sys.stdout)
