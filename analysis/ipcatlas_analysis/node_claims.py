"""Which node contradicts what the other nodes of its type say: "A beats B at size s".

A type's settings pool the blocks of all its nodes, so one node that behaves
the other way is outvoted, not seen: the pooled verdict may still be
separated, and the setting would then be wrong on that node. Each node is
therefore held against the others (leave one out), per group, canary state,
pair of mechanisms and size:

- the other nodes' per-block log ratios log(A/B) must separate A from B on
  their own (the paired test of paired.py); where they do not, there is no
  claim to contradict;
- the node's own median ratio must lie on the other side of 1 (it says the
  opposite direction);
- and that must be more than its noise: its per-block ratios differ from the
  other nodes' (two-sided Mann-Whitney U test at alpha / N, Bonferroni over
  the N nodes held against the others at that size, so that a large
  partition does not name a node by chance), or the node's own blocks
  separate the opposite direction (the paired test, where it has blocks
  enough).

A node's three repetitions can never pass the paired test alone (it needs 6
blocks at alpha 0.05), but three ratios against a dozen can pass the U test
(smallest p 2/C(15, 3) = 0.004, below 0.05 / 5): a node measured with few
repetitions can still be caught saying the opposite, and the more nodes, the
smaller the smallest p of one node against the rest.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from .descriptors import LEGACY, Descriptors
from .stats import mann_whitney_p, min_pairs, paired_p
from .thresholds import Group, groups


@dataclass(frozen=True)
class Contradiction:
    """At one size, `node` has the opposite winner of A against B from the other nodes."""

    scenario: str
    placement: str
    wait: str
    variant: str
    state: str
    a: str
    b: str
    size: int
    node: str
    node_faster: str  # the mechanism faster on the node
    others_faster: str  # the mechanism the other nodes, together, separate as faster
    node_ratio: float  # the node's median A/B of the comparison metric
    others_ratio: float  # the other nodes' median A/B
    p: float  # the U test of the node's ratios against the others'

    def claim(self) -> tuple[str, str, str, str, str, frozenset[str]]:
        """What it contradicts, for matching crossovers and settings: group, state, the pair."""
        return (self.scenario, self.placement, self.wait, self.variant, self.state, frozenset((self.a, self.b)))


def contradictions(rows: pd.DataFrame, node_of: Mapping[str, str], alpha: float = 0.05,
                   descriptors: Descriptors = LEGACY) -> list[Contradiction]:
    """Every (group, state, pair, size, node) at which the node contradicts the others; `node_of`
    maps each result file to its node (rows of other files, such as peers, take no part)."""
    found: list[Contradiction] = []
    for group in groups(rows, descriptors):
        mechanisms = group.mechanisms()
        for i, a in enumerate(mechanisms):
            for b in mechanisms[i + 1:]:
                found += pair_contradictions(group, a, b, node_of, alpha)
    return found


def pair_contradictions(group: Group, a: str, b: str, node_of: Mapping[str, str],
                        alpha: float) -> list[Contradiction]:
    """A against B in one group, at every size both were measured in shared blocks."""
    found = []
    for size in sorted(set(group.sizes(a)) & set(group.sizes(b))):
        per_node = ratios_by_node(group.blocks.get((a, size), {}), group.blocks.get((b, size), {}), node_of)
        for node in per_node:
            others = [r for other, values in per_node.items() if other != node for r in values]
            judged = judge(per_node[node], others, alpha, len(per_node))
            found += [] if judged is None else [replace_names(judged, group, a, b, size, node)]
    return found


def ratios_by_node(a: Mapping[object, float], b: Mapping[object, float],
                   node_of: Mapping[str, str]) -> dict[str, list[float]]:
    """log(A/B) per shared block, per node (block keys are (file, block): a pair never spans files)."""
    found: dict[str, list[float]] = {}
    for key, value in a.items():
        file = key[0] if isinstance(key, tuple) else None
        if key in b and file in node_of:
            found.setdefault(node_of[str(file)], []).append(math.log(value / b[key]))
    return found


@dataclass(frozen=True)
class Judgement:
    """The numbers of one contradiction before it is named (sign: +1 when B is faster in time)."""

    node_ratio: float
    others_ratio: float
    others_sign: int
    p: float


def judge(node: Sequence[float], others: Sequence[float], alpha: float, nodes: int = 1) -> Judgement | None:
    """A Judgement when `node`'s ratios contradict what `others` separate, else None (`nodes`: how
    many nodes are judged at this size, for the Bonferroni level of the U test)."""
    if not node or not separates(others, alpha):
        return None
    mine, theirs = statistics.median(node), statistics.median(others)
    others_sign = 1 if theirs > 0 else -1
    if mine * others_sign >= 0:  # same side of 1, or exactly on it: no opposite claim
        return None
    p = mann_whitney_p(list(node), list(others))
    if p >= alpha / nodes and not separates(node, alpha):
        return None
    return Judgement(math.exp(mine), math.exp(theirs), others_sign, p)


def separates(ratios: Sequence[float], alpha: float) -> bool:
    """Whether per-block log ratios lean to one side at alpha (the paired test of paired.py, without
    the interval of the median, which a judgement does not need and which costs most of the time)."""
    return len(ratios) >= min_pairs(alpha) and paired_p(ratios)[1] < alpha


def replace_names(j: Judgement, group: Group, a: str, b: str, size: int, node: str) -> Contradiction:
    """The Contradiction, naming who is faster where (a ratio A/B below 1 is A faster in time,
    above 1 A faster in bandwidth)."""
    others_a_faster = (j.others_sign < 0) == group.lower_is_better
    others_faster, node_faster = (a, b) if others_a_faster else (b, a)
    return Contradiction(*group.key, group.state, a, b, size, node, node_faster, others_faster,
                         j.node_ratio, j.others_ratio, j.p)
