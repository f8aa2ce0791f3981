"""`ipcatlas report RUN.json... -o DIR`: figures, thresholds and one self-contained HTML page."""
from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from . import options
from .canary import draw_canary, stability_table
from .cells import status_counts, summarize
from .cli import exit_for_failures
from .descriptors import descriptors_of
from .inputs import add_input_arguments, read_inputs
from .nodes_report import node_section
from .page import PageData, render_page
from .peers import PEER_PREFIX
from .plot_command import NOT_DRAWN
from .plots import DrawnFigure, draw_figures, prepare
from .safe_output import check_directory_target, check_file_target, output_directory, write_text
from .threshold_result import ThresholdResult
from .cpu_thresholds import cpu_tables
from .mapping_thresholds import mapping_tables
from .node_identity import DuplicateNodeError
from .node_settings import MixedTypesError
from .thresholds_command import (compute_inputs, crossover_tables, fastest_tables, full_markdown, full_record,
                                 refuse, settings_table, unavailable_table)
from .units import json_safe

FIXED_OUTPUTS = ("report.html", "thresholds.md", "thresholds.json", "summary.json")

EPILOG = """\
outputs (in DIR, created if missing):
  report.html       one file with everything inside (figures inlined, no links): opens offline
  *.png, *.svg      the figures of `ipcatlas plot` (canary.png: the host's stability, shown with
                    the context's canary summary under "Host stability")
  thresholds.md     the tables of `ipcatlas thresholds`
  thresholds.json   the same as JSON
  summary.json      status counts, figure names and each input's run context
  nodes-typeN.png   when 2 or more nodes (Slurm node or host names) measured the same benchmarks:
                    the heat maps of `ipcatlas nodes`, with its tables under "Nodes" in
                    report.html; thresholds then give the type's settings with their spread
                    across the nodes, as `ipcatlas thresholds` does (one file per node, one
                    hardware type: else exit 2)

examples:
  ipcatlas report results/local/run.json -o results/local/report
  ipcatlas report run.json --peer NPopenmpi=np.out -o report

exit status: 0 done; 1 done, but a benchmark in the input failed (skipped ones do not count);
2 bad input (a one-line error names the file), or an output refused or not writable (DIR is
then left as it was: a missing DIR is not created); 3 internal error (a bug)
"""


@dataclass(frozen=True)
class Report:
    """What write_report produced."""

    counts: dict[str, int]
    figures: list[DrawnFigure]
    thresholds: ThresholdResult


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `ipcatlas report`."""
    parser.epilog = EPILOG
    add_input_arguments(parser)
    parser.add_argument("-o", "--out", type=options.path, required=True, metavar="DIR",
                        help="directory for the outputs (created if missing, once the inputs are read)")
    parser.add_argument("--baseline", default="shm", metavar="MECHANISM",
                        help="the mechanism crossovers are measured against (default: %(default)s)")
    parser.add_argument("--alpha", type=options.alpha, default=0.05,
                        help="as in `ipcatlas thresholds` (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    """Write every output and say where."""
    try:
        report = write_report(args.results, args.out, args.peer, args.baseline, args.alpha)
    except (MixedTypesError, DuplicateNodeError) as error:  # nothing was written
        return refuse("report", error)
    counts = report.counts
    print(f"wrote report.html, {len(report.figures)} figures (PNG and SVG), thresholds.md, thresholds.json and "
          f"summary.json to {args.out}")
    print(f"benchmarks: {counts['ok']} ok, {counts['failed']} failed, {counts['skipped']} skipped")
    return exit_for_failures(report.thresholds.unavailable, "report", NOT_DRAWN)


def write_report(results: Sequence[Path], out: Path, peers: Sequence[str] = (), baseline: str = "shm",
                 alpha: float = 0.05) -> Report:
    """Write every output into `out`. Raises ResultFileError for a bad input file and
    safe_output.OutputError for an output that cannot be written; either way `out` is left
    as it was (a missing one is not created: see safe_output.output_directory)."""
    check_directory_target(out)
    if out.is_dir():
        for name in FIXED_OUTPUTS:
            check_file_target(out / name)
    inputs = read_inputs(results, peers)
    # One file per node of a cluster: the type's settings with their spread, as `thresholds`
    # gives them; files of several hardware types are refused, as there.
    thresholds, spread = compute_inputs(inputs, baseline, alpha)
    data = prepare(inputs.rows, summarize(inputs.rows), thresholds.unavailable, thresholds.crossovers,
                   descriptors_of(inputs.contexts.values()))
    counts = status_counts(data.cells[~data.cells["mechanism"].str.startswith(PEER_PREFIX)])
    with output_directory(out) as staging:
        figures = draw_figures(data, staging)
        canaries, canary = draw_canary(results, staging)
        figures += [canary] if canary else []
        nodes = node_section(results, staging) if spread is not None else None  # one file per node
        write_text(staging / "thresholds.md", full_markdown(thresholds, spread) + "\n")
        write_text(staging / "thresholds.json", json.dumps(full_record(thresholds, spread, results), indent=2) + "\n")
        summary = {"inputs": [str(p) for p in results], "status_counts": counts,
                   "figures": [f.path.name for f in figures], "contexts": json_safe(inputs.contexts)}
        if nodes is not None:
            summary["nodes"] = {"outliers": nodes.outliers, "heat_maps": [p.name for p in nodes.heat_maps]}
        write_text(staging / "summary.json", json.dumps(summary, indent=2) + "\n")
        page = PageData(inputs.contexts, counts, figures, settings_table(thresholds), crossover_tables(thresholds),
                        [*mapping_tables(thresholds.mapping, thresholds.state_label), *fastest_tables(thresholds),
                         *cpu_tables(thresholds.cpu, thresholds.baseline, thresholds.state_label)],
                        unavailable_table(thresholds),
                        stability_table(canaries) if canaries else None, nodes.html if nodes else [])
        write_text(staging / "report.html", render_page(page))
    # The figures were drawn in the staging directory; say where they are now.
    return Report(counts, [replace(f, path=out / f.path.name) for f in figures], thresholds)
