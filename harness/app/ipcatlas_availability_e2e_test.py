"""End-to-end tests of how ipcatlas reports mechanisms that cannot run: the
exact cause, in `list`, `doctor` and as skipped benchmarks that never count
as failures. A container's seccomp profile is simulated with
ipcatlas_deny_syscalls ($IPCATLAS_DENY_SYSCALLS, set by ctest)."""
from __future__ import annotations

import json
import os
import resource
import subprocess
from pathlib import Path
from typing import Any

import pytest

from e2e_support import BINARY, REPO

DENY = Path(os.environ.get("IPCATLAS_DENY_SYSCALLS",
                           REPO / "build" / "release" / "harness" / "ipcatlas_deny_syscalls"))
ALL_IDS = {"shm", "zerocopy", "memfd-map", "memfd-map-huge", "pipe", "unix-stream", "unix-seqpacket", "vmsplice", "cma-read", "cma-write",
           "procmem-read", "procmem-write", "ptrace", "knem", "xpmem"}
# Available only where 2 MiB huge pages are reserved (vm.nr_hugepages): the
# machine decides, not the filters these tests install.
HUGE = "memfd-map-huge"


def ipcatlas(*args: str, deny: str = "", open_files: int = 0) -> subprocess.CompletedProcess[str]:
    """open_files > 0: run with RLIMIT_NOFILE lowered to it (binding even for root)."""
    prefix = [str(DENY), deny, "--"] if deny else []
    env = dict(os.environ)
    if "ptrace" in deny:
        # LeakSanitizer stops threads with ptrace at exit; in the ASan build it
        # would abort under a filter that denies ptrace.
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"

    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    return subprocess.run([*prefix, str(BINARY), *args], capture_output=True, text=True, timeout=300, env=env,
                          preexec_fn=limit_files if open_files else None)


def listed(deny: str = "", open_files: int = 0) -> dict[str, dict[str, Any]]:
    proc = ipcatlas("list", "--json", deny=deny, open_files=open_files)
    assert proc.returncode == 0, proc.stderr
    return {m["id"]: m for m in json.loads(proc.stdout)["mechanisms"]}


def run_json(tmp_path: Path, *args: str, deny: str = "", open_files: int = 0) -> tuple[int, list[dict[str, Any]]]:
    out = tmp_path / "run.json"
    proc = ipcatlas("run", "--out", str(out), "--benchmark_min_time=0.01", *args, deny=deny, open_files=open_files)
    assert out.exists(), proc.stderr
    return proc.returncode, json.loads(out.read_text())["benchmarks"]


def test_list_shows_every_mechanism_with_copies_and_permissions() -> None:
    mechanisms = listed()
    assert set(mechanisms) == ALL_IDS
    assert mechanisms["cma-read"]["copies"] == 1 and "PR_SET_PTRACER" in mechanisms["cma-read"]["permissions"]
    assert mechanisms["procmem-read"]["copies_note"].startswith("2 inside the kernel")
    assert mechanisms["ptrace"]["size_cap"] == 65536
    for memfd in ("memfd-map", HUGE):
        assert mechanisms[memfd]["copies"] == 0 and "TLB shootdown" in mechanisms[memfd]["copies_note"]
    if not mechanisms[HUGE]["available"]:
        assert "huge page" in mechanisms[HUGE]["reason"] and "sysctl vm.nr_hugepages=" in mechanisms[HUGE]["fix"]
    for device in ("knem", "xpmem"):
        assert mechanisms[device]["available"] is False
        assert f"/dev/{device}" in mechanisms[device]["reason"] and mechanisms[device]["fix"]


@pytest.mark.parametrize("syscall,mechanisms", [
    ("process_vm_readv,process_vm_writev", {"cma-read", "cma-write"}),
    ("ptrace", {"ptrace"}),
    ("vmsplice", {"vmsplice"}),
])
def test_a_seccomp_filter_is_named_as_the_cause(syscall: str, mechanisms: set[str]) -> None:
    listing = listed(deny=syscall)
    unfiltered = listed()
    for mechanism_id, m in listing.items():
        if mechanism_id in mechanisms:
            assert m["available"] is False, mechanism_id
            assert m["reason"].startswith("EPERM from"), m["reason"]
            assert "seccomp filter" in m["reason"], m["reason"]
            assert "seccomp" in m["fix"], m["fix"]
        elif mechanism_id == HUGE:
            assert m["available"] is unfiltered[HUGE]["available"], m["reason"]
        elif mechanism_id not in {"knem", "xpmem"}:
            assert m["available"] is True, (mechanism_id, m["reason"])


