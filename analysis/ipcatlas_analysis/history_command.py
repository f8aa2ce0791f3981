"""`ipcatlas history PATH... -o DIR`: the command line of history.py (the CI regression graph)."""
from __future__ import annotations

import argparse
from pathlib import Path

from . import options
from .cli import EXIT_OK
from .compare import DEFAULT_ALPHA, format_value
from .gate import format_gate
from .history import DEFAULT_THRESHOLD_PCT, MIN_RUNS, ORDERS, PRIMARY, SHORT_COMMIT, History, write_history
from .history_figures import LOG_SPAN, ORDER_TEXT
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
          whether the last run regressed, and the gate on the last run (last_run_gate)
  stdout  the same as text

regressions:
  Each benchmark is compared with its previous run (the latest earlier run in which
  it measured ok) by the test of `ipcatlas compare`: the two-sided Mann-Whitney U
  test over the repetitions. A regression is p < ALPHA and a change of the median
  worse than --threshold PCT (time up, or bandwidth down, by more than PCT %).
  Every benchmark is tested, also at sizes not drawn. With fewer than
  {repetitions_needed(DEFAULT_ALPHA)} repetitions per run this test cannot decide and a warning says so.
  The default metric is each scenario's primary metric, as its context declares it
  (pingpong one_way_ns, stream window_ns, the others round_ns).

the gate (--fail-on-regression):
  The gate of `ipcatlas compare --fail-on-regression --threshold` (see its --help),
  over the last run's benchmarks against their previous runs: a one-sided signed-rank
  test across benchmarks (>= {min_pairs_one_sided(DEFAULT_ALPHA)} of them for 0.05; 3 repetitions per run are
  enough), per scenario and mechanism and overall, with Holm's correction; it fails
  when a test rejects at ALPHA and the median slowdown exceeds --threshold PCT. With
  too few benchmarks the per-benchmark U tests decide; if they cannot, exit 4. The
  red rings are the per-benchmark U-test regressions.

exit status:
  0  written (whatever the regressions, unless --fail-on-regression); with
     --fail-on-regression, the gate passed on the last run
  1  --fail-on-regression and the gate FAILED on the last run
  2  bad input: fewer than {MIN_RUNS} runs, a missing or non-ipcatlas file, no date or
     commit to order by, an unknown metric or size, git failing, an output refused
     or not writable (DIR is then left as it was)
  3  internal error (a bug): one line, please report it
  4  --fail-on-regression and the gate cannot decide (too few benchmarks and
     repetitions): not a pass

example (a CI job keeping one result file per commit in results/):
  ipcatlas run --benchmark_repetitions=3 --benchmark_context=commit=$(git rev-parse HEAD) \\
      --out results/$(git rev-parse --short HEAD).json
  ipcatlas history results/ --order commit -o history/ --sizes 8,64K,1M --fail-on-regression
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
    parser.add_argument("--fail-on-regression", action="store_true",
                        help="CI gate on the last run against its predecessors: exit 1 if it FAILED, 4 if the "
                             "data cannot decide (see below)")


def run(args: argparse.Namespace) -> int:
    """Write the history; ResultFileError goes up to cli.main (exit 2)."""
    metrics = list(dict.fromkeys(m for group in (args.metric or [[PRIMARY]]) for m in group))
    history = write_history(args.paths, args.out, args.order, args.repo, metrics, args.sizes, args.alpha,
                            args.threshold)
    print(format_summary(history, args.out, args.alpha, args.threshold))
    if not args.fail_on_regression:
        return EXIT_OK
    result = history.gate(args.alpha, args.threshold)
    print(f"\nlast run: {len(history.runs)} {history.runs[-1].label}, against its predecessors\n"
          + format_gate(result, f"--fail-on-regression --threshold {args.threshold:g}"))
    return result.exit_status


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
