"""Latency and bandwidth figures, one per (scenario, placement, wait).

Uses matplotlib's Agg canvas directly (no pyplot), so figures render without a
display and no global figure state leaks between calls. Failed and skipped
cells are never drawn: they are listed in a footnote on the figure.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

from .cells import BANDWIDTH, ok_cells, time_metric
from .thresholds import CROSSOVER, Crossover
from .units import format_ns, format_size

MAX_FOOTNOTE_LINES = 8
MESSAGE_CHARS = 90
MAX_TICKS = 12
_VARIANT_STYLES = ("-", "--", "-.")


@dataclass(frozen=True, order=True)
class FigureGroup:
    """The cells one figure shows."""

    scenario: str
    placement: str
    wait: str

    def slug(self) -> str:
        """"pingpong-l3-spin": the file name part, safe on any file system."""
        return "-".join(re.sub(r"[^A-Za-z0-9_.]+", "_", part or "any")
                        for part in (self.scenario, self.placement, self.wait))

    def select(self, table: pd.DataFrame) -> pd.DataFrame:
        """The rows of a cells or problems table that belong to this figure."""
        return table[(table["scenario"] == self.scenario) & (table["placement"] == self.placement)
                     & (table["wait"] == self.wait)]


@dataclass(frozen=True)
class DrawnFigure:
    """What a figure shows, so tests and the report need not read pixels."""

    path: Path
    lines: list[str]  # legend labels of the plotted series
    gaps: dict[str, list[int]]  # per line, the sizes where it breaks (failed or skipped there)
    markers: list[str]  # labels of the crossover lines
    footnote: list[str]  # the "not plotted" lines


def figure_groups(cells: pd.DataFrame) -> list[FigureGroup]:
    """Groups with at least one ok cell, sorted; a group with nothing to draw gets no figure."""
    keys = ok_cells(cells)[["scenario", "placement", "wait"]].drop_duplicates()
    return sorted(FigureGroup(*row) for row in keys.itertuples(index=False))


def mechanism_colors(cells: pd.DataFrame) -> dict[str, tuple[float, ...]]:
    """One color per mechanism for the whole report, so a mechanism looks the same in every figure."""
    palette = matplotlib.colormaps["tab20"]
    order = [*range(0, 20, 2), *range(1, 20, 2)]  # the ten strong colors first
    return {m: palette(order[i % 20]) for i, m in enumerate(sorted(set(cells["mechanism"])))}


def plot_latency(cells: pd.DataFrame, problems: pd.DataFrame, found: Sequence[Crossover], group: FigureGroup,
                 path: Path, colors: dict[str, tuple[float, ...]]) -> DrawnFigure | None:
    """Time vs size (log2 x, log y), p50-p99 band per line; None when the group has no time metric."""
    metric = time_metric(ok_cells(group.select(cells)))
    if metric is None:
        return None
    what = "one-way latency" if metric == "one_way_ns" else metric
    line = "the mean one-way time (half a round trip)" if metric == "one_way_ns" else metric
    note = f"Lines: {line}, median over repetitions. Bands, where recorded: p50 to p99 of per-message times."
    return _plot(cells, problems, found, group, path, colors, metric,
                 (f"{what} (log scale)", f"{group.scenario}: {what} vs message size", note))


def plot_bandwidth(cells: pd.DataFrame, problems: pd.DataFrame, found: Sequence[Crossover], group: FigureGroup,
                   path: Path, colors: dict[str, tuple[float, ...]]) -> DrawnFigure | None:
    """bytes_per_second in GB/s vs size (log2 x, log y); None when the group has no bandwidth."""
    note = ("Lines: bytes_per_second (pingpong: message size / one-way time), median over repetitions; "
            "1 GB/s = 10^9 bytes/s.")
    return _plot(cells, problems, found, group, path, colors, BANDWIDTH,
                 ("bandwidth (GB/s, SI: 10^9 bytes/s)", f"{group.scenario}: bandwidth vs message size", note))


def footnote_lines(problems: pd.DataFrame, group: FigureGroup) -> list[str]:
    """One line per (mechanism, variant, status, message) of this group's failed or skipped cells."""
    mine = group.select(problems)
    multi_variant = mine["variant"].nunique() > 1
    lines = []
    for (mechanism, variant, status, message), rows in mine.groupby(
            ["mechanism", "variant", "status", "message"], sort=True):
        label = f"{mechanism} {variant}" if multi_variant and variant else mechanism
        lines.append(f"{status}: {label} at {_sizes_text(rows['size'])}: {_shorten(message)}")
    if len(lines) > MAX_FOOTNOTE_LINES:
        hidden = len(lines) - MAX_FOOTNOTE_LINES + 1
        lines = lines[:MAX_FOOTNOTE_LINES - 1] + [f"... and {hidden} more (see report.html or summary.json)"]
    return lines


