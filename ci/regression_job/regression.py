"""ci/regression: the CI regression job in one command.

Runs a CI-sized matrix within a time budget, stores the result under the
results directory keyed by commit and date, writes the run's report, draws the
history of every stored run on this line of commits (history.html), and exits
with the gate's verdict on the new run against its baseline.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import children
from matrix import DEFAULT_BUDGET_S, REPETITIONS, BudgetError, Matrix, parse_list
from store import HISTORY, REPORTS, RUNS, StoreError, ancestry, git, on_this_line, run_name, stored_runs

IPCATLAS_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_BINARY = IPCATLAS_ROOT / "build" / "release" / "ipcatlas"
DEFAULT_THRESHOLD_PCT = 10.0
DEFAULT_BASELINE = "median:5"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_UNDECIDED = 0, 1, 2, 3, 4
BASELINE_PATTERN = re.compile(r"previous|commit:[0-9a-fA-F]{4,40}|median:[1-9][0-9]*")

EPILOG = f"""\
what it does, in order:
  1. ipcatlas run: the matrix below, its --benchmark_min_time chosen so that the run takes
     about --budget seconds; the context records the commit (--benchmark_context=commit=...)
  2. stores it as RESULTS/{RUNS}/DATE-COMMIT.json (DATE in UTC, so names sort by time)
  3. ipcatlas report into RESULTS/{REPORTS}/DATE-COMMIT/ (unless --no-report)
  4. ipcatlas history over the stored runs whose commits are ancestors of the commit (other
     branches' runs are left out and counted), ordered by commit, into RESULTS/{HISTORY}/:
     history.html (self-contained: figures, every run's gate, the regressions and their
     tests, links to each run's report), history.json and the figures
  5. exits with the gate's verdict on the new run against --baseline
  When the gate cannot decide because the host changed state (the drift canary), the run is
  measured again, up to --retries times. The undecided attempts stay in RESULTS/{RUNS}/ (runs
  in another host state: baselines for later jobs in it) but are not the retry's baseline.

the default matrix (chosen from measurements: README, "CI regression graphs"):
  pingpong; {', '.join(Matrix().mechanisms)}; sizes {', '.join(Matrix().sizes)}; {REPETITIONS} repetitions
  ({Matrix().runs} runs). --mechanisms, --sizes and --repetitions change it; options after `--`
  go to `ipcatlas run` as they are (e.g. -- --cpus 2,3).

exit status:
  0  the gate passed (or this is the first run on this line of commits: nothing to compare with)
  1  the gate FAILED: the new run is slower than its baseline (history.html says where)
  2  bad usage, no binary, a results directory or repository that cannot be used, a run that
     wrote no result
  3  internal error
  4  the gate cannot decide (the host changed state on every attempt, or too few benchmarks)

example (a nightly job):
  ci/regression --results /var/lib/ci/ipcatlas --budget 120 --baseline median:5 -- --cpus 2,3
"""


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ci/regression", description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=Path("results/regression"), metavar="DIR",
                        help="the results directory of this CI history (default: %(default)s)")
    parser.add_argument("--budget", type=seconds_option, default=DEFAULT_BUDGET_S, metavar="SECONDS",
                        help="time the benchmark run may take, per attempt (default: %(default)g)")
    parser.add_argument("--baseline", type=baseline_option, default=DEFAULT_BASELINE, metavar="RULE",
                        help="what the new run is gated against: previous (the latest earlier run), commit:REF "
                             "(the runs of that commit) or median:N (the last N earlier runs in the same host "
                             "state, pooled) (default: %(default)s)")
    parser.add_argument("--threshold", type=percent_option, default=DEFAULT_THRESHOLD_PCT, metavar="PCT",
                        help="the gate fails on a significant median slowdown above PCT %% (default: %(default)g)")
    parser.add_argument("--repo", type=Path, default=Path("."), metavar="DIR",
                        help="the git checkout whose commit the run is keyed by (default: current directory)")
    parser.add_argument("--commit", default="HEAD", metavar="REV",
                        help="the commit to key the run by (default: %(default)s of --repo)")
    parser.add_argument("--retries", type=int, choices=range(0, 6), default=2, metavar="N",
                        help="measure again up to N times (0-5) when the host changed state (default: %(default)s)")
    parser.add_argument("--no-report", action="store_true", help="do not write the run's report")
    parser.add_argument("--mechanisms", type=parse_list, default=Matrix().mechanisms, metavar="LIST",
                        help=f"the matrix's mechanisms, comma-separated (default: {','.join(Matrix().mechanisms)})")
    parser.add_argument("--sizes", type=parse_list, default=Matrix().sizes, metavar="LIST",
                        help=f"the matrix's sizes, as `ipcatlas run --sizes` takes them "
                             f"(default: {','.join(Matrix().sizes)})")
    parser.add_argument("--repetitions", type=int, default=REPETITIONS, metavar="N",
                        help="repetitions of every benchmark (default: %(default)s)")
    parser.add_argument("--bin", type=Path, default=Path(os.environ.get("IPCATLAS_BIN", DEFAULT_BINARY)),
                        metavar="PATH", help="the ipcatlas binary (default: $IPCATLAS_BIN or %(default)s)")
    parser.add_argument("run_options", nargs=argparse.REMAINDER, metavar="-- RUN OPTIONS",
                        help="more options for `ipcatlas run`, after --")
    args = parser.parse_args(argv)
    if args.run_options and args.run_options[0] == "--":
        args.run_options = args.run_options[1:]
    if args.repetitions < 1:
        parser.error("--repetitions must be at least 1")
    return args


def main(argv: list[str]) -> int:
    children.exit_on_signals()
    args = parse_arguments(argv)
    try:
        return regression_job(args)
    except (StoreError, BudgetError) as error:
        print(f"ci/regression: {error}", file=sys.stderr)
        return EXIT_USAGE


def regression_job(args: argparse.Namespace) -> int:
    if not os.access(args.bin, os.X_OK):
        raise StoreError(f"{args.bin}: no ipcatlas binary (build it with ci/build release, or give --bin)")
    commit = git(args.repo, "rev-parse", "--verify", f"{args.commit}^{{commit}}")
    matrix = Matrix(args.mechanisms, args.sizes, args.repetitions)
    options = matrix.run_options(args.budget)
    print(f"ci/regression: commit {commit[:12]}: {matrix.runs} runs, about {args.budget:g} s; results in "
          f"{args.results}", flush=True)
    attempts: list[str] = []
    for attempt in range(args.retries + 1):
        name = measure(args, commit, options)
        status = gate(args, commit, name, attempts)
        if status != EXIT_UNDECIDED or attempt == args.retries or not host_changed(args.results):
            return status
        attempts.append(name)
        print(f"ci/regression: the host changed state; measuring again ({attempt + 2} of {args.retries + 1})",
              flush=True)
    return EXIT_INTERNAL  # not reached: the last attempt returns


def measure(args: argparse.Namespace, commit: str, options: list[str]) -> str:
    """One run of the matrix, stored and reported; returns its name."""
    name = run_name(commit)
    out = args.results / RUNS / f"{name}.json"
    command = [str(args.bin), "run", *options, f"--benchmark_context=commit={commit}", "--out", str(out),
               *args.run_options]
    done = children.run(command)
    if not out.is_file():
        raise StoreError(f"ipcatlas run exited {done.returncode} and wrote no {out}")
    if done.returncode != 0:
        print(f"ci/regression: warning: ipcatlas run exited {done.returncode}: some benchmarks failed (their "
              "errors are above and in the result); the history shows them as gaps", flush=True)
    if not args.no_report:
        report = children.run([str(args.bin), "report", str(out), "-o", str(args.results / REPORTS / name)],
                              stdout=subprocess.DEVNULL)
        if report.returncode != 0:
            print(f"ci/regression: warning: ipcatlas report exited {report.returncode}; no report for {name}")
    return name


def gate(args: argparse.Namespace, commit: str, name: str, earlier_attempts: list[str]) -> int:
    """ipcatlas history over this line's runs, gated on the newest; its exit status.

    This job's earlier, undecided attempts stay stored (real runs in another host state: later
    jobs' baselines in that state) but are left out here, so that a retry is never judged
    against the same code measured minutes before."""
    kept, left_out = on_this_line(stored_runs(args.results), ancestry(args.repo, commit))
    kept = [run for run in kept if run.path.stem not in earlier_attempts]
    if left_out:
        print(f"ci/regression: {len(left_out)} stored run(s) of commits that are not ancestors of {commit[:12]} "
              "are left out of this history", flush=True)
    if len(kept) < 2:
        print("ci/regression: the first run on this line of commits: stored, nothing to compare it with yet")
        return EXIT_OK
    command = [str(args.bin), "history", *(str(run.path) for run in kept), "--order", "commit",
               "--repo", str(args.repo), "-o", str(args.results / HISTORY), "--fail-on-regression",
               "--threshold", f"{args.threshold:g}", "--baseline", args.baseline,
               "--reports", str(args.results / REPORTS)]
    status = children.run(command).returncode
    print(f"ci/regression: history page {args.results / HISTORY / 'history.html'}", flush=True)
    return status if status in (EXIT_OK, EXIT_FAILED, EXIT_UNDECIDED, EXIT_USAGE) else EXIT_INTERNAL


def host_changed(results: Path) -> bool:
    """Whether the last gate was undecided because of the host's state (history.json's last_run_gate says)."""
    try:
        record = json.loads((results / HISTORY / "history.json").read_text(encoding="utf-8"))
        return record["last_run_gate"]["host_state_changed"] is True
    except (OSError, ValueError, KeyError, TypeError):
        return False


def seconds_option(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid seconds '{text}'") from None
    if not 1 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"'{text}' is out of range (1 to 86400 seconds)")
    return value


def percent_option(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid percent '{text}'") from None
    if not 0 < value <= 1000:  # also refuses nan
        raise argparse.ArgumentTypeError(f"'{text}' is out of range (above 0, at most 1000)")
    return value


def baseline_option(text: str) -> str:
    if not BASELINE_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(f"invalid baseline '{text}' (expected previous, commit:REF with a hex "
                                         "prefix of at least 4 digits, or median:N)")
    return text


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
