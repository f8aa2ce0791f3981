"""`ipcatlas history PATH... -o DIR`: how benchmarks moved over a series of runs (the CI graph).

Each result file is one run. Runs are ordered by date, by commit or as given;
each benchmark is compared with its previous run by the same test as
`ipcatlas compare` (compare.compare_tables and compare.slower_than), so a
regression on the graph is one `ipcatlas compare` would report, and the graph
gets a red marker exactly where the CI gate would have tripped.
"""
from __future__ import annotations

import argparse
import json
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from .cells import cell_status
from .cli import EXIT_FINDING, EXIT_OK
from .compare import (DEFAULT_ALPHA, UNTESTED, Comparison, compare_tables, format_value, is_higher_better,
                      parse_alpha, parse_percent, repetitions_needed, slower_than)
from .load import OK, ResultFileError, load_context, load_results, metric_columns
from .plots import Color, FigureGroup, mechanism_colors, pick_sizes
from .units import format_ns, format_size, json_safe, parse_size

SUMMARY = "graph benchmarks over a series of runs (by date or commit) and flag run-to-run regressions"

ORDERS = ("date", "commit", "given")
_ORDER_TEXT = {"date": "ordered by date, UTC", "commit": "ordered by git history", "given": "in the order given"}
DEFAULT_METRIC = "one_way_ns"
DEFAULT_THRESHOLD_PCT = 5.0
HISTORY_JSON = "history.json"
SHORT_COMMIT = 7
MIN_RUNS = 2
LOG_SPAN = 10  # a subplot whose values span more than this factor gets a log y axis
_POINT_KEYS = ["name", "scenario", "mechanism", "variant", "placement", "wait", "size"]


class HistoryInputError(ResultFileError):
    """Input that cannot make a history: too few runs, a run without the date or
    commit to order by, a metric or size no run has. A ResultFileError so that
    cli.main reports it like a bad file: one line, exit 2."""


@dataclass(frozen=True)
class Run:
    """One result file, in its place in the history."""

    path: Path
    rows: pd.DataFrame  # load_results() of this file alone
    context: dict[str, Any]
    label: str = ""  # the x tick: date, short commit or file name, after the order chosen

    @property
    def commit(self) -> str:
        return str(self.context.get("commit", ""))

    @property
    def date(self) -> str:
        return str(self.context.get("date", ""))


@dataclass(frozen=True)
class Regression:
    """A benchmark slower than in its previous run (positions are 1-based, oldest first)."""

    metric: str
    name: str
    scenario: str
    mechanism: str
    variant: str
    placement: str
    wait: str
    size: int | None
    run: int
    run_label: str
    file: str
    previous: int
    previous_label: str
    previous_file: str
    median_before: float
    median_after: float
    change: float
    p_value: float


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


@dataclass(frozen=True)
class Drawing:
    """What every figure of one history shares."""

    runs: Sequence[Run]
    order: str
    colors: dict[str, Color]  # one per mechanism across all figures
    out: Path
    threshold_pct: float
    alpha: float


@dataclass
class History:
    """Everything write_history produced."""

    runs: list[Run]
    order: str
    metrics: list[str]
    figures: list[HistoryFigure] = field(default_factory=list)
    regressions: list[Regression] = field(default_factory=list)
    compared: int = 0  # run-to-run benchmark comparisons made
    untested: int = 0  # of which too few repetitions for the U test

    def last_run_regressions(self) -> list[Regression]:
        return [r for r in self.regressions if r.run == len(self.runs)]


# --- inputs and order ---------------------------------------------------------------------------------------

