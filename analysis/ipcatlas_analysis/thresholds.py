"""Crossover sizes between mechanisms and the fastest mechanism per size range.

Production runtimes switch transport at one size threshold (an eager or
rendezvous limit), so the useful number is the size from which the
challenger wins for good, together with the interval of sizes the
repetitions cannot decide (see crossings.py for the statistics).

Works on the per-repetition table of load.load_results() (plus imported peer
rows), never on medians alone: separation needs the repetitions. Where two
mechanisms were measured in the same blocks, the pairs decide (paired.py);
where the canary found two host states, each state is a group of its own
(states.py), and blocks that saw both are left out.
"""
from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field

import pandas as pd

from .cells import BANDWIDTH, PREFERRED_TIME, time_metric
from .crossings import (A, B, TIE, Blocks, Crossing, SizeComparison, compare_sizes, compare_sizes_paired,
                        find_crossings, weakest_method)
from .descriptors import LEGACY, Descriptors
from .load import OK
from .paired import too_few_text
from .peers import PEER_PREFIX
from .states import MIXED, STATE, block_keys, mixed_blocks, with_states
from .stats import min_pairs
from .units import format_size, json_safe

CROSSOVER = "crossover"
ALWAYS = "always"
NEVER = "never"
NOT_SEPARATED = "not separated"
NO_COMMON_SIZES = "no common sizes"
UNDECIDED = "undecided"  # paired: too few blocks, or the blocks disagree at every size
GROUP_COLUMNS = ("scenario", "placement", "wait", "variant")

Values = dict[tuple[str, int], list[float]]  # (mechanism, size) -> repetitions


@dataclass(frozen=True)
class Crossover:
    """Whether, and from which size, `challenger` beats `baseline` in one group."""

    scenario: str
    placement: str
    wait: str
    variant: str  # other name keys, e.g. "ranks:2"
    challenger: str
    baseline: str
    metric: str
    kind: str  # CROSSOVER, ALWAYS, NEVER, NOT_SEPARATED, NO_COMMON_SIZES or UNDECIDED
    size: int | None  # challenger wins from here on (separated), baseline never again
    below: int | None  # the largest compared size under `size` (an "up to" limit just under the switch)
    low: int | None  # CROSSOVER: the largest size at which the baseline still wins
    estimate: float | None  # CROSSOVER: where the median curves cross, within [low, size]
    margin: float | None  # how many times faster the challenger is at `size`
    crossings: list[Crossing]  # every change of the separated winner (A = challenger)
    sizes_compared: int
    repetitions: int  # the fewest repetitions behind any compared size
    method: str  # the weakest separation method used (crossings.METHODS)
    state: str = ""  # the host's canary state ("0", "1"), "" where the run found one
    pairs: int = 0  # paired: the fewest blocks behind any compared size; 0: unpaired (no shared blocks)
    excluded_blocks: int = 0  # blocks left out because the canary changed state inside them
    reason: str = ""  # UNDECIDED: why
    margin_low: float | None = None  # paired: interval of the margin at `size` (order statistics)
    margin_high: float | None = None
    confidence: float | None = None  # that interval's exact coverage
    verdicts: tuple[SizeComparison, ...] = ()  # the verdict at every compared size

    @property
    def paired(self) -> bool:
        return self.pairs > 0


@dataclass(frozen=True)
class Group:
    """The ok rows of one (scenario, placement, wait, variant) and the metric they are compared on."""

    key: tuple[str, str, str, str]
    metric: str
    values: Values
    state: str = ""
    blocks: dict[tuple[str, int], Blocks] = field(default_factory=dict)  # rows that have a block
    excluded: int = 0  # mixed-state blocks left out

    @property
    def lower_is_better(self) -> bool:
        return self.metric != BANDWIDTH

    def mechanisms(self) -> list[str]:
        return sorted({mechanism for mechanism, _ in self.values})

    def sizes(self, mechanism: str) -> list[int]:
        return sorted(size for m, size in self.values if m == mechanism)

    def shares_blocks(self, a: str, b: str) -> bool:
        """Whether a and b were measured in the same block at some size: then pairs decide."""
        return any(set(blocks) & set(self.blocks.get((b, size), {}))
                   for (m, size), blocks in self.blocks.items() if m == a)

    def compare(self, a: str, b: str, sizes: Sequence[int], alpha: float) -> list[SizeComparison]:
        """a against b at `sizes`: paired where they share blocks, else over the repetitions."""
        if self.shares_blocks(a, b):
            return compare_sizes_paired(sizes, [self.blocks.get((a, s), {}) for s in sizes],
                                        [self.blocks.get((b, s), {}) for s in sizes], self.lower_is_better, alpha)
        return compare_sizes(sizes, [self.values[(a, s)] for s in sizes], [self.values[(b, s)] for s in sizes],
                             self.lower_is_better, alpha)


