"""peers.py: NetPIPE, ucx_perftest and OSU output imported on real samples (tests/inputs/peers/)."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from ipcatlas_analysis.cells import summarize
from ipcatlas_analysis.load import load_results, metric_columns
from ipcatlas_analysis.peers import PEER_PREFIX, PeerFileError, parse_peer_option, read_peer, read_peers

MEBI = 2 ** 20


@pytest.fixture
def peers(inputs: Path) -> Path:
    return inputs / "peers"


def one(rows: pd.DataFrame, size: int) -> pd.Series:
    """The single row of a size."""
    matching = rows[rows["size"] == size]
    assert len(matching) == 1
    return matching.iloc[0]


def copy_with(source: Path, target: Path, old: str, new: str) -> Path:
    """A real sample with one edit, to make a malformed variant of it."""
    text = source.read_text()
    assert old in text
    target.write_text(text.replace(old, new, 1))
    return target


# --- NetPIPE -----------------------------------------------------------------------------------

def test_netpipe_tcp_sample(peers: Path) -> None:
    rows = read_peer(peers / "NPtcp.out")
    assert len(rows) == 32
    assert rows["size"].tolist()[:6] == [1, 2, 3, 4, 6, 8] and rows["size"].iloc[-1] == 65536
    assert set(rows["mechanism"]) == {"peer:NPtcp"} and set(rows["source"]) == {"peer:netpipe"}
    assert set(rows["scenario"]) == {"pingpong"} and set(rows["variant"]) == {"ranks:2"}
    # "   65536 40571.323551   0.00001232": Mbps are 2^20 bits/s, the time is one-way
    row = one(rows, 65536)
    assert row["name"] == "pingpong/peer:NPtcp/size:65536/ranks:2"
    assert row["one_way_ns"] == pytest.approx(65536 * 8 / (40571.323551 * MEBI) * 1e9, rel=1e-12)
    assert row["one_way_ns"] == pytest.approx(0.00001232 * 1e9, abs=5)  # the seconds column, to its rounding
    assert row["bytes_per_second"] == pytest.approx(40571.323551 * MEBI / 8, rel=1e-12)
    assert row["bytes_per_second"] == pytest.approx(65536 / (row["one_way_ns"] * 1e-9), rel=1e-12)
    assert row["bytes_per_second"] != pytest.approx(40571.323551 * 1e6 / 8, rel=0.01)  # not SI megabits


def test_netpipe_takes_sub_microsecond_times_from_the_mbps_column(peers: Path) -> None:
    rows = read_peer(peers / "NPopenmpi.out")
    assert len(rows) == 32 and set(rows["mechanism"]) == {"peer:NPopenmpi"}
    # "       1 27.996500   0.00000027": the seconds column says 270 ns to 10 ns; Mbps give 272.5 ns
    row = one(rows, 1)
    assert row["one_way_ns"] == pytest.approx(8 / (27.996500 * MEBI) * 1e9, rel=1e-12)
    assert row["one_way_ns"] == pytest.approx(272.5, abs=0.05)
    assert abs(row["one_way_ns"] - 270) <= 5


def test_netpipe_default_output_name_gives_the_tool_name(peers: Path, tmp_path: Path) -> None:
    copy = tmp_path / "np.out"
    copy.write_text((peers / "NPopenmpi.out").read_text())
    assert set(read_peer(copy)["mechanism"]) == {"peer:netpipe"}


def test_netpipe_line_whose_columns_disagree_is_malformed(peers: Path, tmp_path: Path) -> None:
    # 10^6-bit "Mbps" (not what NetPIPE 3.x writes) would make the time column disagree.
    bad = copy_with(peers / "NPtcp.out", tmp_path / "bad.out", "4096 10128.037708", "4096 10604.300000")
    with pytest.raises(PeerFileError, match=r"bad\.out: NetPIPE np\.out: line 24: 4096 bytes at 10604\.3"):
        read_peer(bad)


# --- ucx_perftest ------------------------------------------------------------------------------

def test_ucx_tag_lat_sample(peers: Path) -> None:
    rows = read_peer(peers / "ucx_tag_lat.csv")
    assert rows["size"].tolist() == [8, 1024, 65536]  # from each command's -s
    assert set(rows["mechanism"]) == {"peer:ucx_perftest tag_lat"} and set(rows["scenario"]) == {"pingpong"}
    assert set(rows["source"]) == {"peer:ucx_perftest"}
    # "10000,3.781,49.926,99.682,1251.86,626.99,20030,10032": overall_lat us, overall_bw MB (2^20 bytes)/s
    row = one(rows, 65536)
    assert row["one_way_ns"] == pytest.approx(99682.0)
    assert row["bytes_per_second"] == pytest.approx(626.99 * MEBI)
    # ucx_perftest's bandwidth of a *_lat test is size / one-way time: the latency is half the round trip
    assert row["bytes_per_second"] == pytest.approx(65536 / (row["one_way_ns"] * 1e-9), rel=1e-4)


def test_ucx_tag_bw_sample_is_a_stream(peers: Path) -> None:
    rows = read_peer(peers / "ucx_tag_bw.csv")
    assert rows["size"].tolist() == [8, 1024, 65536]
    assert set(rows["scenario"]) == {"stream"} and set(rows["dir"]) == {"uni"}
    row = one(rows, 8)  # "10000,0.157,0.143,0.143,53.24,53.24,6977714,6977714"
    assert row["name"] == "stream/peer:ucx_perftest tag_bw/size:8/ranks:2/dir:uni"
    assert row["variant"] == "ranks:2/dir:uni"
    assert row["bytes_per_second"] == pytest.approx(53.24 * MEBI) and math.isnan(row["one_way_ns"])


def test_ucx_result_is_the_last_row_after_progress_rows(peers: Path) -> None:
    rows = read_peer(peers / "ucx_tag_lat_progress.csv")
    assert len(rows) == 1
    row = one(rows, 64)  # "2000000,0.326,1.120,4.958,54.49,12.31,892785,201682"
    assert row["one_way_ns"] == pytest.approx(4958.0) and row["bytes_per_second"] == pytest.approx(12.31 * MEBI)


@pytest.mark.parametrize(("command", "size", "scenario"), [
    ("ucx_perftest localhost -t tag_lat -s 16,48 -v", 64, "pingpong"),  # a scatter-gather list is one message
    ("ucx_perftest localhost -t tag_lat -v", 8, "pingpong"),  # ucx_perftest's default size
    ("/usr/bin/ucx_perftest localhost -ttag_bw -s4096 -v", 4096, "stream"),  # getopt's attached values
])
def test_ucx_command_line_gives_test_and_size(peers: Path, tmp_path: Path, command: str, size: int,
                                              scenario: str) -> None:
    edited = copy_with(peers / "ucx_tag_lat_progress.csv", tmp_path / "run.csv",
                       "ucx_perftest localhost -t tag_lat -s 64 -n 2000000 -w 1000 -v -p 13420", command)
    row = read_peer(edited).iloc[0]
    assert (row["size"], row["scenario"]) == (size, scenario)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("# ucx_perftest localhost -t tag_lat -s 64 -n 2000000 -w 1000 -v -p 13420\n", "",
     r"line 1: ucx_perftest CSV without the command before it"),
    ("-t tag_lat -s 64", "-t ucp_get -s 64", r"line 1: test 'ucp_get' is neither"),
    ("-t tag_lat -s 64", "-b tests.batch", r"line 1: batch runs \(-b\) print no message sizes"),
    ("2000000,0.326,1.120,4.958", "2000000,0.326,1.120,x", r"line 22: overall_lat 'x' is not a number"),
])
def test_ucx_malformed_runs(peers: Path, tmp_path: Path, old: str, new: str, message: str) -> None:
    edited = copy_with(peers / "ucx_tag_lat_progress.csv", tmp_path / "run.csv", old, new)
    with pytest.raises(PeerFileError, match=message):
        read_peer(edited)


def test_ucx_zero_printed_value_is_no_measurement(peers: Path, tmp_path: Path) -> None:
    edited = copy_with(peers / "ucx_tag_lat_progress.csv", tmp_path / "run.csv", ",54.49,12.31,", ",0.00,0.00,")
    row = read_peer(edited).iloc[0]
    assert math.isnan(row["bytes_per_second"]) and row["one_way_ns"] == pytest.approx(4958.0)


# --- OSU ---------------------------------------------------------------------------------------

def test_osu_latency_5_8(peers: Path) -> None:
    rows = read_peer(peers / "osu_latency_5.8.txt")
    assert len(rows) == 23  # 24 lines, size 0 dropped
    assert rows["size"].tolist() == [2 ** e for e in range(23)]
    assert set(rows["mechanism"]) == {"peer:osu_latency"} and set(rows["source"]) == {"peer:osu"}
    row = one(rows, 4194304)  # "4194304               880.00": one-way us
    assert row["one_way_ns"] == pytest.approx(880_000.0)
    assert row["bytes_per_second"] == pytest.approx(4194304 / 880e-6)
    assert one(rows, 1)["one_way_ns"] == pytest.approx(230.0)


def test_osu_bw_5_8_megabytes_are_si(peers: Path) -> None:
    rows = read_peer(peers / "osu_bw_5.8.txt")
    assert len(rows) == 23 and set(rows["scenario"]) == {"stream"} and set(rows["dir"]) == {"uni"}
    row = one(rows, 1048576)  # "1048576              9112.58"
    assert row["bytes_per_second"] == pytest.approx(9112.58e6) and math.isnan(row["one_way_ns"])
    assert row["name"] == "stream/peer:osu_bw/size:1048576/ranks:2/dir:uni"


def test_osu_7_5_extra_columns_and_bidirectional(peers: Path) -> None:
    latency = read_peer(peers / "osu_latency_7.5_validation.txt")  # MPI warnings, then "Avg Latency(us) Validation"
    assert len(latency) == 23 and one(latency, 8)["one_way_ns"] == pytest.approx(3070.0)
    assert set(latency["status"]) == {"ok"}
    bibw = read_peer(peers / "osu_bibw_7.5_validation.txt")
    assert len(bibw) == 23 and set(bibw["mechanism"]) == {"peer:osu_bibw"}
    row = one(bibw, 4194304)  # "4194304             46433.80              Pass": both directions counted
    assert row["bytes_per_second"] == pytest.approx(46433.80e6)
    assert (row["scenario"], row["dir"], row["variant"]) == ("stream", "bi", "ranks:2/dir:bi")


def test_osu_7_2_columns_line_before_datatype(peers: Path) -> None:
    rows = read_peer(peers / "osu_latency_7.2.txt")
    assert len(rows) == 1 and one(rows, 8192)["one_way_ns"] == pytest.approx(4110.0)


def test_osu_failed_validation_is_a_failed_row(peers: Path, tmp_path: Path) -> None:
    row_8 = "8                       3.07              Pass"
    edited = copy_with(peers / "osu_latency_7.5_validation.txt", tmp_path / "lat.txt", row_8,
                       row_8.replace("Pass", "Fail"))
    row = one(read_peer(edited), 8)
    assert row["status"] == "failed" and math.isnan(row["one_way_ns"]) and math.isnan(row["bytes_per_second"])


def test_osu_runs_appended_to_one_file_are_repetitions(peers: Path, tmp_path: Path) -> None:
    twice = tmp_path / "twice.txt"
    twice.write_text((peers / "osu_bw_5.8.txt").read_text() * 2)
    rows = read_peer(twice)
    assert len(rows) == 46 and rows.groupby("name").size().eq(2).all()
    assert rows["repetition"].value_counts().sort_index().to_dict() == {0: 23, 1: 23}


@pytest.mark.parametrize(("old", "new", "message"), [
    ("4096                    1.88", "4096", r"line 16: expected 'size value', got '4096'"),
    ("4096                    1.88", "4096                    1.8x", r"line 16: \(us\) '1.8x' is not a number"),
    ("# Size          Latency (us)", "# Size          Latency (ns)", r"line 2: expected a first column in \(us\)"),
    ("# OSU MPI Latency Test v5.8\n", "2   0.25\n# OSU MPI Latency Test v5.8\n",
     r"line 1: a number line before an OSU header"),
])
def test_osu_malformed_lines(peers: Path, tmp_path: Path, old: str, new: str, message: str) -> None:
    edited = copy_with(peers / "osu_latency_5.8.txt", tmp_path / "lat.txt", old, new)
    with pytest.raises(PeerFileError, match=message):
        read_peer(edited)


def test_osu_other_datatypes_are_refused(peers: Path, tmp_path: Path) -> None:
    edited = copy_with(peers / "osu_latency_7.2.txt", tmp_path / "lat.txt", "MPI_CHAR", "MPI_INT")
    with pytest.raises(PeerFileError, match="line 3: datatype MPI_INT"):
        read_peer(edited)


# --- detection, labels, options ----------------------------------------------------------------

@pytest.mark.parametrize(("sample", "source"), [
    ("NPtcp.out", "peer:netpipe"), ("NPopenmpi.out", "peer:netpipe"),
    ("ucx_tag_lat.csv", "peer:ucx_perftest"), ("ucx_tag_bw.csv", "peer:ucx_perftest"),
    ("ucx_tag_lat_progress.csv", "peer:ucx_perftest"),
    ("osu_latency_5.8.txt", "peer:osu"), ("osu_bw_5.8.txt", "peer:osu"), ("osu_latency_7.2.txt", "peer:osu"),
    ("osu_latency_7.5_validation.txt", "peer:osu"), ("osu_bibw_7.5_validation.txt", "peer:osu"),
])
def test_every_sample_is_detected(peers: Path, sample: str, source: str) -> None:
    rows = read_peer(peers / sample)
    assert set(rows["source"]) == {source}
    assert rows["mechanism"].str.startswith(PEER_PREFIX).all()
    assert set(rows["status"]) == {"ok"} and set(rows["ranks"]) == {2}
    assert set(rows["placement"]) == {""} and set(rows["wait"]) == {""}
    assert str(rows["size"].dtype) == "Int64" and str(rows["ranks"].dtype) == "Int64"


def test_unrelated_file_names_itself_and_the_known_formats(inputs: Path) -> None:
    path = inputs / "pingpong_4mech.json"
    with pytest.raises(PeerFileError) as raised:
        read_peer(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: unknown format") and "\n" not in message
    assert "NetPIPE np.out" in message and "ucx_perftest -v CSV" in message and "OSU" in message


@pytest.mark.parametrize(("content", "message"), [
    (b"", "unknown format"),
    (b"\xff\xfe\x00binary", "not a text file"),
])
def test_empty_and_binary_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "odd.out"
    path.write_bytes(content)
    with pytest.raises(PeerFileError, match=f"odd.out: {message}"):
        read_peer(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PeerFileError, match="nothere.out: cannot read"):
        read_peer(tmp_path / "nothere.out")


def test_explicit_label(peers: Path) -> None:
    rows = read_peer(peers / "NPopenmpi.out", "OpenMPI 4.1")
    assert set(rows["mechanism"]) == {"peer:OpenMPI 4.1"}
    assert rows["name"].iloc[0] == "pingpong/peer:OpenMPI 4.1/size:1/ranks:2"
    with pytest.raises(PeerFileError, match="must be 1 to 200 characters without '/'"):
        read_peer(peers / "NPopenmpi.out", "a/b")


@pytest.mark.parametrize(("text", "expected"), [
    ("NPopenmpi=np.out", ("NPopenmpi", Path("np.out"))),
    ("np.out", (None, Path("np.out"))),
    ("UCX tag=runs/tag_lat.csv", ("UCX tag", Path("runs/tag_lat.csv"))),
    ("runs/n=2.out", (None, Path("runs/n=2.out"))),  # the '=' is in a path
    ("a=b=c.out", ("a", Path("b=c.out"))),
])
def test_parse_peer_option(text: str, expected: tuple[str | None, Path]) -> None:
    assert parse_peer_option(text) == expected


@pytest.mark.parametrize("text", ["=np.out", "label="])
def test_parse_peer_option_rejects_empty_parts(text: str) -> None:
    with pytest.raises(PeerFileError, match=r"\[LABEL=\]FILE"):
        parse_peer_option(text)


def test_read_peers_concatenates_and_fills_missing_keys(peers: Path) -> None:
    rows = read_peers([f"MPI={peers / 'NPopenmpi.out'}", str(peers / "osu_bw_5.8.txt")])
    assert len(rows) == 32 + 23
    assert set(rows["mechanism"]) == {"peer:MPI", "peer:osu_bw"}
    assert set(rows.loc[rows["mechanism"] == "peer:MPI", "dir"]) == {""}
    assert str(rows["size"].dtype) == "Int64" and rows["repetition"].eq(0).all()


def test_read_peers_without_options_has_the_schema() -> None:
    rows = read_peers([])
    assert rows.empty
    assert list(rows.columns) == ["file", "name", "scenario", "mechanism", "size", "ranks", "placement", "wait",
                                  "variant", "status", "message", "repetition", "source", "one_way_ns",
                                  "bytes_per_second"]


def test_peers_join_ipcatlas_rows_as_cells(inputs: Path, peers: Path) -> None:
    ours = load_results([inputs / "pingpong_4mech.json"])
    theirs = read_peers([str(peers / "NPopenmpi.out"), str(peers / "ucx_tag_lat.csv"), str(peers / "osu_bw_5.8.txt")])
    rows = pd.concat([ours, theirs], ignore_index=True)
    assert metric_columns(rows)[:2] == ["one_way_ns", "bytes_per_second"]
    cells = summarize(rows)
    assert len(cells) == 92 + 32 + 3 + 23
    assert {"peer:NPopenmpi", "peer:ucx_perftest tag_lat", "peer:osu_bw", "shm"} <= set(cells["mechanism"])
    peer_cell = cells.set_index("name").loc["pingpong/peer:ucx_perftest tag_lat/size:1024/ranks:2"]
    assert peer_cell["status"] == "ok" and peer_cell["repetitions"] == 1
    assert peer_cell["one_way_ns"] == pytest.approx(7932.0) and peer_cell["variant"] == "ranks:2"
    assert str(cells["size"].dtype) == "Int64"
