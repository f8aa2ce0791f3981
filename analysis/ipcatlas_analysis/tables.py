"""A table once, written as Markdown (thresholds.md, stdout) or HTML (report.html)."""
from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Table:
    """A titled table; cells are plain text where `code spans` are allowed."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""
    row_classes: list[str] = field(default_factory=list)  # HTML only: one CSS class per row

    def __post_init__(self) -> None:
        # Cells are often built from pandas values, which may be numpy scalars rather than
        # str (a size of 64 read back as numpy.int64): make every cell text once, here.
        object.__setattr__(self, "headers", [str(header) for header in self.headers])
        object.__setattr__(self, "rows", [[str(cell) for cell in row] for row in self.rows])


def to_markdown(tables: Sequence[Table], level: int = 2) -> str:
    """Each table under a heading, its note below it."""
    lines: list[str] = []
    for table in tables:
        lines += [f"{'#' * level} {table.title}", ""]
        if table.rows:
            lines += ["| " + " | ".join(table.headers) + " |", "|" + " --- |" * len(table.headers)]
            lines += ["| " + " | ".join(_markdown_cell(c) for c in row) + " |" for row in table.rows]
        elif table.headers:
            lines.append("(none)")
        if table.note:
            lines += [""] + [table.note] if table.headers else [table.note]  # a table of text only: no gap
        lines.append("")
    return "\n".join(lines)


def to_html(table: Table, level: int = 3) -> str:
    """An escaped HTML table with its heading and note; `code` spans become <code>."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
    parts = [f"<h{level}>{html.escape(table.title)}</h{level}>"] if table.title else []
    if table.rows:
        parts.append(f"<table><tr>{head}</tr>")
        for i, row in enumerate(table.rows):
            css = f' class="{table.row_classes[i]}"' if i < len(table.row_classes) else ""
            parts.append(f"<tr{css}>" + "".join(f"<td>{code_spans(c)}</td>" for c in row) + "</tr>")
        parts.append("</table>")
    elif table.headers:
        parts.append("<p>(none)</p>")
    if table.note:
        parts.append(f"<p class=\"note\">{code_spans(table.note)}</p>")
    return "\n".join(parts)


def code_spans(text: str) -> str:
    """Escape text for HTML and turn Markdown `code` spans into <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
