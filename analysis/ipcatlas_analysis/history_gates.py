"""Baselines and per-run gates of `ipcatlas history` (--baseline).

Every run from the second on is compared, benchmark by benchmark, with its
baseline by compare's test (compare.compare_tables, compare.slower_than), and
judged by compare's gate (gate.decide) over all of those comparisons, using
only runs earlier in the history. The baseline rule says which earlier runs:

  previous    each benchmark's latest earlier run in which it measured ok
  commit:REF  the earlier runs whose context commit starts with REF
  median:N    each benchmark's last N earlier runs in which it measured ok and that
              the drift canary puts in the same host state as the run judged

Several baseline runs are pooled: per benchmark, the repetitions of all of them
form one sample, so the baseline median is the median over all their repetitions
(not a median of per-run medians) and the U test has that many more repetitions.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import TYPE_CHECKING, Any

import pandas as pd

from .cells import metric_spread
from .compare import Comparison, compare_tables, slower_than
from .gate import HOST_CHANGE_FACTOR, UNDECIDED, GateResult, canary_median, decide, host_change
from .load import ResultFileError

if TYPE_CHECKING:  # history.py imports this module; Run is only an annotation here
    from .history import Run

PREVIOUS, COMMIT, MEDIAN = "previous", "commit", "median"
MIN_REF = 4  # hex digits of a commit:REF, as for a context's commit (history.commit_position)
POINT_KEYS = ["name", "scenario", "mechanism", "variant", "placement", "wait", "size"]


class BaselineError(ResultFileError):
    """A --baseline that the runs cannot serve (commit:REF matching no run's commit, or
    several): one line and exit 2, like a bad file."""


@dataclass(frozen=True)
class BaselineRule:
    """--baseline, parsed: kind PREVIOUS, COMMIT (ref) or MEDIAN (count)."""

    kind: str = PREVIOUS
    ref: str = ""  # COMMIT: a hex prefix, lower case
    count: int = 1  # MEDIAN: N

    def __str__(self) -> str:
        return {PREVIOUS: PREVIOUS, COMMIT: f"{COMMIT}:{self.ref}", MEDIAN: f"{MEDIAN}:{self.count}"}[self.kind]


@dataclass(frozen=True)
class Regression:
    """A benchmark slower than its baseline (positions are 1-based, oldest first); `previous`
    is the latest baseline run, `baseline` every run pooled for it."""

    metric: str
    name: str
    scenario: str
    mechanism: str
    variant: str
    placement: str
    wait: str
    size: int | None
    run: int
    run_label: str
    file: str
    previous: int
    previous_label: str
    previous_file: str
    median_before: float
    median_after: float
    change: float
    p_value: float
    baseline: list[int] = field(default_factory=list)


@dataclass
class RunComparisons:
    """One run against its baseline: every comparison made and the runs (0-based) pooled for any."""

    comparisons: list[Comparison] = field(default_factory=list)
    pooled: set[int] = field(default_factory=set)

    def add(self, other: RunComparisons) -> None:
        self.comparisons.extend(other.comparisons)
        self.pooled |= other.pooled


@dataclass(frozen=True)
class RunGate:
    """The gate on one run against its baseline."""

    position: int  # 1-based
    result: GateResult
    baseline: list[int]  # positions of the runs pooled, for any benchmark
    note: str = ""  # e.g. fewer same-state runs than median:N asked for
    host_state: bool = False  # undecided because of the host's state: a rerun may decide (ci/regression retries)


def parse_baseline(text: str) -> BaselineRule:
    """"previous", "commit:REF" (>= 4 hex digits) or "median:N" (N >= 1); ValueError otherwise."""
    kind, _, value = text.partition(":")
    if text == PREVIOUS:
        return BaselineRule()
    if kind == COMMIT and len(value) >= MIN_REF and all(c in "0123456789abcdefABCDEF" for c in value):
        return BaselineRule(COMMIT, ref=value.lower())
    if kind == MEDIAN and value.isdigit() and int(value) >= 1:
        return BaselineRule(MEDIAN, count=int(value))
    raise ValueError(f"{text!r} is not a baseline: expected previous, commit:REF (a hex prefix of >= {MIN_REF} "
                     f"digits) or median:N (N >= 1)")


def describe(rule: BaselineRule) -> str:
    """What the rule compares each run with, in a sentence's words."""
    if rule.kind == COMMIT:
        return f"the earlier runs of commit {rule.ref}, pooled"
    if rule.kind == MEDIAN:
        return (f"each benchmark's last {rule.count} earlier run(s) in the same host state (drift canary within "
                f"{HOST_CHANGE_FACTOR:g}x), pooled")
    return "each benchmark's latest earlier run in which it measured ok"


