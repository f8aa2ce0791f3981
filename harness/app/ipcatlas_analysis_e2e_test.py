"""End to end, the way a user works: `ipcatlas run` on a tiny matrix, then
plot, thresholds, report and compare on what it wrote, all through the one
binary. The binary comes from $IPCATLAS_BIN (set by ctest), else build/release."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from e2e_support import BINARY, REPO

# Two mechanisms, three sizes, four repetitions (the fewest with which the U test can
# reach p < 0.05), short runs: a few seconds on two cores.
RUN = ["run", "--mechanisms", "shm,cma-read,ptrace", "--sizes", "64,4K,64K", "--benchmark_repetitions=4",
       "--benchmark_min_time=0.01"]


def ipcatlas(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two runs of the same tiny matrix (the base and the new run of a comparison)."""
    directory = tmp_path_factory.mktemp("runs")
    paths = []
    for name in ("base", "new"):
        path = directory / f"{name}.json"
        proc = ipcatlas(*RUN, "--size-cap", "ptrace=4K", "--out", str(path))
        assert proc.returncode == 0, proc.stderr
        paths.append(path)
    return paths[0], paths[1]


def test_plot(runs: tuple[Path, Path], tmp_path: Path) -> None:
    proc = ipcatlas("plot", str(runs[0]), "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    names = {p.name for p in tmp_path.iterdir()}
    for kind in ("latency", "bandwidth", "tail", "cpu"):
        assert {f"{kind}-pingpong-l3-spin.png", f"{kind}-pingpong-l3-spin.svg"} <= names, names
    assert {"canary.png", "canary.svg"} <= names, "the drift canary over the run's time"
    assert "wrote 5 figures" in proc.stdout


def test_thresholds(runs: tuple[Path, Path], tmp_path: Path) -> None:
    proc = ipcatlas("thresholds", str(runs[0]), "--json", str(tmp_path / "t.json"))
    assert proc.returncode == 0, proc.stderr
    assert "## Crossovers against shm: pingpong, placement l3, wait spin, ranks:2" in proc.stdout
    assert "| ptrace |" in proc.stdout and "above the size cap" in proc.stdout  # ptrace 64K: skipped, with why
    result = json.loads((tmp_path / "t.json").read_text())
    assert result["fewest_repetitions"] == 4
    assert {c["challenger"] for c in result["crossovers"]} == {"cma-read", "ptrace"}
    # Blocked runs are decided from pairs measured in one block; 4 blocks are too few to decide.
    assert {c["method"] for c in result["crossovers"]} <= {"signed-rank", "sign"}
    assert {c["kind"] for c in result["crossovers"]} == {"undecided"}
    assert {s["library"] for s in result["settings"]} == {"Open MPI", "MPICH", "UCX", "libfabric shm"}
    # The CPU view: single copies only (from the descriptors), on cpu_ns, undecided with 4 blocks as above.
    assert {(c["challenger"], c["metric"], c["kind"]) for c in result["cpu_crossovers"]} == {("cma-read", "cpu_ns",
                                                                                              "undecided")}
    assert "## CPU view (not the time crossover): CPU per message against shm" in proc.stdout


def test_report(runs: tuple[Path, Path], tmp_path: Path) -> None:
    proc = ipcatlas("report", str(runs[0]), "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == 5  # latency, bandwidth, tail, cpu, canary
    assert "CPU view (not the time crossover)" in page
    assert "Doctor&#x27;s warnings" in page or "Doctor's warnings" in page
    assert "ptrace" in page and "above the size cap" in page


def test_compare_identical_settings_is_not_a_regression_gate_failure(runs: tuple[Path, Path]) -> None:
    proc = ipcatlas("compare", str(runs[0]), str(runs[1]))
    assert proc.returncode == 0, proc.stderr
    assert "pingpong/shm/size:64/ranks:2/placement:l3/wait:spin" in proc.stdout
    assert "geomean" in proc.stdout.lower()


def test_compare_gate_catches_a_planted_slowdown(runs: tuple[Path, Path], tmp_path: Path) -> None:
    document = json.loads(runs[0].read_text())
    for benchmark in document["benchmarks"]:
        if benchmark.get("ipcatlas_status") == "ok" and "one_way_ns" in benchmark:
            benchmark["one_way_ns"] *= 2  # everything twice as slow
    slow = tmp_path / "slow.json"
    slow.write_text(json.dumps(document))
    proc = ipcatlas("compare", str(runs[0]), str(slow), "--fail-on-regression", "10")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "slower" in proc.stdout
