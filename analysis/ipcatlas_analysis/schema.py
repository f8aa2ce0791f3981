"""The shape of a result file (Google Benchmark 1.7.1 JSON plus ipcatlas fields), checked
once, before anything reads it, so that no crafted or damaged file can reach pandas,
matplotlib or the statistics as something they would crash on.

parse_document() returns the document or raises SchemaError saying which field of
which benchmark is wrong and why; load.py adds the file name.
"""
from __future__ import annotations

import json
import math
from typing import Any

from .units import INT64_MAX

MAX_DEPTH = 32  # a result file is 4 levels deep; json.dumps and json_safe recurse over contexts
MAX_NAME_CHARS = 1024  # a real name is under 200 characters; names end up in file names and legends

# Fields a benchmark entry may have, with the JSON type each must have when present.
# (Unknown fields are allowed: Google Benchmark and ipcatlas add new ones.)
FIELD_TYPES: dict[str, type] = {
    "name": str,
    "run_name": str,
    "run_type": str,
    "aggregate_name": str,
    "error_occurred": bool,
    "error_message": str,
    "ipcatlas_status": str,
    "skip_message": str,
    "repetition_index": int,
    "repetitions": int,
    # The run order and the drift canary (README: "Run order and the drift canary").
    "block": int,
    "block_position": int,
    "canary_state": int,
    "canary_outlier": bool,
}
# Counters of an entry that must not reach the statistics as anything but non-negative integers.
COUNT_FIELDS = ("repetition_index", "repetitions", "block", "block_position")
# Facts about a run that are numbers but not measurements of the mechanism.
RUN_NUMBERS = ("start_unix_s", "canary_ns")
# Not metrics although they end in _ns: the canary measures the host, not the mechanism, and
# must never be compared, plotted or gated as if it were a mechanism's time.
NOT_METRICS = frozenset({"canary_ns"})
# Context fields the canary writes, with a check of their text (the context holds strings).
CANARY_STATES = ("1", "2")
# The descriptors in a context (descriptors.py reads them): objects of objects, keyed by mechanism
# or scenario, with the JSON type of each field that is read (other fields are left alone).
MECHANISMS = "mechanisms"
SCENARIOS = "scenarios"
DESCRIPTOR_FIELDS: dict[str, dict[str, type]] = {
    MECHANISMS: {"api": str, "moves": str, "copies": int, "single_copy": bool, "reference": bool,
                 "mapping_page_size": int},
    SCENARIOS: {"primary_metric": str, "counters": dict, "cpu_metric": str},
}


class SchemaError(ValueError):
    """What is wrong with a document; the message names the benchmark and the field."""


def parse_document(data: bytes) -> dict[str, Any]:
    """Decode and check a result file's bytes."""
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise SchemaError(f"not JSON: not UTF-8 at byte {error.start}") from None
    except RecursionError:
        raise SchemaError("not a result file: JSON nested too deeply") from None
    except ValueError as error:  # JSONDecodeError, and integers of more than 4300 digits
        raise SchemaError(f"not JSON: {error}") from None
    return check_document(document)


def check_document(document: object) -> dict[str, Any]:
    """The document itself if it has the shape of a result file."""
    if not isinstance(document, dict):
        raise SchemaError(f"not Google Benchmark JSON: the document is {json_type(document)}, not an object")
    if _deeper_than(document, MAX_DEPTH):
        raise SchemaError(f"not a result file: nested deeper than {MAX_DEPTH} levels")
    if not isinstance(document.get("context"), dict):
        raise SchemaError("not Google Benchmark JSON (no \"context\" object)")
    benchmarks = document.get("benchmarks")
    if not isinstance(benchmarks, list):
        raise SchemaError("not Google Benchmark JSON (\"benchmarks\" is not a list)")
    check_canary_context(document["context"])
    check_descriptors(document["context"])
    for index, benchmark in enumerate(benchmarks):
        check_benchmark(index, benchmark)
    return document


def check_canary_context(context: dict[str, Any]) -> None:
    """The canary's summary in the context: states.py reads these, so they must parse."""
    states = context.get("canary_states")
    if states is not None and states not in CANARY_STATES:
        raise SchemaError(f"context: \"canary_states\" is {_shown(states)}, not \"1\" or \"2\"")
    for field, parse in (("canary_state_ns", float), ("canary_state_runs", int)):
        if field not in context:
            continue
        value = context[field]
        try:
            parts = [parse(part) for part in value.split(",")] if isinstance(value, str) else []
        except ValueError:
            parts = []
        if len(parts) != 2 or not all(math.isfinite(p) and p >= 0 for p in parts):
            raise SchemaError(f"context: \"{field}\" is {_shown(value)}, not two numbers >= 0 "
                              "(\"low,high\")")


