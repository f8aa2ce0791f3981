"""Hot and cold caches (`ipcatlas run --cache hot,cold`): which rows are which, and their
crossovers side by side.

A cold cell's benchmark name carries `cache:cold`; a hot one carries no cache key, so that the
names of runs made before --cache existed still match. The key lands in a group's variant
("ranks:2/cache:cold"), which keeps every crossover and setting within one cache state.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .tables import Table
from .thresholds import UNDECIDED, Crossover, describe, group_title

HOT = "hot"
COLD = "cold"
COLD_KEY = "cache:cold"


def cache_of(variant: str) -> str:
    """"cold" for a variant with cache:cold, else "hot" (no key: buffers reused)."""
    return COLD if COLD_KEY in str(variant).split("/") else HOT


def without_cache(variant: str) -> str:
    """The variant with its cache key removed: what a hot and a cold group have in common."""
    return "/".join(part for part in str(variant).split("/") if part and not part.startswith("cache:"))


def caches(rows: pd.DataFrame) -> pd.Series:
    """The cache state of every row of a load_results() table."""
    return rows["variant"].map(cache_of) if len(rows) else pd.Series([], dtype=object)


def verdict(c: Crossover | None) -> str:
    if c is None:
        return "not measured"
    return f"undecided ({c.reason})" if c.kind == UNDECIDED else describe(c)


def side_by_side(found: Sequence[Crossover]) -> Table | None:
    """One row per mechanism and group measured both hot and cold: where it beats the baseline
    with buffers reused, and where with buffers rotated through a pool larger than the cache.
    None when no group was measured both ways."""
    pairs: dict[tuple[str, ...], dict[str, Crossover]] = {}
    for c in found:
        key = (c.scenario, c.placement, c.wait, without_cache(c.variant), c.state, c.challenger, c.baseline)
        pairs.setdefault(key, {})[cache_of(c.variant)] = c
    rows = [[challenger, group_title(scenario, placement, wait, variant) + (f", state {state}" if state else ""),
             verdict(both.get(HOT)), verdict(both.get(COLD))]
            for (scenario, placement, wait, variant, state, challenger, _), both in sorted(pairs.items())
            if HOT in both and COLD in both]
    if not rows:
        return None
    baseline = found[0].baseline
    return Table(f"Crossovers against {baseline}, hot and cold caches side by side",
                 ["mechanism", "group", f"hot: beats {baseline} from", f"cold: beats {baseline} from"], rows,
                 "hot: every message reuses one buffer at each end (as OSU and ucx_perftest measure). cold: every "
                 "message is sent from and received into another buffer of a pool twice the last-level cache, as "
                 "production traffic mostly is (IMB's -off_cache). A threshold for production follows the cold "
                 "column, unless the application sends the same few buffers over and over.")
