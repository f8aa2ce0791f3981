"""Helpers shared by the end-to-end tests of the ipcatlas binary: where the
binary is, how a test runs it, and what a test may leave behind (processes,
/dev/shm objects).

The binary comes from $IPCATLAS_BIN (set by ctest), else build/release."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("IPCATLAS_BIN", REPO / "build" / "release" / "ipcatlas"))
QUICK = ["--benchmark_min_time=0.01"]


def ipcatlas(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=timeout)


def run_json(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`ipcatlas run --out` with a short minimum time: its result and the JSON it wrote."""
    out = tmp_path / "run.json"
    proc = ipcatlas("run", "--out", str(out), *QUICK, *args)
    assert out.exists(), proc.stderr
    return proc, json.loads(out.read_text())


@pytest.fixture
def nothing_left_behind() -> Iterator[None]:
    """After the test: no ipcatlas process alive, no new /dev/shm object. A module
    uses it with `pytestmark = pytest.mark.usefixtures("nothing_left_behind")`."""
    shm_before = shm_entries()
    yield
    deadline = time.monotonic() + 3
    while processes_running(BINARY) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = processes_running(BINARY)
    assert left == [], f"an ipcatlas process outlived its test: {describe(left)}"
    assert shm_entries() == shm_before, "shared-memory objects left behind"


def _stat_fields(pid: int | str) -> list[str]:
    """Fields of /proc/PID/stat after the command name (state first); the name may hold spaces and ')'."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def processes_running(binary: Path) -> list[int]:
    """Pids of live processes (not zombies) whose executable is `binary`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "exe") == str(binary.resolve()):
                if _stat_fields(entry.name)[0] != "Z":
                    pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def session_members(session: int) -> dict[int, str]:
    """Live processes (not zombies) of one session, pid -> state letter. A test
    starts the binary with start_new_session=True, so its session id is its pid
    and every rank, tracee or Python child it starts stays in that session."""
    members = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat_fields(entry.name)
        except OSError:
            continue
        # After the name: state, ppid, pgrp, session.
        if int(fields[3]) == session and fields[0] != "Z":
            members[int(entry.name)] = fields[0]
    return members


def wait_for_session_to_end(session: int, grace: float = 3.0) -> dict[int, str]:
    """The session's processes still alive after `grace` seconds (ranks die with
    their driver through PR_SET_PDEATHSIG, which takes a moment)."""
    deadline = time.monotonic() + grace
    members = session_members(session)
    while members and time.monotonic() < deadline:
        time.sleep(0.05)
        members = session_members(session)
    return members


def kill_session(session: int) -> None:
    """SIGKILL whatever is left of a session, so that one failing case does not disturb the next."""
    for pid in session_members(session):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def describe(pids: list[int]) -> str:
    """pid, parent, state and command line of each process, for failure messages."""
    lines = []
    for pid in pids:
        try:
            status = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                          if ":\t" in line)
            cmdline = Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
            lines.append(f"{pid} ppid={status.get('PPid')} state={status.get('State')} cmd={cmdline[:120]}")
        except OSError:
            lines.append(f"{pid} (gone)")
    return "; ".join(lines)


def shm_entries() -> set[str]:
    """Names in /dev/shm; ipcatlas's shared memory is anonymous, so it must never add one."""
    return set(os.listdir("/dev/shm"))
