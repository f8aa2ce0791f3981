"""Import the output of the peer tools users already run, so it can be overlaid on
ipcatlas figures and compared in threshold tables.

read_peer() detects the format from the content and returns rows in the schema of
load.load_results(): mechanism "peer:LABEL", ranks 2, no placement or wait, status
ok, and the metrics one_way_ns and bytes_per_second in ipcatlas units (ns, and SI
bytes per second). Ping-pong rows carry both, bytes_per_second being size / one-way
time as in ipcatlas's own pingpong rows; stream rows carry bytes_per_second only.
A size measured twice in one file (runs appended to one file) becomes repetitions.

The formats, their units and how each is detected are in peer_formats.py.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .load import BASE_COLUMNS, STANDARD_KEYS, ResultFileError
from .peer_formats import FORMATS, BadLine, Measurement
from .safe_input import InputFileError, read_input

PEER_PREFIX = "peer:"
RANKS = 2
METRICS = ("one_way_ns", "bytes_per_second")
MAX_LABEL_CHARS = 200  # it is drawn in legends


class PeerFileError(ResultFileError):
    """A peer tool's output that cannot be imported; the message starts with the file name."""


# --- the public interface --------------------------------------------------------------------

def read_peer(path: str | Path, label: str | None = None) -> pd.DataFrame:
    """Read one peer tool's output (format detected from the content) into rows in the
    schema of load.load_results(); see the module docstring for the formats and units.

    `label` replaces the default label (the tool and what it measured). Raises
    PeerFileError, naming the file, for an unreadable file, an unknown format (the
    message lists the known ones), a malformed line (named by its number) or a file
    without measurements.
    """
    if label is not None and (not label or "/" in label or len(label) > MAX_LABEL_CHARS):
        raise PeerFileError(f"{path}: label {label[:40]!r} must be 1 to {MAX_LABEL_CHARS} characters without '/' "
                            "(names use '/')")
    lines = _read_lines(path)
    peer_format = next((f for f in FORMATS if f.detect(lines)), None)
    if peer_format is None:
        known = "; ".join(f.name for f in FORMATS)
        raise PeerFileError(f"{path}: unknown format: not one of {known}")
    try:
        measurements = peer_format.parse(lines, Path(path).stem)
    except BadLine as error:
        raise PeerFileError(f"{path}: {peer_format.name}: {error}") from error
    if not measurements:
        raise PeerFileError(f"{path}: {peer_format.name}: no measurements")
    return _table([_row(m, str(path), label, peer_format.source) for m in measurements])


def parse_peer_option(text: str) -> tuple[str | None, Path]:
    """'LABEL=PATH' -> (LABEL, PATH); 'PATH' -> (None, PATH). For a --peer [LABEL=]FILE option.

    A '=' belongs to the path when what precedes it contains '/' (a directory), so
    'runs/n=2.out' is a path; a label can therefore hold neither '/' nor '='.
    """
    label, equals, path = text.partition("=")
    if not equals or "/" in label:
        return None, Path(text)
    if not label or not path:
        raise PeerFileError(f"{text}: --peer wants [LABEL=]FILE")
    return label, Path(path)


def read_peers(options: Sequence[str]) -> pd.DataFrame:
    """read_peer() for each --peer option, concatenated (an empty table with the schema's
    columns when there are none)."""
    tables = [read_peer(path, label) for label, path in map(parse_peer_option, options)]
    if not tables:
        return _table([])
    table = pd.concat(tables, ignore_index=True)
    if "dir" in table:
        table["dir"] = table["dir"].fillna("")
    return table[_columns(list(table.columns))]


def _read_lines(path: str | Path) -> list[str]:
    try:
        return read_input(path).decode("utf-8").splitlines()
    except InputFileError as error:
        raise PeerFileError(str(error)) from None
    except UnicodeDecodeError as error:
        raise PeerFileError(f"{path}: not a text file: {error.reason} at byte {error.start}") from None


def _row(measurement: Measurement, file: str, label: str | None, source: str) -> dict[str, object]:
    """One row as load.result_row() makes it: the name keys, then the rest."""
    mechanism = PEER_PREFIX + (label or measurement.label)
    keys = {"size": str(measurement.size), "ranks": str(RANKS)}
    if measurement.direction:
        keys["dir"] = measurement.direction
    name = "/".join([measurement.scenario, mechanism, *(f"{k}:{v}" for k, v in keys.items())])
    return {"file": file, "name": name, "scenario": measurement.scenario, "mechanism": mechanism,
            "size": measurement.size, "ranks": RANKS, "placement": "", "wait": "",
            **({"dir": measurement.direction} if measurement.direction else {}),
            "variant": "/".join(f"{k}:{v}" for k, v in keys.items() if k != "size"),
            "status": measurement.status, "message": measurement.message, "source": source,
            "one_way_ns": measurement.one_way_ns, "bytes_per_second": measurement.bytes_per_second}


def _table(rows: list[dict[str, object]]) -> pd.DataFrame:
    """The rows in load_results()'s column order and types; a size met again is a repetition."""
    columns = _columns(list(dict.fromkeys(key for row in rows for key in row)))
    table = pd.DataFrame(rows, columns=columns)
    table["repetition"] = table.groupby("name").cumcount() if len(table) else pd.Series(dtype="int64")
    table = table.astype({"size": "Int64", "ranks": "Int64", "repetition": "int64",
                          **{metric: "float64" for metric in METRICS}})
    if "dir" in table:
        table["dir"] = table["dir"].fillna("")
    return table


def _columns(present: list[str]) -> list[str]:
    """Base columns, standard keys, "dir" when a row has it, then the metrics."""
    extra = ["dir"] if "dir" in present else []
    return [*BASE_COLUMNS[:4], *STANDARD_KEYS, *extra, *BASE_COLUMNS[4:], *METRICS]
