"""The host's states, as the drift canary saw them, and which measurements belong to each.

When `ipcatlas run` finds two states (context `canary_states` "2"), every entry
carries `canary_state`: 0 for the faster cache-line bounce, 1 for the slower.
Crossovers differ per state (shm suffers most when the PUs stop sharing a
cache), so thresholds are decided per state, and a block whose runs saw both
states is a comparison across states: it is left out and counted.
"""
from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

STATE = "state"  # the column with_states() adds
ONE_STATE = ""  # the run found one state, or has no canary: no split
MIXED = "mixed"  # the block's runs saw both states
# What each state most likely is, on a VM whose host moves vCPUs between cores.
LIKELY = {"0": "cores sharing a cache", "1": "cores across the interconnect"}


@dataclass(frozen=True)
class StateInfo:
    """One canary state of the runs, for labels."""

    state: str  # "0" or "1"
    canary_ns: float | None  # the canary's typical value in this state (context canary_state_ns)
    blocks: int  # blocks measured wholly in this state

    @property
    def label(self) -> str:
        """"state 1: cores across the interconnect (canary ~250 ns)"."""
        canary = "" if self.canary_ns is None else f" (canary ~{self.canary_ns:.0f} ns)"
        return f"state {self.state}: {LIKELY.get(self.state, 'unknown')}{canary}"


def block_keys(rows: pd.DataFrame) -> pd.Series:
    """(file, block) per row, or None where a row has no block: block numbers restart in every file."""
    return pd.Series([None if pd.isna(b) else (f, int(b)) for f, b in zip(rows["file"], rows["block"])],
                     index=rows.index, dtype=object)


def with_states(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows with a STATE column: the block's canary state ("0", "1"), MIXED when its runs
    disagree, ONE_STATE where the run found one state (no canary_state)."""
    if STATE in rows:
        return rows
    states = rows["canary_state"] if "canary_state" in rows else pd.Series(pd.NA, index=rows.index)
    per_row = [ONE_STATE if pd.isna(s) else str(int(s)) for s in states]
    keys = block_keys(rows) if "block" in rows else pd.Series(None, index=rows.index, dtype=object)
    seen: dict[object, set[str]] = {}
    for key, state in zip(keys, per_row):
        if key is not None and state != ONE_STATE:
            seen.setdefault(key, set()).add(state)
    return rows.assign(**{STATE: [_block_state(seen.get(key, set()), state) for key, state in zip(keys, per_row)]})


def _block_state(block: set[str], own: str) -> str:
    """A row takes its block's state (a failed run may have no canary of its own)."""
    if len(block) > 1:
        return MIXED
    return next(iter(block)) if block else own


def mixed_blocks(rows: pd.DataFrame) -> int:
    """How many blocks of `rows` (from with_states) saw both states."""
    mixed = rows[rows[STATE] == MIXED]
    return len(set(block_keys(mixed))) if len(mixed) else 0


def state_infos(rows: pd.DataFrame, contexts: Mapping[str, Mapping[str, Any]]) -> dict[str, StateInfo]:
    """The states present in `rows` (from with_states), each with its canary value: the median
    over the files' context canary_state_ns, else over the rows' canary_ns."""
    infos = {}
    found = set(rows[STATE]) - {ONE_STATE, MIXED}
    if any(c.get("canary_states") == "2" for c in contexts.values()):
        found |= set(LIKELY)  # a state whose every block was mixed still gets its line
    for state in sorted(found):
        mine = rows[rows[STATE] == state]
        files = set(mine["file"]) or set(contexts)
        from_context = [_state_ns(contexts.get(str(f), {}), int(state)) for f in files]
        known = [ns for ns in from_context if ns is not None] or [float(v) for v in mine["canary_ns"].dropna()]
        infos[state] = StateInfo(state, statistics.median(known) if known else None, len(set(block_keys(mine))))
    return infos


def topology_note(contexts: Sequence[Mapping[str, Any]]) -> str:
    """Where the VM says its PUs share an L3 but the canary found two states, say so, hedged."""
    shares_l3 = any(c.get("placement") == "l3" or "L3" in str(c.get("topology", "")) for c in contexts)
    two = any(c.get("canary_states") == "2" for c in contexts)
    if not (shares_l3 and two):
        return ""
    return ("The VM reports one L3 shared by the PUs (topology / placement l3), but the canary's two states "
            "contradict it: likely the host moves the vCPUs between cores that share a cache and cores that "
            "do not (on AMD, different CCXs), which the guest cannot see.")


def _state_ns(context: Mapping[str, Any], state: int) -> float | None:
    # schema.py checked the shape ("low,high", two numbers).
    text = context.get("canary_state_ns")
    return float(str(text).split(",")[state]) if text is not None else None
