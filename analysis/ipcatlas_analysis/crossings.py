"""Where two curves cross, and how sure the repetitions let us be.

Two mechanisms A and B are measured at the same ascending message sizes, each
size several times (Google Benchmark repetitions). At each size the
repetitions either separate them (one is faster beyond the run-to-run noise)
or not (a tie). A crossing is a change of the separated winner; the sizes
between the old winner's last separated win and the new winner's first are the
interval the repetitions cannot decide. A production threshold chosen anywhere
in that interval is as good as any other the data can justify.

How "separated" is decided depends on how many repetitions each side has:

- 4 or more: a two-sided Mann-Whitney U test at level alpha, as `ipcatlas
  compare` uses (4 + 4 is the fewest with which p can go below 0.05);
- 2 or 3: the ranges [min, max] of the repetitions do not overlap;
- 1: the interval cannot be measured; the medians decide and the method says
  "single", so every table can warn.

That is for files without blocks. Where the mechanisms were measured in the
same blocks (blocked order), compare_sizes_paired() decides from the per-block
ratios instead (paired.py): only those survive a host that changes state.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from .paired import PairedTest, log_ratios, paired_test, separated
from .stats import SIGN_TEST, SIGNED_RANK, mann_whitney_p

A = "a"
B = "b"
TIE = "tie"
U_TEST = "u-test"
RANGES = "ranges"
SINGLE = "single"
MIN_U_TEST = 4
# Weakest first: a pair's method is the weakest one used at any of its sizes.
METHODS = (SINGLE, RANGES, U_TEST, SIGN_TEST, SIGNED_RANK)
Blocks = dict[object, float]  # block -> the value measured in it


@dataclass(frozen=True)
class SizeComparison:
    """A against B at one size."""

    size: int
    a_median: float
    b_median: float
    winner: str  # A, B or TIE (not separated)
    method: str  # U_TEST, RANGES, SINGLE, or a paired test's
    paired: PairedTest | None = None  # the per-block test, where A and B shared blocks


@dataclass(frozen=True)
class Crossing:
    """The separated winner changes from `before` to `after` between sizes `low` and `high`."""

    before: str  # A or B
    after: str
    low: int  # the largest size at which `before` wins, separated
    high: int  # the smallest size at which `after` wins, separated
    estimate: float  # where the median curves cross, log-interpolated, within [low, high]


def separate(a: Sequence[float], b: Sequence[float], lower_is_better: bool, alpha: float = 0.05) -> tuple[str, str]:
    """(winner, method) at one size from the repetitions of A and of B."""
    fewest = min(len(a), len(b))
    if fewest >= MIN_U_TEST:
        method, separated = U_TEST, mann_whitney_p(list(a), list(b)) < alpha
    elif fewest >= 2:
        method, separated = RANGES, max(a) < min(b) or max(b) < min(a)
    else:
        method, separated = SINGLE, statistics.median(a) != statistics.median(b)
    if not separated:
        return TIE, method
    a_better = statistics.median(a) < statistics.median(b)
    return (A if a_better == lower_is_better else B), method


def compare_sizes(sizes: Sequence[int], a: Sequence[Sequence[float]], b: Sequence[Sequence[float]],
                  lower_is_better: bool, alpha: float = 0.05) -> list[SizeComparison]:
    """separate() at every size; `a[i]` and `b[i]` are the repetitions at `sizes[i]` (ascending)."""
    compared = []
    for size, a_values, b_values in zip(sizes, a, b):
        winner, method = separate(a_values, b_values, lower_is_better, alpha)
        compared.append(SizeComparison(int(size), statistics.median(a_values), statistics.median(b_values),
                                       winner, method))
    return compared


def compare_sizes_paired(sizes: Sequence[int], a: Sequence[Blocks], b: Sequence[Blocks], lower_is_better: bool,
                         alpha: float = 0.05) -> list[SizeComparison]:
    """As compare_sizes, from the blocks A and B share at each size; sizes without a shared
    block are left out (nothing pairs them)."""
    compared = []
    for size, a_blocks, b_blocks in zip(sizes, a, b):
        ratios = log_ratios(a_blocks, b_blocks)
        if not ratios:
            continue
        test = paired_test(ratios, alpha)
        a_better = test.ratio < 1
        winner = (A if a_better == lower_is_better else B) if separated(test, alpha) else TIE
        shared = [block for block in a_blocks if block in b_blocks]
        compared.append(SizeComparison(int(size), statistics.median(a_blocks[k] for k in shared),
                                       statistics.median(b_blocks[k] for k in shared), winner, test.method, test))
    return compared


def find_crossings(compared: Sequence[SizeComparison]) -> list[Crossing]:
    """Every change of the separated winner, in size order; ties in between form the interval."""
    crossings = []
    last: SizeComparison | None = None
    for index, current in enumerate(compared):
        if current.winner == TIE:
            continue
        if last is not None and current.winner != last.winner:
            span = compared[compared.index(last):index + 1]
            crossings.append(Crossing(last.winner, current.winner, last.size, current.size, _estimate(span)))
        last = current
    return crossings


def weakest_method(compared: Sequence[SizeComparison]) -> str:
    """The least conclusive method used at any size ("" when nothing was compared)."""
    used = {c.method for c in compared}
    return next((m for m in METHODS if m in used), "")


def _estimate(span: Sequence[SizeComparison]) -> float:
    """Size where the median ratio A/B passes 1, interpolated in log(size) and log(ratio)
    between the two neighbouring sizes where it changes side; the geometric middle of
    the interval when the medians never change side (ties all the way)."""
    for left, right in zip(span, span[1:]):
        r_left, r_right = math.log(left.a_median / left.b_median), math.log(right.a_median / right.b_median)
        if r_left == 0:
            return float(left.size)
        if r_left * r_right < 0:
            fraction = r_left / (r_left - r_right)
            return float(2 ** (math.log2(left.size) + fraction * (math.log2(right.size) - math.log2(left.size))))
    return math.sqrt(span[0].size * span[-1].size)
