"""A real one-node SLURM cluster for the tests of the cluster path (Debian's ``slurm-wlm``).

``OneNodeSlurm.start()`` writes a ``slurm.conf`` for this host into a scratch folder, starts
``munged`` (only when no munge daemon answers already), ``slurmctld`` and ``slurmd``, and waits
for the node to be idle; ``stop()`` cancels the jobs left and stops exactly the daemons it started.
Status queries go through ``squeue`` (no accounting daemon): ``MinJobAge`` is long, so a finished
job stays visible to the executor plugin.

``make test`` installs the packages when it runs as root (Makefile, target ``slurm-packages``);
``skip_reason()`` says why the cluster cannot run here otherwise.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scancel", "sinfo", "srun")
SBIN = Path("/usr/sbin")
# Clients started by a job step (the executor's ``srun -n1`` inside a job) do not inherit
# SLURM_CONF (snakemake-executor-plugin-slurm-jobstep keeps only a few SLURM_* variables); they
# find the configuration here, the path slurmd's configless mode uses, after /etc/slurm.
RUN_CONF = Path("/run/slurm/conf/slurm.conf")
SITE_CONF = Path("/etc/slurm/slurm.conf")
MUNGE_SOCKET_DIR = Path("/run/munge")
MUNGE_KEY = Path("/etc/munge/munge.key")
# The node claims more than the machine has (SlurmdParameters=config_overrides) so that the
# cluster-sized requests of profiles/slurm fit; jobs then share the machine's cores.
NODE_CPUS = 16
NODE_MEMORY_MB = 512_000


def _executable(name: str) -> str | None:
    found = shutil.which(name)
    if found is None and (SBIN / name).exists():
        found = str(SBIN / name)
    return found


def skip_reason() -> str | None:
    """Why a one-node SLURM cannot be started here, or None."""
    if os.geteuid() != 0:
        return "the one-node SLURM needs root (munged, slurmd); run the suite as root"
    missing = [n for n in DAEMONS + CLIENTS if _executable(n) is None]
    if missing:
        return (f"SLURM is not installed ({', '.join(missing)} missing): `make test` installs Debian's "
                "slurm-wlm as root, or apt-get install slurm-wlm")
    if SITE_CONF.exists():
        return f"{SITE_CONF} exists (a site SLURM): the test cluster does not replace it"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _munge_answers() -> bool:
    try:
        token = subprocess.run(["munge", "-n"], capture_output=True, timeout=10)
        if token.returncode != 0:
            return False
        return subprocess.run(["unmunge"], input=token.stdout, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _read_pid(path: Path, timeout_s: float = 20.0) -> int:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if path.exists() and path.read_text().strip():
            return int(path.read_text().split()[0])
        time.sleep(0.1)
    raise RuntimeError(f"no pid file {path} after {timeout_s:.0f} s")


def _stop_pid(pid: int, timeout_s: float = 20.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _is_test_scratch_conf(path: Path) -> bool:
    """A configuration written by ``OneNodeSlurm.write_conf`` (its scratch folder's name)."""
    return path.name == "slurm.conf" and path.parent.name.startswith("lipsglass-slurm-")


def _controller_running(conf: Path) -> bool:
    """Whether a slurmctld started with ``-f CONF`` is alive."""
    wanted = [b"-f", str(conf).encode()]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"slurmctld") and any(argv[i:i + 2] == wanted for i in range(len(argv) - 1)):
            return True
    return False


