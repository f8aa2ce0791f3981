"""nodes.py: real reruns relabelled as nodes; a node slowed by a known factor is found, and only it."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from ipcatlas_analysis.node_identity import HardwareType, NodeRun
from ipcatlas_analysis.nodes import FASTER, SLOWER, NodeVerdict, Thresholds, judge
from ipcatlas_analysis.nodes_load import NodeSample, Repetitions, read_samples
from nodes_fixtures import NODES, SLOWDOWN, write_nodes


def verdicts(paths: list[Path], bars: Thresholds = Thresholds()) -> dict[str, NodeVerdict]:
    """Every node's verdict, by node name."""
    return {v.run.node: v for j in judge(read_samples(paths), bars) for v in j.verdicts}


def test_the_reruns_as_they_are_have_no_outlier(tmp_path: Path) -> None:
    found = verdicts(write_nodes(tmp_path))
    assert [node for node, v in found.items() if v.outlier] == []
    # Real noise: at most a benchmark or two deviates per node, far from the majority an outlier needs.
    assert all(v.slower + v.faster <= 3 for v in found.values()), found


@pytest.mark.parametrize("slowed", range(1, 6))
def test_a_node_slowed_by_the_planted_factor_is_found_and_no_other(tmp_path: Path, slowed: int) -> None:
    found = verdicts(write_nodes(tmp_path, {slowed: SLOWDOWN}))
    assert [node for node, v in found.items() if v.outlier] == [f"node{slowed}"]
    verdict = found[f"node{slowed}"]
    assert verdict.direction == SLOWER and verdict.slower >= math.ceil(0.6 * verdict.judged) and verdict.faster == 0
    assert 1.7 < (verdict.factor or 0) < 2.5


def test_a_faster_node_is_reported_as_faster(tmp_path: Path) -> None:
    found = verdicts(write_nodes(tmp_path, {2: 1 / SLOWDOWN}))
    assert [node for node, v in found.items() if v.outlier] == ["node2"]
    assert found["node2"].direction == FASTER and (found["node2"].factor or 1) < 0.6


def test_a_slowdown_below_the_practical_factor_is_not_an_outlier(tmp_path: Path) -> None:
    # 1.15x is inside the reruns' own spread and below min_factor: never worth draining a node on this host.
    found = verdicts(write_nodes(tmp_path, {4: 1.15}))
    assert not any(v.outlier for v in found.values())


def test_a_node_of_another_type_is_grouped_apart_and_not_judged(tmp_path: Path) -> None:
    paths = write_nodes(tmp_path, {5: SLOWDOWN}, {5: {"cpu_model": "Intel Xeon"}})
    judgements = judge(read_samples(paths))
    assert [[v.run.node for v in j.verdicts] for j in judgements] == [NODES[:4], ["node5"]]
    assert [j.judged for j in judgements] == [True, False]
    assert judgements[1].hardware.cpu_model == "Intel Xeon"
    # node5 is twice as slow as the others, but it is another CPU: never compared with them.
    assert not any(v.outlier for j in judgements for v in j.verdicts)
    assert not judgements[1].deviates.any()


def test_a_node_whose_canary_is_off_is_said_to_have_run_on_a_slow_host(tmp_path: Path) -> None:
    paths = write_nodes(tmp_path, {3: SLOWDOWN}, {3: {"canary_median_ns": "90.0"}, 1: {"canary_median_ns": "58.5"}})
    found = verdicts(paths)
    assert found["node3"].outlier and found["node3"].canary_off
    assert (found["node3"].canary_ratio or 0) > 1.4
    assert not any(found[node].canary_off for node in ("node1", "node2", "node4", "node5"))


def _sample(node: str, values: dict[str, float], metric: str) -> NodeSample:
    hardware = HardwareType("cpu", "topology", "kernel", "none")
    return NodeSample(NodeRun(node, hardware, f"{node}.json"), None,
                      {name: Repetitions(metric, (v * 0.98, v, v * 1.02)) for name, v in values.items()})


def test_lower_bandwidth_is_slower() -> None:
    names = [f"stream/shm/size:{2 ** i}" for i in range(8)]
    healthy = {name: 1e9 for name in names}
    samples = [_sample(f"n{i}", {n: v * (1 + 0.01 * i) for n, v in healthy.items()}, "bytes_per_second")
               for i in range(4)]
    samples.append(_sample("slow", {n: v / 2 for n, v in healthy.items()}, "bytes_per_second"))
    [judgement] = judge(samples)
    assert [v.run.node for v in judgement.outliers] == ["slow"]
    assert judgement.outliers[0].direction == SLOWER and judgement.benchmarks[0].higher_is_better
    assert (judgement.slowness[-1] > 0.6).all()  # log 2 ~ 0.69: slower, whatever the metric's direction


def test_one_wild_benchmark_does_not_make_an_outlier() -> None:
    names = [f"pingpong/shm/size:{2 ** i}" for i in range(10)]
    samples = [_sample(f"n{i}", {n: 100.0 * (1 + 0.01 * i) for n in names}, "one_way_ns") for i in range(4)]
    samples.append(_sample("noisy", {n: (1000.0 if n == names[0] else 100.0) for n in names}, "one_way_ns"))
    [judgement] = judge(samples)
    noisy = judgement.verdicts[-1]
    assert noisy.slower == 1 and not noisy.outlier


def test_failed_repetitions_are_not_judged(tmp_path: Path) -> None:
    paths = write_nodes(tmp_path)
    document = json.loads(paths[1].read_text(encoding="utf-8"))
    for row in document["benchmarks"]:
        if row["name"].startswith("pingpong/pipe/size:8/") and row.get("run_type") == "iteration":
            row.update(ipcatlas_status="failed", error_occurred=True, error_message="peer died")
    paths[1].write_text(json.dumps(document), encoding="utf-8")
    found = verdicts(paths)
    assert found["node2"].judged == 15 and found["node1"].judged == 16
