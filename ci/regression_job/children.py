"""Child processes that die with their parent's job.

A CI runner that cancels a job sends SIGTERM (or SIGINT) to the script; Python's default
would exit and leave the benchmark it started running. Here both signals become SystemExit
(so `finally` blocks run), and a child still running is terminated, then killed, and waited
for: nothing outlives the script.
"""
from __future__ import annotations

import signal
import subprocess
import sys
from types import FrameType
from typing import Any

GRACE_S = 10.0  # ipcatlas stops its ranks and removes its files within this on SIGTERM


def exit_on_signals() -> None:
    """SIGTERM and SIGINT exit through SystemExit (status 128 + signal number)."""
    def stop(number: int, _frame: FrameType | None) -> None:
        sys.exit(128 + number)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def run(command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
    """subprocess.run, but a child left running when the call is interrupted is stopped."""
    with subprocess.Popen(command, text=True, **options) as child:
        try:
            out, err = child.communicate()
        except BaseException:
            child.terminate()
            try:
                child.wait(timeout=GRACE_S)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            raise
    return subprocess.CompletedProcess(command, child.returncode, out, err)
