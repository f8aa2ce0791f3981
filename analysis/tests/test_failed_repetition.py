"""One failed repetition among ok ones (failed_repetition.json, Google Benchmark 1.7.1's shape:
per-repetition rows, then mean/median/stddev/cv aggregates over the ok ones): every command
finishes, lists the failure and exits 1; statistics come from the ok repetitions only."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ipcatlas_analysis.cli import main
from ipcatlas_analysis.load import load_results
from ipcatlas_analysis.tables import Table, to_html, to_markdown

FAILED_NAME = "pingpong/cma-read/size:64/ranks:2/placement:l3/wait:spin"
MESSAGE = "rank 1 (pid 5151, PU 1): payload mismatch at byte 17 of 64 (batch 2, message 3)"


@pytest.fixture
def run(inputs: Path) -> Path:
    return inputs / "failed_repetition.json"


def without_aggregates(source: Path, target: Path) -> Path:
    document = json.loads(source.read_text())
    document["benchmarks"] = [b for b in document["benchmarks"] if b["run_type"] == "iteration"]
    target.write_text(json.dumps(document))
    return target


def test_the_table_has_every_repetition_and_the_failed_one_has_no_numbers(run: Path, tmp_path: Path) -> None:
    rows = load_results([run])
    assert len(rows) == 24 and set(rows["source"]) == {"iteration"}
    failed = rows[rows["status"] == "failed"]
    assert failed["name"].tolist() == [FAILED_NAME] and failed["repetition"].tolist() == [2]
    assert failed["one_way_ns"].isna().all() and failed["message"].tolist() == [MESSAGE]
    # The aggregates are never read: without them the table is the same.
    bare = load_results([without_aggregates(run, tmp_path / "bare.json")])
    pd.testing.assert_frame_equal(rows.drop(columns="file"), bare.drop(columns="file"))


@pytest.mark.parametrize("aggregates", [True, False])
def test_thresholds_lists_the_failure_and_uses_the_ok_repetitions(run: Path, tmp_path: Path, aggregates: bool,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    source = run if aggregates else without_aggregates(run, tmp_path / "bare.json")
    assert main(["thresholds", str(source), "--json", str(tmp_path / "t.json")]) == 1
    captured = capsys.readouterr()
    assert f"| failed | pingpong | cma-read | 64 | {MESSAGE} |" in captured.out
    assert "1 benchmark(s) failed" in captured.err
    result = json.loads((tmp_path / "t.json").read_text())
    assert result["fewest_repetitions"] == 3  # the failed repetition is not one
    assert [(p["mechanism"], p["size"], p["status"]) for p in result["not_measured"]] == [("cma-read", 64, "failed")]


def test_plot_breaks_the_line_at_the_failed_cell(run: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", str(run), "-o", str(tmp_path / "plots")]) == 1
    assert "wrote 2 figures" in capsys.readouterr().out
    assert (tmp_path / "plots" / "latency-pingpong-l3-spin.svg").is_file()


def test_report_writes_everything_and_counts_the_failure(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main(["report", str(run), "-o", str(out)]) == 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status_counts"] == {"ok": 5, "failed": 1, "skipped": 0}
    page = (out / "report.html").read_text()
    assert '<tr class="failed"><td>failed</td><td>pingpong</td><td>cma-read</td><td>64</td>' in page


def test_compare_does_not_compare_the_failed_benchmark(run: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(run), str(run), "--json", str(tmp_path / "c.json")]) == 0
    rows = {r["name"]: r for r in json.loads((tmp_path / "c.json").read_text())["benchmarks"]}
    assert rows[FAILED_NAME]["verdict"] == "not compared"
    assert rows[FAILED_NAME]["note"] == f"failed in BASE: {MESSAGE}"
    assert rows["pingpong/cma-read/size:4096/ranks:2/placement:l3/wait:spin"]["n_base"] == 4
    capsys.readouterr()


def test_history_does_not_compare_the_failed_cell(run: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    shutil.copy(run, first)
    shutil.copy(run, second)
    assert main(["history", str(first), str(second), "--order", "given", "-o", str(tmp_path / "h")]) == 0
    history = json.loads((tmp_path / "h" / "history.json").read_text())
    assert history["comparisons"]["run_to_run"] == 5  # 6 benchmarks, one failed in both runs
    assert history["figures"][0]["lines"] == ["cma-read", "shm"]


def test_table_cells_are_text_whatever_they_were_built_from() -> None:
    table = Table("sizes", ["size", np.int64(2)], [[np.int64(64), 1.5, None]])  # type: ignore[list-item]
    assert table.rows == [["64", "1.5", "None"]] and table.headers == ["size", "2"]
    assert "| 64 | 1.5 | None |" in to_markdown([table])
    assert "<td>64</td>" in to_html(table)