def result_files(paths: Sequence[Path]) -> list[Path]:
    """Files as given; a directory stands for its *.json files sorted by name (not recursive)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.glob("*.json") if p.is_file())
            if not found:
                raise HistoryInputError(f"{path}: directory has no *.json result files")
            files.extend(found)
        else:
            files.append(path)
    return files


def read_runs(files: Sequence[Path]) -> list[Run]:
    """Load every file; any file that is not an ipcatlas result is an error naming it."""
    if len(files) < MIN_RUNS:
        given = ", ".join(str(f) for f in files) or "none"
        raise HistoryInputError(f"a history needs at least {MIN_RUNS} result files (runs); got {len(files)}: {given}")
    return [Run(path, load_results([path]), load_context(path)) for path in files]


def order_runs(runs: Sequence[Run], order: str, repo: Path) -> list[Run]:
    """Oldest first, each labelled for the x axis; ties keep the given order."""
    if order == "date":
        dates = [run_date(run) for run in runs]
        ordered = [runs[i] for i in sorted(range(len(runs)), key=lambda i: dates[i])]
        # Labels in UTC: runs from machines in different time zones must read in order.
        return [_labelled(run, run_date(run).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")) for run in ordered]
    if order == "commit":
        history = commit_history(repo)
        positions = [commit_position(run, history, repo) for run in runs]
        ordered = [runs[i] for i in sorted(range(len(runs)), key=lambda i: positions[i])]
        return [_labelled(run, run.commit[:SHORT_COMMIT]) for run in ordered]
    return [_labelled(run, run.path.stem) for run in runs]


def run_date(run: Run) -> datetime:
    """The context's "date" (ISO 8601, as Google Benchmark 1.7 writes it); no offset means UTC."""
    if not run.date:
        raise HistoryInputError(f"{run.path}: no \"date\" in the context to order by (use --order given)")
    try:
        date = datetime.fromisoformat(run.date)
    except ValueError:
        raise HistoryInputError(f"{run.path}: context date {run.date!r} is not ISO 8601") from None
    return date if date.tzinfo else date.replace(tzinfo=timezone.utc)


def commit_history(repo: Path) -> list[str]:
    """Full hashes of `git rev-list --topo-order --reverse HEAD` in repo: oldest first."""
    command = ["git", "-C", str(repo), "rev-list", "--topo-order", "--reverse", "HEAD"]
    try:
        listed = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:
        raise HistoryInputError(f"{repo}: cannot run git: {error.strerror or error}") from None
    if listed.returncode != 0:
        reason = (listed.stderr.strip().splitlines() or ["failed"])[0]
        raise HistoryInputError(f"{repo}: git rev-list HEAD failed: {reason} (set --repo to the checkout)")
    return listed.stdout.split()


def commit_position(run: Run, history: Sequence[str], repo: Path) -> int:
    """The run's commit's index in history; a full hash or an unambiguous prefix of >= 4 characters."""
    commit = run.commit.strip().lower()
    if not commit:
        raise HistoryInputError(f"{run.path}: no \"commit\" in the context; record it with "
                                f"ipcatlas run --benchmark_context=commit=$(git rev-parse HEAD)")
    matches = [i for i, full in enumerate(history) if full.startswith(commit)] if len(commit) >= 4 else []
    if len(matches) != 1:
        problem = "is ambiguous" if matches else "is not"
        raise HistoryInputError(f"{run.path}: commit {run.commit!r} {problem} in git rev-list HEAD of {repo}")
    return matches[0]


# --- points and regressions ---------------------------------------------------------------------------------

def run_points(run: Run, position: int, metric: str) -> pd.DataFrame:
    """One row per benchmark of a run: median, min and max of the metric over its
    ok repetitions, NaN when any repetition failed or was skipped (as cells.summarize)."""
    rows = run.rows
    records = []
    for name, group in rows.groupby("name", sort=True):
        first = group.iloc[0]
        values = group.loc[group["status"] == OK, metric].dropna() if metric in group else pd.Series(dtype=float)
        usable = cell_status(group["status"]) == OK and not values.empty
        record = {key: first.get(key, "") for key in _POINT_KEYS}
        record.update(name=name, run=position, n=len(values) if usable else 0,
                      median=values.median() if usable else np.nan,
                      low=values.min() if usable else np.nan, high=values.max() if usable else np.nan)
        records.append(record)
    return pd.DataFrame(records, columns=[*_POINT_KEYS, "run", "n", "median", "low", "high"])


