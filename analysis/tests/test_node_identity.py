"""node_identity: node names and hardware types from run contexts."""
from __future__ import annotations

import pytest

from ipcatlas_analysis.node_identity import (DuplicateNodeError, HardwareType, by_type, hardware_type, node_name,
                                             node_runs)

EPYC = {"cpu_model": "AMD EPYC", "topology": "1 package, 2 cores", "kernel": "6.1", "mitigations": "2 mitigated"}


def test_slurm_node_name_wins_over_the_host_name() -> None:
    assert node_name({"host_name": "vm", "slurm_node": "node2"}) == "node2"
    assert node_name({"host_name": "vm"}) == "vm"
    assert node_name({}) == "unknown"


def test_a_missing_hardware_key_reads_unknown() -> None:
    assert hardware_type({"cpu_model": "AMD EPYC"}) == HardwareType("AMD EPYC", "unknown", "unknown", "unknown")


def test_nodes_are_grouped_by_every_hardware_key() -> None:
    other_kernel = {**EPYC, "kernel": "6.2"}
    runs = node_runs({"a.json": {**EPYC, "slurm_node": "n1"}, "b.json": {**other_kernel, "slurm_node": "n2"},
                      "c.json": {**EPYC, "slurm_node": "n3"}})
    groups = by_type(runs)
    assert [[r.node for r in group] for group in groups.values()] == [["n1", "n3"], ["n2"]]
    assert "kernel 6.2" in list(groups)[1].describe()


def test_two_files_of_one_node_are_refused_with_both_names() -> None:
    with pytest.raises(DuplicateNodeError, match="a.json and b.json are both from node n1"):
        node_runs({"a.json": {"slurm_node": "n1"}, "b.json": {"slurm_node": "n1"}})
