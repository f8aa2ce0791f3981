"""ci/regression proven on real slowdowns of the code.

A temporary git repository gets four commits. Each is measured by ci/regression with
`--inject-fault delay:NS`, which adds NS ns of busy work to every message inside the
measured path: 0, 0, a few percent and 30 % of the first run's one-way time (the first
commit three times, as nightly reruns would). The gate must pass the equal commits and the
few percent (below its threshold), fail the 30 % commit, and the history must mark that
run and no other.

Runs the binary ($IPCATLAS_BIN, else build/release/ipcatlas); ctest runs it alone."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
BINARY = Path(os.environ.get("IPCATLAS_BIN", ROOT / "build" / "release" / "ipcatlas"))
# cma-read at 8 sizes from 8 B to 1 KiB: about 1.3 us one way, spent in one system call, so
# that one delay is the same share of every size; and the mechanism whose time moved least
# when the host changed state (2-15 %, against 62-90 % for shm): a delay set in one state
# must be about the same share in the other.
MATRIX = ["--mechanisms", "cma-read", "--sizes", "8,16,32,64,128,256,512,1K", "--repetitions", "3",
          "--budget", "6"]
THRESHOLD = "15"
FEW_PERCENT, THIRTY_PERCENT = 0.04, 0.30


def cma_read_unavailable() -> str:
    """Why cma-read cannot run here ("" when it can): it needs ptrace access to the peer."""
    if not BINARY.is_file():
        return f"no binary at {BINARY} (ci/build release)"
    listed = json.loads(subprocess.run([str(BINARY), "list", "--json"], capture_output=True, text=True).stdout)
    mechanism = next(m for m in listed["mechanisms"] if m["id"] == "cma-read")
    return "" if mechanism["available"] else f"cma-read is unavailable here: {mechanism.get('reason', '')}"


pytestmark = pytest.mark.skipif(bool(cma_read_unavailable()), reason=cma_read_unavailable() or "-")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=ci", "-c", "user.email=ci@localhost", *args],
                          check=True, capture_output=True, text=True).stdout.strip()


def commit(repo: Path, delay_ns: int) -> str:
    (repo / "delay_ns").write_text(f"{delay_ns}\n")
    git(repo, "add", "delay_ns")
    git(repo, "commit", "-q", "--allow-empty", "-m", f"delay {delay_ns} ns")  # two commits may not differ
    return git(repo, "rev-parse", "HEAD")


def regression(repo: Path, results: Path, delay_ns: int) -> subprocess.CompletedProcess[str]:
    command = [str(ROOT / "ci" / "regression"), "--repo", str(repo), "--results", str(results),
               "--threshold", THRESHOLD, "--retries", "3", "--bin", str(BINARY), *MATRIX,
               "--", "--inject-fault", f"delay:{delay_ns}"]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def one_way_ns(results: Path) -> float:
    """The median one-way time over the benchmarks of the only stored run."""
    [run] = (results / "runs").glob("*.json")
    rows = json.loads(run.read_text())["benchmarks"]
    return float(statistics.median(row["one_way_ns"] for row in rows
                                   if row.get("run_type") == "iteration" and row.get("ipcatlas_status") == "ok"))


def history(results: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((results / "history" / "history.json").read_text())
    return record


def test_the_gate_fails_the_slow_commit_and_passes_the_others(tmp_path: Path) -> None:
    repo, results = tmp_path / "repo", tmp_path / "results"
    repo.mkdir()
    git(repo, "init", "-q")
    commit(repo, 0)
    first = regression(repo, results, 0)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "nothing to compare it with yet" in first.stdout
    base_ns = one_way_ns(results)
    # Two more runs of the first commit, as nightly reruns would give: the baseline (the last
    # runs in the new run's host state) then likely holds the state the next runs land in.
    for _ in range(2):
        again = regression(repo, results, 0)
        assert again.returncode in (0, 4), f"a rerun of the same code: exit {again.returncode}\n{again.stdout}"
    delays = [0, round(FEW_PERCENT * base_ns), round(THIRTY_PERCENT * base_ns)]
    statuses = []
    for delay in delays:
        commit(repo, delay)
        done = regression(repo, results, delay)
        statuses.append(done.returncode)
        assert done.returncode in (0, 1), f"delay {delay} ns: exit {done.returncode}\n{done.stdout}{done.stderr}"
    assert statuses == [0, 0, 1], f"delays {delays} ns on a {base_ns:.0f} ns one-way time"

    record = history(results)
    # Undecided attempts stay stored, so a commit may have several runs; each commit's last
    # run is the one its job was judged on.
    commits = [git(repo, "rev-parse", f"HEAD~{back}") for back in (2, 1, 0)]
    runs_of = {c: [run["position"] for run in record["runs"] if run["commit"] == c] for c in commits}
    verdicts = {gate["position"]: gate["status"] for gate in record["gates"]}
    assert [verdicts[runs_of[c][-1]] for c in commits] == ["passed", "passed", "FAILED"]
    marked = {position for figure in record["figures"] for position in figure["gate_failed_runs"]}
    assert runs_of[commits[2]][-1] in marked and marked <= set(runs_of[commits[2]]), \
        "the graph marks the slow commit's run and no other commit's"
    page = (results / "history" / "history.html").read_text()
    stored = len(record["runs"])
    assert "FAILED" in page and page.count("report.html") >= stored
    assert len(list((results / "reports").glob("*/report.html"))) == stored