def comparison_metric(rows: pd.DataFrame, descriptors: Descriptors = LEGACY) -> str | None:
    """one_way_ns where measured (ping-pong); else bytes_per_second, the quantity a
    streaming or collective pattern is about; else the scenario's time metric."""
    present = [m for m in (PREFERRED_TIME, BANDWIDTH) if m in rows and rows[m].notna().any()]
    return present[0] if present else time_metric(rows, descriptors)


def groups(rows: pd.DataFrame, descriptors: Descriptors = LEGACY,
           metric_of: Callable[[pd.DataFrame], str | None] | None = None) -> Iterator[Group]:
    """The ok rows with a size, per group and canary state, as repetition lists of the
    comparison metric, or of `metric_of(group rows)` (and per block where they have one)."""
    rows = with_states(rows)
    usable = rows[(rows["status"] == OK) & rows["size"].notna()]
    for key, group in usable.groupby(list(GROUP_COLUMNS), sort=True):
        metric = metric_of(group) if metric_of else comparison_metric(group, descriptors)
        if metric is None:
            continue
        positive = group[group[metric].notna() & (group[metric] > 0)]
        excluded = mixed_blocks(positive)
        for state, mine in positive[positive[STATE] != MIXED].groupby(STATE, sort=True):
            values = {(str(m), int(s)): list(v) for (m, s), v in mine.groupby(["mechanism", "size"])[metric]}
            yield Group(tuple(str(k) for k in key), metric, values, str(state),  # type: ignore[arg-type]
                        by_block(mine, metric), excluded)


def by_block(rows: pd.DataFrame, metric: str) -> dict[tuple[str, int], Blocks]:
    """(mechanism, size) -> {block: value} for the rows that have a block."""
    found: dict[tuple[str, int], Blocks] = {}
    for mechanism, size, block, value in zip(rows["mechanism"], rows["size"], block_keys(rows), rows[metric]):
        if block is not None:
            found.setdefault((str(mechanism), int(size)), {})[block] = float(value)
    return found


def compare_pair(group: Group, challenger: str, baseline: str, alpha: float = 0.05) -> Crossover:
    """Crossover of `challenger` (A) over `baseline` (B) at the sizes both measured."""
    sizes = sorted(set(group.sizes(challenger)) & set(group.sizes(baseline)))
    compared = group.compare(challenger, baseline, sizes, alpha)
    crossings = find_crossings(compared)
    kind, size, low, estimate = classify(compared, crossings)
    pairs = min((c.paired.pairs for c in compared if c.paired is not None), default=0)
    reason = undecided_reason(compared, kind, alpha) if pairs else ""
    if reason:
        kind, size, low, estimate = UNDECIDED, None, None, None
    at_size = next((c for c in compared if c.size == size), None)
    fewest = min((min(len(group.values[(challenger, s)]), len(group.values[(baseline, s)])) for s in sizes),
                 default=0)
    below = max((s for s in sizes if size is not None and s < size), default=None)
    margin, margin_low, margin_high, confidence = margins(at_size, group.lower_is_better)
    return Crossover(*group.key, challenger, baseline, group.metric, kind, size, below, low, estimate, margin,
                     crossings, len(compared), fewest, weakest_method(compared), group.state, pairs, group.excluded,
                     reason, margin_low, margin_high, confidence, tuple(compared))