@dataclass
class OneNodeSlurm:
    scratch: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="lipsglass-slurm-")))
    host: str = field(default_factory=lambda: socket.gethostname().split(".")[0])
    started: dict[str, int] = field(default_factory=dict)     # daemon -> pid, only what we started
    linked_conf: bool = False
    _munged: subprocess.Popen | None = None

    @property
    def conf(self) -> Path:
        return self.scratch / "slurm.conf"

    @property
    def env(self) -> dict[str, str]:
        """The environment of a SLURM client of this cluster."""
        return dict(os.environ, SLURM_CONF=str(self.conf))

    def write_conf(self) -> None:
        for sub in ("state", "spool"):
            (self.scratch / sub).mkdir(parents=True, exist_ok=True)
        s = self.scratch
        self.conf.write_text(f"""\
# one-node test cluster of the lipsglass test suite (tests/slurm_cluster.py)
ClusterName=lipsglass-test
# job ids unique across test clusters: MPICH names its shared-memory segments after the job and
# step (srun --mpi=pmi2), so a segment left by a killed run of an earlier cluster's job 41.2
# would be taken up by this cluster's job 41.2, whose ranks then wait in MPI_Init for ever
FirstJobId={1000 + int(time.time()) % 60_000_000}
SlurmctldHost={self.host}(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
AuthType=auth/munge
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation={s}/state
SlurmdSpoolDir={s}/spool
SlurmctldPidFile={s}/slurmctld.pid
SlurmdPidFile={s}/slurmd.pid
SlurmctldLogFile={s}/slurmctld.log
SlurmdLogFile={s}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=pmi2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
# finished jobs stay visible to squeue for 10 min: the executor's status queries (no sacct)
MinJobAge=600
# a job without --mem gets this much per CPU, not the whole node
DefMemPerCPU=1000
ReturnToService=2
SlurmdParameters=config_overrides
NodeName={self.host} NodeAddr=127.0.0.1 CPUs={NODE_CPUS} RealMemory={NODE_MEMORY_MB} State=UNKNOWN
PartitionName=debug Nodes={self.host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
""")

    def start(self) -> "OneNodeSlurm":
        self.write_conf()
        try:
            self._start_munge()
            self._link_run_conf()
            subprocess.run([_executable("slurmctld"), "-f", str(self.conf)], check=True, env=self.env)
            self.started["slurmctld"] = _read_pid(self.scratch / "slurmctld.pid")
            subprocess.run([_executable("slurmd"), "-f", str(self.conf)], check=True, env=self.env)
            self.started["slurmd"] = _read_pid(self.scratch / "slurmd.pid")
            self._wait_idle()
        except BaseException:
            self.stop()
            raise
        return self

    def _link_run_conf(self) -> None:
        """Point RUN_CONF at this cluster's configuration, the one its job steps read. A link left
        by a test cluster that was killed before it could stop (its slurmctld gone) is replaced:
        kept, it would send this cluster's job steps to a dead controller ("Unable to contact slurm
        controller"). Any other file there belongs to a live cluster or to the site: refuse."""
        if RUN_CONF.is_symlink():
            target = Path(os.readlink(RUN_CONF))
            if _is_test_scratch_conf(target) and not _controller_running(target):
                RUN_CONF.unlink()
                shutil.rmtree(target.parent, ignore_errors=True)
        if RUN_CONF.exists() or RUN_CONF.is_symlink():
            where = f" -> {os.readlink(RUN_CONF)}" if RUN_CONF.is_symlink() else ""
            raise RuntimeError(f"{RUN_CONF}{where} is in use (a running cluster or the site's configuration): "
                               "the test cluster's job steps would read it instead of their own")
        RUN_CONF.parent.mkdir(parents=True, exist_ok=True)
        RUN_CONF.symlink_to(self.conf)
        self.linked_conf = True

    def _start_munge(self) -> None:
        if _munge_answers():
            return      # a munge daemon of the machine answers: use it, never stop it
        if not MUNGE_KEY.exists():
            subprocess.run(["runuser", "-u", "munge", "--", "mungekey", "--create"], check=True)
        MUNGE_SOCKET_DIR.mkdir(parents=True, exist_ok=True)
        shutil.chown(MUNGE_SOCKET_DIR, "munge", "munge")
        own = self.scratch / "munge"        # munged runs as munge: its own folder for log and seed
        own.mkdir()
        shutil.chown(own, "munge", "munge")
        self.scratch.chmod(0o755)
        # in the foreground (-F) as a child of this process: its pid is ours to stop, exactly
        self._munged = subprocess.Popen(
            [_executable("munged"), "-F", f"--log-file={own / 'munged.log'}", f"--seed-file={own / 'munged.seed'}",
             f"--pid-file={own / 'munged.pid'}"], user="munge", group="munge",
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.started["munged"] = self._munged.pid
        deadline = time.time() + 20
        while not _munge_answers():
            if time.time() > deadline:
                raise RuntimeError(f"munged started but does not answer; see {own / 'munged.log'}")
            time.sleep(0.2)

    def _wait_idle(self, timeout_s: float = 60.0) -> None:
        deadline = time.time() + timeout_s
        state = ""
        while time.time() < deadline:
            proc = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=self.env)
            state = proc.stdout.strip()
            if state == "idle":
                return
            time.sleep(0.5)
        raise RuntimeError(f"the test node is not idle after {timeout_s:.0f} s (sinfo: {state!r}); "
                           f"see {self.scratch}/slurmctld.log and slurmd.log")

    def squeue(self, *args: str) -> str:
        return subprocess.run(["squeue", "-h", *args], capture_output=True, text=True, env=self.env).stdout

    def job_processes(self) -> list[int]:
        """Processes of this cluster: slurmstepd and every job process inherit ``SLURM_CONF`` of
        this cluster (slurmd from us, jobs through sbatch --export=ALL); never this process."""
        marker = f"SLURM_CONF={self.conf}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def stop(self) -> None:
        """Cancel the jobs, stop the daemons this object started (slurmd, slurmctld, munged, in that
        order) and every process left of this cluster's jobs (job steps outlive a stopped slurmd),
        remove the configuration link and the scratch folder."""
        if "slurmctld" in self.started:
            subprocess.run(["scancel", "--full", "--user", "root"], capture_output=True, env=self.env)
            deadline = time.time() + 30
            while time.time() < deadline and self.squeue().strip():
                time.sleep(0.5)
        for name in ("slurmd", "slurmctld"):
            pid = self.started.pop(name, None)
            if pid is not None:
                _stop_pid(pid)
        for pid in self.job_processes():
            _stop_pid(pid, timeout_s=5.0)
        pid = self.started.pop("munged", None)
        if pid is not None:
            _stop_pid(pid)
        if self._munged is not None:
            self._munged.wait(timeout=20)       # reap our child
            self._munged = None
        if self.linked_conf and RUN_CONF.is_symlink():
            RUN_CONF.unlink()
            self.linked_conf = False
        shutil.rmtree(self.scratch, ignore_errors=True)
