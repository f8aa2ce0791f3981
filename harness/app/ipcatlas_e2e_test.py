"""End-to-end tests of the ipcatlas binary: names, counters, context and
validation in the JSON it writes; exit statuses; and that nothing is left
behind after a fault or an interruption.

The binary comes from $IPCATLAS_BIN (set by ctest), else build/release."""
from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from e2e_support import (BINARY, QUICK, describe, ipcatlas, nothing_left_behind,  # noqa: F401 (a fixture)
                         processes_running, run_json, shm_entries)

COUNTERS = ["one_way_ns", "bytes_per_second", "p50_ns", "p99_ns", "p999_ns", "max_ns", "samples"]
CONTEXT = ["ipcatlas_version", "kernel", "cpu_model", "hypervisor", "ptrace_scope", "thp", "governor",
           "mitigations", "topology", "cpus", "placement", "wait"]


pytestmark = pytest.mark.usefixtures("nothing_left_behind")


def test_names_counters_and_context(tmp_path: Path) -> None:
    proc, doc = run_json(tmp_path, "--mechanisms", "shm,pipe", "--sizes", "1,4K")
    assert proc.returncode == 0, proc.stderr
    names = [b["name"] for b in doc["benchmarks"]]
    placement = doc["context"]["placement"]
    # Blocked order: each size's mechanisms run in a random order.
    assert sorted(names) == sorted(f"pingpong/{m}/size:{s}/ranks:2/placement:{placement}/wait:spin"
                                   for m in ("shm", "pipe") for s in (1, 4096))
    assert [b["block"] for b in doc["benchmarks"]] == [0, 0, 1, 1]
    for b in doc["benchmarks"]:
        assert b["ipcatlas_status"] == "ok" and not b.get("error_occurred", False)
        for counter in COUNTERS:
            assert b[counter] > 0, (b["name"], counter)
        size = int(b["name"].split("size:")[1].split("/")[0])
        assert b["one_way_ns"] == pytest.approx(b["real_time"] / 2, rel=1e-6)
        assert b["bytes_per_second"] == pytest.approx(size / (b["one_way_ns"] * 1e-9), rel=1e-6)
        assert b["p50_ns"] <= b["p99_ns"] <= b["p999_ns"] <= b["max_ns"]
        assert b["samples"] == b["iterations"]
    for key in CONTEXT:
        assert doc["context"].get(key), key
    assert doc["context"]["pipe_size_bytes"].isdigit()
    assert "injected_fault" not in doc["context"]
    assert "[4/4]" in proc.stdout


TRAITS = {"summary", "copies", "copies_note", "permissions", "api", "moves", "single_copy", "reference",
          "one_tracer_per_tracee", "wait_policies", "segments", "mapping_page_size"}


@pytest.mark.parametrize("scenario", ["pingpong", "stream"])
def test_context_carries_the_descriptors(tmp_path: Path, scenario: str) -> None:
    """Every result file says what its mechanisms and its scenario are (nested JSON), as `list` does."""
    proc, doc = run_json(tmp_path, "--scenario", scenario, "--mechanisms", "shm,cma-read", "--sizes", "64")
    assert proc.returncode == 0, proc.stderr
    context = doc["context"]
    assert context["scenario"] == scenario and context["primary_metric"]  # the string keys stay
    listed = json.loads(ipcatlas("list", "--json").stdout)
    registry = {m["id"]: {key: m[key] for key in TRAITS} for m in listed["mechanisms"]}
    assert context["mechanisms"] == registry  # every registered mechanism, not only those run
    assert context["mechanisms"]["cma-read"]["api"] == "process_vm_readv"
    assert context["mechanisms"]["cma-read"]["moves"] == "pull" and context["mechanisms"]["cma-read"]["single_copy"]
    assert context["mechanisms"]["shm"]["moves"] == "both" and context["mechanisms"]["zerocopy"]["reference"]
    assert context["mechanisms"]["pipe"]["wait_policies"] == ["block"]
    pages = {name: m["mapping_page_size"] for name, m in context["mechanisms"].items() if m["mapping_page_size"]}
    assert pages == {"memfd-map": 4096, "memfd-map-huge": 2 << 20}  # the mechanisms that move page mappings
    assert context["mechanisms"]["pipe"]["segments"] == "yes"
    assert context["mechanisms"]["zerocopy"]["segments"].startswith("no: ")
    described = next(s for s in listed["scenarios"] if s["id"] == scenario)
    assert context["scenarios"] == {scenario: {key: described[key] for key in
                                               ("summary", "iteration", "primary_metric", "name_keys", "counters",
                                                "per_rank_counters", "optional_counters", "cpu_metric")}}
    declared = context["scenarios"][scenario]
    assert context["primary_metric"] == declared["primary_metric"] and context["iteration"] == declared["iteration"]
    assert set(declared["counters"].values()) <= {"ns", "B/s", "1/s", "1"}
    for b in doc["benchmarks"]:
        assert b["ipcatlas_status"] == "ok", b.get("error_message")
        keys = [part.split(":")[0] for part in b["name"].split("/")[2:]]
        assert keys == [k for k in declared["name_keys"] if k not in ("membind", "cache", "segments")], b["name"]
        assert set(declared["counters"]) <= set(b), b["name"]
        ranks = int(dict(part.split(":", 1) for part in b["name"].split("/")[2:])["ranks"])
        per_rank = {name.replace("{rank}", str(r)) for name in declared["per_rank_counters"] for r in range(ranks)}
        assert per_rank <= set(b), b["name"]  # every rank's CPU time
    assert context["perf_counters"]  # available, or why not (doctor)


