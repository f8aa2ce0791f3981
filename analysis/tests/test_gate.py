"""gate.py: the CI gate decides with 3 repetitions across benchmarks, passes real noise,
fails a uniform slowdown, and says "cannot decide" (exit 4) rather than "passed"."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ipcatlas_analysis import cli
from ipcatlas_analysis.compare import compare_tables
from ipcatlas_analysis.gate import ACROSS, FAILED, OVERALL, PASSED, UNDECIDED, decide
from ipcatlas_analysis.load import load_results
from ipcatlas_analysis.scaled import write_scaled
from ipcatlas_analysis.stats import holm_levels, min_pairs_one_sided, signed_rank_p

PINGPONG = "pingpong_blocked.json"  # a real run: 3 mechanisms x 3 sizes, 6 repetitions, noisy host


@pytest.fixture
def ipcatlas(monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    monkeypatch.setattr(cli, "COMMANDS", {"compare": "compare_command"})
    return lambda *argv: cli.main(["compare", *(str(a) for a in argv)])


def test_a_uniform_60_percent_slowdown_fails_at_3_repetitions(inputs: Path, tmp_path: Path,
                                                              ipcatlas: Callable[..., int],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    base = write_scaled(inputs / PINGPONG, tmp_path / "base.json", 1.0, {0, 1, 2})
    slowed = write_scaled(inputs / PINGPONG, tmp_path / "slowed.json", 1.6, {0, 1, 2})
    assert ipcatlas(base, slowed, "--fail-on-regression", "5", "--json", tmp_path / "c.json") == 1
    output = capsys.readouterr().out
    assert "gate --fail-on-regression 5: FAILED (across benchmarks" in output
    assert "all benchmarks: 9 benchmarks, median x1.600 (+60.0%), p 0.002" in output
    assert "untested" in output  # no benchmark alone could be tested: 3+3 repetitions
    gate = json.loads((tmp_path / "c.json").read_text())["gate"]
    assert (gate["status"], gate["decided_by"], gate["exit_status"], gate["tripped"]) == (FAILED, ACROSS, 1, [])
    assert ipcatlas(base, slowed, "--fail-on-regression", "70") == 0  # significant, but 60 % is under 70 %


@pytest.mark.parametrize(("base_reps", "new_reps"), [({0, 1, 2}, {0, 1, 2}), ({0, 1, 2}, {3, 4, 5}),
                                                     ({3, 4, 5}, {0, 1, 2})])
def test_identical_runs_and_real_noise_pass(inputs: Path, tmp_path: Path, ipcatlas: Callable[..., int],
                                            base_reps: set[int], new_reps: set[int]) -> None:
    # Repetitions 0-2 and 3-5 of one blocked run are two runs on a noisy host (median +-30 %).
    base = write_scaled(inputs / PINGPONG, tmp_path / "base.json", 1.0, base_reps)
    new = write_scaled(inputs / PINGPONG, tmp_path / "new.json", 1.0, new_reps)
    assert ipcatlas(base, new, "--fail-on-regression", "5") == 0
    found = decide(compare_tables(load_results([base]), load_results([new])), 5, 0.05)
    assert (found.status, found.decided_by) == (PASSED, ACROSS)


def test_a_small_consistent_shift_within_pct_passes(inputs: Path, tmp_path: Path) -> None:
    base = write_scaled(inputs / PINGPONG, tmp_path / "base.json", 1.0, {0, 1, 2})
    shifted = write_scaled(inputs / PINGPONG, tmp_path / "shifted.json", 1.03, {0, 1, 2})
    found = decide(compare_tables(load_results([base]), load_results([shifted])), 5, 0.05)
    overall = found.tests[-1]
    assert overall.group == OVERALL and overall.rejected and not overall.slower
    assert found.status == PASSED


def test_too_few_benchmarks_and_repetitions_cannot_decide(inputs: Path, tmp_path: Path,
                                                          ipcatlas: Callable[..., int],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    real = inputs / "alltoall_blocked.json"  # 4 benchmarks, 3 repetitions: neither test can reach 0.05
    assert ipcatlas(real, real, "--fail-on-regression", "5", "--json", tmp_path / "c.json") == 4
    assert "gate --fail-on-regression 5: cannot decide: 4 benchmark(s)" in capsys.readouterr().out
    gate = json.loads((tmp_path / "c.json").read_text())["gate"]
    assert (gate["status"], gate["passed"], gate["exit_status"]) == (UNDECIDED, False, 4)
    assert ipcatlas(real, real) == 0  # no gate asked for


def test_one_mechanism_regressing_fails_its_group(make_result: Callable[..., Path]) -> None:
    sizes = [2 ** k for k in range(3, 11)]  # 8 sizes: its group's p = 1/256 passes Holm's alpha/4

    def run(pipe_factor: float) -> list[dict[str, Any]]:
        return [{"name": f"pingpong/{m}/size:{s}", "run_type": "iteration", "repetition_index": r,
                 "one_way_ns": (100.0 + s / 10) * (pipe_factor if m == "pipe" else 1.0) * (1 + 0.01 * ((s + r) % 3))}
                for m in ("shm", "pipe", "cma-read") for s in sizes for r in range(3)]
    base, new = make_result(run(1.0), "base.json"), make_result(run(1.6), "new.json")
    found = decide(compare_tables(load_results([base]), load_results([new])), 5, 0.05)
    slower = [t.group for t in found.tests if t.slower]
    assert found.status == FAILED and slower == ["pingpong/pipe"]


def test_holm_levels_step_down_and_stop() -> None:
    assert holm_levels({"a": 0.001, "b": 0.02, "c": 0.04}, 0.05) == pytest.approx(
        {"a": 0.05 / 3, "b": 0.025, "c": 0.05})
    # b fails its step (0.03 >= 0.025), so c keeps b's level and cannot reject either.
    assert holm_levels({"a": 0.001, "b": 0.03, "c": 0.031}, 0.05) == pytest.approx(
        {"a": 0.05 / 3, "b": 0.025, "c": 0.025})


def test_signed_rank_and_benchmarks_needed() -> None:
    assert (min_pairs_one_sided(0.05), min_pairs_one_sided(0.01)) == (5, 7)  # the benchmarks the gate needs
    assert signed_rank_p([0.0, 0.0]) == 1.0
    assert signed_rank_p([0.0, 0.1, 0.2, 0.3, 0.4, 0.5]) == pytest.approx(1 / 32)  # zeros dropped, exact
    assert signed_rank_p([-0.1, -0.2, -0.3, -0.4, -0.5]) == pytest.approx(1.0)  # faster is not slower


def test_help_states_every_exit_status(ipcatlas: Callable[..., int], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        ipcatlas("--help")
    text = capsys.readouterr().out
    section = text[text.index("exit status:"):]
    for status in ("0  compared", "1  --fail-on-regression PCT: the gate FAILED", "2  bad input", "3  internal error",
                   "4  --fail-on-regression PCT: the gate cannot decide"):
        assert status in section, status
    assert "signed-rank" in text and "Holm" in text and "3 repetitions are enough" in text


def test_a_scaled_copy_is_slower_in_time_and_bandwidth_only(inputs: Path, tmp_path: Path) -> None:
    slowed = json.loads(write_scaled(inputs / PINGPONG, tmp_path / "s.json", 2.0, {0}).read_text())["benchmarks"]
    original = [e for e in json.loads((inputs / PINGPONG).read_text())["benchmarks"]
                if e.get("run_type") == "iteration" and e["repetition_index"] == 0]
    assert len(slowed) == len(original) == 9
    for before, after in zip(original, slowed):
        assert after["one_way_ns"] == 2 * before["one_way_ns"] and after["real_time"] == 2 * before["real_time"]
        assert after["bytes_per_second"] == before["bytes_per_second"] / 2
        assert (after["canary_ns"], after["iterations"], after["block"]) == (before["canary_ns"],
                                                                             before["iterations"], before["block"])


def test_a_real_rerun_pair_passes_and_its_slowed_copy_fails(inputs: Path, tmp_path: Path,
                                                            ipcatlas: Callable[..., int]) -> None:
    # Two runs made back to back by ci/false-alarms (shm and pipe, 3 sizes, 3 repetitions): shm 4K
    # alone moved +205 % between them, and the canary moved from 137 to 217 ns: the host changed
    # state, so the gate will not compare them.
    base, rerun = inputs / "rerun_a.json", inputs / "rerun_b.json"
    assert ipcatlas(base, rerun, "--fail-on-regression", "5") == cli.EXIT_UNDECIDED
    # Were the states alike, the noise passes and a 1.6x slowdown fails.
    same_state = with_canary(rerun, tmp_path / "rerun.json", 137)
    assert ipcatlas(base, same_state, "--fail-on-regression", "5") == 0
    assert ipcatlas(base, write_scaled(same_state, tmp_path / "slowed.json", 1.6), "--fail-on-regression", "5") == 1


def with_canary(source: Path, target: Path, canary_ns: float) -> Path:
    """A copy of a result file whose context says its drift canary's median was `canary_ns`."""
    document = json.loads(source.read_text())
    document["context"]["canary_median_ns"] = f"{canary_ns:.1f}"
    target.write_text(json.dumps(document))
    return target


def test_runs_from_different_host_states_are_not_compared(inputs: Path, tmp_path: Path,
                                                          ipcatlas: Callable[..., int],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    base = with_canary(write_scaled(inputs / PINGPONG, tmp_path / "b.json", 1.0, {0, 1, 2}), tmp_path / "b.json", 57)
    slowed = write_scaled(inputs / PINGPONG, tmp_path / "s.json", 1.6, {0, 1, 2})
    far = with_canary(slowed, tmp_path / "far.json", 109)
    assert ipcatlas(base, far, "--fail-on-regression", "5") == cli.EXIT_UNDECIDED
    assert "the host changed state between the runs: drift canary median 57 ns in BASE, 109 ns in NEW" in \
        capsys.readouterr().out
    near = with_canary(slowed, tmp_path / "near.json", 62)  # within 1.25x: the same state
    assert ipcatlas(base, near, "--fail-on-regression", "5") == 1
