"""End-to-end tests of what `ipcatlas run` promises about its output and its
signals: --out never replaces a file that is not regular, is checked before
any benchmark runs, is never left truncated; a failed repetition is reported
and the others measured; nohup and a closed console do not lose the run.

Hostile files (symlinks, fifos, device nodes) are made in tmp_path: the tests
run as root, so they never point at a real system file."""
from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import time
from pathlib import Path

from e2e_support import BINARY, processes_running
from ipcatlas_e2e_test import QUICK, ipcatlas, nothing_left_behind  # noqa: F401

TINY = ["--mechanisms", "zerocopy", "--sizes", "8", *QUICK]


def hostile_targets(tmp_path: Path) -> dict[str, Path]:
    """Every kind of existing file --out must refuse, each guarding a victim."""
    victim = tmp_path / "victim"
    victim.write_text("precious")
    targets = {"symlink": tmp_path / "link.json", "fifo": tmp_path / "fifo.json",
               "device": tmp_path / "null.json", "directory": tmp_path / "adir"}
    targets["symlink"].symlink_to(victim)
    os.mkfifo(targets["fifo"])
    os.mknod(targets["device"], stat.S_IFCHR | 0o600, os.makedev(1, 3))  # what /dev/null is
    targets["directory"].mkdir()
    return targets


def test_out_refuses_every_non_regular_target_before_running(tmp_path: Path) -> None:
    for kind, target in hostile_targets(tmp_path).items():
        proc = ipcatlas("run", *TINY, "--out", str(target))
        assert proc.returncode == 2, (kind, proc.stderr)
        assert proc.stderr.strip().splitlines() == [proc.stderr.strip()], proc.stderr
        assert f"'{target}' exists and is" in proc.stderr, proc.stderr
        assert "running" not in proc.stdout, f"{kind}: benchmarks ran before --out was refused"
    assert (tmp_path / "victim").read_text() == "precious"
    assert stat.S_ISCHR((tmp_path / "null.json").stat().st_mode)
    assert (tmp_path / "link.json").is_symlink() and stat.S_ISFIFO((tmp_path / "fifo.json").stat().st_mode)


def test_a_planted_tmp_symlink_is_never_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "run.json.tmp").symlink_to(victim)
    proc = ipcatlas("run", *TINY, "--out", str(tmp_path / "run.json"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "run.json").read_text())["benchmarks"]
    assert victim.read_text() == "precious" and (tmp_path / "run.json.tmp").is_symlink()


def test_bad_out_paths_fail_first_and_create_nothing(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    cases = {str(tmp_path / "adir") + "/": "ends in '/'",
             str(tmp_path / "plain" / "sub" / "run.json"): "is not a directory"}
    for out, fragment in cases.items():
        proc = ipcatlas("run", *TINY, "--out", out)
        assert proc.returncode == 2 and fragment in proc.stderr, proc.stderr
    # Another bad value: the missing directories of --out are not created.
    proc = ipcatlas("run", *TINY, "--wait", "maybe", "--out", str(tmp_path / "new" / "deep" / "run.json"))
    assert proc.returncode == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain"]


def test_a_failed_write_keeps_the_old_results(tmp_path: Path) -> None:
    """A file-size limit fails the write as a full disk would: the old file stays whole."""
    out = tmp_path / "run.json"
    out.write_text('{"old": true}')

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

    proc = subprocess.run([str(BINARY), "run", *TINY, "--out", str(out)], capture_output=True, text=True,
                          timeout=120, preexec_fn=small_files)
    assert proc.returncode == 1, proc.stderr
    assert str(out) in proc.stderr and "EFBIG" in proc.stderr, proc.stderr
    assert out.read_text() == '{"old": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"], "a temporary file was left behind"


def test_filter_that_matches_nothing_and_list_tests(tmp_path: Path) -> None:
    proc = ipcatlas("run", *TINY, "--benchmark_filter=nomatch", "--out", str(tmp_path / "x.json"))
    assert proc.returncode == 2 and "matches none of the 1 benchmarks" in proc.stderr, proc.stderr
    listed = ipcatlas("run", *TINY, "--benchmark_list_tests=true")
    assert listed.returncode == 0, listed.stderr
    assert "pingpong/zerocopy/size:8/" in listed.stdout and "measured" not in listed.stderr
    assert list(tmp_path.iterdir()) == []


def rank_pids(driver: int) -> list[int]:
    return [pid for pid in processes_running(BINARY) if pid != driver]


def test_a_rank_killed_in_one_repetition_fails_only_that_repetition(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    proc = subprocess.Popen([str(BINARY), "run", "--mechanisms", "shm", "--sizes", "64", "--benchmark_min_time=0.3",
                             "--benchmark_repetitions=5", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not rank_pids(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)  # into the second repetition
        os.kill(rank_pids(proc.pid)[-1], signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, stderr
    benchmarks = json.loads(out.read_text())["benchmarks"]
    runs = [b for b in benchmarks if b["run_type"] == "iteration"]
    assert [b["repetition_index"] for b in runs] == [0, 1, 2, 3, 4]
    statuses = [b["ipcatlas_status"] for b in runs]
    assert statuses.count("failed") == 1 and statuses.count("ok") == 4, statuses
    failed = next(b for b in runs if b["ipcatlas_status"] == "failed")
    assert "killed by signal 9" in failed["error_message"]
    ok_times = sorted(b["one_way_ns"] for b in runs if b["ipcatlas_status"] == "ok")
    median = next(b for b in benchmarks if b.get("aggregate_name") == "median")
    assert median["one_way_ns"] == (ok_times[1] + ok_times[2]) / 2, "aggregates are over the successful repetitions"


def test_nohup_keeps_the_run_alive_through_sighup(tmp_path: Path) -> None:
    out = tmp_path / "run.json"

    def like_nohup() -> None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    proc = subprocess.Popen([str(BINARY), "run", "--mechanisms", "shm", "--sizes", "64,4K",
                             "--benchmark_min_time=0.2", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=like_nohup)
    time.sleep(0.3)
    proc.send_signal(signal.SIGHUP)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert len(json.loads(out.read_text())["benchmarks"]) == 2


def test_a_closed_console_still_writes_the_results(tmp_path: Path) -> None:
    """`ipcatlas run --out F | head -1`: the console goes quiet, F is complete."""
    out = tmp_path / "run.json"
    proc = subprocess.Popen([str(BINARY), "run", "--mechanisms", "zerocopy,shm", "--sizes", "8,64,512", *QUICK,
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # as `head -1` does
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    proc.wait(timeout=120)
    assert proc.returncode == 0, stderr
    assert len(json.loads(out.read_text())["benchmarks"]) == 6
    assert "Broken pipe" not in stderr and "error" not in stderr, stderr
