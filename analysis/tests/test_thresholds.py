"""thresholds.py: crossover sizes with their undecided interval, fastest ranges, exclusions."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import row

from ipcatlas_analysis.load import load_results
from ipcatlas_analysis.thresholds import (Crossover, all_pairs, challenger_order, crossovers, describe,
                                          fastest_ranges, round_size, to_records, undecided)


def by_challenger(found: list[Crossover]) -> dict[str, Crossover]:
    return {c.challenger: c for c in found}


def repeated(name: str, values: list[float], metric: str = "one_way_ns") -> list[dict[str, object]]:
    """Iteration rows of one benchmark, one per repetition."""
    return [{**row(name, **{metric: v}), "repetition_index": i} for i, v in enumerate(values)]


def test_crossovers_of_the_four_mechanism_run(inputs: Path) -> None:
    found = by_challenger(crossovers(load_results([inputs / "pingpong_4mech.json"])))
    assert list(found) == ["cma-read", "pipe", "zerocopy"]  # single-copy first
    cma = found["cma-read"]
    assert (cma.kind, cma.size, cma.below, cma.sizes_compared, cma.metric) == (
        "crossover", 16384, 8192, 23, "one_way_ns")
    assert cma.margin == pytest.approx(1738.4 / 1419.2)
    # An early win at 4K, then a loss at 8K: three changes of winner, the last one counts.
    assert [(c.low, c.high) for c in cma.crossings] == [(2048, 4096), (4096, 8192), (8192, 16384)]
    assert (cma.repetitions, cma.method) == (1, "single")
    assert cma.estimate == pytest.approx(10250, rel=0.01)  # 100 + S/10 = 600 + S/20 at S = 10000 (log-interpolated)
    assert (cma.scenario, cma.placement, cma.wait, cma.variant, cma.baseline) == ("pingpong", "l3", "spin", "ranks:2",
                                                                                  "shm")
    assert (found["zerocopy"].kind, found["zerocopy"].size) == ("always", 1)
    assert (found["pipe"].kind, found["pipe"].size, found["pipe"].margin) == ("never", None, None)


def test_failed_and_skipped_sizes_never_take_part(inputs: Path) -> None:
    found = by_challenger(crossovers(load_results([inputs / "skipped_failed.json"])))
    assert "ptrace" not in found  # skipped everywhere
    # pipe failed at 64K with a bogus 1 ns counter; counting it would give 64K.
    assert (found["pipe"].kind, found["pipe"].size, found["pipe"].sizes_compared) == ("crossover", 1048576, 3)
    assert (found["cma-read"].kind, found["cma-read"].size) == ("crossover", 65536)
    assert (found["unix-stream"].kind, found["unix-stream"].sizes_compared) == ("never", 1)


def test_repetitions_give_the_undecided_interval(make_result: Callable[..., Path]) -> None:
    base = "pingpong/{m}/size:{s}/ranks:2/placement:l3/wait:spin"
    shm = {64: 100, 1024: 200, 4096: 400, 16384: 1000, 65536: 4000}
    cma = {64: 900, 1024: 950, 4096: 390, 16384: 600, 65536: 1500}
    rows = []
    for size in shm:
        noise = 0.4 if size == 4096 else 0.02  # 4K: too noisy to tell apart
        rows += repeated(base.format(m="shm", s=size), [shm[size] * (1 + noise * k) for k in (-1, -0.5, 0, 0.5, 1)])
        rows += repeated(base.format(m="cma-read", s=size), [cma[size] * (1 + noise * k) for k in (-1, -.5, 0, .5, 1)])
    (found,) = crossovers(load_results([make_result(rows)]))
    assert (found.kind, found.low, found.size, found.repetitions, found.method) == (
        "crossover", 1024, 16384, 5, "u-test")
    assert describe(found) == "16K" and undecided(found).startswith("1K–16K (≈ 4K")


def test_noise_everywhere_is_not_a_crossover(make_result: Callable[..., Path]) -> None:
    base = "pingpong/{m}/size:{s}/ranks:2/placement:l3/wait:spin"
    rows = []
    for size in (64, 128):
        rows += repeated(base.format(m="shm", s=size), [100, 200, 300, 400])
        rows += repeated(base.format(m="pipe", s=size), [150, 250, 350, 450])
    (found,) = crossovers(load_results([make_result(rows)]))
    assert (found.kind, found.size) == ("not separated", None)


def test_never_for_good_says_where_it_won(make_result: Callable[..., Path]) -> None:
    rows = [row(f"pingpong/{m}/size:{s}/placement:l3/wait:spin", one_way_ns=t)
            for m, s, t in [("shm", 1, 5), ("shm", 2, 5), ("shm", 4, 5), ("vmsplice", 1, 9), ("vmsplice", 2, 1),
                            ("vmsplice", 4, 9)]]
    (found,) = crossovers(load_results([make_result(rows)]))
    assert found.kind == "never" and describe(found) == "only 2–2 (shm again from 4)"


def test_bandwidth_only_results_compare_higher_is_better(make_result: Callable[..., Path]) -> None:
    path = make_result([row(f"stream/{mech}/size:{size}/placement:l3/wait:spin", bytes_per_second=bw)
                        for mech, size, bw in [("shm", 64, 5e9), ("shm", 128, 5e9), ("shm", 256, 5e9),
                                               ("cma-write", 64, 1e9), ("cma-write", 128, 6e9),
                                               ("cma-write", 256, 8e9)]])
    (found,) = crossovers(load_results([path]))
    assert (found.metric, found.kind, found.size, found.margin) == ("bytes_per_second", "crossover", 128, 1.2)


def test_groups_are_kept_apart(make_result: Callable[..., Path]) -> None:
    path = make_result([row(f"pingpong/{mech}/size:{size}/ranks:2/placement:{placement}/wait:spin", one_way_ns=t)
                        for mech, size, placement, t in [("shm", 64, "l3", 1), ("shm", 128, "l3", 9),
                                                         ("cma-read", 64, "l3", 5), ("cma-read", 128, "l3", 5),
                                                         ("shm", 64, "numa", 9), ("shm", 128, "numa", 9),
                                                         ("cma-read", 64, "numa", 5), ("cma-read", 128, "numa", 5)]])
    found = {c.placement: (c.kind, c.size) for c in crossovers(load_results([path]))}
    assert found == {"l3": ("crossover", 128), "numa": ("always", 64)}


def test_all_pairs_and_another_baseline(inputs: Path) -> None:
    rows = load_results([inputs / "pingpong_4mech.json"])
    assert len(all_pairs(rows)) == 6  # 4 mechanisms
    shm_vs_cma = by_challenger(crossovers(rows, baseline="cma-read"))["shm"]
    assert (shm_vs_cma.kind, shm_vs_cma.size) == ("never", None)
    assert crossovers(rows, baseline="vmsplice") == []


def test_challenger_order_puts_single_copy_first_and_peers_last() -> None:
    assert challenger_order(["peer:osu", "pipe", "vmsplice", "cma-write", "shm", "cma-read"], "shm") == [
        "cma-read", "cma-write", "vmsplice", "pipe", "peer:osu"]


def test_fastest_ranges_leave_out_the_floor_and_say_how_sure(inputs: Path) -> None:
    ranges = fastest_ranges(load_results([inputs / "pingpong_4mech.json"]))
    assert [(r.mechanism, r.from_size, r.to_size, r.to_largest) for r in ranges.itertuples()] == [
        ("shm", 1, 2048, False), ("cma-read", 4096, 4096, False), ("shm", 8192, 8192, False),
        ("cma-read", 16384, 4194304, True)]
    assert "zerocopy" not in set(ranges["mechanism"])
    with_floor = fastest_ranges(load_results([inputs / "pingpong_4mech.json"]), exclude=())
    assert set(with_floor["mechanism"]) == {"zerocopy"}


def test_fastest_ranges_ignore_failed_cells(inputs: Path) -> None:
    ranges = fastest_ranges(load_results([inputs / "skipped_failed.json"]))
    assert [(r.mechanism, r.from_size, r.to_size) for r in ranges.itertuples()] == [
        ("shm", 64, 4096), ("cma-read", 65536, 1048576)]


@pytest.mark.parametrize(("size", "rounded"), [(10250.0, 10240), (11500.0, 12288), (3.4, 3), (700.0, 640)])
def test_round_size(size: float, rounded: int) -> None:
    assert round_size(size) == rounded


def test_records_are_json(inputs: Path) -> None:
    records = json.loads(json.dumps(to_records(crossovers(load_results([inputs / "pingpong_4mech.json"])))))
    assert {"challenger": "cma-read", "size": 16384, "kind": "crossover"}.items() <= records[0].items()
    assert records[0]["crossings"][-1] == {"before": "b", "after": "a", "low": 8192, "high": 16384,
                                           "estimate": pytest.approx(10250, rel=0.01)}
