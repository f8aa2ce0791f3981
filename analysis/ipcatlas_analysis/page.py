"""report.html: one self-contained page (figures inlined, styles inside, no script, no
link), so it opens offline and can be mailed or attached to a CI run without its directory."""
from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from typing import Any

from .canary import KIND as CANARY_KIND
from .plots import DrawnFigure
from .tables import Table, to_html

STYLE = """
body { font-family: sans-serif; max-width: 1150px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.88em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0 1.5em; }
.failed { color: #b00020; } .skipped { color: #8a6d00; } .warn { color: #8a6d00; }
.note { font-size: 0.88em; color: #555; }
"""

# Context fields shown first, in this order, with a readable name.
MACHINE_FIELDS = (("host_name", "host"), ("date", "date"), ("cpu_model", "CPU"), ("num_cpus", "CPUs"),
                  ("hypervisor", "hypervisor"), ("kernel", "kernel"), ("topology", "topology"),
                  ("ipcatlas_version", "ipcatlas"), ("scenario", "scenario"), ("placement", "placement"),
                  ("cpus", "PUs"), ("wait", "wait"), ("membind", "memory"), ("ptrace_scope", "ptrace scope"),
                  ("seccomp", "seccomp"))
DOCTOR_KEY = "doctor_warnings"
STABILITY_NOTE = ("Before every run ipcatlas bounces a cache line between the run's PUs (the drift canary). "
                  "With two states, the host moved between a fast and a slow state during the run, and every "
                  "result measured in the slow state is slower for that reason alone; the figure shows when.")


@dataclass(frozen=True)
class PageData:
    """Everything the page shows."""

    contexts: dict[str, dict[str, Any]]  # file -> run context
    counts: dict[str, int]  # ok / failed / skipped benchmarks
    figures: list[DrawnFigure]
    settings: Table
    crossovers: list[Table]
    fastest: list[Table]
    not_measured: Table
    stability: Table | None = None  # the drift canary per file (canary.stability_table); None: not measured
    nodes: list[str] = field(default_factory=list)  # the node comparison's HTML (nodes_report.py); []: one node


def render_page(data: PageData) -> str:
    """The whole HTML document."""
    body = [
        "<h1>ipcatlas report</h1>",
        f"<p>Inputs: {html.escape(', '.join(data.contexts))}.</p>",
        "<h2>Machine and run</h2>", machine_table(data.contexts), *doctor_section(data.contexts),
        "<h2>Status</h2>", status_line(data.counts), *data.nodes,
        "<h2 id=\"host-stability\">Host stability</h2>", *stability_section(data),
        "<h2>Recommended settings</h2>", to_html(data.settings),
        "<h2>Crossovers</h2>", *[to_html(t) for t in data.crossovers],
        *[to_html(t) for t in data.fastest],
        "<h2>Figures</h2>", *[figure(f) for f in data.figures if f.kind != CANARY_KIND],
        "<h2 id=\"not-measured\">Not measured</h2>", to_html(data.not_measured),
        "<h2>Full run context</h2>", full_context(data.contexts),
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ipcatlas report</title>"
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def machine_table(contexts: dict[str, dict[str, Any]]) -> str:
    """The fields that describe the machine and the run, one column per input file."""
    rows = [[label, *(_text(context.get(key, "")) for context in contexts.values())]
            for key, label in MACHINE_FIELDS if any(key in c for c in contexts.values())]
    return to_html(Table("", ["", *contexts], rows))


def doctor_warnings(context: dict[str, Any]) -> list[dict[str, str]] | None:
    """The doctor's warnings recorded in a run's context; None when the run did not record them."""
    raw = context.get(DOCTOR_KEY)
    if raw is None:
        return None
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        return [{"title": DOCTOR_KEY, "value": str(raw)}]
    return [w if isinstance(w, dict) else {"value": str(w)} for w in parsed] if isinstance(parsed, list) else None


def doctor_section(contexts: dict[str, dict[str, Any]]) -> list[str]:
    """What `ipcatlas doctor` warned about when each run started."""
    parts = ["<h3>Doctor's warnings</h3>"]
    for name, context in contexts.items():
        warnings = doctor_warnings(context)
        if warnings is None:
            parts.append(f"<p>{html.escape(name)}: not recorded (a run from before ipcatlas recorded them).</p>")
        elif not warnings:
            parts.append(f"<p>{html.escape(name)}: none; every check passed.</p>")
        else:
            # The fields of `ipcatlas doctor --json` (harness/machine/doctor.cpp: fact_json).
            rows = [[str(w.get(k, "")) for k in ("title", "verdict", "value", "hint")] for w in warnings]
            parts.append(to_html(Table(name, ["check", "verdict", "finding", "hint"], rows,
                                       row_classes=["warn"] * len(rows)), level=4))
    return parts


def stability_section(data: PageData) -> list[str]:
    """The canary summary of each run and its figure: whether the host held still while it measured."""
    if data.stability is None:
        return ["<p>Not measured: these runs are from before ipcatlas measured the drift canary.</p>"]
    canary = [figure(f) for f in data.figures if f.kind == CANARY_KIND]
    return [f"<p class=\"note\">{html.escape(STABILITY_NOTE)}</p>", to_html(data.stability), *canary]


def status_line(counts: dict[str, int]) -> str:
    """"290 ok, 0 failed, 9 skipped", with what that means."""
    return (f"<p>{counts['ok']} benchmarks ok, <span class=\"failed\">{counts['failed']} failed</span>, "
            f"<span class=\"skipped\">{counts['skipped']} skipped</span>. Failed and skipped benchmarks are never "
            "drawn or used in thresholds; they are listed under <a href=\"#not-measured\">Not measured</a>.</p>")


def figure(drawn: DrawnFigure) -> str:
    """The PNG inlined as a data: URI, with its file name and what it shows as caption."""
    encoded = base64.b64encode(drawn.path.read_bytes()).decode("ascii")
    name = html.escape(drawn.path.name)
    return f'<h3>{name}</h3>\n<img alt="{html.escape(drawn.kind)}: {name}" src="data:image/png;base64,{encoded}">'


def full_context(contexts: dict[str, dict[str, Any]]) -> str:
    """Every context field of every file, folded away."""
    keys = list(dict.fromkeys(key for context in contexts.values() for key in context if key != DOCTOR_KEY))
    rows = [[key, *(_text(context.get(key, "")) for context in contexts.values())] for key in keys]
    table = to_html(Table("", ["field", *contexts], rows))
    return f"<details><summary>{len(keys)} fields</summary>\n{table}\n</details>"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
