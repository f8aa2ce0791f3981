"""`ipcatlas history PATH... -o DIR`: how benchmarks moved over a series of runs (the CI graph).

Each result file is one run. Runs are ordered by date, by commit or as given;
each benchmark is compared with its baseline (--baseline: its previous run, the
runs of one commit, or the last N runs in the same host state; history_gates.py)
by the same test as `ipcatlas compare` (compare.compare_tables and
compare.slower_than), so a regression on the graph is one `ipcatlas compare`
would report. Every run from the second on gets compare's gate (gate.decide)
over its comparisons with its baseline; --fail-on-regression exits with the
last run's. history.html (history_page.py) shows it all on one page.
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

from .cells import measured_metrics
from .compare import DEFAULT_ALPHA, UNTESTED
from .descriptors import LEGACY, Descriptors, descriptors_of
from .figures import FigureGroup, mechanism_colors, plain_text
from .gate import gate_record
from .history_figures import Drawing, HistoryFigure, draw_figure, select_sizes
from .history_gates import (BaselineRule, Regression, RunComparisons, RunGate, check_baseline, find_regressions,
                            run_gates, run_points)
from .history_page import HISTORY_HTML, render_history_page, report_links
from .load import ResultFileError, load_context, load_results
from .safe_output import check_directory_target, output_directory, write_text
from .units import format_size, json_safe

ORDERS = ("date", "commit", "given")
PRIMARY = "primary"  # --metric default: each scenario's primary metric (descriptors.primary_metric)
DEFAULT_THRESHOLD_PCT = 5.0
HISTORY_JSON = "history.json"
SHORT_COMMIT = 7
MIN_RUNS = 2


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


@dataclass
class History:
    """Everything write_history produced."""

    runs: list[Run]
    order: str
    metrics: list[str]
    baseline: BaselineRule = BaselineRule()
    alpha: float = DEFAULT_ALPHA
    threshold_pct: float = DEFAULT_THRESHOLD_PCT
    figures: list[HistoryFigure] = field(default_factory=list)
    regressions: list[Regression] = field(default_factory=list)
    compared: int = 0  # run-to-baseline benchmark comparisons made
    untested: int = 0  # of which too few repetitions for the U test
    gates: list[RunGate] = field(default_factory=list)  # one per run from the second on

    @property
    def last_gate(self) -> RunGate:
        """The gate on the last run against its baseline (--fail-on-regression)."""
        return self.gates[-1]

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


# --- the whole history --------------------------------------------------------------------------------------

def write_history(paths: Sequence[Path], out: Path, order: str = "date", repo: Path = Path("."),
                  metrics: Sequence[str] = (PRIMARY,), sizes: Sequence[int] | None = None,
                  alpha: float = DEFAULT_ALPHA, threshold_pct: float = DEFAULT_THRESHOLD_PCT,
                  baseline: BaselineRule = BaselineRule(), reports: Path | None = None) -> History:
    """Read, order, test, gate every run and draw; writes the figures, history.json and
    history.html into out (history.html links each run's DIR/STEM/report.html under `reports`).

    Raises ResultFileError (HistoryInputError) for input that cannot make a history, and
    safe_output.OutputError for an output that cannot be written; either way `out` is
    left as it was (see safe_output.output_directory).
    """
    check_directory_target(out)
    runs = order_runs(read_runs(result_files(paths)), order, repo)
    check_baseline(baseline, runs)
    described = descriptors_of(run.context for run in runs)
    plan = metric_plan(runs, metrics, described)
    history = History(runs, order, list(plan), baseline, alpha, threshold_pct)
    tested = _test_runs(history, plan)
    colors = mechanism_colors(pd.concat([run.rows for run in runs]))
    statuses = {gate.position: gate.result.status for gate in history.gates}
    with output_directory(out) as staging, plain_text():
        drawing = Drawing(runs, order, colors, staging, threshold_pct, alpha, described, statuses, str(baseline))
        for metric, (of_metric, regressions) in tested.items():
            history.figures.extend(_draw_metric(replace(drawing, runs=of_metric), metric, sizes, regressions))
        if sizes is not None and not any(f.sizes for f in history.figures):
            raise HistoryInputError(f"--sizes {','.join(format_size(s) for s in sizes)}: no run has any of these "
                                    "sizes")
        write_text(staging / HISTORY_JSON, json.dumps(history_record(history), indent=2) + "\n")
        write_text(staging / HISTORY_HTML, render_history_page(history, report_links(runs, reports, out)))
    # The figures were drawn in the staging directory; say where they are now.
    history.figures = [replace(f, png=out / f.png.name, svg=out / f.svg.name) for f in history.figures]
    return history


def _test_runs(history: History, plan: dict[str, frozenset[str] | None]
               ) -> dict[str, tuple[list[Run], list[Regression]]]:
    """Compare every run with its baseline for each metric of the plan, then gate every run over
    all its comparisons; returns per metric the runs it is drawn from and its regressions."""
    made = [RunComparisons() for _ in history.runs]
    tested = {}
    for metric, scenarios in plan.items():
        of_metric = [_of_scenarios(run, scenarios) for run in history.runs]
        regressions, made_for_metric = find_regressions(of_metric, metric, history.alpha, history.threshold_pct,
                                                        history.baseline)
        history.regressions.extend(regressions)
        for total, one in zip(made, made_for_metric):
            total.add(one)
        tested[metric] = (of_metric, regressions)
    comparisons = [c for one in made for c in one.comparisons]
    history.compared = sum(c.measured for c in comparisons)
    history.untested = sum(c.verdict == UNTESTED for c in comparisons)
    history.gates = run_gates(history.runs, made, history.baseline, history.alpha, history.threshold_pct)
    return tested


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


def history_record(history: History) -> dict[str, Any]:
    """history.json: the runs in order, the figures, every regression, every run's gate and the last one's."""
    last = history.last_run_regressions()
    gates = [gate_entry(history, gate) for gate in history.gates]
    document = {
        "order": history.order, "metrics": history.metrics, "alpha": history.alpha,
        "threshold_pct": history.threshold_pct, "baseline": str(history.baseline),
        "runs": [{"position": i + 1, "label": run.label, "file": str(run.path), "date": run.date or None,
                  "commit": run.commit or None} for i, run in enumerate(history.runs)],
        "figures": [{"png": f.png.name, "svg": f.svg.name, "metric": f.metric, "scenario": f.scenario,
                     "placement": f.placement, "wait": f.wait, "sizes": f.sizes, "lines": f.lines, "gaps": f.gaps,
                     "regressions_marked": f.marked, "gate_failed_runs": f.gate_failed,
                     "gate_undecided_runs": f.gate_undecided} for f in history.figures],
        "comparisons": {"run_to_run": history.compared, "untested_too_few_repetitions": history.untested},
        "regressions": [asdict(r) for r in history.regressions],
        "last_run_regressed": bool(last),
        "last_run_regressions": [r.name for r in last],
        "gates": gates,
        "last_run_gate": gates[-1],
    }
    return dict(json_safe(document))


def gate_entry(history: History, gate: RunGate) -> dict[str, Any]:
    """One run's gate in history.json: where it is, the verdict (gate.gate_record) and its baseline."""
    run = history.runs[gate.position - 1]
    return {"position": gate.position, "label": run.label, "commit": run.commit or None, **gate_record(gate.result),
            "host_state_changed": gate.host_state,
            "baseline": {"rule": str(history.baseline), "runs": gate.baseline, "note": gate.note or None}}


def _labelled(run: Run, label: str) -> Run:
    return Run(run.path, run.rows, run.context, label)
