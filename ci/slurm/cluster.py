"""A real Slurm cluster on this one host: munged, one slurmctld and three
slurmd (node1..node3, which all share this machine's CPUs), for the tests
and for developers.

Everything lives under one directory that the caller owns: slurm.conf, its
own munge key and socket (so a system munged and /etc/munge are never
touched, and /run/munge is not needed), state and per-node spool
directories, logs and pid files. Runs as root (slurmd starts jobs). Ports
are chosen free at start, so a system slurmctld/slurmd keeps running
undisturbed. Clients reach this cluster through SLURM_CONF (client_env()).

    ci/python ci/slurm/cluster.py start DIR   # prints the export line for SLURM_CONF
    ci/python ci/slurm/cluster.py stop DIR    # stops by pid, checks nothing is left

In a test: `with running_cluster(tmp_path / "cluster") as cluster: ...`.
Stopping removes nothing: the directory (logs included) belongs to the caller.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cluster_processes import (belongs_to, cluster_processes, describe, is_step_daemon, running, spawn,
                               terminate)

NODES = ("node1", "node2", "node3")
PARTITION = "ci"
CLUSTER_NAME = "ipcatlas-ci"
# Unix socket paths are limited to 108 bytes (sun_path) including the NUL.
MAX_SOCKET_PATH = 107


@dataclass(frozen=True)
class Layout:
    """Where each file of a cluster rooted at `root` goes."""
    root: Path

    @property
    def conf(self) -> Path:
        return self.root / "slurm.conf"

    @property
    def munge(self) -> Path:
        return self.root / "munge"

    @property
    def munge_socket(self) -> Path:
        return self.munge / "munge.socket"

    @property
    def logs(self) -> Path:
        return self.root / "log"

    @property
    def pids(self) -> Path:
        """One file per daemon we started, holding the pid Popen gave us."""
        return self.root / "pid"

    def log(self, daemon: str) -> Path:
        return self.logs / f"{daemon}.log"


def missing_binaries() -> list[str]:
    """The programs a cluster needs that are not installed."""
    wanted = ["munged", "slurmctld", "slurmd", "srun", "sbatch", "scontrol", "sinfo"]
    search = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    return [name for name in wanted if shutil.which(name, path=search) is None]


def binary(name: str) -> str:
    """Daemons live in /usr/sbin, which a non-root PATH may lack."""
    found = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if found is None:
        raise RuntimeError(f"{name} is not installed (ci/setup installs slurmctld, slurmd, slurm-client, munge)")
    return found


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports that nothing listens on now: each is bound
    (port 0 lets the kernel choose) and held until all are chosen."""
    held = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("", 0))
            held.append(sock)
        return [sock.getsockname()[1] for sock in held]
    finally:
        for sock in held:
            sock.close()


def short_host_name() -> str:
    """What slurmctld and slurmd compare SlurmctldHost and NodeHostname against."""
    return socket.gethostname().split(".")[0]


def slurm_conf_text(layout: Layout, ctld_port: int, node_ports: list[int]) -> str:
    """A minimal slurm.conf: no cgroups, no accounting, no systemd; every path
    under the layout; `%n` gives each slurmd its own spool, pid and log file.
    task/affinity pins each task to the CPUs its step got (sched_setaffinity,
    no cgroups), as on a real cluster, so a step that gets too few shows."""
    host, root, cpus = short_host_name(), layout.root, os.cpu_count() or 1
    lines = [
        f"ClusterName={CLUSTER_NAME}", f"SlurmctldHost={host}", f"SlurmctldPort={ctld_port}",
        "SlurmUser=root", "SlurmdUser=root",
        "AuthType=auth/munge", "CredType=cred/munge", f"AuthInfo=socket={layout.munge_socket}",
        f"StateSaveLocation={root}/state", f"SlurmdSpoolDir={root}/spool/%n",
        f"SlurmctldPidFile={root}/run/slurmctld.pid", f"SlurmdPidFile={root}/run/slurmd-%n.pid",
        f"SlurmctldLogFile={layout.log('slurmctld')}", f"SlurmdLogFile={root}/log/slurmd-%n.log",
        "ProctrackType=proctrack/pgid", "TaskPlugin=task/affinity", "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core", "MpiDefault=none", "SwitchType=switch/none",
        "JobAcctGatherType=jobacct_gather/none", "AccountingStorageType=accounting_storage/none",
        "JobCompType=jobcomp/none", "ReturnToService=2", "SlurmdTimeout=60", "InactiveLimit=0",
        "KillWait=5", "MinJobAge=300",
    ]
    lines += [f"NodeName={node} NodeHostname={host} Port={port} CPUs={cpus} State=UNKNOWN"
              for node, port in zip(NODES, node_ports)]
    lines.append(f"PartitionName={PARTITION} Nodes={','.join(NODES)} Default=YES MaxTime=INFINITE State=UP")
    return "\n".join(lines) + "\n"


