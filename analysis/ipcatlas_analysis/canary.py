"""The drift canary over a run's time (canary.png/.svg) and the host's stability in words.

Before each run ipcatlas measures the bare cache-line bounce between the run's
PUs (README: "Run order and the drift canary"). Drawn against the time of the
run, it shows when the host changed state, which a figure of medians cannot:
every mechanism measured in the slow state moved with it. The values are read
from the documents themselves: canary_ns ends in _ns but is not a metric, and
no table of metrics may carry it (schema.NOT_METRICS).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .figures import legend_outside, log_y, save_figure
from .load import ITERATION, read_document
from .plots import DrawnFigure
from .schema import as_number
from .tables import Table
from .units import format_ns

CANARY_FIGURE = "canary.png"
KIND = "canary"
_STATE_STYLE = {0: ("tab:blue", "faster state"), 1: ("tab:red", "slower state"), None: ("tab:gray", "canary")}
NOTE = ("Each point: the bare cache-line bounce between the run's PUs, measured for 5 ms just before one benchmark "
        "run (outside its timing). A jump means the host changed state: every result measured then moved with it. "
        "Hollow: marked outlier (off the median so far by more than --canary-factor). Dashed: the split "
        "between the two states.")


@dataclass(frozen=True)
class CanaryRun:
    """One result file's canary: one point per measured run, and the context's summary."""

    file: str
    points: pd.DataFrame  # seconds (since the file's first run), canary_ns, state (0, 1 or None), outlier
    context: dict[str, Any]

    @property
    def summary(self) -> str:
        return str(self.context.get("canary", ""))

    @property
    def split_ns(self) -> float | None:
        return _number(self.context.get("canary_split_ns"))

    def state_levels(self) -> list[tuple[float | None, int | None]]:
        """(typical ns, runs) of each state the run found, from the context's lists."""
        levels = _numbers(self.context.get("canary_state_ns"))
        runs = _numbers(self.context.get("canary_state_runs"))
        count = max(len(levels), len(runs))
        return [(levels[i] if i < len(levels) else None, int(runs[i]) if i < len(runs) else None)
                for i in range(count)]


def read_canaries(paths: Sequence[Path]) -> list[CanaryRun]:
    """The canary of every file that has one (older files have none). Raises ResultFileError
    for a bad file, as load_results would."""
    found = []
    for path in paths:
        document = read_document(path)
        points = canary_points(document["benchmarks"])
        if not points.empty:
            found.append(CanaryRun(str(path), points, document["context"]))
    return found


def canary_points(benchmarks: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per repetition entry with a finite canary and start time; seconds since the first."""
    records = []
    for entry in benchmarks:
        start, canary = as_number(entry.get("start_unix_s")), as_number(entry.get("canary_ns"))
        if entry.get("run_type", ITERATION) != ITERATION or not _finite(start) or not _finite(canary):
            continue
        state = entry.get("canary_state")
        known_state = state if type(state) is int and state in (0, 1) else None
        records.append({"start": start, "canary_ns": canary, "state": known_state,
                        "outlier": entry.get("canary_outlier") is True})
    points = pd.DataFrame(records, columns=["start", "canary_ns", "state", "outlier"])
    points = points[points["canary_ns"] > 0]  # a log axis cannot show 0
    points.insert(0, "seconds", points["start"] - points["start"].min())
    return points.sort_values("seconds", ignore_index=True)


def plot_canary(runs: Sequence[CanaryRun], path: Path) -> DrawnFigure | None:
    """One panel per file: canary ns (log) against seconds since its first run, coloured by state."""
    if not runs:
        return None
    height = 1.2 + 3.2 * len(runs)
    figure = Figure(figsize=(11, height))
    FigureCanvasAgg(figure)
    figure.text(0.01, 0.08 / height, NOTE, fontsize=7, va="bottom", ha="left", wrap=True)
    figure.subplots_adjust(left=0.08, right=0.76, top=1 - 0.75 / height, bottom=0.85 / height, hspace=0.75)
    lines: list[str] = []
    for index, run in enumerate(runs):
        axes = figure.add_subplot(len(runs), 1, index + 1)
        lines += _draw_run(axes, run)
    save_figure(figure, path)
    return DrawnFigure(path, KIND, lines, {}, [], [])


def _draw_run(axes: Any, run: CanaryRun) -> list[str]:
    """The points of one file, one colour per state, hollow outliers, and the split line."""
    labels = []
    levels = run.state_levels()
    for state, points in run.points.groupby(run.points["state"].map(lambda s: -1 if s is None else s)):
        key = None if state == -1 else int(state)
        color, name = _STATE_STYLE[key]
        label = name + _level_text(levels, key)
        solid, hollow = points[~points["outlier"]], points[points["outlier"]]
        axes.scatter(solid["seconds"], solid["canary_ns"], s=14, color=color, label=label)
        if not hollow.empty:
            axes.scatter(hollow["seconds"], hollow["canary_ns"], s=18, facecolors="none", edgecolors=color,
                         label=f"{name}, outlier")
        labels.append(label)
    if run.split_ns is not None:
        axes.axhline(run.split_ns, linestyle="--", linewidth=1, color="black", label=f"split {format_ns(run.split_ns)}")
    log_y(axes, run.points["canary_ns"], format_ns)
    axes.set_xlabel("seconds since the first run of the file")
    axes.set_ylabel("canary (cache-line bounce, log)")
    # The summary is long ("...; the host was in two states: ..."): one clause per line.
    summary = "\n".join(part.strip() for part in run.summary.split(";") if part.strip())
    axes.set_title(f"{Path(run.file).name}\n{summary}" if summary else Path(run.file).name, fontsize=8, loc="left")
    axes.grid(True, which="major", alpha=0.3)
    legend_outside(axes)
    return labels


def stability_table(runs: Sequence[CanaryRun]) -> Table:
    """The report's Host stability table: one row per file with a canary."""
    rows = [[Path(run.file).name, run.summary, str(run.context.get("canary_states", "")), _runs_per_state(run),
             str(int(run.points["outlier"].sum()))] for run in runs]
    return Table("", ["file", "canary summary", "states", "runs per state", "outliers"], rows)


def _runs_per_state(run: CanaryRun) -> str:
    """"faster state ~485 ns: 10 runs; slower state ~5.15 us: 2 runs", or the one state's run count."""
    levels = run.state_levels()[:2]
    if len(levels) < 2:
        return f"one state: {len(run.points)} runs"
    return "; ".join(f"{_STATE_STYLE[i][1]} ~{'?' if ns is None else format_ns(ns)}: "
                     f"{'?' if count is None else count} runs" for i, (ns, count) in enumerate(levels))


def _level_text(levels: list[tuple[float | None, int | None]], state: int | None) -> str:
    if state is None or state >= len(levels):
        return ""
    ns, runs = levels[state]
    return f" (~{format_ns(ns)}, {runs} runs)" if ns is not None and runs is not None else ""


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _number(value: object) -> float | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _numbers(value: object) -> list[float]:
    """"484.6,5145.6" -> [484.6, 5145.6]; unreadable parts are left out."""
    parts = [_number(part) for part in str(value).split(",")] if value is not None else []
    return [p for p in parts if p is not None]


def draw_canary(paths: Sequence[Path], out: Path) -> tuple[list[CanaryRun], DrawnFigure | None]:
    """Read the files' canaries and draw canary.png into out when any file has one."""
    runs = read_canaries(paths)
    return runs, plot_canary(runs, out / CANARY_FIGURE)
