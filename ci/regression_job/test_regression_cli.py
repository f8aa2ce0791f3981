"""ci/regression's usage errors and when it measures again, without the binary."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from regression import host_changed
from store import HISTORY

SCRIPT = Path(__file__).resolve().parent / "regression.py"


def regression(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args, says", [
    (["--baseline", "last"], "invalid baseline 'last'"),
    (["--baseline", "median:0"], "invalid baseline"),
    (["--budget", "0.5"], "out of range"),
    (["--retries", "9"], "--retries"),
    (["--threshold", "nan"], "out of range"),
    (["--threshold", "-5"], "out of range"),
])
def test_bad_options_are_one_line_and_exit_2(args: list[str], says: str) -> None:
    done = regression(*args)
    assert done.returncode == 2 and says in done.stderr, done.stderr


def test_a_missing_binary_is_named(tmp_path: Path) -> None:
    done = regression("--bin", str(tmp_path / "nope"), "--results", str(tmp_path / "r"))
    assert done.returncode == 2 and "no ipcatlas binary" in done.stderr
    assert not (tmp_path / "r").exists(), "nothing is written before the run"


def test_a_budget_too_small_for_the_matrix_is_refused(tmp_path: Path) -> None:
    done = regression("--bin", sys.executable, "--repo", str(Path(__file__).parent), "--budget", "1")
    assert done.returncode == 2 and "too small" in done.stderr, done.stderr


def test_only_a_host_state_change_is_worth_measuring_again(tmp_path: Path) -> None:
    (tmp_path / HISTORY).mkdir()
    record = tmp_path / HISTORY / "history.json"
    assert not host_changed(tmp_path)
    record.write_text(json.dumps({"last_run_gate": {"host_state_changed": True}}))
    assert host_changed(tmp_path)
    record.write_text(json.dumps({"last_run_gate": {"host_state_changed": False}}))
    assert not host_changed(tmp_path)