def client_env(root: Path) -> dict[str, str]:
    """The environment for srun, sbatch, scontrol and sinfo to talk to this cluster."""
    env = dict(os.environ)
    env["SLURM_CONF"] = str(Layout(root).conf)
    env["PATH"] = env.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin"
    return env


def prepare(layout: Layout) -> None:
    """Directories, the munge key and slurm.conf, on ports free right now."""
    alive = [pid for pid in recorded_pids(layout) if belongs_to(pid, layout.root)]
    if alive:
        raise RuntimeError(f"a cluster already runs in {layout.root} ({describe(alive)}); stop it first")
    if len(str(layout.munge_socket)) > MAX_SOCKET_PATH:
        raise RuntimeError(f"{layout.munge_socket}: too long for a unix socket; use a shorter directory")
    for sub in ("state", "run", "log", "pid", "munge", *[f"spool/{n}" for n in NODES]):
        (layout.root / sub).mkdir(parents=True, exist_ok=True)
    # munged refuses a socket directory that others can write, and a key
    # that others can read (so the key is never readable, not even briefly).
    layout.munge.chmod(0o755)
    # A socket left by a killed munged would pass for the new one being ready.
    layout.munge_socket.unlink(missing_ok=True)
    key = layout.munge / "munge.key"
    key.unlink(missing_ok=True)
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(os.urandom(128))
    ports = free_ports(1 + len(NODES))
    layout.conf.write_text(slurm_conf_text(layout, ports[0], ports[1:]))


def start_daemon(layout: Layout, name: str, argv: list[str]) -> None:
    """Starts one daemon in the foreground of its own session, its output in
    its log, and records its pid for stop() (also from another process)."""
    pid = spawn(argv, layout.logs / f"{name}.out", client_env(layout.root))
    (layout.pids / f"{name}.pid").write_text(f"{pid}\n")


def munged_argv(layout: Layout) -> list[str]:
    """munged on its own key and socket. --force: munged wants every directory
    above its socket searchable by all users, so that any user's client can
    reach it, and a test's temporary directory is private (0700); here every
    client runs as the user who started the cluster, so that check is moot."""
    m = layout.munge
    return [binary("munged"), "--foreground", "--force", f"--socket={layout.munge_socket}", f"--key-file={m}/munge.key",
            f"--pid-file={m}/munged.pid", f"--log-file={layout.log('munged')}", f"--seed-file={m}/munged.seed"]


def wait_for(what: str, ready: Callable[[], bool], layout: Layout, timeout: float) -> None:
    """Polls `ready` until it holds; fails with the tails of the logs after
    `timeout`, or at once when a daemon we started has exited."""
    deadline = time.monotonic() + timeout
    while not ready():
        # running(), not belongs_to(): a daemon just spawned may not have exec'd yet, and
        # until it has, its command line is this Python's (it would pass for dead).
        dead = [f.stem for f in layout.pids.glob("*.pid") if not running(int(f.read_text()))]
        if dead or time.monotonic() > deadline:
            why = f"{', '.join(dead)} exited" if dead else f"not ready after {timeout:.0f} s"
            raise RuntimeError(f"waiting for {what}: {why}\n{log_tails(layout)}")
        time.sleep(0.2)


def node_states(root: Path) -> dict[str, str]:
    """Node name -> state as sinfo prints it (idle, mix, down*, ...); empty when slurmctld does not answer."""
    proc = subprocess.run(["sinfo", "--noheader", "--Node", "--format=%N %t"], capture_output=True,
                          text=True, env=client_env(root), timeout=30)
    if proc.returncode != 0:
        return {}
    return dict(line.split() for line in proc.stdout.splitlines() if len(line.split()) == 2)


