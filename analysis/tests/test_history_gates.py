"""history_gates.py: the baseline rules (previous, commit:REF, median:N), pooling, and a gate on every run.

The histories are copies of the quiet golden runs (history_fixtures.make_history), one of
them made uniformly slower where a test needs a regression.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from statistics import median

import pytest

from history_fixtures import SHM_4K, hex_commit, make_history
from ipcatlas_analysis import cli
from ipcatlas_analysis.gate import FAILED, PASSED, UNDECIDED
from ipcatlas_analysis.history import History, write_history
from ipcatlas_analysis.history_gates import BaselineRule, parse_baseline


@pytest.fixture
def ipcatlas(monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    """`ipcatlas history ARGS...` through the real dispatcher, loading only this command's module."""
    monkeypatch.setattr(cli, "COMMANDS", {"history": "history_command"})
    return lambda *argv: cli.main(["history", *(str(a) for a in argv)])


def statuses(history: History) -> list[str]:
    return [gate.result.status for gate in history.gates]


def baselines(history: History) -> list[list[int]]:
    return [gate.baseline for gate in history.gates]


def test_parse_baseline() -> None:
    assert parse_baseline("previous") == BaselineRule()
    assert parse_baseline("commit:ABCD12") == BaselineRule("commit", ref="abcd12")
    assert parse_baseline("median:5") == BaselineRule("median", count=5)
    assert [str(parse_baseline(t)) for t in ("previous", "commit:abcd", "median:1")] == [
        "previous", "commit:abcd", "median:1"]
    for bad in ("", "last", "commit:", "commit:abc", "commit:xyz123", "median:0", "median:-1", "median:x",
                "previous:1"):
        with pytest.raises(ValueError, match="is not a baseline"):
            parse_baseline(bad)


def test_only_the_slow_run_fails_and_is_marked(tmp_path: Path) -> None:
    # Six runs, the 4th 1.3x slower: its gate and only its gate FAILS; the 5th is compared with
    # the slow 4th (previous) and is faster, so it passes.
    runs = make_history(tmp_path / "runs", 6, factors={4: 1.3})
    history = write_history(runs, tmp_path / "out", order="given")
    assert [gate.position for gate in history.gates] == [2, 3, 4, 5, 6]
    assert statuses(history) == [PASSED, PASSED, FAILED, PASSED, PASSED]
    # Each benchmark's previous run: the one before, or further back where the benchmark is missing
    # (pipe 64 from runs 2 and 5) or failed (pipe 64K in run 3).
    assert baselines(history) == [[1], [1, 2], [2, 3], [4], [4, 5]]
    assert {r.run for r in history.regressions} == {4}
    (figure,) = history.figures
    assert figure.gate_failed == [4] and figure.gate_undecided == []
    document = json.loads((tmp_path / "out" / "history.json").read_text())
    assert document["baseline"] == "previous"
    assert [(g["position"], g["status"], g["exit_status"], g["baseline"]) for g in document["gates"]][2] == (
        4, FAILED, 1, {"rule": "previous", "runs": [2, 3], "note": None})
    assert document["gates"][2]["decided_by"] == "across benchmarks (signed-rank test)"
    assert [t["group"] for t in document["gates"][2]["tests"] if t["slower"]] == ["all benchmarks"]
    assert document["last_run_gate"] == document["gates"][-1] and document["last_run_gate"]["position"] == 6
    assert document["figures"][0]["gate_failed_runs"] == [4]
    assert document["figures"][0]["gate_undecided_runs"] == []


