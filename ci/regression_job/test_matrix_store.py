"""ci/regression's budget arithmetic, its results layout and which stored runs a history uses."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from matrix import FIXED_S, MIN_TIME_S, BudgetError, Matrix, parse_list
from store import RUNS, ancestry, git, head_commit, on_this_line, recorded_commit, run_name, stored_runs


def test_the_budget_sets_min_time_and_round_trips() -> None:
    matrix = Matrix()
    min_time = matrix.min_time_for(120)
    assert MIN_TIME_S[0] <= min_time <= MIN_TIME_S[1]
    assert matrix.budget_for(min_time) == pytest.approx(120)
    assert "--benchmark_min_time=%.3f" % min_time in matrix.run_options(120)
    assert f"--benchmark_repetitions={matrix.repetitions}" in matrix.run_options(120)


def test_a_budget_too_small_names_the_least_that_fits() -> None:
    matrix = Matrix()
    with pytest.raises(BudgetError, match=r"at least \d+ s"):
        matrix.min_time_for(matrix.runs * FIXED_S)


def test_a_huge_budget_is_capped_at_the_longest_useful_batch() -> None:
    assert Matrix().min_time_for(86400) == MIN_TIME_S[1]


def test_lists_drop_empty_items() -> None:
    assert parse_list("shm, pipe,,") == ("shm", "pipe")


def test_run_names_sort_by_time_and_carry_the_commit() -> None:
    early = run_name("a" * 40, datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    late = run_name("0" * 40, datetime(2026, 1, 2, 3, 4, 6, tzinfo=timezone.utc))
    assert early == "20260102T030405Z-aaaaaaaaaaaa"
    assert sorted([late, early]) == [early, late]


def make_repo(path: Path, commits: int) -> list[str]:
    path.mkdir()
    git(path, "init", "-q")
    made = []
    for i in range(commits):
        (path / "file").write_text(str(i))
        git(path, "add", "file")
        git(path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", f"c{i}")
        made.append(head_commit(path))
    return made


def store(results: Path, name: str, commit: str | None) -> Path:
    (results / RUNS).mkdir(parents=True, exist_ok=True)
    path = results / RUNS / f"{name}.json"
    context = {} if commit is None else {"commit": commit}
    path.write_text(json.dumps({"context": context, "benchmarks": []}))
    return path


def test_only_runs_of_ancestors_enter_the_history(tmp_path: Path) -> None:
    commits = make_repo(tmp_path / "repo", 3)
    git(tmp_path / "repo", "checkout", "-qb", "side", commits[0])
    (tmp_path / "repo" / "other").write_text("x")
    git(tmp_path / "repo", "add", "other")
    git(tmp_path / "repo", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "side")
    side = head_commit(tmp_path / "repo")
    results = tmp_path / "results"
    store(results, "1", commits[0])
    store(results, "2", side)
    store(results, "3", commits[2])
    store(results, "4", None)
    (results / RUNS / "5.json").write_text("not json")
    kept, left_out = on_this_line(stored_runs(results), ancestry(tmp_path / "repo", commits[2]))
    assert [run.path.stem for run in kept] == ["1", "3"]
    assert [run.path.stem for run in left_out] == ["2", "4", "5"]


def test_a_missing_results_directory_has_no_runs(tmp_path: Path) -> None:
    assert stored_runs(tmp_path / "none") == []


def test_the_commit_is_read_from_the_context_only(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"context": {"commit": 7}}))
    assert recorded_commit(path) == ""
    path.write_text(json.dumps([1, 2]))
    assert recorded_commit(path) == ""
