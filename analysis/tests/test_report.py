"""report.py: files written, exit statuses, the wrapper script."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import ANALYSIS_DIR

from ipcatlas_analysis.report import main

OUTPUTS = {"latency-pingpong-l3-spin.png", "bandwidth-pingpong-l3-spin.png", "thresholds.md", "summary.json",
           "report.html"}


def test_clean_run_writes_everything_and_exits_0(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main([str(inputs / "pingpong_4mech.json"), "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == OUTPUTS
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status_counts"] == {"ok": 92, "failed": 0, "skipped": 0}
    assert {(c["faster"], c["kind"], c["size"]) for c in summary["crossovers"]} == {
        ("cma-read", "crossover", 16384), ("zerocopy", "always", 1), ("pipe", "never", None)}
    assert summary["contexts"][str(inputs / "pingpong_4mech.json")]["kernel"] == "6.1.0-27-amd64"
    assert summary["problems"] == []
    page = (out / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == 2 and "http" not in page
    assert "6.1.0-27-amd64" in page and "<td>16K</td>" in page
    assert "<code>MPIR_CVAR_CH4_IPC_CMA_P2P_THRESHOLD</code>" in page


def test_a_failure_exits_1_but_still_writes_outputs(inputs: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report"
    assert main([str(inputs / "skipped_failed.json"), "--out", str(out)]) == 1
    assert {p.name for p in out.iterdir()} == OUTPUTS
    assert "12 ok, 2 failed, 5 skipped" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert [(p["mechanism"], p["size"], p["status"]) for p in summary["problems"]][:2] == [
        ("pipe", 65536, "failed"), ("ptrace", 64, "skipped")]
    assert "pipe" not in {c["faster"] for c in summary["crossovers"] if c["size"] == 65536}
    page = (out / "report.html").read_text()
    assert '<tr class="failed"><td>failed</td><td>pingpong/pipe/size:65536' in page
    assert "EPERM: Yama ptrace_scope=2 needs CAP_SYS_PTRACE" in page


def test_skips_alone_are_not_a_failure(inputs: Path, tmp_path: Path) -> None:
    document = json.loads((inputs / "skipped_failed.json").read_text())
    document["benchmarks"] = [b for b in document["benchmarks"] if "skipped" in b.get("error_message", "skipped")]
    path = tmp_path / "skips.json"
    path.write_text(json.dumps(document))
    assert main([str(path), "--out", str(tmp_path / "report")]) == 0


@pytest.mark.parametrize(("file_name", "complaint"), [
    ("malformed.json", "not JSON"),
    ("absent.json", "cannot read"),
])
def test_bad_input_exits_2_with_one_line(inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         file_name: str, complaint: str) -> None:
    assert main([str(inputs / "pingpong_4mech.json"), str(inputs / file_name), "--out", str(tmp_path / "r")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and file_name in error and complaint in error


def test_unwritable_out_exits_2(inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main([str(inputs / "pingpong_4mech.json"), "--out", str(blocker / "sub")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_wrapper_help_explains_options_and_outputs() -> None:
    result = subprocess.run([str(ANALYSIS_DIR / "ipcatlas-report"), "--help"], capture_output=True, text=True,
                            check=True)
    for word in ("RESULT.json", "--out DIR", "--baseline", "latency-SCENARIO-PLACEMENT-WAIT.png",
                 "bandwidth-SCENARIO-PLACEMENT-WAIT.png", "thresholds.md", "summary.json", "report.html",
                 "exit status", "  1  ", "  2  "):
        assert word in result.stdout


def test_wrapper_exit_status_for_bad_input(inputs: Path, tmp_path: Path) -> None:
    result = subprocess.run([str(ANALYSIS_DIR / "ipcatlas-report"), str(inputs / "malformed.json"),
                             "--out", str(tmp_path)], capture_output=True, text=True, env={"PATH": "/nonexistent"})
    assert result.returncode == 2
    assert result.stderr.startswith("ipcatlas-report: error: ") and "malformed.json" in result.stderr


def test_several_scenarios_make_one_figure_pair_each(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main([str(inputs / "stream_small.json"), str(inputs / "alltoall_small.json"), "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"latency-stream-l3-spin.png", "bandwidth-stream-l3-spin.png", "bandwidth-alltoall-l3-block.png"} <= names
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status_counts"]["skipped"] == 2  # ptrace at 1K and 64K
    assert any("one tracer per tracee" in p["message"] for p in summary["problems"])
