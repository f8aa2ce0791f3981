"""plots.py: what is drawn, what is only listed, and where lines break."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from conftest import row

from ipcatlas_analysis.cells import problems, summarize
from ipcatlas_analysis.load import load_results
from ipcatlas_analysis.plots import (MAX_FOOTNOTE_LINES, FigureGroup, figure_groups, footnote_lines,
                                     mechanism_colors, plot_bandwidth, plot_latency, size_ticks, with_gaps)
from ipcatlas_analysis.thresholds import crossovers

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
GROUP = FigureGroup("pingpong", "l3", "spin")


def tables(*paths: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = load_results(paths)
    return summarize(rows), problems(rows)


def test_failed_and_skipped_are_listed_not_plotted(inputs: Path, tmp_path: Path) -> None:
    cells, bad = tables(inputs / "skipped_failed.json")
    assert figure_groups(cells) == [GROUP]
    drawn = plot_latency(cells, bad, crossovers(cells), GROUP, tmp_path / "latency.png", mechanism_colors(cells))
    assert drawn is not None
    assert drawn.lines == ["cma-read", "pipe", "shm", "unix-stream"]  # no ptrace: skipped at every size
    assert drawn.gaps == {"pipe": [65536], "unix-stream": [4096, 65536]}
    assert drawn.footnote == [
        "failed: pipe at 64K: rank 1 (pid 4242, PU 1): payload mismatch at byte 8192 of 65536 (batch 3, message 17)",
        "skipped: ptrace at 64, 4K, 64K, 1M: EPERM: Yama ptrace_scope=2 needs CAP_SYS_PTRACE",
        "failed: unix-stream at 64K: rank 0 (pid 4250, PU 0) was killed by signal 9 (SIGKILL) while sending",
        "skipped: unix-stream at 4K: ENOBUFS: socket buffer smaller than the message",
    ]
    assert drawn.markers == ["cma-read beats shm from 64K", "pipe beats shm from 1M"]
    assert (tmp_path / "latency.png").read_bytes().startswith(PNG_MAGIC)


def test_bandwidth_figure(inputs: Path, tmp_path: Path) -> None:
    cells, bad = tables(inputs / "pingpong_4mech.json")
    drawn = plot_bandwidth(cells, bad, crossovers(cells), GROUP, tmp_path / "bw.png", mechanism_colors(cells))
    assert drawn is not None
    assert drawn.lines == ["cma-read", "pipe", "shm", "zerocopy"]
    assert drawn.markers == ["cma-read beats shm from 16K"]  # "always" and "never" have no size to mark
    assert drawn.footnote == [] and drawn.gaps == {}
    assert (tmp_path / "bw.png").read_bytes().startswith(PNG_MAGIC)


def test_no_figure_without_the_metric(make_result: Callable[..., Path], tmp_path: Path) -> None:
    cells, bad = tables(make_result([row("pingpong/shm/size:64/placement:l3/wait:spin", one_way_ns=100.0)]))
    assert plot_bandwidth(cells, bad, [], GROUP, tmp_path / "bw.png", mechanism_colors(cells)) is None
    assert not (tmp_path / "bw.png").exists()


def test_lines_break_at_failed_sizes(inputs: Path) -> None:
    cells, bad = tables(inputs / "skipped_failed.json")
    pipe = cells[cells["mechanism"] == "pipe"].dropna(subset=["one_way_ns"])
    series = with_gaps(pipe, {65536})
    assert series.index.tolist() == [64.0, 4096.0, 65536.0, 1048576.0]
    assert series["one_way_ns"].isna().tolist() == [False, False, True, False]


def test_variants_get_their_own_labelled_lines(make_result: Callable[..., Path], tmp_path: Path) -> None:
    path = make_result([row(f"pingpong/{mech}/size:{size}/ranks:{ranks}/placement:l3/wait:spin", one_way_ns=t)
                        for mech, size, ranks, t in [("shm", 64, 2, 100.0), ("shm", 128, 2, 110.0),
                                                     ("shm", 64, 4, 200.0), ("shm", 128, 4, 210.0)]])
    cells, bad = tables(path)
    drawn = plot_latency(cells, bad, [], GROUP, tmp_path / "v.png", mechanism_colors(cells))
    assert drawn is not None and drawn.lines == ["shm ranks:2", "shm ranks:4"]


def test_long_footnotes_are_cut(make_result: Callable[..., Path]) -> None:
    failures = [{"name": f"pingpong/m{i}/size:64/placement:l3/wait:spin", "error_occurred": True,
                 "error_message": "x" * 200} for i in range(12)]
    _, bad = tables(make_result(failures))
    lines = footnote_lines(bad, GROUP)
    assert len(lines) == MAX_FOOTNOTE_LINES
    assert lines[-1] == "... and 5 more (see report.html or summary.json)"
    assert lines[0] == "failed: m0 at 64: " + "x" * 87 + "..."


def test_size_ticks() -> None:
    ticks = size_ticks(1, 4 << 20)
    assert ticks[0] == 1 and ticks[-1] >= 4 << 20 and len(ticks) <= 12
    assert size_ticks(64, 4096) == [64, 128, 256, 512, 1024, 2048, 4096]
