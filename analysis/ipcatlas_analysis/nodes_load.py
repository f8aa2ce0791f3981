"""Read the result files of a cluster check: one file per node, only what `ipcatlas nodes` needs.

load.load_results builds a pandas row per repetition with every metric and name key, which costs
~20 ms per file: 20 s for 1,000 nodes. A node comparison needs, per benchmark, only the ok
repetitions of one metric, and per file the node's name, its hardware type and its canary. The
file is still read and checked as every input is (safe_input and schema, via load.read_document);
only the table is skipped, and the context is not kept (it holds every descriptor: ~100 KB a file).
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .descriptors import descriptors_of
from .gate import canary_median
from .load import OK, ResultFileError, parse_name, read_document, row_status, run_name, select_rows
from .node_identity import HARDWARE_KEYS, DuplicateNodeError, NodeRun, node_runs
from .schema import as_number

BANDWIDTH = "bytes_per_second"  # the metric of a scenario that declares no time: higher is better
# The context keys node_identity reads: the rest of a context is dropped after reading.
IDENTITY_KEYS = (*HARDWARE_KEYS, "slurm_node", "host_name")


@dataclass(frozen=True)
class Repetitions:
    """One benchmark on one node: the metric judged and its ok repetitions."""

    metric: str
    values: tuple[float, ...]

    @property
    def higher_is_better(self) -> bool:
        return self.metric.endswith(BANDWIDTH)


@dataclass(frozen=True)
class NodeSample:
    """One node's result file, reduced to what the comparison reads."""

    run: NodeRun
    canary_ns: float | None  # the run's typical canary (context canary_median_ns, else the rows' median)
    benchmarks: Mapping[str, Repetitions]  # benchmark name -> its ok repetitions


def read_samples(paths: Sequence[Path]) -> list[NodeSample]:
    """One NodeSample per file, in the given order. Raises ResultFileError for a bad file and
    for two files of one node (node_identity.DuplicateNodeError, message naming both)."""
    identities: dict[str, dict[str, Any]] = {}
    canaries: list[float | None] = []
    benchmarks: list[dict[str, Repetitions]] = []
    for path in paths:
        document = read_document(path)
        context = document["context"]
        identities[str(path)] = {key: context[key] for key in IDENTITY_KEYS if key in context}
        try:
            reps, row_canaries = _repetitions(document["benchmarks"], context)
        except ValueError as error:
            raise ResultFileError(f"{path}: {error}") from error
        benchmarks.append(reps)
        canaries.append(_canary(context, row_canaries))
    try:
        runs = node_runs(identities)
    except DuplicateNodeError as error:
        raise ResultFileError(str(error)) from None
    return [NodeSample(run, canary, reps) for run, canary, reps in zip(runs, canaries, benchmarks)]


def _repetitions(rows: list[dict[str, Any]],
                 context: Mapping[str, Any]) -> tuple[dict[str, Repetitions], list[float]]:
    """Benchmark name -> ok repetitions of its scenario's primary metric (bytes_per_second where
    the scenario declares none); and every ok row's canary_ns."""
    descriptors = descriptors_of([context])
    found: dict[str, list[float]] = {}
    metrics: dict[str, str] = {}
    canaries: list[float] = []
    for row, _source in select_rows(rows):
        name = run_name(row)
        if row_status(row)[0] != OK:
            continue
        metric = metrics.get(name) or descriptors.primary_metric(parse_name(name)["scenario"]) or BANDWIDTH
        value = as_number(row.get(metric))
        if value is None or not (math.isfinite(value) and value > 0):  # none of these has a log
            continue
        metrics[name] = metric
        found.setdefault(name, []).append(value)
        canary = as_number(row.get("canary_ns"))
        if canary is not None and math.isfinite(canary) and canary > 0:
            canaries.append(canary)
    return {name: Repetitions(metrics[name], tuple(values)) for name, values in found.items()}, canaries


def _canary(context: Mapping[str, Any], row_canaries: list[float]) -> float | None:
    """The context's canary median, else the median of the rows' canaries; None for files
    written before the canary existed."""
    value = canary_median(context)
    if value is not None:
        return value
    return statistics.median(row_canaries) if row_canaries else None
