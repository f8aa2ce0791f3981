"""ci/nodes-scale: `ipcatlas nodes` on many simulated nodes, for time, memory and the right answer.

One real run (analysis/tests/inputs/nodes/run1.json) becomes NODES node files: each node gets
multiplicative log-normal noise per benchmark (how far a node's median moves) and per
repetition (how far a repetition moves around it), with the spreads measured between the five
real reruns run1..run5 of one host, and its canary moved alike; SLOWED nodes are slowed by
SLOWDOWN on the primary metric of every repetition (the factor the tests plant). `ipcatlas
nodes` runs on them as a child process; the script reports its wall time and peak memory
(ru_maxrss of the child) and whether it found exactly the slowed nodes.

The figures are indicative: this is a shared 2-vCPU VM, and the time includes reading and
checking every file (most of it) and drawing the heat map.
Exit status: 0 exactly the slowed nodes found within the limits; 1 otherwise; 2 bad usage."""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
NODE_RUNS = REPO / "analysis" / "tests" / "inputs" / "nodes"
SLOWDOWN = 2.0  # as analysis/tests/nodes_fixtures.py: the smallest factor found in every real rerun
LIMIT_SECONDS = 60.0
LIMIT_MB = 500.0
MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class Noise:
    """Standard deviations of log values, measured between real reruns of one host."""

    between: float  # of a node's median of a benchmark around the median across nodes
    within: float  # of a repetition around its node's median
    canary: float  # of a node's canary median around the median across nodes


@dataclass(frozen=True)
class Outcome:
    nodes: int
    slowed: list[str]
    found: list[str]
    seconds: float
    peak_mb: float
    status: int  # the exit status of `ipcatlas nodes --fail-on-outlier`: 1 when it found an outlier

    @property
    def exact(self) -> bool:
        return self.status == (1 if self.slowed else 0) and sorted(self.found) == sorted(self.slowed)


def _scaled_mad(values: list[float]) -> float:
    array = np.array(values)
    return float(MAD_TO_SIGMA * np.median(np.abs(array - np.median(array))))


def iteration_rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    metric = document["context"]["primary_metric"]
    return [row for row in document["benchmarks"] if row.get("run_type") == "iteration" and metric in row]


def measure_noise(documents: list[dict[str, Any]]) -> Noise:
    """The spreads between the reruns: node medians around their benchmark's median, repetitions
    around their node's median, canaries around theirs."""
    between, within = [], []
    metric = documents[0]["context"]["primary_metric"]
    names = {row["name"] for row in iteration_rows(documents[0])}
    for name in names:
        logs = [[math.log(r[metric]) for r in iteration_rows(d) if r["name"] == name] for d in documents]
        medians = [float(np.median(values)) for values in logs]
        between += [m - float(np.median(medians)) for m in medians]
        within += [value - median for values, median in zip(logs, medians) for value in values]
    canaries = [math.log(float(d["context"]["canary_median_ns"])) for d in documents]
    return Noise(_scaled_mad(between), _scaled_mad(within), _scaled_mad(canaries))


def write_node_files(base: dict[str, Any], count: int, slowed: set[int], noise: Noise, directory: Path,
                     seed: int, slowdown: float = SLOWDOWN) -> list[Path]:
    """node files sim0000.json...: `base` with noise (and the slowdown for the `slowed` indices).
    The base document is changed in place and restored from its original values each time:
    parsing a 140 KB document 1,000 times would take longer than the judgement."""
    rng = np.random.default_rng(seed)
    metric = base["context"]["primary_metric"]
    rows = iteration_rows(base)
    names = sorted({row["name"] for row in rows})
    originals = [(row[metric], row.get("canary_ns")) for row in rows]
    canary = float(base["context"]["canary_median_ns"])
    paths = []
    for index in range(count):
        node_shift = dict(zip(names, rng.normal(0.0, noise.between, len(names))))
        canary_shift = float(rng.normal(0.0, noise.canary))
        factor = slowdown if index in slowed else 1.0
        for row, (value, row_canary), shift in zip(rows, originals, rng.normal(0.0, noise.within, len(rows))):
            row[metric] = value * factor * math.exp(node_shift[row["name"]] + shift)
            if row_canary is not None:
                row["canary_ns"] = row_canary * math.exp(canary_shift)
        base["context"].update(slurm_node=f"sim{index:04d}", canary_median_ns=f"{canary * math.exp(canary_shift):.1f}")
        path = directory / f"sim{index:04d}.json"
        path.write_text(json.dumps(base), encoding="utf-8")
        paths.append(path)
    return paths


