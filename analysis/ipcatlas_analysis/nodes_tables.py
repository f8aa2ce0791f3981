"""What `ipcatlas nodes` says: one table of nodes and one of benchmarks per hardware type, as
Markdown (nodes.md, stdout, the report's section) and as JSON (nodes.json)."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from .nodes import FASTER, SLOWER, NodeVerdict, Thresholds, TypeJudgement
from .tables import Table, to_markdown
from .units import format_ns, format_size, json_safe

MAX_LISTED_NODES = 60  # beyond this, the nodes table shows only the nodes with something to say
HOW_TO_READ = (
    "Each node is compared only with nodes of its own hardware type (CPU model, topology, kernel, "
    "mitigations). Per benchmark, a node's value is the median of its repetitions, compared with the "
    "median across its type's nodes as a time ratio (x2.00 slower = twice as slow; bandwidth inverted). "
    "`typical` is that ratio's median over the node's benchmarks, `deviations` its median over the "
    "deviating ones. A benchmark counts as deviating when the node is beyond {k:g} scaled MADs of its "
    "type, beyond {f:g}x, and all its repetitions lie on one side of the type median. An outlier deviates"
    " in one direction in at least {p:.0%} of its benchmarks and in at least {n}. `canary` is the node's "
    "drift canary over its type's median: off means the host itself was slower (or faster) during that "
    "node's run.")


def short_labels(names: Sequence[str]) -> list[str]:
    """Benchmark names without the parts they all share, sizes in K/M:
    pingpong/shm/size:4096/ranks:2/... -> "shm 4K" when every name is pingpong, ranks:2, ..."""
    split = [name.split("/") for name in names]
    common = set.intersection(*(set(parts) for parts in split)) if split else set()
    labels = []
    for parts in split:
        kept = [_size(part) for part in parts if part not in common]
        labels.append(" ".join(kept) or parts[-1])
    return labels


def _size(part: str) -> str:
    key, colon, value = part.partition(":")
    if key == "size" and value.isdigit():
        return format_size(int(value))
    return part


def type_title(index: int, judgement: TypeJudgement) -> str:
    count = len(judgement.verdicts)
    return f"Type {index + 1}: {judgement.hardware.cpu_model} ({count} node{'' if count == 1 else 's'})"


def type_description(judgement: TypeJudgement, thresholds: Thresholds) -> str:
    """The type's full identity and, for a small type, why it is not judged."""
    text = f"Hardware: {judgement.hardware.describe()}."
    if not judgement.judged:
        text += (f" Not judged: {len(judgement.verdicts)} node(s) of this type, fewer than {thresholds.min_nodes}: "
                 "no robust median and spread; their values are listed, and are in nodes.json.")
    return text


def factor_text(factor: float | None) -> str:
    """x2.00 slower / x1.50 faster: the direction in words, never a ratio below 1 to decode."""
    if factor is None:
        return ""
    return f"x{factor:.2f} {SLOWER}" if factor >= 1 else f"x{1 / factor:.2f} {FASTER}"


def verdict_text(verdict: NodeVerdict) -> str:
    """What to do about a node, in words."""
    if not verdict.outlier:
        text = "ok"
    else:
        text = f"OUTLIER: {verdict.direction} in {verdict.deviating} of {verdict.judged} benchmarks"
    if verdict.canary_off and verdict.canary_ratio is not None:
        host = SLOWER if verdict.canary_ratio > 1 else FASTER
        text += (f"; its canary is off (x{max(verdict.canary_ratio, 1 / verdict.canary_ratio):.2f} {host}): "
                 f"the host was {host} during this node's run, rerun it before blaming the node")
    return text


def node_table(judgement: TypeJudgement) -> Table:
    """One row per node (beyond MAX_LISTED_NODES: only the nodes that deviate or whose canary is off)."""
    verdicts = judgement.verdicts
    shown = verdicts if len(verdicts) <= MAX_LISTED_NODES else \
        [v for v in verdicts if v.outlier or v.canary_off or v.deviating >= 3]
    rows = [[v.run.node, str(v.judged), str(v.slower), str(v.faster), factor_text(v.typical), factor_text(v.factor),
             "" if v.canary_ratio is None else f"x{v.canary_ratio:.2f}", verdict_text(v)] for v in shown]
    note = f"Files: {', '.join(v.run.file for v in verdicts)}." if len(verdicts) <= MAX_LISTED_NODES else \
        (f"{len(verdicts) - len(shown)} of {len(verdicts)} nodes deviate in fewer than 3 benchmarks and are "
         "not listed; nodes.json lists every node.")
    return Table("Nodes", ["node", "benchmarks", "slower", "faster", "typical", "deviations", "canary",
                           "verdict"], rows, note)


