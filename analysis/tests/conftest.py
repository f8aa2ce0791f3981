"""Make ipcatlas_analysis importable from a checkout and name the golden inputs."""
from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ANALYSIS_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ANALYSIS_DIR))

INPUTS = Path(__file__).resolve().parent / "inputs"


@pytest.fixture
def inputs() -> Path:
    """The directory of hand-written result files."""
    return INPUTS


@pytest.fixture
def make_result(tmp_path: Path) -> Callable[..., Path]:
    """Write a minimal result file with the given benchmark rows; returns its path."""
    def make(benchmarks: list[dict[str, Any]], file_name: str = "made.json") -> Path:
        path = tmp_path / file_name
        path.write_text(json.dumps({"context": {"host_name": "made"}, "benchmarks": benchmarks}))
        return path
    return make


def row(name: str, **metrics: float) -> dict[str, Any]:
    """An ok iteration row of a made-up result file."""
    return {"name": name, "run_type": "iteration", "iterations": 1000, "ipcatlas_status": "ok", **metrics}


def derive(source: Path, out: Path, repetitions: set[int] | None = None, factor: float = 1.0) -> Path:
    """A copy of a result file with only some repetitions (all for None; no aggregates), every
    time metric multiplied by factor and bandwidth divided by it: the same run, `factor` times slower."""
    document = json.loads(source.read_text())
    entries = []
    for entry in document["benchmarks"]:
        kept = repetitions is None or entry.get("repetition_index", 0) in repetitions
        if entry.get("run_type", "iteration") == "iteration" and kept:
            entries.append({key: _scaled(key, value, factor) for key, value in entry.items()})
    document["benchmarks"] = entries
    out.write_text(json.dumps(document))
    return out


def _scaled(key: str, value: Any, factor: float) -> Any:
    if not isinstance(value, float) or key == "canary_ns":  # the canary measures the host, not the code
        return value
    if key.endswith("_ns") or key in ("real_time", "cpu_time"):
        return value * factor
    return value / factor if key == "bytes_per_second" else value