def test_cold_caches_are_named_recorded_and_refused_where_nothing_rotates(tmp_path: Path) -> None:
    proc, doc = run_json(tmp_path, "--mechanisms", "shm,zerocopy", "--sizes", "4K", "--cache", "hot,cold")
    assert proc.returncode == 0, proc.stderr
    status = {b["name"].split("/", 2)[1] + ("/cold" if "/cache:cold" in b["name"] else ""): b["ipcatlas_status"]
              for b in doc["benchmarks"]}
    assert status == {"shm": "ok", "zerocopy": "ok", "shm/cold": "ok", "zerocopy/cold": "skipped"}
    assert doc["context"]["cache"] == "hot, cold"
    assert "twice the last-level cache" in doc["context"]["cold_pool"]
    skipped = next(b for b in doc["benchmarks"] if b["ipcatlas_status"] == "skipped")
    assert "no buffer to rotate" in skipped["error_message"]


def test_context_records_the_doctors_warnings(tmp_path: Path) -> None:
    proc, doc = run_json(tmp_path, "--mechanisms", "pipe", "--sizes", "8")
    assert proc.returncode == 0, proc.stderr
    warnings = json.loads(doc["context"]["doctor_warnings"])
    assert isinstance(warnings, list)
    for warning in warnings:
        assert set(warning) == {"key", "title", "value", "verdict", "hint"}, warning
        assert warning["verdict"] in ("warn", "info")


def test_payload_corruption_is_an_error_never_a_figure(tmp_path: Path) -> None:
    proc, doc = run_json(tmp_path, "--mechanisms", "shm,zerocopy,unix-stream", "--sizes", "1K",
                         "--inject-fault", "corrupt")
    assert proc.returncode == 1
    assert len(doc["benchmarks"]) == 3, "every benchmark must still be reported"
    for b in doc["benchmarks"]:
        assert b["ipcatlas_status"] == "failed"
        assert b["error_occurred"] is True
        assert "payload mismatch" in b["error_message"]
        assert "first bad byte at offset 512" in b["error_message"]
        assert "one_way_ns" not in b and "p50_ns" not in b
    assert "3 failed" in proc.stderr


@pytest.mark.parametrize("fault,expected", [("kill", "was killed by signal 9 (SIGKILL)"),
                                            ("hang", "hung: no progress after 1.0 s")])
def test_dead_and_hung_ranks_fail_their_benchmark_and_the_run_goes_on(
        tmp_path: Path, fault: str, expected: str) -> None:
    proc, doc = run_json(tmp_path, "--mechanisms", "shm,pipe", "--sizes", "64", "--inject-fault", fault,
                         "--watchdog", "1")
    assert proc.returncode == 1
    assert [b["ipcatlas_status"] for b in doc["benchmarks"]] == ["failed", "failed"]
    for b in doc["benchmarks"]:
        assert expected in b["error_message"], b["error_message"]
    assert doc["context"]["injected_fault"] == fault


def test_a_delay_slows_every_message_fails_nothing_and_is_recorded(tmp_path: Path) -> None:
    """delay:NS is the slower code a CI gate must catch: each one-way message pays NS ns of busy work."""
    proc, doc = run_json(tmp_path, "--mechanisms", "shm", "--sizes", "64", "--inject-fault", "delay:5000")
    assert proc.returncode == 0, proc.stderr
    assert doc["context"]["injected_fault"] == "delay:5000"
    [b] = doc["benchmarks"]
    assert b["ipcatlas_status"] == "ok", b.get("error_message")
    assert b["one_way_ns"] >= 5000
    assert ("ipcatlas: warning: --inject-fault delay:5000 adds 5000 ns of busy work to every message sent; "
            "these results are not this machine's") in proc.stderr.splitlines()


def test_delay_zero_is_recorded_as_asked(tmp_path: Path) -> None:
    proc, doc = run_json(tmp_path, "--mechanisms", "shm", "--sizes", "64", "--inject-fault", "delay:0")
    assert proc.returncode == 0, proc.stderr
    assert doc["context"]["injected_fault"] == "delay:0"
    assert [b["ipcatlas_status"] for b in doc["benchmarks"]] == ["ok"]
    assert "--inject-fault delay:0 adds nothing" in proc.stderr


