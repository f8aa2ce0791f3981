"""The "Across N nodes of type ..." section of `ipcatlas thresholds`, as Markdown and JSON.

node_settings.py computes each node on its own and sets it beside the type;
node_claims.py finds the nodes that say the opposite of the others. This
module gathers both for one run of the command and writes them out.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from .descriptors import descriptors_of
from .node_claims import Contradiction, contradictions
from .node_identity import NodeRun
from .node_settings import (AGREES, DECIDES_ALONE, DIFFERS, NOT_MEASURED, UNDECIDED_ON_NODE, Spread,
                            crossover_spreads, per_node, setting_spreads)
from .paired import SUGGESTED_REPETITIONS
from .stats import min_pairs
from .tables import Table, to_markdown
from .threshold_result import ThresholdResult
from .units import format_size, json_safe


@dataclass(frozen=True)
class NodeSpread:
    """The type's settings and crossovers across its nodes."""

    runs: list[NodeRun]
    settings: list[Spread]
    crossovers: list[Spread]
    contradictions: list[Contradiction]
    most_blocks: int  # the most blocks behind one comparison of one node (alone it decides with min_pairs)
    alpha: float
    aligned: dict[str, str]  # one-state node -> the two-state nodes' state it was pooled with

    @property
    def type_text(self) -> str:
        return self.runs[0].hardware.describe()

    def not_holding(self) -> list[Spread]:
        return [s for s in self.settings if not s.holds]


def across_nodes(rows: pd.DataFrame, result: ThresholdResult, runs: Sequence[NodeRun], baseline: str,
                 alpha: float, contexts: Mapping[str, Mapping[str, Any]]) -> NodeSpread:
    """Each node on its own against the type's pooled `result` (rows: the pooled rows, states aligned)."""
    described = descriptors_of(contexts.values())
    nodes = per_node(rows, runs, baseline, alpha, described)
    found = contradictions(rows, {run.file: run.node for run in runs}, alpha, described)
    blocks = [c.pairs for n in nodes for c in n.crossovers if c.paired]
    return NodeSpread(list(runs), setting_spreads(result, nodes, found, described),
                      crossover_spreads(result, nodes, found), found, max(blocks, default=0), alpha,
                      aligned_nodes(rows, runs, contexts))


