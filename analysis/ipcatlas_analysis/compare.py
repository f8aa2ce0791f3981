"""ipcatlas-compare: is CONTENDER slower than BASELINE, beyond noise?

Usage: python -m ipcatlas_analysis.compare BASELINE.json CONTENDER.json [--alpha 0.05] [--threshold 0.05]

IPC timings are skewed and have outliers, so the test is Mann-Whitney U on the
repetitions (no normality assumed) and the size of a change is the relative
change of the medians. A change must be both significant (p < alpha) and
larger than the threshold to count: a tiny but consistent drift is not a
regression worth failing CI for.
"""
from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from scipy.stats import mannwhitneyu

from .cells import BANDWIDTH, time_metric
from .load import FAILED, SKIPPED, ResultFileError, load_results
from .units import format_ns

MIN_REPETITIONS = 2
TOO_FEW = "too few repetitions (need --benchmark_repetitions>=2; 9 recommended)"
REGRESSION = "regression"
IMPROVEMENT = "improvement"
SAME = "same"
EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_BAD_INPUT = 2


@dataclass(frozen=True)
class Comparison:
    """The verdict on one benchmark name; numbers are None when it was not compared."""

    name: str
    verdict: str
    metric: str = ""
    n_baseline: int = 0
    n_contender: int = 0
    median_baseline: float | None = None
    median_contender: float | None = None
    change: float | None = None  # (contender - baseline) / baseline of the medians
    p_value: float | None = None
    note: str = ""


def mann_whitney_p(baseline: Sequence[float], contender: Sequence[float]) -> float:
    """Two-sided Mann-Whitney U p-value; 1.0 when every value is equal (no evidence
    of a difference, where scipy's normal approximation would divide by zero)."""
    if len(set(baseline) | set(contender)) == 1:
        return 1.0
    return float(mannwhitneyu(baseline, contender, alternative="two-sided").pvalue)


def smallest_p(n_baseline: int, n_contender: int) -> float:
    """The smallest two-sided p the exact test can give for these sample sizes:
    below alpha only with enough repetitions (4 + 4 for 0.05)."""
    return 2 / math.comb(n_baseline + n_contender, n_baseline)


def verdict(change: float, p_value: float, lower_is_better: bool, alpha: float, threshold: float) -> str:
    """regression, improvement or same: significant AND larger than the threshold."""
    worse = change > threshold if lower_is_better else change < -threshold
    better = change < -threshold if lower_is_better else change > threshold
    if p_value < alpha and worse:
        return REGRESSION
    if p_value < alpha and better:
        return IMPROVEMENT
    return SAME


def compare_name(name: str, baseline: pd.DataFrame, contender: pd.DataFrame, alpha: float,
                 threshold: float) -> Comparison:
    """Compare one benchmark's rows from the two files."""
    for side, rows in (("baseline", baseline), ("contender", contender)):
        for status in (FAILED, SKIPPED):
            if (rows["status"] == status).any():
                return Comparison(name, f"not compared: {status} in {side}")
    metric = time_metric(pd.concat([baseline, contender])) or BANDWIDTH
    base = baseline[metric].dropna() if metric in baseline else pd.Series(dtype=float)
    cont = contender[metric].dropna() if metric in contender else pd.Series(dtype=float)
    if len(base) < MIN_REPETITIONS or len(cont) < MIN_REPETITIONS:
        return Comparison(name, TOO_FEW, metric, len(base), len(cont))
    median_base, median_cont = float(base.median()), float(cont.median())
    change = (median_cont - median_base) / median_base
    p_value = mann_whitney_p(list(base), list(cont))
    result = verdict(change, p_value, metric != BANDWIDTH, alpha, threshold)
    note = ""
    if smallest_p(len(base), len(cont)) >= alpha:
        note = f"p cannot go below {alpha:g} with {len(base)}+{len(cont)} repetitions"
    return Comparison(name, result, metric, len(base), len(cont), median_base, median_cont, change, p_value, note)


