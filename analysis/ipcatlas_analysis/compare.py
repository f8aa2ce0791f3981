"""`ipcatlas compare BASE.json NEW.json`: which benchmarks got faster or slower, beyond noise.

Modelled on Google Benchmark's tools/compare.py: per benchmark the relative
change of the median and a two-sided Mann-Whitney U test over the repetitions
(IPC timings are skewed and have outliers, so no normality is assumed) of
the scenario's primary metric, a geometric-mean row over everything measured
on both sides, and a CI gate (--fail-on-regression PCT; gate.py) that tests
across benchmarks, so that it works with few repetitions. history.py calls
compare_tables() and gate.decide() too, so a "regression" means the same
thing in both commands.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from .cells import BANDWIDTH, time_metric
from .descriptors import LEGACY, Descriptors
from .load import FAILED, MEDIAN_AGGREGATE, OK, SKIPPED
from .stats import mann_whitney_p, repetitions_needed, smallest_p
from .units import format_ns

FASTER = "faster"
SLOWER = "slower"
UNCHANGED = "unchanged"
UNTESTED = "untested"  # measured on both sides, but too few repetitions for the U test to decide
NOT_COMPARED = "not compared"  # failed or skipped on a side, or no value of the metric
ONLY_BASE = "only in BASE"
ONLY_NEW = "only in NEW"
TESTED = (FASTER, SLOWER, UNCHANGED)
DEFAULT_ALPHA = 0.05
RECOMMENDED_REPETITIONS = 9  # what Google Benchmark's compare.py calls optimal for the U test
GEOMEAN_NAME = "OVERALL_GEOMEAN"


@dataclass(frozen=True)
class Comparison:
    """The verdict on one benchmark name; numbers are None where it was not measured on both sides."""

    name: str
    verdict: str
    metric: str = ""
    n_base: int = 0
    n_new: int = 0
    median_base: float | None = None
    median_new: float | None = None
    change: float | None = None  # (new - base) / base of the medians of the metric itself
    p_value: float | None = None
    note: str = ""

    @property
    def higher_is_better(self) -> bool:
        return is_higher_better(self.metric)

    @property
    def measured(self) -> bool:
        """Whether both sides have a median, so the row has a change and counts in the geomean."""
        return self.median_base is not None and self.median_new is not None and self.change is not None

    @property
    def slowdown(self) -> float | None:
        """How much worse NEW is, as a fraction: time up, or bandwidth down (negative when better)."""
        if self.change is None:
            return None
        return -self.change if self.higher_is_better else self.change

    @property
    def time_ratio(self) -> float | None:
        """NEW/BASE as a time: bandwidth is inverted (same bytes, so time ~ 1/bandwidth)."""
        if not self.measured or not self.median_base or not self.median_new:
            return None
        ratio = self.median_new / self.median_base
        return 1 / ratio if self.higher_is_better else ratio


@dataclass(frozen=True)
class Geomean:
    """Geometric mean of the NEW/BASE time ratios: the OVERALL_GEOMEAN row."""

    time_ratio: float
    count: int


def is_higher_better(metric: str) -> bool:
    """Bandwidth metrics improve upwards; every other metric is a time (`_ns`)."""
    return metric.endswith(BANDWIDTH)


def too_few_note(n_base: int, n_new: int, alpha: float, aggregates_only: bool = False) -> str:
    """Why a row has no U-test verdict, and how to get one."""
    need = repetitions_needed(alpha)
    if aggregates_only:
        return (f"too few repetitions for the U test: only the median aggregate was written "
                f"(--benchmark_report_aggregates_only); rerun without it and with "
                f"--benchmark_repetitions={RECOMMENDED_REPETITIONS}")
    return (f"too few repetitions for the U test ({n_base}+{n_new}; need >= {need}+{need} for p < {alpha:g}): "
            f"rerun with --benchmark_repetitions={RECOMMENDED_REPETITIONS}")


def verdict(change: float, p_value: float, higher_is_better: bool, alpha: float, threshold_pct: float = 0.0) -> str:
    """faster, slower or unchanged: a change counts only if p < alpha and it is larger than the noise floor."""
    worse_by = -change if higher_is_better else change
    if p_value >= alpha or abs(worse_by) * 100 <= threshold_pct:
        return UNCHANGED
    return SLOWER if worse_by > 0 else FASTER


def slower_than(comparison: Comparison, pct: float, alpha: float) -> bool:
    """The regression test shared by compare's gate and history: the U test decided
    (enough repetitions), p < alpha, and NEW is worse by more than pct percent."""
    slowdown = comparison.slowdown
    return (comparison.verdict in TESTED and comparison.p_value is not None and comparison.p_value < alpha
            and slowdown is not None and slowdown * 100 > pct)


def compare_benchmark(name: str, base: pd.DataFrame, new: pd.DataFrame, alpha: float = DEFAULT_ALPHA,
                      threshold_pct: float = 0.0, metric: str | None = None,
                      descriptors: Descriptors = LEGACY) -> Comparison:
    """Compare one benchmark's repetition rows from the two sides.

    metric None picks the scenario's primary metric (cells.time_metric, from
    the runs' descriptors) or, for bandwidth-only
    benchmarks, bytes_per_second.
    """
    reason = _failure_reason(base, "BASE") or _failure_reason(new, "NEW")
    if reason:
        return Comparison(name, NOT_COMPARED, note=reason)
    metric = metric or time_metric(pd.concat([base, new]), descriptors) or BANDWIDTH
    base_values, new_values = _values(base, metric), _values(new, metric)
    if not base_values or not new_values:
        side = "BASE" if not base_values else "NEW"
        return Comparison(name, NOT_COMPARED, metric, len(base_values), len(new_values), note=f"no {metric} in {side}")
    median_base, median_new = float(pd.Series(base_values).median()), float(pd.Series(new_values).median())
    if median_base <= 0:
        return Comparison(name, NOT_COMPARED, metric, len(base_values), len(new_values),
                          note=f"BASE median of {metric} is {median_base:g}: no relative change")
    change = (median_new - median_base) / median_base
    p_value = mann_whitney_p(base_values, new_values)
    numbers = (metric, len(base_values), len(new_values), median_base, median_new, change, p_value)
    if smallest_p(len(base_values), len(new_values)) >= alpha:
        aggregates_only = (base["source"] == MEDIAN_AGGREGATE).any() or (new["source"] == MEDIAN_AGGREGATE).any()
        note = too_few_note(len(base_values), len(new_values), alpha, bool(aggregates_only))
        return Comparison(name, UNTESTED, *numbers, note=note)
    return Comparison(name, verdict(change, p_value, is_higher_better(metric), alpha, threshold_pct), *numbers)


def compare_tables(base_rows: pd.DataFrame, new_rows: pd.DataFrame, alpha: float = DEFAULT_ALPHA,
                   threshold_pct: float = 0.0, metric: str | None = None,
                   descriptors: Descriptors = LEGACY) -> list[Comparison]:
    """Compare every benchmark name of two load_results() tables (one row per repetition).

    Names on one side only are listed as "only in BASE"/"only in NEW". Sorted
    scenario, mechanism, variant, placement, wait, then size as a number.
    """
    comparisons = []
    for name in _ordered_names(base_rows, new_rows):
        base, new = base_rows[base_rows["name"] == name], new_rows[new_rows["name"] == name]
        if base.empty or new.empty:
            comparisons.append(Comparison(name, ONLY_NEW if base.empty else ONLY_BASE))
        else:
            comparisons.append(compare_benchmark(name, base, new, alpha, threshold_pct, metric, descriptors))
    return comparisons


def geomean(comparisons: Sequence[Comparison]) -> Geomean | None:
    """Geometric mean of NEW/BASE time ratios over the benchmarks measured on both
    sides (tested or not, as Google Benchmark's OVERALL_GEOMEAN); None if there are none."""
    ratios = [c.time_ratio for c in comparisons if c.time_ratio is not None and c.time_ratio > 0]
    if not ratios:
        return None
    return Geomean(math.exp(sum(math.log(r) for r in ratios) / len(ratios)), len(ratios))


def format_table(comparisons: Sequence[Comparison], overall: Geomean | None) -> str:
    """Fixed-width table of the benchmarks measured on both sides, then the geomean row."""
    header = ("benchmark", "metric", "reps", "BASE", "NEW", "change", "p", "verdict")
    rows = [header] + [_row(c) for c in comparisons if c.measured]
    footer = []
    if overall is not None:
        footer = [(GEOMEAN_NAME, "time NEW/BASE", str(overall.count), "", f"x{overall.time_ratio:.4f}",
                   f"{overall.time_ratio - 1:+.1%}", "", "")]
    widths = [max(len(row[i]) for row in rows + footer) for i in range(len(header) - 1)]
    lines = ["  ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[-1]]).rstrip() for row in rows + footer]
    if footer:  # the geomean is a summary, not one more benchmark: set it apart
        lines.insert(len(rows), "-" * (sum(widths) + 2 * len(widths) + len(header[-1])))
    return "\n".join(lines)


def format_not_compared(comparisons: Sequence[Comparison]) -> str:
    """The section for benchmarks with no change: one side only, failed, skipped."""
    missing = [c for c in comparisons if not c.measured]
    if not missing:
        return ""
    width = max(len(c.name) for c in missing)
    lines = [f"{c.name.ljust(width)}  {c.verdict}{': ' + c.note if c.note else ''}" for c in missing]
    return f"Not compared ({len(missing)}):\n" + "\n".join("  " + line for line in lines)


def format_counts(comparisons: Sequence[Comparison], alpha: float, threshold_pct: float) -> str:
    """One line: how many benchmarks got each verdict."""
    counts = {v: sum(c.verdict == v for c in comparisons) for v in (SLOWER, FASTER, UNCHANGED, UNTESTED)}
    others = len(comparisons) - sum(counts.values())
    floor = f", noise floor {threshold_pct:g}%" if threshold_pct else ""
    return (f"{counts[SLOWER]} slower, {counts[FASTER]} faster, {counts[UNCHANGED]} unchanged, "
            f"{counts[UNTESTED]} untested (too few repetitions), {others} not compared (alpha {alpha:g}{floor})")


def comparison_record(comparison: Comparison) -> dict[str, Any]:
    """A Comparison as a JSON-ready dict, with its derived time ratio."""
    record = asdict(comparison)
    record["time_ratio"] = comparison.time_ratio
    return record


def _failure_reason(rows: pd.DataFrame, side: str) -> str:
    """"failed in BASE: message" when any repetition failed or was skipped (see cells.cell_status)."""
    for status in (FAILED, SKIPPED):
        bad = rows[rows["status"] == status]
        if not bad.empty:
            messages = [m for m in bad["message"] if m]
            return f"{status} in {side}" + (f": {messages[0]}" if messages else "")
    return ""


def _values(rows: pd.DataFrame, metric: str) -> list[float]:
    if metric not in rows:
        return []
    return [float(v) for v in rows.loc[rows["status"] == OK, metric].dropna()]


def _ordered_names(base_rows: pd.DataFrame, new_rows: pd.DataFrame) -> list[str]:
    """Names read mechanism by mechanism with sizes in numeric order (4K after 64, not before)."""
    keys: dict[str, tuple[Any, ...]] = {}
    for table in (base_rows, new_rows):
        for row in table.drop_duplicates("name").itertuples(index=False):
            size = getattr(row, "size", None)
            number = -1 if size is None or pd.isna(size) else int(size)
            keys.setdefault(row.name, (row.scenario, row.mechanism, row.variant, str(getattr(row, "placement", "")),
                                       str(getattr(row, "wait", "")), number, row.name))
    return sorted(keys, key=lambda name: keys[name])


def _row(c: Comparison) -> tuple[str, ...]:
    p_text = "" if c.p_value is None else f"{c.p_value:.2g}"
    verdict_text = f"{c.verdict}: {c.note}" if c.note else c.verdict
    change = "" if c.change is None else f"{c.change:+.1%}"
    return (c.name, c.metric, f"{c.n_base}+{c.n_new}", format_value(c.median_base, c.metric),
            format_value(c.median_new, c.metric), change, p_text, verdict_text)


def format_value(value: float | None, metric: str) -> str:
    """A median for the table: times as ns/µs/ms, bandwidth in GB/s (10^9 bytes/s)."""
    if value is None:
        return ""
    if is_higher_better(metric):
        return f"{value / 1e9:.4g} GB/s"
    return format_ns(value) if metric.endswith("_ns") else f"{value:.4g}"
