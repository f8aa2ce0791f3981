"""`ipcatlas thresholds A.json B.json --agree`: do two independent runs decide the same?

Every separated claim ("A beats B at size s", per group and canary state) and
every recommended setting of one run is set beside the other's, like state with
like. Listed:

- contradiction: one run separates A over B at a size, the other B over A;
- differs: a setting whose numbers differ by more than a factor of 2 (or whose
  non-numeric values differ), or a crossover whose kind or size (factor 2) differs;
- undecided in one: one run decides (a setting, a crossover), the other does not.

Like state with like: when both runs found two states, state 0 meets state 0.
When one run found two states and the other one, the one-state run is set
beside the state whose canary is nearest its own median canary (a run that
stayed near ~60 ns is compared with the other run's ~60 ns state, not left
out). A claim present in one run only (a state the other run never saw) is
not a disagreement: the runs measured different things.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

from .crossings import A, TIE
from .recommend import UNDECIDED_VALUE, Setting
from .thresholds import NOT_SEPARATED, UNDECIDED, Crossover, describe
from .threshold_result import ThresholdResult

CONTRADICTION = "contradiction"
DIFFERS = "differs"
UNDECIDED_IN_ONE = "undecided in one"
FACTOR = 2.0
NOT_SET = "(not set)"


@dataclass(frozen=True)
class Disagreement:
    """One claim or setting on which the two runs differ."""

    kind: str  # CONTRADICTION, DIFFERS or UNDECIDED_IN_ONE
    what: str  # "separated claim", "crossover" or "setting"
    where: str  # group, state, pair and size, or library and parameter
    first: str  # what run A says
    second: str  # what run B says


def disagreements(a: ThresholdResult, b: ThresholdResult) -> list[Disagreement]:
    """Everything A and B disagree on: claims first, then crossovers, then settings."""
    a, b = with_aligned_states(a, b), with_aligned_states(b, a)
    return [*claim_disagreements(a.pairs, b.pairs), *crossover_disagreements(a.crossovers, b.crossovers),
            *setting_disagreements(a.settings, b.settings)]


def with_aligned_states(mine: ThresholdResult, other: ThresholdResult) -> ThresholdResult:
    """`mine` with its single state named after the nearest of `other`'s two (see above)."""
    if mine.states or not other.states or mine.canary_ns is None:
        return mine
    known = {state: info.canary_ns for state, info in other.states.items() if info.canary_ns}
    if not known:
        return mine
    nearest = min(known, key=lambda state: abs(math.log(known[state] / mine.canary_ns)))  # type: ignore[operator]
    return replace(
        mine, crossovers=[replace(c, state=nearest) for c in mine.crossovers],
        pairs=[replace(c, state=nearest) for c in mine.pairs],
        settings=[replace(s, state=nearest) for s in mine.settings])


def claim_disagreements(a: Sequence[Crossover], b: Sequence[Crossover]) -> list[Disagreement]:
    """Opposite separated winners at the same pair, size and state."""
    theirs = {(*crossover_key(c), v.size): (c, v.winner) for c in b for v in c.verdicts}
    found = []
    for c in a:
        for v in c.verdicts:
            other = theirs.get((*crossover_key(c), v.size))
            if other is not None and TIE not in (v.winner, other[1]) and v.winner != other[1]:
                found.append(Disagreement(CONTRADICTION, "separated claim", f"{_where(c)} at {v.size}",
                                          _winner(c, v.winner), _winner(c, other[1])))
    return found


def crossover_disagreements(a: Sequence[Crossover], b: Sequence[Crossover]) -> list[Disagreement]:
    """Crossovers against the baseline whose kind or size differs (sizes by more than FACTOR)."""
    theirs = {crossover_key(c): c for c in b}
    found = []
    for c in a:
        other = theirs.get(crossover_key(c))
        if other is None:
            continue
        kind = _compare(_undecided(c), _undecided(other), c.kind != other.kind or _apart(c.size, other.size))
        if kind:
            found.append(Disagreement(kind, "crossover", _where(c), describe(c), describe(other)))
    return found


