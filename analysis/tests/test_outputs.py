"""Every command's outputs: checked before any work, written only through safe_output,
and a failed or refused command leaves nothing it created behind."""
from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from ipcatlas_analysis import report, safe_output
from ipcatlas_analysis.cli import main

Make = Callable[[Path], list[str]]


def history_args(inputs: Path) -> list[str]:
    runs = inputs / "history"
    return [str(runs / "run-a.json"), str(runs / "run-b.json"), "--order", "given"]


# Per command: the arguments that write into an output directory DIR.
DIRECTORY_COMMANDS: dict[str, Callable[[Path, Path], list[str]]] = {
    "plot": lambda inputs, out: ["plot", str(inputs / "pingpong_4mech.json"), "-o", str(out)],
    "report": lambda inputs, out: ["report", str(inputs / "pingpong_4mech.json"), "-o", str(out)],
    "history": lambda inputs, out: ["history", *history_args(inputs), "-o", str(out)],
}
# Per command and option: the arguments that write one file F.
FILE_COMMANDS: dict[str, Callable[[Path, Path], list[str]]] = {
    "thresholds --json": lambda inputs, f: ["thresholds", str(inputs / "pingpong_4mech.json"), "--json", str(f)],
    "thresholds --markdown": lambda inputs, f: ["thresholds", str(inputs / "pingpong_4mech.json"),
                                                "--markdown", str(f)],
    "compare --json": lambda inputs, f: ["compare", str(inputs / "compare_base.json"),
                                         str(inputs / "compare_noise.json"), "--json", str(f)],
}
# A file each directory command writes whatever the input, to plant something at.
ALWAYS_WRITTEN = {"plot": "latency-pingpong-l3-spin.png", "report": "report.html", "history": "history.json"}


def one_error_line(capsys: pytest.CaptureFixture[str], command: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"ipcatlas {command}: error: "), err
    return err


@pytest.mark.parametrize("kind", ["symlink", "fifo", "directory"])
@pytest.mark.parametrize("which", FILE_COMMANDS)
def test_a_file_output_that_is_not_a_regular_file_is_refused_before_work(
        inputs: Path, tmp_path: Path, victim: Path, hostile: Callable[[str, Path], Path],
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, which: str, kind: str) -> None:
    target = tmp_path / "out"
    hostile(kind, target)
    monkeypatch.setattr("ipcatlas_analysis.load.read_document", _no_work)  # refused before reading inputs
    assert main(FILE_COMMANDS[which](inputs, target)) == 2
    error = one_error_line(capsys, which.split()[0])
    assert f"{target}: refusing to write: it exists and is a {kind}" in error
    assert victim.read_text() == "precious\n"


