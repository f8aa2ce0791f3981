"""The processes of a test cluster (cluster.py): starting its daemons, telling
its processes from everything else on the machine by what they name (files
under the cluster's directory), and ending them by pid.

A system munged, slurmctld or slurmd, or a second test cluster in another
directory, is never claimed: each daemon of a cluster names that cluster's
directory in its command line or its SLURM_CONF.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

DAEMON_COMMANDS = ("munged", "slurmctld", "slurmscriptd", "slurmd", "slurmstepd")

# The daemons this process started, kept so that stop() can collect their exit
# status (a Popen dropped while its child runs is a ResourceWarning).
_STARTED: dict[int, subprocess.Popen[bytes]] = {}


def spawn(argv: list[str], log: Path, env: dict[str, str]) -> int:
    """Starts a daemon in the foreground of its own session, its output
    appended to `log`; its pid."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, env=env)
    _STARTED[proc.pid] = proc
    return proc.pid


def belongs_to(pid: int, root: Path) -> bool:
    """Whether a live process (not a zombie) is part of the cluster under
    `root`: one of its daemons (each names a file under `root` in its command
    line or inherited SLURM_CONF; slurmstepd and slurmscriptd too), or a task
    of one of its jobs (SLURM_CONF and SLURM_JOB_ID in its environment). A
    shell that merely exported SLURM_CONF is not a task: it has no job id."""
    proc = Path(f"/proc/{pid}")
    try:
        if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
        comm = (proc / "comm").read_text().strip()
        cmdline, environ = (proc / "cmdline").read_bytes(), (proc / "environ").read_bytes().split(bytes(1))
    except (OSError, IndexError):
        return False
    if comm in DAEMON_COMMANDS:
        # With the slash, a cluster in DIR1 never claims one in DIR10.
        under_root = f"{root}/".encode()
        return under_root in cmdline or any(under_root in entry for entry in environ)
    conf = f"SLURM_CONF={root}/".encode()
    in_job = any(entry.startswith(b"SLURM_JOB_ID=") for entry in environ)
    return in_job and any(entry.startswith(conf) for entry in environ)


def cluster_processes(root: Path) -> list[int]:
    """Pids of every live process that belongs to the cluster under `root`, except this one."""
    return [int(entry.name) for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and int(entry.name) != os.getpid() and belongs_to(int(entry.name), root)]


def describe(pids: list[int]) -> str:
    names = []
    for pid in pids:
        try:
            names.append(f"{pid} {Path(f'/proc/{pid}/cmdline').read_bytes().replace(bytes(1), b' ').decode().strip()}")
        except OSError:
            names.append(f"{pid} (gone)")
    return "; ".join(names)


def reap(pid: int) -> None:
    """Collects the exit status when `pid` is a daemon this process started
    (the tests' case); the CLI's daemons were re-parented to init, which reaps them."""
    proc = _STARTED.get(pid)
    if proc is not None and proc.poll() is not None:
        del _STARTED[pid]


def running(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie. A process that is exiting has
    lost its command line already, so identity (belongs_to) is checked once,
    before the signal, and only existence after it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def terminate(pids: list[int], root: Path, timeout: float) -> None:
    """SIGTERM to those of `pids` that belong to the cluster, then SIGKILL to
    whatever still runs after `timeout`; returns when all are gone."""
    alive = [pid for pid in pids if belongs_to(pid, root)]
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        for pid in alive:
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while alive and time.monotonic() < deadline:
            time.sleep(0.1)
            for pid in alive:
                reap(pid)
            alive = [pid for pid in alive if running(pid)]
        if not alive:
            return
    raise RuntimeError(f"survived SIGKILL: {describe(alive)}")


def is_step_daemon(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "slurmstepd"
    except OSError:
        return False
