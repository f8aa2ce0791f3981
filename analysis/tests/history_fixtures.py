"""Synthetic histories for the `ipcatlas history` tests: copies of the golden runs of
inputs/history (see inputs/README.md), optionally uniformly slower (scaled.scaled_document,
as ci/false-alarms makes them), cut to fewer repetitions, with context keys set."""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ipcatlas_analysis.scaled import scaled_document

HISTORY_RUNS = Path(__file__).resolve().parent / "inputs" / "history"
SHM_4K = "pingpong/shm/size:4096/ranks:2/placement:l3/wait:spin"
# b, d and a differ by noise only (shm 4K is planted slower in c and e); a's pipe 64K failed, d has no pipe 64.
QUIET = ("b", "d", "a")


def make_run(target: Path, source: str = "b", factor: float = 1.0, repetitions: int | None = None,
             **context: Any) -> Path:
    """run-SOURCE.json written to target, `factor` times slower (1: unchanged), with only the
    first `repetitions` repetitions (None: all 9), and these context keys set (None removes one)."""
    document = json.loads((HISTORY_RUNS / f"run-{source}.json").read_text())
    if factor != 1.0 or repetitions is not None:
        document = scaled_document(document, factor, None if repetitions is None else set(range(repetitions)))
    target.write_text(json.dumps(with_context(document, context)))
    return target


def with_context(document: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """The result document with these context keys set (a None value removes the key)."""
    for key, value in context.items():
        if value is None:
            document["context"].pop(key, None)
        else:
            document["context"][key] = value
    return document


def make_history(directory: Path, count: int, factors: dict[int, float] | None = None,
                 contexts: Sequence[dict[str, Any]] = (), repetitions: int | None = None) -> list[Path]:
    """run01.json..runNN.json (position 1..count) in directory, cycling through the quiet golden
    runs; factors and contexts are per position (contexts[i] for position i + 1)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for position in range(1, count + 1):
        context = contexts[position - 1] if position <= len(contexts) else {}
        paths.append(make_run(directory / f"run{position:02}.json", QUIET[(position - 1) % len(QUIET)],
                              (factors or {}).get(position, 1.0), repetitions, **context))
    return paths


def hex_commit(digit: str) -> str:
    """A made-up full commit hash: 40 times one hex digit."""
    return digit * 40
