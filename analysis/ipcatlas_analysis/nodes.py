"""The judgement of `ipcatlas nodes`: which nodes of one hardware type are slow (or fast).

Per hardware type (node_identity.by_type; types are never compared with each other) and per
benchmark, on the metric the scenario declares (a time, lower is better; bytes_per_second,
higher is better):
- each node's value is the median of its ok repetitions;
- the group's value is the median across nodes, its spread the MAD of the log values,
  scaled by 1.4826 so that it estimates a standard deviation of log(value);
- a node's deviation is log(node / group median), signed so that > 0 always means slower.

A deviation counts only when it clears three bars at once (the thresholds and why they are
what they are: Thresholds below):
- the group's own spread: |deviation| > SPREAD_K scaled MADs;
- the node's own repetition noise: the group median lies outside the node's min-max range
  of repetitions (all of them on the slow side, or all on the fast side);
- a practical size: |deviation| > log(MIN_FACTOR).
A node is an outlier only when its deviations agree: in one direction in a clear majority of
its type's benchmarks, and in at least a handful of them; one noisy benchmark never suffices.
The drift canary (the host's cache-line bounce before each run) is judged the same way
against the group's canaries: a node whose canary is off was measured while its host was
slow (or fast), which the verdict says instead of blaming the mechanisms.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .node_identity import HardwareType, NodeRun, by_type
from .nodes_load import BANDWIDTH, NodeSample

SLOWER = "slower"
FASTER = "faster"
MAD_TO_SIGMA = 1.4826  # the MAD of a normal sample times this estimates its standard deviation


@dataclass(frozen=True)
class Thresholds:
    """The bars a deviation and an outlier must clear, chosen on the five real reruns of
    analysis/tests/inputs/nodes (one 2-vCPU KVM guest, where a rerun moves a benchmark's
    median by 0.75x-1.33x and, once in 80, by 3.9x; a single repetition can be 5x off):

    spread_k      3 scaled MADs: with many nodes the group's spread is the real run-to-run
                  noise, and 3 sigma of it leaves 0.3 % of points of a healthy node beyond;
    min_factor    1.25x: the 5 reruns' node medians stay within 1.25x of the group median in
                  75 of 80 benchmark-node points; a smaller difference is not worth draining
                  a node for on such a host;
    fraction      a node must deviate in one direction in at least 60 % of its benchmarks
                  (and in at least min_deviating = 5): no rerun deviates in more than 1 of
                  16 benchmarks; a rerun slowed 2x deviates in 13 to 15 of 16 (slowed 1.5x:
                  in 5 to 12, so 1.5x is not reliably found on this host: 2x is);
    min_nodes     a median and a MAD of fewer than 3 nodes say nothing robust;
    canary_factor the canary's medians of the reruns stay within 1.1x of each other: 1.2x
                  off the group's is a host in another state.
    """

    spread_k: float = 3.0
    min_factor: float = 1.25
    fraction: float = 0.6
    min_deviating: int = 5
    min_nodes: int = 3
    canary_factor: float = 1.2


@dataclass(frozen=True)
class BenchmarkStats:
    """One benchmark across the nodes of one type."""

    name: str
    metric: str
    higher_is_better: bool
    median: float  # median across nodes of the nodes' medians
    spread: float  # scaled MAD of log(node median): ~ the standard deviation of a log value
    nodes: int  # nodes that measured it


@dataclass(frozen=True)
class NodeVerdict:
    """One node against its type."""

    run: NodeRun
    judged: int  # benchmarks measured by this node and judged in its group
    slower: int  # benchmarks where it is slower beyond every bar
    faster: int
    direction: str  # SLOWER or FASTER: the larger of the two counts ("" when neither deviates)
    factor: float | None  # median time ratio node/group over the deviating benchmarks of that direction
    typical: float | None  # median time ratio node/group over all its judged benchmarks
    outlier: bool
    canary_ratio: float | None  # node's canary / the group's median canary (> 1: the host was slower)
    canary_off: bool  # the canary itself deviates beyond the canary bars

    @property
    def deviating(self) -> int:
        return self.slower if self.direction == SLOWER else self.faster


@dataclass(frozen=True)
class TypeJudgement:
    """The nodes of one hardware type, and what was found."""

    hardware: HardwareType
    judged: bool  # False: fewer than Thresholds.min_nodes nodes
    benchmarks: list[BenchmarkStats]
    slowness: np.ndarray  # nodes x benchmarks: log(node / group median), > 0 slower; NaN not measured
    deviates: np.ndarray  # nodes x benchmarks: +1 slower beyond every bar, -1 faster, 0 neither
    verdicts: list[NodeVerdict]

    @property
    def outliers(self) -> list[NodeVerdict]:
        return [v for v in self.verdicts if v.outlier]


def judge(samples: Sequence[NodeSample], thresholds: Thresholds = Thresholds()) -> list[TypeJudgement]:
    """One TypeJudgement per hardware type, in order of first appearance."""
    by_node = {sample.run.node: sample for sample in samples}
    return [_judge_type(hardware, [by_node[run.node] for run in runs], thresholds)
            for hardware, runs in by_type([s.run for s in samples]).items()]


def _judge_type(hardware: HardwareType, samples: list[NodeSample], bars: Thresholds) -> TypeJudgement:
    judged = len(samples) >= bars.min_nodes
    names, metrics = _benchmarks(samples, bars.min_nodes if judged else 1)
    medians, lows, highs = _matrices(samples, names, metrics)
    with np.errstate(all="ignore"):  # all-NaN columns cannot happen (>= 1 node each), NaN cells can
        logs, log_lo, log_hi = np.log(medians), np.log(lows), np.log(highs)
        center = np.nanmedian(logs, axis=0)
        spread = MAD_TO_SIGMA * np.nanmedian(np.abs(logs - center), axis=0)
    sign = np.array([-1.0 if metric.endswith(BANDWIDTH) else 1.0 for metric in metrics])
    slowness = (logs - center) * sign
    deviates = _deviations(logs, log_lo, log_hi, center, spread, bars) * sign.astype(np.int8) if judged \
        else np.zeros(logs.shape, dtype=np.int8)
    stats = [BenchmarkStats(name, metric, sign[i] < 0, float(math.exp(center[i])), float(spread[i]),
                            int(np.count_nonzero(~np.isnan(logs[:, i]))))
             for i, (name, metric) in enumerate(zip(names, metrics))]
    canaries = _canary_ratios(samples, bars if judged else None)
    verdicts = [_verdict(sample.run, slowness[row], deviates[row], canaries[row], bars)
                for row, sample in enumerate(samples)]
    return TypeJudgement(hardware, judged, stats, slowness, deviates.astype(np.int8), verdicts)


def _benchmarks(samples: list[NodeSample], min_nodes: int) -> tuple[list[str], list[str]]:
    """The benchmarks measured by at least min_nodes nodes (by mechanism, then size), each with
    the metric its first node judged it on."""
    counts: dict[str, int] = {}
    metrics: dict[str, str] = {}
    for sample in samples:
        for name, reps in sample.benchmarks.items():
            counts[name] = counts.get(name, 0) + 1
            metrics.setdefault(name, reps.metric)
    names = sorted((name for name, count in counts.items() if count >= min_nodes), key=_benchmark_order)
    return names, [metrics[name] for name in names]


def _benchmark_order(name: str) -> tuple[list[str], int]:
    """Mechanisms together, sizes in increasing order within them."""
    parts = name.split("/")
    size = next((part.removeprefix("size:") for part in parts if part.startswith("size:")), "0")
    return [part for part in parts if not part.startswith("size:")], int(size) if size.isdigit() else 0


def _matrices(samples: list[NodeSample], names: list[str], metrics: list[str]) -> tuple[np.ndarray, ...]:
    """nodes x benchmarks: median, min and max of each node's repetitions (NaN: not measured,
    or measured on another metric, as a file of another ipcatlas version could be)."""
    shape = (len(samples), len(names))
    medians, lows, highs = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    for row, sample in enumerate(samples):
        for column, (name, metric) in enumerate(zip(names, metrics)):
            reps = sample.benchmarks.get(name)
            if reps is None or reps.metric != metric:
                continue
            medians[row, column] = statistics.median(reps.values)  # a few values: faster than numpy's
            lows[row, column], highs[row, column] = min(reps.values), max(reps.values)
    return medians, lows, highs


def _deviations(logs: np.ndarray, log_lo: np.ndarray, log_hi: np.ndarray, center: np.ndarray,
                spread: np.ndarray, bars: Thresholds) -> np.ndarray:
    """+1 where a node's value is above the group's beyond every bar, -1 below, 0 otherwise
    (in value terms: the caller turns it into slower/faster)."""
    distance = logs - center
    with np.errstate(invalid="ignore"):
        beyond_group = np.abs(distance) > np.maximum(bars.spread_k * spread, math.log(bars.min_factor))
        # The node's own noise: every repetition on the same side of the group median.
        beyond_own = np.where(distance > 0, log_lo > center, log_hi < center)
    counted = beyond_group & beyond_own & ~np.isnan(distance)
    return np.where(counted, np.sign(distance), 0).astype(np.int8)


def _canary_ratios(samples: list[NodeSample], bars: Thresholds | None) -> list[tuple[float | None, bool]]:
    """Per node: its canary over the group's median canary, and whether that is off (never
    when the group is not judged, or when fewer than min_nodes nodes have a canary)."""
    known = [math.log(s.canary_ns) for s in samples if s.canary_ns is not None]
    if not known:
        return [(None, False)] * len(samples)
    center = float(np.median(known))
    spread = MAD_TO_SIGMA * float(np.median(np.abs(np.array(known) - center)))
    judged = bars is not None and len(known) >= bars.min_nodes
    limit = max(bars.spread_k * spread, math.log(bars.canary_factor)) if bars is not None else math.inf
    result: list[tuple[float | None, bool]] = []
    for sample in samples:
        if sample.canary_ns is None:
            result.append((None, False))
            continue
        distance = math.log(sample.canary_ns) - center
        result.append((math.exp(distance), judged and abs(distance) > limit))
    return result


def _verdict(run: NodeRun, slowness: np.ndarray, deviates: np.ndarray, canary: tuple[float | None, bool],
             bars: Thresholds) -> NodeVerdict:
    """Count the node's deviations; an outlier deviates one way in a clear majority of its benchmarks."""
    judged = int(np.count_nonzero(~np.isnan(slowness)))
    slower, faster = int(np.count_nonzero(deviates > 0)), int(np.count_nonzero(deviates < 0))
    direction = "" if slower == faster == 0 else SLOWER if slower >= faster else FASTER
    chosen = deviates > 0 if direction == SLOWER else deviates < 0
    factor = float(math.exp(float(np.median(slowness[chosen])))) if direction else None
    needed = max(bars.min_deviating, math.ceil(bars.fraction * judged))
    outlier = bool(direction) and max(slower, faster) >= needed
    typical = float(math.exp(float(np.nanmedian(slowness)))) if judged else None
    return NodeVerdict(run, judged, slower, faster, direction, factor, typical, outlier, canary[0], canary[1])
