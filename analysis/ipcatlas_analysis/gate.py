"""The CI gate of `compare --fail-on-regression` and `history --fail-on-regression`.

A per-benchmark U test needs 4 + 4 repetitions to reach p < 0.05, and on a noisy
host even 9 repetitions of one benchmark share one state of the host, so most
CI runs (3 repetitions, say) could never fail it. A regression in the code
usually moves many benchmarks the same way, though, so the gate tests across
benchmarks: each benchmark gives one log ratio, log(median NEW / median BASE)
of its primary metric, and a one-sided Wilcoxon signed-rank test asks whether
those ratios lean towards slower, per (scenario, mechanism) group and over all
benchmarks (Holm's correction across those tests). The gate fails when a test
rejects AND that group's median slowdown exceeds PCT: significance alone would
fail on a consistent 0.1 % shift, size alone on one noisy benchmark.

When there are too few benchmarks for that test, the per-benchmark U tests
decide; when they cannot either (too few repetitions), the gate says so with
its own exit status: "untested" is never "passed".
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from .cli import EXIT_FINDING, EXIT_OK, EXIT_UNDECIDED
from .compare import TESTED, Comparison, format_value, slower_than
from .load import parse_name
from .stats import holm_levels, min_pairs_one_sided, signed_rank_p

PASSED = "passed"
FAILED = "FAILED"
UNDECIDED = "cannot decide"
ACROSS = "across benchmarks (signed-rank test)"
# Runs whose median drift canaries are further apart than this were measured in different host states.
HOST_CHANGE_FACTOR = 1.25
PER_BENCHMARK = "per benchmark (U test)"
OVERALL = "all benchmarks"
EXIT_STATUS = {PASSED: EXIT_OK, FAILED: EXIT_FINDING, UNDECIDED: EXIT_UNDECIDED}


@dataclass(frozen=True)
class GroupTest:
    """The signed-rank test over one group's per-benchmark log ratios."""

    group: str  # "SCENARIO/MECHANISM" or OVERALL
    count: int  # benchmarks measured on both sides
    median_ratio: float  # median of the NEW/BASE time ratios
    p_value: float | None = None  # one-sided (NEW slower); None when the group is too small to test
    level: float | None = None  # the Holm level p was held against
    rejected: bool = False  # p below its level
    slower: bool = False  # rejected and the median slowdown is above PCT: this group fails the gate

    @property
    def median_slowdown(self) -> float:
        return self.median_ratio - 1


@dataclass(frozen=True)
class GateResult:
    """What the gate decided, how, and from what."""

    status: str  # PASSED, FAILED or UNDECIDED
    decided_by: str  # ACROSS, PER_BENCHMARK, or "" when undecided
    pct: float
    alpha: float
    tests: list[GroupTest] = field(default_factory=list)
    tripped: list[Comparison] = field(default_factory=list)  # per-benchmark U-test regressions
    reason: str = ""

    @property
    def exit_status(self) -> int:
        return EXIT_STATUS[self.status]


def across_tests(comparisons: Sequence[Comparison], pct: float, alpha: float) -> list[GroupTest]:
    """One test per (scenario, mechanism) group, then the overall one (unless it is the only group)."""
    ratios: dict[str, list[float]] = {}
    for c in comparisons:
        if c.time_ratio is not None and c.time_ratio > 0:
            keys = parse_name(c.name)
            ratios.setdefault(f"{keys['scenario']}/{keys['mechanism']}", []).append(c.time_ratio)
    groups = dict(sorted(ratios.items()))
    if len(groups) > 1:
        groups[OVERALL] = [r for values in ratios.values() for r in values]
    need = min_pairs_one_sided(alpha)
    made = {name: signed_rank_p([math.log(r) for r in values]) for name, values in groups.items()
            if len(values) >= need}
    levels = holm_levels(made, alpha)
    tests = []
    for name, values in groups.items():
        median_ratio = median(values)
        p, level = made.get(name), levels.get(name)
        rejected = p is not None and level is not None and p < level
        tests.append(GroupTest(name, len(values), median_ratio, p, level, rejected,
                               rejected and (median_ratio - 1) * 100 > pct))
    return tests


def host_change(base: Mapping[str, Any], new: Mapping[str, Any], factor: float = HOST_CHANGE_FACTOR) -> str:
    """Why two runs cannot be compared ("" when they can): their drift canaries (the bare
    cache-line bounce, measured before every benchmark) put the host in different states. On
    a VM whose host moves the vCPUs, a rerun of the same code then looks 1.2x to 5x slower."""
    base_ns, new_ns = canary_median(base), canary_median(new)
    if base_ns is None or new_ns is None or max(new_ns / base_ns, base_ns / new_ns) <= factor:
        return ""
    return (f"the host changed state between the runs: drift canary median {base_ns:.0f} ns in BASE, "
            f"{new_ns:.0f} ns in NEW (more than {factor:g}x apart); rerun, or pin the VM's vCPUs to host cores")


