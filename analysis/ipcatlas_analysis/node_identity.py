"""Which node a result file was measured on, and which hardware type that node is.

A cluster check compares nodes only against nodes of their own type: a node
with another CPU, another cache layout, another kernel or other mitigations
is not slow, it is different. The type is therefore read from the run
context that `ipcatlas run` records (cpu_model, topology, kernel,
mitigations); the node's name from the Slurm node name that runs under Slurm
record (slurm_node), else from the host name.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The context keys whose values must all agree for two nodes to be compared.
HARDWARE_KEYS = ("cpu_model", "topology", "kernel", "mitigations")
UNKNOWN = "unknown"


@dataclass(frozen=True)
class HardwareType:
    """What makes two nodes comparable: one value per HARDWARE_KEYS entry."""

    cpu_model: str
    topology: str
    kernel: str
    mitigations: str

    def describe(self) -> str:
        return f"{self.cpu_model}; {self.topology}; kernel {self.kernel}; mitigations: {self.mitigations}"


@dataclass(frozen=True)
class NodeRun:
    """One result file, as a node of a cluster check."""

    node: str  # the Slurm node name, else the host name
    hardware: HardwareType
    file: str


def node_name(context: Mapping[str, Any]) -> str:
    """The Slurm node name when the run recorded one, else the host name."""
    for key in ("slurm_node", "host_name"):
        value = context.get(key)
        if isinstance(value, str) and value:
            return value
    return UNKNOWN


def hardware_type(context: Mapping[str, Any]) -> HardwareType:
    """The node's hardware type; a key a file lacks reads "unknown" (older files)."""
    values = [str(context.get(key) or UNKNOWN) for key in HARDWARE_KEYS]
    return HardwareType(*values)


class DuplicateNodeError(ValueError):
    """Two result files name the same node: which one to judge is not ours to guess."""


def node_runs(contexts: Mapping[str, Mapping[str, Any]]) -> list[NodeRun]:
    """One NodeRun per file (file name -> its context), in the given order.
    Raises DuplicateNodeError naming both files when two files claim one node."""
    seen: dict[str, str] = {}
    runs = []
    for file, context in contexts.items():
        node = node_name(context)
        if node in seen:
            raise DuplicateNodeError(f"{seen[node]} and {file} are both from node {node}: give one file per node")
        seen[node] = file
        runs.append(NodeRun(node, hardware_type(context), file))
    return runs


def by_type(runs: Sequence[NodeRun]) -> dict[HardwareType, list[NodeRun]]:
    """The runs grouped by hardware type, types in order of first appearance."""
    groups: dict[HardwareType, list[NodeRun]] = {}
    for run in runs:
        groups.setdefault(run.hardware, []).append(run)
    return groups
