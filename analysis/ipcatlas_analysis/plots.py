"""The figures: latency, bandwidth and tail against message size, scaling against ranks, and
the cost of segmentation (segmentation.py).

One figure per (scenario, placement, wait) and kind, written as PNG and SVG.
Uses matplotlib's Agg canvas directly (no pyplot), so figures render without
a display and no global figure state leaks between calls. Failed and skipped
cells are never drawn: lines break there and a footnote says why. Imported
peers (mechanisms named "peer:...") are drawn dashed in dark tones.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from .cells import BANDWIDTH, metric_spread, ok_cells, time_metric
from .cpu_cost import CPU_PER_BYTE, add_cpu_per_byte, figure_note, includes_spinning
from .descriptors import LEGACY, Descriptors
from .figures import (Color, FigureGroup, display_scale, legend_outside, log_y, mechanism_colors, pick_sizes,
                      plain_text, save_figure, slug, tick_label)
from .load import OK
from .peers import PEER_PREFIX
from .thresholds import CROSSOVER, Crossover
from .units import format_size

MAX_FOOTNOTE_LINES = 8
MESSAGE_CHARS = 90
MAX_TICKS = 12
TAIL = "tail_ratio"  # p99_ns / p50_ns of one repetition
SCALING_SCENARIOS = ("alltoall", "manytoone", "onetomany")
_VARIANT_STYLES = ("-", "--", "-.", ":")


@dataclass(frozen=True)
class DrawnFigure:
    """What a figure shows, so tests and the report need not read pixels."""

    path: Path  # the PNG; the SVG is next to it
    kind: str  # latency, bandwidth, tail, cpu or scaling
    lines: list[str]  # legend labels of the plotted series
    gaps: dict[str, list[int]]  # per line, the sizes where it breaks (failed or skipped there)
    markers: list[str]  # labels of the crossover lines
    footnote: list[str]  # the "not plotted" lines

    @property
    def svg(self) -> Path:
        return self.path.with_suffix(".svg")


@dataclass(frozen=True)
class PlotData:
    """Everything the figures are drawn from."""

    rows: pd.DataFrame  # one row per repetition (load_results, plus peers); TAIL added by prepare()
    cells: pd.DataFrame  # one row per benchmark (cells.summarize of rows); TAIL added by prepare()
    problems: pd.DataFrame  # failed and skipped (cells.problems)
    crossovers: list[Crossover]
    colors: dict[str, Color]
    descriptors: Descriptors = LEGACY  # the runs' mechanisms and scenarios (descriptors.descriptors_of)


@dataclass(frozen=True)
class Kind:
    """How one kind of size figure reads its data and labels its axes."""

    name: str
    metric: str
    ylabel: str
    title: str
    note: str
    unit: str | None = None  # of the metric, as the scenario declares it (descriptors.unit)

    @property
    def scale(self) -> float:
        return display_scale(self.unit)


def prepare(rows: pd.DataFrame, cells: pd.DataFrame, problems: pd.DataFrame, found: Sequence[Crossover],
            descriptors: Descriptors = LEGACY) -> PlotData:
    """Add the tail ratio (p99/p50 per repetition, median per cell) and the CPU per byte
    (cpu_cost.py), and pick colours; the descriptors name each scenario's primary metric (the
    time of its latency figure), its CPU metric and the references (never marked as beating anything)."""
    rows = rows.copy()
    cells = cells.copy()
    if {"p50_ns", "p99_ns"} <= set(rows.columns):
        rows[TAIL] = rows["p99_ns"] / rows["p50_ns"].where(rows["p50_ns"] > 0)
        cells[TAIL] = cells["name"].map(rows[rows["status"] == OK].groupby("name")[TAIL].median())
    rows, cells = add_cpu_per_byte(rows, cells, descriptors)
    return PlotData(rows, cells, problems, list(found), mechanism_colors(cells), descriptors)


def draw_figures(data: PlotData, out: Path) -> list[DrawnFigure]:
    """Every figure the data supports, written into `out` as PNG and SVG."""
    drawn = []
    with plain_text():
        for group in figure_groups(data.cells):
            for kind in size_kinds(data, group):
                figure = plot_sizes(data, group, kind, out / f"{kind.name}-{group.slug()}.png")
                if figure is not None:
                    drawn.append(figure)
        for group, variant in scaling_groups(data.cells):
            name = f"scaling-{group.slug()}" + (f"-{slug(variant)}" if variant else "")
            figure = plot_scaling(data, group, variant, out / f"{name}.png")
            if figure is not None:
                drawn.append(figure)
        # Imported here: segmentation.py draws with this module's helpers.
        from .segmentation import draw_segmentation
        drawn += draw_segmentation(data, out)
    return drawn


def figure_groups(cells: pd.DataFrame) -> list[FigureGroup]:
    """Groups with at least one ok cell of an ipcatlas mechanism, sorted."""
    ours = ok_cells(cells)
    ours = ours[~ours["mechanism"].str.startswith(PEER_PREFIX)]
    keys = ours[["scenario", "placement", "wait"]].drop_duplicates()
    return sorted(FigureGroup(*row) for row in keys.itertuples(index=False))


def size_kinds(data: PlotData, group: FigureGroup) -> list[Kind]:
    """Latency (the scenario's time), bandwidth and tail figures for one group."""
    metric = time_metric(ok_cells(group.select(data.cells)), data.descriptors)
    kinds = []
    if metric is not None:
        what = "one-way latency" if metric == "one_way_ns" else metric
        line = "mean one-way time (half a round trip)" if metric == "one_way_ns" else metric
        kinds.append(Kind("latency", metric, f"{what} (log scale)", f"{group.scenario}: {what} vs message size",
                          f"Lines: {line}, median over repetitions. Bands: min to max over repetitions.",
                          unit=data.descriptors.unit(group.scenario, metric)))
    kinds.append(Kind("bandwidth", BANDWIDTH, "bandwidth (GB/s, SI: 10^9 bytes/s, log scale)",
                      f"{group.scenario}: bandwidth vs message size",
                      "Lines: bytes_per_second (pingpong: size / one-way time; others: all ranks' bytes / time), "
                      "median over repetitions. Bands: min to max over repetitions.", "B/s"))
    kinds.append(Kind("tail", TAIL, "p99 / p50 of per-message times (log scale)",
                      f"{group.scenario}: tail latency (p99 / p50) vs message size",
                      "Lines: p99 over p50 of the per-message one-way times of a repetition, median over "
                      "repetitions; 1 = no tail. Bands: min to max over repetitions.", unit="1"))
    if CPU_PER_BYTE in data.cells:
        kinds.append(Kind("cpu", CPU_PER_BYTE, "CPU ns per byte, all ranks, user + system (log scale)",
                          f"{group.scenario}: CPU time per byte vs message size"
                          + (" (includes spin-waiting)" if includes_spinning(group.wait) else ""),
                          figure_note(group.wait), unit="ns"))
    return kinds


def plot_sizes(data: PlotData, group: FigureGroup, kind: Kind, path: Path) -> DrawnFigure | None:
    """One line per (mechanism, variant) against message size (log2 x, log y); None without data."""
    present = ok_cells(group.select(data.cells))
    present = present[present[kind.metric].notna()] if kind.metric in present else present.iloc[0:0]
    is_peer = present["mechanism"].str.startswith(PEER_PREFIX)
    if is_peer.all():
        return None
    multi_variant = present.loc[~is_peer, "variant"].nunique() > 1
    # Peers are overlaid on every variant of their scenario (inputs.overlay_peers): draw each once.
    first_variant = present[is_peer].groupby("mechanism")["variant"].transform("first").reindex(present.index)
    present = present[~is_peer | (present["variant"] == first_variant)]
    not_plotted = footnote_lines(data.problems, group)
    figure, axes = _new_figure(kind.note, not_plotted)
    spread = repetition_spread(data.rows, kind.metric)
    lines, gaps = _draw_size_lines(axes, present, group.select(data.problems), spread, kind, data.colors,
                                   multi_variant)
    markers = _draw_crossovers(axes, data, group, multi_variant)
    _style_size_axes(axes, present, kind, f"{kind.title}\nplacement {group.placement or 'any'}, "
                                          f"wait {group.wait or 'any'}")
    save_figure(figure, path)
    return DrawnFigure(path, kind.name, lines, gaps, markers, not_plotted)


def scaling_groups(cells: pd.DataFrame) -> list[tuple[FigureGroup, str]]:
    """(group, variant without ranks) of the multi-rank scenarios measured at two or more rank counts."""
    ours = ok_cells(cells)
    ours = ours[ours["scenario"].isin(SCALING_SCENARIOS) & ours["ranks"].notna()]
    found = []
    for key, rows in ours.groupby(["scenario", "placement", "wait"], sort=True):
        others = rows["variant"].map(_without_ranks)
        for variant in sorted(set(others)):
            if rows.loc[others == variant, "ranks"].nunique() >= 2:
                found.append((FigureGroup(*key), variant))
    return found


def plot_scaling(data: PlotData, group: FigureGroup, variant: str, path: Path) -> DrawnFigure | None:
    """Aggregate bandwidth against ranks: one colour per mechanism, one line style per size."""
    cells = ok_cells(group.select(data.cells))
    cells = cells[(cells["variant"].map(_without_ranks) == variant) & cells[BANDWIDTH].notna()]
    if cells.empty:
        return None
    sizes = pick_sizes(sorted(int(s) for s in cells["size"].unique()))
    note = ("Lines: bytes_per_second of all ranks together (every rank's bytes / round time), median over "
            "repetitions; one colour per mechanism, one line style per message size. Bands: min to max "
            "over repetitions.")
    not_plotted = footnote_lines(data.problems, group)
    figure, axes = _new_figure(note, not_plotted)
    spread = repetition_spread(data.rows, BANDWIDTH)
    scale = display_scale("B/s")
    lines = []
    for (mechanism, size), series in cells[cells["size"].isin(sizes)].groupby(["mechanism", "size"], sort=True):
        series = series.sort_values("ranks")
        label = f"{mechanism} {format_size(int(size))}"
        style = _VARIANT_STYLES[sizes.index(int(size)) % len(_VARIANT_STYLES)]
        x = series["ranks"].astype(float)
        axes.plot(x, series[BANDWIDTH] * scale, style, marker="o", markersize=3, color=data.colors[mechanism],
                  label=label)
        low, high = _band(series, spread)
        axes.fill_between(x, low * scale, high * scale, color=data.colors[mechanism], alpha=0.15, linewidth=0)
        lines.append(label)
    ranks = sorted(int(r) for r in cells["ranks"].unique())
    axes.xaxis.set_major_locator(FixedLocator(ranks))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.set_xlabel("ranks (processes)")
    log_y(axes, cells[BANDWIDTH] * scale, tick_label("B/s"))
    axes.set_ylabel("aggregate bandwidth (GB/s, SI, log scale)")
    axes.set_title(f"{group.scenario}: aggregate bandwidth vs ranks{' (' + variant + ')' if variant else ''}\n"
                   f"placement {group.placement or 'any'}, wait {group.wait or 'any'}", fontsize=10)
    axes.grid(True, which="major", alpha=0.3)
    legend_outside(axes)
    save_figure(figure, path)
    return DrawnFigure(path, "scaling", lines, {}, [], not_plotted)


def repetition_spread(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per benchmark name, the min and max of `metric` over its ok repetitions (the bands)."""
    return metric_spread(rows, metric)[["low", "high"]]


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


def with_gaps(rows: pd.DataFrame, gaps: set[int]) -> pd.DataFrame:
    """Rows indexed by size (as float, for the log axis) with NaN rows at the gap sizes."""
    by_size = rows.set_index(rows["size"].astype(int))
    sizes = sorted(set(by_size.index) | gaps)
    series = by_size.reindex(sizes)
    series.index = series.index.astype(float)
    return series


def _draw_size_lines(axes: Axes, data: pd.DataFrame, problems: pd.DataFrame, spread: pd.DataFrame, kind: Kind,
                     colors: dict[str, Color], multi_variant: bool) -> tuple[list[str], dict[str, list[int]]]:
    """One line per (mechanism, variant), broken where that series failed or was skipped, so no
    line passes over a size without a valid measurement; a min-max band around it."""
    variants = sorted(set(data["variant"]))
    labels = []
    gaps: dict[str, list[int]] = {}
    for (mechanism, variant), rows in data.groupby(["mechanism", "variant"], sort=True):
        peer = mechanism.startswith(PEER_PREFIX)
        label = f"{mechanism} {variant}" if multi_variant and variant and not peer else mechanism
        bad = problems[(problems["mechanism"] == mechanism) & (problems["variant"] == variant)]
        series = with_gaps(rows, set(bad["size"].dropna().astype(int)))
        style = "--" if peer else _VARIANT_STYLES[variants.index(variant) % len(_VARIANT_STYLES)]
        axes.plot(series.index, series[kind.metric] * kind.scale, style, marker="x" if peer else "o",
                  markersize=3, color=colors[mechanism], label=label)
        low, high = _band(series, spread)
        axes.fill_between(series.index, low * kind.scale, high * kind.scale, color=colors[mechanism],
                          alpha=0.18, linewidth=0)
        labels.append(label)
        broken = [int(size) for size in series.index[series[kind.metric].isna()]]
        if broken:
            gaps[label] = broken
    legend_outside(axes)
    return labels, gaps


def _band(series: pd.DataFrame, spread: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The min and max over repetitions for each point of a series (NaN where unknown)."""
    names = series["name"]
    return (names.map(spread["low"]).astype(float), names.map(spread["high"]).astype(float))


def _draw_crossovers(axes: Axes, data: PlotData, group: FigureGroup, multi_variant: bool) -> list[str]:
    """A dotted vertical line where a mechanism beats the baseline for good, and a shaded
    span over the sizes the repetitions could not decide; none for peers and references."""
    labels = []
    colors = data.colors
    for c in data.crossovers:
        if c.kind != CROSSOVER or c.size is None or (c.scenario, c.placement, c.wait) != (
                group.scenario, group.placement, group.wait) or c.challenger.startswith(PEER_PREFIX) \
                or data.descriptors.reference(c.challenger):
            continue
        label = f"{c.challenger} beats {c.baseline} from {format_size(c.size)}"
        label += f" ({c.variant})" if multi_variant and c.variant else ""
        color = colors.get(c.challenger, "black")
        axes.axvline(c.size, linestyle=":", linewidth=1.2, color=color)
        if c.low is not None and c.low < c.size:
            axes.axvspan(c.low, c.size, color=color, alpha=0.07, linewidth=0)
        axes.text(c.size, 0.98, label, transform=axes.get_xaxis_transform(), rotation=90, va="top", ha="right",
                  fontsize=7, bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1})
        labels.append(label)
    return labels


def _style_size_axes(axes: Axes, data: pd.DataFrame, kind: Kind, title: str) -> None:
    smallest, largest = int(data["size"].min()), int(data["size"].max())
    axes.set_xscale("log", base=2)
    ticks = size_ticks(smallest, largest)
    axes.set_xticks(ticks, [format_size(t) for t in ticks])
    axes.xaxis.set_minor_locator(NullLocator())
    axes.set_xlim(smallest / 1.3, largest * 1.3)
    log_y(axes, data[kind.metric] * kind.scale, tick_label(kind.unit))
    axes.set_xlabel("message size (bytes, log2 scale; K = 2^10, M = 2^20)")
    axes.set_ylabel(kind.ylabel)
    axes.set_title(title, fontsize=10)
    axes.grid(True, which="major", alpha=0.3)


def _new_figure(note: str, not_plotted: list[str]) -> tuple[Figure, Axes]:
    """A figure with room below the axes for the note and the not-plotted footnote."""
    footnote = [note] + (["Not plotted:"] + not_plotted if not_plotted else [])
    height = 5.0 + 0.13 * len(footnote)  # inches; each footnote line is about 0.13 in
    figure = Figure(figsize=(11, height))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    figure.text(0.01, 0.1 / height, "\n".join(footnote), fontsize=7, va="bottom", ha="left")
    figure.subplots_adjust(left=0.08, right=0.78, top=1 - 0.5 / height, bottom=(0.75 + 0.13 * len(footnote)) / height)
    return figure, axes


def _without_ranks(variant: str) -> str:
    return "/".join(part for part in variant.split("/") if part and not part.startswith("ranks:"))


def _sizes_text(sizes: pd.Series) -> str:
    known = sorted(int(s) for s in sizes.dropna().unique())
    if not known:
        return "no size"
    if len(known) <= 4:
        return ", ".join(format_size(s) for s in known)
    return f"{format_size(known[0])}..{format_size(known[-1])} ({len(known)} sizes)"


def _shorten(message: str) -> str:
    return message if len(message) <= MESSAGE_CHARS else message[:MESSAGE_CHARS - 3] + "..."