def aligned_nodes(rows: pd.DataFrame, runs: Sequence[NodeRun],
                  contexts: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Node -> the state its one canary state was pooled with (node_settings.align_states)."""
    if not any(c.get("canary_states") == "2" for c in contexts.values()):
        return {}
    found = {}
    for run in runs:
        states = rows.loc[rows["file"] == run.file, "canary_state"].dropna()
        if contexts[run.file].get("canary_states") != "2" and len(states):
            found[run.node] = str(int(states.iloc[0]))
    return found


def headline(spread: NodeSpread) -> str:
    """One paragraph for the top of the report: what was pooled, and whether every setting holds."""
    failing = spread.not_holding()
    verdict = (f"Warning: {len(failing)} of the settings below do not hold on every node" if failing else
               "No node contradicts a value the settings below give, and none differs from one")
    nodes = sorted({c.node for c in spread.contradictions})
    against = (f"; {', '.join(nodes)} {'contradicts' if len(nodes) == 1 else 'contradict'} the other nodes"
               if nodes else "")
    return (f"{len(spread.runs)} nodes of one type, pooled. {verdict}{against}: see \"Across {len(spread.runs)} "
            "nodes of type ...\" at the end.")


def intro_lines(spread: NodeSpread) -> list[str]:
    """What the section rests on, and the settings that do not hold on every node."""
    names = ", ".join(run.node for run in spread.runs)
    lines = [f"The tables above pool the blocks of all {len(spread.runs)} nodes ({names}); a block pairs "
             "mechanisms only within its own node's file. Below, each node is computed on its own and set beside "
             "the type's value. A node contradicts a claim (\"A beats B at S\") when the other nodes together "
             "separate A from B at S (paired test) and its own blocks point the other way, beyond its noise "
             f"(U test of its per-block ratios against the others' at alpha {spread.alpha:g} / N, N the "
             "nodes judged).", ""]
    if spread.aligned:
        pooled = {state: [n for n, s in spread.aligned.items() if s == state] for state in spread.aligned.values()}
        lines += ["Canary states are each node's own: " + "; ".join(
            f"{', '.join(nodes)} found one state and are pooled with state {state}" for state, nodes in pooled.items())
            + " of the nodes that found two (the state whose canary is nearest the node's).", ""]
    if spread.most_blocks < min_pairs(spread.alpha):
        lines += [f"Each node measured at most {spread.most_blocks} block(s) per comparison: a node alone "
                  f"decides nothing with fewer than {min_pairs(spread.alpha)} (\"undecided on the node\"), but "
                  "can still be caught contradicting the others. Run `ipcatlas run "
                  f"--benchmark_repetitions={SUGGESTED_REPETITIONS}` on every node for each node's own settings.", ""]
    failing = spread.not_holding()
    if failing:
        lines += [f"Warning: {len(failing)} setting(s) do not hold on every node; do not set them for the whole "
                  "type: " + "; ".join(f"{s.what} ({s.where}): {s.verdict}" for s in failing), ""]
    elif not spread.contradictions:
        lines += ["No node contradicts any of the type's settings, and no node deciding on its own gives a "
                  "different value.", ""]
    return lines


def spread_row(s: Spread, count: int) -> list[str]:
    """The cells common to both tables."""
    return [s.what, s.where, f"`{s.type_value}`", s.verdict, f"{len(s.nodes(AGREES))} of {count}",
            values_text(s), range_text(s), _names(sorted({*s.nodes(DIFFERS), *s.contradicting})),
            _names(s.nodes(UNDECIDED_ON_NODE)), _names(s.nodes(NOT_MEASURED))]


def values_text(s: Spread) -> str:
    """"`^cma`: 4; `cma`: 1": each value the nodes decide on their own, with how many nodes give it."""
    decided = [s.per_node[node] for node in (*s.nodes(AGREES), *s.nodes(DIFFERS), *s.nodes(DECIDES_ALONE))]
    counts = Counter(decided).most_common()
    return "; ".join(f"`{value}`: {n}" for value, n in counts) if counts else "–"


def range_text(s: Spread) -> str:
    """"16K / 32K / 64K": the nodes' own sizes, min / median / max ("–": no node gave one)."""
    if s.low is None or s.median is None or s.high is None:
        return "–"
    return " / ".join(format_size(round(v)) for v in (s.low, s.median, s.high))


def tables(spread: NodeSpread) -> list[Table]:
    """The settings, the crossovers and the contradictions across the nodes."""
    count = len(spread.runs)
    headers = ["what", "where", "type's value", "on every node?", "nodes agreeing", "nodes' own values (nodes)",
               "nodes' own sizes (min / median / max)", "nodes that disagree", "undecided on the node",
               "not measured on the node"]
    contradicted = [[f"{c.scenario} {c.placement} / {c.wait} {c.variant}".strip() + (f", state {c.state}"
                     if c.state else ""), f"{c.a} vs {c.b}", format_size(c.size), c.node,
                     f"{c.node_faster} faster ({c.a}/{c.b} {c.node_ratio:.2f})",
                     f"{c.others_faster} faster ({c.a}/{c.b} {c.others_ratio:.2f})", f"{c.p:.3g}"]
                    for c in spread.contradictions]
    return [
        Table("Settings across the nodes", headers, [spread_row(s, count) for s in spread.settings],
              "\"nodes agreeing\": the node, computed on its own, gives the type's value (sizes within a factor "
              "2). Each node's own value is in the JSON (`nodes.settings[].per_node`)."),
        Table("Crossovers across the nodes", headers, [spread_row(s, count) for s in spread.crossovers]),
        Table("Nodes that contradict the others", ["group", "pair", "size", "node", "the node says",
                                                   "the other nodes say", "p (U test)"], contradicted,
              "Ratios are medians of the per-block ratios of the comparison metric (time: below 1 the first "
              "is faster)."),
    ]


def markdown(spread: NodeSpread) -> str:
    """The section, headed "Across N nodes of type ..."."""
    lines = [f"## Across {len(spread.runs)} nodes of type {spread.type_text}", ""] + intro_lines(spread)
    return "\n".join(lines) + "\n" + to_markdown(tables(spread), level=3)


def to_record(spread: NodeSpread) -> dict[str, object]:
    """The same for tools: the key "nodes" of the --json output."""
    return {
        "type": asdict(spread.runs[0].hardware),
        "nodes": [{"node": run.node, "file": run.file} for run in spread.runs],
        "most_blocks": spread.most_blocks,
        "aligned_states": spread.aligned,
        "settings_not_holding": len(spread.not_holding()),
        "settings": [_spread_record(s) for s in spread.settings],
        "crossovers": [_spread_record(s) for s in spread.crossovers],
        "contradictions": [json_safe(asdict(c)) for c in spread.contradictions],
    }


def _spread_record(s: Spread) -> dict[str, object]:
    record: dict[str, object] = json_safe(asdict(s))
    record["agreeing"] = s.nodes(AGREES)
    record["disagreeing"] = s.nodes(DIFFERS)
    return record


def _names(nodes: Sequence[str]) -> str:
    return ", ".join(nodes) if nodes else "–"
