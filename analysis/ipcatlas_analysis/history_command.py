"""`ipcatlas history PATH... -o DIR`: the command line of history.py (the CI regression graph)."""
from __future__ import annotations

import argparse
from pathlib import Path

from . import options
from .cli import EXIT_OK
from .compare import DEFAULT_ALPHA, format_value
from .gate import FAILED, HOST_CHANGE_FACTOR, PASSED, UNDECIDED, format_gate
from .history import DEFAULT_THRESHOLD_PCT, MIN_RUNS, ORDERS, PRIMARY, SHORT_COMMIT, History, write_history
from .history_figures import LOG_SPAN, ORDER_TEXT
from .history_gates import PREVIOUS, BaselineRule, Regression, RunGate, describe, parse_baseline
from .history_page import HISTORY_HTML, REPORT_HTML
from .stats import min_pairs_one_sided, repetitions_needed
from .units import format_size, parse_size


def format_summary(history: History, out: Path, alpha: float, threshold_pct: float) -> str:
    """The text printed to stdout: runs, figures, regressions, warnings."""
    width = max(len(run.label) for run in history.runs)
    runs = [f"  {i:>2}  {run.label.ljust(width)}  {run.path}"
            + (f"  commit {run.commit[:SHORT_COMMIT]}" if run.commit and history.order != "commit" else "")
            for i, run in enumerate(history.runs, start=1)]
    sections = [f"{len(history.runs)} runs, {ORDER_TEXT[history.order]}, oldest first:\n" + "\n".join(runs)]
    figures = [f"  {f.png.name} (+.svg): sizes {', '.join(format_size(s) for s in f.sizes)}" for f in history.figures]
    sections.append(f"{len(history.figures)} figure(s) and {HISTORY_HTML} in {out}:\n" + "\n".join(figures)
                    if figures else f"no figure: no group has {', '.join(history.metrics)} at a chosen size "
                                    f"({HISTORY_HTML} written to {out})")
    rule = f"slower than its baseline ({history.baseline}) by more than {threshold_pct:g}% with p < {alpha:g}"
    lines = [f"  run {r.run} {r.run_label} vs {_baseline_of(r)}: {r.name} {r.metric} "
             f"{format_value(r.median_before, r.metric)} -> {format_value(r.median_after, r.metric)} "
             f"({r.change:+.1%}, p {r.p_value:.2g})" for r in history.regressions]
    sections.append(f"{len(lines)} regression(s) ({rule}):\n" + "\n".join(lines) if lines
                    else f"no regression ({rule}) in {history.compared} run-to-baseline comparisons")
    sections.append(format_gates(history))
    if history.untested:
        need = repetitions_needed(alpha)
        sections.append(f"warning: {history.untested} of {history.compared} run-to-baseline comparisons had too "
                        f"few repetitions for the U test (need >= {need}+{need} for p < {alpha:g}) and cannot show "
                        f"a regression: run with --benchmark_repetitions=9, or pool runs with --baseline median:N")
    return "\n\n".join(sections)


def format_gates(history: History) -> str:
    """The gate of every run in one count line, then a line per run whose gate did not pass."""
    counts = {status: sum(g.result.status == status for g in history.gates) for status in (PASSED, FAILED, UNDECIDED)}
    lines = [f"gates ({len(history.gates)} run(s), each against its baseline {history.baseline}: "
             f"{describe(history.baseline)}): {counts[PASSED]} passed, {counts[FAILED]} FAILED, "
             f"{counts[UNDECIDED]} cannot decide"]
    for gate in history.gates:
        if gate.result.status != PASSED:
            why = f": {gate.result.reason}" if gate.result.reason else ""
            versus = f" against {against(gate)}" if gate.baseline else ""
            lines.append(f"  run {gate.position} {history.runs[gate.position - 1].label}: {gate.result.status}"
                         f"{versus}{why}")
    return "\n".join(lines)