def all_idle(root: Path) -> bool:
    states = node_states(root)
    return sorted(states) == sorted(NODES) and set(states.values()) == {"idle"}


def start(root: Path, timeout: float = 60) -> None:
    """Starts munged, slurmctld and the three slurmd, and waits until sinfo shows every node idle.
    On failure, stops whatever it had started before raising."""
    layout = Layout(root)
    prepare(layout)
    env_conf = ["-f", str(layout.conf)]
    try:
        start_daemon(layout, "munged", munged_argv(layout))
        wait_for("munged", layout.munge_socket.exists, layout, timeout)
        start_daemon(layout, "slurmctld", [binary("slurmctld"), "-D", *env_conf])
        for node in NODES:
            start_daemon(layout, f"slurmd-{node}", [binary("slurmd"), "-D", "-N", node, *env_conf])
        wait_for("the nodes (idle in sinfo)", lambda: all_idle(root), layout, timeout)
    except BaseException:
        stop(root)
        raise


def log_tails(layout: Layout, lines: int = 15) -> str:
    """The last lines of every log of the cluster, for an error message."""
    parts = []
    for log in sorted(layout.logs.glob("*")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"--- {log} ---\n" + "\n".join(tail))
    return "\n".join(parts)


def cancel_jobs(root: Path) -> None:
    """Cancels every job still known, so that no slurmstepd outlives its slurmd."""
    env = client_env(root)
    try:
        queue = subprocess.run(["squeue", "--noheader", "--format=%i"], capture_output=True, text=True,
                               env=env, timeout=10)
    except subprocess.TimeoutExpired:
        return
    jobs = queue.stdout.split() if queue.returncode == 0 else []
    if jobs:
        subprocess.run(["scancel", *jobs], capture_output=True, env=env, timeout=10)
        deadline = time.monotonic() + 10
        while any(is_step_daemon(pid) for pid in cluster_processes(root)) and time.monotonic() < deadline:
            time.sleep(0.2)


def recorded_pids(layout: Layout) -> list[int]:
    """The daemons start() recorded, slurmd first and munged last (the reverse of starting)."""
    order = {"slurmd": 0, "slurmctld": 1, "munged": 2}
    files = sorted(layout.pids.glob("*.pid"), key=lambda f: order.get(f.stem.split("-")[0], 0))
    return [int(f.read_text()) for f in files]


def stop(root: Path, timeout: float = 15) -> list[str]:
    """Stops the cluster under `root` by the pids start() recorded, then any
    process of it that survived them (a slurmstepd, a task). Returns those
    strays, described, so that a test can insist there were none; raises when
    something of the cluster is still alive at the end."""
    layout = Layout(root)
    if (layout.pids / "slurmctld.pid").exists():
        cancel_jobs(root)
    for pid in recorded_pids(layout):
        terminate([pid], root, timeout)
    strays = cluster_processes(root)
    described = [describe([pid]) for pid in strays]
    terminate(strays, root, timeout)
    for pid_file in layout.pids.glob("*.pid"):
        pid_file.unlink()
    left = cluster_processes(root)
    if left:
        raise RuntimeError(f"cluster processes left under {root}: {describe(left)}")
    return described


@contextmanager
def running_cluster(root: Path, timeout: float = 60) -> Iterator[Path]:
    """A started cluster for the block; stopped afterwards, even when the block fails."""
    start(root, timeout)
    try:
        yield root
    finally:
        stop(root)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        print("usage: ci/python ci/slurm/cluster.py start|stop DIR", file=sys.stderr)
        return 2
    root = Path(argv[2]).resolve()
    try:
        if argv[1] == "start":
            start(root)
            print(f"cluster up: nodes {','.join(NODES)}, partition {PARTITION}; logs in {Layout(root).logs}")
            print(f"export SLURM_CONF={Layout(root).conf}")
        else:
            strays = stop(root)
            print("cluster stopped" + (f"; also killed: {'; '.join(strays)}" if strays else ""))
    except RuntimeError as error:
        print(f"cluster.py {argv[1]}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
