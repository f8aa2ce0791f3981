"""A result file made uniformly slower: what the CI gate must catch.

ci/false-alarms compares real reruns (the gate must pass: any failure is a
false alarm) and, for each pair, a copy of one run made `factor` times slower
(the gate must fail); the tests build their slowed fixtures the same way.
Usage: python -m ipcatlas_analysis.scaled IN.json OUT.json FACTOR
"""
from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .load import ITERATION

# Times in an entry that are not `_ns` metrics but Google Benchmark's own columns.
_GB_TIMES = ("real_time", "cpu_time")
# Measures the host before the run, not the code under test: a slower build leaves it alone.
_HOST = ("canary_ns",)


def scaled_value(key: str, value: Any, factor: float) -> Any:
    """One field of an entry `factor` times slower: times multiplied, bandwidth divided."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or key in _HOST:
        return value
    if key.endswith("_ns") or key in _GB_TIMES:
        return value * factor
    return value / factor if key.endswith("bytes_per_second") else value


def scaled_document(document: dict[str, Any], factor: float,
                    repetitions: set[int] | None = None) -> dict[str, Any]:
    """The repetition entries (those in `repetitions`, all for None; no aggregates, which would
    no longer match), every one `factor` times slower; the context as it was."""
    entries = [{key: scaled_value(key, value, factor) for key, value in entry.items()}
               for entry in document["benchmarks"]
               if entry.get("run_type", ITERATION) == ITERATION
               and (repetitions is None or entry.get("repetition_index", 0) in repetitions)]
    return {**document, "benchmarks": entries}


def write_scaled(source: Path, target: Path, factor: float, repetitions: set[int] | None = None) -> Path:
    """scaled_document() of a file, written to target."""
    document = json.loads(source.read_text())
    target.write_text(json.dumps(scaled_document(document, factor, repetitions), indent=1) + "\n")
    return target


def main(argv: Sequence[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m ipcatlas_analysis.scaled IN.json OUT.json FACTOR", file=sys.stderr)
        return 2
    write_scaled(Path(argv[0]), Path(argv[1]), float(argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
