"""plots.py: what is drawn, what is only listed, where lines break, and which figures exist."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from conftest import row

from ipcatlas_analysis.cells import problems, summarize
from ipcatlas_analysis.inputs import overlay_peers
from ipcatlas_analysis.load import load_results
from ipcatlas_analysis.plot_command import plot_data
from ipcatlas_analysis.plots import (MAX_FOOTNOTE_LINES, DrawnFigure, FigureGroup, PlotData, draw_figures,
                                     footnote_lines, pick_sizes, repetition_spread, size_ticks, with_gaps)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
GROUP = FigureGroup("pingpong", "l3", "spin")


def data_of(*paths: Path) -> PlotData:
    return plot_data(load_results(paths), "shm", 0.05)


def drawn_by_name(data: PlotData, out: Path) -> dict[str, DrawnFigure]:
    out.mkdir(parents=True, exist_ok=True)
    return {figure.path.name: figure for figure in draw_figures(data, out)}


def test_failed_and_skipped_are_listed_not_plotted(inputs: Path, tmp_path: Path) -> None:
    drawn = drawn_by_name(data_of(inputs / "skipped_failed.json"), tmp_path)
    latency = drawn["latency-pingpong-l3-spin.png"]
    assert latency.lines == ["cma-read", "pipe", "shm", "unix-stream"]  # no ptrace: skipped at every size
    assert latency.gaps == {"pipe": [65536], "unix-stream": [4096, 65536]}
    assert latency.footnote == [
        "failed: pipe at 64K: rank 1 (pid 4242, PU 1): payload mismatch at byte 8192 of 65536 (batch 3, message 17)",
        "skipped: ptrace at 64, 4K, 64K, 1M: EPERM: Yama ptrace_scope=2 needs CAP_SYS_PTRACE",
        "failed: unix-stream at 64K: rank 0 (pid 4250, PU 0) was killed by signal 9 (SIGKILL) while sending",
        "skipped: unix-stream at 4K: ENOBUFS: socket buffer smaller than the message",
    ]
    assert latency.markers == ["cma-read beats shm from 64K", "pipe beats shm from 1M"]
    assert (tmp_path / "latency-pingpong-l3-spin.png").read_bytes().startswith(PNG_MAGIC)
    assert (tmp_path / "latency-pingpong-l3-spin.svg").read_text().lstrip().startswith("<?xml")


def test_every_kind_of_size_figure(inputs: Path, tmp_path: Path) -> None:
    drawn = drawn_by_name(data_of(inputs / "pingpong_4mech.json"), tmp_path)
    assert set(drawn) == {"latency-pingpong-l3-spin.png", "bandwidth-pingpong-l3-spin.png",
                          "tail-pingpong-l3-spin.png"}
    bandwidth = drawn["bandwidth-pingpong-l3-spin.png"]
    assert bandwidth.lines == ["cma-read", "pipe", "shm", "zerocopy"]
    assert bandwidth.markers == ["cma-read beats shm from 16K"]  # "always" and "never" have no size to mark
    assert bandwidth.footnote == [] and bandwidth.gaps == {}
    assert {p.suffix for p in tmp_path.iterdir()} == {".png", ".svg"}


def test_tail_figure_from_percentiles(make_result: Callable[..., Path], tmp_path: Path) -> None:
    path = make_result([row(f"pingpong/{m}/size:{s}/placement:l3/wait:spin", one_way_ns=100.0, p50_ns=100.0,
                            p99_ns=p99) for m, s, p99 in [("shm", 64, 150.0), ("shm", 128, 400.0),
                                                          ("pipe", 64, 1000.0), ("pipe", 128, 900.0)]])
    data = data_of(path)
    assert data.cells.set_index("name")["tail_ratio"].to_dict()[
        "pingpong/shm/size:128/placement:l3/wait:spin"] == 4.0
    tail = drawn_by_name(data, tmp_path)["tail-pingpong-l3-spin.png"]
    assert tail.lines == ["pipe", "shm"]
    no_percentiles = make_result([row("pingpong/shm/size:64/placement:l3/wait:spin", one_way_ns=1.0)], "bare.json")
    assert not any(name.startswith("tail") for name in drawn_by_name(data_of(no_percentiles), tmp_path / "bare"))


def test_scaling_figure_for_rank_sweeps(make_result: Callable[..., Path], tmp_path: Path) -> None:
    path = make_result([row(f"alltoall/{m}/size:{s}/ranks:{n}/placement:l3/wait:block", round_ns=1e5,
                            bytes_per_second=bw) for m, s, n, bw in [
        ("shm", 1024, 2, 1e9), ("shm", 1024, 4, 1.5e9), ("shm", 65536, 2, 3e9), ("shm", 65536, 4, 4e9),
        ("cma-read", 65536, 2, 2e9), ("cma-read", 65536, 4, 5e9)]])
    drawn = drawn_by_name(data_of(path), tmp_path)
    scaling = drawn["scaling-alltoall-l3-block.png"]
    assert scaling.lines == ["cma-read 64K", "shm 1K", "shm 64K"]
    assert (tmp_path / "scaling-alltoall-l3-block.svg").exists()


def test_no_scaling_figure_for_one_rank_count(inputs: Path, tmp_path: Path) -> None:
    assert not any(name.startswith("scaling") for name in drawn_by_name(data_of(inputs / "alltoall_small.json"),
                                                                        tmp_path))


def test_bands_are_the_spread_of_the_repetitions(inputs: Path) -> None:
    spread = repetition_spread(load_results([inputs / "repetitions.json"]), "one_way_ns")
    assert spread.loc["pingpong/shm/size:64/ranks:2/placement:l3/wait:spin"].tolist() == [106.0, 140.0]


def test_peers_are_drawn_once_per_figure(inputs: Path, tmp_path: Path) -> None:
    rows = load_results([inputs / "pingpong_4mech.json"])
    peer = pd.DataFrame([{"file": "np.out", "name": f"pingpong/peer:np/size:{s}/ranks:2", "scenario": "pingpong",
                          "mechanism": "peer:np", "size": s, "ranks": 2, "placement": "", "wait": "",
                          "variant": "ranks:2", "status": "ok", "message": "", "repetition": 0, "source": "peer",
                          "one_way_ns": 300.0 + s / 10, "bytes_per_second": s / (300.0 + s / 10) * 1e9}
                         for s in (64, 1024, 65536)]).astype({"size": "Int64", "ranks": "Int64"})
    merged = overlay_peers(rows, peer)
    assert set(merged.loc[merged["mechanism"] == "peer:np", "placement"]) == {"l3"}
    data = plot_data(merged, "shm", 0.05)
    latency = drawn_by_name(data, tmp_path)["latency-pingpong-l3-spin.png"]
    assert latency.lines == ["cma-read", "peer:np", "pipe", "shm", "zerocopy"]


def test_lines_break_at_failed_sizes(inputs: Path) -> None:
    cells = summarize(load_results([inputs / "skipped_failed.json"]))
    pipe = cells[cells["mechanism"] == "pipe"].dropna(subset=["one_way_ns"])
    series = with_gaps(pipe, {65536})
    assert series.index.tolist() == [64.0, 4096.0, 65536.0, 1048576.0]
    assert series["one_way_ns"].isna().tolist() == [False, False, True, False]


def test_variants_get_their_own_labelled_lines(make_result: Callable[..., Path], tmp_path: Path) -> None:
    path = make_result([row(f"pingpong/{mech}/size:{size}/ranks:{ranks}/placement:l3/wait:spin", one_way_ns=t)
                        for mech, size, ranks, t in [("shm", 64, 2, 100.0), ("shm", 128, 2, 110.0),
                                                     ("shm", 64, 4, 200.0), ("shm", 128, 4, 210.0)]])
    latency = drawn_by_name(data_of(path), tmp_path)["latency-pingpong-l3-spin.png"]
    assert latency.lines == ["shm ranks:2", "shm ranks:4"]


def test_long_footnotes_are_cut(make_result: Callable[..., Path]) -> None:
    failures = [{"name": f"pingpong/m{i}/size:64/placement:l3/wait:spin", "error_occurred": True,
                 "error_message": "x" * 200} for i in range(12)]
    lines = footnote_lines(problems(load_results([make_result(failures)])), GROUP)
    assert len(lines) == MAX_FOOTNOTE_LINES
    assert lines[-1] == "... and 5 more (see report.html or summary.json)"
    assert lines[0] == "failed: m0 at 64: " + "x" * 87 + "..."


def test_size_ticks_and_picked_sizes() -> None:
    ticks = size_ticks(1, 4 << 20)
    assert ticks[0] == 1 and ticks[-1] >= 4 << 20 and len(ticks) <= 12
    assert size_ticks(64, 4096) == [64, 128, 256, 512, 1024, 2048, 4096]
    assert pick_sizes([1, 2, 4, 8, 16]) == [1, 4, 16] and pick_sizes([1, 2]) == [1, 2]
