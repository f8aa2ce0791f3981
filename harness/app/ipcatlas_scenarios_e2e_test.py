"""End-to-end tests of the multi-rank scenarios, placements and memory
binding through the ipcatlas binary."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from e2e_support import REPO, ipcatlas, run_json

BIG_NODE = REPO / "results" / "topologies" / "2pack-4numa-smt.xml"


def by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["name"]: b for b in doc["benchmarks"]}


def test_placements_of_this_machine_and_of_a_big_node() -> None:
    here = ipcatlas("list", "--placements")
    assert here.returncode == 0 and "l3" in here.stdout and "Not on this machine" in here.stdout
    big = ipcatlas("list", "--placements", "--json", "--topology", str(BIG_NODE), "--ranks", "8")
    assert big.returncode == 0, big.stderr
    doc = json.loads(big.stdout)
    names = [p["name"] for p in doc["placements"]]
    assert names == ["l3", "numa", "socket"]
    for p in doc["placements"]:
        assert len(p["pus"]) == 8 and len(set(p["pus"])) == 8
    assert ipcatlas("list", "--placements", "--topology", "/no/such.xml").returncode == 2


@pytest.mark.parametrize("ranks", [4, 8])
def test_alltoall_and_manytoone_oversubscribed_complete_validated(tmp_path: Path, ranks: int) -> None:
    for scenario in ("alltoall", "manytoone"):
        proc, doc = run_json(tmp_path, "--scenario", scenario, "--ranks", str(ranks),
                             "--mechanisms", "shm,cma-read,cma-write", "--sizes", "1K")
        assert proc.returncode == 0, proc.stderr
        assert doc["context"]["oversubscribed"].startswith("yes") and doc["context"]["ranks"] == str(ranks)
        for name, b in by_name(doc).items():
            assert name.startswith(f"{scenario}/") and f"/ranks:{ranks}/" in name and name.endswith("/wait:block")
            assert b["ipcatlas_status"] == "ok", b.get("error_message")
            assert b["round_ns"] > 0 and b["bytes_per_second"] > 0 and b["slowest_rank_ns"] > 0


def test_ptrace_serves_manytoone_but_not_onetomany(tmp_path: Path) -> None:
    _, many = run_json(tmp_path, "--scenario", "manytoone", "--mechanisms", "ptrace", "--sizes", "64")
    assert many["benchmarks"][0]["ipcatlas_status"] == "ok"
    proc, one = run_json(tmp_path, "--scenario", "onetomany", "--mechanisms", "ptrace", "--sizes", "64")
    assert proc.returncode == 0
    assert one["benchmarks"][0]["ipcatlas_status"] == "skipped"
    assert "one tracer per tracee" in one["benchmarks"][0]["skip_message"]


def test_stream_names_counters_and_bidirectional_limits(tmp_path: Path) -> None:
    proc, doc = run_json(tmp_path, "--scenario", "stream", "--window", "16", "--bidirectional",
                         "--mechanisms", "shm,cma-read", "--sizes", "4K,1M")
    assert proc.returncode == 0, proc.stderr
    runs = by_name(doc)
    ok = runs["stream/shm/size:4096/ranks:2/window:16/dir:bi/placement:l3/wait:spin"]
    assert ok["ipcatlas_status"] == "ok" and ok["messages_per_second"] > 0
    assert ok["bytes_per_second"] == pytest.approx(2 * 16 * 4096 / (ok["window_ns"] * 1e-9), rel=1e-6)
    too_big = runs["stream/shm/size:1048576/ranks:2/window:16/dir:bi/placement:l3/wait:spin"]
    assert too_big["ipcatlas_status"] == "skipped" and "only up to 512K" in too_big["skip_message"]
    rendezvous = runs["stream/cma-read/size:4096/ranks:2/window:16/dir:bi/placement:l3/wait:spin"]
    assert "waits for the receiver" in rendezvous["skip_message"]


def test_placement_all_membind_and_the_topology_beside_the_results(tmp_path: Path) -> None:
    proc, doc = run_json(tmp_path, "--placement", "all", "--membind", "local", "--mechanisms", "shm",
                         "--sizes", "64")
    assert proc.returncode == 0, proc.stderr
    (name, b), = by_name(doc).items()
    assert name == "pingpong/shm/size:64/ranks:2/placement:l3/wait:spin/membind:local"
    assert b["ipcatlas_status"] == "ok" and doc["context"]["membind"] == "local"
    xml = tmp_path / "run.topology.xml"
    assert xml.exists() and "<topology" in xml.read_text()
    _, remote = run_json(tmp_path, "--membind", "remote", "--mechanisms", "shm", "--sizes", "64")
    assert remote["benchmarks"][0]["ipcatlas_status"] == "skipped"
    assert "one NUMA node" in remote["benchmarks"][0]["skip_message"]


def test_segments_name_context_and_what_cannot_run(tmp_path: Path) -> None:
    proc, doc = run_json(tmp_path, "--segments", "16", "--mechanisms", "shm,zerocopy", "--sizes", "8,4K")
    assert proc.returncode == 0, proc.stderr
    runs = by_name(doc)
    measured = runs["pingpong/shm/size:4096/ranks:2/placement:l3/wait:spin/segments:16"]
    assert measured["ipcatlas_status"] == "ok" and doc["context"]["segments"] == "16"
    small = runs["pingpong/shm/size:8/ranks:2/placement:l3/wait:spin/segments:16"]
    assert "8 bytes cannot make 16 segments" in small["skip_message"]
    refused = runs["pingpong/zerocopy/size:4096/ranks:2/placement:l3/wait:spin/segments:16"]
    assert "zerocopy cannot move scatter/gather messages" in refused["skip_message"]
    _, plain = run_json(tmp_path, "--segments", "1", "--mechanisms", "shm", "--sizes", "64")
    assert "segments" not in plain["benchmarks"][0]["name"] and plain["context"]["segments"] == "1"
    # A list is a dimension of the matrix: each count in its own blocks, interleaved in one run.
    _, both = run_json(tmp_path, "--segments", "1,16", "--mechanisms", "shm", "--sizes", "64")
    assert sorted(b["name"].rsplit("/", 1)[-1] for b in both["benchmarks"]) == ["segments:16", "wait:spin"]
    assert both["context"]["segments"] == "1, 16"


def test_corruption_in_alltoall_is_an_error_never_a_figure(tmp_path: Path) -> None:
    proc, doc = run_json(tmp_path, "--scenario", "alltoall", "--ranks", "4", "--mechanisms", "shm",
                         "--sizes", "2K", "--inject-fault", "corrupt")
    assert proc.returncode == 1
    b = doc["benchmarks"][0]
    assert b["ipcatlas_status"] == "failed" and "first bad byte at offset 1024" in b["error_message"]
    assert "round_ns" not in b


def test_corruption_in_manytoone_flips_what_the_faulty_sender_sends(tmp_path: Path) -> None:
    """Rank 1 only sends in manytoone: corrupt must still act, on the messages it sends."""
    proc, doc = run_json(tmp_path, "--scenario", "manytoone", "--ranks", "3", "--mechanisms", "shm",
                         "--sizes", "64", "--inject-fault", "corrupt")
    assert proc.returncode == 1, proc.stderr
    b = doc["benchmarks"][0]
    assert b["ipcatlas_status"] == "failed"
    assert "(rank 1 -> rank 0, 64 bytes): first bad byte at offset 32" in b["error_message"], b["error_message"]
