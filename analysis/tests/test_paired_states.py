"""Paired thresholds (paired.py), per-state verdicts (states.py) and `thresholds --agree` on
crafted blocked runs whose host drifts far more between blocks than the mechanisms differ."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ipcatlas_analysis.cli import main
from ipcatlas_analysis.load import load_results
from ipcatlas_analysis.paired import paired_test
from ipcatlas_analysis.stats import min_pairs
from ipcatlas_analysis.thresholds import crossovers
from ipcatlas_analysis.thresholds_command import compute, markdown

NAME = "pingpong/{m}/size:{s}/ranks:2/placement:l3/wait:spin"
# cma-read / shm within a block: shm wins at 1K, cma-read from 64K.
RATIO = {1024: 1.5, 65536: 0.7}


def blocked_run(path: Path, drifts: list[float], states: list[int] | None = None,
                ratio: dict[int, float] = RATIO) -> Path:
    """One block per (repetition, size); the host's drift scales both mechanisms of a block alike."""
    entries, block = [], 0
    for rep, drift in enumerate(drifts):
        for size, r in ratio.items():
            for position, (mechanism, factor) in enumerate((("shm", 1.0), ("cma-read", r))):
                state = None if states is None else states[rep] if states[rep] >= 0 else position
                entry = {"name": NAME.format(m=mechanism, s=size), "run_type": "iteration", "ipcatlas_status": "ok",
                         "repetition_index": rep, "block": block, "block_position": position,
                         "one_way_ns": size * drift * factor * (1 + 0.01 * rep * position), "canary_ns": 50.0 * drift}
                if state is not None:
                    entry["canary_state"] = state
                entries.append(entry)
            block += 1
    context = {"placement": "l3", "order": "blocked"}
    if states is not None:
        context.update(canary_states="2", canary_state_ns="50.0,250.0")
    path.write_text(json.dumps({"context": context, "benchmarks": entries}))
    return path


def test_smallest_p_sets_the_blocks_needed() -> None:
    assert min_pairs(0.05) == 6 and min_pairs(0.01) == 8
    assert paired_test([0.1, 0.2, 0.3, 0.4, 0.5], 0.05).p is None  # 5 blocks: p >= 0.0625, not run
    six = paired_test([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], 0.05)
    assert six.p == pytest.approx(2 / 2 ** 6) and six.confidence == pytest.approx(1 - 2 / 2 ** 6)
    assert (six.low, six.high) == pytest.approx((1.1052, 1.8221), rel=1e-3)
    assert paired_test([0.1, -0.1, 0.2, -0.2, 0.3, 0.3], 0.05).method == "sign-test"  # ties in |log ratio|


def test_pairs_decide_where_the_host_drift_hides_the_mechanism(tmp_path: Path) -> None:
    path = blocked_run(tmp_path / "run.json", [1, 5, 1, 5, 1, 5])
    (found,) = crossovers(load_results([path]))
    assert (found.kind, found.size, found.pairs, found.method) == ("crossover", 65536, 6, "signed-rank")
    assert found.margin == pytest.approx(1 / 0.7, rel=0.05)
    # The same repetitions without blocks: the U test sees the host's 5x drift, not the mechanism.
    rows = load_results([path]).assign(block=None)
    (unpaired,) = crossovers(rows)
    assert (unpaired.kind, unpaired.pairs, unpaired.method) == ("not separated", 0, "u-test")
    text = markdown(compute(rows))
    assert "unpaired (file has no blocks): decided as before" in text


def test_too_few_blocks_is_undecided_and_never_a_setting(tmp_path: Path) -> None:
    result = compute(load_results([blocked_run(tmp_path / "run.json", [1, 5, 1, 5, 1])]))
    (found,) = result.crossovers
    assert found.kind == "undecided" and found.reason.startswith("too few blocks: 5")
    assert "--benchmark_repetitions=9" in found.reason
    crossover_based = [s for s in result.settings if "max_send_size" not in s.parameter]
    assert crossover_based and {s.value for s in crossover_based} == {"undecided"}
    assert all("too few blocks" in s.evidence for s in crossover_based)


def test_two_states_get_their_own_verdicts(tmp_path: Path) -> None:
    # Six blocks per state wholly in it, and one repetition whose blocks changed state (-1).
    states = [0, 1] * 6 + [-1]
    path = blocked_run(tmp_path / "run.json", [1, 5] * 6 + [1], states)
    result = compute(load_results([path]), contexts={str(path): json.loads(path.read_text())["context"]})
    by_state = {c.state: c for c in result.crossovers}
    assert set(by_state) == {"0", "1"}
    assert all((c.kind, c.pairs, c.excluded_blocks) == ("crossover", 6, 2) for c in by_state.values())
    assert {s.state for s in result.settings} == {"0", "1"}
    text = markdown(result)
    assert "state 0: cores sharing a cache (canary ~50 ns)" in text
    assert "state 1: cores across the interconnect (canary ~250 ns)" in text
    assert "2 block(s) left out" in text and "likely" in text


def test_agree_lists_contradictions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = blocked_run(tmp_path / "a.json", [1, 5] * 3)
    second = blocked_run(tmp_path / "b.json", [1, 5] * 3, ratio={1024: 0.7, 65536: 1.5})
    assert main(["thresholds", "--agree", str(first), str(first)]) == 0
    assert main(["thresholds", "--agree", str(first), str(second), "--json", str(tmp_path / "agree.json")]) == 1
    record = json.loads((tmp_path / "agree.json").read_text())
    assert record["contradictions"] == 2 and not record["agree"]
    assert "contradiction | separated claim" in capsys.readouterr().out
    assert main(["thresholds", "--agree", str(first)]) == 2
    assert "exactly two runs" in capsys.readouterr().err


def test_agree_sets_a_one_state_run_beside_the_state_nearest_its_canary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Run A found two states (~50 and ~250 ns); run B stayed near ~50 ns and disagrees there.
    two_states = blocked_run(tmp_path / "a.json", [1, 5] * 6, [0, 1] * 6)
    near_only = blocked_run(tmp_path / "b.json", [1] * 6, ratio={1024: 0.7, 65536: 1.5})
    assert main(["thresholds", "--agree", str(two_states), str(near_only), "--json", str(tmp_path / "x.json")]) == 1
    record = json.loads((tmp_path / "x.json").read_text())
    assert record["contradictions"] == 2, "compared with state 0, not left out"
    assert all("state 0" in d["where"] for d in record["disagreements"] if d["kind"] == "contradiction")
    capsys.readouterr()
