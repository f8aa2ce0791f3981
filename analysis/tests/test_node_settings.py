"""thresholds given one file per node: the type's settings, their spread, and what is refused.

The five real runs of inputs/nodes/ (one matrix, one VM, differing by the host's noise) are
relabelled as node1..node5 of one cluster; one of them is changed where a test needs it.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ipcatlas_analysis.cli import main
from ipcatlas_analysis.inputs import read_inputs
from ipcatlas_analysis.node_claims import judge
from ipcatlas_analysis.node_settings import align_states, cluster_nodes

NODES = Path(__file__).resolve().parent / "inputs" / "nodes"
STATE_0 = "state 0"


def relabel(tmp_path: Path, change: Callable[[int, dict[str, Any]], None] | None = None) -> list[Path]:
    """Copies of run1..5 as node1..node5 (context slurm_node); `change(i, document)` edits one."""
    paths = []
    for i in range(1, 6):
        document = json.loads((NODES / f"run{i}.json").read_text())
        document["context"]["slurm_node"] = f"node{i}"
        if change:
            change(i, document)
        path = tmp_path / f"node{i}.json"
        path.write_text(json.dumps(document))
        paths.append(path)
    return paths


def thresholds(paths: list[Path], tmp_path: Path) -> tuple[int, str, dict[str, Any]]:
    """Run `ipcatlas thresholds` with --markdown and --json; (exit status, Markdown, JSON)."""
    markdown, record = tmp_path / "t.md", tmp_path / "t.json"
    status = main(["thresholds", *map(str, paths), "--markdown", str(markdown), "--json", str(record)])
    return status, markdown.read_text(), json.loads(record.read_text())


def in_state_0(spreads: list[dict[str, Any]], what: str) -> dict[str, Any]:
    return next(s for s in spreads if s["what"] == what and STATE_0 in s["where"])


def test_one_type_gives_its_settings_with_the_spread(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, text, record = thresholds(relabel(tmp_path), tmp_path)
    assert status == 0
    assert "## Across 5 nodes of type AMD EPYC; 1 package" in text
    nodes = record["nodes"]
    assert [n["node"] for n in nodes["nodes"]] == ["node1", "node2", "node3", "node4", "node5"]
    assert nodes["type"]["cpu_model"] == "AMD EPYC"
    # node1, node3 and node5 found one canary state (~57-59 ns): pooled with the others' state 0 (~58 ns).
    assert nodes["aligned_states"] == {"node1": "0", "node3": "0", "node5": "0"}
    # The type's settings pool 5 x 3 blocks: shm beats cma-read at every size in state 0.
    smsc = in_state_0(nodes["settings"], "Open MPI smsc (4.x: btl_vader_single_copy_mechanism)")
    assert smsc["type_value"] == "^cma (4.x: none)" and smsc["holds"]
    # 3 blocks per node: no node decides alone, and none contradicts the others.
    assert set(smsc["status"].values()) == {"undecided on the node"}
    assert smsc["verdict"] == "no node contradicts it; no node decides it on its own"
    assert nodes["contradictions"] == [] and nodes["settings_not_holding"] == 0
    # A setting from each node's own bandwidth curve: every node that decides gives 1M.
    plateau = in_state_0(nodes["settings"], "Open MPI btl_sm_max_send_size (4.x: btl_vader_max_send_size)")
    assert plateau["agreeing"] and plateau["low"] == plateau["high"] == 1048576
    cma = in_state_0(nodes["crossovers"], "cma-read vs shm")
    assert cma["type_value"] == "never" and cma["holds"]
    assert "No node contradicts any of the type's settings" in capsys.readouterr().out


def speed_up_cma_read(node: int) -> Callable[[int, dict[str, Any]], None]:
    """On `node` only, cma-read 64K and 1M take 0.3x the time: faster than shm there."""
    def change(i: int, document: dict[str, Any]) -> None:
        for benchmark in document["benchmarks"] if i == node else []:
            if benchmark["name"].startswith(("pingpong/cma-read/size:65536/", "pingpong/cma-read/size:1048576/")):
                benchmark["one_way_ns"] *= 0.3
    return change


def test_a_node_whose_crossover_differs_is_named(tmp_path: Path) -> None:
    status, text, record = thresholds(relabel(tmp_path, speed_up_cma_read(5)), tmp_path)
    assert status == 0
    nodes = record["nodes"]
    found = {(c["node"], c["size"], c["node_faster"], c["others_faster"]) for c in nodes["contradictions"]}
    assert found == {("node5", 65536, "cma-read", "shm"), ("node5", 1048576, "cma-read", "shm")}
    # The pool still says "never" (12 blocks outvote 3): the spread must say it does not hold on node5.
    cma = in_state_0(nodes["crossovers"], "cma-read vs shm")
    assert cma["type_value"] == "never" and not cma["holds"] and cma["contradicting"] == ["node5"]
    for what in ("Open MPI smsc (4.x: btl_vader_single_copy_mechanism)", "MPICH MPIR_CVAR_CH4_CMA_ENABLE",
                 "UCX UCX_TLS", "libfabric shm FI_SHM_DISABLE_CMA"):
        setting = in_state_0(nodes["settings"], what)
        assert not setting["holds"] and setting["verdict"] == "does not hold on every node: contradicted on node5"
    # The bandwidth plateau of shm rests on no crossover: node5's cma-read does not touch it.
    assert in_state_0(nodes["settings"], "Open MPI btl_sm_max_send_size (4.x: btl_vader_max_send_size)")["holds"]
    assert "Warning: 4 setting(s) do not hold on every node" in text
    assert "| pingpong l3 / spin ranks:2, state 0 | cma-read vs shm | 1M | node5 | cma-read faster" in text


def merged(tmp_path: Path, runs: list[int], node: str, slower: str = "") -> Path:
    """One node with 9 blocks: three runs back to back (block numbers kept apart); on benchmarks
    whose name starts with `slower`, cma-read takes 0.3x the time."""
    document = json.loads((NODES / f"run{runs[0]}.json").read_text())
    document["context"]["slurm_node"] = node
    document["benchmarks"] = []
    for k, run in enumerate(runs):
        for benchmark in json.loads((NODES / f"run{run}.json").read_text())["benchmarks"]:
            if benchmark.get("run_type") == "iteration":
                benchmark["block"] += 1000 * k
                benchmark["repetition_index"] += 3 * k
                benchmark["one_way_ns"] *= 0.3 if slower and benchmark["name"].startswith(slower) else 1
            document["benchmarks"].append(benchmark)
    path = tmp_path / f"{node}.json"
    path.write_text(json.dumps(document))
    return path


def test_nodes_that_decide_alone_are_set_beside_the_type(tmp_path: Path) -> None:
    paths = [merged(tmp_path, [1, 3, 5], "nodeA"), merged(tmp_path, [3, 5, 1], "nodeB"),
             merged(tmp_path, [5, 1, 3], "nodeC", "pingpong/cma-read/size:1048576/")]
    status, text, record = thresholds(paths, tmp_path)
    nodes = record["nodes"]
    cma = next(s for s in nodes["crossovers"] if s["what"] == "cma-read vs shm")
    # 9 blocks a node: each decides alone. nodeC's cma-read beats shm at 1M, the others' never does;
    # pooled, its 9 blocks leave 1M undecided: no value for the type, rather than a wrong one.
    assert cma["per_node"] == {"nodeA": "never", "nodeB": "never", "nodeC": "1M"}
    assert cma["type_value"] == "undecided" and cma["low"] == cma["high"] == 1048576
    assert set(cma["status"].values()) == {"decides where the type does not"}
    assert cma["verdict"] == "undecided for the type; nodeC contradicts the other nodes"
    smsc = next(s for s in nodes["settings"] if s["what"].startswith("Open MPI smsc"))
    assert smsc["per_node"] == {"nodeA": "^cma (4.x: none)", "nodeB": "^cma (4.x: none)", "nodeC": "cma"}
    assert "| `^cma (4.x: none)`: 2; `cma`: 1 |" in text
    assert [(c["node"], c["size"]) for c in nodes["contradictions"]] == [("nodeC", 1048576)]
    assert status == 0


def test_several_hardware_types_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def other_cpu(i: int, document: dict[str, Any]) -> None:
        if i == 2:
            document["context"]["cpu_model"] = "Intel Xeon"
    paths = relabel(tmp_path, other_cpu)
    assert main(["thresholds", *map(str, paths), "--json", str(tmp_path / "t.json")]) == 2
    err = capsys.readouterr().err
    assert "2 hardware types" in err and "give one type's files" in err and "ipcatlas nodes" in err
    assert "type 1: AMD EPYC;" in err and f"node1 ({paths[0]}), node3 ({paths[2]})" in err
    assert "type 2: Intel Xeon;" in err and f"node2 ({paths[1]})" in err
    assert not (tmp_path / "t.json").exists()


def test_two_files_of_one_node_among_several_are_refused(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    def same_node(i: int, document: dict[str, Any]) -> None:
        if i == 2:
            document["context"]["slurm_node"] = "node1"
    assert main(["thresholds", *map(str, relabel(tmp_path, same_node))]) == 2
    assert "are both from node node1: give one file per node" in capsys.readouterr().err


def test_files_of_one_node_pool_as_before(inputs: Path) -> None:
    both = read_inputs([inputs / "rerun_a.json", inputs / "rerun_b.json"])
    assert cluster_nodes(both.contexts, both.rows) is None  # both from host "vm": more repetitions of one run


def test_files_of_two_hosts_that_share_no_benchmark_are_not_nodes(inputs: Path, tmp_path: Path) -> None:
    # One scenario from each host: nothing is pooled across them, so nothing is compared either.
    apart = read_inputs([inputs / "skipped_failed.json", inputs / "stream_small.json"])
    assert cluster_nodes(apart.contexts, apart.rows) is None
    nodes = read_inputs(relabel(tmp_path)[:3])
    assert [run.node for run in cluster_nodes(nodes.contexts, nodes.rows) or []] == ["node1", "node2", "node3"]


def test_a_one_state_node_joins_the_nearest_state(tmp_path: Path) -> None:
    paths = relabel(tmp_path)[:2]  # node1: one state (59 ns); node2: two (57.1 and 226.5 ns)
    inputs = read_inputs(paths)
    rows = align_states(inputs.rows, inputs.contexts)
    node1 = rows[rows["file"] == str(paths[0])]
    assert set(node1["canary_state"]) == {0}
    assert rows[rows["file"] == str(paths[1])]["canary_state"].equals(
        inputs.rows[inputs.rows["file"] == str(paths[1])]["canary_state"])


def test_judge_needs_the_others_separated_and_the_node_beyond_its_noise() -> None:
    others = [0.7, 0.65, 0.72, 0.69, 0.71, 0.68, 0.7, 0.66, 0.73, 0.7, 0.69, 0.72]  # log(A/B) > 0: B faster
    contradicting = judge([-0.3, -0.35, -0.4], others, 0.05)
    assert contradicting is not None and contradicting.others_sign == 1 and contradicting.p < 0.05
    assert judge([0.6, 0.8, 0.7], others, 0.05) is None  # the same direction
    assert judge([-0.01, 0.9, 0.8], others, 0.05) is None  # a median above 1: the node agrees
    assert judge([-0.3, -0.35, -0.4], others[:5], 0.05) is None  # 5 blocks cannot separate the others
    assert judge([-0.3, -0.35, -0.4], [0.1, -0.1] * 6, 0.05) is None  # the others separate nothing
    # Against 12 blocks, 3 opposite ones reach p ~0.011: enough among 4 nodes, not among 100 (Bonferroni).
    assert judge([-0.3, -0.35, -0.4], others, 0.05, nodes=4) is not None
    assert judge([-0.3, -0.35, -0.4], others, 0.05, nodes=100) is None