def test_fail_on_regression_exits_with_the_last_runs_gate(tmp_path: Path, ipcatlas: Callable[..., int],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "runs"
    make_history(runs, 4, factors={4: 1.3})
    assert ipcatlas(runs, "-o", tmp_path / "out", "--order", "given", "--fail-on-regression") == 1
    output = capsys.readouterr().out
    assert "gates (3 run(s), each against its baseline previous" in output and "2 passed, 1 FAILED" in output
    assert "  run 4 run04: FAILED against runs 2, 3\n" in output
    assert "last run: 4 run04, against runs 2, 3 (--baseline previous)" in output
    # A slow run in the middle fails its own gate but not the command: the last run passed.
    make_history(runs, 5, factors={4: 1.3})
    assert ipcatlas(runs, "-o", tmp_path / "out", "--order", "given", "--fail-on-regression") == 0


def test_commit_baseline_pools_the_runs_of_that_commit(tmp_path: Path) -> None:
    commits = [hex_commit(c) for c in "aabcdd"]  # runs 1 and 2 measured the baseline commit a...
    contexts = [{"commit": commit, "canary_median_ns": 60} for commit in commits]
    contexts[4]["canary_median_ns"] = 200  # run 5 in another host state than the baseline runs
    runs = make_history(tmp_path / "runs", 6, factors={6: 1.3}, contexts=contexts)
    history = write_history(runs, tmp_path / "out", order="given", baseline=parse_baseline("commit:aaaa"))
    assert baselines(history) == [[1], [1, 2], [1, 2], [1, 2], [1, 2]]
    assert statuses(history) == [PASSED, PASSED, PASSED, UNDECIDED, FAILED]
    assert "the host changed state between the runs: drift canary median 60 ns in BASE, 200 ns" in (
        history.gates[3].result.reason)
    assert [gate.host_state for gate in history.gates] == [False, False, False, True, False]
    # Pooled: the baseline median of a benchmark is the median of both runs' repetitions.
    regression = next(r for r in history.regressions if r.run == 6 and r.name == SHM_4K)
    assert regression.baseline == [1, 2] and regression.previous == 2
    pooled = [row["one_way_ns"] for path in runs[:2] for row in json.loads(path.read_text())["benchmarks"]
              if row["name"] == SHM_4K]
    assert len(pooled) == 18 and regression.median_before == pytest.approx(median(pooled))


def test_commit_baseline_later_in_history_leaves_earlier_runs_undecided(tmp_path: Path) -> None:
    contexts = [{"commit": hex_commit(c)} for c in "abcd"]
    runs = make_history(tmp_path / "runs", 4, contexts=contexts)
    history = write_history(runs, tmp_path / "out", order="given", baseline=parse_baseline("commit:bbbb"))
    assert statuses(history) == [UNDECIDED, PASSED, PASSED] and baselines(history) == [[], [2], [2]]
    assert history.gates[0].result.reason == ("no earlier run of the baseline commit bbbb measured any of this "
                                              "run's benchmarks")
    assert history.figures[0].gate_undecided == [2]


@pytest.mark.parametrize(("commits", "ref", "expected"), [
    ("abc", "dddd", "--baseline commit:dddd: no run's commit starts with dddd"),
    ("ab", "1234", "--baseline commit:1234: 1234 is ambiguous: it starts the commits 1234aaaa"),
])
def test_unknown_or_ambiguous_commit_exits_2(tmp_path: Path, ipcatlas: Callable[..., int],
                                             capsys: pytest.CaptureFixture[str], commits: str, ref: str,
                                             expected: str) -> None:
    contexts = [{"commit": f"1234{c * 4}"} for c in commits]
    runs = make_history(tmp_path / "runs", len(commits), contexts=contexts)
    assert ipcatlas(*runs, "-o", tmp_path / "out", "--order", "given", "--baseline", f"commit:{ref}") == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and expected in error
    assert not (tmp_path / "out").exists()


def test_a_full_hash_and_its_prefix_are_one_commit(tmp_path: Path) -> None:
    contexts = [{"commit": hex_commit("a")}, {"commit": "aaaaaaa"}, {"commit": hex_commit("b")}]
    runs = make_history(tmp_path / "runs", 3, contexts=contexts)
    history = write_history(runs, tmp_path / "out", order="given", baseline=parse_baseline("commit:aaaa"))
    assert baselines(history) == [[1], [1, 2]]


def test_bad_baseline_option_exits_2(tmp_path: Path, ipcatlas: Callable[..., int],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    runs = make_history(tmp_path / "runs", 2)
    with pytest.raises(SystemExit) as exited:
        ipcatlas(*runs, "-o", tmp_path / "out", "--baseline", "median:0")
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "--baseline: 'median:0' is not a baseline" in error


def test_median_baseline_takes_the_last_runs_in_the_same_host_state(tmp_path: Path) -> None:
    # Drift canary per run: the host was in a slow state (~200 ns) for runs 3 and 6.
    canaries = [60, 61, 200, 62, 59, 205, 60]
    contexts = [{"canary_median_ns": ns} for ns in canaries]
    runs = make_history(tmp_path / "runs", 7, contexts=contexts)
    history = write_history(runs, tmp_path / "out", order="given", baseline=parse_baseline("median:2"))
    # The baseline runs of a gate are those of any benchmark: pipe 64 is missing from runs 2 and 5
    # (so run 5 has none), pipe 64K failed in runs 3 and 6: their last two same-state runs go further back.
    assert baselines(history) == [[1], [], [1, 2], [2, 4], [3], [1, 4, 5]]
    assert statuses(history) == [PASSED, UNDECIDED, PASSED, PASSED, PASSED, PASSED]
    undecided = history.gates[1].result.reason
    assert undecided.startswith("no earlier run in the same host state as this one (drift canary median 200 ns)")
    assert "2 of the 2 earlier run(s) are more than 1.25x apart" in undecided
    assert [gate.host_state for gate in history.gates] == [False, True, False, False, False, False]
    # Fewer same-state runs than asked for: said, with the runs left out.
    assert history.gates[0].note.startswith("1 of the 2 runs asked for")
    assert history.gates[4].note == ("1 of the 2 runs asked for: only 1 earlier run(s) in the same host state "
                                     "measured these benchmarks; other host state, left out: run(s) 1, 2, 4, 5")
    assert history.gates[3].note == ""
    assert history.figures[0].gate_undecided == [3]
    document = json.loads((tmp_path / "out" / "history.json").read_text())
    assert document["gates"][3]["baseline"] == {"rule": "median:2", "runs": [2, 4], "note": None}
    assert [gate["host_state_changed"] for gate in document["gates"]] == [False, True, False, False, False, False]


def test_median_baseline_counts_runs_without_a_canary_as_same_state(tmp_path: Path) -> None:
    contexts = [{"canary_median_ns": 60}, {}, {"canary_median_ns": 300}, {"canary_median_ns": 61}]
    runs = make_history(tmp_path / "runs", 4, contexts=contexts)
    history = write_history(runs, tmp_path / "out", order="given", baseline=parse_baseline("median:3"))
    assert baselines(history) == [[1], [2], [1, 2]]


def test_pooling_lets_the_u_test_decide_with_three_repetitions(tmp_path: Path) -> None:
    # 3 repetitions a run: 3+3 can never reach p < 0.05 in the U test, so previous rings nothing;
    # median:3 pools 9 repetitions against 3, and the U test finds the slow run's benchmarks.
    runs = make_history(tmp_path / "runs", 4, factors={4: 1.3}, repetitions=3)
    previous = write_history(runs, tmp_path / "previous", order="given")
    assert previous.regressions == [] and previous.untested == previous.compared
    assert statuses(previous)[-1] == FAILED  # the gate tests across benchmarks: 3 repetitions are enough
    pooled = write_history(runs, tmp_path / "pooled", order="given", baseline=parse_baseline("median:3"))
    slow = [r for r in pooled.regressions if r.run == 4]
    assert len(slow) == 6 and all(len(r.baseline) >= 2 for r in slow)
    assert pooled.figures[0].gate_failed == [4] and len(pooled.figures[0].marked) == 6
