"""report.html: one self-contained page (figures inlined), so it can be mailed or
attached to a CI run without its directory."""
from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .plots import DrawnFigure
from .thresholds import Crossover, describe, format_margin, format_value, group_title, knob_notes
from .units import format_size

_STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0 1.5em; }
.failed { color: #b00020; } .skipped { color: #8a6d00; }
"""


@dataclass(frozen=True)
class PageData:
    """Everything the page shows."""

    contexts: dict[str, dict[str, Any]]
    counts: dict[str, int]
    figures: list[DrawnFigure]
    crossovers: list[Crossover]
    fastest: pd.DataFrame
    problems: pd.DataFrame
    baseline: str


def render_page(data: PageData) -> str:
    """The whole HTML document."""
    body = [
        "<h1>ipcatlas report</h1>",
        "<h2>Run context</h2>", context_table(data.contexts),
        "<h2>Status</h2>", table(["ok", "failed", "skipped"], [[data.counts[k] for k in ("ok", "failed", "skipped")]]),
        "<p>Counts are per benchmark (one name; repetitions pooled). Failed and skipped benchmarks are "
        "never drawn or used in thresholds; they are listed at the end.</p>",
        "<h2>Figures</h2>", *[figure(f) for f in data.figures],
        f"<h2>Crossover thresholds against {html.escape(data.baseline)}</h2>", crossover_table(data.crossovers),
        *knob_list(data.crossovers, data.baseline),
        "<h2>Fastest mechanism per size</h2>", fastest_table(data.fastest),
        "<h2>Failed and skipped</h2>", problem_table(data.problems),
    ]
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>ipcatlas report</title>"
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], row_classes: Sequence[str] = ()) -> str:
    """An HTML table; every cell is escaped."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    lines = [f"<table><tr>{head}</tr>"]
    for i, row in enumerate(rows):
        css = f' class="{row_classes[i]}"' if i < len(row_classes) else ""
        lines.append(f"<tr{css}>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>")
    return "\n".join(lines + ["</table>"])


def context_table(contexts: dict[str, dict[str, Any]]) -> str:
    """One row per context field, one column per input file."""
    keys = list(dict.fromkeys(key for context in contexts.values() for key in context))
    rows = [[key, *(_context_value(context.get(key, "")) for context in contexts.values())] for key in keys]
    return table(["field", *contexts], rows)


def figure(drawn: DrawnFigure) -> str:
    """The PNG inlined as a data: URI, with its file name as caption."""
    encoded = base64.b64encode(drawn.path.read_bytes()).decode("ascii")
    name = html.escape(drawn.path.name)
    return f'<h3>{name}</h3>\n<img alt="{name}" src="data:image/png;base64,{encoded}">'


def crossover_table(found: Sequence[Crossover]) -> str:
    """The thresholds as in thresholds.md, one table for all groups."""
    if not found:
        return "<p>No crossover: the baseline and another mechanism were not both measured ok.</p>"
    rows = [[group_title(c.scenario, c.placement, c.wait, c.variant), c.faster, describe(c),
             format_margin(c.margin), c.sizes_compared, c.metric] for c in found]
    return table(["group", "mechanism", f"beats {found[0].slower} from", "margin", "sizes compared", "metric"], rows)


def knob_list(found: Sequence[Crossover], baseline: str) -> list[str]:
    """The production knobs the measured pairs inform (explanatory text only)."""
    notes = knob_notes(found, baseline)
    if not notes:
        return []
    return ["<p>Production knobs these thresholds inform:</p><ul>",
            *[f"<li>{_code(html.escape(note))}</li>" for note in notes], "</ul>"]


def fastest_table(fastest: pd.DataFrame) -> str:
    """Fastest mechanism per group and size, without the zero-copy reference."""
    rows = [[group_title(r.scenario, r.placement, r.wait, r.variant), format_size(r.size), r.fastest,
             format_value(r.value, r.metric), r.runner_up or "–", format_margin(r.margin)]
            for r in fastest.itertuples()]
    return table(["group", "size", "fastest", "value", "runner-up", "margin"], rows)


def problem_table(problems: pd.DataFrame) -> str:
    """Every failed or skipped benchmark with its message and the files it came from."""
    if problems.empty:
        return "<p>None.</p>"
    rows = [[r.status, r.name, r.message, r.files] for r in problems.itertuples()]
    return table(["status", "benchmark", "message", "files"], rows, list(problems["status"]))


def _code(text: str) -> str:
    """Markdown `code` spans of the shared notes as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)


def _context_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
