"""Crafted and damaged inputs: every command ends with exit 2 and one line naming the file,
never a traceback. Hostile files (fifos, devices, huge files) are made in tmp_path."""
from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import row

from ipcatlas_analysis import safe_input
from ipcatlas_analysis.cli import main
from ipcatlas_analysis.report import write_report

GOOD = [row(f"pingpong/{m}/size:{s}/ranks:2", one_way_ns=v) for m, s, v in
        (("shm", 64, 100.0), ("shm", 4096, 500.0), ("cma-read", 64, 600.0), ("cma-read", 4096, 400.0))]


def document(*benchmarks: object, context: object = None) -> bytes:
    return json.dumps({"context": {"host_name": "x"} if context is None else context,
                       "benchmarks": [*GOOD, *benchmarks]}).encode()


def with_field(**fields: object) -> bytes:
    return document({**row("pingpong/pipe/size:64/ranks:2", one_way_ns=900.0), **fields})


def raw_field(field: str, token: str) -> bytes:
    """A benchmark with a field whose JSON token json.dumps would not write (Infinity, 5000 digits)."""
    return with_field(**{field: "TOKEN"}).replace(b'"TOKEN"', token.encode())


def named(name: str) -> bytes:
    return document(row(name, one_way_ns=900.0))


# name -> (file content, what the error line must say)
CRAFTED: dict[str, tuple[bytes, str]] = {
    "repetition_index list": (with_field(repetition_index=[1]), '"repetition_index" is a list, not an integer'),
    "repetition_index null": (with_field(repetition_index=None), '"repetition_index" is null, not an integer'),
    "repetition_index Infinity": (raw_field("repetition_index", "Infinity"), '"repetition_index" is a number'),
    "repetition_index negative": (with_field(repetition_index=-1), "out of range"),
    "repetition_index 2^64": (with_field(repetition_index=2 ** 64), "out of range"),
    "block a string": (with_field(block="3"), '"block" is a string, not an integer'),
    "block negative": (with_field(block=-1), '"block" -1 is out of range'),
    "block_position a number": (with_field(block_position=1.5), '"block_position" is a number, not an integer'),
    "canary_state 2": (with_field(canary_state=2), '"canary_state" 2 is not 0 or 1'),
    "canary_outlier 1": (with_field(canary_outlier=1), '"canary_outlier" is an integer, not a boolean'),
    "canary_ns negative": (with_field(canary_ns=-5), '"canary_ns" is -5, not a finite number >= 0'),
    "canary_ns NaN": (raw_field("canary_ns", "NaN"), '"canary_ns" is nan, not a finite number'),
    "start_unix_s a list": (with_field(start_unix_s=[1]), '"start_unix_s" is a list, not a finite number'),
    "canary_states 3": (document(context={"canary_states": "3"}), '"canary_states" is \'3\', not "1" or "2"'),
    "canary_state_ns one value": (document(context={"canary_state_ns": "50"}), '"canary_state_ns" is \'50\''),
    "canary_state_runs text": (document(context={"canary_state_runs": "a,b"}), "not two numbers >= 0"),
    "Unicode digits in a size": (named("pingpong/pipe/size:١٢٣/ranks:2"), "is not a number of bytes"),
    "superscript size": (named("pingpong/pipe/size:²/ranks:2"), "is not a number of bytes"),
    "size beyond int64": (named("pingpong/pipe/size:99999999999999999999/ranks:2"), "is not a number of bytes"),
    "metric Infinity": (raw_field("one_way_ns", "Infinity"), "'one_way_ns' of an ok result is inf"),
    "metric NaN": (raw_field("one_way_ns", "NaN"), "'one_way_ns' of an ok result is nan"),
    "metric string": (with_field(bytes_per_second="fast"), 'metric "bytes_per_second" is a string'),
    "metric of 5000 digits": (raw_field("p99_ns", "9" * 5000), "not JSON"),
    "metric of 400 digits": (raw_field("p99_ns", "9" * 400),
                             'metric "p99_ns" is an integer of 400 digits, not a number'),
    "name 100,000 characters": (named("pingpong/" + "m" * 100_000 + "/size:8"), "at most 1024"),
    "name key over a column": (named("pingpong/pipe/size:8/one_way_ns:5"), "would overwrite a column"),
    "status a list": (with_field(ipcatlas_status=["ok"]), '"ipcatlas_status" is a list, not a string'),
    "error_occurred a string": (with_field(error_occurred="yes"), '"error_occurred" is a string, not a boolean'),
    "benchmark not an object": (document(5), "benchmarks[4] is an integer, not an object"),
    "context not an object": (document(context=[1]), 'no "context" object'),
    "document a list": (b"[1, 2]", "the document is a list, not an object"),
    "nested 100,000 deep": (b'{"context": {}, "benchmarks": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                            "nested too deeply"),
    "nested 40 deep in the context": (document(context={"a": json.loads("[" * 40 + "]" * 40)}), "nested deeper"),
    "not UTF-8": (b'{"context": {"host": "\xff\xfe"}, "benchmarks": []}', "not UTF-8 at byte"),
    "truncated": (document()[:-10], "not JSON"),
    "empty": (b"", "not JSON"),
}


def command_lines(bad: Path, good: Path, out: Path) -> dict[str, list[str]]:
    return {
        "thresholds": ["thresholds", str(bad)],
        "plot": ["plot", str(bad), "-o", str(out)],
        "report": ["report", str(good), str(bad), "-o", str(out)],
        "compare": ["compare", str(good), str(bad)],
        "history": ["history", str(good), str(bad), "--order", "given", "-o", str(out)],
    }


def check_refused(tmp_path: Path, bad: Path, capsys: pytest.CaptureFixture[str], says: str) -> None:
    good = tmp_path / "good.json"
    good.write_bytes(document())
    for command, args in command_lines(bad, good, tmp_path / "out").items():
        assert main(args) == 2, command
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"ipcatlas {command}: error: {bad}: "), (command, err)
        assert says in err, (command, err)
        assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", CRAFTED)
