"""The suite's one-node SLURM (tests/slurm_cluster.py) recovers from a run that was killed before
it could stop its cluster: the link of the killed cluster's configuration, where job steps look
for theirs, would otherwise send every job step of the next run to a dead controller (the CI
failure of 2026-12-07: "srun: error: Unable to contact slurm controller")."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from slurm_cluster import RUN_CONF, OneNodeSlurm, skip_reason

SLURM_SKIP = skip_reason()
pytestmark = pytest.mark.skipif(SLURM_SKIP is not None, reason=SLURM_SKIP or "")


@pytest.fixture
def stale_link():
    """RUN_CONF pointing at the configuration of a cluster whose daemons were killed."""
    if RUN_CONF.exists() or RUN_CONF.is_symlink():
        pytest.skip(f"{RUN_CONF} is in use by another cluster on this machine; the test needs it free")
    scratch = Path(tempfile.mkdtemp(prefix="lipsglass-slurm-"))
    (scratch / "slurm.conf").write_text("SlurmctldHost=nowhere(127.0.0.1)\nSlurmctldPort=1\n")
    RUN_CONF.parent.mkdir(parents=True, exist_ok=True)
    RUN_CONF.symlink_to(scratch / "slurm.conf")
    yield scratch
    if RUN_CONF.is_symlink() and Path(os.readlink(RUN_CONF)).parent == scratch:
        RUN_CONF.unlink()
    shutil.rmtree(scratch, ignore_errors=True)


@pytest.mark.slow
def test_a_job_step_reaches_the_new_cluster_over_a_killed_clusters_link(stale_link):
    cluster = OneNodeSlurm().start()
    try:
        assert cluster.linked_conf and RUN_CONF.resolve() == cluster.conf.resolve()
        assert not stale_link.exists(), "the killed cluster's scratch folder is left behind"
        # a job step that, like the executor's jobstep plugin, does not carry SLURM_CONF
        proc = subprocess.run(["sbatch", "--wait", "-n1", "-o", str(cluster.scratch / "job.out"),
                               "--wrap", "env -u SLURM_CONF srun -n1 hostname"],
                              capture_output=True, text=True, env=cluster.env, timeout=120)
        out = (cluster.scratch / "job.out").read_text() if (cluster.scratch / "job.out").exists() else ""
        assert proc.returncode == 0, proc.stderr + out
        assert out.strip() == cluster.host, out
    finally:
        cluster.stop()
    assert not RUN_CONF.is_symlink(), "the cluster left its configuration link"


@pytest.mark.slow
def test_a_live_clusters_link_is_not_taken(stale_link):
    # the stale link's target made to look alive would need a slurmctld; a plain file stands for
    # the site's configuration, which no test cluster may replace
    RUN_CONF.unlink()
    RUN_CONF.write_text("# site configuration\n")
    try:
        with pytest.raises(RuntimeError, match="is in use"):
            OneNodeSlurm().start()
        assert RUN_CONF.read_text() == "# site configuration\n"
    finally:
        RUN_CONF.unlink()