def canary_median(context: Mapping[str, Any]) -> float | None:
    """The run's median drift canary from its context (None for older files)."""
    try:
        value = float(context.get("canary_median_ns", ""))
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value > 0 else None


def decide(comparisons: Sequence[Comparison], pct: float, alpha: float, host_changed: str = "") -> GateResult:
    """The gate's verdict: undecided when the host changed state between the runs; else across
    benchmarks when there are enough of them (and every test that could be made has at least a
    chance at its Holm level), else per benchmark, else undecided."""
    tests = across_tests(comparisons, pct, alpha)
    tripped = [c for c in comparisons if slower_than(c, pct, alpha)]
    if host_changed:
        return GateResult(UNDECIDED, "", pct, alpha, tests, tripped, host_changed)
    made = [t for t in tests if t.p_value is not None]
    if made and 0.5 ** max(t.count for t in made) < alpha / len(made):
        status = FAILED if any(t.slower for t in tests) else PASSED
        return GateResult(status, ACROSS, pct, alpha, tests, tripped)
    measured = [c for c in comparisons if c.measured]
    if tripped or (measured and all(c.verdict in TESTED for c in measured)):
        return GateResult(FAILED if tripped else PASSED, PER_BENCHMARK, pct, alpha, tests, tripped)
    need = min_pairs_one_sided(alpha)
    untested = sum(c.verdict not in TESTED for c in measured)
    reason = (f"{len(measured)} benchmark(s) measured on both sides (the signed-rank test needs >= {need} "
              f"for p < {alpha:g}) and {untested} of them have too few repetitions for the U test")
    return GateResult(UNDECIDED, "", pct, alpha, tests, tripped, reason)


def format_gate(result: GateResult, option: str) -> str:
    """The gate's section of the output: the verdict and the evidence behind it."""
    rule = (f"a signed-rank test over per-benchmark log(NEW/BASE) rejects at {result.alpha:g} (Holm) and the "
            f"median slowdown exceeds {result.pct:g}%")
    head = f"gate {option}: {result.status}"
    lines = [f"{head} ({result.decided_by})" if result.decided_by else f"{head}: {result.reason}",
             f"  rule: {rule}; with too few benchmarks, a U test per benchmark (p < {result.alpha:g}, "
             f"slower by > {result.pct:g}%)"]
    lines += [f"  {_test_line(t, result.alpha)}" for t in result.tests]
    label = "regressions per benchmark (U test)" + ("" if result.decided_by == PER_BENCHMARK else ", information")
    lines += [f"  {label}:"] * bool(result.tripped)
    lines += [f"    {c.name}: {c.metric} {format_value(c.median_base, c.metric)} -> "
              f"{format_value(c.median_new, c.metric)} ({c.change:+.1%}, p {c.p_value:.2g})" for c in result.tripped]
    return "\n".join(lines)


def gate_record(result: GateResult) -> dict[str, object]:
    """The gate as JSON."""
    return {"status": result.status, "passed": result.status == PASSED, "decided_by": result.decided_by or None,
            "reason": result.reason or None, "exit_status": result.exit_status,
            "tests": [{"group": t.group, "benchmarks": t.count, "median_ratio": t.median_ratio, "p_value": t.p_value,
                       "level": t.level, "rejected": t.rejected, "slower": t.slower} for t in result.tests],
            "tripped": [c.name for c in result.tripped]}


def _test_line(test: GroupTest, alpha: float) -> str:
    ratio = f"median x{test.median_ratio:.3f} ({test.median_slowdown:+.1%})"
    if test.p_value is None:
        return (f"{test.group}: {test.count} benchmark(s), {ratio}, not tested (needs >= "
                f"{min_pairs_one_sided(alpha)} benchmarks)")
    return (f"{test.group}: {test.count} benchmarks, {ratio}, p {test.p_value:.2g} (level {test.level:.2g}): "
            f"{test_verdict(test)}")


def test_verdict(test: GroupTest) -> str:
    """What one test across benchmarks says: SLOWER (fails the gate), shifted within PCT, no shift, or not tested."""
    if test.p_value is None:
        return "not tested (too few benchmarks)"
    return "SLOWER" if test.slower else ("shifted, within PCT" if test.rejected else "no shift")
