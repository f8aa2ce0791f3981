"""history.html: the CI history on one self-contained page (styles inside, figures inlined
as PNG, no script), like report.html (page.py). Its only links are to the runs' own
report pages (--reports), relative to the output directory. Everything read from the
input files (labels, commits, file names, contexts, benchmark names) is escaped."""
from __future__ import annotations

import base64
import html
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .compare import format_value
from .gate import FAILED, PASSED, UNDECIDED, GateResult, canary_median, test_verdict
from .history_gates import RunGate, describe
from .page import MACHINE_FIELDS, STYLE

if TYPE_CHECKING:  # history.py imports this module; the types are only annotations here
    from .history import History, Run

HISTORY_HTML = "history.html"
REPORT_HTML = "report.html"
STATUS_CLASS = {PASSED: "passed", FAILED: "failed", UNDECIDED: "undecided"}
SHORT = 7  # hex digits of a commit in the runs table
_MACHINE = ("host_name", "cpu_model", "num_cpus", "hypervisor", "kernel")
_STYLE = STYLE + """
.passed { color: #1a7f37; } .undecided { color: #6e6e6e; }
.verdict { font-size: 1.3em; font-weight: bold; }
figure { margin: 0 0 1.5em; } figcaption { font-size: 0.88em; color: #555; }
"""


def report_links(runs: Sequence[Run], reports: Path | None, out: Path) -> dict[int, str]:
    """Run position -> the path of REPORTS/STEM/report.html relative to `out`, for each run
    FILE/STEM.json whose report exists. Only the name is used: the report is never read."""
    if reports is None:
        return {}
    links = {}
    for position, run in enumerate(runs, start=1):
        report = reports / run.path.stem / REPORT_HTML
        if os.path.isfile(report):  # False, not an error, for a name too long or a directory unreadable
            links[position] = os.path.relpath(os.path.abspath(report), os.path.abspath(out))
    return links