def run_nodes(paths: list[Path], out: Path) -> tuple[int, float, float]:
    """`ipcatlas nodes PATHS -o OUT --fail-on-outlier` as a child (the analysis that `ipcatlas nodes`
    hands over to, from this checkout): its exit status, wall seconds and peak memory in MB.
    ru_maxrss of RUSAGE_CHILDREN is the largest of the children waited for: this is the only one."""
    environment = {**os.environ, "PYTHONPATH": str(REPO / "analysis")}
    command = [sys.executable, "-m", "ipcatlas_analysis", "nodes", *map(str, paths), "-o", str(out),
               "--fail-on-outlier"]
    start = time.monotonic()
    proc = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stderr)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kilobytes on Linux
    return proc.returncode, seconds, peak_kb / 1024


def simulate(count: int, slowed_count: int = 3, seed: int = 13, slowdown: float = SLOWDOWN) -> Outcome:
    """Derive `count` node files in a temporary directory (removed afterwards), judge them, and
    say what was found."""
    documents = [json.loads((NODE_RUNS / f"run{i}.json").read_text(encoding="utf-8")) for i in range(1, 6)]
    noise = measure_noise(documents)
    slowed = {int(i) for i in np.random.default_rng(seed + 1).choice(count, slowed_count, replace=False)}
    with tempfile.TemporaryDirectory(prefix="ipcatlas-nodes-scale-") as temporary:
        directory = Path(temporary)
        paths = write_node_files(documents[0], count, slowed, noise, directory, seed, slowdown)
        status, seconds, peak_mb = run_nodes(paths, directory / "nodes")
        found: list[str] = []
        if status in (0, 1):
            found = json.loads((directory / "nodes" / "nodes.json").read_text(encoding="utf-8"))["outliers"]
    return Outcome(count, sorted(f"sim{i:04d}" for i in slowed), found, seconds, peak_mb, status)


def main() -> int:
    parser = argparse.ArgumentParser(prog="ci/nodes-scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=1000, help="simulated nodes (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=13, help="seed of the noise (default: %(default)s)")
    args = parser.parse_args()
    if args.nodes < 10:
        parser.error("--nodes must be at least 10")
    outcome = simulate(args.nodes, seed=args.seed)
    print(f"ci/nodes-scale: {outcome.nodes} nodes, {len(outcome.slowed)} slowed {SLOWDOWN:g}x "
          f"({', '.join(outcome.slowed)})")
    print(f"  ipcatlas nodes: {outcome.seconds:.1f} s, peak memory {outcome.peak_mb:.0f} MB "
          f"(limits {LIMIT_SECONDS:g} s, {LIMIT_MB:g} MB; indicative only on a shared VM), exit {outcome.status}")
    print(f"  outliers found: {', '.join(outcome.found) or 'none'}: "
          + ("exactly the slowed nodes" if outcome.exact else "NOT exactly the slowed nodes"))
    within = outcome.seconds <= LIMIT_SECONDS and outcome.peak_mb <= LIMIT_MB
    if not within:
        print("  over a limit", file=sys.stderr)
    return 0 if outcome.exact and within else 1


if __name__ == "__main__":
    sys.exit(main())