def test_unavailable_mechanisms_are_skipped_with_their_reason_not_failed(tmp_path: Path) -> None:
    status, benchmarks = run_json(tmp_path, "--mechanisms", "cma-read,shm,knem", "--sizes", "64",
                                  deny="process_vm_readv")
    assert status == 0, "skipped benchmarks must not fail the run"
    by_mechanism = {b["name"].split("/")[1]: b for b in benchmarks}
    assert by_mechanism["shm"]["ipcatlas_status"] == "ok"
    for mechanism in ("cma-read", "knem"):
        b = by_mechanism[mechanism]
        assert b["ipcatlas_status"] == "skipped" and b["skipped"] is True
        assert b["error_occurred"] is True and "one_way_ns" not in b
    assert "seccomp filter" in by_mechanism["cma-read"]["skip_message"]
    assert "/dev/knem" in by_mechanism["knem"]["skip_message"]


# stdin, stdout and stderr, and the probe's first pipe: its second pipe2 fails,
# while the binary still starts, runs and writes its JSON (7 lets the probe through).
FEW_OPEN_FILES = 6


def test_running_out_of_file_descriptors_is_a_failure_naming_the_limit_not_a_skip(tmp_path: Path) -> None:
    if b"__ubsan_handle_dynamic_type_cache_miss" in BINARY.read_bytes():
        pytest.skip("UBSan checks a vtable it has not met through a pipe of its own; with no descriptor left it "
                    "reports a false 'invalid vptr' (an ifstream in the pipe probe) and aborts")
    status, benchmarks = run_json(tmp_path, "--mechanisms", "procmem-read", "--sizes", "64",
                                  open_files=FEW_OPEN_FILES)
    assert status == 1, "a probe that ran out of descriptors must fail the run"
    (b,) = benchmarks
    assert b["ipcatlas_status"] == "failed" and "skipped" not in b
    cause = f"EMFILE from pipe2: this process has reached RLIMIT_NOFILE={FEW_OPEN_FILES} open file descriptors"
    assert cause in b["error_message"], b["error_message"]
    m = listed(open_files=FEW_OPEN_FILES)["procmem-read"]
    assert m["available"] is False and m["reason"] == cause, m["reason"]
    assert "ulimit -n" in m["fix"]


def test_ptrace_is_capped_and_the_cap_can_be_raised(tmp_path: Path) -> None:
    status, benchmarks = run_json(tmp_path, "--mechanisms", "ptrace", "--sizes", "8,128K")
    assert status == 0
    small, large = benchmarks
    assert small["ipcatlas_status"] == "ok" and small["one_way_ns"] > 0
    assert large["ipcatlas_status"] == "skipped"
    assert "size cap of ptrace (64K)" in large["skip_message"] and "--size-cap ptrace=" in large["skip_message"]
    status, benchmarks = run_json(tmp_path, "--mechanisms", "ptrace", "--sizes", "128K", "--size-cap", "ptrace=128K")
    assert status == 0 and benchmarks[0]["ipcatlas_status"] == "ok"


@pytest.mark.parametrize("cap,fragment", [("bogus=1K", "unknown mechanism 'bogus'"), ("ptrace", "'ptrace'"),
                                          ("ptrace=lots", "'lots'")])
def test_bad_size_caps_are_usage_errors(cap: str, fragment: str) -> None:
    proc = ipcatlas("run", "--size-cap", cap)
    assert proc.returncode == 2 and fragment in proc.stderr, proc.stderr


def test_every_available_mechanism_runs_validated(tmp_path: Path) -> None:
    status, benchmarks = run_json(tmp_path, "--sizes", "0,13,70000")
    assert status == 0
    measured = {b["name"].split("/")[1] for b in benchmarks if b["ipcatlas_status"] == "ok"}
    no_huge_pages = set() if listed()[HUGE]["available"] else {HUGE}
    assert measured == ALL_IDS - {"knem", "xpmem"} - no_huge_pages


def test_doctor_lists_what_cannot_run(tmp_path: Path) -> None:
    proc = ipcatlas("doctor", "--json", deny="process_vm_readv")
    facts = {f["key"]: f for f in json.loads(proc.stdout)["facts"]}
    assert facts["seccomp"]["verdict"] == "warn"
    assert facts["mechanism_cma-read"]["verdict"] == "warn"
    assert "seccomp filter" in facts["mechanism_cma-read"]["value"]
    assert facts["mechanism_knem"]["verdict"] == "info"
    assert "cma-write" in facts["mechanisms_available"]["value"]
