"""`ipcatlas plot RUN.json... -o DIR`: the figures, as PNG and SVG."""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from . import options
from .canary import draw_canary
from .cells import problems, summarize
from .cli import exit_for_failures
from .descriptors import LEGACY, Descriptors, descriptors_of
from .inputs import add_input_arguments, read_inputs
from .plots import DrawnFigure, PlotData, draw_figures, prepare
from .safe_output import check_directory_target, output_directory
from .thresholds import crossovers

NOT_DRAWN = "they are not drawn and are listed in the footnotes"

EPILOG = """\
figures (each as .png and .svg, one per scenario, placement and wait policy):
  latency-SCENARIO-PLACEMENT-WAIT     the scenario's time (pingpong: one-way latency = half a
                                      round trip) vs message size, log-log
  bandwidth-SCENARIO-PLACEMENT-WAIT   bytes_per_second in GB/s (10^9 bytes/s) vs message size
  tail-SCENARIO-PLACEMENT-WAIT        p99 / p50 of per-message times vs size (pingpong)
  cpu-SCENARIO-PLACEMENT-WAIT         CPU time of all ranks (user + system) per message / size: CPU ns
                                      per byte vs size. Under --wait block it is the work; under spin
                                      it includes the spinning (about ranks x elapsed time)
  scaling-SCENARIO-PLACEMENT-WAIT     alltoall, manytoone, onetomany run at 2+ rank counts:
                                      aggregate bandwidth vs ranks, a line style per size
  canary                              when the files have the drift canary: the cache-line
                                      bounce measured before each run against the run's time
                                      (log y), coloured by the host's state; a jump is the host
                                      changing state, and every result measured then moved too
The latency figure shows each scenario's primary metric, as the run's context declares it
(pingpong one_way_ns, stream window_ns, alltoall, manytoone and onetomany round_ns).
Lines are medians over repetitions and bands the min-max over repetitions (run ipcatlas with
--benchmark_repetitions=5 to see them). Dotted verticals mark where a mechanism beats --baseline
for good, with the undecided interval shaded (see `ipcatlas thresholds --help`). Failed and
skipped benchmarks are never drawn: lines break there and a footnote gives the reason. Peers
given with --peer are dashed dark lines on the figures of their scenario.

examples:
  ipcatlas plot results/local/run.json -o results/local/plots
  ipcatlas plot run.json --peer OpenMPI=np.out --peer ucx_tag_lat=perftest.csv -o plots

exit status: 0 done; 1 done, but a benchmark in the input failed; 2 bad input, or an output
refused or not writable (DIR is then left as it was); 3 internal error (a bug)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `ipcatlas plot`."""
    parser.epilog = EPILOG
    add_input_arguments(parser)
    parser.add_argument("-o", "--out", type=options.path, required=True, metavar="DIR",
                        help="directory for the figures (created if missing, once the inputs are read)")
    parser.add_argument("--baseline", default="shm", metavar="MECHANISM",
                        help="mark where other mechanisms beat this one (default: %(default)s)")
    parser.add_argument("--alpha", type=options.alpha, default=0.05,
                        help="as in `ipcatlas thresholds` (default: %(default)s)")


def plot_data(rows: pd.DataFrame, baseline: str, alpha: float, descriptors: Descriptors = LEGACY) -> PlotData:
    """Cells, problems and crossovers from the rows, ready to draw, with the runs' descriptors."""
    return prepare(rows, summarize(rows), problems(rows), crossovers(rows, baseline, alpha, descriptors), descriptors)


def run(args: argparse.Namespace) -> int:
    """Draw every figure into --out and list them."""
    check_directory_target(args.out)
    inputs = read_inputs(args.results, args.peer)
    data = plot_data(inputs.rows, args.baseline, args.alpha, descriptors_of(inputs.contexts.values()))
    with output_directory(args.out) as staging:
        drawn = draw_figures(data, staging)
        canary = draw_canary(args.results, staging)[1]
        drawn += [canary] if canary else []
    print_figures(drawn, args.out)
    return exit_for_failures(data.problems, "plot", NOT_DRAWN)


def print_figures(drawn: Sequence[DrawnFigure], out: Path) -> None:
    print(f"wrote {len(drawn)} figures (PNG and SVG) to {out}:")
    for figure in drawn:
        print(f"  {figure.path.name}  ({figure.kind}: {', '.join(figure.lines)})")
