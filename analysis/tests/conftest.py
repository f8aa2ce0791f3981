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