def check_baseline(rule: BaselineRule, runs: Sequence[Run]) -> None:
    """commit:REF must start exactly one commit among the runs' (a full hash and its prefix are one)."""
    if rule.kind != COMMIT:
        return
    matched = {run.commit.strip().lower() for run in runs if commit_matches(run.commit, rule.ref)}
    if not matched:
        raise BaselineError(f"--baseline {rule}: no run's commit starts with {rule.ref}")
    distinct = sorted(c for c in matched if not any(o != c and o.startswith(c) for o in matched))
    if len(distinct) > 1:
        raise BaselineError(f"--baseline {rule}: {rule.ref} is ambiguous: it starts the commits "
                            f"{', '.join(distinct)} of the runs (give more digits)")


def commit_matches(commit: str, ref: str) -> bool:
    return bool(ref) and commit.strip().lower().startswith(ref)


def run_points(run: Run, position: int, metric: str) -> pd.DataFrame:
    """One row per benchmark of a run: its name keys and the n, median, low and high of the
    metric over its ok repetitions (cells.metric_spread: NaN where a repetition failed or was
    skipped), at run `position`."""
    keys = run.rows.drop_duplicates("name").set_index("name")[POINT_KEYS[1:]]
    points = keys.join(metric_spread(run.rows, metric)).sort_index().reset_index().assign(run=position)
    return points[[*POINT_KEYS, "run", "n", "median", "low", "high"]]


def find_regressions(runs: Sequence[Run], metric: str, alpha: float, threshold_pct: float,
                     rule: BaselineRule = BaselineRule()) -> tuple[list[Regression], list[RunComparisons]]:
    """Compare each run with its baseline, benchmark by benchmark, with compare's test.

    A benchmark's candidates are the earlier runs in which it measured ok, so a gap (missing
    or failed in one run) does not hide a regression across it; the rule picks among them.
    Returns the regressions and every comparison made, per run (the first run's is empty).
    """
    points = [run_points(run, i + 1, metric) for i, run in enumerate(runs)]
    ok_in: dict[str, list[int]] = {}  # benchmark name -> indices of the runs where it measured ok
    regressions: list[Regression] = []
    made: list[RunComparisons] = []
    for i, run in enumerate(runs):
        made.append(RunComparisons())
        same = same_state_runs(runs, i) if rule.kind == MEDIAN else set()
        by_pool: dict[tuple[int, ...], list[str]] = {}
        for name in points[i]["name"]:
            pool = _pool(rule, runs, ok_in.get(name, []), same)
            if pool:
                by_pool.setdefault(pool, []).append(name)
        for pool, names in sorted(by_pool.items()):
            before = pd.concat([runs[j].rows[runs[j].rows["name"].isin(names)] for j in pool], ignore_index=True)
            after = run.rows[run.rows["name"].isin(names)]
            for comparison in compare_tables(before, after, alpha, metric=metric):
                made[i].comparisons.append(comparison)
                if slower_than(comparison, threshold_pct, alpha):
                    regressions.append(_regression(comparison, points[i], runs, i, pool))
            made[i].pooled.update(pool)
        for name in points[i].loc[points[i]["median"].notna(), "name"]:
            ok_in.setdefault(name, []).append(i)
    return regressions, made


def same_state_runs(runs: Sequence[Run], i: int) -> set[int]:
    """The runs before i that the drift canary puts in run i's host state (a run without a
    canary, on either side, counts as the same state)."""
    return {j for j in range(i) if not host_change(runs[j].context, runs[i].context)}


