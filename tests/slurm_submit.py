"""The sbatch command of every job of a configuration under a workflow profile, built by the SLURM
executor plugin's own code, without a cluster.

    python tests/slurm_submit.py WORKDIR PROFILE_DIR CONFIGFILE... > commands.json

A dry run never builds a submit command, so a profile the plugin refuses (e.g. an ``mpi`` resource
with ``tasks: 1``: "For MPI jobs, 'tasks' must be greater than 1") passes every dry run. Here
Snakemake's command line is parsed with the profile as ``snakemake --executor slurm`` would parse
it, the whole DAG is built (every job forced), and for each job that would be submitted (not a
local rule) the plugin's steps before ``sbatch`` run: ``validate_slurm_extra``,
``get_submit_command`` and ``set_gres_string`` (``Executor.run_job``). Account and partition are
the job's ``slurm_account`` and ``slurm_partition`` as the plugin writes them (``-A``, ``-p``);
unset, they are left out (the plugin would guess the account with sacct at submission).

Prints a JSON list of {rule, jobid, wildcards, command} or {rule, ..., error}.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from snakemake.api import SnakemakeApi
from snakemake.cli import parse_args
from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, ResourceSettings
from snakemake_interface_executor_plugins.registry import ExecutorPluginRegistry
from snakemake_executor_plugin_slurm.submit_string import get_submit_command
from snakemake_executor_plugin_slurm.utils import set_gres_string
from snakemake_executor_plugin_slurm.validation import validate_slurm_extra

REPO = Path(__file__).resolve().parent.parent


def _flag(flag: str, value) -> str:
    return f" {flag} {shlex.quote(str(value))}" if value else ""


def submit_commands(workdir: Path, profile: Path, configfiles: list[str]) -> list[dict]:
    argv = ["--executor", "slurm", "--workflow-profile", str(profile), "--snakefile", str(REPO / "Snakefile"),
            "--directory", str(workdir), "--configfile", *configfiles]
    parser, args = parse_args(argv)
    plugin = ExecutorPluginRegistry().get_plugin("slurm")
    settings = plugin.get_settings(args)
    rows = []
    with SnakemakeApi(OutputSettings(quiet=None)) as api:
        workflow_api = api.workflow(
            resource_settings=ResourceSettings(
                nodes=args.jobs, overwrite_threads=args.set_threads, overwrite_resources=args.set_resources,
                default_resources=args.default_resources, max_threads=args.max_threads),
            config_settings=ConfigSettings(configfiles=args.configfile),
            snakefile=args.snakefile, workdir=args.directory)
        workflow_api.dag(dag_settings=DAGSettings(forceall=True))
        workflow = workflow_api._workflow
        workflow._executor_plugin = plugin      # as Workflow.execute sets it: rules run remotely
        workflow._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True, nolock=True)
        workflow._build_dag()
        for job in sorted(workflow.dag.jobs, key=lambda j: j.jobid):
            if job.is_local:
                continue
            row = {"rule": job.rule.name, "jobid": job.jobid, "wildcards": dict(job.wildcards),
                   "resources": {k: v for k, v in job.resources.items() if not k.startswith("_")},
                   "threads": job.threads}
            try:
                validate_slurm_extra(job)
                params = {"run_uuid": "lipsglass-submit-check", "slurm_logfile": workdir / "slurm" / "%j.log",
                          "comment_str": f"rule_{job.name}",
                          "account": _flag("-A", job.resources.get("slurm_account")),
                          "partition": _flag("-p", job.resources.get("slurm_partition")),
                          "workdir": str(workdir)}
                row["command"] = get_submit_command(job, params, settings=settings) + set_gres_string(job)
            except Exception as exc:  # the plugin's refusal, reported per job
                row["error"] = f"{type(exc).__name__}: {exc}"
            rows.append(row)
    return rows


if __name__ == "__main__":
    workdir, profile, *configs = sys.argv[1:]
    json.dump(submit_commands(Path(workdir), Path(profile), configs), sys.stdout, default=str)
