"""The peer tools' output formats peers.read_peer() knows, each detected from the content
and parsed into Measurements in ipcatlas units.

NetPIPE 3.x np.out (`NPtcp -h HOST -o np.out`, `mpirun -np 2 NPopenmpi -o np.out`)
    One line per size, written by netpipe.c as fprintf("%8d %lf %12.8lf", bytes,
    Mbps, seconds):

               8 21.790943   0.00000280

    seconds is the lowest over NetPIPE's trials of (trial time / repeats) / 2: half
    a round trip. "Mbps" is bits / (seconds * 1024 * 1024), i.e. units of 2^20
    bits/s, not 10^6 (netpipe.c, checked on every line of the samples here). The
    seconds column has 10 ns resolution (0.27 us is 0.00000027), so the one-way
    time is taken from the Mbps column, which has ~7 significant digits:
    one_way_ns = bytes * 8 / (Mbps * 2^20) * 1e9, checked against the seconds
    column to its printed rounding (a mismatch is a malformed line).
    bytes_per_second = Mbps * 2^20 / 8. The file does not say how NetPIPE ran:
    the default ping-pong is assumed (-s streaming and -2 bidirectional runs write
    the same columns with other meanings), and the label defaults to the file
    name (NPtcp.out -> "NPtcp"; NetPIPE's default np.out -> "netpipe").

ucx_perftest -v (CSV), one or more client runs, each after its command line
    The CSV has neither the test nor the message size, and the server prints the
    size only in its own banner, so each run must follow a comment holding the
    client's command line; the test comes from -t and the size from -s (the sum of
    a scatter-gather list; 8 when absent, ucx_perftest's default):

        # ucx_perftest localhost -t tag_lat -s 1024 -n 10000 -w 1000 -v -f -p 13420
        iterations,50.0_percentile_lat,avg_lat,overall_lat,avg_bw,overall_bw,avg_mr,overall_mr
        10000,0.641,10.023,10.023,97.43,97.43,99767,99767

    Made by a loop that echoes each command before running it:

        for s in 8 1024 65536; do
          ucx_perftest -t tag_lat -s $s -f -p 13420 >/dev/null & sleep 1
          cmd="ucx_perftest localhost -t tag_lat -s $s -v -f -p 13420"
          echo "# $cmd"; $cmd; wait
        done > tag_lat.csv

    The last row of a run is its result (without -f, progress rows precede it).
    Latencies are in usec; for *_lat tests (ping-pong) libperf divides the round
    trip by 2, so overall_lat is the mean one-way time. Bandwidth is in MB/s with
    MB = 2^20 bytes (perftest.c divides by 1024.0 * 1024.0); for *_lat tests it is
    size / one-way time. *_lat tests -> pingpong (one_way_ns = overall_lat * 1e3,
    bytes_per_second = overall_bw * 2^20); *_bw tests -> stream, dir uni
    (bytes_per_second = overall_bw * 2^20). Label: "ucx_perftest TEST".

OSU micro-benchmarks osu_latency, osu_bw, osu_bibw (5.x to 7.x)
    A header, comment lines, then "size value [more columns]":

        # OSU MPI Latency Test v7.5
        # Datatype: MPI_CHAR.
        # Size       Avg Latency(us)        Validation
        8                       3.07              Pass

    osu_latency: us, (round trip time / iterations) / 2, i.e. one-way (osu_latency.c:
    t_total * 1e6 / (2.0 * iterations)) -> pingpong, one_way_ns = us * 1e3,
    bytes_per_second = size / one-way time. osu_bw: MB/s with MB = 10^6 bytes
    (size / 1e6 * iterations * window / time) -> stream, dir uni, bytes_per_second
    = MB/s * 1e6. osu_bibw: the same counting both directions -> stream, dir bi.
    The first value column is used, so 7.x's extra columns (Validation, tail
    percentiles, ...) are ignored, except that a row whose validation says "Fail"
    is imported as failed. Lines outside the tables (MPI warnings) are skipped.
    Size 0 rows are dropped: ipcatlas sizes start at 1 byte and the size axis is
    logarithmic. Label: "osu_latency", "osu_bw" or "osu_bibw".

A value printed as 0 (below the tool's two printed decimals) becomes NaN: it is
no measurement, and a zero would break logarithmic axes.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .load import FAILED, OK
from .units import INT64_MAX, parse_count

PINGPONG = "pingpong"
STREAM = "stream"
MEBI = 2.0 ** 20  # NetPIPE's "Mbps" are 2^20 bits/s; ucx_perftest's MB are 2^20 bytes
MEGA = 1e6  # OSU's MB are 10^6 bytes


class BadLine(ValueError):
    """A malformed line; read_peer adds the file name."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")


