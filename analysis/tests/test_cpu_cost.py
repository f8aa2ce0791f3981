"""The CPU view: CPU per byte on the figures (cpu_cost.py) and the CPU crossovers of
`thresholds` (cpu_thresholds.py), decided per block like the time crossovers and never
confused with them, on crafted blocked runs whose time and CPU disagree."""
from __future__ import annotations

import json
from pathlib import Path

from ipcatlas_analysis.cells import problems, summarize
from ipcatlas_analysis.cpu_cost import CPU_PER_BYTE, figure_note
from ipcatlas_analysis.cpu_thresholds import UNPAIRED, cpu_crossovers
from ipcatlas_analysis.descriptors import descriptors_of
from ipcatlas_analysis.load import load_results
from ipcatlas_analysis.plots import draw_figures, prepare
from ipcatlas_analysis.thresholds_command import compute, markdown

NAME = "pingpong/{m}/size:{s}/ranks:2/placement:l3/wait:{w}"
SIZES = (1024, 65536, 1048576)
# CPU per message relative to shm: cma-read costs more CPU at 1K, less from 64K. Its time is
# the opposite (slower everywhere), so a CPU verdict read as a time verdict would show.
CPU_RATIO = {"shm": (1.0, 1.0, 1.0), "cma-read": (1.6, 0.6, 0.5), "pipe": (3.0, 2.0, 2.0)}
TIME_RATIO = {"shm": 1.0, "cma-read": 1.3, "pipe": 4.0}
CONTEXT = {
    "mechanisms": {"shm": {"single_copy": False, "copies": 2}, "cma-read": {"single_copy": True, "copies": 1},
                   "pipe": {"single_copy": False, "copies": 2}},
    "scenarios": {"pingpong": {"primary_metric": "one_way_ns", "cpu_metric": "cpu_ns",
                               "counters": {"one_way_ns": "ns", "cpu_ns": "ns"}}},
}


def run_file(path: Path, blocks: int, wait: str = "block", blocked: bool = True) -> Path:
    """`blocks` repetitions, a block per (repetition, size); the host's drift moves a block's runs alike."""
    entries, block = [], 0
    for rep in range(blocks):
        drift = 1 + 4 * (rep % 2)
        for i, size in enumerate(SIZES):
            for position, mechanism in enumerate(CPU_RATIO):
                entry = {"name": NAME.format(m=mechanism, s=size, w=wait), "run_type": "iteration",
                         "ipcatlas_status": "ok", "repetition_index": rep,
                         "one_way_ns": size * drift * TIME_RATIO[mechanism],
                         "cpu_ns": size * drift * CPU_RATIO[mechanism][i] * (1 + 0.01 * rep)}
                if blocked:
                    entry.update(block=block, block_position=position)
                entries.append(entry)
            block += 1
    path.write_text(json.dumps({"context": {"placement": "l3", **CONTEXT}, "benchmarks": entries}))
    return path


def contexts(path: Path) -> dict[str, dict[str, object]]:
    return {str(path): json.loads(path.read_text())["context"]}


def test_the_single_copy_costs_less_cpu_from_64k_paired(tmp_path: Path) -> None:
    path = run_file(tmp_path / "run.json", 6)
    described = descriptors_of(contexts(path).values())
    (found,) = cpu_crossovers(load_results([path]), descriptors=described)  # pipe is no single copy
    expected = ("cma-read", "cpu_ns", "crossover", 65536, 6)
    assert (found.challenger, found.metric, found.kind, found.size, found.pairs) == expected
    assert found.margin is not None and 1.5 < found.margin < 1.8  # 1 / 0.6, per block


def test_without_blocks_or_with_too_few_the_cpu_view_is_undecided(tmp_path: Path) -> None:
    unblocked = run_file(tmp_path / "unblocked.json", 6, blocked=False)
    (found,) = cpu_crossovers(load_results([unblocked]), descriptors=descriptors_of(contexts(unblocked).values()))
    assert (found.kind, found.size, found.reason) == ("undecided", None, UNPAIRED)
    few = run_file(tmp_path / "few.json", 5)
    (found,) = cpu_crossovers(load_results([few]), descriptors=descriptors_of(contexts(few).values()))
    assert found.kind == "undecided" and found.reason.startswith("too few blocks: 5")


def test_thresholds_keeps_the_cpu_view_apart_from_the_time_crossover(tmp_path: Path) -> None:
    path = run_file(tmp_path / "run.json", 6)
    result = compute(load_results([path]), contexts=contexts(path))
    time = {c.challenger: c.kind for c in result.crossovers}
    assert time["cma-read"] == "never"  # slower at every size
    text = markdown(result)
    assert "## CPU view (not the time crossover): CPU per message against shm: pingpong, placement l3, wait block" \
        in text
    assert "| cma-read | 64K | 1K–64K" in text and "waiting ranks sleep: this is the work" in text


def test_spin_figures_and_tables_say_the_cpu_includes_spinning(tmp_path: Path) -> None:
    path = run_file(tmp_path / "run.json", 6, wait="spin")
    rows = load_results([path])
    described = descriptors_of(contexts(path).values())
    text = markdown(compute(rows, contexts=contexts(path)))
    assert "includes the spinning" in text
    assert "INCLUDES SPIN-WAITING" in figure_note("spin") and "the work" in figure_note("block")
    data = prepare(rows, summarize(rows), problems(rows), [], described)
    assert data.cells[CPU_PER_BYTE].notna().all()
    drawn = {f.kind: f for f in draw_figures(data, tmp_path)}
    assert drawn["cpu"].path.name == "cpu-pingpong-l3-spin.png" and drawn["cpu"].path.exists()
    assert set(drawn["cpu"].lines) == {"shm", "cma-read", "pipe"}


def test_files_without_a_cpu_metric_draw_no_cpu_figure(tmp_path: Path) -> None:
    path = run_file(tmp_path / "run.json", 2)
    old = json.loads(path.read_text())
    del old["context"]["scenarios"]["pingpong"]["cpu_metric"]
    path.write_text(json.dumps(old))
    rows = load_results([path])
    data = prepare(rows, summarize(rows), problems(rows), [], descriptors_of([old["context"]]))
    assert CPU_PER_BYTE not in data.cells and "cpu" not in {f.kind for f in draw_figures(data, tmp_path)}
    assert compute(rows, contexts=contexts(path)).cpu == []
