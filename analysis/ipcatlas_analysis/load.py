"""Read ipcatlas result files (Google Benchmark 1.7.1 JSON) into one table.

One row per measured repetition. Benchmark names are parsed generically
(SCENARIO/MECHANISM/key:value/...) and every numeric field ending in `_ns` or
`bytes_per_second` is a metric, so new scenarios, mechanisms and name keys
need no change here.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from .safe_input import InputFileError, read_input
from .schema import SchemaError, as_number, is_metric_name, parse_document
from .units import parse_count

OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"
STATUSES = (OK, FAILED, SKIPPED)
SKIP_PREFIX = "skipped: "

# Keys every table has, even when a name lacks them, so callers can rely on them.
STANDARD_KEYS = ("size", "ranks", "placement", "wait")
# Keys a name carries only away from their default (ipcatlas run --segments N: "segments:N" only
# for N > 1): once any file has one, a name without it holds the default, so that N = 1 and N = 16
# of one mechanism can be compared (segmentation.py).
DEFAULTED_KEYS = {"segments": "1"}
# Keys that place a measurement on a figure; the others (ranks, window, ...) form its "variant".
LAYOUT_KEYS = ("size", "placement", "wait")
BASE_COLUMNS = ("file", "name", "scenario", "mechanism", "variant", "status", "message", "repetition", "source")
# When and in which state of the host each repetition ran (README: "Run order and the drift
# canary"), with their column types; missing (NA) in files written before these fields existed.
RUN_COLUMNS = {"block": "Int64", "block_position": "Int64", "start_unix_s": "float64", "canary_ns": "float64",
               "canary_state": "Int64", "canary_outlier": "boolean"}
ITERATION = "iteration"
MEDIAN_AGGREGATE = "median-aggregate"
# Columns every row has: a name key with one of these names would overwrite it.
RESERVED_KEYS = frozenset(BASE_COLUMNS) | {"repetitions"} | frozenset(RUN_COLUMNS)


class ResultFileError(InputFileError):
    """A result file is missing, unreadable or not Google Benchmark JSON.

    The message always starts with the file name, so a CLI can print it as is.
    """


def metric_columns(table: pd.DataFrame) -> list[str]:
    """The metric columns of a table from load_results() or cells.summarize()."""
    return [column for column in table.columns if is_metric_name(column)]


def name_key_columns(table: pd.DataFrame) -> list[str]:
    """The columns that came from key:value parts of benchmark names."""
    fixed = RESERVED_KEYS
    return [column for column in table.columns if column not in fixed and not is_metric_name(column)]


def read_document(path: str | Path) -> dict[str, Any]:
    """Read and validate one result file (safe_input, then schema); raises ResultFileError
    naming the file and, for a bad entry, the benchmark and the field."""
    try:
        return parse_document(read_input(path))
    except InputFileError as error:
        raise ResultFileError(str(error)) from None
    except SchemaError as error:
        raise ResultFileError(f"{path}: {error}") from None


def load_context(path: str | Path) -> dict[str, Any]:
    """The run's context: machine, kernel, ipcatlas version and settings (placement, wait, ...)."""
    context: dict[str, Any] = read_document(path)["context"]
    return context


def parse_name(name: str) -> dict[str, str]:
    """Split SCENARIO/MECHANISM/key:value/... into a dict of strings.

    Parts without a colon (Google Benchmark's "real_time" or "manual_time"
    suffixes) say how the time was taken, not what was measured, and are dropped.
    """
    parts = name.split("/")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise ValueError(f"benchmark name {name!r} is not SCENARIO/MECHANISM/key:value/...")
    keys = {"scenario": parts[0], "mechanism": parts[1]}
    for part in parts[2:]:
        key, colon, value = part.partition(":")
        if colon:
            if key in RESERVED_KEYS or is_metric_name(key):
                raise ValueError(f"benchmark name {name[:80]!r}: key {key[:40]!r} would overwrite a column")
            keys[key] = value
    return keys


def row_status(benchmark: dict[str, Any]) -> tuple[str, str]:
    """Status (ok/failed/skipped) and message of one result row.

    ipcatlas writes `ipcatlas_status`; older files only have Google Benchmark's
    error fields, where a skip is an error whose message starts "skipped: ".
    A row marked as an error never counts as ok, whatever its status says.
    """
    error = str(benchmark.get("error_message", ""))
    status = benchmark.get("ipcatlas_status")
    if status is None:
        if not benchmark.get("error_occurred"):
            status = OK
        else:
            status = SKIPPED if error.startswith(SKIP_PREFIX) else FAILED
    if status not in STATUSES or (status == OK and benchmark.get("error_occurred")):
        return FAILED, error or f"unknown ipcatlas_status {status!r}"
    if status == SKIPPED:
        return SKIPPED, str(benchmark.get("skip_message") or error.removeprefix(SKIP_PREFIX))
    return status, error


def run_name(benchmark: dict[str, Any]) -> str:
    """The benchmark's name without the "_median"-style suffix of aggregate rows."""
    name = str(benchmark["name"])
    if benchmark.get("run_type") == "aggregate":
        return name.removesuffix("_" + str(benchmark.get("aggregate_name", "")))
    return name