def benchmark_table(judgement: TypeJudgement) -> Table:
    """One row per benchmark: the type's median, its spread and how many nodes deviate."""
    labels = short_labels([b.name for b in judgement.benchmarks])
    rows = []
    for column, (label, stats) in enumerate(zip(labels, judgement.benchmarks)):
        deviates = judgement.deviates[:, column]
        median = format_ns(stats.median) if stats.metric.endswith("_ns") else f"{stats.median:.4g}"
        rows.append([label, stats.metric, median, f"x{math.exp(stats.spread):.2f}",
                     str(stats.nodes), str(int(np.count_nonzero(deviates > 0))),
                     str(int(np.count_nonzero(deviates < 0)))])
    return Table("Benchmarks", ["benchmark", "metric", "median", "spread", "nodes", "slower", "faster"], rows,
                 "spread: one scaled MAD of log(value) across the nodes, as a factor.")


def markdown(judgements: Sequence[TypeJudgement], thresholds: Thresholds) -> str:
    """nodes.md: a summary line, how to read it, then each type's two tables."""
    outliers = [v.run.node for j in judgements for v in j.outliers]
    nodes = sum(len(j.verdicts) for j in judgements)
    summary = (f"{nodes} nodes of {len(judgements)} hardware type(s); "
               + (f"outliers: {', '.join(outliers)}." if outliers else "no outlier."))
    lines = ["# Node comparison", "", summary, "", how_to_read(thresholds), ""]
    for index, judgement in enumerate(judgements):
        lines += [f"## {type_title(index, judgement)}", "", type_description(judgement, thresholds), "",
                  to_markdown([node_table(judgement), benchmark_table(judgement)], level=3)]
    return "\n".join(lines).rstrip() + "\n"


def how_to_read(thresholds: Thresholds) -> str:
    return HOW_TO_READ.format(k=thresholds.spread_k, f=thresholds.min_factor, p=thresholds.fraction,
                              n=thresholds.min_deviating)


def to_json(judgements: Sequence[TypeJudgement], thresholds: Thresholds) -> dict[str, Any]:
    """nodes.json: the thresholds, then per type its nodes, benchmarks, deviations and outliers."""
    return dict(json_safe({
        "thresholds": asdict(thresholds),
        "outliers": [v.run.node for j in judgements for v in j.outliers],
        "types": [_type_json(j) for j in judgements],
    }))


def _type_json(judgement: TypeJudgement) -> dict[str, Any]:
    names = [b.name for b in judgement.benchmarks]
    return {
        "hardware": asdict(judgement.hardware),
        "judged": judgement.judged,
        "benchmarks": [{"name": b.name, "metric": b.metric, "higher_is_better": b.higher_is_better,
                        "median": b.median, "spread_log": b.spread, "nodes": b.nodes} for b in judgement.benchmarks],
        "nodes": [_node_json(v, judgement.slowness[row], judgement.deviates[row], names)
                  for row, v in enumerate(judgement.verdicts)],
        "outliers": [v.run.node for v in judgement.outliers],
    }


def _node_json(verdict: NodeVerdict, slowness: np.ndarray, deviates: np.ndarray, names: list[str]) -> dict[str, Any]:
    return {
        "node": verdict.run.node, "file": verdict.run.file, "judged": verdict.judged,
        "slower": verdict.slower, "faster": verdict.faster, "direction": verdict.direction or None,
        "factor": verdict.factor, "typical": verdict.typical, "outlier": verdict.outlier,
        "canary_ratio": verdict.canary_ratio, "canary_off": verdict.canary_off,
        # log(node / type median) per benchmark, in the order of the type's "benchmarks" (a list, not a
        # dict keyed by name: 1,000 nodes would repeat every name 1,000 times); > 0 slower; null: not measured
        "log_slowness": [None if math.isnan(s) else round(float(s), 5) for s in slowness],
        "deviating": {name: (SLOWER if d > 0 else FASTER) for name, d in zip(names, deviates) if d},
    }
