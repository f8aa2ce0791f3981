"""descriptors.py: what a mechanism or scenario is comes from the result file's context, so an
invented mechanism is treated by its descriptor with no change to the analysis; a file from
before descriptors reads as it always has."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import row

from ipcatlas_analysis.cells import time_metric
from ipcatlas_analysis.cli import main
from ipcatlas_analysis.descriptors import LEGACY, descriptors_of
from ipcatlas_analysis.inputs import read_inputs
from ipcatlas_analysis.load import load_results
from ipcatlas_analysis.plot_command import plot_data
from ipcatlas_analysis.plots import draw_figures
from ipcatlas_analysis.recommend import transports
from ipcatlas_analysis.thresholds import challenger_order, crossovers, fastest_ranges

SIZES = (1024, 4096, 16384, 65536)
# One-way ns per size. dbl (the double copy) wins up to 4K; pull-copy from 16K; newcopy at 64K;
# floor, a reference, would win from 16K and must never be called the fastest.
TIMES = {"dbl": [1, 2, 8, 30], "pull-copy": [9, 9, 5, 10], "push-copy": [9, 9, 6, 20], "newcopy": [9, 9, 9, 9],
         "floor": [2, 2.5, 0.5, 0.5], "other": [20, 20, 20, 40]}


def mechanism(api: str, moves: str, copies: int, single_copy: bool = False, reference: bool = False) -> dict[str, Any]:
    """A descriptor as the binary writes it."""
    return {"summary": f"made up: {api}", "copies": copies, "copies_note": "", "permissions": "none", "api": api,
            "moves": moves, "single_copy": single_copy, "reference": reference, "one_tracer_per_tracee": False,
            "wait_policies": ["spin", "yield", "block"]}


MECHANISMS = {
    "dbl": mechanism("shared memory", "both", 2),
    "pull-copy": mechanism("process_vm_readv", "pull", 1, single_copy=True),
    "push-copy": mechanism("process_vm_writev", "push", 1, single_copy=True),
    "newcopy": mechanism("foo", "pull", 1, single_copy=True),
    "floor": mechanism("shared memory", "none", 0, reference=True),
    "other": mechanism("pipe", "both", 2),
}
SCENARIOS = {"pingpong": {"summary": "one message back and forth", "iteration": "one round trip",
                          "primary_metric": "one_way_ns", "name_keys": ["mechanism", "size", "placement", "wait"],
                          "counters": {"one_way_ns": "ns", "bytes_per_second": "B/s"}},
             "relay": {"summary": "made up", "iteration": "one hop", "primary_metric": "hop_ns",
                       "name_keys": ["mechanism", "size"],
                       "counters": {"hop_ns": "ns", "first_ns": "ns", "hops": "1"}}}
CONTEXT = {"host_name": "made", "scenario": "pingpong", "primary_metric": "one_way_ns", "mechanisms": MECHANISMS,
           "scenarios": SCENARIOS}


def described_run(tmp_path: Path, benchmarks: list[dict[str, Any]] | None = None,
                  context: dict[str, Any] | None = None) -> Path:
    """A result file whose context carries descriptors (by default the made-up mechanisms' ping-pong)."""
    path = tmp_path / "described.json"
    rows = benchmarks if benchmarks is not None else [
        row(f"pingpong/{m}/size:{s}/ranks:2/placement:l3/wait:spin", one_way_ns=t, bytes_per_second=s / t * 1e9)
        for m, times in TIMES.items() for s, t in zip(SIZES, times)]
    path.write_text(json.dumps({"context": CONTEXT if context is None else context, "benchmarks": rows}))
    return path


def test_an_invented_single_copy_and_reference_are_treated_by_their_descriptors(tmp_path: Path) -> None:
    path = described_run(tmp_path)
    rows, described = load_results([path]), descriptors_of(read_inputs([path]).contexts.values())
    assert described.single_copy("newcopy") and described.reference("floor") and described.references() == ("floor",)
    found = crossovers(rows, "dbl", descriptors=described)
    assert [c.challenger for c in found] == ["newcopy", "pull-copy", "push-copy", "floor", "other"]
    assert challenger_order(["other", "newcopy", "floor"], "dbl") == ["floor", "newcopy", "other"]  # 0.1.x: by name
    fastest = fastest_ranges(rows, descriptors=described)
    assert [(r.mechanism, r.from_size, r.to_size) for r in fastest.itertuples()] == [
        ("dbl", 1024, 4096), ("pull-copy", 16384, 16384), ("newcopy", 65536, 65536)]
    assert set(fastest_ranges(rows)["mechanism"]) == {"dbl", "floor"}  # read as 0.1.x, floor would win


def test_thresholds_recommend_from_the_mechanisms_the_descriptors_name(tmp_path: Path) -> None:
    out = tmp_path / "thresholds.json"
    assert main(["thresholds", str(described_run(tmp_path)), "--baseline", "dbl", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert [c["challenger"] for c in result["crossovers"]] == ["newcopy", "pull-copy", "push-copy", "floor", "other"]
    assert "floor" not in {r["mechanism"] for r in result["fastest"]}
    settings = {s["parameter"].split(" ")[0]: s for s in result["settings"]}
    assert settings["smsc"]["value"] == "cma"
    assert settings["MPIR_CVAR_CH4_IPC_CMA_P2P_THRESHOLD"]["value"] == "16384"
    assert settings["MPIR_CVAR_CH4_IPC_CMA_P2P_THRESHOLD"]["evidence"].startswith("pull-copy vs dbl: 16K")
    assert settings["UCX_RNDV_SCHEME"]["value"] == "get_zcopy"
    assert "(pull-copy)" in settings["UCX_RNDV_SCHEME"]["meaning"]
    assert "dbl reaches 90%" in settings["btl_sm_max_send_size"]["evidence"]


def test_the_reference_is_never_marked_on_a_figure(tmp_path: Path) -> None:
    path = described_run(tmp_path)
    data = plot_data(load_results([path]), "dbl", 0.05, descriptors_of(read_inputs([path]).contexts.values()))
    (out := tmp_path / "plots").mkdir()
    assert any((c.challenger, c.kind, c.size) == ("floor", "crossover", 16384) for c in data.crossovers)
    latency = next(f for f in draw_figures(data, out) if f.kind == "latency")
    assert latency.markers == ["newcopy beats dbl from 64K", "pull-copy beats dbl from 16K",
                               "push-copy beats dbl from 16K"]  # not floor's


def test_a_scenario_declares_its_time_and_units(tmp_path: Path) -> None:
    path = described_run(tmp_path, [row(f"relay/dbl/size:{s}", first_ns=1.0, hop_ns=2.0) for s in SIZES])
    rows, described = load_results([path]), descriptors_of(read_inputs([path]).contexts.values())
    assert time_metric(rows, described) == "hop_ns"  # not first_ns, first by name
    assert time_metric(rows) is None  # read as 0.1.x: round_ns, which relay does not have
    assert (described.unit("relay", "hops"), described.unit("relay", "hop_ns")) == ("1", "ns")
    assert described.unit("relay", "spare_bytes_per_second") == "B/s"  # undeclared: by name, as load.py reads it
    assert described.primary_metric("alltoall") is None  # a new file's binary would have declared it
    old = {"host_name": "0.1.x"}
    assert descriptors_of([CONTEXT, old]).primary_metric("alltoall") == "round_ns"


def test_a_file_without_descriptors_gives_the_answers_of_0_1_x() -> None:
    old = descriptors_of([{"host_name": "0.1.x", "scenario": "pingpong", "primary_metric": "one_way_ns"}])
    everything = ["cma-read", "cma-write", "vmsplice", "zerocopy", "shm", "pipe", "ptrace", "procmem-read"]
    assert [m for m in everything if old.single_copy(m)] == ["cma-read", "cma-write", "vmsplice"]
    assert old.references() == ("zerocopy",)
    assert (transports(old).double_copy, transports(old).pull, transports(old).push) == ("shm", "cma-read",
                                                                                         "cma-write")
    assert [old.primary_metric(s) for s in ("pingpong", "stream", "alltoall", "manytoone", "onetomany")] == [
        "one_way_ns", "window_ns", "round_ns", "round_ns", "round_ns"]
    assert descriptors_of([]) == LEGACY  # rows read without their contexts


def test_the_descriptors_of_a_newer_file_win_over_the_old_table() -> None:
    # A new binary that says vmsplice is no single copy, next to a 0.1.x file: the file's word counts,
    # and the old table only fills in what no file describes.
    newer = {**CONTEXT, "mechanisms": {**MECHANISMS, "vmsplice": mechanism("vmsplice", "push", 1)}}
    mixed = descriptors_of([{"host_name": "0.1.x"}, newer])
    assert not mixed.single_copy("vmsplice") and mixed.single_copy("cma-read") and mixed.single_copy("newcopy")
    assert mixed.references() == ("floor", "zerocopy")
    assert descriptors_of([newer]).references() == ("floor",)


@pytest.mark.parametrize(("context", "error"), [
    ({"mechanisms": ["shm"]}, '"mechanisms" is a list, not an object'),
    ({"mechanisms": {"shm": "double"}}, "mechanisms 'shm' is a string, not an object"),
    ({"mechanisms": {"x": {"single_copy": "yes"}}}, "mechanisms 'x': \"single_copy\" is a string, not a boolean"),
    ({"mechanisms": {"x": {"copies": True}}}, '"copies" is a boolean, not an integer'),
    ({"scenarios": {"pingpong": {"primary_metric": 1}}}, '"primary_metric" is an integer, not a string'),
    ({"scenarios": {"pingpong": {"counters": {"one_way_ns": 1}}}}, '"counters" has a unit that is not a string'),
])
def test_a_crafted_descriptor_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                context: dict[str, Any], error: str) -> None:
    path = described_run(tmp_path, context=context)
    assert main(["thresholds", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}: context: " in err and error in err
