"""A cancelled CI job leaves no benchmark running: children.run stops its child on SIGTERM."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

SCRIPT = """
import sys
sys.path.insert(0, {here!r})
import children
children.exit_on_signals()
children.run(["sh", "-c", "echo $$ > {pidfile}; exec sleep 60"])
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


def test_sigterm_stops_the_child_and_exits_143(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    script = SCRIPT.format(here=str(HERE), pidfile=pidfile)
    with subprocess.Popen([sys.executable, "-c", script]) as parent:
        deadline = time.monotonic() + 10
        while not (pidfile.is_file() and pidfile.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.02)
        child = int(pidfile.read_text())
        assert alive(child)
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=15) == 128 + signal.SIGTERM
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(child), "the child outlived the script"
