"""The figures of `ipcatlas history`: a panel per size, x = run, a line per mechanism,
each regression ringed in red, each run whose gate FAILED on a red band (grey: the
gate could not decide). history.py decides what is drawn; this draws it."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .descriptors import Descriptors
from .gate import FAILED, UNDECIDED
from .figures import Color, FigureGroup, display_scale, label_y, log_y, pick_sizes, save_figure, tick_label
from .units import format_size

if TYPE_CHECKING:  # history.py imports this module; the types are only annotations here
    from .history import Regression, Run

ORDER_TEXT = {"date": "ordered by date, UTC", "commit": "ordered by git history", "given": "in the order given"}
LOG_SPAN = 10  # a subplot whose values span more than this factor gets a log y axis
# How a run's gate is marked in every panel: band colour and the text added to its x tick.
GATE_MARKS = {FAILED: ("#d62728", "gate FAILED"), UNDECIDED: ("#7f7f7f", "gate undecided")}
GATE_LEGEND = {FAILED: "gate FAILED", UNDECIDED: "gate undecided"}


@dataclass(frozen=True)
class HistoryFigure:
    """What one figure shows, so tests and CI need not read pixels."""

    png: Path
    svg: Path
    metric: str
    scenario: str
    placement: str
    wait: str
    sizes: list[int]
    lines: list[str]  # legend labels
    gaps: dict[str, list[int]]  # "line @ size" -> run positions without a value (missing, failed, skipped)
    marked: list[str]  # "line @ size: run N +20.0%", one per red marker
    gate_failed: list[int] = field(default_factory=list)  # run positions on a red band: the gate FAILED
    gate_undecided: list[int] = field(default_factory=list)  # on a grey band: the gate could not decide


@dataclass(frozen=True)
class Drawing:
    """What every figure of one history shares."""

    runs: Sequence[Run]
    order: str
    colors: dict[str, Color]  # one per mechanism across all figures
    out: Path
    threshold_pct: float
    alpha: float
    descriptors: Descriptors  # the runs' scenarios: the unit of each metric
    gates: dict[int, str] = field(default_factory=dict)  # run position -> its gate's status
    baseline: str = "previous"  # the rule the gates compared against


def select_sizes(present: Sequence[int], requested: Sequence[int] | None) -> list[int]:
    """The requested sizes this figure has, or by default the smallest, a middle and the largest."""
    sizes = sorted(set(present))
    if requested is not None:
        return [s for s in sorted(set(requested)) if s in sizes]
    return pick_sizes(sizes)


def draw_figure(points: pd.DataFrame, group: FigureGroup, metric: str, sizes: Sequence[int],
                marks: Sequence[Regression], drawing: Drawing) -> HistoryFigure:
    """One figure: a subplot per size, x = run, a line per mechanism (and variant) with its min..max band."""
    runs = drawing.runs
    unit = drawing.descriptors.unit(group.scenario, metric)
    height = 2.2 + 2.5 * len(sizes)  # inches: title, legend, rotated run labels and note, plus one panel per size
    figure = Figure(figsize=(max(7.5, 2.5 + 0.6 * len(runs)), height))
    FigureCanvasAgg(figure)
    panels = figure.subplots(len(sizes), 1, sharex=True, squeeze=False)[:, 0]
    multi_variant = points["variant"].nunique() > 1
    lines: list[str] = []
    gaps: dict[str, list[int]] = {}
    marked: list[str] = []
    for axes, size in zip(panels, sizes):
        at_size = points[points["size"] == size]
        for label, series in _series(at_size, multi_variant, len(runs)):
            _draw_line(axes, series, display_scale(unit), drawing.colors[series["mechanism"].dropna().iloc[0]], label)
            lines.append(label)
            missing = [int(p) for p in series.index[series["median"].isna()]]
            if missing:
                gaps[f"{label} @ {format_size(size)}"] = missing
        for regression in [r for r in marks if r.size == size]:
            marked.append(_mark(axes, regression, display_scale(unit), multi_variant))
        _mark_gates(axes, drawing.gates)
        _style_panel(axes, at_size, unit, f"size {format_size(size)}")
    _finish(figure, panels[-1], drawing, group, (metric, unit), height)
    stem = drawing.out / f"history-{metric}-{group.slug()}"
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    save_figure(figure, png)
    return HistoryFigure(png, svg, metric, group.scenario, group.placement, group.wait, list(sizes),
                         sorted(set(lines)), gaps, marked, _gated(drawing, FAILED), _gated(drawing, UNDECIDED))


def _gated(drawing: Drawing, status: str) -> list[int]:
    return sorted(position for position, found in drawing.gates.items() if found == status)


def _mark_gates(axes: Axes, gates: dict[int, str]) -> None:
    """A band behind every run whose gate FAILED (red) or could not decide (grey)."""
    for position, status in sorted(gates.items()):
        if status in GATE_MARKS:
            axes.axvspan(position - 0.4, position + 0.4, color=GATE_MARKS[status][0],
                         alpha=0.16 if status == FAILED else 0.10, linewidth=0, zorder=0)


def _series(at_size: pd.DataFrame, multi_variant: bool, n_runs: int) -> list[tuple[str, pd.DataFrame]]:
    """Per (mechanism, variant): its points indexed by run position 1..n, NaN where the run has no value."""
    found = []
    for (mechanism, variant), rows in at_size.groupby(["mechanism", "variant"], sort=True):
        if rows["median"].notna().any():
            label = f"{mechanism} {variant}" if multi_variant and variant else str(mechanism)
            found.append((label, rows.set_index("run").reindex(range(1, n_runs + 1))))
    return found


def _draw_line(axes: Axes, series: pd.DataFrame, scale: float, color: Color, label: str) -> None:
    # Markers, because a run between two gaps is a single point that a line alone would not show.
    x = series.index.to_numpy(dtype=float)
    axes.plot(x, series["median"].to_numpy(dtype=float) * scale, "-", marker="o", markersize=3, color=color,
              label=label)
    known = series["median"].notna().to_numpy()
    axes.fill_between(x, series["low"].to_numpy(dtype=float) * scale, series["high"].to_numpy(dtype=float) * scale,
                      where=known, color=color, alpha=0.18, linewidth=0)


def _mark(axes: Axes, r: Regression, scale: float, multi_variant: bool) -> str:
    """Red ring and the change on a regressed point; returns its description."""
    y = r.median_after * scale
    axes.plot([r.run], [y], linestyle="none", marker="o", markersize=10, markerfacecolor="none",
              markeredgecolor="red", markeredgewidth=1.6)
    axes.annotate(f"{r.change:+.0%}", xy=(r.run, y), xytext=(0, 9), textcoords="offset points", ha="center",
                  fontsize=7, color="red", parse_math=False)
    line = f"{r.mechanism} {r.variant}" if multi_variant and r.variant else r.mechanism
    return f"{line} @ {format_size(r.size or 0)}: run {r.run} {r.change:+.1%}"


def _tick(position: int, label: str, status: str) -> str:
    return f"{position}: {label}" + (f"  {GATE_MARKS[status][1]}" if status in GATE_MARKS else "")


def _style_panel(axes: Axes, at_size: pd.DataFrame, unit: str | None, title: str) -> None:
    """Log y when the panel spans more than LOG_SPAN x; plain tick labels either way."""
    values = pd.concat([at_size["low"], at_size["high"]]).dropna() * display_scale(unit)
    if len(values) and values.min() > 0 and values.max() / values.min() > LOG_SPAN:
        log_y(axes, values, tick_label(unit))
    else:
        label_y(axes, tick_label(unit))
    axes.set_title(title, fontsize=9, loc="left")
    axes.grid(True, which="major", alpha=0.3)


def _finish(figure: Figure, bottom: Axes, drawing: Drawing, group: FigureGroup, measured: tuple[str, str | None],
            height: float) -> None:
    """Run labels, one legend for all panels, title and the reading note; `measured` is the
    (metric, unit) drawn."""
    metric, unit = measured
    runs = drawing.runs
    positions = list(range(1, len(runs) + 1))
    bottom.set_xticks(positions, [_tick(i, run.label, drawing.gates.get(i, "")) for i, run in zip(positions, runs)],
                      rotation=30, ha="right", fontsize=8, parse_math=False)
    for position, tick in zip(positions, bottom.get_xticklabels()):
        if drawing.gates.get(position, "") in GATE_MARKS:
            tick.set_color(GATE_MARKS[drawing.gates[position]][0])
    bottom.set_xlim(0.5, len(runs) + 0.5)
    bottom.set_xlabel(f"run (oldest first, {ORDER_TEXT[drawing.order]})")
    shown_unit = " (GB/s)" if unit == "B/s" else ""
    figure.supylabel(f"{metric}{shown_unit}, median per run", fontsize=9)
    handles: dict[str, Any] = {}
    for axes in figure.axes:
        for handle, label in zip(*axes.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    handles["min..max over repetitions"] = Patch(facecolor="grey", alpha=0.3)
    handles["regression"] = Line2D([], [], linestyle="none", marker="o", markerfacecolor="none",
                                   markeredgecolor="red", markersize=8)
    for status in (FAILED, UNDECIDED):
        if status in drawing.gates.values():
            handles[GATE_LEGEND[status]] = Patch(facecolor=GATE_MARKS[status][0], alpha=0.3)
    figure.legend(list(handles.values()), list(handles), loc="upper center", ncol=min(len(handles), 6), fontsize=8,
                  bbox_to_anchor=(0.5, 1 - 0.45 / height), frameon=False)
    figure.suptitle(f"{group.scenario}: {metric} over {len(runs)} runs, placement {group.placement or 'any'}, "
                    f"wait {group.wait or 'any'}", fontsize=10)
    note = (f"Lines: median over repetitions; gaps: the run lacks the benchmark or it failed/was skipped.\n"
            f"Red ring: slower than its baseline ({drawing.baseline}) by more than {drawing.threshold_pct:g}% with "
            f"Mann-Whitney U p < {drawing.alpha:g}.\n"
            f"Red band and run label: the gate (across benchmarks) FAILED on that run against its baseline; "
            f"grey: the gate could not decide.")
    figure.text(0.01, 0.08 / height, note, fontsize=7, ha="left", va="bottom")
    figure.subplots_adjust(left=0.11, right=0.98, top=1 - 0.95 / height, bottom=1.8 / height, hspace=0.35)
