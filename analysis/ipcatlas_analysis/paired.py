"""Paired decisions: "A beats B at size s" from runs measured in the same block.

The host of a VM moves between states within seconds, so repetitions run back
to back measure the host, not the mechanism, and a U test over them separates
states as readily as mechanisms. In blocked order (README: "Run order and the
drift canary") every mechanism of a cell runs seconds apart in each block, so
the ratio A/B within one block cancels what the host did to both. The decision
rests on those per-block log ratios:

- an exact two-sided Wilcoxon signed-rank test (stats.paired_p) says
  whether the blocks agree on a direction; where two ratios are exactly as far
  from 1 (quantised or synthetic data), where the exact signed-rank test is not
  defined, the exact sign test decides instead;
- the median ratio comes with a distribution-free interval: order statistics
  of the ratios, whose exact coverage follows from the binomial distribution
  (stats.median_interval).

Either test's smallest two-sided p with n pairs is 2/2^n: 5 blocks can never
reach p < 0.05 (0.0625), 6 can (0.031), 9 give 0.0039. With fewer blocks than
min_pairs(alpha) the test is not run and the verdict stays undecided.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from .stats import median_interval, min_pairs, paired_method, paired_p

SUGGESTED_REPETITIONS = 9  # p down to 0.0039: one state's worth of blocks survives a few lost to the other


@dataclass(frozen=True)
class PairedTest:
    """A against B over the blocks both were measured in."""

    pairs: int
    p: float | None  # None: fewer pairs than min_pairs(alpha), not tested
    method: str  # stats.SIGNED_RANK or stats.SIGN_TEST
    ratio: float  # median of A/B over the pairs
    low: float  # interval of the median ratio, from order statistics
    high: float
    confidence: float  # the interval's exact coverage (below 1 - alpha with few pairs)


def too_few_text(pairs: int, alpha: float) -> str:
    """Why a verdict is undecided for want of blocks, with the fix."""
    return (f"too few blocks: {pairs} (an exact two-sided test at alpha {alpha:g} needs {min_pairs(alpha)}); "
            f"rerun with --benchmark_repetitions={max(SUGGESTED_REPETITIONS, min_pairs(alpha))}")


def log_ratios(a: dict[object, float], b: dict[object, float]) -> list[float]:
    """log(A/B) for every block in which both were measured (values must be > 0)."""
    return [math.log(a[block] / b[block]) for block in a if block in b]


def paired_test(ratios: Sequence[float], alpha: float) -> PairedTest:
    """Test and interval from per-block log ratios (at least one)."""
    values = sorted(ratios)
    low, high, confidence = median_interval(values, 1 - alpha)
    method, p = paired_p(values) if len(values) >= min_pairs(alpha) else (paired_method(values), None)
    return PairedTest(len(values), p, method, math.exp(statistics.median(values)), math.exp(low), math.exp(high),
                      confidence)


def separated(test: PairedTest, alpha: float) -> bool:
    """Whether the blocks agree on a direction at level alpha."""
    return test.p is not None and test.p < alpha