@dataclass(frozen=True)
class Measurement:
    """One measured size of a peer tool, already in ipcatlas units."""

    scenario: str  # pingpong or stream
    label: str  # the default label: the tool and what it measured
    size: int  # bytes per message
    one_way_ns: float = math.nan
    bytes_per_second: float = math.nan
    direction: str = ""  # "uni" or "bi" for stream, "" for pingpong
    status: str = OK
    message: str = ""


Parser = Callable[[Sequence[str], str], list[Measurement]]


@dataclass(frozen=True)
class PeerFormat:
    """A format read_peer knows: how to recognise it and how to read it."""

    name: str  # for error messages
    source: str  # the rows' "source" column
    detect: Callable[[Sequence[str]], bool]
    parse: Parser  # (lines, file name stem) -> measurements


# --- NetPIPE ---------------------------------------------------------------------------------

_NETPIPE_LINE = re.compile(r"^\s*\d+\s+\d+\.\d+\s+\d+\.\d+", re.ASCII)


def _detect_netpipe(lines: Sequence[str]) -> bool:
    """NetPIPE writes nothing but its number lines, so the first one decides."""
    first = next((line for line in lines if line.strip()), "")
    return bool(_NETPIPE_LINE.match(first))


def _parse_netpipe(lines: Sequence[str], stem: str) -> list[Measurement]:
    label = "netpipe" if stem == "np" else stem
    return [_netpipe_line(number, line, label) for number, line in _numbered(lines) if line.strip()]


def _netpipe_line(number: int, line: str, label: str) -> Measurement:
    fields = line.split()
    if len(fields) < 3:
        raise BadLine(number, f"expected 'bytes Mbps seconds', got {line.strip()!r}")
    size = _integer(number, fields[0], "bytes")
    mbps = _number(number, fields[1], "Mbps")
    seconds = _number(number, fields[2], "seconds")
    if mbps <= 0:
        raise BadLine(number, f"Mbps {fields[1]} is not positive")
    one_way = size * 8 / (mbps * MEBI)
    # Both columns come from the same time; they differ only by their printed rounding.
    allowed = _rounding(fields[2]) + one_way * _rounding(fields[1]) / mbps + 1e-15
    if abs(one_way - seconds) > allowed:
        raise BadLine(number, f"{fields[0]} bytes at {fields[1]} Mbps (2^20 bits/s) take {one_way:.8f} s, "
                              f"not {fields[2]} s: not NetPIPE 3.x output")
    return Measurement(PINGPONG, label, size, one_way_ns=one_way * 1e9, bytes_per_second=mbps * MEBI / 8)


# --- ucx_perftest ----------------------------------------------------------------------------

_UCX_COMMAND = re.compile(r"^\s*#\s*(.*\bucx_perftest\b.*)$")
_UCX_HEADER = "iterations,"
UCX_DEFAULT_SIZE = 8


@dataclass(frozen=True)
class _UcxRun:
    """What a run's command line says."""

    test: str
    size: int
    line: int


def _detect_ucx(lines: Sequence[str]) -> bool:
    return any(_UCX_COMMAND.match(line) or line.startswith(_UCX_HEADER) for line in lines)


