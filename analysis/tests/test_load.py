"""load.py: names, statuses, repetitions vs aggregates, bad files."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ipcatlas_analysis.load import (ResultFileError, load_context, load_results, metric_columns, parse_name,
                                    row_status)


def test_parse_name_is_generic() -> None:
    assert parse_name("pingpong/shm/size:4096/ranks:2/placement:l3/wait:spin") == {
        "scenario": "pingpong", "mechanism": "shm", "size": "4096", "ranks": "2", "placement": "l3", "wait": "spin"}
    assert parse_name("stream/cma-write/size:1/window:8/membind:local/real_time") == {
        "scenario": "stream", "mechanism": "cma-write", "size": "1", "window": "8", "membind": "local"}


def test_parse_name_rejects_a_name_without_mechanism() -> None:
    with pytest.raises(ValueError, match="BM_memcpy"):
        parse_name("BM_memcpy")


@pytest.mark.parametrize(("row", "expected"), [
    ({"name": "x"}, ("ok", "")),
    ({"name": "x", "error_occurred": True, "error_message": "skipped: EPERM"}, ("skipped", "EPERM")),
    ({"name": "x", "error_occurred": True, "error_message": "rank 1 died"}, ("failed", "rank 1 died")),
    ({"name": "x", "error_occurred": True, "error_message": "skipped: a", "ipcatlas_status": "skipped",
      "skip_message": "b"}, ("skipped", "b")),
    ({"name": "x", "error_occurred": True, "error_message": "boom", "ipcatlas_status": "ok"}, ("failed", "boom")),
    ({"name": "x", "ipcatlas_status": "weird"}, ("failed", "unknown ipcatlas_status 'weird'")),
])
def test_row_status(row: dict[str, object], expected: tuple[str, str]) -> None:
    assert row_status(row) == expected


def test_load_pingpong_columns_and_types(inputs: Path) -> None:
    rows = load_results([inputs / "pingpong_4mech.json"])
    assert len(rows) == 92
    assert list(rows.columns[:8]) == ["file", "name", "scenario", "mechanism", "size", "ranks", "placement", "wait"]
    assert str(rows["size"].dtype) == "Int64" and str(rows["ranks"].dtype) == "Int64"
    assert sorted(set(rows["size"])) == [2 ** e for e in range(23)]
    assert set(rows["mechanism"]) == {"shm", "zerocopy", "pipe", "cma-read"}
    assert set(rows["variant"]) == {"ranks:2"}
    assert set(rows["status"]) == {"ok"}
    assert metric_columns(rows) == ["one_way_ns", "bytes_per_second", "p50_ns", "p99_ns", "p999_ns", "max_ns",
                                    "samples_mean_ns"]
    shm_16k = rows[(rows["mechanism"] == "shm") & (rows["size"] == 16384)]
    assert shm_16k["one_way_ns"].tolist() == [1738.4]


def test_failed_and_skipped_rows_carry_no_numbers(inputs: Path) -> None:
    rows = load_results([inputs / "skipped_failed.json"])
    by_name = rows.set_index("name")
    failed = by_name.loc["pingpong/pipe/size:65536/ranks:2/placement:l3/wait:spin"]
    assert failed["status"] == "failed" and failed["message"].startswith("rank 1 (pid 4242, PU 1): payload mismatch")
    assert pd.isna(failed["one_way_ns"])  # the file has a bogus counter on this row
    skipped = by_name.loc["pingpong/ptrace/size:64/ranks:2/placement:l3/wait:spin"]
    assert (skipped["status"], skipped["message"]) == ("skipped", "EPERM: Yama ptrace_scope=2 needs CAP_SYS_PTRACE")
    derived = by_name.loc["pingpong/unix-stream/size:4096/ranks:2/placement:l3/wait:spin"]
    assert (derived["status"], derived["message"]) == ("skipped", "ENOBUFS: socket buffer smaller than the message")
    assert rows["status"].value_counts().to_dict() == {"ok": 12, "skipped": 5, "failed": 2}


def test_repetitions_use_iteration_rows_not_aggregates(inputs: Path) -> None:
    rows = load_results([inputs / "repetitions.json"])
    assert len(rows) == 12 and set(rows["source"]) == {"iteration"}
    shm_64 = rows[rows["name"] == "pingpong/shm/size:64/ranks:2/placement:l3/wait:spin"]
    assert shm_64["repetition"].tolist() == [0, 1, 2]
    assert shm_64["one_way_ns"].tolist() == [110.0, 106.0, 140.0]


def test_aggregates_only_falls_back_to_the_median_aggregate(inputs: Path) -> None:
    rows = load_results([inputs / "aggregates_only.json"])
    assert len(rows) == 4 and set(rows["source"]) == {"median-aggregate"}
    shm_64 = rows[rows["name"] == "pingpong/shm/size:64/ranks:2/placement:l3/wait:spin"]
    assert shm_64["one_way_ns"].tolist() == [110.0]


def test_load_context(inputs: Path) -> None:
    context = load_context(inputs / "skipped_failed.json")
    assert context["ptrace_scope"] == "2 (admin-only attach)"
    assert context["kernel"] == "6.1.0-27-amd64"


def test_malformed_file_is_a_clear_error(inputs: Path) -> None:
    with pytest.raises(ResultFileError, match=r"malformed\.json: not JSON"):
        load_results([inputs / "pingpong_4mech.json", inputs / "malformed.json"])


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ResultFileError, match=r"absent\.json: cannot read"):
        load_results([tmp_path / "absent.json"])


@pytest.mark.parametrize("document", [
    {"foo": 1},
    [1, 2],
    {"context": {}, "benchmarks": [{"no": "name"}]},
])
def test_json_that_is_not_google_benchmark_is_rejected(tmp_path: Path, document: object) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ResultFileError, match=r"other\.json: not Google Benchmark JSON"):
        load_results([path])


def test_bad_benchmark_names_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "names.json"
    path.write_text(json.dumps({"context": {}, "benchmarks": [{"name": "pingpong/shm/size:4K"}]}))
    with pytest.raises(ResultFileError, match=r"names\.json: .*size '4K' is not a number of bytes"):
        load_results([path])
