"""compare.py: planted regression found, noise not, exit statuses."""
from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ANALYSIS_DIR

from ipcatlas_analysis.compare import (TOO_FEW, Comparison, compare_tables, main, mann_whitney_p, smallest_p,
                                       verdict)
from ipcatlas_analysis.load import load_results

SHM_64 = "pingpong/shm/size:64/ranks:2/placement:l3/wait:spin"
SHM_4K = "pingpong/shm/size:4096/ranks:2/placement:l3/wait:spin"
CMA_4K = "pingpong/cma-read/size:4096/ranks:2/placement:l3/wait:spin"
STREAM = "stream/shm/size:1048576/ranks:2/placement:l3/wait:spin"


def compared(inputs: Path, baseline: str, contender: str) -> dict[str, Comparison]:
    found = compare_tables(load_results([inputs / baseline]), load_results([inputs / contender]))
    return {c.name: c for c in found}


def test_planted_regressions_are_found(inputs: Path) -> None:
    found = compared(inputs, "compare_base.json", "compare_regressed.json")
    assert {name: c.verdict for name, c in found.items()} == {
        SHM_4K: "regression", STREAM: "regression", SHM_64: "same", CMA_4K: TOO_FEW}
    assert found[SHM_4K].metric == "one_way_ns" and found[SHM_4K].change == pytest.approx(0.196, abs=0.01)
    assert found[STREAM].metric == "bytes_per_second" and found[STREAM].change == pytest.approx(-0.2, abs=0.01)
    assert found[SHM_4K].p_value is not None and found[SHM_4K].p_value < 0.001
    assert (found[SHM_4K].n_baseline, found[SHM_4K].n_contender) == (9, 9)


def test_noise_is_not_a_regression(inputs: Path) -> None:
    found = compared(inputs, "compare_base.json", "compare_noise.json")
    assert {c.verdict for name, c in found.items() if name != CMA_4K} == {"same"}


def test_swapped_files_turn_regressions_into_improvements(inputs: Path) -> None:
    found = compared(inputs, "compare_regressed.json", "compare_base.json")
    assert (found[SHM_4K].verdict, found[STREAM].verdict) == ("improvement", "improvement")


@pytest.mark.parametrize(("change", "p_value", "lower_is_better", "expected"), [
    (0.20, 0.001, True, "regression"),
    (0.20, 0.2, True, "same"),  # not significant
    (0.01, 0.001, True, "same"),  # significant but under the threshold
    (-0.20, 0.001, True, "improvement"),
    (-0.20, 0.001, False, "regression"),  # bandwidth went down
    (0.20, 0.001, False, "improvement"),
])
def test_verdict(change: float, p_value: float, lower_is_better: bool, expected: str) -> None:
    assert verdict(change, p_value, lower_is_better, alpha=0.05, threshold=0.05) == expected


def test_mann_whitney_edge_cases() -> None:
    assert mann_whitney_p([5.0, 5.0, 5.0], [5.0, 5.0, 5.0]) == 1.0
    assert mann_whitney_p([1.0, 2.0, 3.0, 4.0], [11.0, 12.0, 13.0, 14.0]) == pytest.approx(2 / 70)
    assert smallest_p(2, 2) == pytest.approx(1 / 3)


def test_few_repetitions_get_a_note(make_result: Callable[..., Path]) -> None:
    def repetitions(values: list[float]) -> list[dict[str, object]]:
        return [{"name": SHM_64, "run_type": "iteration", "repetition_index": i, "one_way_ns": v}
                for i, v in enumerate(values)]
    base = make_result(repetitions([100.0, 101.0, 102.0]), "base.json")
    contender = make_result(repetitions([200.0, 201.0, 202.0]), "contender.json")
    (found,) = compare_tables(load_results([base]), load_results([contender]))
    assert found.verdict == "same" and found.note == "p cannot go below 0.05 with 3+3 repetitions"
    assert found.change == pytest.approx(201.0 / 101.0 - 1)


def test_aggregates_only_and_failures_are_not_compared(inputs: Path) -> None:
    found = compared(inputs, "aggregates_only.json", "aggregates_only.json")
    assert {c.verdict for c in found.values()} == {TOO_FEW}
    failed = compared(inputs, "skipped_failed.json", "skipped_failed.json")
    pipe_64k, ptrace_64 = (f"pingpong/{m}/size:{s}/ranks:2/placement:l3/wait:spin" for m, s in
                           (("pipe", 65536), ("ptrace", 64)))
    assert failed[pipe_64k].verdict == "not compared: failed in baseline"
    assert failed[ptrace_64].verdict == "not compared: skipped in baseline"


def test_exit_statuses(inputs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(inputs / "compare_base.json"), str(inputs / "compare_regressed.json")]) == 1
    output = capsys.readouterr().out
    assert "2 regressions, 0 improvements, 1 same, 1 not compared" in output and TOO_FEW in output
    assert main([str(inputs / "compare_base.json"), str(inputs / "compare_noise.json")]) == 0
    assert main([str(inputs / "compare_base.json"), str(inputs / "compare_regressed.json"),
                 "--threshold", "0.25"]) == 0
    capsys.readouterr()
    assert main([str(inputs / "compare_base.json"), str(inputs / "malformed.json")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "malformed.json" in error


def test_bad_option_and_missing_file_exit_2(inputs: Path) -> None:
    wrapper = str(ANALYSIS_DIR / "ipcatlas-compare")
    missing = subprocess.run([wrapper, str(inputs / "compare_base.json"), "absent.json"], capture_output=True,
                             text=True)
    assert missing.returncode == 2 and "absent.json: cannot read" in missing.stderr
    with pytest.raises(SystemExit) as exited:
        main([str(inputs / "compare_base.json"), str(inputs / "compare_base.json"), "--alpha", "1.5"])
    assert exited.value.code == 2
