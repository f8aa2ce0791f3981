"""Input files for fuzzing the analysis commands: copies of the real result
fixtures in analysis/tests/inputs and crafted files that have broken JSON
loaders before (null or list repetition indexes, sizes beyond int64, non-ASCII
digits, Infinity and NaN metrics, 100000-deep nesting, a 100k-character name).

Made once per fuzz session in a directory of their own; the fuzz cases only
read them, and `fingerprint` lets the caller check that nothing wrote there."""
from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from e2e_support import REPO

FIXTURES = REPO / "analysis" / "tests" / "inputs"
TOPOLOGY = REPO / "results" / "topologies" / "2pack-4numa-smt.xml"
GOOD = ("repetitions.json", "pingpong_4mech.json", "skipped_failed.json", "stream_small.json",
        "alltoall_small.json", "aggregates_only.json", "compare_base.json", "compare_regressed.json")
PEERS = ("NPtcp.out", "osu_latency_5.8.txt", "osu_bibw_7.5_validation.txt", "ucx_tag_lat.csv")
Edit = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class AnalysisInputs:
    """Paths the generator draws analysis arguments from."""

    root: Path
    good: tuple[str, ...]  # result files the analysis must accept
    odd: tuple[str, ...]  # crafted files it may accept or refuse, but never crash on
    bad: tuple[str, ...]  # files it must refuse with exit 2
    history: tuple[str, ...]  # the runs of analysis/tests/inputs/history, and their directory
    peers: tuple[str, ...]  # real NetPIPE, OSU and ucx_perftest output
    bad_peers: tuple[str, ...]
    topology: str  # a real hwloc XML for `list --placements --topology`


def _each_benchmark(change: Callable[[dict[str, Any]], None]) -> Edit:
    def edit(document: dict[str, Any]) -> None:
        for benchmark in document["benchmarks"]:
            change(benchmark)
    return edit


def _rename_size(size: str) -> Edit:
    def change(b: dict[str, Any]) -> None:
        for key in ("name", "run_name"):
            if key in b:
                b[key] = b[key].replace("size:64/", f"size:{size}/")
    return _each_benchmark(change)


def _long_name(b: dict[str, Any]) -> None:
    b["name"] = b["run_name"] = b["name"].replace("pingpong/shm/", "pingpong/" + "s" * 100_000 + "/")


CRAFTED: dict[str, Edit] = {
    "repetition_null.json": _each_benchmark(lambda b: b.update(repetition_index=None)),
    "repetition_list.json": _each_benchmark(lambda b: b.update(repetition_index=[0, 1])),
    "size_beyond_int64.json": _rename_size("99999999999999999999999"),
    "size_unicode_digits.json": _rename_size("١٢"),
    "size_negative.json": _rename_size("-64"),
    "metric_infinity.json": _each_benchmark(lambda b: b.update(one_way_ns=float("inf"), real_time=float("inf"))),
    "metric_nan.json": _each_benchmark(lambda b: b.update(one_way_ns=float("nan"))),
    "metric_string.json": _each_benchmark(lambda b: b.update(one_way_ns="fast", bytes_per_second=None)),
    "metric_negative.json": _each_benchmark(lambda b: b.update(one_way_ns=-1e308, real_time=-1.0)),
    "name_long.json": _each_benchmark(_long_name),
    "name_number.json": _each_benchmark(lambda b: b.update(name=64, run_name=64)),
    "name_dollar.json": _each_benchmark(lambda b: b.update(name=b["name"].replace("shm", "$x^$"))),
    "context_list.json": lambda d: d.update(context=[]),
    "benchmarks_object.json": lambda d: d.update(benchmarks={"a": 1}),
    "status_odd.json": _each_benchmark(lambda b: b.update(ipcatlas_status="%s%n", error_occurred="yes")),
}
# Not JSON an analysis can use at all: each must be a one-line exit 2.
BROKEN: dict[str, str] = {
    "empty.json": "",
    "deep_nesting.json": '{"context": {}, "benchmarks": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "not_object.json": "[1, 2, 3]",
    "truncated.json": '{"context": {"date": "2024-11-21"}, "benchmarks": [{"name": "pingpong/sh',
    "binary.json": "\x00\xff\xfe garbage \x1b[31m",
}
GARBAGE_PEER = "garbage.out"


def make_inputs(root: Path) -> AnalysisInputs:
    """Copy the fixtures into root and write the crafted files next to them."""
    root.mkdir(parents=True, exist_ok=True)
    for name in (*GOOD, "malformed.json"):
        shutil.copy(FIXTURES / name, root / name)
    shutil.copytree(FIXTURES / "history", root / "history")
    for name in PEERS:
        shutil.copy(FIXTURES / "peers" / name, root / name)
    shutil.copy(TOPOLOGY, root / "topology.xml")
    template = json.loads((FIXTURES / "repetitions.json").read_text())
    for name, edit in CRAFTED.items():
        document = json.loads(json.dumps(template))
        edit(document)
        (root / name).write_text(json.dumps(document))  # allow_nan: writes Infinity and NaN
    for name, text in BROKEN.items():
        (root / name).write_text(text, errors="surrogateescape")
    (root / GARBAGE_PEER).write_text("# not a peer tool's output\n1 2 3\nabc\n")
    history = root / "history"
    return AnalysisInputs(
        root=root,
        good=tuple(str(root / n) for n in GOOD),
        odd=tuple(str(root / n) for n in CRAFTED),
        bad=(*(str(root / n) for n in (*BROKEN, "malformed.json")), "/dev/zero", "/dev/null", str(root / "missing.json")),
        history=(str(history), *(str(p) for p in sorted(history.glob("*.json")))),
        peers=tuple(str(root / n) for n in PEERS),
        bad_peers=(str(root / GARBAGE_PEER), "/dev/zero", str(root / "missing.out"), str(root)),
        topology=str(root / "topology.xml"),
    )


def fingerprint(root: Path) -> str:
    """A hash of every file under root, to check that no case modified an input."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()
