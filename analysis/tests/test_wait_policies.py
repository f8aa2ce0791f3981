"""--wait eventfd in the analysis: the wait policy is read from the names, not
from a list, so eventfd runs get figures of their own beside block's, and the
fd mechanisms that run skips under it are listed with the reason."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import row

from ipcatlas_analysis.load import load_results
from ipcatlas_analysis.plot_command import plot_data
from ipcatlas_analysis.plots import draw_figures

SKIP = "pipe does not honour --wait eventfd: its ranks wait in the kernel"


def skipped(name: str, why: str) -> dict[str, Any]:
    return {"name": name, "run_type": "iteration", "iterations": 0, "ipcatlas_status": "skipped",
            "error_occurred": True, "error_message": "skipped: " + why, "skipped": True, "skip_message": why}


def test_eventfd_figures_beside_block(make_result: Callable[..., Path], tmp_path: Path) -> None:
    rows = [row(f"pingpong/{m}/size:{s}/ranks:2/placement:l3/wait:{w}", one_way_ns=float(t * s), p50_ns=float(t * s),
                bytes_per_second=1e9)
            for w, t in (("block", 3), ("eventfd", 4)) for m in ("shm", "cma-read") for s in (64, 4096)]
    rows += [row(f"pingpong/pipe/size:{s}/ranks:2/placement:l3/wait:block", one_way_ns=5.0 * s, p50_ns=5.0 * s,
                 bytes_per_second=1e9) for s in (64, 4096)]
    rows += [skipped(f"pingpong/pipe/size:{s}/ranks:2/placement:l3/wait:eventfd", SKIP) for s in (64, 4096)]
    table = load_results([make_result(rows)])
    assert sorted(table["wait"].unique()) == ["block", "eventfd"]
    out = tmp_path / "plots"
    out.mkdir()
    drawn = {figure.path.name: figure for figure in draw_figures(plot_data(table, "shm", 0.05), out)}
    eventfd = drawn["latency-pingpong-l3-eventfd.png"]
    assert eventfd.lines == ["cma-read", "shm"]
    assert eventfd.footnote == [f"skipped: pipe at 64, 4K: {SKIP}"]
    assert drawn["latency-pingpong-l3-block.png"].lines == ["cma-read", "pipe", "shm"]
