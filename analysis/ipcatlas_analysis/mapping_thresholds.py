"""`thresholds`' section "Moving mappings against copies": the size from which a mechanism that
moves page mappings instead of bytes (memfd-map, memfd-map-huge: the receiver maps the pages
holding each message) beats one copy, and the double copy, per page size.

Such a mechanism copies nothing, like the zerocopy reference, but pays per message an mmap, a
fault per page and a munmap's TLB shootdown; whether that beats copying the bytes once depends
on the size and the page size. Each one is compared, with the same crossover function as the
crossover tables (thresholds.compare_pair), against every single-copy mechanism of its group and
against the double copy (shm). Which mechanisms move mappings, of which page size, and which are
single copies, the result files' descriptors say.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

import pandas as pd

from .descriptors import LEGACY, Descriptors
from .load import OK
from .tables import Table
from .thresholds import (ALWAYS, CROSSOVER, NEVER, NO_COMMON_SIZES, NOT_SEPARATED, UNDECIDED, Crossover,
                         compare_pair, describe, format_margin, group_title, groups, to_records, undecided, win_window)
from .units import format_size

TITLE = "Moving mappings against copies"
HEADERS = ["mapping mechanism", "pages", "against", "beats it from", "undecided (≈ crossing)", "margin there",
           "sizes", "repetitions or blocks (method)"]


@dataclass(frozen=True)
class Sentence:
    """What one mapping mechanism does against the copies in one group, said plainly."""

    scenario: str
    placement: str
    wait: str
    variant: str
    state: str
    mechanism: str
    page_size: int
    text: str


@dataclass(frozen=True)
class MappingView:
    """The section: the mapping mechanisms of the run, their crossovers, and what they say."""

    page_sizes: dict[str, int] = field(default_factory=dict)  # mapping mechanism in the run -> its page size
    crossovers: list[Crossover] = field(default_factory=list)  # each against each copy of its group
    sentences: list[Sentence] = field(default_factory=list)
    single_copies: tuple[str, ...] = ()  # the baselines that copy once (the rest: the double copy)
    double_copy: str = "shm"

    def uncompared(self) -> list[str]:
        """Mapping mechanisms the run has but compared with nothing (no single copy, no double copy)."""
        compared = {c.challenger for c in self.crossovers}
        return [m for m in self.page_sizes if m not in compared]


def mapping_view(rows: pd.DataFrame, double_copy: str | None, alpha: float = 0.05,
                 descriptors: Descriptors = LEGACY) -> MappingView:
    """Every mapping mechanism of the run against every single copy and the double copy, per group."""
    measured = sorted({str(m) for m in rows.loc[rows["status"] == OK, "mechanism"]})
    page_sizes = {m: descriptors.mapping_page_size(m) for m in measured if descriptors.mapping_page_size(m) > 0}
    found: list[Crossover] = []
    single: set[str] = set()
    for group in groups(rows, descriptors) if page_sizes else ():
        present = group.mechanisms()
        copies = [m for m in present if descriptors.single_copy(m) and m not in page_sizes]
        single.update(copies)
        baselines = copies + ([double_copy] if double_copy in present else [])
        found += [compare_pair(group, m, b, alpha) for m in present if m in page_sizes for b in baselines]
    view = MappingView(page_sizes, found, [], tuple(sorted(single)), double_copy or "shm")
    return replace(view, sentences=sentences(view))


def page_text(size: int) -> str:
    """4096 -> "4 KiB", 2097152 -> "2 MiB"."""
    for factor, unit in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} B"


def largest(c: Crossover) -> str:
    return format_size(max(v.size for v in c.verdicts)) if c.verdicts else "?"


def verdict(c: Crossover) -> str:
    """The "beats it from" cell: "8M", "never (up to 16M)", "undecided (too few blocks ...)", ..."""
    if c.kind == UNDECIDED:
        return f"undecided ({c.reason})"
    if c.kind == NEVER and win_window(c) is None:
        return f"never (up to {largest(c)})"
    return describe(c)


def against(c: Crossover, single_copies: Sequence[str]) -> str:
    return f"one copy ({c.baseline})" if c.baseline in single_copies else c.baseline


def clause(c: Crossover, single_copies: Sequence[str]) -> str:
    """"beats one copy (cma-read) from 8M", "never beats shm here (up to 16M)", ..."""
    other = against(c, single_copies)
    window = win_window(c)
    if c.kind == CROSSOVER and c.size is not None:
        return f"beats {other} from {format_size(c.size)}"
    if c.kind == ALWAYS and c.size is not None:
        return f"beats {other} at every size measured (from {format_size(c.size)})"
    if window is not None:
        start, end, resume = window
        return (f"beats {other} only from {format_size(start)} to {format_size(end)} ({c.baseline} wins again "
                f"from {format_size(resume)})")
    if c.kind == NEVER:
        return f"never beats {other} here (up to {largest(c)})"
    if c.kind == NOT_SEPARATED:
        return f"cannot be told apart from {other} at any size (up to {largest(c)})"
    if c.kind == NO_COMMON_SIZES:
        return f"was never measured at a size {c.baseline} was"
    return f"is undecided against {other} ({c.reason})"


def sentences(view: MappingView) -> list[Sentence]:
    """One sentence per mapping mechanism and group."""
    by_key: dict[tuple[str, ...], list[Crossover]] = {}
    for c in view.crossovers:
        by_key.setdefault((c.scenario, c.placement, c.wait, c.variant, c.state, c.challenger), []).append(c)
    found = []
    for (scenario, placement, wait, variant, state, mechanism), compared in by_key.items():
        clauses = [clause(c, view.single_copies) for c in compared]
        joined = clauses[0] if len(clauses) == 1 else ", ".join(clauses[:-1]) + " and " + clauses[-1]
        size = view.page_sizes[mechanism]
        found.append(Sentence(scenario, placement, wait, variant, state, mechanism, size,
                              f"{mechanism} ({page_text(size)} pages) {joined}."))
    return found


def row(c: Crossover, view: MappingView) -> list[str]:
    margin = format_margin(c.margin)
    if c.margin_low is not None and c.margin_high is not None and c.confidence is not None:
        margin += f" ({c.margin_low:.2f}–{c.margin_high:.2f}x, {c.confidence:.0%})"
    evidence = f"{c.pairs} blocks ({c.method})" if c.paired else f"{c.repetitions} ({c.method})"
    return [c.challenger, page_text(view.page_sizes[c.challenger]), against(c, view.single_copies), verdict(c),
            undecided(c), margin, str(c.sizes_compared), evidence]


def mapping_tables(view: MappingView, state_label: Callable[[str], str]) -> list[Table]:
    """One table per group, its sentences below it; one line for a mapping mechanism with nothing
    to compare it with; nothing when the run has no mapping mechanism."""
    by_title: dict[str, list[Crossover]] = {}
    said: dict[str, list[str]] = {}
    for c in view.crossovers:
        by_title.setdefault(title_of(c.scenario, c.placement, c.wait, c.variant, c.state, state_label), []).append(c)
    for s in view.sentences:
        said.setdefault(title_of(s.scenario, s.placement, s.wait, s.variant, s.state, state_label), []).append(s.text)
    tables = [Table(f"{TITLE}: {title}", HEADERS, [row(c, view) for c in found], "\n\n".join(said.get(title, [])))
              for title, found in by_title.items()]
    alone = [f"{m} ({page_text(view.page_sizes[m])} pages): nothing to compare it with here (no single-copy "
             f"mechanism and no {view.double_copy} measured beside it)." for m in view.uncompared()]
    return tables + ([Table(TITLE, [], [], " ".join(alone))] if alone else [])


def title_of(scenario: str, placement: str, wait: str, variant: str, state: str,
             state_label: Callable[[str], str]) -> str:
    return ", ".join(t for t in (group_title(scenario, placement, wait, variant), state_label(state)) if t)


def to_record(view: MappingView) -> dict[str, object]:
    """The section for thresholds.json."""
    return {"page_sizes": view.page_sizes, "single_copies": list(view.single_copies),
            "crossovers": to_records(view.crossovers), "sentences": [asdict(s) for s in view.sentences],
            "nothing_to_compare": view.uncompared()}
