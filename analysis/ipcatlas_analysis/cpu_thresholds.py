"""The CPU view of `thresholds`: the size from which each single-copy mechanism costs less CPU
per message than the baseline (shm), all ranks together, user + system.

This is not the time crossover. A mechanism can deliver a message sooner and burn more CPU
doing it, or the reverse: a single copy saves one pass over the bytes, but a system call and
the pinning of pages cost CPU too. It is decided with the same care as the time crossovers
(thresholds.py): per block where the runs share blocks, and UNDECIDED with the reason
otherwise; files without blocks give no CPU verdict at all, since CPU time moves with the
host's state just as time does. Which mechanisms are single copies, and which counter is the
CPU per message, the result files' descriptors say.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import pandas as pd

from .cpu_cost import includes_spinning
from .descriptors import LEGACY, Descriptors
from .tables import Table
from .thresholds import (NO_COMMON_SIZES, UNDECIDED, Crossover, compare_pair, describe, format_margin, group_title,
                         groups, undecided)

UNPAIRED = ("no blocks (files written in sequential or interleaved order, or by an older ipcatlas): the CPU view "
            "decides only from runs measured in the same block")
HEADERS = ["single-copy mechanism", "costs less CPU than {baseline} from", "undecided (≈ crossing)",
           "CPU ratio there", "sizes", "blocks (method)"]


def cpu_metric_of(descriptors: Descriptors) -> Callable[[pd.DataFrame], str | None]:
    """For thresholds.groups(): the CPU counter the group's scenario declares, if it has values."""
    def metric(rows: pd.DataFrame) -> str | None:
        scenarios = sorted(str(s) for s in rows["scenario"].dropna().unique())
        found = descriptors.cpu_metric(scenarios[0]) if scenarios else None
        return found if found is not None and found in rows and rows[found].notna().any() else None
    return metric


def cpu_crossovers(rows: pd.DataFrame, baseline: str = "shm", alpha: float = 0.05,
                   descriptors: Descriptors = LEGACY) -> list[Crossover]:
    """Every single-copy mechanism against `baseline` on CPU per message, per group and state."""
    found: list[Crossover] = []
    for group in groups(rows, descriptors, cpu_metric_of(descriptors)):
        mechanisms = group.mechanisms()
        if baseline not in mechanisms:
            continue
        found += [paired_only(compare_pair(group, m, baseline, alpha)) for m in mechanisms
                  if m != baseline and descriptors.single_copy(m)]
    return found


def paired_only(c: Crossover) -> Crossover:
    """An unpaired comparison gives no CPU verdict: undecided, with the reason."""
    if c.paired or c.kind == NO_COMMON_SIZES:
        return c
    return replace(c, kind=UNDECIDED, size=None, below=None, low=None, estimate=None, margin=None, reason=UNPAIRED)


def cpu_tables(found: Sequence[Crossover], baseline: str, state_label: Callable[[str], str]) -> list[Table]:
    """One table per group, titled so that it cannot be read as the time crossover."""
    by_title: dict[str, list[Crossover]] = {}
    for c in found:
        title = ", ".join(t for t in (group_title(c.scenario, c.placement, c.wait, c.variant), state_label(c.state))
                          if t)
        by_title.setdefault(title, []).append(c)
    headers = [h.format(baseline=baseline) for h in HEADERS]
    return [Table(f"CPU view (not the time crossover): CPU per message against {baseline}: {title}", headers,
                  [row(c) for c in rows], note(rows[0].wait)) for title, rows in by_title.items()]


def row(c: Crossover) -> list[str]:
    verdict = f"undecided ({c.reason})" if c.kind == UNDECIDED else describe(c)
    margin = format_margin(c.margin)
    if c.margin_low is not None and c.margin_high is not None and c.confidence is not None:
        margin += f" ({c.margin_low:.2f}–{c.margin_high:.2f}x, {c.confidence:.0%})"
    evidence = f"{c.pairs} blocks ({c.method})" if c.paired else f"{c.repetitions} repetitions (unpaired)"
    return [c.challenger, verdict, undecided(c), margin, str(c.sizes_compared), evidence]


def note(wait: str) -> str:
    """What the CPU compared here is, and what it includes under this wait policy."""
    what = ("CPU = the CPU time (user + system, getrusage) of all ranks over the measured rounds, per message "
            "delivered; \"costs less CPU from S\": the mechanism spends less CPU per message than the baseline "
            "at S and the blocks never show the baseline cheaper at a larger size. Ratio: how many times less "
            "CPU (median per-block ratio, interval, coverage).")
    if includes_spinning(wait):
        return what + (f" Under wait {wait} a waiting rank spins, so its CPU time includes the spinning (about "
                       "ranks x elapsed time) and this view mostly repeats the time crossover: read it under "
                       "--wait block.")
    return what + f" Under wait {wait} waiting ranks sleep: this is the work the messages cost."
