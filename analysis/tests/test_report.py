"""report.py and the command line: files written, what the page shows, exit statuses."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ANALYSIS_DIR

from ipcatlas_analysis.cli import main

FIGURES = {f"{kind}-pingpong-l3-spin.{ext}" for kind in ("latency", "bandwidth", "tail") for ext in ("png", "svg")}
OUTPUTS = FIGURES | {"thresholds.md", "thresholds.json", "summary.json", "report.html"}


def with_context(source: Path, target: Path, **fields: object) -> Path:
    """A copy of a result file with extra context fields."""
    document = json.loads(source.read_text())
    document["context"].update(fields)
    target.write_text(json.dumps(document))
    return target


def test_clean_run_writes_everything_and_exits_0(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main(["report", str(inputs / "pingpong_4mech.json"), "-o", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == OUTPUTS
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status_counts"] == {"ok": 92, "failed": 0, "skipped": 0}
    thresholds = json.loads((out / "thresholds.json").read_text())
    assert {(c["challenger"], c["kind"], c["size"]) for c in thresholds["crossovers"]} == {
        ("cma-read", "crossover", 16384), ("zerocopy", "always", 1), ("pipe", "never", None)}
    page = (out / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == 3
    assert not re.search(r'(src|href)="(?!data:|#)', page)  # nothing outside the file
    assert "6.1.0-27-amd64" in page and "<td>16K</td>" in page
    assert "<code>MPIR_CVAR_CH4_IPC_CMA_P2P_THRESHOLD</code>" in page and "<code>16384</code>" in page
    assert "not recorded (a run from before ipcatlas recorded them)" in page


def test_the_page_shows_doctor_warnings(inputs: Path, tmp_path: Path) -> None:
    warning = {"key": "governor", "title": "CPU frequency governor", "value": "powersave", "verdict": "warn",
               "hint": "cpupower frequency-set -g performance"}
    path = with_context(inputs / "pingpong_4mech.json", tmp_path / "run.json", doctor_warnings=json.dumps([warning]))
    assert main(["report", str(path), "-o", str(tmp_path / "r")]) == 0
    page = (tmp_path / "r" / "report.html").read_text()
    assert '<tr class="warn"><td>CPU frequency governor</td><td>warn</td><td>powersave</td>' in page
    clean = with_context(inputs / "pingpong_4mech.json", tmp_path / "clean.json", doctor_warnings="[]")
    assert main(["report", str(clean), "-o", str(tmp_path / "c")]) == 0
    assert "none; every check passed" in (tmp_path / "c" / "report.html").read_text()


def test_a_failure_exits_1_but_still_writes_outputs(inputs: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report"
    assert main(["report", str(inputs / "skipped_failed.json"), "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert "12 ok, 2 failed, 5 skipped" in captured.out and "2 benchmark(s) failed" in captured.err
    page = (out / "report.html").read_text()
    assert '<tr class="failed"><td>failed</td><td>pingpong</td><td>pipe</td><td>64K</td>' in page
    assert "EPERM: Yama ptrace_scope=2 needs CAP_SYS_PTRACE" in page


def test_skips_alone_are_not_a_failure(inputs: Path, tmp_path: Path) -> None:
    document = json.loads((inputs / "skipped_failed.json").read_text())
    document["benchmarks"] = [b for b in document["benchmarks"] if "skipped" in b.get("error_message", "skipped")]
    path = tmp_path / "skips.json"
    path.write_text(json.dumps(document))
    assert main(["report", str(path), "-o", str(tmp_path / "report")]) == 0


@pytest.mark.parametrize("command", ["report", "plot", "thresholds"])
@pytest.mark.parametrize(("file_name", "complaint"), [("malformed.json", "not JSON"), ("absent.json", "cannot read")])
def test_bad_input_exits_2_with_one_line(inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         command: str, file_name: str, complaint: str) -> None:
    out = ["-o", str(tmp_path / "r")] if command != "thresholds" else []
    assert main([command, str(inputs / "pingpong_4mech.json"), str(inputs / file_name), *out]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith(f"ipcatlas {command}: error: ")
    assert file_name in error and complaint in error


def test_unwritable_out_exits_2(inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["report", str(inputs / "pingpong_4mech.json"), "-o", str(blocker / "sub")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_several_scenarios_make_their_own_figures(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main(["report", str(inputs / "stream_small.json"), str(inputs / "alltoall_small.json"), "-o", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"latency-stream-l3-spin.png", "bandwidth-stream-l3-spin.png", "bandwidth-alltoall-l3-block.png"} <= names
    thresholds = json.loads((out / "thresholds.json").read_text())
    assert any("one tracer per tracee" in p["message"] for p in thresholds["not_measured"])


def test_thresholds_prints_markdown_and_writes_files(inputs: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["thresholds", str(inputs / "pingpong_4mech.json"), "--json", str(tmp_path / "t.json"),
                 "--markdown", str(tmp_path / "t.md")]) == 0
    text = capsys.readouterr().out
    assert "| cma-read | 16K | 8K–16K (≈ 10K) | 1.22x | 3 | 23 | 1 (single) |" in text
    assert "Warning: some benchmarks have a single repetition" in text
    assert (tmp_path / "t.md").read_text().strip() == text.strip()
    assert {s["library"] for s in json.loads((tmp_path / "t.json").read_text())["settings"]} == {
        "Open MPI", "MPICH", "UCX", "libfabric shm"}


def test_plot_lists_its_figures(inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", str(inputs / "pingpong_4mech.json"), "-o", str(tmp_path)]) == 0
    assert "wrote 3 figures (PNG and SVG)" in capsys.readouterr().out
    assert {p.name for p in tmp_path.iterdir()} == FIGURES


def test_module_help_lists_every_command() -> None:
    result = subprocess.run([sys.executable, "-m", "ipcatlas_analysis", "--help"], cwd=ANALYSIS_DIR,
                            capture_output=True, text=True, check=True)
    for command in ("plot", "thresholds", "compare", "history", "report"):
        assert f"    {command}" in result.stdout
    for command, words in {"plot": ("scaling-SCENARIO", "--peer", "exit status"),
                           "thresholds": ("undecided", "Mann-Whitney", "--json"),
                           "report": ("report.html", "offline", "thresholds.json")}.items():
        help_text = subprocess.run([sys.executable, "-m", "ipcatlas_analysis", command, "--help"], cwd=ANALYSIS_DIR,
                                   capture_output=True, text=True, check=True).stdout
        assert all(word in help_text for word in words), (command, help_text)


def test_the_page_renders_offline_in_chromium(inputs: Path, tmp_path: Path) -> None:
    from browser import render_in_chromium  # noqa: PLC0415  (skips or fails by itself without chromium)
    out = tmp_path / "report"
    results = [str(inputs / name) for name in ("skipped_failed.json", "stream_small.json", "alltoall_blocked.json")]
    assert main(["report", *results, "-o", str(out)]) == 1  # canary.png too, in Host stability
    page = render_in_chromium(out / "report.html", tmp_path / "browser")
    figures = len(json.loads((out / "summary.json").read_text())["figures"])
    assert figures >= 4 and page.images == figures
    assert page.images_loaded == page.images, "an inlined figure did not load"
    assert page.errors == [] and not page.blank and page.text_chars > 2000