def check_descriptors(context: dict[str, Any]) -> None:
    """The mechanisms and scenarios a context describes: each an object whose read fields have
    their JSON type, and a scenario's counters an object of unit strings."""
    for key, fields in DESCRIPTOR_FIELDS.items():
        table = context.get(key, {})
        if not isinstance(table, dict):
            raise SchemaError(f"context: \"{key}\" is {json_type(table)}, not an object")
        for name, entry in table.items():
            where = f"context: {key} {_shown(name)}"
            if not isinstance(entry, dict):
                raise SchemaError(f"{where} is {json_type(entry)}, not an object")
            for field, expected in fields.items():
                if field in entry and not _is_type(entry[field], expected):
                    raise SchemaError(f"{where}: \"{field}\" is {json_type(entry[field])}, "
                                      f"not {json_type(expected())}")
            units = entry.get("counters", {}) if key == SCENARIOS else {}
            if not all(isinstance(unit, str) for unit in units.values()):
                raise SchemaError(f"{where}: \"counters\" has a unit that is not a string")


def check_benchmark(index: int, benchmark: object) -> None:
    """One entry of "benchmarks": an object with a name, known fields of the right type, and
    every metric (a field ending in _ns or bytes_per_second) a JSON number."""
    if not isinstance(benchmark, dict):
        raise SchemaError(f"benchmarks[{index}] is {json_type(benchmark)}, not an object")
    name = benchmark.get("name")
    if not isinstance(name, str):
        raise SchemaError(f"not Google Benchmark JSON: benchmarks[{index}] has no \"name\" string")
    where = f"benchmarks[{index}] ({name[:80]!r})"
    if len(name) > MAX_NAME_CHARS:
        raise SchemaError(f"{where}: the name is {len(name)} characters long; at most {MAX_NAME_CHARS}")
    for field, expected in FIELD_TYPES.items():
        value = benchmark.get(field)
        if field in benchmark and not _is_type(value, expected):
            raise SchemaError(f"{where}: \"{field}\" is {json_type(value)}, not {json_type(expected())}")
    for field in COUNT_FIELDS:
        if field in benchmark and not 0 <= benchmark[field] <= INT64_MAX:
            raise SchemaError(f"{where}: \"{field}\" {benchmark[field]} is out of range")
    if benchmark.get("canary_state", 0) not in (0, 1):
        raise SchemaError(f"{where}: \"canary_state\" {benchmark['canary_state']} is not 0 or 1")
    for field in RUN_NUMBERS:
        number = as_number(benchmark[field]) if field in benchmark else 0.0
        if number is None or not math.isfinite(number) or number < 0:
            raise SchemaError(f"{where}: \"{field}\" is {_shown(benchmark[field])}, not a finite number >= 0")
    for field, value in benchmark.items():
        if is_metric_name(field) and as_number(value) is None:
            found = f"an integer of {len(str(value))} digits" if isinstance(value, int) else json_type(value)
            raise SchemaError(f"{where}: metric \"{field}\" is {found}, not a number")


def is_metric_name(field: str) -> bool:
    """Whether a field is a measurement: generic so later scenarios' counters are picked up."""
    return field not in NOT_METRICS and (field.endswith("_ns") or field.endswith("bytes_per_second"))


def _shown(value: object) -> str:
    """A crafted value for a one-line message: short, and only its type when it is not text or a number."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return json_type(value)
    text = repr(value) if isinstance(value, str) else str(value)
    return text[:40] + ("..." if len(text) > 40 else "")


def as_number(value: object) -> float | None:
    """A JSON number as a float (NaN and ±Infinity included, as Google Benchmark writes them),
    or None for anything else; an integer too large for a float is None too."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def json_type(value: object) -> str:
    """"a list", "null", "a string": how an error message names what it found."""
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
             dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _is_type(value: object, expected: type) -> bool:
    # bool is an int in Python but not in JSON: repetition_index true is not 1.
    return isinstance(value, expected) and (expected is bool or not isinstance(value, bool))


def _deeper_than(document: object, limit: int) -> bool:
    """Whether containers nest more than `limit` levels; iterative, so a deep document cannot
    exhaust the stack here either."""
    stack: list[tuple[object, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False
