"""`ipcatlas history PATH... -o DIR`: how benchmarks moved over a series of runs (the CI graph).

Each result file is one run. Runs are ordered by date, by commit or as given;
each benchmark is compared with its previous run by the same test as
`ipcatlas compare` (compare.compare_tables and compare.slower_than), so a
regression on the graph is one `ipcatlas compare` would report. The gate on
the last run (--fail-on-regression) is compare's gate (gate.decide) over the
last run's comparisons with their predecessors.
"""
from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from .cells import measured_metrics, metric_spread
from .compare import DEFAULT_ALPHA, UNTESTED, Comparison, compare_tables, slower_than
from .descriptors import LEGACY, Descriptors, descriptors_of
from .figures import FigureGroup, mechanism_colors, plain_text
from .gate import GateResult, decide, gate_record, host_change
from .history_figures import Drawing, HistoryFigure, draw_figure, select_sizes
from .load import ResultFileError, load_context, load_results
from .safe_output import check_directory_target, output_directory, write_text
from .units import format_size, json_safe

ORDERS = ("date", "commit", "given")
PRIMARY = "primary"  # --metric default: each scenario's primary metric (descriptors.primary_metric)
DEFAULT_THRESHOLD_PCT = 5.0
HISTORY_JSON = "history.json"
SHORT_COMMIT = 7
MIN_RUNS = 2
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
    last_comparisons: list[Comparison] = field(default_factory=list)  # the last run's, every metric

    def gate(self, alpha: float, threshold_pct: float) -> GateResult:
        """compare's gate over the last run against its predecessors (--fail-on-regression)."""
        changed = host_change(self.runs[-2].context, self.runs[-1].context) if len(self.runs) >= 2 else ""
        return decide(self.last_comparisons, threshold_pct, alpha, changed)

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
    """One row per benchmark of a run: its name keys and the n, median, low and high of the
    metric over its ok repetitions (cells.metric_spread: NaN where a repetition failed or was
    skipped), at run `position`."""
    keys = run.rows.drop_duplicates("name").set_index("name")[_POINT_KEYS[1:]]
    points = keys.join(metric_spread(run.rows, metric)).sort_index().reset_index().assign(run=position)
    return points[[*_POINT_KEYS, "run", "n", "median", "low", "high"]]


def find_regressions(runs: Sequence[Run], metric: str, alpha: float,
                     threshold_pct: float) -> tuple[list[Regression], list[list[Comparison]]]:
    """Compare each run with its predecessor, benchmark by benchmark, with compare's test.

    A benchmark's predecessor is the latest earlier run in which it measured ok,
    so a gap (missing or failed in one run) does not hide a regression across it.
    Returns the regressions and every comparison made, per run (the first run's list is empty).
    """
    points = [run_points(run, i + 1, metric) for i, run in enumerate(runs)]
    last_ok: dict[str, int] = {}  # benchmark name -> index of the latest run where it measured ok
    regressions: list[Regression] = []
    made: list[list[Comparison]] = []
    for i, run in enumerate(runs):
        made.append([])
        by_previous: dict[int, list[str]] = {}
        for name in points[i]["name"]:
            if name in last_ok:
                by_previous.setdefault(last_ok[name], []).append(name)
        for j, names in sorted(by_previous.items()):
            before = runs[j].rows[runs[j].rows["name"].isin(names)]
            after = run.rows[run.rows["name"].isin(names)]
            for comparison in compare_tables(before, after, alpha, metric=metric):
                made[i].append(comparison)
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


# --- the whole history --------------------------------------------------------------------------------------

def write_history(paths: Sequence[Path], out: Path, order: str = "date", repo: Path = Path("."),
                  metrics: Sequence[str] = (PRIMARY,), sizes: Sequence[int] | None = None,
                  alpha: float = DEFAULT_ALPHA, threshold_pct: float = DEFAULT_THRESHOLD_PCT) -> History:
    """Read, order, test and draw; writes the figures and history.json into out.

    Raises ResultFileError (HistoryInputError) for input that cannot make a history, and
    safe_output.OutputError for an output that cannot be written; either way `out` is
    left as it was (see safe_output.output_directory).
    """
    check_directory_target(out)
    runs = order_runs(read_runs(result_files(paths)), order, repo)
    described = descriptors_of(run.context for run in runs)
    plan = metric_plan(runs, metrics, described)
    history = History(runs, order, list(plan))
    colors = mechanism_colors(pd.concat([run.rows for run in runs]))
    with output_directory(out) as staging, plain_text():
        drawing = Drawing(runs, order, colors, staging, threshold_pct, alpha, described)
        for metric, scenarios in plan.items():
            drawing = replace(drawing, runs=[_of_scenarios(run, scenarios) for run in runs])
            regressions, made = find_regressions(drawing.runs, metric, alpha, threshold_pct)
            history.regressions.extend(regressions)
            history.compared += sum(c.measured for made_in_run in made for c in made_in_run)
            history.untested += sum(c.verdict == UNTESTED for made_in_run in made for c in made_in_run)
            history.last_comparisons.extend(made[-1])
            history.figures.extend(_draw_metric(drawing, metric, sizes, regressions))
        if sizes is not None and not any(f.sizes for f in history.figures):
            raise HistoryInputError(f"--sizes {','.join(format_size(s) for s in sizes)}: no run has any of these "
                                    "sizes")
        write_text(staging / HISTORY_JSON, json.dumps(history_record(history, alpha, threshold_pct), indent=2) + "\n")
    # The figures were drawn in the staging directory; say where they are now.
    history.figures = [replace(f, png=out / f.png.name, svg=out / f.svg.name) for f in history.figures]
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


def metric_plan(runs: Sequence[Run], metrics: Sequence[str],
                descriptors: Descriptors = LEGACY) -> dict[str, frozenset[str] | None]:
    """Metric -> the scenarios it is drawn and tested for (None: all). PRIMARY stands for each
    scenario's primary metric, as the runs' descriptors declare it; a named metric must be present."""
    present = sorted({m for run in runs for m in measured_metrics(run.rows) if run.rows[m].notna().any()})
    plan: dict[str, frozenset[str] | None] = {}
    for metric in metrics:
        if metric == PRIMARY:
            scenarios = sorted({str(s) for run in runs for s in run.rows["scenario"].unique()})
            for scenario in scenarios:
                chosen = descriptors.primary_metric(scenario)
                if chosen is None:  # declares no time: nothing to draw by default
                    continue
                if chosen not in plan or plan[chosen] is not None:  # None already means every scenario
                    plan[chosen] = (plan.get(chosen) or frozenset()) | {scenario}
        elif metric not in present:
            raise HistoryInputError(f"--metric {metric}: no run has it; metrics present: {', '.join(present)}")
        else:
            plan[metric] = None
    return plan


def _of_scenarios(run: Run, scenarios: frozenset[str] | None) -> Run:
    """The run with only the rows of these scenarios (all of them for None)."""
    return run if scenarios is None else replace(run, rows=run.rows[run.rows["scenario"].isin(scenarios)])


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
        "last_run_gate": gate_record(history.gate(alpha, threshold_pct)),
    }
    return dict(json_safe(document))


def _labelled(run: Run, label: str) -> Run:
    return Run(run.path, run.rows, run.context, label)