def test_a_crafted_result_file_is_exit_2_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     name: str) -> None:
    content, says = CRAFTED[name]
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    check_refused(tmp_path, bad, capsys, says)


def make_fifo(path: Path) -> None:
    os.mkfifo(path)


def make_zero_device(path: Path) -> None:
    """A character device like /dev/zero (1, 5), made here: reading it would never end."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 5))
    except PermissionError:
        pytest.skip("mknod needs CAP_MKNOD")


def make_huge(path: Path) -> None:
    with path.open("wb") as stream:
        stream.truncate(safe_input.MAX_INPUT_BYTES + 1)  # sparse: costs no disk


@pytest.mark.parametrize(("make", "says"), [(make_fifo, "it is a fifo, not a regular file"),
                                            (make_zero_device, "it is a character device, not a regular file"),
                                            (Path.mkdir, ""),  # history reads a directory's *.json
                                            (make_huge, "more than 1073741824 bytes")])
def test_an_input_that_is_not_a_small_regular_file_is_refused_unread(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Callable[[Path], None], says: str) -> None:
    bad = tmp_path / "bad.json"
    make(bad)
    check_refused(tmp_path, bad, capsys, says)


def test_reading_is_bounded_even_if_the_size_lies(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # A /proc file is a regular file of "0 bytes" with content: only the bounded read catches it.
    status = Path("/proc/self/status")
    assert status.stat().st_size == 0 and len(status.read_bytes()) > 100
    monkeypatch.setattr(safe_input, "MAX_INPUT_BYTES", 100)
    assert main(["thresholds", str(status)]) == 2
    assert "more than 100 bytes" in capsys.readouterr().err


def test_a_key_too_large_for_a_number_stays_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run.json"
    run.write_bytes(named("pingpong/pipe/size:8/ranks:99999999999999999999"))
    assert main(["thresholds", str(run)]) == 0
    assert "ranks:99999999999999999999" in capsys.readouterr().out


PEER_CRAFTED: dict[str, tuple[bytes, str]] = {
    "NetPIPE Unicode digits": (b"\xd9\xa1 1.5 0.00000280\n", "unknown format"),
    "NetPIPE 5000-digit size": (("9" * 5000 + " 21.790943   0.00000280\n").encode(), "is not a whole number"),
    "OSU superscript size": (b"# OSU MPI Latency Test v7.5\n# Size Avg Latency(us)\n8\xc2\xb2 3.07\n",
                             "is not a whole number"),
    "OSU Arabic-Indic value": ("# OSU MPI Latency Test v7.5\n# Size Avg Latency(us)\n8 ٣\n".encode(),
                               "is not a finite, non-negative number"),
    "ucx Unicode size": ("# ucx_perftest localhost -t tag_lat -s ١٢٣\niterations,overall_lat,overall_bw\n"
                         "10,1.0,2.0\n".encode(), "is not a list of sizes"),
    "ucx size sum beyond int64": (b"# ucx_perftest localhost -t tag_lat -s 9223372036854775807,9\n"
                                  b"iterations,overall_lat,overall_bw\n10,1.0,2.0\n", "adds up to more than"),
    "not UTF-8": (b"\xff\xfe osu\n", "not a text file"),
}


@pytest.mark.parametrize("name", PEER_CRAFTED)
def test_a_crafted_peer_file_is_exit_2_in_one_line(inputs: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str], name: str) -> None:
    content, says = PEER_CRAFTED[name]
    peer = tmp_path / "peer.out"
    peer.write_bytes(content)
    assert main(["thresholds", str(inputs / "pingpong_4mech.json"), "--peer", str(peer)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{peer}: " in err and says in err, err


@pytest.mark.parametrize("make", [make_fifo, make_zero_device])
def test_a_peer_that_is_not_a_regular_file_is_refused(inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      make: Callable[[Path], None]) -> None:
    peer = tmp_path / "np.out"
    make(peer)
    assert main(["thresholds", str(inputs / "pingpong_4mech.json"), "--peer", f"OpenMPI={peer}"]) == 2
    assert "not a regular file" in capsys.readouterr().err


def test_a_peer_label_longer_than_a_legend_is_refused(inputs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    peer = inputs / "peers" / "NPtcp.out"
    assert main(["thresholds", str(inputs / "pingpong_4mech.json"), "--peer", f"{'x' * 300}={peer}"]) == 2
    assert "must be 1 to 200 characters" in capsys.readouterr().err


def test_dollars_underscores_and_backslashes_in_labels_are_text_not_mathtext(inputs: Path, tmp_path: Path) -> None:
    source = json.loads((inputs / "pingpong_4mech.json").read_text())
    for benchmark in source["benchmarks"]:
        benchmark["name"] = benchmark["name"].replace("/pipe/", "/$x^$_p\\ipe/")
    run = tmp_path / "run.json"
    run.write_text(json.dumps(source))
    peer = tmp_path / "np.out"
    shutil.copy(inputs / "peers" / "NPtcp.out", peer)
    report = write_report([run], tmp_path / "r", peers=[f"$x^$={peer}"])
    latency = next(f for f in report.figures if f.kind == "latency")
    assert "$x^$_p\\ipe" in latency.lines and "peer:$x^$" in latency.lines
    assert "$x^$_p\\ipe" in (tmp_path / "r" / "latency-pingpong-l3-spin.svg").read_text()