def find_regressions(runs: Sequence[Run], metric: str, alpha: float,
                     threshold_pct: float) -> tuple[list[Regression], list[Comparison]]:
    """Compare each run with its predecessor, benchmark by benchmark, with compare's test.

    A benchmark's predecessor is the latest earlier run in which it measured ok,
    so a gap (missing or failed in one run) does not hide a regression across it.
    Returns the regressions and every comparison made.
    """
    points = [run_points(run, i + 1, metric) for i, run in enumerate(runs)]
    last_ok: dict[str, int] = {}  # benchmark name -> index of the latest run where it measured ok
    regressions: list[Regression] = []
    made: list[Comparison] = []
    for i, run in enumerate(runs):
        by_previous: dict[int, list[str]] = {}
        for name in points[i]["name"]:
            if name in last_ok:
                by_previous.setdefault(last_ok[name], []).append(name)
        for j, names in sorted(by_previous.items()):
            before = runs[j].rows[runs[j].rows["name"].isin(names)]
            after = run.rows[run.rows["name"].isin(names)]
            for comparison in compare_tables(before, after, alpha, metric=metric):
                made.append(comparison)
                if slower_than(comparison, threshold_pct, alpha):
                    regressions.append(_regression(comparison, points[i], runs, i, j))
        last_ok.update({name: i for name in points[i].loc[points[i]["median"].notna(), "name"]})
    return regressions, made


def _regression(c: Comparison, points: pd.DataFrame, runs: Sequence[Run], i: int, j: int) -> Regression:
    point = points[points["name"] == c.name].iloc[0]
    size = None if pd.isna(point["size"]) else int(point["size"])
    assert c.median_base is not None and c.median_new is not None and c.change is not None and c.p_value is not None
    return Regression(c.metric, c.name, str(point["scenario"]), str(point["mechanism"]), str(point["variant"]),
                      str(point["placement"]), str(point["wait"]), size, i + 1, runs[i].label, str(runs[i].path),
                      j + 1, runs[j].label, str(runs[j].path), c.median_base, c.median_new, c.change, c.p_value)


# --- figures ------------------------------------------------------------------------------------------------

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
    height = 1.9 + 2.5 * len(sizes)  # inches: title, legend and rotated run labels plus one panel per size
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
            _draw_line(axes, series, metric, drawing.colors[series["mechanism"].dropna().iloc[0]], label)
            lines.append(label)
            missing = [int(p) for p in series.index[series["median"].isna()]]
            if missing:
                gaps[f"{label} @ {format_size(size)}"] = missing
        for regression in [r for r in marks if r.size == size]:
            marked.append(_mark(axes, regression, metric, multi_variant))
        _style_panel(axes, at_size, metric, f"size {format_size(size)}")
    _finish(figure, panels[-1], drawing, group, metric, height)
    stem = drawing.out / f"history-{metric}-{group.slug()}"
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    figure.savefig(png, dpi=110)
    figure.savefig(svg)
    return HistoryFigure(png, svg, metric, group.scenario, group.placement, group.wait, list(sizes),
                         sorted(set(lines)), gaps, marked)


def _series(at_size: pd.DataFrame, multi_variant: bool, n_runs: int) -> list[tuple[str, pd.DataFrame]]:
    """Per (mechanism, variant): its points indexed by run position 1..n, NaN where the run has no value."""
    found = []
    for (mechanism, variant), rows in at_size.groupby(["mechanism", "variant"], sort=True):
        if rows["median"].notna().any():
            label = f"{mechanism} {variant}" if multi_variant and variant else str(mechanism)
            found.append((label, rows.set_index("run").reindex(range(1, n_runs + 1))))
    return found


def _scale(metric: str) -> float:
    """Bandwidth is drawn in GB/s (10^9 bytes/s), as in the report's figures."""
    return 1e-9 if is_higher_better(metric) else 1.0