def undecided_reason(compared: Sequence[SizeComparison], kind: str, alpha: float) -> str:
    """Why a paired comparison decides nothing ("" when it decides): no size had blocks enough
    for the test to reach alpha, or the blocks disagree at every size."""
    most = max(c.paired.pairs for c in compared if c.paired is not None)
    if most < min_pairs(alpha):
        return too_few_text(most, alpha)
    if kind == NOT_SEPARATED:
        return f"the blocks disagree at every size (no paired test reaches p < {alpha:g})"
    if kind == NEVER and compared[-1].winner == TIE:
        # "Never" would claim the sizes the test could not decide: the challenger may win there.
        last_lost = max(c.size for c in compared if c.winner == B)
        first_open = min(c.size for c in compared if c.size > last_lost)
        return (f"the baseline is faster up to {format_size(last_lost)}; from {format_size(first_open)} "
                f"the blocks do not separate them (no paired test reaches p < {alpha:g})")
    return ""


def margins(at: SizeComparison | None,
            lower_is_better: bool) -> tuple[float | None, float | None, float | None, float | None]:
    """(margin, low, high, coverage) at the crossover size: how many times faster the challenger
    is; paired, the median of the per-block ratios and its interval."""
    if at is None:
        return None, None, None, None
    if at.paired is None:
        return _margin(at, lower_is_better), None, None, None
    test = at.paired
    if lower_is_better:
        return 1 / test.ratio, 1 / test.high, 1 / test.low, test.confidence
    return test.ratio, test.low, test.high, test.confidence


def classify(compared: Sequence[SizeComparison],
             crossings: Sequence[Crossing]) -> tuple[str, int | None, int | None, float | None]:
    """(kind, size, low, estimate) from the per-size verdicts, A being the challenger."""
    if not compared:
        return NO_COMMON_SIZES, None, None, None
    decided = [c for c in compared if c.winner != TIE]
    if not decided:
        return NOT_SEPARATED, None, None, None
    if decided[-1].winner == B:
        return NEVER, None, None, None
    if not any(c.winner == B for c in decided):
        return ALWAYS, decided[0].size, None, None
    last = crossings[-1]
    return CROSSOVER, last.high, last.low, last.estimate


def crossovers(rows: pd.DataFrame, baseline: str = "shm", alpha: float = 0.05,
               descriptors: Descriptors = LEGACY) -> list[Crossover]:
    """Every other mechanism (single-copy ones first) against `baseline`, per group that has it."""
    found: list[Crossover] = []
    for group in groups(rows, descriptors):
        mechanisms = group.mechanisms()
        if baseline in mechanisms:
            found.extend(compare_pair(group, m, baseline, alpha)
                         for m in challenger_order(mechanisms, baseline, descriptors))
    return found


def crossovers_between(rows: pd.DataFrame, challenger: str, baseline: str, alpha: float = 0.05,
                       descriptors: Descriptors = LEGACY) -> list[Crossover]:
    """`challenger` against `baseline` in every group that has both."""
    return [compare_pair(group, challenger, baseline, alpha) for group in groups(rows, descriptors)
            if {challenger, baseline} <= set(group.mechanisms())]


def all_pairs(rows: pd.DataFrame, alpha: float = 0.05, descriptors: Descriptors = LEGACY) -> list[Crossover]:
    """Every pair of mechanisms in every group (challenger sorts after baseline)."""
    found: list[Crossover] = []
    for group in groups(rows, descriptors):
        mechanisms = group.mechanisms()
        found.extend(compare_pair(group, challenger, baseline, alpha)
                     for i, baseline in enumerate(mechanisms) for challenger in mechanisms[i + 1:])
    return found


def challenger_order(mechanisms: Sequence[str], baseline: str, descriptors: Descriptors = LEGACY) -> list[str]:
    """The single-copy mechanisms a runtime can switch to above its eager limit first (the
    decision users make), then the others, then peers."""
    others = [m for m in mechanisms if m != baseline]
    return sorted(others, key=lambda m: (m.startswith(PEER_PREFIX), not descriptors.single_copy(m), m))