def size_ticks(smallest: int, largest: int) -> list[int]:
    """Powers of two covering the sizes, at most MAX_TICKS of them, so labels never overlap."""
    low = math.floor(math.log2(max(smallest, 1)))
    high = math.ceil(math.log2(max(largest, 1)))
    step = max(1, math.ceil((high - low + 1) / MAX_TICKS))
    return [2 ** e for e in range(low, high + 1, step)]


def _plot(cells: pd.DataFrame, problems: pd.DataFrame, found: Sequence[Crossover], group: FigureGroup,
          path: Path, colors: dict[str, tuple[float, ...]], metric: str,
          texts: tuple[str, str, str]) -> DrawnFigure | None:
    ylabel, title, note = texts
    data = ok_cells(group.select(cells))
    data = data[data[metric].notna()] if metric in data else data.iloc[0:0]
    if data.empty:
        return None
    not_plotted = footnote_lines(problems, group)
    footnote = [note] + (["Not plotted:"] + not_plotted if not_plotted else [])
    height = 5.0 + 0.13 * len(footnote)  # inches; each footnote line is about 0.13 in
    figure = Figure(figsize=(9, height))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    multi_variant = data["variant"].nunique() > 1
    lines, gaps = _draw_series(axes, data, group.select(problems), metric, colors, multi_variant)
    markers = _draw_crossovers(axes, found, group, colors, multi_variant)
    _style_axes(axes, data, metric, ylabel,
                f"{title}\nplacement {group.placement or 'any'}, wait {group.wait or 'any'}")
    figure.text(0.01, 0.1 / height, "\n".join(footnote), fontsize=7, va="bottom", ha="left")
    figure.subplots_adjust(left=0.09, right=0.97, top=1 - 0.5 / height, bottom=(0.75 + 0.13 * len(footnote)) / height)
    figure.savefig(path, dpi=110)
    return DrawnFigure(path, lines, gaps, markers, not_plotted)


def _draw_series(axes: Axes, data: pd.DataFrame, problems: pd.DataFrame, metric: str,
                 colors: dict[str, tuple[float, ...]], multi_variant: bool) -> tuple[list[str], dict[str, list[int]]]:
    """One line per (mechanism, variant); broken where that series failed or was skipped,
    so no line passes over a size that has no valid measurement. Returns labels and gaps."""
    scale = 1e-9 if metric == BANDWIDTH else 1.0
    variants = sorted(set(data["variant"]))
    labels = []
    gaps: dict[str, list[int]] = {}
    banded = False
    for (mechanism, variant), rows in data.groupby(["mechanism", "variant"], sort=True):
        label = f"{mechanism} {variant}" if multi_variant and variant else mechanism
        bad = problems[(problems["mechanism"] == mechanism) & (problems["variant"] == variant)]
        series = with_gaps(rows, set(bad["size"].dropna().astype(int)))
        style = _VARIANT_STYLES[variants.index(variant) % len(_VARIANT_STYLES)]
        axes.plot(series.index, series[metric] * scale, style, marker="o", markersize=3,
                  color=colors[mechanism], label=label)
        labels.append(label)
        broken = [int(size) for size in series.index[series[metric].isna()]]
        if broken:
            gaps[label] = broken
        if metric != BANDWIDTH and {"p50_ns", "p99_ns"} <= set(series.columns) and series["p50_ns"].notna().any():
            axes.fill_between(series.index, series["p50_ns"], series["p99_ns"],
                              color=colors[mechanism], alpha=0.18, linewidth=0)
            banded = True
    handles, _ = axes.get_legend_handles_labels()
    if banded:
        handles.append(Patch(facecolor="grey", alpha=0.3, label="shaded: p50-p99 per message"))
    axes.legend(handles=handles, fontsize=8, loc="best")
    return labels, gaps


