"""Crossover sizes: from which message size one mechanism beats another for good.

Production runtimes switch transport at one size threshold (an eager or
rendezvous limit), so the useful number is not "where the curves touch" but
the smallest size from which the challenger wins at every larger size.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import pandas as pd

from .cells import BANDWIDTH, ok_cells, time_metric
from .units import format_ns, format_size, json_safe

CROSSOVER = "crossover"
ALWAYS = "always"
NEVER = "never"
NO_COMMON_SIZES = "no common sizes"
GROUP_COLUMNS = ("scenario", "placement", "wait", "variant")
# The floor every mechanism is judged against (the message is built in shared
# memory, nothing moves), not a way to move an arbitrary buffer: it would win
# every "fastest" row and hide the real choice.
REFERENCES = ("zerocopy",)

# What a crossover against shm tells a user to set. Explanatory text only.
KNOBS = {
    "cma-read": (
        "shm vs cma-read (single copy, receiver pulls with process_vm_readv): Open MPI btl/sm "
        "eager limit `btl_sm_eager_limit` (`btl_vader_eager_limit` before v5), above which the "
        "smsc single-copy component (`--mca smsc cma`) takes over; MPICH "
        "`MPIR_CVAR_CH4_IPC_CMA_P2P_THRESHOLD`; UCX `UCX_RNDV_THRESH=intra:SIZE` "
        "(rendezvous inside a node uses the cma/knem/xpmem transports)."
    ),
    "cma-write": (
        "shm vs cma-write (single copy, sender pushes with process_vm_writev): the same knobs "
        "as cma-read (Open MPI `btl_sm_eager_limit` + smsc, MPICH "
        "`MPIR_CVAR_CH4_IPC_CMA_P2P_THRESHOLD`, UCX `UCX_RNDV_THRESH=intra:SIZE`) for "
        "runtimes whose rendezvous protocol puts rather than gets."
    ),
}


@dataclass(frozen=True)
class Crossover:
    """Whether and from which size `faster` beats `slower` in one group of cells."""

    scenario: str
    placement: str
    wait: str
    variant: str  # other name keys, e.g. "ranks:2"
    faster: str  # the challenger
    slower: str  # the baseline it is compared with
    metric: str
    kind: str  # crossover, always, never or no common sizes
    size: int | None  # first size of the final winning run (smallest size for "always")
    margin: float | None  # how many times faster `faster` is at `size`
    sizes_compared: int


def find_crossover(sizes: Sequence[int], challenger: Sequence[float], baseline: Sequence[float],
                   lower_is_better: bool) -> tuple[str, int | None, float | None]:
    """Kind, size and margin for values measured at ascending `sizes`.

    Walks back from the largest size while the challenger keeps winning; a win
    at a small size followed by a loss does not count. Ties are not wins.
    """
    wins = [(c < b) if lower_is_better else (c > b) for c, b in zip(challenger, baseline)]
    if not wins:
        return NO_COMMON_SIZES, None, None
    if not wins[-1]:
        return NEVER, None, None
    start = len(wins) - 1
    while start > 0 and wins[start - 1]:
        start -= 1
    c, b = challenger[start], baseline[start]
    margin = float(b / c if lower_is_better else c / b)
    return (ALWAYS if start == 0 else CROSSOVER), int(sizes[start]), margin


def pair_values(group: pd.DataFrame, challenger: str, baseline: str, metric: str) -> pd.DataFrame:
    """Sizes both mechanisms measured ok with a positive value of `metric`, ascending;
    columns "challenger" and "baseline"."""
    usable = group[group[metric].notna() & (group[metric] > 0)] if metric in group else group.iloc[0:0]
    sides = {role: usable[usable["mechanism"] == mech].set_index("size")[metric]
             for role, mech in (("challenger", challenger), ("baseline", baseline))}
    return pd.DataFrame(sides).dropna().sort_index()


def compare_pair(group: pd.DataFrame, challenger: str, baseline: str) -> Crossover:
    """Crossover of `challenger` over `baseline` in one group of ok cells.

    Compares time (lower wins) when both have it, else bytes_per_second (higher wins).
    """
    metric = time_metric(group) or BANDWIDTH
    values = pair_values(group, challenger, baseline, metric)
    if values.empty and metric != BANDWIDTH:
        metric = BANDWIDTH
        values = pair_values(group, challenger, baseline, metric)
    kind, size, margin = find_crossover(list(values.index), list(values["challenger"]),
                                        list(values["baseline"]), lower_is_better=metric != BANDWIDTH)
    first = group.iloc[0]
    return Crossover(first["scenario"], first["placement"], first["wait"], first["variant"],
                     challenger, baseline, metric, kind, size, margin, len(values))


def crossovers(cells: pd.DataFrame, baseline: str = "shm") -> list[Crossover]:
    """Crossover of every other mechanism over `baseline`, per (scenario, placement,
    wait, variant) group in which the baseline has ok cells; failed and skipped
    cells never take part."""
    found = []
    for _, group in ok_cells(cells).groupby(list(GROUP_COLUMNS), sort=True):
        mechanisms = sorted(set(group["mechanism"]))
        if baseline in mechanisms:
            found.extend(compare_pair(group, m, baseline) for m in mechanisms if m != baseline)
    return found


def fastest_by_size(cells: pd.DataFrame, exclude: Sequence[str] = REFERENCES) -> pd.DataFrame:
    """For each group and size, the fastest ok mechanism not in `exclude`, its value,
    the runner-up and how many times faster the winner is (NaN when it ran alone)."""
    records = []
    ok = ok_cells(cells)
    candidates = ok[~ok["mechanism"].isin(exclude)]
    for _, group in candidates.groupby([*GROUP_COLUMNS, "size"], sort=True):
        metric = time_metric(group) or BANDWIDTH
        ranked = group[group[metric].notna()].sort_values(metric, ascending=metric != BANDWIDTH, kind="stable")
        if ranked.empty:
            continue
        best = ranked.iloc[0]
        second = ranked.iloc[1] if len(ranked) > 1 else None
        margin = float("nan") if second is None else _ratio(best[metric], second[metric], metric)
        records.append({**{c: best[c] for c in GROUP_COLUMNS}, "size": int(best["size"]),
                        "fastest": best["mechanism"], "metric": metric, "value": best[metric],
                        "runner_up": "" if second is None else second["mechanism"], "margin": margin})
    return pd.DataFrame(records, columns=[*GROUP_COLUMNS, "size", "fastest", "metric", "value", "runner_up", "margin"])


def to_records(found: Sequence[Crossover]) -> list[dict[str, object]]:
    """Crossovers as plain dicts for JSON."""
    return [json_safe(asdict(c)) for c in found]


def describe(crossover: Crossover) -> str:
    """"16K", "always (from 1)", "never" or "no common sizes", for tables."""
    if crossover.kind == CROSSOVER and crossover.size is not None:
        return format_size(crossover.size)
    if crossover.kind == ALWAYS and crossover.size is not None:
        return f"always (from {format_size(crossover.size)})"
    return crossover.kind


def to_markdown(found: Sequence[Crossover], fastest: pd.DataFrame, baseline: str = "shm") -> str:
    """thresholds.md: a crossover table and a fastest-per-size table per group, then notes."""
    lines = ["# Crossover thresholds", "",
             f"\"A beats {baseline} from S\": A is faster than {baseline} at size S and at every larger size "
             "both measured with status ok (lower time, or higher bytes_per_second when there is no time). "
             "Margin: how many times faster A is at S. Sizes: K, M = 2^10, 2^20 bytes. "
             f"Fastest-per-size tables leave out {', '.join(REFERENCES)}: the zero-copy floor that every "
             "mechanism is judged against, not a way to move a buffer.", ""]
    if not found:
        lines += [f"No crossover: {baseline} and another mechanism were never both measured ok in one group.", ""]
    for title, group in _by_group(found):
        lines += [f"## {title}", "", "| mechanism | beats " + baseline + " from | margin | sizes compared | metric |",
                  "| --- | --- | --- | --- | --- |"]
        lines += [f"| {c.faster} | {describe(c)} | {format_margin(c.margin)} | {c.sizes_compared} | {c.metric} |"
                  for c in group]
        lines.append("")
    lines += _fastest_markdown(fastest)
    notes = knob_notes(found, baseline)
    if notes:
        lines += ["## Production knobs these thresholds inform", ""] + [f"- {note}" for note in notes] + [""]
    return "\n".join(lines)


def knob_notes(found: Sequence[Crossover], baseline: str) -> list[str]:
    """The KNOBS notes for the mechanisms compared with shm (they only make sense against shm)."""
    if baseline != "shm":
        return []
    return [KNOBS[m] for m in sorted({c.faster for c in found}) if m in KNOBS]


def group_title(scenario: str, placement: str, wait: str, variant: str) -> str:
    """"pingpong, placement l3, wait spin, ranks:2": a heading for one group."""
    parts = [scenario, f"placement {placement or 'any'}", f"wait {wait or 'any'}"]
    return ", ".join(parts + ([variant] if variant else []))


def _by_group(found: Sequence[Crossover]) -> list[tuple[str, list[Crossover]]]:
    groups: dict[str, list[Crossover]] = {}
    for c in found:
        groups.setdefault(group_title(c.scenario, c.placement, c.wait, c.variant), []).append(c)
    return list(groups.items())


def _fastest_markdown(fastest: pd.DataFrame) -> list[str]:
    lines: list[str] = []
    for key, group in fastest.groupby(list(GROUP_COLUMNS), sort=True):
        lines += [f"## Fastest per size: {group_title(*key)}", "",
                  "| size | fastest | value | runner-up | margin |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| {format_size(r.size)} | {r.fastest} | {format_value(r.value, r.metric)} | "
                  f"{r.runner_up or '–'} | {format_margin(r.margin)} |" for r in group.itertuples()]
        lines.append("")
    return lines


def _ratio(best: float, other: float, metric: str) -> float:
    return other / best if metric != BANDWIDTH else best / other


def format_margin(margin: float | None) -> str:
    """"1.22x", or "–" where there is no margin."""
    return "–" if margin is None or pd.isna(margin) else f"{margin:.2f}x"


def format_value(value: float, metric: str) -> str:
    """A metric value with its unit: bandwidth in GB/s (SI), times in ns."""
    return f"{value / 1e9:.3g} GB/s" if metric == BANDWIDTH else f"{format_ns(value)} ({metric})"
