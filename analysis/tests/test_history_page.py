"""history.html (history_page.py): what it shows, that input cannot inject markup, the --reports
links, and that a failure while writing it leaves the output directory as it was."""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from history_fixtures import SHM_4K, make_history, make_run
from ipcatlas_analysis import cli, history, safe_output
from ipcatlas_analysis.history import write_history
from ipcatlas_analysis.history_gates import parse_baseline

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def ipcatlas(monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    """`ipcatlas history ARGS...` through the real dispatcher, loading only this command's module."""
    monkeypatch.setattr(cli, "COMMANDS", {"history": "history_command"})
    return lambda *argv: cli.main(["history", *(str(a) for a in argv)])


def page_of(out: Path) -> str:
    return (out / "history.html").read_text(encoding="utf-8")


def sections(page: str) -> list[str]:
    return re.findall(r"<h2>([^<]*)</h2>", page)


def test_the_page_shows_verdict_runs_figures_gates_regressions_and_machine(tmp_path: Path) -> None:
    contexts = [{"canary_median_ns": 60, "cpu_model": "AMD EPYC 7B13", "kernel": "6.1.0-18-amd64"}] * 4
    runs = make_history(tmp_path / "runs", 4, factors={4: 1.3}, contexts=contexts)
    done = write_history(runs, tmp_path / "out", order="given", threshold_pct=10)
    page = page_of(tmp_path / "out")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert sections(page) == ["Runs", "Figures", "Gates", "Regressions per benchmark", "Machine"]
    assert '<p class="verdict failed">Last run (4, run04): gate FAILED</p>' in page
    assert "baseline (previous:" in page and "alpha 0.05" in page and "exceeds 10%" in page
    rows = re.findall(r"<tr><td>(\d+)</td>.*?</tr>", page.split("<h2>Runs</h2>")[1].split("<h2>")[0])
    assert rows == ["1", "2", "3", "4"]
    assert ('<tr><td>4</td><td>2024-11-01T22:00:00+00:00</td><td></td><td>run04.json</td><td>60 ns</td>'
            '<td class="failed">FAILED</td><td>2-3</td><td></td></tr>') in page
    assert "<td>first run</td>" in page and page.count('<td class="passed">passed</td>') == 2
    # Figures inlined: nothing to fetch, no script, no link.
    assert page.count('src="data:image/png;base64,') == len(done.figures) == 1
    assert "<script" not in page and "href=" not in page and "http" not in page
    # The gates: the failed run is the last one, shown once with its tests.
    gates = page.split("<h2>Gates</h2>")[1].split("<h2>")[0]
    assert gates.count("<h3>") == 1 and "<h3>Run 4 (run04): <span class=\"failed\">FAILED</span>" in gates
    assert "<td>all benchmarks</td><td>6</td><td>x1.297 (+29.7%)</td><td>0.016</td><td>0.05</td><td>SLOWER</td>" in (
        gates)
    assert (f"<td>4 (run04)</td><td>{SHM_4K}</td><td>one_way_ns</td><td>510.1 ns -&gt; 661.8 ns</td><td>+29.7%</td>"
            "<td>0.00041</td><td>3</td></tr>") in page
    assert ("<tr><td>1-4</td><td>atlas-test</td><td>AMD EPYC 7B13</td><td>2</td><td>6.1.0-18-amd64</td></tr>"
            in page)


def test_an_undecided_last_run_says_why_and_earlier_failures_are_listed(tmp_path: Path) -> None:
    contexts = [{"canary_median_ns": ns} for ns in (60, 61, 62, 300)]
    runs = make_history(tmp_path / "runs", 4, factors={2: 1.3}, contexts=contexts)
    write_history(runs, tmp_path / "out", order="given", baseline=parse_baseline("median:2"))
    page = page_of(tmp_path / "out")
    assert '<p class="verdict undecided">Last run (4, run04): gate cannot decide</p>' in page
    assert '<p class="undecided">Why: no earlier run in the same host state as this one (drift canary' in page
    gates = page.split("<h2>Gates</h2>")[1].split("<h2>")[0]
    assert re.findall(r"<h3>Run (\d)", gates) == ["2", "4"]
    assert "<td>300 ns</td>" in page


def test_input_cannot_inject_markup(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    hostile = {"cpu_model": HOSTILE, "host_name": '"><img src=x onerror=alert(1)>', "kernel": "<b>6.1</b>",
               "commit": "<i>c0ffee</i>", "date": "<u>today</u>", "canary_median_ns": HOSTILE}
    make_run(runs / "1.json", "b", **hostile)
    make_run(runs / "<img src=x onerror=alert(2)>.json", "d", factor=1.3, **hostile)
    write_history([runs / "1.json", runs / "<img src=x onerror=alert(2)>.json"], tmp_path / "out", order="given")
    page = page_of(tmp_path / "out")
    assert "<script" not in page and "<img src=x" not in page and "<b>" not in page and "<i>" not in page
    assert "<u>" not in page and "onerror=alert(1)>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;.json" in page  # the file name in the runs table
    assert "<td>&lt;i&gt;c0ff</td>" in page  # the commit, cut to 7 characters, then escaped
    assert "Last run (2, &lt;img src=x onerror=alert(2)&gt;)" in page  # the run's label


def test_reports_are_linked_relative_to_the_output_directory(tmp_path: Path, ipcatlas: Callable[..., int],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    files = [make_run(runs / name, "b") for name in ("run1.json", "run #2.json", "run3.json")]
    reports = tmp_path / "reports"
    for stem in ("run1", "run #2"):
        (reports / stem).mkdir(parents=True)
        (reports / stem / "report.html").write_text("<p>report</p>")
    (reports / "run3").mkdir()  # a report directory without report.html: no link
    out = tmp_path / "site" / "history"
    assert ipcatlas(*files, "-o", out, "--order", "given", "--reports", reports) == 0
    capsys.readouterr()
    page = page_of(out)
    assert re.findall(r'href="([^"]*)"', page) == ["../../reports/run1/report.html",
                                                   "../../reports/run%20%232/report.html"]
    assert os.path.relpath(reports / "run1" / "report.html", out) == "../../reports/run1/report.html"
    assert sorted(p.name for p in out.iterdir()) == ["history-one_way_ns-pingpong-l3-spin.png",
                                                     "history-one_way_ns-pingpong-l3-spin.svg", "history.html",
                                                     "history.json"]
    # Without --reports, or with a directory that has none of them: no link at all.
    assert ipcatlas(*files, "-o", out, "--order", "given") == 0
    assert "href=" not in page_of(out)
    assert ipcatlas(*files, "-o", out, "--order", "given", "--reports", tmp_path / "missing") == 0
    assert "href=" not in page_of(out)
    assert ipcatlas(*files, "-o", out, "--order", "given", "--reports", "x" * 10_000) == 0  # ENAMETOOLONG
    assert "href=" not in page_of(out)


def test_a_crash_while_writing_the_page_leaves_the_directory_as_it_was(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    runs = make_history(tmp_path / "runs", 2)
    out = tmp_path / "out"
    out.mkdir()
    old = {"history.json": "old json", "history.html": "old page", "notes.txt": "mine"}
    for name, text in old.items():
        (out / name).write_text(text)

    def crash(*_args: object) -> str:
        raise RuntimeError("crash in render_history_page")
    monkeypatch.setattr(history, "render_history_page", crash)
    with pytest.raises(RuntimeError):
        write_history(runs, out, order="given")
    assert {p.name: p.read_text() for p in out.iterdir()} == old
    assert not any(p.name.startswith(safe_output.STAGING_PREFIX) for p in out.iterdir())


def test_a_planted_page_is_refused(tmp_path: Path, victim: Path, ipcatlas: Callable[..., int],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    runs = make_history(tmp_path / "runs", 2)
    out = tmp_path / "out"
    out.mkdir()
    (out / "history.html").symlink_to(victim)
    assert ipcatlas(*runs, "-o", out, "--order", "given") == 2
    assert f"{out / 'history.html'}: refusing to write: it exists and is a symlink" in capsys.readouterr().err
    assert victim.read_text() == "precious\n" and [p.name for p in out.iterdir()] == ["history.html"]


def test_the_page_renders_offline_in_chromium(tmp_path: Path) -> None:
    from browser import render_in_chromium  # noqa: PLC0415  (skips or fails by itself without chromium)
    runs = make_history(tmp_path / "runs", 5, factors={4: 1.3})
    done = write_history(runs, tmp_path / "out", order="given", metrics=["one_way_ns", "bytes_per_second"])
    page = render_in_chromium(tmp_path / "out" / "history.html", tmp_path / "browser")
    assert len(done.figures) == 2 and page.images == page.images_loaded == 2
    assert page.errors == [] and not page.blank and page.text_chars > 1000
