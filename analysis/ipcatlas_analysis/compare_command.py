"""`ipcatlas compare BASE.json NEW.json`: the command line of compare.py and gate.py."""
from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from . import options
from .cli import EXIT_OK
from .compare import (DEFAULT_ALPHA, FASTER, GEOMEAN_NAME, NOT_COMPARED, ONLY_BASE, ONLY_NEW, RECOMMENDED_REPETITIONS,
                      SLOWER, UNCHANGED, UNTESTED, Comparison, Geomean, comparison_record, compare_tables,
                      format_counts, format_not_compared, format_table, geomean)
from .descriptors import descriptors_of
from .gate import GateResult, decide, format_gate, gate_record, host_change
from .load import load_context, load_results
from .safe_output import check_file_target, write_text
from .stats import min_pairs_one_sided, repetitions_needed
from .units import json_safe


_EPILOG = f"""\
columns (one row per benchmark measured on both sides):
  metric   the value compared: the scenario's primary metric, as the run's context
           declares it (pingpong one_way_ns, stream window_ns, alltoall, manytoone and
           onetomany round_ns; files from before the declaration: the same by scenario
           name); bytes_per_second for bandwidth-only benchmarks, where higher is better
  reps     repetitions used, BASE+NEW (ok iteration rows of the benchmark)
  BASE NEW median of the metric over the repetitions
  change   (NEW - BASE) / BASE of the medians; for bandwidth, negative is worse
  p        two-sided Mann-Whitney U test p-value over the repetitions
  verdict  see below; untested rows say why and how to fix it
  {GEOMEAN_NAME}: geometric mean of the NEW/BASE time ratios over those rows
           (bandwidth ratios inverted, since time ~ 1/bandwidth), x1.2 = 20% slower

verdicts (per benchmark, information):
  {SLOWER}/{FASTER}  p < ALPHA and the change is larger than --threshold
  {UNCHANGED}       otherwise (no significant difference)
  {UNTESTED}        too few repetitions: with n+n repetitions p cannot go below ALPHA
                  (need >= {repetitions_needed(DEFAULT_ALPHA)}+{repetitions_needed(DEFAULT_ALPHA)} for 0.05); \
the change is shown, the U test is not
  listed under "Not compared": {ONLY_BASE}, {ONLY_NEW}, or {NOT_COMPARED} (failed or
  skipped on a side, with its message)

the gate (--fail-on-regression PCT):
  Each benchmark measured on both sides gives log(median NEW / median BASE) of its
  metric (bandwidth inverted). A one-sided Wilcoxon signed-rank test asks whether
  these lean towards slower, per scenario and mechanism and over all benchmarks,
  with Holm's correction across those tests. The gate FAILS when a test rejects at
  ALPHA and the median slowdown of its benchmarks exceeds PCT. It needs
  >= {min_pairs_one_sided(DEFAULT_ALPHA)} benchmarks (for 0.05), not repetitions: 3 repetitions are enough.
  With fewer benchmarks, the per-benchmark U tests decide (a benchmark {SLOWER} by
  more than PCT fails it; it passes only if every benchmark was tested); when they
  cannot either, the gate says "cannot decide" (exit 4), never "passed".
  A regression of one benchmark among many is not what this gate is for: read
  the per-benchmark verdicts.

exit status:
  0  compared; with --fail-on-regression, the gate passed
  1  --fail-on-regression PCT: the gate FAILED (the tests behind it are listed)
  2  bad input: missing, unreadable or non-ipcatlas file, a bad option, or --json
     refused (not a regular file) or not writable; one line names the problem
  3  internal error (a bug): one line, please report it
  4  --fail-on-regression PCT: the gate cannot decide (too few benchmarks for the
     signed-rank test and too few repetitions for the U test): not a pass

example (CI gate; a small matrix with 3 repetitions is enough for the gate):
  ipcatlas run --benchmark_repetitions=3 --out base.json    # on the base commit
  ipcatlas run --benchmark_repetitions=3 --out new.json     # on the change
  ipcatlas compare base.json new.json --fail-on-regression 5 --json compare.json
  (--benchmark_repetitions={RECOMMENDED_REPETITIONS} gives every benchmark its own U test too)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `ipcatlas compare`; the epilog explains columns, verdicts, the gate and exit statuses."""
    parser.epilog = _EPILOG
    parser.add_argument("base", type=options.path, metavar="BASE.json", help="the reference result file")
    parser.add_argument("new", type=options.path, metavar="NEW.json", help="the result file under test")
    parser.add_argument("--alpha", type=options.alpha, default=DEFAULT_ALPHA, metavar="A",
                        help="significance level of the U tests and of the gate's tests (default: %(default)s)")
    parser.add_argument("--threshold", type=options.percent, default=0.0, metavar="PCT",
                        help="noise floor for the verdict column: significant changes of at most PCT %% "
                             "stay unchanged (default: %(default)s)")
    parser.add_argument("--fail-on-regression", type=options.percent, default=None, metavar="PCT",
                        help="CI gate: exit 1 if the benchmarks are slower beyond noise with a median slowdown "
                             "above PCT %% (5 = 5 %%: time up, or bandwidth down), exit 4 if the data cannot "
                             "decide (see below); without it the exit status is 0")
    parser.add_argument("--json", type=options.path, default=None, metavar="FILE",
                        help="also write the rows, the geomean and the gate result to FILE as JSON")


def to_json(base: Path, new: Path, comparisons: Sequence[Comparison], overall: Geomean | None, alpha: float,
            threshold_pct: float, fail_pct: float | None, result: GateResult | None) -> dict[str, Any]:
    """The --json document: every row, the geomean and what the gate decided."""
    gate: dict[str, Any] = {"fail_on_regression_pct": fail_pct, "passed": None}
    if result is not None:
        gate.update(gate_record(result))
    document = {
        "base": str(base), "new": str(new), "alpha": alpha, "threshold_pct": threshold_pct,
        "benchmarks": [comparison_record(c) for c in comparisons],
        "geomean": asdict(overall) if overall else None, "gate": gate,
    }
    return dict(json_safe(document))


def run(args: argparse.Namespace) -> int:
    """Compare, print the table, optionally write JSON; ResultFileError goes up to cli.main (exit 2)."""
    if args.json is not None:
        check_file_target(args.json, [args.base, args.new])
    base_rows, new_rows = load_results([args.base]), load_results([args.new])
    base_context, new_context = load_context(args.base), load_context(args.new)
    comparisons = compare_tables(base_rows, new_rows, args.alpha, args.threshold,
                                 descriptors=descriptors_of([base_context, new_context]))
    overall = geomean(comparisons)
    fail_pct: float | None = args.fail_on_regression
    result = None if fail_pct is None else decide(comparisons, max(fail_pct, args.threshold), args.alpha,
                                                  host_change(base_context, new_context))
    if args.json is not None:
        document = to_json(args.base, args.new, comparisons, overall, args.alpha, args.threshold, fail_pct, result)
        write_text(args.json, json.dumps(document, indent=2) + "\n")
    sections = [f"BASE {args.base}\nNEW  {args.new}", format_table(comparisons, overall),
                format_not_compared(comparisons), format_counts(comparisons, args.alpha, args.threshold)]
    if result is not None:
        sections.append(format_gate(result, f"--fail-on-regression {fail_pct:g}"))
    print("\n\n".join(section for section in sections if section))
    return EXIT_OK if result is None else result.exit_status
