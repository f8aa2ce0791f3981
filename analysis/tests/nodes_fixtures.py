"""Node files for the `ipcatlas nodes` tests: the five real reruns of inputs/nodes relabelled as
node1..node5 of one cluster, with one node slowed (or sped up) by a known factor."""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

NODE_RUNS = Path(__file__).resolve().parent / "inputs" / "nodes"
NODES = [f"node{i}" for i in range(1, 6)]
# The smallest slowdown the rule finds in every one of the five reruns (1.5x: in 3 of 5; see
# nodes.Thresholds): the tests plant this one, as ci/nodes-scale does.
SLOWDOWN = 2.0


def node_document(index: int, factor: float = 1.0, **context: Any) -> dict[str, Any]:
    """Rerun `index` (1..5) as node<index>: every ok repetition's primary metric times factor,
    and the context updated with `context`."""
    document: dict[str, Any] = json.loads((NODE_RUNS / f"run{index}.json").read_text(encoding="utf-8"))
    metric = document["context"]["primary_metric"]
    for row in document["benchmarks"]:
        if row.get("run_type") == "iteration" and metric in row:
            row[metric] *= factor
    document["context"].update({"slurm_node": f"node{index}", **context})
    return document


def write_nodes(directory: Path, factors: Mapping[int, float] | None = None,
                contexts: Mapping[int, Mapping[str, Any]] | None = None) -> list[Path]:
    """node1.json..node5.json in `directory`; factors and contexts by node index (1..5)."""
    paths = []
    for index in range(1, 6):
        document = node_document(index, (factors or {}).get(index, 1.0), **(contexts or {}).get(index, {}))
        path = directory / f"node{index}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        paths.append(path)
    return paths