def select_rows(benchmarks: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    """Rows to analyse, each with its source: every iteration row, and for runs
    that have only aggregates (--benchmark_report_aggregates_only) the median one.

    Our own statistics need the individual repetitions; Google Benchmark's mean
    and stddev aggregates are skewed by the outliers IPC measurements have.
    """
    with_iterations = {run_name(b) for b in benchmarks if b.get("run_type", ITERATION) == ITERATION}
    chosen: list[tuple[dict[str, Any], str]] = []
    for benchmark in benchmarks:
        if benchmark.get("run_type", ITERATION) == ITERATION:
            chosen.append((benchmark, ITERATION))
        elif benchmark.get("aggregate_name") == "median" and run_name(benchmark) not in with_iterations:
            chosen.append((benchmark, MEDIAN_AGGREGATE))
    return chosen


def result_row(benchmark: dict[str, Any], source: str, file: str) -> dict[str, Any]:
    """One table row; metrics are kept only for ok rows, so an error can never become a number."""
    name = run_name(benchmark)
    keys = parse_name(name)
    if "size" in keys and not _is_count(keys["size"]):
        raise ValueError(f"benchmark {name[:80]!r}: size {keys['size'][:40]!r} is not a number of bytes "
                         "(ASCII digits, at most 2^63-1)")
    status, message = row_status(benchmark)
    row: dict[str, Any] = dict(keys)
    row.update(
        file=file,
        name=name,
        variant="/".join(f"{k}:{v}" for k, v in keys.items() if k not in ("scenario", "mechanism", *LAYOUT_KEYS)),
        status=status,
        message=message,
        repetition=benchmark.get("repetition_index", 0),
        source=source,
    )
    # Aggregate rows describe several runs: no one block, time or canary is theirs.
    row.update({field: benchmark.get(field) if source == ITERATION else None for field in RUN_COLUMNS})
    if status == OK:
        row.update(_metrics(benchmark, name))
    return row


def _metrics(benchmark: dict[str, Any], name: str) -> dict[str, float]:
    """The metrics of an ok row. schema.py made sure they are JSON numbers; an ok measurement
    must also be finite (Google Benchmark writes NaN and Infinity, which no statistic can use)."""
    metrics: dict[str, float] = {}
    for field, value in benchmark.items():
        number = as_number(value) if is_metric_name(field) else None
        if number is not None and not math.isfinite(number):
            raise ValueError(f"benchmark {name[:80]!r}: metric {field!r} of an ok result is {value}, "
                             "not a finite number")
        if number is not None:
            metrics[field] = number
    return metrics


def load_results(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Read result files into one table, one row per repetition.

    Columns: file, name, scenario, mechanism, size (Int64), ranks, placement,
    wait, any other name keys, variant (the name keys other than size,
    placement and wait, e.g. "ranks:2"), status, message, repetition, source
    (iteration or median-aggregate), the RUN_COLUMNS (block, block_position,
    start_unix_s, canary_ns, canary_state, canary_outlier: NA where the file has
    none) and the metric columns (NaN unless ok).
    Raises ResultFileError naming the first bad file.
    """
    rows: list[dict[str, Any]] = []
    for path in paths:
        document = read_document(path)
        try:
            rows.extend(result_row(b, source, str(path)) for b, source in select_rows(document["benchmarks"]))
        except ValueError as error:
            raise ResultFileError(f"{path}: {error}") from error
    table = pd.DataFrame(rows, columns=_column_order(rows))
    for field, dtype in RUN_COLUMNS.items():
        table[field] = pd.array([None if pd.isna(v) else v for v in table[field]], dtype=dtype)
    return _typed_keys(table)


def _column_order(rows: list[dict[str, Any]]) -> list[str]:
    """Base columns, standard keys, other keys, then metrics, each in first-seen order."""
    seen = list(dict.fromkeys(key for row in rows for key in row))
    extra_keys = [k for k in seen if k not in RESERVED_KEYS and k not in STANDARD_KEYS and not is_metric_name(k)]
    metrics = [k for k in seen if is_metric_name(k)]
    return [*BASE_COLUMNS[:4], *STANDARD_KEYS, *extra_keys, *BASE_COLUMNS[4:], *RUN_COLUMNS, *metrics]


def _typed_keys(table: pd.DataFrame) -> pd.DataFrame:
    """Name keys whose values are all whole numbers become Int64 (size, ranks, window);
    the others stay strings, with "" where a name lacks the key."""
    for key in name_key_columns(table):
        if key in DEFAULTED_KEYS:  # a name leaves the key out at its default
            table[key] = table[key].fillna(DEFAULTED_KEYS[key])
        present = table[key].dropna()
        if key == "size" or (len(present) and present.map(_is_count).all()):
            table[key] = pd.array([None if pd.isna(v) else parse_count(str(v)) for v in table[key]], dtype="Int64")
        else:
            table[key] = table[key].fillna("").astype(str)
    return table


def _is_count(text: object) -> bool:
    try:
        parse_count(str(text))
    except ValueError:
        return False
    return True
