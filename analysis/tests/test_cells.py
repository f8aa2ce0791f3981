"""cells.py: one row per benchmark, worst status, failed/skipped listing."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from conftest import row

from ipcatlas_analysis.cells import cell_status, measured_metrics, problems, status_counts, summarize, time_metric
from ipcatlas_analysis.descriptors import descriptors_of
from ipcatlas_analysis.load import load_context, load_results, metric_columns

SHM_64 = "pingpong/shm/size:64/ranks:2/placement:l3/wait:spin"


@pytest.mark.parametrize(("statuses", "expected"), [
    (["ok", "ok"], "ok"),
    (["ok", "failed", "ok"], "failed"),
    (["skipped", "ok"], "ok"),
    (["skipped", "skipped"], "skipped"),
    (["skipped", "failed"], "failed"),
])
def test_cell_status_is_the_worst(statuses: list[str], expected: str) -> None:
    assert cell_status(pd.Series(statuses)) == expected


def test_summarize_takes_the_median_of_repetitions(inputs: Path) -> None:
    cells = summarize(load_results([inputs / "repetitions.json"])).set_index("name")
    assert len(cells) == 4
    assert cells.loc[SHM_64, "one_way_ns"] == 110.0  # mean would be 118.7
    assert cells.loc[SHM_64, "repetitions"] == 3


def test_summarize_keeps_failed_and_skipped_cells_without_numbers(inputs: Path) -> None:
    cells = summarize(load_results([inputs / "skipped_failed.json"]))
    assert status_counts(cells) == {"ok": 12, "failed": 2, "skipped": 5}
    bad = cells[cells["status"] != "ok"]
    assert bad["one_way_ns"].isna().all() and (bad["repetitions"] == 0).all()
    assert str(cells["size"].dtype) == "Int64"


def test_pooled_files_make_a_cell_failed_when_one_repetition_failed(inputs: Path) -> None:
    rows = load_results([inputs / "pingpong_4mech.json", inputs / "skipped_failed.json"])
    cells = summarize(rows).set_index("name")
    pipe_64k = cells.loc["pingpong/pipe/size:65536/ranks:2/placement:l3/wait:spin"]
    assert pipe_64k["status"] == "failed" and pd.isna(pipe_64k["one_way_ns"])
    assert cells.loc[SHM_64, "repetitions"] == 2


def test_problems_lists_every_failed_and_skipped_benchmark(inputs: Path) -> None:
    listing = problems(load_results([inputs / "skipped_failed.json"]))
    assert listing[["mechanism", "size", "status"]].values.tolist() == [
        ["pipe", 65536, "failed"],
        ["ptrace", 64, "skipped"], ["ptrace", 4096, "skipped"], ["ptrace", 65536, "skipped"],
        ["ptrace", 1048576, "skipped"],
        ["unix-stream", 4096, "skipped"], ["unix-stream", 65536, "failed"],
    ]
    assert set(listing["files"]) == {str(inputs / "skipped_failed.json")}


def test_problems_is_empty_for_a_clean_run(inputs: Path) -> None:
    assert problems(load_results([inputs / "pingpong_4mech.json"])).empty


def test_time_metric_is_the_declared_primary_metric(inputs: Path, tmp_path: Path) -> None:
    # A real alltoall run: its entries' keys are sorted, so fastest_rank_ns comes before round_ns,
    # and only the context (or, without it, the scenario's name) can say the round is the time.
    path = inputs / "alltoall_blocked.json"
    document = json.loads(path.read_text())
    assert all(list(entry) == sorted(entry) for entry in document["benchmarks"])
    assert document["context"]["primary_metric"] == "round_ns"
    rows = load_results([path])
    assert metric_columns(rows).index("fastest_rank_ns") < metric_columns(rows).index("round_ns")
    declared = descriptors_of([load_context(path)])
    assert declared.primary_metric("alltoall") == "round_ns" and time_metric(rows, declared) == "round_ns"
    assert time_metric(rows) == "round_ns"  # an older file without primary_metric: by scenario name
    other = descriptors_of([{"scenario": "alltoall", "primary_metric": "slowest_rank_ns"}])
    assert time_metric(rows, other) == "slowest_rank_ns"  # the context wins


@pytest.mark.parametrize(("scenario", "expected"), [("pingpong", "one_way_ns"), ("stream", "window_ns"),
                                                    ("alltoall", "round_ns"), ("manytoone", "round_ns"),
                                                    ("onetomany", "round_ns")])
def test_primary_metric_fallback_by_scenario(scenario: str, expected: str) -> None:
    assert descriptors_of([{"host_name": "a file from before descriptors"}]).primary_metric(scenario) == expected


def test_time_metric_is_none_without_the_primary_metric(make_result: Callable[..., Path]) -> None:
    bandwidth_only = make_result([row("stream/shm/size:64", p99_ns=20.0, bytes_per_second=6.4e9)], "bw.json")
    assert time_metric(load_results([bandwidth_only])) is None


def test_canary_is_never_a_metric(inputs: Path) -> None:
    rows = load_results([inputs / "alltoall_blocked.json"])
    assert "canary_ns" not in measured_metrics(rows) and "canary_ns" not in summarize(rows).columns
    declared = descriptors_of([{"scenario": "pingpong", "primary_metric": "canary_ns"}])
    assert declared.primary_metric("pingpong") == "one_way_ns"  # not declared: as 0.1.x files measured it