def _draw_line(axes: Axes, series: pd.DataFrame, metric: str, color: Color, label: str) -> None:
    # Markers, because a run between two gaps is a single point that a line alone would not show.
    scale = _scale(metric)
    x = series.index.to_numpy(dtype=float)
    axes.plot(x, series["median"].to_numpy(dtype=float) * scale, "-", marker="o", markersize=3, color=color,
              label=label)
    known = series["median"].notna().to_numpy()
    axes.fill_between(x, series["low"].to_numpy(dtype=float) * scale, series["high"].to_numpy(dtype=float) * scale,
                      where=known, color=color, alpha=0.18, linewidth=0)


def _mark(axes: Axes, r: Regression, metric: str, multi_variant: bool) -> str:
    """Red ring and the change on a regressed point; returns its description."""
    y = r.median_after * _scale(metric)
    axes.plot([r.run], [y], linestyle="none", marker="o", markersize=10, markerfacecolor="none",
              markeredgecolor="red", markeredgewidth=1.6)
    axes.annotate(f"{r.change:+.0%}", xy=(r.run, y), xytext=(0, 9), textcoords="offset points", ha="center",
                  fontsize=7, color="red", parse_math=False)
    line = f"{r.mechanism} {r.variant}" if multi_variant and r.variant else r.mechanism
    return f"{line} @ {format_size(r.size or 0)}: run {r.run} {r.change:+.1%}"


def _style_panel(axes: Axes, at_size: pd.DataFrame, metric: str, title: str) -> None:
    """Log y when the panel spans more than LOG_SPAN x; plain tick labels either way."""
    scale = _scale(metric)
    values = pd.concat([at_size["low"], at_size["high"]]).dropna() * scale
    if len(values) and values.min() > 0 and values.max() / values.min() > LOG_SPAN:
        axes.set_yscale("log")
        axes.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axes.yaxis.set_minor_formatter(NullFormatter())
    # Plain labels ("1 µs", "0.5"): log axes' default 10^n labels need mathtext,
    # which warns with Debian's pyparsing (see plots.py).
    label = format_ns if metric.endswith("_ns") else (lambda value: f"{value:g}")
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: label(value)))
    axes.set_title(title, fontsize=9, loc="left")
    axes.grid(True, which="major", alpha=0.3)