def _parse_ucx(lines: Sequence[str], _stem: str) -> list[Measurement]:
    measurements = []
    run: _UcxRun | None = None
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for number, line in _numbered(lines):
        command = _UCX_COMMAND.match(line)
        if command:
            if run is not None:
                measurements.append(_ucx_result(run, header, rows))
            run, header, rows = _ucx_run(number, command.group(1)), None, []
        elif line.startswith(_UCX_HEADER):
            if run is None or header is not None:
                raise BadLine(number, "ucx_perftest CSV without the command before it: the CSV has no message "
                                      "size, so put '# ucx_perftest ... -t TEST -s SIZE' before each run")
            header = line.strip().split(",")
        elif header is not None and line.count(",") == len(header) - 1:
            rows.append((number, line.strip().split(",")))
    if run is not None:
        measurements.append(_ucx_result(run, header, rows))
    return measurements


def _ucx_run(number: int, command: str) -> _UcxRun:
    try:
        words = shlex.split(command)
    except ValueError as error:
        raise BadLine(number, f"cannot split the command line: {error}") from error
    programs = [i for i, word in enumerate(words) if word.endswith("ucx_perftest")]
    if not programs:
        raise BadLine(number, "no ucx_perftest command on this comment line")
    arguments = words[programs[0] + 1:]
    if _option(arguments, "-b") is not None:
        raise BadLine(number, "batch runs (-b) print no message sizes: run one test per command")
    test = _option(arguments, "-t")
    if test is None:
        raise BadLine(number, "the command has no -t TEST")
    sizes = _option(arguments, "-s") or str(UCX_DEFAULT_SIZE)
    try:
        size = sum(parse_count(part) for part in sizes.split(","))
    except ValueError:
        raise BadLine(number, f"-s {sizes[:40]!r} is not a list of sizes") from None
    if size > INT64_MAX:
        raise BadLine(number, f"-s {sizes[:40]!r} adds up to more than {INT64_MAX} bytes")
    return _UcxRun(test, size, number)


def _option(arguments: Sequence[str], flag: str) -> str | None:
    """The value of a getopt-style option ("-t tag_lat" or "-ttag_lat"), or None."""
    for i, word in enumerate(arguments):
        if word == flag:
            return arguments[i + 1] if i + 1 < len(arguments) else ""
        if word.startswith(flag) and len(word) > len(flag):
            return word[len(flag):]
    return None


def _ucx_result(run: _UcxRun, header: list[str] | None, rows: list[tuple[int, list[str]]]) -> Measurement:
    if header is None or not rows:
        raise BadLine(run.line, "no CSV result follows this command (was -v given?)")
    missing = {"overall_lat", "overall_bw"} - set(header)
    if missing:
        raise BadLine(run.line, f"the CSV header lacks {', '.join(sorted(missing))}")
    number, final = rows[-1]  # progress rows come first; the last row is the whole run
    values = dict(zip(header, final))
    _integer(number, values["iterations"], "iterations")
    latency_us = _number(number, values["overall_lat"], "overall_lat")
    bandwidth = _measured(_number(number, values["overall_bw"], "overall_bw")) * MEBI
    label = f"ucx_perftest {run.test}"
    if run.test.endswith("_lat"):
        return Measurement(PINGPONG, label, run.size, one_way_ns=_measured(latency_us) * 1e3,
                           bytes_per_second=bandwidth)
    if run.test.endswith("_bw"):
        return Measurement(STREAM, label, run.size, bytes_per_second=bandwidth, direction="uni")
    raise BadLine(run.line, f"test {run.test!r} is neither a *_lat ping-pong nor a *_bw stream")


# --- OSU micro-benchmarks --------------------------------------------------------------------

_OSU_HEADER = re.compile(r"^\s*# OSU MPI(?:-\w+)? (Latency|Bandwidth|Bi-Directional Bandwidth) Test\b")
_OSU_DATATYPE = re.compile(r"^\s*# Datatype: (\S+?)\.?\s*$")
_OSU_COLUMNS = re.compile(r"^\s*# Size\b")


@dataclass(frozen=True)
class _OsuTest:
    label: str
    scenario: str
    unit: str  # how the header names the first value column's unit
    direction: str