def against(gate: RunGate) -> str:
    """"run 4", "runs 2, 3, 4 (2 of the 3 ...)" or "no baseline run"."""
    if not gate.baseline:
        return "no baseline run"
    runs = f"run {gate.baseline[0]}" if len(gate.baseline) == 1 else f"runs {', '.join(map(str, gate.baseline))}"
    return runs + (f" ({gate.note})" if gate.note else "")


def _baseline_of(r: Regression) -> str:
    if len(r.baseline) <= 1:
        return f"run {r.previous} {r.previous_label}"
    return f"runs {', '.join(map(str, r.baseline))} (pooled)"


_NEED = repetitions_needed(DEFAULT_ALPHA)
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
          gaps where a run lacks the benchmark or it failed or was skipped, a red
          ring with the change on each regression, and behind every panel a red
          band (and a red "gate FAILED" run label) at each run whose gate failed,
          a grey one ("gate undecided") where the gate could not decide
  history.html
          one self-contained page (figures inlined, no script): the last run's
          verdict and the rule, the runs (date, commit, file, host state, gate,
          link to the run's report with --reports), the figures, the gate tests of
          every run that did not pass and of the last run, every regression, and
          the machines
  history.json
          runs in order, figures (gate_failed_runs, gate_undecided_runs), every
          regression, the comparison counts, the baseline rule, the gate of every
          run from the second on (gates) and of the last run (last_run_gate)
  stdout  the same as text

baseline (--baseline RULE): what each run is compared with, using earlier runs only
  previous    each benchmark's latest earlier run in which it measured ok (default)
  commit:REF  the runs whose context commit starts with REF (hex, >= 4 digits); REF
              matching no run's commit, or two commits, is an error (exit 2); runs
              before the first run of REF cannot be decided
  median:N    each benchmark's last N earlier runs in which it measured ok and that
              the drift canary puts in the same host state as the run judged
              (canary_median_ns within {HOST_CHANGE_FACTOR:g}x; runs without a canary count as the
              same state). Fewer such runs: those there are (the output says how
              many); none: that run's gate cannot decide, and says why
  Several baseline runs are pooled: per benchmark their repetitions form one sample,
  so "the median of the last N runs" is the median over all their repetitions, and
  the U test has N times more of them (3 repetitions a run: 9+3 can decide, 3+3 never).

regressions (the red rings):
  Each benchmark is compared with its baseline by the test of `ipcatlas compare`:
  the two-sided Mann-Whitney U test over the repetitions. A regression is p < ALPHA
  and a change of the median worse than --threshold PCT (time up, or bandwidth down,
  by more than PCT %). Every benchmark is tested, also at sizes not drawn. With fewer
  than {_NEED}+{_NEED} repetitions this test cannot decide and a warning says so.
  The default metric is each scenario's primary metric, as its context declares it
  (pingpong one_way_ns, stream window_ns, the others round_ns).

the gates (a red or grey band; --fail-on-regression):
  Every run from the second on gets the gate of `ipcatlas compare --fail-on-regression`
  (see its --help) over its benchmarks against its baseline: a one-sided signed-rank
  test across benchmarks (>= {min_pairs_one_sided(DEFAULT_ALPHA)} of them for 0.05; 3 repetitions per run are
  enough), per scenario and mechanism and overall, with Holm's correction; it fails
  when a test rejects at ALPHA and the median slowdown exceeds --threshold PCT. With
  too few benchmarks the per-benchmark U tests decide; if they cannot, it cannot
  decide. With previous and commit:REF it cannot decide either when the drift canary
  puts the run and its baseline in different host states (the pooled runs' median).
  --fail-on-regression exits with the last run's gate.

reports (--reports DIR):
  For a run FILE/X.json whose DIR/X/report.html exists (`ipcatlas report X.json -o
  DIR/X`), history.html links it, relative to the output directory; nothing is
  copied or read.

exit status:
  0  written (whatever the regressions, unless --fail-on-regression); with
     --fail-on-regression, the gate passed on the last run
  1  --fail-on-regression and the gate FAILED on the last run
  2  bad input: fewer than {MIN_RUNS} runs, a missing or non-ipcatlas file, no date or
     commit to order by, an unknown metric or size, git failing, a --baseline
     commit:REF that matches no run's commit or several, an output refused or not
     writable (DIR is then left as it was)
  3  internal error (a bug): one line, please report it
  4  --fail-on-regression and the last run's gate cannot decide (too few benchmarks
     and repetitions, no baseline run, or another host state): not a pass

example (a CI job keeping one result file per commit in results/):
  ipcatlas run --benchmark_repetitions=3 --benchmark_context=commit=$(git rev-parse HEAD) \\
      --out results/$(git rev-parse --short HEAD).json
  ipcatlas history results/ --order commit -o history/ --sizes 8,64K,1M --fail-on-regression \\
      --baseline median:5 --reports reports/
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `ipcatlas history`; the epilog explains order, outputs and exit statuses."""
    parser.epilog = _EPILOG
    parser.add_argument("paths", nargs="+", type=options.path, metavar="PATH",
                        help="result files and/or directories of result files, one run per file")
    parser.add_argument("-o", "--out", required=True, type=options.path, metavar="DIR",
                        help="directory for the figures and history.json")
    parser.add_argument("--order", choices=ORDERS, default="date",
                        help="how to order the runs: date, commit or given (default: %(default)s; see below)")
    parser.add_argument("--repo", type=options.path, default=Path("."), metavar="DIR",
                        help="git checkout whose history orders runs for --order commit (default: current directory)")
    parser.add_argument("--metric", action="append", type=_metrics, default=None, metavar="METRIC",
                        help=f"metric column to draw and test, e.g. one_way_ns, bytes_per_second, p99_ns; "
                             f"repeat or comma-separate for several (default: {PRIMARY}, each scenario's "
                             f"primary metric)")
    parser.add_argument("--sizes", type=_sizes, default=None, metavar="LIST",
                        help="message sizes to draw, one panel each, e.g. 8,64K,1M (K, M, G = 2^10, 2^20, 2^30); "
                             "default: the smallest, a middle and the largest size present")
    parser.add_argument("--alpha", type=options.alpha, default=DEFAULT_ALPHA, metavar="A",
                        help="significance level of the U test (default: %(default)s)")
    parser.add_argument("--threshold", type=options.percent, default=DEFAULT_THRESHOLD_PCT, metavar="PCT",
                        help="a regression is worse than its previous run by more than PCT %% with p < A "
                             "(default: %(default)s)")
    parser.add_argument("--baseline", type=_baseline, default=parse_baseline(PREVIOUS), metavar="RULE",
                        help="what each run is compared with: previous, commit:REF or median:N (default: "
                             "previous; see below)")
    parser.add_argument("--reports", type=options.path, default=None, metavar="DIR",
                        help=f"link run FILE/X.json to DIR/X/{REPORT_HTML} in {HISTORY_HTML} when it exists")
    parser.add_argument("--fail-on-regression", action="store_true",
                        help="CI gate: exit 1 if the last run's gate FAILED against its baseline, 4 if the data "
                             "cannot decide (see below)")


def run(args: argparse.Namespace) -> int:
    """Write the history; ResultFileError goes up to cli.main (exit 2)."""
    metrics = list(dict.fromkeys(m for group in (args.metric or [[PRIMARY]]) for m in group))
    history = write_history(args.paths, args.out, args.order, args.repo, metrics, args.sizes, args.alpha,
                            args.threshold, args.baseline, args.reports)
    print(format_summary(history, args.out, args.alpha, args.threshold))
    if not args.fail_on_regression:
        return EXIT_OK
    gate = history.last_gate
    print(f"\nlast run: {len(history.runs)} {history.runs[-1].label}, against {against(gate)} "
          f"(--baseline {history.baseline})\n"
          + format_gate(gate.result, f"--fail-on-regression --threshold {args.threshold:g}"))
    return gate.result.exit_status


def _baseline(text: str) -> BaselineRule:
    """argparse type for --baseline."""
    try:
        return parse_baseline(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


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