def _finish(figure: Figure, bottom: Axes, drawing: Drawing, group: FigureGroup, metric: str, height: float) -> None:
    """Run labels, one legend for all panels, title and the reading note."""
    runs = drawing.runs
    positions = list(range(1, len(runs) + 1))
    bottom.set_xticks(positions, [f"{i}: {run.label}" for i, run in zip(positions, runs)], rotation=30, ha="right",
                      fontsize=8, parse_math=False)
    bottom.set_xlim(0.5, len(runs) + 0.5)
    bottom.set_xlabel(f"run (oldest first, {_ORDER_TEXT[drawing.order]})")
    unit = " (GB/s)" if is_higher_better(metric) else ""
    figure.supylabel(f"{metric}{unit}, median per run", fontsize=9)
    handles: dict[str, Any] = {}
    for axes in figure.axes:
        for handle, label in zip(*axes.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    handles["min..max over repetitions"] = Patch(facecolor="grey", alpha=0.3)
    handles["regression"] = Line2D([], [], linestyle="none", marker="o", markerfacecolor="none",
                                   markeredgecolor="red", markersize=8)
    figure.legend(list(handles.values()), list(handles), loc="upper center", ncol=min(len(handles), 6), fontsize=8,
                  bbox_to_anchor=(0.5, 1 - 0.45 / height), frameon=False)
    figure.suptitle(f"{group.scenario}: {metric} over {len(runs)} runs, placement {group.placement or 'any'}, "
                    f"wait {group.wait or 'any'}", fontsize=10)
    note = (f"Lines: median over repetitions; gaps: the run lacks the benchmark or it failed/was skipped.\n"
            f"Red ring: slower than its previous run by more than {drawing.threshold_pct:g}% with Mann-Whitney U "
            f"p < {drawing.alpha:g}.")
    figure.text(0.01, 0.08 / height, note, fontsize=7, ha="left", va="bottom")
    figure.subplots_adjust(left=0.11, right=0.98, top=1 - 0.95 / height, bottom=1.5 / height, hspace=0.35)


# --- the whole history --------------------------------------------------------------------------------------

def write_history(paths: Sequence[Path], out: Path, order: str = "date", repo: Path = Path("."),
                  metrics: Sequence[str] = (DEFAULT_METRIC,), sizes: Sequence[int] | None = None,
                  alpha: float = DEFAULT_ALPHA, threshold_pct: float = DEFAULT_THRESHOLD_PCT) -> History:
    """Read, order, test and draw; writes the figures and history.json into out.

    Raises ResultFileError (HistoryInputError) for input that cannot make a history.
    """
    runs = order_runs(read_runs(result_files(paths)), order, repo)
    _check_metrics(runs, metrics)
    history = History(runs, order, list(metrics))
    out.mkdir(parents=True, exist_ok=True)
    drawing = Drawing(runs, order, mechanism_colors(pd.concat([run.rows for run in runs])), out, threshold_pct, alpha)
    for metric in metrics:
        regressions, made = find_regressions(runs, metric, alpha, threshold_pct)
        history.regressions.extend(regressions)
        history.compared += sum(c.measured for c in made)
        history.untested += sum(c.verdict == UNTESTED for c in made)
        history.figures.extend(_draw_metric(drawing, metric, sizes, regressions))
    if sizes is not None and not any(f.sizes for f in history.figures):
        raise HistoryInputError(f"--sizes {','.join(format_size(s) for s in sizes)}: no run has any of these sizes")
    document = history_record(history, alpha, threshold_pct)
    (out / HISTORY_JSON).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return history


def _draw_metric(drawing: Drawing, metric: str, sizes: Sequence[int] | None,
                 regressions: Sequence[Regression]) -> list[HistoryFigure]:
    """One figure per (scenario, placement, wait) that has the metric at a chosen size."""
    points = pd.concat([run_points(run, i + 1, metric) for i, run in enumerate(drawing.runs)], ignore_index=True)
    points = points[points["size"].notna()]  # a benchmark without a size has no panel to go in
    drawn = []
    for key, group_points in points.groupby(["scenario", "placement", "wait"], sort=True):
        group = FigureGroup(*(str(part) for part in key))
        measured = group_points[group_points["median"].notna()]
        chosen = select_sizes([int(s) for s in measured["size"]], sizes)
        if not chosen:
            continue
        marks = [r for r in regressions
                 if (r.scenario, r.placement, r.wait) == (group.scenario, group.placement, group.wait)]
        drawn.append(draw_figure(group_points, group, metric, chosen, marks, drawing))
    return drawn


def _check_metrics(runs: Sequence[Run], metrics: Sequence[str]) -> None:
    present = sorted({m for run in runs for m in metric_columns(run.rows) if run.rows[m].notna().any()})
    for metric in metrics:
        if metric not in present:
            raise HistoryInputError(f"--metric {metric}: no run has it; metrics present: {', '.join(present)}")


def history_record(history: History, alpha: float, threshold_pct: float) -> dict[str, Any]:
    """history.json: the runs in order, the figures, every regression and the last run's verdict."""
    last = history.last_run_regressions()
    document = {
        "order": history.order, "metrics": history.metrics, "alpha": alpha, "threshold_pct": threshold_pct,
        "runs": [{"position": i + 1, "label": run.label, "file": str(run.path), "date": run.date or None,
                  "commit": run.commit or None} for i, run in enumerate(history.runs)],
        "figures": [{"png": f.png.name, "svg": f.svg.name, "metric": f.metric, "scenario": f.scenario,
                     "placement": f.placement, "wait": f.wait, "sizes": f.sizes, "lines": f.lines, "gaps": f.gaps,
                     "regressions_marked": f.marked} for f in history.figures],
        "comparisons": {"run_to_run": history.compared, "untested_too_few_repetitions": history.untested},
        "regressions": [asdict(r) for r in history.regressions],
        "last_run_regressed": bool(last),
        "last_run_regressions": [r.name for r in last],
    }
    return dict(json_safe(document))


def format_summary(history: History, out: Path, alpha: float, threshold_pct: float) -> str:
    """The text printed to stdout: runs, figures, regressions, warnings."""
    width = max(len(run.label) for run in history.runs)
    runs = [f"  {i:>2}  {run.label.ljust(width)}  {run.path}" + (f"  commit {run.commit[:SHORT_COMMIT]}"
                                                                  if run.commit and history.order != "commit" else "")
            for i, run in enumerate(history.runs, start=1)]
    sections = [f"{len(history.runs)} runs, {_ORDER_TEXT[history.order]}, oldest first:\n" + "\n".join(runs)]
    figures = [f"  {f.png.name} (+.svg): sizes {', '.join(format_size(s) for s in f.sizes)}" for f in history.figures]
    sections.append(f"{len(history.figures)} figure(s) in {out}:\n" + "\n".join(figures) if figures
                    else f"no figure: no group has {', '.join(history.metrics)} at a chosen size")
    rule = f"slower than its previous run by more than {threshold_pct:g}% with p < {alpha:g}"
    lines = [f"  run {r.run} {r.run_label} vs run {r.previous} {r.previous_label}: {r.name} {r.metric} "
             f"{format_value(r.median_before, r.metric)} -> {format_value(r.median_after, r.metric)} "
             f"({r.change:+.1%}, p {r.p_value:.2g})" for r in history.regressions]
    sections.append(f"{len(lines)} regression(s) ({rule}):\n" + "\n".join(lines) if lines
                    else f"no regression ({rule}) in {history.compared} run-to-run comparisons")
    if history.untested:
        need = repetitions_needed(alpha)
        sections.append(f"warning: {history.untested} of {history.compared} run-to-run comparisons had too few "
                        f"repetitions for the U test (need >= {need}+{need} for p < {alpha:g}) and cannot show a "
                        f"regression: run with --benchmark_repetitions=9")
    return "\n\n".join(sections)


_EPILOG = f"""\
inputs:
  PATH is a result file (`ipcatlas run --out FILE.json`) or a directory, which
  stands for its *.json files (not recursive). Each file is one run. Every file
  must be an ipcatlas result: any other JSON file is an error (exit 2) naming
  it, so a broken upload cannot silently drop a run from the graph.

order (--order):
  date    the "date" Google Benchmark writes into the context (ISO 8601 with the
          machine's UTC offset; compared and labelled in UTC). The default.
  commit  the context key "commit" (a full hash or an unambiguous prefix), placed by
          its position in `git rev-list --topo-order --reverse HEAD` of --repo.
          Record it when running, with Google Benchmark's own flag, which
          `ipcatlas run` passes through into the result file's context:
            ipcatlas run --benchmark_context=commit=$(git rev-parse HEAD) --out r.json
          A run without a commit, or whose commit is not in that history, is an error.
  given   the command-line order; a directory's files sorted by name
  Runs that tie (same date or commit) keep the given order.

outputs (in DIR, created if missing):
  history-METRIC-SCENARIO-PLACEMENT-WAIT.png and .svg
          one figure per metric and (scenario, placement, wait); a panel per size
          (--sizes; default the smallest, a middle and the largest size present);
          x = run, y = median over repetitions (log scale when a panel spans more
          than {LOG_SPAN}x), one line per mechanism, a min..max band over repetitions,
          gaps where a run lacks the benchmark or it failed or was skipped, and a red
          ring with the change on each regression
  history.json
          runs in order, figures, every regression, run-to-run comparison counts,
          and whether the last run regressed
  stdout  the same as text

regressions:
  Each benchmark is compared with its previous run (the latest earlier run in which
  it measured ok) by the test of `ipcatlas compare`: the two-sided Mann-Whitney U
  test over the repetitions. A regression is p < ALPHA and a change of the median
  worse than --threshold PCT (time up, or bandwidth down, by more than PCT %).
  Every benchmark is tested, also at sizes not drawn. Runs need repetitions
  (--benchmark_repetitions=9); with fewer than {repetitions_needed(DEFAULT_ALPHA)} per run the test cannot decide and
  a warning says so.

exit status:
  0  written (whatever the regressions, unless --fail-on-regression)
  1  --fail-on-regression and the last run regressed against its predecessor
  2  bad input: fewer than {MIN_RUNS} runs, a missing or non-ipcatlas file, no date or
     commit to order by, an unknown metric or size, git failing, DIR not writable

example (a CI job keeping one result file per commit in results/):
  ipcatlas run --benchmark_repetitions=9 --benchmark_context=commit=$(git rev-parse HEAD) \\
      --out results/$(git rev-parse --short HEAD).json
  ipcatlas history results/ --order commit -o history/ --sizes 8,64K,1M --fail-on-regression
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `ipcatlas history`; the epilog explains order, outputs and exit statuses."""
    parser.epilog = _EPILOG
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                        help="result files and/or directories of result files, one run per file")
    parser.add_argument("-o", "--out", required=True, type=Path, metavar="DIR",
                        help="directory for the figures and history.json")
    parser.add_argument("--order", choices=ORDERS, default="date",
                        help="how to order the runs: date, commit or given (default: %(default)s; see below)")
    parser.add_argument("--repo", type=Path, default=Path("."), metavar="DIR",
                        help="git checkout whose history orders runs for --order commit (default: current directory)")
    parser.add_argument("--metric", action="append", type=_metrics, default=None, metavar="METRIC",
                        help=f"metric column to draw and test, e.g. one_way_ns, bytes_per_second, p99_ns; "
                             f"repeat or comma-separate for several (default: {DEFAULT_METRIC})")
    parser.add_argument("--sizes", type=_sizes, default=None, metavar="LIST",
                        help="message sizes to draw, one panel each, e.g. 8,64K,1M (K, M, G = 2^10, 2^20, 2^30); "
                             "default: the smallest, a middle and the largest size present")
    parser.add_argument("--alpha", type=parse_alpha, default=DEFAULT_ALPHA, metavar="A",
                        help="significance level of the U test (default: %(default)s)")
    parser.add_argument("--threshold", type=parse_percent, default=DEFAULT_THRESHOLD_PCT, metavar="PCT",
                        help="a regression is worse than its previous run by more than PCT %% with p < A "
                             "(default: %(default)s)")
    parser.add_argument("--fail-on-regression", action="store_true",
                        help="exit 1 if the last run regressed against its predecessor (for a CI job)")


def run(args: argparse.Namespace) -> int:
    """Write the history; ResultFileError goes up to cli.main (exit 2)."""
    metrics = list(dict.fromkeys(m for group in (args.metric or [[DEFAULT_METRIC]]) for m in group))
    history = write_history(args.paths, args.out, args.order, args.repo, metrics, args.sizes, args.alpha,
                            args.threshold)
    print(format_summary(history, args.out, args.alpha, args.threshold))
    if not args.fail_on_regression:
        return EXIT_OK
    last = history.last_run_regressions()
    verdict = f"FAILED, {len(last)} regression(s) in the last run" if last else "passed"
    print(f"\ngate --fail-on-regression: {verdict} (run {len(history.runs)} {history.runs[-1].label})")
    return EXIT_FINDING if last else EXIT_OK


def _labelled(run: Run, label: str) -> Run:
    return Run(run.path, run.rows, run.context, label)


def _metrics(text: str) -> list[str]:
    """argparse type for --metric: a comma-separated list of metric names."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("no metric named")
    return names


def _sizes(text: str) -> list[int]:
    """argparse type for --sizes: "8,64K,1M" -> [8, 65536, 1048576]."""
    try:
        return [parse_size(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