@pytest.mark.parametrize("args,fragment", [
    (["--mechanisms", "shm,teleport"], "unknown mechanism 'teleport'"),
    (["--sizes", "0:abc"], "'abc'"),
    (["--sizes", "2G"], "'2G' is over the limit"),
    (["--cpus", "0,4095"], "CPU 4095 does not exist"),
    (["--cpus", "1,1"], "CPU 1 is given twice"),
    (["--cpus", "0,1", "--ranks", "3"], "--ranks 3: pingpong runs with 2 to 2 ranks"),
    (["--scenario", "alltoall", "--ranks", "2", "--cpus", "0,1,0"], "CPU 0 is given twice"),
    (["--placement", "socket"], "placement 'socket' does not exist on this machine"),
    (["--membind", "7"], "NUMA node 7 does not exist"),
    (["--membind", "far"], "'far'"),
    (["--window", "0", "--scenario", "stream"], "--window: Value 0 not in range 1 to 4096"),
    (["--wait", "maybe"], "'maybe'"),
    (["--scenario", "broadcast"], "unknown scenario 'broadcast'"),
    (["--inject-fault", "delay:-5"], "invalid fault 'delay:-5': delay:NS takes NS, whole nanoseconds from 0 to"),
    (["--benchmark_bogus=1"], "unknown Google Benchmark flag"),
    (["--frobnicate"], "--frobnicate"),
])
def test_bad_input_is_one_line_naming_the_value_and_exit_2(args: list[str], fragment: str) -> None:
    proc = ipcatlas("run", *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert fragment in lines[0]


def test_unknown_command_and_no_command() -> None:
    assert ipcatlas("frobnicate").returncode == 2
    bare = ipcatlas()
    assert bare.returncode == 2 and "list" in bare.stdout and "run" in bare.stdout


def test_help_explains_and_exits_0() -> None:
    proc = ipcatlas("run", "--help")
    assert proc.returncode == 0
    for option in ("--mechanisms", "--sizes", "--cpus", "--wait", "--out", "--benchmark_repetitions"):
        assert option in proc.stdout


def test_list_json_describes_every_mechanism_and_scenario() -> None:
    proc = ipcatlas("list", "--json")
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    ids = [m["id"] for m in doc["mechanisms"]]
    assert {"shm", "zerocopy", "pipe", "unix-stream"} <= set(ids)
    for m in doc["mechanisms"]:
        assert isinstance(m["available"], bool) and m["summary"] and m["copies"] >= 0
        if not m["available"]:
            assert m["reason"] and m["fix"]
    assert [s["id"] for s in doc["scenarios"]] == ["pingpong", "stream", "alltoall", "manytoone", "onetomany"]


def test_google_benchmark_flags_pass_through(tmp_path: Path) -> None:
    proc, doc = run_json(tmp_path, "--mechanisms", "shm,pipe", "--sizes", "8",
                         "--benchmark_filter=shm", "--benchmark_repetitions=2")
    assert proc.returncode == 0, proc.stderr
    runs = [b for b in doc["benchmarks"] if b["run_type"] == "iteration"]
    aggregates = {b["aggregate_name"] for b in doc["benchmarks"] if b["run_type"] == "aggregate"}
    assert len(runs) == 2 and all("/shm/" in b["name"] for b in runs)
    assert {"mean", "median", "stddev"} <= aggregates
    console_json = ipcatlas("run", "--mechanisms", "shm", "--sizes", "8", *QUICK, "--benchmark_format=json")
    assert json.loads(console_json.stdout)["benchmarks"][0]["one_way_ns"] > 0


def test_fewer_pus_than_ranks_oversubscribes_with_blocking_waits(tmp_path: Path) -> None:
    proc, doc = run_json(tmp_path, "--mechanisms", "shm", "--sizes", "64", "--cpus", "0")
    assert proc.returncode == 0, proc.stderr
    assert doc["benchmarks"][0]["name"] == "pingpong/shm/size:64/ranks:2/placement:self/wait:block"
    assert doc["context"]["oversubscribed"].startswith("yes")
    assert "oversubscribed" in proc.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupting_a_run_leaves_nothing_behind(tmp_path: Path, sig: signal.Signals) -> None:
    out = tmp_path / "interrupted.json"
    proc = subprocess.Popen([str(BINARY), "run", "--mechanisms", "pipe,shm", "--sizes", "1:4M", "--out", str(out),
                             "--benchmark_min_time=1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Interrupt while ranks run (between two benchmarks there are none).
        deadline = time.monotonic() + 20
        while len(processes_running(BINARY)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(processes_running(BINARY)) >= 3, "the ranks should be running by now"
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == -sig
    assert "interrupted" in stderr
    assert list(tmp_path.iterdir()) == [], "an interrupted run writes no file, not even a temporary one"
