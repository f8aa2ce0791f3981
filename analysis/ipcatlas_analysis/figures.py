"""What the size figures (plots.py), the history figures (history_figures.py) and the canary
figure share: groups, colours, the sizes a figure picks, how a y axis is scaled and labelled,
and how a figure is saved.

Every label on a figure is text, never mathtext: mechanism names, peer labels and
scenario names come from input files and the command line, and a "$" in one
would otherwise be parsed as TeX and crash the drawing (plain_text()).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import BinaryIO

import matplotlib
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from .peers import PEER_PREFIX
from .safe_output import write_file
from .units import format_ns

MAX_SCALING_SIZES = 3
MAX_SLUG_CHARS = 40  # per part of a file name: a long name from a crafted file must still fit NAME_MAX
_PEER_COLORS = ("#222222", "#8c564b", "#555555", "#7f7f00")

Color = tuple[float, ...] | str


@dataclass(frozen=True, order=True)
class FigureGroup:
    """The cells one figure shows."""

    scenario: str
    placement: str
    wait: str

    def slug(self) -> str:
        """"pingpong-l3-spin": the file name part, safe on any file system."""
        return "-".join(slug(part or "any") for part in (self.scenario, self.placement, self.wait))

    def select(self, table: pd.DataFrame) -> pd.DataFrame:
        """The rows of a cells, rows or problems table that belong to this figure."""
        return table[(table["scenario"] == self.scenario) & (table["placement"] == self.placement)
                     & (table["wait"] == self.wait)]


def pick_sizes(sizes: Sequence[int]) -> list[int]:
    """Up to MAX_SCALING_SIZES sizes: the smallest, a middle one and the largest."""
    if len(sizes) <= MAX_SCALING_SIZES:
        return list(sizes)
    return [sizes[0], sizes[len(sizes) // 2], sizes[-1]]


def mechanism_colors(cells: pd.DataFrame) -> dict[str, Color]:
    """One colour per mechanism for the whole report, so a mechanism looks the same in every figure;
    peers get dark tones of their own."""
    palette = matplotlib.colormaps["tab20"]
    order = [*range(0, 20, 2), *range(1, 20, 2)]  # the ten strong colours first
    names = sorted(set(cells["mechanism"]))
    ours = [m for m in names if not m.startswith(PEER_PREFIX)]
    peers = [m for m in names if m.startswith(PEER_PREFIX)]
    colors: dict[str, Color] = {m: palette(order[i % 20]) for i, m in enumerate(ours)}
    colors.update({m: _PEER_COLORS[i % len(_PEER_COLORS)] for i, m in enumerate(peers)})
    return colors


def display_scale(unit: str | None) -> float:
    """The factor a value is drawn with: bandwidth (B/s) in GB/s (SI, 10^9 bytes/s), anything
    else as measured."""
    return 1e-9 if unit == "B/s" else 1.0


def tick_label(unit: str | None) -> Callable[[float], str]:
    """How an axis labels a value of this unit: times as "250 ns" or "1.5 µs", anything else
    plainly ("0.5", "12"), never as 10^n (mathtext, which warns with Debian's pyparsing)."""
    return format_ns if unit == "ns" else _plain


def _plain(value: float) -> str:
    return f"{value:g}"


def label_y(axes: Axes, label: Callable[[float], str]) -> None:
    """Major y ticks labelled by `label` (tick_label of the values' unit)."""
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: label(value)))


def log_y(axes: Axes, values: pd.Series, label: Callable[[float], str]) -> None:
    """Log y with plain labels ("1 µs", "0.5"): the default 10^n labels need mathtext,
    which warns with Debian's pyparsing, and read worse."""
    axes.set_yscale("log")
    positive = values[values > 0]
    few_decades = positive.empty or positive.max() / positive.min() < 1000
    axes.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if few_decades else (1.0,)))
    label_y(axes, label)
    axes.yaxis.set_minor_formatter(NullFormatter())


def legend_outside(axes: Axes) -> None:
    """Outside the axes, on the right: a dozen mechanisms would hide the lines."""
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)


def slug(text: str) -> str:
    """A file-name part: safe characters only, and at most MAX_SLUG_CHARS (a longer text keeps its
    start and gets a hash of the whole, so two long names still make two files)."""
    safe = re.sub(r"[^A-Za-z0-9_.]+", "_", text)
    if len(safe) <= MAX_SLUG_CHARS:
        return safe
    return f"{safe[:MAX_SLUG_CHARS - 9]}_{sha256(text.encode()).hexdigest()[:8]}"


@contextmanager
def plain_text() -> Iterator[None]:
    """Every Text made inside is drawn as written: no mathtext for a "$" in a label."""
    with matplotlib.rc_context({"text.parse_math": False}):
        yield


def save_figure(figure: Figure, png: Path, dpi: int = 110) -> None:
    """PNG for pages and mail, SVG (beside it) for papers and zooming, each written safely."""
    def png_bytes(stream: BinaryIO) -> None:
        figure.savefig(stream, format="png", dpi=dpi)

    def svg_bytes(stream: BinaryIO) -> None:
        figure.savefig(stream, format="svg")

    write_file(png, png_bytes)
    write_file(png.with_suffix(".svg"), svg_bytes)
