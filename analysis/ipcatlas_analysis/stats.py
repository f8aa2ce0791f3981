"""The statistical tests and intervals of the analysis, in one place (crossings, paired, compare
and gate use them; none of them knows about result files).

- Two independent samples (repetitions of two benchmarks, or of one benchmark in two runs):
  the two-sided Mann-Whitney U test (mann_whitney_p); with n + m values its smallest p is
  2 / C(n + m, n) (smallest_p), so it needs repetitions_needed(alpha) on each side.
- Paired differences (per-block log ratios A/B; per-benchmark log(NEW/BASE)): the exact
  Wilcoxon signed-rank test, two-sided with the sign test where distances tie (paired_p), or
  one-sided towards "slower" (signed_rank_p). Zero differences carry no direction and are
  dropped. With n differences either test's smallest p is 2/2^n two-sided (min_pairs) and
  1/2^n one-sided (min_pairs_one_sided).
- The median of paired differences: a distribution-free interval from order statistics with
  its exact binomial coverage (median_interval).
- Several tests at once: Holm's step-down levels (holm_levels).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from scipy.stats import binom, binomtest, mannwhitneyu, wilcoxon

SIGNED_RANK = "signed-rank"
SIGN_TEST = "sign-test"


# --- two independent samples ----------------------------------------------------------------

def mann_whitney_p(base: Sequence[float], new: Sequence[float]) -> float:
    """Two-sided Mann-Whitney U p-value; 1.0 when every value is equal (no evidence
    of a difference, where scipy's normal approximation would divide by zero)."""
    if len(set(base) | set(new)) == 1:
        return 1.0
    return float(mannwhitneyu(base, new, alternative="two-sided").pvalue)


def smallest_p(n_base: int, n_new: int) -> float:
    """The smallest two-sided p the exact U test can give for these sample sizes:
    below alpha only with enough repetitions (4 + 4 for 0.05)."""
    return 2 / math.comb(n_base + n_new, n_base)


def repetitions_needed(alpha: float) -> int:
    """The smallest n for which n + n repetitions can reach p < alpha."""
    n = 1
    while smallest_p(n, n) >= alpha:
        n += 1
    return n


# --- paired differences ---------------------------------------------------------------------

def min_pairs(alpha: float) -> int:
    """The fewest nonzero differences with which an exact two-sided test can reach p < alpha
    (2/2^n < alpha)."""
    return _fewest_signs(2 / alpha)


def min_pairs_one_sided(alpha: float) -> int:
    """The fewest nonzero differences with which an exact one-sided test can reach p < alpha
    (1/2^n < alpha)."""
    return _fewest_signs(1 / alpha)


def _fewest_signs(limit: float) -> int:
    """The smallest n with 2^n > limit: when every difference has one sign, p is 1/2^n per side."""
    return max(1, math.floor(math.log2(limit)) + 1)


def paired_method(differences: Sequence[float]) -> str:
    """The signed-rank test where it is exact; the sign test where distances to 0 tie."""
    distances = [abs(d) for d in _nonzero(differences)]
    return SIGNED_RANK if len(set(distances)) == len(distances) else SIGN_TEST


def paired_p(differences: Sequence[float]) -> tuple[str, float]:
    """(method, two-sided exact p) that the differences lean to one side of 0."""
    nonzero = _nonzero(differences)
    if not nonzero:
        return SIGNED_RANK, 1.0
    method = paired_method(nonzero)
    if method == SIGNED_RANK:
        return method, float(wilcoxon(nonzero, method="exact").pvalue)
    return method, float(binomtest(sum(d > 0 for d in nonzero), len(nonzero)).pvalue)


def signed_rank_p(differences: Sequence[float]) -> float:
    """One-sided signed-rank p that the differences lean above 0 (NEW slower)."""
    nonzero = _nonzero(differences)
    if not nonzero:
        return 1.0
    return float(wilcoxon(nonzero, alternative="greater").pvalue)


def _nonzero(differences: Sequence[float]) -> list[float]:
    """Zero differences carry no direction: dropped before scipy sees them (as zero_method
    "wilcox"; scipy's exact test would warn about them, and warnings are errors in the tests)."""
    return [d for d in differences if d != 0]


def median_interval(values: Sequence[float], confidence: float) -> tuple[float, float, float]:
    """(low, high, coverage): the narrowest order-statistic interval [x(k), x(n+1-k)] whose
    coverage of the median, 1 - 2 P(Binomial(n, 1/2) <= k - 1), reaches `confidence`; with too
    few values for that, the whole range and its lower coverage."""
    ordered = sorted(values)
    n = len(ordered)
    k = 1
    while k < (n + 1) // 2 and _coverage(n, k + 1) >= confidence:
        k += 1
    return ordered[k - 1], ordered[n - k], _coverage(n, k)


def _coverage(n: int, k: int) -> float:
    return float(max(0.0, 1 - 2 * binom.cdf(k - 1, n, 0.5)))


# --- several tests ----------------------------------------------------------------------------

def holm_levels(p_values: dict[str, float], alpha: float) -> dict[str, float]:
    """Holm's step-down levels: the k-th smallest p is held against alpha / (m - k), and the
    steps stop at the first that does not reject (later tests keep that level, so none rejects).
    Several groups are tested at once; without it one of ten would reject by chance at 0.05."""
    m = len(p_values)
    levels: dict[str, float] = {}
    stopped: float | None = None
    for k, name in enumerate(sorted(p_values, key=lambda n: p_values[n])):
        level = stopped if stopped is not None else alpha / (m - k)
        levels[name] = level
        if stopped is None and p_values[name] >= level:
            stopped = level
    return levels
