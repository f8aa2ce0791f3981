"""`ipcatlas thresholds` given one result file per node: the type's settings and their spread.

Under Slurm every node of a partition writes its own file. Settings hold per
hardware type (node_identity.py), so files of several types are refused: a
threshold pooled over two CPUs belongs to neither. Files of one type are
pooled for the type's settings (blocks pair only within their own file:
states.block_keys), and each node is also computed on its own. For every
setting and crossover the spread says how many nodes agree with the type's
value, the range of the nodes' own values, and which nodes disagree by name.
A setting some node contradicts (node_claims.py) is reported as not holding
on every node: a confident wrong setting is the worst outcome.

Canary states are a node's own: each run clusters its canary into one or two
states. Before pooling, a node that found one state is set beside the state
of the two-state nodes whose canary is nearest its own (as agree.py does), so
that like meets like across nodes.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from . import recommend
from .agree import crossover_key, value_number, values_differ
from .cache_view import cache_of
from .descriptors import Descriptors
from .gate import canary_median
from .node_claims import Contradiction
from .node_identity import HardwareType, NodeRun, by_type, node_name, node_runs
from .recommend import UNDECIDED_VALUE, Setting
from .threshold_result import ThresholdResult
from .thresholds import ALWAYS, CROSSOVER, NOT_SEPARATED, UNDECIDED, Crossover, crossovers, describe

# Settings whose values are switches, not sizes: no range of sizes is given for them.
SWITCHES = ("MPIR_CVAR_CH4_CMA_ENABLE", "FI_SHM_DISABLE_CMA")
AGREES = "agrees"
DIFFERS = "differs"
UNDECIDED_ON_NODE = "undecided on the node"
DECIDES_ALONE = "decides where the type does not"
NOT_MEASURED = "not measured on the node"


class MixedTypesError(ValueError):
    """The files come from nodes of several hardware types; the message lists them."""

    def __init__(self, types: Mapping[HardwareType, Sequence[NodeRun]]) -> None:
        self.lines = [f"type {i}: {hardware.describe()}: " + ", ".join(f"{r.node} ({r.file})" for r in runs)
                      for i, (hardware, runs) in enumerate(types.items(), 1)]
        super().__init__(f"the files come from {len(types)} hardware types, and settings hold per type: give "
                         "one type's files (`ipcatlas nodes RESULTS... -o DIR` groups them by type)")


def cluster_nodes(contexts: Mapping[str, Mapping[str, Any]], rows: pd.DataFrame) -> list[NodeRun] | None:
    """The nodes of one type, one per file, when two nodes measured a benchmark of the same name
    (rows: load_results' rows, file -> context in `contexts`). None otherwise: runs of one host
    pool as more repetitions, as always, and files of several hosts that share no benchmark
    (say, one scenario each) are never pooled with each other anyway.
    Raises MixedTypesError, or node_identity.DuplicateNodeError when two files claim one node."""
    nodes = {file: node_name(context) for file, context in contexts.items()}
    if len(set(nodes.values())) < 2 or not (rows["file"].map(nodes).groupby(rows["name"]).nunique() >= 2).any():
        return None
    runs = node_runs(contexts)
    types = by_type(runs)
    if len(types) > 1:
        raise MixedTypesError(types)
    return runs


def align_states(rows: pd.DataFrame, contexts: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """The rows with each one-state node's canary_state set to the two-state nodes' state whose
    canary is nearest the node's median canary; unchanged when no node found two states."""
    known = _state_canaries(contexts)
    if not known or "canary_state" not in rows or "canary_ns" not in rows:
        return rows
    rows = rows.copy()
    for file, context in contexts.items():
        mine = rows["file"] == file
        if context.get("canary_states") == "2" or rows.loc[mine, "canary_state"].notna().any():
            continue
        canary = _median_canary(context, rows.loc[mine, "canary_ns"])
        if canary is not None and canary > 0:
            nearest = _nearest(known, canary)
            rows.loc[mine & rows["block"].notna(), "canary_state"] = nearest
    return rows


def _nearest(known: Mapping[int, float], canary: float) -> int:
    """The state whose canary is nearest (as a ratio) `canary`."""
    return min(known, key=lambda state: abs(math.log(known[state] / canary)))


def _state_canaries(contexts: Mapping[str, Mapping[str, Any]]) -> dict[int, float]:
    """State -> the median over the two-state nodes of that state's canary (context canary_state_ns)."""
    values: dict[int, list[float]] = {}
    for context in contexts.values():
        text = context.get("canary_state_ns")
        if context.get("canary_states") == "2" and text is not None:
            for state, value in enumerate(str(text).split(",")):
                values.setdefault(state, []).append(float(value))
    return {state: statistics.median(found) for state, found in values.items() if found}


def _median_canary(context: Mapping[str, Any], rows: pd.Series) -> float | None:
    """The context's canary median, else the median of the node's rows' canaries."""
    value = canary_median(context)
    if value is not None:
        return value
    values = rows.dropna()
    return float(values.median()) if len(values) else None


@dataclass(frozen=True)
class NodeResult:
    """One node computed on its own."""

    node: str
    crossovers: list[Crossover]
    settings: list[Setting]


def per_node(rows: pd.DataFrame, runs: Sequence[NodeRun], baseline: str, alpha: float,
             described: Descriptors) -> list[NodeResult]:
    """Each node's crossovers against the baseline and settings, from its own file's rows only."""
    found = []
    for run in runs:
        mine = rows[rows["file"] == run.file]
        found.append(NodeResult(run.node, crossovers(mine, baseline, alpha, described),
                                recommend.recommend(mine, alpha, described)))
    return found


@dataclass(frozen=True)
class Spread:
    """One setting or crossover of the type, across its nodes."""

    what: str  # "library parameter" or "challenger vs baseline"
    where: str  # placement / wait / cache / state, or the group
    type_value: str
    verdict: str  # "contradicted on ...", "differs on ...", "no node contradicts it", ...
    holds: bool  # False: some node contradicts it or, deciding on its own, differs
    per_node: dict[str, str]  # node -> its own value
    status: dict[str, str]  # node -> AGREES, DIFFERS, UNDECIDED_ON_NODE or NOT_MEASURED
    low: float | None  # min / median / max of the nodes' own sizes (None: no node gave a size)
    median: float | None
    high: float | None
    contradicting: list[str]  # the nodes that say the opposite (node_claims)

    def nodes(self, status: str) -> list[str]:
        return [node for node, found in self.status.items() if found == status]


def setting_spreads(result: ThresholdResult, nodes: Sequence[NodeResult],
                    found: Sequence[Contradiction], described: Descriptors) -> list[Spread]:
    """One Spread per setting of the type."""
    pairs = _transport_pairs(described)
    spreads = []
    for s in result.settings:
        found_on = {n.node: _node_setting(s, n.settings) for n in nodes}
        values = {node: value for node, (value, _) in found_on.items()}
        status = {node: _status(s.value, value, same) for node, (value, same) in found_on.items()}
        against = [c for c in found if c.scenario == recommend.SCENARIO and (c.placement, c.wait, c.state) ==
                   (s.placement, s.wait, s.state) and cache_of(c.variant) == s.cache and c.claim()[-1] in pairs
                   and s.parameter != recommend.MAX_SEND_SIZE]
        where = " / ".join(t for t in (s.placement or "any", s.wait or "any", f"cache {s.cache}",
                                       result.state_label(s.state)) if t)
        spreads.append(_spread(f"{s.library} {s.parameter}", where, s.value, values, status, against,
                               [None if s.parameter in SWITCHES else value_number(v) for v in values.values()]))
    return spreads


def crossover_spreads(result: ThresholdResult, nodes: Sequence[NodeResult],
                      found: Sequence[Contradiction]) -> list[Spread]:
    """One Spread per crossover of the type against the baseline."""
    spreads = []
    for c in result.crossovers:
        theirs = {n.node: next((x for x in n.crossovers if crossover_key(x) == crossover_key(c)), None) for n in nodes}
        values = {node: "–" if x is None else describe(x) for node, x in theirs.items()}
        status = {node: _crossover_status(c, x) for node, x in theirs.items()}
        claim = (c.scenario, c.placement, c.wait, c.variant, c.state, frozenset((c.challenger, c.baseline)))
        where = ", ".join(t for t in (c.scenario, f"{c.placement or 'any'} / {c.wait or 'any'}", c.variant,
                                      result.state_label(c.state)) if t)
        sizes = [float(x.size) if x is not None and x.kind in (CROSSOVER, ALWAYS) and x.size is not None else None
                 for x in theirs.values()]
        spreads.append(_spread(f"{c.challenger} vs {c.baseline}", where, describe(c), values, status,
                               [x for x in found if x.claim() == claim], sizes))
    return spreads


def _spread(what: str, where: str, type_value: str, values: dict[str, str], status: dict[str, str],
            against: Sequence[Contradiction], sizes: Sequence[float | None]) -> Spread:
    contradicting = sorted({c.node for c in against})
    known = sorted(size for size in sizes if size is not None)
    low, median, high = (known[0], statistics.median(known), known[-1]) if known else (None, None, None)
    undecided = type_value in (UNDECIDED_VALUE, UNDECIDED, NOT_SEPARATED)
    holds = undecided or not (contradicting or DIFFERS in status.values())  # an undecided value is never set
    return Spread(what, where, type_value, _verdict(undecided, status, contradicting), holds, values, status,
                  low, median, high, contradicting)


def _verdict(undecided: bool, status: Mapping[str, str], contradicting: Sequence[str]) -> str:
    """"does not hold on every node: contradicted on node5", "no node contradicts it", ..."""
    differing = [node for node, found in status.items() if found == DIFFERS]
    against = f"contradicted on {', '.join(contradicting)}" if contradicting else ""
    if undecided:
        verb = "contradicts" if len(contradicting) == 1 else "contradict"
        return "undecided for the type" + (f"; {', '.join(contradicting)} {verb} the other nodes"
                                           if contradicting else "")
    if contradicting or differing:
        return "does not hold on every node: " + "; ".join(
            t for t in (against, f"differs on {', '.join(differing)}" if differing else "") if t)
    if AGREES in status.values():
        return "no node contradicts it"
    return "no node contradicts it; no node decides it on its own"


def _transport_pairs(described: Descriptors) -> set[frozenset[str]]:
    """The pairs of mechanisms the settings rest on (recommend.gather_evidence)."""
    chosen = recommend.transports(described)
    pairs = ((chosen.pull, chosen.double_copy), (chosen.push, chosen.double_copy), (chosen.push, chosen.pull))
    return {frozenset((a, b)) for a, b in pairs if a and b}


def _node_setting(s: Setting, theirs: Sequence[Setting]) -> tuple[str, bool]:
    """(value, whether it is the same parameter): the node's value of the parameter; where the node
    sets the library otherwise (CMA off against a threshold), those parameters; "" where the node
    has nothing for that group."""
    group = [t for t in theirs if (t.library, t.placement, t.wait, t.state, t.cache) ==
             (s.library, s.placement, s.wait, s.state, s.cache)]
    same = next((t for t in group if t.parameter == s.parameter), None)
    if same is not None:
        return same.value, True
    decided = [t for t in group if t.value != UNDECIDED_VALUE]
    if group and not decided:
        return UNDECIDED_VALUE, True
    return "; ".join(f"{t.parameter.split(' ')[0]}={t.value}" for t in decided), False


def _status(type_value: str, node_value: str, same_parameter: bool) -> str:
    if not node_value:
        return NOT_MEASURED
    if node_value == UNDECIDED_VALUE:
        return UNDECIDED_ON_NODE
    if type_value == UNDECIDED_VALUE:
        return DECIDES_ALONE
    if not same_parameter or values_differ(type_value, node_value):
        return DIFFERS
    return AGREES


def _crossover_status(c: Crossover, x: Crossover | None) -> str:
    if x is None:
        return NOT_MEASURED
    if x.kind in (UNDECIDED, NOT_SEPARATED):
        return UNDECIDED_ON_NODE
    if c.kind in (UNDECIDED, NOT_SEPARATED):
        return DECIDES_ALONE
    if c.kind != x.kind or (c.size is None and describe(c) != describe(x)) or values_differ(str(c.size),
                                                                                            str(x.size)):
        return DIFFERS
    return AGREES