def fastest_ranges(rows: pd.DataFrame, alpha: float = 0.05, exclude: Sequence[str] | None = None,
                   descriptors: Descriptors = LEGACY) -> pd.DataFrame:
    """Per group, the size ranges over which one mechanism is the fastest (by median),
    and at how many of those sizes the repetitions separate it from the runner-up.

    Left out: `exclude`, by default the references (zerocopy: the floor every mechanism is
    judged against, where the message is built in place and nothing moves; it would win every
    row and hide the real choice), and imported peers: neither is a way to move a buffer that
    a runtime could choose.
    """
    exclude = descriptors.references() if exclude is None else exclude
    records: list[dict[str, object]] = []
    for group in groups(rows, descriptors):
        winners = [w for w in per_size_winners(group, alpha, exclude) if w is not None]
        for start in range(len(winners)):
            if start and winners[start][1] == winners[start - 1][1]:
                continue
            end = start
            while end + 1 < len(winners) and winners[end + 1][1] == winners[start][1]:
                end += 1
            run = winners[start:end + 1]
            records.append({**dict(zip(GROUP_COLUMNS, group.key)), STATE: group.state, "mechanism": run[0][1],
                            "metric": group.metric,
                            "from_size": run[0][0], "to_size": run[-1][0], "sizes": len(run),
                            "separated": sum(1 for w in run if w[2]), "to_largest": end == len(winners) - 1})
    columns = [*GROUP_COLUMNS, STATE, "mechanism", "metric", "from_size", "to_size", "sizes", "separated", "to_largest"]
    return pd.DataFrame(records, columns=columns)


def per_size_winners(group: Group, alpha: float, exclude: Sequence[str]) -> list[tuple[int, str, bool] | None]:
    """(size, fastest mechanism, separated from the runner-up) per size; None where nobody ran."""
    candidates = [m for m in group.mechanisms() if m not in exclude and not m.startswith(PEER_PREFIX)]
    sizes = sorted({s for m in candidates for s in group.sizes(m)})
    winners: list[tuple[int, str, bool] | None] = []
    for size in sizes:
        present = [m for m in candidates if (m, size) in group.values]
        ranked = sorted(present, key=lambda m: statistics.median(group.values[(m, size)]),
                        reverse=not group.lower_is_better)
        if not ranked:
            winners.append(None)
            continue
        separated = len(ranked) == 1 or [c.winner for c in group.compare(ranked[0], ranked[1], [size], alpha)] == [A]
        winners.append((size, ranked[0], separated))
    return winners


def to_records(found: Sequence[Crossover]) -> list[dict[str, object]]:
    """Crossovers as plain dicts for JSON (crossings as nested dicts)."""
    return [json_safe(asdict(c)) for c in found]


def describe(c: Crossover) -> str:
    """"16K", "always (from 1)", "never", ...: the 'beats from' cell of a table."""
    if c.kind in (CROSSOVER, ALWAYS) and c.size is not None:
        return format_size(c.size) if c.kind == CROSSOVER else f"always (from {format_size(c.size)})"
    window = win_window(c)
    if window is not None:
        start, end, resume = window
        return f"only {format_size(start)}–{format_size(end)} ({c.baseline} again from {format_size(resume)})"
    return c.kind


def win_window(c: Crossover) -> tuple[int, int, int] | None:
    """For a challenger that wins a middle range of sizes and then loses again ("never" for
    good): (first size it wins, last size it wins, first size the baseline wins again)."""
    if c.kind != NEVER or len(c.crossings) < 2 or c.crossings[-1].after != B:
        return None
    won, lost = c.crossings[-2], c.crossings[-1]
    return (won.high, lost.low, lost.high) if won.after == A else None


def undecided(c: Crossover) -> str:
    """The interval the repetitions cannot decide: "4K-16K (≈ 11K)", or "–"."""
    if c.kind != CROSSOVER or c.low is None or c.size is None or c.estimate is None:
        return "–"
    return f"{format_size(c.low)}–{format_size(c.size)} (≈ {format_size(round_size(c.estimate))})"


def round_size(size: float) -> int:
    """A crossing estimate to three significant binary digits (10.2K -> 10K), as a size a user can type."""
    if size < 8:
        return max(1, round(size))
    step = 1 << (int(size).bit_length() - 3)
    return int(round(size / step) * step)


def group_title(scenario: str, placement: str, wait: str, variant: str) -> str:
    """"pingpong, placement l3, wait spin, ranks:2": a heading for one group."""
    parts = [scenario, f"placement {placement or 'any'}", f"wait {wait or 'any'}"]
    return ", ".join(parts + ([variant] if variant else []))


def format_margin(margin: float | None) -> str:
    """"1.22x", or "–" where there is no margin."""
    return "–" if margin is None or pd.isna(margin) else f"{margin:.2f}x"


def _margin(at: SizeComparison, lower_is_better: bool) -> float:
    return at.b_median / at.a_median if lower_is_better else at.a_median / at.b_median