_OSU_TESTS = {
    "Latency": _OsuTest("osu_latency", PINGPONG, "(us)", ""),
    "Bandwidth": _OsuTest("osu_bw", STREAM, "(MB/s)", "uni"),
    "Bi-Directional Bandwidth": _OsuTest("osu_bibw", STREAM, "(MB/s)", "bi"),
}


def _detect_osu(lines: Sequence[str]) -> bool:
    return any(_OSU_HEADER.match(line) for line in lines)


def _parse_osu(lines: Sequence[str], _stem: str) -> list[Measurement]:
    measurements = []
    test: _OsuTest | None = None
    has_columns = False
    for number, line in _numbered(lines):
        header = _OSU_HEADER.match(line)
        if header:
            test, has_columns = _OSU_TESTS[header.group(1)], False
        elif _OSU_COLUMNS.match(line):
            has_columns = _osu_columns(number, line, test)
        elif datatype := _OSU_DATATYPE.match(line):
            _osu_datatype(number, datatype.group(1))
        elif re.match(r"\s*[0-9]", line):
            if test is None or not has_columns:
                raise BadLine(number, "a number line before an OSU header and its '# Size' line")
            measurements.extend(_osu_row(number, line, test))
    return measurements


def _osu_columns(number: int, line: str, test: _OsuTest | None) -> bool:
    if test is None:
        raise BadLine(number, "a '# Size' line before the OSU header")
    if test.unit not in line:
        raise BadLine(number, f"expected a first column in {test.unit}, got {line.strip()!r}")
    return True


def _osu_datatype(number: int, datatype: str) -> None:
    """Other datatypes measure another thing under the same sizes: refuse rather than pool them."""
    if datatype != "MPI_CHAR":
        raise BadLine(number, f"datatype {datatype}: only MPI_CHAR runs are imported")


def _osu_row(number: int, line: str, test: _OsuTest) -> list[Measurement]:
    fields = line.split()
    if len(fields) < 2:
        raise BadLine(number, f"expected 'size value', got {line.strip()!r}")
    size = _integer(number, fields[0], "size")
    value = _measured(_number(number, fields[1], test.unit))
    if size == 0:
        return []
    if "Fail" in fields[2:]:
        return [Measurement(test.scenario, test.label, size, direction=test.direction, status=FAILED,
                            message="OSU validation failed")]
    if test.scenario == PINGPONG:
        return [Measurement(PINGPONG, test.label, size, one_way_ns=value * 1e3, bytes_per_second=size / value * 1e6)]
    return [Measurement(STREAM, test.label, size, bytes_per_second=value * MEGA, direction=test.direction)]


# --- shared helpers --------------------------------------------------------------------------

def _numbered(lines: Sequence[str]) -> list[tuple[int, str]]:
    """Lines with their 1-based numbers, as an editor shows them."""
    return list(enumerate(lines, start=1))


def _integer(number: int, text: str, what: str) -> int:
    try:
        return parse_count(text)
    except ValueError:
        raise BadLine(number, f"{what} {text[:40]!r} is not a whole number") from None


def _number(number: int, text: str, what: str) -> float:
    try:
        value = float(text) if text.isascii() else math.nan  # float() also reads "١٢٣"
    except ValueError:
        raise BadLine(number, f"{what} {text[:40]!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise BadLine(number, f"{what} {text[:40]!r} is not a finite, non-negative number")
    return value


def _measured(value: float) -> float:
    """A value printed as 0 is below the tool's resolution: no measurement."""
    return value if value > 0 else math.nan


def _rounding(text: str) -> float:
    """Half a unit of the last printed decimal: how far a printed value may be from the true one."""
    return 0.5 * 10.0 ** -len(text.partition(".")[2])


FORMATS = (
    PeerFormat("OSU osu_latency/osu_bw/osu_bibw output", "peer:osu", _detect_osu, _parse_osu),
    PeerFormat("ucx_perftest -v CSV", "peer:ucx_perftest", _detect_ucx, _parse_ucx),
    PeerFormat("NetPIPE np.out", "peer:netpipe", _detect_netpipe, _parse_netpipe),
)