def render_history_page(history: History, links: dict[int, str]) -> str:
    """The whole document; figures are read from their PNG files, where history.py drew them."""
    body = [
        "<h1>ipcatlas history</h1>", *headline(history),
        "<h2>Runs</h2>", runs_table(history, links),
        "<h2>Figures</h2>", *[_figure(f.png) for f in history.figures],
        "<h2>Gates</h2>", *gate_sections(history),
        "<h2>Regressions per benchmark</h2>", regressions_table(history),
        "<h2>Machine</h2>", machine_table(history.runs),
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ipcatlas history</title>"
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def headline(history: History) -> list[str]:
    """The last run's verdict, the rule behind it and, when undecided, why."""
    gate = history.last_gate
    result = gate.result
    run = history.runs[gate.position - 1]
    parts = [f"<p class=\"verdict {STATUS_CLASS[result.status]}\">Last run ({gate.position}, {_e(run.label)}): "
             f"gate {_e(result.status)}</p>", f"<p>{_e(rule_text(history))}</p>",
             f"<p>Against {_e(_against(gate))}.</p>"]
    if result.reason:
        parts.append(f"<p class=\"{STATUS_CLASS[result.status]}\">Why: {_e(result.reason)}</p>")
    return parts


def rule_text(history: History) -> str:
    return (f"Rule: each run against its baseline ({history.baseline}: {describe(history.baseline)}). The gate "
            f"fails when a one-sided signed-rank test over the per-benchmark log(run / baseline) rejects at "
            f"alpha {history.alpha:g} (Holm) and the median slowdown exceeds {history.threshold_pct:g}%; with "
            f"too few benchmarks, a U test per benchmark (p < {history.alpha:g}, slower by more than "
            f"{history.threshold_pct:g}%). Too few of either: cannot decide, never passed.")


def runs_table(history: History, links: dict[int, str]) -> str:
    """One row per run, oldest first, with its gate's verdict and a link to its report."""
    gates = {gate.position: gate for gate in history.gates}
    rows = []
    for position, run in enumerate(history.runs, start=1):
        gate = gates.get(position)
        canary = canary_median(run.context)
        verdict = (f"<td class=\"{STATUS_CLASS[gate.result.status]}\">{_e(gate.result.status)}</td>"
                   if gate else "<td>first run</td>")
        link = f"<a href=\"{_e(quote(links[position]))}\">report</a>" if position in links else ""
        rows.append(f"<tr><td>{position}</td><td>{_e(run.date)}</td><td>{_e(run.commit[:SHORT])}</td>"
                    f"<td>{_e(run.path.name)}</td><td>{'' if canary is None else f'{canary:.0f} ns'}</td>{verdict}"
                    f"<td>{_e(_positions(gate.baseline)) if gate else ''}</td><td>{link}</td></tr>")
    head = _row("th", ["run", "date", "commit", "file", "host state (canary median)", "gate", "baseline runs",
                       "report"])
    return f"<table>{head}\n" + "\n".join(rows) + "</table>"


def gate_sections(history: History) -> list[str]:
    """The tests behind every gate that did not pass, and the last run's."""
    chosen = [g for g in history.gates if g.result.status != PASSED or g is history.last_gate]
    if not chosen:
        return ["<p>No gate.</p>"]
    not_passed = sum(g.result.status != PASSED for g in history.gates)
    parts = [f"<p class=\"note\">Every run from the second on is judged against its baseline; shown here: the "
             f"{not_passed} run(s) whose gate FAILED or could not decide, and the last run.</p>"]
    for gate in chosen:
        run = history.runs[gate.position - 1]
        result = gate.result
        decided = f" ({_e(result.decided_by)})" if result.decided_by else ""
        parts.append(f"<h3>Run {gate.position} ({_e(run.label)}): <span class=\"{STATUS_CLASS[result.status]}\">"
                     f"{_e(result.status)}</span>{decided}</h3>")
        parts.append(f"<p>Against {_e(_against(gate))}.{_reason(result)}</p>")
        parts.append(_tests_table(result))
    return parts


def regressions_table(history: History) -> str:
    """Every per-benchmark U-test regression (the red rings), with the baseline it was found against."""
    if not history.regressions:
        return "<p>None.</p>"
    head = _row("th", ["run", "benchmark", "metric", "baseline -> run", "change", "p (U test)", "baseline runs"])
    rows = [_row("td", [f"{r.run} ({r.run_label})", r.name, r.metric,
                        f"{format_value(r.median_before, r.metric)} -> {format_value(r.median_after, r.metric)}",
                        f"{r.change:+.1%}", f"{r.p_value:.2g}", _positions(r.baseline)])
            for r in history.regressions]
    return f"<table>{head}\n" + "\n".join(rows) + "</table>"


def machine_table(runs: Sequence[Run]) -> str:
    """The machines the runs measured on (host, CPU, kernel from the contexts), with their runs."""
    keys = [key for key in _MACHINE if any(run.context.get(key) is not None for run in runs)]
    machines: dict[tuple[str, ...], list[int]] = {}
    for position, run in enumerate(runs, start=1):
        machines.setdefault(tuple(_text(run.context.get(key)) for key in keys), []).append(position)
    labels = dict(MACHINE_FIELDS)
    head = _row("th", ["runs", *(labels[key] for key in keys)])
    rows = [_row("td", [_positions(positions), *machine]) for machine, positions in machines.items()]
    return f"<table>{head}\n" + "\n".join(rows) + "</table>"


def _tests_table(result: GateResult) -> str:
    if not result.tests:
        return "<p>No test across benchmarks: no benchmark was measured in both this run and its baseline.</p>"
    head = _row("th", ["group", "benchmarks", "median ratio", "p", "Holm level", "verdict"])
    rows = [_row("td", [t.group, str(t.count), f"x{t.median_ratio:.3f} ({t.median_slowdown:+.1%})",
                        "" if t.p_value is None else f"{t.p_value:.2g}", "" if t.level is None else f"{t.level:.2g}",
                        test_verdict(t)]) for t in result.tests]
    tripped = (f"<p class=\"note\">{len(result.tripped)} benchmark(s) slower by the U test: "
               f"{_e(', '.join(c.name for c in result.tripped))}.</p>" if result.tripped else "")
    return f"<table>{head}\n" + "\n".join(rows) + "</table>" + tripped


def _figure(png: Path) -> str:
    encoded = base64.b64encode(png.read_bytes()).decode("ascii")
    return (f"<figure><img alt=\"{_e(png.name)}\" src=\"data:image/png;base64,{encoded}\">"
            f"<figcaption>{_e(png.name)} (and .svg beside this page)</figcaption></figure>")


def _against(gate: RunGate) -> str:
    runs = f"run(s) {_positions(gate.baseline)}" if gate.baseline else "no baseline run"
    return runs + (f" ({gate.note})" if gate.note else "")


def _reason(result: GateResult) -> str:
    return f" <span class=\"{STATUS_CLASS[result.status]}\">Why: {_e(result.reason)}</span>" if result.reason else ""


def _positions(positions: Iterable[int]) -> str:
    """1, 2, 3, 5 -> "1-3, 5"."""
    spans: list[list[int]] = []
    for p in sorted(positions):
        if spans and p == spans[-1][1] + 1:
            spans[-1][1] = p
        else:
            spans.append([p, p])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def _row(cell: str, texts: Sequence[str]) -> str:
    return "<tr>" + "".join(f"<{cell}>{_e(text)}</{cell}>" for text in texts) + "</tr>"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _e(text: str) -> str:
    return html.escape(text, quote=True)
