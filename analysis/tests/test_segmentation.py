"""segmentation.py: the cost-of-segmentation figure appears only for files that hold N = 1 and
another segment count, and draws time at N over time at 1; load.py reads an absent segments key
as 1; nothing else mixes segment counts."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import row

from ipcatlas_analysis.cells import summarize
from ipcatlas_analysis.load import load_results
from ipcatlas_analysis.plot_command import plot_data
from ipcatlas_analysis.plots import draw_figures
from ipcatlas_analysis.segmentation import segmentation_ratios, without_segments

NAME = "pingpong/{m}/size:{s}/ranks:2/placement:l3/wait:spin"


def two_runs(make_result: Callable[..., Path], counts: tuple[int, ...] = (1, 16)) -> list[Path]:
    """One file per segment count: shm and pipe at 64 and 4K, three times slower when segmented."""
    paths = []
    for n in counts:
        suffix = f"/segments:{n}" if n > 1 else ""
        paths.append(make_result([row(NAME.format(m=m, s=s) + suffix, one_way_ns=base * (3 if n > 1 else 1),
                                      bytes_per_second=s / (base * 1e-9))
                                  for m, base in (("shm", 100.0), ("pipe", 1000.0)) for s in (64, 4096)],
                                 f"segments{n}.json"))
    return paths


def test_absent_segments_read_as_one_and_keep_their_own_variant(make_result: Callable[..., Path]) -> None:
    cells = summarize(load_results(two_runs(make_result)))
    assert sorted(set(cells["segments"].astype(int))) == [1, 16]
    assert set(cells["variant"]) == {"ranks:2", "ranks:2/segments:16"}  # never pooled as repetitions
    assert without_segments("ranks:2/segments:16") == "ranks:2"


def test_ratios_are_time_at_n_over_time_at_one(make_result: Callable[..., Path]) -> None:
    cells = summarize(load_results(two_runs(make_result)))
    ratios = segmentation_ratios(cells, "one_way_ns")
    assert set(ratios["segments"]) == {16}
    assert ratios["segmentation_ratio"].tolist() == pytest.approx([3.0] * 4)


def test_the_figure_appears_with_two_counts_only(make_result: Callable[..., Path], tmp_path: Path) -> None:
    out = tmp_path / "plots"
    out.mkdir()
    drawn = {f.path.name: f for f in draw_figures(plot_data(load_results(two_runs(make_result)), "shm", 0.05), out)}
    figure = drawn["segmentation-pingpong-l3-spin-ranks_2.png"]
    assert figure.kind == "segmentation" and figure.lines == ["pipe N=16", "shm N=16"]
    assert (out / "segmentation-pingpong-l3-spin-ranks_2.svg").exists()
    latency = drawn["latency-pingpong-l3-spin.png"]
    assert "shm ranks:2/segments:16" in latency.lines  # the counts stay apart on the other figures
    single = tmp_path / "single"
    single.mkdir()
    only_16 = plot_data(load_results(two_runs(make_result, (16,))), "shm", 0.05)
    assert not any(f.kind == "segmentation" for f in draw_figures(only_16, single))