def _pool(rule: BaselineRule, runs: Sequence[Run], ok_before: Sequence[int], same: set[int]) -> tuple[int, ...]:
    """The runs (indices, oldest first) whose repetitions form one benchmark's baseline."""
    if rule.kind == PREVIOUS:
        return tuple(ok_before[-1:])
    if rule.kind == COMMIT:
        return tuple(j for j in ok_before if commit_matches(runs[j].commit, rule.ref))
    chosen: list[int] = []
    for j in reversed(ok_before):
        if len(chosen) == rule.count:
            break
        if j in same:
            chosen.append(j)
    return tuple(reversed(chosen))


def _regression(c: Comparison, points: pd.DataFrame, runs: Sequence[Run], i: int,
                pool: Sequence[int]) -> Regression:
    point = points[points["name"] == c.name].iloc[0]
    size = None if pd.isna(point["size"]) else int(point["size"])
    assert c.median_base is not None and c.median_new is not None and c.change is not None and c.p_value is not None
    j = pool[-1]
    return Regression(c.metric, c.name, str(point["scenario"]), str(point["mechanism"]), str(point["variant"]),
                      str(point["placement"]), str(point["wait"]), size, i + 1, runs[i].label, str(runs[i].path),
                      j + 1, runs[j].label, str(runs[j].path), c.median_base, c.median_new, c.change, c.p_value,
                      [k + 1 for k in pool])


def run_gates(runs: Sequence[Run], made: Sequence[RunComparisons], rule: BaselineRule, alpha: float,
              threshold_pct: float) -> list[RunGate]:
    """The gate on every run from the second on, over its comparisons with its baseline (every metric).

    previous and commit: the host-change check of compare (gate.host_change) between the run and
    its baseline (for a pool, the median of the pooled runs' canary medians). median:N chose
    runs in the run's own host state, so there is nothing left to check.
    """
    gates = []
    for i in range(1, len(runs)):
        pooled = sorted(made[i].pooled)
        if not pooled:
            result = GateResult(UNDECIDED, "", threshold_pct, alpha, reason=_no_baseline(rule, runs, i))
            host_state = rule.kind == MEDIAN  # no earlier run shares this run's state
        else:
            changed = "" if rule.kind == MEDIAN else host_change(pool_context(runs, pooled), runs[i].context)
            result = decide(made[i].comparisons, threshold_pct, alpha, changed)
            host_state = bool(changed)
        gates.append(RunGate(i + 1, result, [j + 1 for j in pooled], _note(rule, runs, i, pooled), host_state))
    return gates


def pool_context(runs: Sequence[Run], pooled: Sequence[int]) -> dict[str, Any]:
    """A context standing for the pooled runs in gate.host_change: their canary medians' median."""
    canaries = [c for c in (canary_median(runs[j].context) for j in pooled) if c is not None]
    return {"canary_median_ns": median(canaries)} if canaries else {}


def _no_baseline(rule: BaselineRule, runs: Sequence[Run], i: int) -> str:
    """Why run i has no baseline at all."""
    if rule.kind == COMMIT:
        return f"no earlier run of the baseline commit {rule.ref} measured any of this run's benchmarks"
    if rule.kind == MEDIAN:
        others = i - len(same_state_runs(runs, i))
        here = canary_median(runs[i].context)
        state = f" (drift canary median {here:.0f} ns)" if here is not None else ""
        return (f"no earlier run in the same host state as this one{state} measured its benchmarks: {others} of "
                f"the {i} earlier run(s) are more than {HOST_CHANGE_FACTOR:g}x apart from it; rerun, or pin the "
                f"VM's vCPUs to host cores")
    return "no earlier run measured any of this run's benchmarks"


def _note(rule: BaselineRule, runs: Sequence[Run], i: int, pooled: Sequence[int]) -> str:
    """For median:N, how many runs were pooled when fewer than N, and which were left out."""
    if rule.kind != MEDIAN or not pooled or len(pooled) >= rule.count:
        return ""
    others = sorted(set(range(i)) - same_state_runs(runs, i))
    left_out = (f"; other host state, left out: run(s) {', '.join(str(j + 1) for j in others)}"
                if others else "")
    return (f"{len(pooled)} of the {rule.count} runs asked for: only {len(pooled)} earlier run(s) in the same host "
            f"state measured these benchmarks{left_out}")