@pytest.mark.parametrize("kind", ["symlink", "fifo", "directory"])
@pytest.mark.parametrize("command", DIRECTORY_COMMANDS)
def test_a_planted_target_in_the_output_directory_is_refused(
        inputs: Path, tmp_path: Path, victim: Path, hostile: Callable[[str, Path], Path],
        capsys: pytest.CaptureFixture[str], command: str, kind: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    planted = out / ALWAYS_WRITTEN[command]
    hostile(kind, planted)
    (out / f"{ALWAYS_WRITTEN[command]}.tmp").symlink_to(victim)
    assert main(DIRECTORY_COMMANDS[command](inputs, out)) == 2
    error = one_error_line(capsys, command)
    assert f"{planted}: refusing to write: it exists and is a {kind}" in error
    assert victim.read_text() == "precious\n"
    assert sorted(p.name for p in out.iterdir()) == sorted([planted.name, f"{planted.name}.tmp"])


@pytest.mark.parametrize("command", DIRECTORY_COMMANDS)
def test_a_full_disk_leaves_the_old_outputs_and_no_staging(
        inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        command: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / ALWAYS_WRITTEN[command]).write_text("old")
    monkeypatch.setattr(os, "fsync", _disk_full)
    assert main(DIRECTORY_COMMANDS[command](inputs, out)) == 2
    assert "cannot write: No space left on device" in one_error_line(capsys, command)
    assert [p.name for p in out.iterdir()] == [ALWAYS_WRITTEN[command]]
    assert (out / ALWAYS_WRITTEN[command]).read_text() == "old"


@pytest.mark.parametrize("which", FILE_COMMANDS)
def test_a_full_disk_keeps_the_old_file(inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch, which: str) -> None:
    target = tmp_path / "out"
    target.write_text("old")
    monkeypatch.setattr(os, "fsync", _disk_full)
    assert main(FILE_COMMANDS[which](inputs, target)) == 2
    assert f"{target}: cannot write: No space left on device" in one_error_line(capsys, which.split()[0])
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("command", DIRECTORY_COMMANDS)
def test_bad_input_creates_no_directory(inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        command: str) -> None:
    bad = tmp_path / "bad.json"
    shutil.copy(inputs / "malformed.json", bad)
    out = tmp_path / "new" / "out"
    args = DIRECTORY_COMMANDS[command](inputs, out)
    last_input = max(i for i, arg in enumerate(args) if arg.endswith(".json"))
    args[last_input] = str(bad)
    assert main(args) == 2
    assert "bad.json" in one_error_line(capsys, command)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


def test_a_crash_while_writing_the_report_leaves_no_directory(inputs: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*_args: object) -> str:
        raise RuntimeError("crash in render_page")
    monkeypatch.setattr(report, "render_page", crash)
    with pytest.raises(RuntimeError):
        report.write_report([inputs / "pingpong_4mech.json"], tmp_path / "new" / "report")
    assert list(tmp_path.iterdir()) == []


def test_a_report_into_an_existing_directory_replaces_its_files(inputs: Path, tmp_path: Path) -> None:
    (tmp_path / "report.html").write_text("old")
    (tmp_path / "notes.txt").write_text("mine")
    done = report.write_report([inputs / "pingpong_4mech.json"], tmp_path)
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert all(figure.path.parent == tmp_path and figure.path.is_file() for figure in done.figures)
    assert not any(p.name.startswith(safe_output.STAGING_PREFIX) for p in tmp_path.iterdir())


@pytest.mark.parametrize("command", DIRECTORY_COMMANDS)
def test_an_output_directory_that_is_a_file_is_refused_before_work(
        inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        command: str) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr("ipcatlas_analysis.load.read_document", _no_work)
    assert main(DIRECTORY_COMMANDS[command](inputs, blocker / "sub")) == 2
    assert "no parent directory exists" in one_error_line(capsys, command)
    assert main(DIRECTORY_COMMANDS[command](inputs, blocker)) == 2
    assert f"{blocker}: cannot write: it exists and is not a directory" in one_error_line(capsys, command)


@pytest.mark.parametrize("args", [["report", "r.json", "-o", ""], ["plot", "r.json", "-o", ""],
                                  ["history", "a.json", "b.json", "-o", ""], ["thresholds", "r.json", "--json", ""],
                                  ["thresholds", "r.json", "--markdown", ""], ["compare", "a", "b", "--json", ""],
                                  ["thresholds", ""], ["compare", "a.json", ""], ["report", "r", "--peer", ""]])
def test_an_empty_path_is_exit_2_naming_the_option(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(f"ipcatlas {args[0]}: error: argument ") and "empty" in error, error
    assert list(tmp_path.iterdir()) == []


def test_an_output_that_is_an_input_is_refused(inputs: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run.json"
    shutil.copy(inputs / "pingpong_4mech.json", run)
    before = run.read_bytes()
    assert main(["thresholds", str(run), "--json", str(run)]) == 2
    assert "it is also an input file" in one_error_line(capsys, "thresholds")
    assert run.read_bytes() == before


def _no_work(*_args: object) -> None:
    raise AssertionError("the inputs were read before the outputs were checked")


def _disk_full(_fd: int) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
