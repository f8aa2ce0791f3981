"""load.py: the run order and drift canary fields become columns, never metrics."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from conftest import row

from ipcatlas_analysis.cells import summarize, time_metric
from ipcatlas_analysis.compare import compare_tables
from ipcatlas_analysis.load import RUN_COLUMNS, load_results, metric_columns, name_key_columns
from ipcatlas_analysis.plots import prepare
from ipcatlas_analysis.schema import is_metric_name
from ipcatlas_analysis.thresholds import comparison_metric


def test_blocked_run_carries_block_and_canary(inputs: Path) -> None:
    rows = load_results([inputs / "alltoall_blocked.json"])
    assert {field: str(rows[field].dtype) for field in RUN_COLUMNS} == RUN_COLUMNS
    first = rows[rows["source"] == "iteration"].iloc[0]
    assert (first["block"], first["block_position"], first["canary_state"]) == (0, 0, 0)
    assert first["canary_ns"] == pytest.approx(239.8706173780488)
    assert first["start_unix_s"] == pytest.approx(1796059773.6643174)
    assert not first["canary_outlier"]
    # cma-read 64K in repetition 1 ran in the slow state, marked as an outlier.
    slow = rows[(rows["block"] == 3) & (rows["mechanism"] == "cma-read")].iloc[0]
    assert (slow["canary_state"], bool(slow["canary_outlier"])) == (1, True)


def test_older_files_have_missing_run_columns(inputs: Path) -> None:
    rows = load_results([inputs / "pingpong_4mech.json"])
    for field in RUN_COLUMNS:
        assert rows[field].isna().all(), field


def test_the_canary_is_no_metric(inputs: Path) -> None:
    assert not is_metric_name("canary_ns") and is_metric_name("round_ns")
    rows = load_results([inputs / "alltoall_blocked.json"])
    assert "canary_ns" not in metric_columns(rows) and "canary_ns" not in name_key_columns(rows)
    # The canary is the first _ns field of an alltoall entry: counted as a metric, it would be
    # the time that figures, thresholds and compare use.
    assert time_metric(rows) != "canary_ns"
    assert comparison_metric(rows) == "bytes_per_second"
    assert "canary_ns" not in summarize(rows).columns


def test_compare_and_plots_never_use_the_canary(make_result: Callable[..., Path]) -> None:
    # Only the canary changes between the two runs: it must not show as a change.
    name = "alltoall/shm/size:64/ranks:2/placement:l3/wait:spin"
    base = make_result([{**row(name, round_ns=100.0 + i), "canary_ns": 50.0, "repetition_index": i}
                        for i in range(5)], "base.json")
    new = make_result([{**row(name, round_ns=100.0 + i), "canary_ns": 250.0, "repetition_index": i}
                       for i in range(5)], "new.json")
    (comparison,) = compare_tables(load_results([base]), load_results([new]))
    assert (comparison.metric, comparison.verdict) == ("round_ns", "unchanged")
    rows = load_results([base])
    cells = summarize(rows)
    data = prepare(rows, cells, pd.DataFrame(columns=["status"]), [])
    assert "canary_ns" not in data.cells.columns