def setting_disagreements(a: Sequence[Setting], b: Sequence[Setting]) -> list[Disagreement]:
    """Settings of the same library, parameter, placement, wait and state that differ, and
    parameters that one run sets where the other sets the same library otherwise (CMA off
    against a CMA threshold)."""
    mine, theirs = {_setting_key(s): s for s in a}, {_setting_key(s): s for s in b}
    libraries = {_library_key(s) for s in a} & {_library_key(s) for s in b}
    found = []
    for key in dict.fromkeys([*mine, *theirs]):
        first, second = mine.get(key), theirs.get(key)
        if _library_key(first or second) not in libraries:  # type: ignore[arg-type]
            continue
        values = [NOT_SET if s is None else s.value for s in (first, second)]
        kind = _compare(values[0] == UNDECIDED_VALUE, values[1] == UNDECIDED_VALUE, values_differ(*values))
        if kind:
            library, parameter, placement, wait, state = key
            where = f"{library} {parameter} ({placement or 'any'} / {wait or 'any'}{_state(state)})"
            found.append(Disagreement(kind, "setting", where, *values))
    return found


def counts(found: Sequence[Disagreement]) -> dict[str, int]:
    """How many of each: contradictions of separated claims, differing settings, and so on."""
    return {
        "contradictions": sum(d.kind == CONTRADICTION for d in found),
        "settings_differ": sum(d.kind == DIFFERS and d.what == "setting" for d in found),
        "crossovers_differ": sum(d.kind == DIFFERS and d.what == "crossover" for d in found),
        "undecided_in_one": sum(d.kind == UNDECIDED_IN_ONE for d in found),
    }


def to_record(found: Sequence[Disagreement]) -> dict[str, object]:
    """The comparison as JSON: the counts and every disagreement."""
    return {**counts(found), "agree": not found, "disagreements": [asdict(d) for d in found]}


def markdown(found: Sequence[Disagreement], first: str, second: str) -> str:
    """A summary line and a table of the disagreements."""
    c = counts(found)
    lines = ["# ipcatlas thresholds --agree", "", f"A: {first}", f"B: {second}", "",
             f"{c['contradictions']} contradictory separated claim(s), {c['settings_differ']} setting(s) differing "
             f"by more than a factor {FACTOR:g}, {c['crossovers_differ']} crossover(s) differing, "
             f"{c['undecided_in_one']} undecided in one run only.", ""]
    if not found:
        return "\n".join(lines + ["The two runs agree on every claim and setting they share."])
    lines += ["| disagreement | what | where | A says | B says |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {d.kind} | {d.what} | {d.where} | {d.first} | {d.second} |" for d in found]
    return "\n".join(lines)


def _compare(undecided_a: bool, undecided_b: bool, differ: bool) -> str:
    """The kind of disagreement ("" for none) of two verdicts."""
    if undecided_a != undecided_b:
        return UNDECIDED_IN_ONE
    return DIFFERS if differ and not undecided_a else ""


def _undecided(c: Crossover) -> bool:
    return c.kind in (UNDECIDED, NOT_SEPARATED)


def _apart(x: float | None, y: float | None) -> bool:
    """Whether two sizes differ by more than FACTOR (one missing: they differ)."""
    if x is None or y is None:
        return x != y
    return max(x, y) > FACTOR * min(x, y) if min(x, y) > 0 else x != y


def values_differ(x: str, y: str) -> bool:
    """Numbers ("8192", "intra:8192") by more than FACTOR; other values when not equal."""
    numbers = [value_number(v) for v in (x, y)]
    if numbers[0] is not None and numbers[1] is not None:
        return _apart(numbers[0], numbers[1])
    return x != y


def value_number(value: str) -> float | None:
    """The number after a value's last colon (or the whole value), or None when that is no number."""
    try:
        return float(value.rpartition(":")[2])
    except ValueError:
        return None


def crossover_key(c: Crossover) -> tuple[str, ...]:
    """What makes two crossovers of two runs (or nodes) the same comparison."""
    return (c.scenario, c.placement, c.wait, c.variant, c.state, c.challenger, c.baseline)


def _setting_key(s: Setting) -> tuple[str, ...]:
    return (s.library, s.parameter, s.placement, s.wait, s.state)


def _library_key(s: Setting) -> tuple[str, ...]:
    return (s.library, s.placement, s.wait, s.state)


def _where(c: Crossover) -> str:
    return f"{c.scenario} {c.variant} {c.placement}/{c.wait}{_state(c.state)}: {c.challenger} vs {c.baseline}"


def _state(state: str) -> str:
    return f", state {state}" if state else ""


def _winner(c: Crossover, winner: str) -> str:
    return f"{c.challenger if winner == A else c.baseline} faster"
