"""thresholds.py: exact crossover sizes, margins, exclusions."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from conftest import row

from ipcatlas_analysis.cells import summarize
from ipcatlas_analysis.load import load_results
from ipcatlas_analysis.thresholds import (Crossover, crossovers, fastest_by_size, find_crossover, to_markdown,
                                          to_records)


def cells_of(*paths: Path) -> pd.DataFrame:
    return summarize(load_results(paths))


def by_challenger(found: list[Crossover]) -> dict[str, Crossover]:
    return {c.faster: c for c in found}


@pytest.mark.parametrize(("challenger", "expected"), [
    ([5, 5, 1, 1], ("crossover", 4, 2.0)),
    ([1, 5, 1, 1], ("crossover", 4, 2.0)),  # an early win cancelled by a loss does not count
    ([1, 1, 1, 1], ("always", 1, 2.0)),
    ([1, 1, 1, 5], ("never", None, None)),  # a tie at the largest size is not a win
    ([1, 2, 1, 1], ("crossover", 4, 2.0)),  # nor is a tie on the way down
    ([1, 1, 1, 6], ("never", None, None)),
])
def test_find_crossover_lower_is_better(challenger: list[float], expected: tuple[object, ...]) -> None:
    assert find_crossover([1, 2, 4, 8], challenger, [2, 2, 2, 5], lower_is_better=True) == expected


def test_find_crossover_higher_is_better_and_empty() -> None:
    assert find_crossover([1, 2], [1.0, 9.0], [3.0, 3.0], lower_is_better=False) == ("crossover", 2, 3.0)
    assert find_crossover([], [], [], lower_is_better=True) == ("no common sizes", None, None)


def test_crossovers_of_the_four_mechanism_run(inputs: Path) -> None:
    found = by_challenger(crossovers(cells_of(inputs / "pingpong_4mech.json")))
    assert set(found) == {"cma-read", "pipe", "zerocopy"}
    cma = found["cma-read"]
    assert (cma.kind, cma.size, cma.sizes_compared, cma.metric) == ("crossover", 16384, 23, "one_way_ns")
    assert cma.margin == pytest.approx(1738.4 / 1419.2)
    assert (cma.scenario, cma.placement, cma.wait, cma.variant, cma.slower) == ("pingpong", "l3", "spin", "ranks:2",
                                                                                "shm")
    assert (found["zerocopy"].kind, found["zerocopy"].size) == ("always", 1)
    assert found["zerocopy"].margin == pytest.approx(100.1 / 50.0)
    assert (found["pipe"].kind, found["pipe"].size, found["pipe"].margin) == ("never", None, None)


def test_crossovers_use_only_sizes_both_measured_ok(inputs: Path) -> None:
    found = by_challenger(crossovers(cells_of(inputs / "skipped_failed.json")))
    assert "ptrace" not in found  # skipped everywhere
    # pipe failed at 64K with a bogus 1 ns counter; counting it would give 64K.
    assert (found["pipe"].kind, found["pipe"].size, found["pipe"].sizes_compared) == ("crossover", 1048576, 3)
    assert (found["cma-read"].kind, found["cma-read"].size) == ("crossover", 65536)
    assert (found["unix-stream"].kind, found["unix-stream"].sizes_compared) == ("never", 1)


def test_another_baseline(inputs: Path) -> None:
    found = by_challenger(crossovers(cells_of(inputs / "pingpong_4mech.json"), baseline="cma-read"))
    assert (found["shm"].kind, found["shm"].size) == ("never", None)
    assert crossovers(cells_of(inputs / "pingpong_4mech.json"), baseline="vmsplice") == []


def test_bandwidth_only_results_compare_higher_is_better(make_result: Callable[..., Path]) -> None:
    path = make_result([row(f"stream/{mech}/size:{size}/placement:l3/wait:spin", bytes_per_second=bw)
                        for mech, size, bw in [("shm", 64, 5e9), ("shm", 128, 5e9), ("shm", 256, 5e9),
                                               ("cma-write", 64, 1e9), ("cma-write", 128, 6e9),
                                               ("cma-write", 256, 8e9)]])
    (found,) = crossovers(cells_of(path))
    assert (found.metric, found.kind, found.size, found.margin) == ("bytes_per_second", "crossover", 128, 1.2)
    assert found.variant == ""


def test_groups_are_kept_apart(make_result: Callable[..., Path]) -> None:
    path = make_result([row(f"pingpong/{mech}/size:{size}/ranks:2/placement:{placement}/wait:spin", one_way_ns=t)
                        for mech, size, placement, t in [("shm", 64, "l3", 1), ("shm", 128, "l3", 9),
                                                         ("cma-read", 64, "l3", 5), ("cma-read", 128, "l3", 5),
                                                         ("shm", 64, "numa", 9), ("shm", 128, "numa", 9),
                                                         ("cma-read", 64, "numa", 5), ("cma-read", 128, "numa", 5)]])
    found = {c.placement: (c.kind, c.size) for c in crossovers(cells_of(path))}
    assert found == {"l3": ("crossover", 128), "numa": ("always", 64)}


def test_fastest_by_size_leaves_out_the_zerocopy_floor(inputs: Path) -> None:
    fastest = fastest_by_size(cells_of(inputs / "pingpong_4mech.json")).set_index("size")
    assert fastest.loc[8192, "fastest"] == "shm" and fastest.loc[16384, "fastest"] == "cma-read"
    assert fastest.loc[16384, "runner_up"] == "shm"
    assert fastest.loc[16384, "margin"] == pytest.approx(1738.4 / 1419.2)
    with_floor = fastest_by_size(cells_of(inputs / "pingpong_4mech.json"), exclude=())
    assert set(with_floor["fastest"]) == {"zerocopy"}


def test_fastest_by_size_ignores_failed_cells(inputs: Path) -> None:
    fastest = fastest_by_size(cells_of(inputs / "skipped_failed.json")).set_index("size")
    assert fastest["fastest"].to_dict() == {64: "shm", 4096: "shm", 65536: "cma-read", 1048576: "cma-read"}
    assert fastest.loc[65536, "runner_up"] == "shm"  # not the failed pipe row


def test_markdown_and_records(inputs: Path) -> None:
    cells = cells_of(inputs / "pingpong_4mech.json")
    found = crossovers(cells)
    text = to_markdown(found, fastest_by_size(cells))
    assert "| cma-read | 16K | 1.22x | 23 | one_way_ns |" in text
    assert "| zerocopy | always (from 1) | 2.00x | 23 | one_way_ns |" in text
    assert "| pipe | never | – | 23 | one_way_ns |" in text
    assert "| 16K | cma-read | 1.419 µs (one_way_ns) | shm | 1.22x |" in text
    assert "MPIR_CVAR_CH4_IPC_CMA_P2P_THRESHOLD" in text and "UCX_RNDV_THRESH=intra:" in text
    records = json.loads(json.dumps(to_records(found)))
    assert {"faster": "cma-read", "size": 16384, "kind": "crossover"}.items() <= records[0].items()
