"""cli.main's last lines of defence: one line and a distinct status for a bug, quiet exits for
Ctrl-C and for a reader that closed stdout, and no control characters from inputs on stderr."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ANALYSIS_DIR

from ipcatlas_analysis import thresholds_command
from ipcatlas_analysis.cli import EXIT_BROKEN_PIPE, EXIT_INTERNAL, EXIT_INTERRUPTED, main


def raising(error: BaseException) -> object:
    def run(*_args: object, **_kwargs: object) -> object:
        raise error
    return run


def test_an_unexpected_exception_is_one_line_and_exit_3(inputs: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IPCATLAS_DEBUG", raising=False)
    monkeypatch.setattr(thresholds_command, "compute", raising(RuntimeError("boom\nsecond line")))
    assert main(["thresholds", str(inputs / "pingpong_4mech.json")]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("ipcatlas thresholds: internal error: RuntimeError: boom\\nsecond line (a bug")
    assert "IPCATLAS_DEBUG=1" in err


def test_ipcatlas_debug_shows_the_traceback(inputs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPCATLAS_DEBUG", "1")
    monkeypatch.setattr(thresholds_command, "compute", raising(RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        main(["thresholds", str(inputs / "pingpong_4mech.json")])


def test_ctrl_c_exits_130_quietly(inputs: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(thresholds_command, "compute", raising(KeyboardInterrupt()))
    assert main(["thresholds", str(inputs / "pingpong_4mech.json")]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == ""


def test_control_characters_from_inputs_are_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "evil\n\x1b[2Jname.json"
    bad.write_text("{")
    assert main(["thresholds", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err and "evil\\n\\x1b[2Jname.json" in err


@pytest.mark.parametrize("args", [["thresholds", "tests/inputs/pingpong_4mech.json"], ["thresholds", "--help"]])
def test_a_closed_stdout_is_a_quiet_exit(args: list[str]) -> None:
    # `ipcatlas thresholds r.json | head -1`, with the reader already gone: every write fails.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "ipcatlas_analysis", *args], cwd=ANALYSIS_DIR,
                              stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=300, check=False)
    finally:
        os.close(write_end)
    assert proc.returncode == EXIT_BROKEN_PIPE, proc.stderr
    assert proc.stderr == ""