def compare_tables(baseline: pd.DataFrame, contender: pd.DataFrame, alpha: float = 0.05,
                   threshold: float = 0.05) -> list[Comparison]:
    """Compare every benchmark name of two load_results() tables, sorted by name."""
    comparisons = []
    for name in sorted(set(baseline["name"]) | set(contender["name"])):
        base, cont = baseline[baseline["name"] == name], contender[contender["name"] == name]
        if base.empty or cont.empty:
            comparisons.append(Comparison(name, f"not compared: only in {'contender' if base.empty else 'baseline'}"))
        else:
            comparisons.append(compare_name(name, base, cont, alpha, threshold))
    return comparisons


def format_table(comparisons: Sequence[Comparison]) -> str:
    """A fixed-width text table, one line per benchmark, the verdict last."""
    header = ("benchmark", "reps", "baseline -> contender", "change", "p", "verdict")
    rows = [header] + [_row(c) for c in comparisons]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return "\n".join("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[-1]]) for row in rows)


def build_parser() -> argparse.ArgumentParser:
    """The command line; --help documents every option and exit status."""
    parser = argparse.ArgumentParser(
        prog="ipcatlas-compare", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Compare two ipcatlas result files benchmark by benchmark: a two-sided Mann-Whitney U\n"
                    "test on the repetitions of one_way_ns (or of bytes_per_second, where higher is better,\n"
                    "for benchmarks without a time) and the relative change of the medians. Both files need\n"
                    "repetitions: run `ipcatlas run` with --benchmark_repetitions=9. Prints one line per\n"
                    "benchmark name found in either file.",
        epilog="verdicts:\n"
               "  regression   p < alpha and the contender is worse by more than the threshold\n"
               "  improvement  p < alpha and the contender is better by more than the threshold\n"
               "  same         otherwise\n"
               f"  {TOO_FEW}\n"
               "  not compared: failed/skipped in a file, or the name is only in one file\n\n"
               "exit status:\n  0  no regression\n  1  at least one regression (for CI gating)\n"
               "  2  bad input: missing, unreadable or non-Google-Benchmark file, or a bad option value")
    parser.add_argument("baseline", type=Path, metavar="BASELINE.json", help="the reference result file")
    parser.add_argument("contender", type=Path, metavar="CONTENDER.json", help="the result file under test")
    parser.add_argument("--alpha", type=_fraction, default=0.05,
                        help="significance level: a change counts only if p < ALPHA (default: %(default)s)")
    parser.add_argument("--threshold", type=_fraction, default=0.05,
                        help="smallest relative change of the medians that counts, 0.05 = 5%% "
                             "(default: %(default)s)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        baseline, contender = load_results([args.baseline]), load_results([args.contender])
    except ResultFileError as error:
        print(f"ipcatlas-compare: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    comparisons = compare_tables(baseline, contender, args.alpha, args.threshold)
    print(format_table(comparisons))
    counts = {v: sum(c.verdict == v for c in comparisons) for v in (REGRESSION, IMPROVEMENT, SAME)}
    others = len(comparisons) - sum(counts.values())
    print(f"\n{counts[REGRESSION]} regressions, {counts[IMPROVEMENT]} improvements, {counts[SAME]} same, "
          f"{others} not compared (alpha {args.alpha:g}, threshold {args.threshold:.0%})")
    return EXIT_REGRESSION if counts[REGRESSION] else EXIT_OK


def _row(c: Comparison) -> tuple[str, ...]:
    reps = f"{c.n_baseline}/{c.n_contender}" if c.metric else ""
    if c.change is None or c.p_value is None:
        return (c.name, reps, "", "", "", c.verdict)
    values = f"{_value(c.median_baseline, c.metric)} -> {_value(c.median_contender, c.metric)}"
    verdict_text = f"{c.verdict} ({c.note})" if c.note else c.verdict
    return (c.name, reps, values, f"{c.change:+.1%}", f"{c.p_value:.2g}", verdict_text)


def _value(value: float | None, metric: str) -> str:
    if value is None:
        return ""
    return f"{value / 1e9:.4g} GB/s" if metric == BANDWIDTH else format_ns(value)


def _fraction(text: str) -> float:
    """argparse type for --alpha and --threshold: a number in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not in [0, 1)")
    return value


if __name__ == "__main__":
    sys.exit(main())