def with_gaps(rows: pd.DataFrame, gaps: set[int]) -> pd.DataFrame:
    """Rows indexed by size (as float, for the log axis) with NaN rows at the gap sizes."""
    by_size = rows.set_index(rows["size"].astype(int))
    sizes = sorted(set(by_size.index) | gaps)
    series = by_size.reindex(sizes)
    series.index = series.index.astype(float)
    return series


def _draw_crossovers(axes: Axes, found: Sequence[Crossover], group: FigureGroup,
                     colors: dict[str, tuple[float, ...]], multi_variant: bool) -> list[str]:
    labels = []
    for c in found:
        if c.kind != CROSSOVER or c.size is None or (c.scenario, c.placement, c.wait) != (
                group.scenario, group.placement, group.wait):
            continue
        label = f"{c.faster} beats {c.slower} from {format_size(c.size)}"
        label += f" ({c.variant})" if multi_variant and c.variant else ""
        axes.axvline(c.size, linestyle=":", linewidth=1.2, color=colors.get(c.faster, "black"))
        axes.text(c.size, 0.98, label, transform=axes.get_xaxis_transform(), rotation=90,
                  va="top", ha="right", fontsize=7,
                  bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1})
        labels.append(label)
    return labels


def _style_axes(axes: Axes, data: pd.DataFrame, metric: str, ylabel: str, title: str) -> None:
    smallest, largest = int(data["size"].min()), int(data["size"].max())
    axes.set_xscale("log", base=2)
    ticks = size_ticks(smallest, largest)
    axes.set_xticks(ticks, [format_size(t) for t in ticks])
    axes.xaxis.set_minor_locator(NullLocator())
    axes.set_xlim(smallest / 1.3, largest * 1.3)
    # Log y for both: zerocopy and the slow mechanisms differ by orders of magnitude.
    # Plain labels ("1 µs", "0.5"): the default 10^n labels need mathtext, which
    # warns with Debian's pyparsing, and read worse.
    axes.set_yscale("log")
    few_decades = data[metric].max() / data[metric].min() < 1000
    axes.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if few_decades else (1.0,)))
    label = format_ns if metric != BANDWIDTH else (lambda gbps: f"{gbps:g}")
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: label(value)))
    axes.yaxis.set_minor_formatter(NullFormatter())
    axes.set_xlabel("message size (bytes, log2 scale; K = 2^10, M = 2^20)")
    axes.set_ylabel(ylabel)
    axes.set_title(title, fontsize=10)
    axes.grid(True, which="major", alpha=0.3)


def _sizes_text(sizes: pd.Series) -> str:
    known = sorted(int(s) for s in sizes.dropna().unique())
    if not known:
        return "no size"
    if len(known) <= 4:
        return ", ".join(format_size(s) for s in known)
    return f"{format_size(known[0])}..{format_size(known[-1])} ({len(known)} sizes)"


def _shorten(message: str) -> str:
    return message if len(message) <= MESSAGE_CHARS else message[:MESSAGE_CHARS - 3] + "..."
