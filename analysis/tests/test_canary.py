"""canary.py, and the primary metric on the figures: the drift canary is read from real blocked
runs, drawn over the run's time (canary.png/.svg) and summarised in the report's Host stability
section; older files get neither; the latency figure of alltoall is its round time."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ipcatlas_analysis.canary import CANARY_FIGURE, read_canaries, stability_table
from ipcatlas_analysis.descriptors import descriptors_of
from ipcatlas_analysis.cli import main
from ipcatlas_analysis.figures import FigureGroup
from ipcatlas_analysis.inputs import read_inputs
from ipcatlas_analysis.plot_command import plot_data
from ipcatlas_analysis.plots import size_kinds

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TWO_STATES = "alltoall_blocked.json"  # 12 runs: 10 in a ~485 ns state, 2 in a ~5146 ns one
ONE_STATE = "pingpong_blocked.json"  # 54 runs, one state


def test_two_states_are_read_with_their_levels(inputs: Path) -> None:
    (run,) = read_canaries([inputs / TWO_STATES])
    assert len(run.points) == 12 and run.points["seconds"].iloc[0] == 0.0
    assert run.points["seconds"].is_monotonic_increasing
    assert sorted(run.points["state"].value_counts().items()) == [(0, 10), (1, 2)]
    assert run.state_levels() == [(484.6, 10), (5145.6, 2)] and run.split_ns == 2341.0
    (row,) = stability_table([run]).rows
    assert row[0] == TWO_STATES and row[2] == "2" and "two states" in row[1]
    assert row[3] == "faster state ~484.6 ns: 10 runs; slower state ~5.146 µs: 2 runs"


def test_files_without_a_canary_have_none(inputs: Path) -> None:
    assert read_canaries([inputs / "pingpong_4mech.json"]) == []


def test_plot_writes_the_canary_figure_when_there_is_one(inputs: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plots"
    assert main(["plot", str(inputs / TWO_STATES), str(inputs / ONE_STATE), "-o", str(out)]) == 0
    assert (out / CANARY_FIGURE).read_bytes().startswith(PNG_MAGIC)
    assert (out / CANARY_FIGURE).with_suffix(".svg").read_text().lstrip().startswith("<?xml")
    (line,) = [line for line in capsys.readouterr().out.splitlines() if CANARY_FIGURE in line]
    assert "faster state (~484.6 ns, 10 runs)" in line and "slower state (~5.146 µs, 2 runs)" in line
    plain = tmp_path / "plain"
    assert main(["plot", str(inputs / "pingpong_4mech.json"), "-o", str(plain)]) == 0
    assert not (plain / CANARY_FIGURE).exists()


def test_the_report_has_a_host_stability_section(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main(["report", str(inputs / TWO_STATES), "-o", str(out)]) == 0
    page = (out / "report.html").read_text()
    section = page[page.index('<h2 id="host-stability">Host stability</h2>'):page.index("<h2>Recommended")]
    assert "the host was in two states: ~485 ns (10 runs) and ~5146 ns (2 runs), split at 2341 ns" in section
    assert "faster state ~484.6 ns: 10 runs; slower state ~5.146 µs: 2 runs" in section
    assert section.count('src="data:image/png;base64,') == 1  # canary.png, here and not among the figures
    figures = page[page.index("<h2>Figures</h2>"):]
    assert "canary.png" not in figures and "latency-alltoall-l3-spin.png" in figures
    assert CANARY_FIGURE in json.loads((out / "summary.json").read_text())["figures"]
    older = tmp_path / "older"
    assert main(["report", str(inputs / "pingpong_4mech.json"), "-o", str(older)]) == 0
    assert "Not measured: these runs are from before" in (older / "report.html").read_text()


def test_the_latency_figure_is_the_primary_metric(inputs: Path) -> None:
    loaded = read_inputs([inputs / TWO_STATES])
    data = plot_data(loaded.rows, "shm", 0.05, descriptors_of(loaded.contexts.values()))
    latency = size_kinds(data, FigureGroup("alltoall", "l3", "spin"))[0]
    assert (latency.name, latency.metric) == ("latency", "round_ns")  # not fastest_rank_ns, first by name
