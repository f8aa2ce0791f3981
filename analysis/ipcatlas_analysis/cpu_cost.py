"""CPU cost per byte: the CPU time all ranks spent per message (user + system, the counter a
scenario declares as its `cpu_metric`), divided by the message size.

What it means depends on how the ranks waited. Under --wait block (and eventfd) a waiting rank
sleeps, so its CPU time is the work the message cost: copies, system calls, wake-ups. Under
--wait spin (and the spinning part of adaptive) a waiting rank polls, so its CPU time is about
its elapsed time whatever the message needed: the figure then shows ranks x time, not work.
"""
from __future__ import annotations

import pandas as pd

from .descriptors import LEGACY, Descriptors
from .load import OK

CPU_PER_BYTE = "cpu_ns_per_byte"  # a derived column (not a counter of the file)
SPINNING_WAITS = ("spin", "adaptive")


def add_cpu_per_byte(rows: pd.DataFrame, cells: pd.DataFrame,
                     descriptors: Descriptors = LEGACY) -> tuple[pd.DataFrame, pd.DataFrame]:
    """rows and cells with CPU_PER_BYTE (per repetition, and its median per cell) where the
    scenario declares a CPU metric and the size is above 0; unchanged where none does."""
    per_byte = pd.Series(float("nan"), index=rows.index)
    for scenario in rows["scenario"].dropna().unique() if "scenario" in rows else ():
        metric = descriptors.cpu_metric(str(scenario))
        if metric is None or metric not in rows:
            continue
        mine = (rows["scenario"] == scenario) & (rows["size"].astype(float) > 0)
        per_byte[mine] = rows.loc[mine, metric].astype(float) / rows.loc[mine, "size"].astype(float)
    if per_byte.isna().all():
        return rows, cells
    rows = rows.assign(**{CPU_PER_BYTE: per_byte})
    medians = rows[rows["status"] == OK].groupby("name")[CPU_PER_BYTE].median()
    return rows, cells.assign(**{CPU_PER_BYTE: cells["name"].map(medians)})


def includes_spinning(wait: str) -> bool:
    """Whether ranks that wait this way burn CPU while waiting (their CPU time is not the work)."""
    return wait in SPINNING_WAITS


def figure_note(wait: str) -> str:
    """The line under the CPU figure: what the CPU time includes under this wait policy."""
    base = "Lines: CPU time of all ranks (user + system) per message / size, median over repetitions; bands: min-max."
    if includes_spinning(wait):
        return base + f" wait {wait}: INCLUDES SPIN-WAITING (~ ranks x elapsed), not only the work: see wait block."
    return base + f" wait {wait}: waiting ranks sleep, so this is the work the messages cost."
