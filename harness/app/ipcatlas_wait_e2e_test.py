"""End-to-end tests of --wait eventfd through the ipcatlas binary: the mailbox
mechanisms run under it, the fd mechanisms are skipped with a reason, and
`list` says which mechanisms honour it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from e2e_support import ipcatlas, nothing_left_behind, run_json  # noqa: F401 (a fixture)


pytestmark = pytest.mark.usefixtures("nothing_left_behind")


def test_eventfd_runs_shm_and_skips_pipe_with_a_reason(tmp_path: Path) -> None:
    proc, doc = run_json(tmp_path, "--wait", "eventfd", "--mechanisms", "shm,pipe", "--sizes", "64")
    assert proc.returncode == 0, proc.stderr
    assert doc["context"]["wait"] == "eventfd"
    placement = doc["context"]["placement"]
    got = {b["name"]: b for b in doc["benchmarks"]}
    shm = got[f"pingpong/shm/size:64/ranks:2/placement:{placement}/wait:eventfd"]
    assert shm["ipcatlas_status"] == "ok" and shm["one_way_ns"] > 0, shm.get("error_message")
    pipe = got[f"pingpong/pipe/size:64/ranks:2/placement:{placement}/wait:eventfd"]
    assert pipe["ipcatlas_status"] == "skipped"
    assert "pipe does not honour --wait eventfd" in pipe["skip_message"], pipe["skip_message"]
    assert "1 measured, 0 failed, 1 skipped" in proc.stderr


def test_eventfd_in_a_group_scenario(tmp_path: Path) -> None:
    """Links wake through their eventfds; the group's barriers block (they are no link)."""
    proc, doc = run_json(tmp_path, "--wait", "eventfd", "--scenario", "alltoall", "--ranks", "3",
                         "--mechanisms", "shm,cma-read", "--sizes", "64")
    assert proc.returncode == 0, proc.stderr
    for b in doc["benchmarks"]:
        assert b["name"].endswith("/wait:eventfd") and b["ipcatlas_status"] == "ok", (b["name"], b.get("error_message"))


def test_list_says_which_mechanisms_honour_eventfd() -> None:
    listed = ipcatlas("list", "--json")
    assert listed.returncode == 0, listed.stderr
    waits = {m["id"]: m["wait_policies"] for m in json.loads(listed.stdout)["mechanisms"]}
    for mailbox in ("shm", "zerocopy", "cma-read", "cma-write", "procmem-read", "procmem-write", "ptrace"):
        assert waits[mailbox] == ["spin", "block", "adaptive", "eventfd"], mailbox
    for fd_mechanism in ("pipe", "vmsplice", "unix-stream", "unix-seqpacket"):
        assert waits[fd_mechanism] == ["block"], fd_mechanism
    assert "waits: spin, block, adaptive, eventfd" in ipcatlas("list").stdout


def test_a_bad_wait_names_eventfd_among_the_choices() -> None:
    proc = ipcatlas("run", "--wait", "sometimes")
    assert proc.returncode == 2
    assert "expected spin, block, adaptive or eventfd" in proc.stderr
    assert "eventfd" in ipcatlas("run", "--help").stdout
