"""history.py: run order (date, given, commit), the planted regression and nothing else, figures, gaps, exit statuses.

The runs are tests/inputs/history/run-{a..e}.json (see tests/inputs/README.md):
by date they go b, d, a, e, c, and shm at 4K is 20 % slower from e on.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from history_fixtures import with_context
from ipcatlas_analysis import cli
from ipcatlas_analysis.history import select_sizes, write_history
from ipcatlas_analysis.scaled import write_scaled
from ipcatlas_analysis.units import parse_size

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SHM_4K = "pingpong/shm/size:4096/ranks:2/placement:l3/wait:spin"
FIGURE = "history-one_way_ns-pingpong-l3-spin"
BY_DATE = ["run-b", "run-d", "run-a", "run-e", "run-c"]


@pytest.fixture
def history_dir(inputs: Path) -> Path:
    return inputs / "history"


@pytest.fixture
def ipcatlas(monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    """`ipcatlas history ARGS...` through the real dispatcher, loading only this command's module
    (the dispatcher imports every command; another command's state must not fail these tests)."""
    monkeypatch.setattr(cli, "COMMANDS", {"history": "history_command"})
    return lambda *argv: cli.main(["history", *(str(a) for a in argv)])


def copy_run(source: Path, target: Path, **context: Any) -> Path:
    """A copy of a golden run with context keys set (None removes a key)."""
    target.write_text(json.dumps(with_context(json.loads(source.read_text()), context)))
    return target


def git(repo: Path, *args: str) -> str:
    config = ["-c", "user.name=ipcatlas test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]
    done = subprocess.run(["git", "-C", str(repo), *config, *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def make_repo(path: Path, commits: int) -> list[str]:
    """A git repository with `commits` empty commits; their hashes, oldest first."""
    path.mkdir()
    git(path, "init", "-q")
    hashes = []
    for i in range(commits):
        git(path, "commit", "-q", "--allow-empty", "-m", f"commit {i}")
        hashes.append(git(path, "rev-parse", "HEAD"))
    return hashes


def test_order_by_date_flags_exactly_the_planted_regression(history_dir: Path, tmp_path: Path) -> None:
    history = write_history([history_dir], tmp_path / "out")
    assert [run.path.stem for run in history.runs] == BY_DATE
    # d's date is 2024-11-01T21:00-12:00: before b's 22:00+00:00 as text, 11 hours after it in time
    assert [run.label for run in history.runs][:2] == ["2024-11-01 22:00", "2024-11-02 09:00"]
    assert [(r.run, r.previous, r.name, Path(r.file).name) for r in history.regressions] == [
        (4, 3, SHM_4K, "run-e.json")]
    assert history.regressions[0].change == pytest.approx(0.196, abs=0.005)
    document = json.loads((tmp_path / "out" / "history.json").read_text())
    assert [(r["run"], r["previous"], r["name"], r["metric"]) for r in document["regressions"]] == [
        (4, 3, SHM_4K, "one_way_ns")]
    assert [Path(run["file"]).stem for run in document["runs"]] == BY_DATE
    assert document["last_run_regressed"] is False
    # 6 benchmarks in runs 2..5, less pipe 64 (missing from d) and pipe 64K (failed in a): 5 + 5 + 6 + 6;
    # e's pipe 64K is compared with d, the latest run where it measured ok
    assert document["comparisons"] == {"run_to_run": 22, "untested_too_few_repetitions": 0}


def test_figures_with_gaps_and_marker(history_dir: Path, tmp_path: Path) -> None:
    history = write_history([history_dir], tmp_path)
    (figure,) = history.figures
    assert (figure.png.name, figure.svg.name) == (f"{FIGURE}.png", f"{FIGURE}.svg")
    assert figure.png.read_bytes().startswith(PNG_MAGIC) and "<svg" in figure.svg.read_text()
    assert figure.sizes == [64, 4096, 65536] and figure.lines == ["pipe", "shm"]
    # pipe 64 is missing from run-d (2nd by date), pipe 64K failed in run-a (3rd): gaps, not errors
    assert figure.gaps == {"pipe @ 64": [2], "pipe @ 64K": [3]}
    assert figure.marked == ["shm @ 4K: run 4 +19.6%"]


def test_given_order_and_directory_order(history_dir: Path, tmp_path: Path) -> None:
    files = [history_dir / f"run-{x}.json" for x in "caebd"]
    given = write_history(files, tmp_path / "given", order="given")
    assert [run.label for run in given.runs] == ["run-c", "run-a", "run-e", "run-b", "run-d"]
    by_name = write_history([history_dir], tmp_path / "dir", order="given")
    assert [run.label for run in by_name.runs] == ["run-a", "run-b", "run-c", "run-d", "run-e"]
    # In name order shm 4K jumps twice: up at c (after b) and again at e (after d).
    assert [(r.run, r.run_label, r.previous_label) for r in by_name.regressions] == [
        (3, "run-c", "run-b"), (5, "run-e", "run-d")]


def test_order_by_commit(history_dir: Path, tmp_path: Path) -> None:
    hashes = make_repo(tmp_path / "repo", 5)
    runs = tmp_path / "runs"
    runs.mkdir()
    # git order d, c, a, e, b: neither the name nor the date order; one run records a short hash
    for position, run in enumerate("dcaeb"):
        commit = hashes[position][:10] if run == "a" else hashes[position]
        copy_run(history_dir / f"run-{run}.json", runs / f"run-{run}.json", commit=commit)
    history = write_history([runs], tmp_path / "out", order="commit", repo=tmp_path / "repo")
    assert [run.path.stem for run in history.runs] == ["run-d", "run-c", "run-a", "run-e", "run-b"]
    assert [run.label for run in history.runs] == [h[:7] for h in hashes]


@pytest.mark.parametrize(("commit", "expected"), [
    (None, "no \"commit\" in the context; record it with ipcatlas run --benchmark_context=commit="),
    ("0123456789abcdef", "commit '0123456789abcdef' is not in git rev-list HEAD of"),
])
def test_missing_or_unknown_commit_exits_2(history_dir: Path, tmp_path: Path, ipcatlas: Callable[..., int],
                                           capsys: pytest.CaptureFixture[str], commit: str | None,
                                           expected: str) -> None:
    (known,) = make_repo(tmp_path / "repo", 1)
    first = copy_run(history_dir / "run-a.json", tmp_path / "first.json", commit=known)
    bad = copy_run(history_dir / "run-b.json", tmp_path / "bad.json", commit=commit)
    assert ipcatlas(first, bad, "-o", tmp_path / "out", "--order", "commit", "--repo", tmp_path / "repo") == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and f"{bad}: " in error and expected in error


def test_gate_looks_at_the_last_run(history_dir: Path, tmp_path: Path, ipcatlas: Callable[..., int],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    # In name order the last run (e) regressed against d at shm 4K alone: one benchmark of six is
    # listed and ringed, but the gate tests across benchmarks and passes.
    assert ipcatlas(history_dir, "-o", tmp_path / "given", "--order", "given", "--fail-on-regression") == 0
    output = capsys.readouterr().out
    assert f"run 5 run-e vs run 4 run-d: {SHM_4K} one_way_ns" in output
    assert "gate --fail-on-regression --threshold 5: passed (across benchmarks" in output
    document = json.loads((tmp_path / "given" / "history.json").read_text())
    assert document["last_run_regressions"] == [SHM_4K] and document["last_run_gate"]["status"] == "passed"
    # The same history with a last run uniformly 1.6x slower fails: exit 1.
    runs = tmp_path / "runs"
    shutil.copytree(history_dir, runs)
    write_scaled(history_dir / "run-e.json", runs / "run-f.json", 1.6)
    assert ipcatlas(runs, "-o", tmp_path / "slowed", "--order", "given", "--fail-on-regression") == 1
    assert "gate --fail-on-regression --threshold 5: FAILED (across benchmarks" in capsys.readouterr().out
    assert ipcatlas(runs, "-o", tmp_path / "nogate", "--order", "given") == 0


def test_bandwidth_metric_regresses_downwards(history_dir: Path, tmp_path: Path) -> None:
    history = write_history([history_dir], tmp_path, metrics=["bytes_per_second"], sizes=[4096])
    assert [(r.run, r.name, r.metric) for r in history.regressions] == [(4, SHM_4K, "bytes_per_second")]
    assert history.regressions[0].change == pytest.approx(-0.164, abs=0.005)
    (figure,) = history.figures
    assert figure.png.name == "history-bytes_per_second-pingpong-l3-spin.png" and figure.sizes == [4096]


def test_too_few_runs_exit_2(history_dir: Path, tmp_path: Path, ipcatlas: Callable[..., int],
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert ipcatlas(history_dir / "run-a.json", "-o", tmp_path / "out") == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "at least 2 result files" in error and "run-a.json" in error
    assert not (tmp_path / "out").exists()


def test_other_json_in_a_directory_exits_2(history_dir: Path, tmp_path: Path, ipcatlas: Callable[..., int],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(history_dir, runs)
    (runs / "notes.json").write_text('{"comment": "not a result"}')
    assert ipcatlas(runs, "-o", tmp_path / "out") == 2
    assert "notes.json: not Google Benchmark JSON" in capsys.readouterr().err


@pytest.mark.parametrize(("option", "expected"), [
    (["--metric", "nope_ns"], "--metric nope_ns: no run has it; metrics present: bytes_per_second, one_way_ns"),
    (["--sizes", "3"], "--sizes 3: no run has any of these sizes"),
])
def test_unknown_metric_or_size_exits_2(history_dir: Path, tmp_path: Path, ipcatlas: Callable[..., int],
                                        capsys: pytest.CaptureFixture[str], option: list[str], expected: str) -> None:
    assert ipcatlas(history_dir, "-o", tmp_path / "out", *option) == 2
    assert expected in capsys.readouterr().err


def test_single_repetitions_warn_that_nothing_can_be_flagged(make_result: Callable[..., Path], tmp_path: Path,
                                                             ipcatlas: Callable[..., int],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    def one(ns: float) -> list[dict[str, Any]]:
        return [{"name": SHM_4K, "run_type": "iteration", "ipcatlas_status": "ok", "one_way_ns": ns}]
    first, second = make_result(one(500.0), "first.json"), make_result(one(1000.0), "second.json")
    assert ipcatlas(first, second, "-o", tmp_path / "out", "--order", "given", "--fail-on-regression") == 4
    output = capsys.readouterr().out
    assert "no regression" in output and "gate --fail-on-regression --threshold 5: cannot decide" in output
    assert "warning: 1 of 1 run-to-baseline comparisons had too few repetitions for the U test" in output


def test_sizes() -> None:
    assert [parse_size(text) for text in ("8", "64K", "1m", "2G")] == [8, 65536, 1 << 20, 2 << 30]
    with pytest.raises(ValueError):
        parse_size("64KB")
    assert select_sizes([64, 8, 1024, 65536, 4096], None) == [8, 1024, 65536]
    assert select_sizes([64, 4096], None) == [64, 4096]
    assert select_sizes([64, 4096, 65536], [65536, 8, 64]) == [64, 65536]


def test_help_explains_options_order_and_context(ipcatlas: Callable[..., int],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        ipcatlas("--help")
    assert exited.value.code == 0
    text = capsys.readouterr().out
    for expected in ("--order {date,commit,given}", "--repo DIR", "--metric METRIC", "--sizes LIST", "--alpha A",
                     "--threshold PCT", "--fail-on-regression", "-o DIR", "--baseline RULE", "commit:REF", "median:N",
                     "--reports DIR", "--benchmark_context=commit=", "git rev-list --topo-order --reverse HEAD",
                     "history.json", "history.html", "gate FAILED", "exit status", "example"):
        assert expected in text, expected
