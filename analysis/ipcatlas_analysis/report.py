"""ipcatlas-report: figures, crossover thresholds and an HTML page from result files.

Usage: python -m ipcatlas_analysis.report RESULT.json [RESULT.json ...] --out DIR
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .cells import problems, status_counts, summarize
from .load import ResultFileError, load_context, load_results
from .page import PageData, render_page
from .plots import DrawnFigure, figure_groups, mechanism_colors, plot_bandwidth, plot_latency
from .thresholds import Crossover, crossovers, fastest_by_size, to_markdown, to_records
from .units import json_safe

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_BAD_INPUT = 2

_EPILOG = """\
outputs (in DIR, created if missing):
  latency-SCENARIO-PLACEMENT-WAIT.png    one-way time vs message size, one line per
                                         mechanism, p50-p99 band, crossover markers
  bandwidth-SCENARIO-PLACEMENT-WAIT.png  bytes_per_second (GB/s) vs message size
  thresholds.md     crossover size of each mechanism over the baseline, fastest
                    mechanism per size, and the production knobs they inform
  summary.json      status counts, crossovers, fastest per size, failed/skipped
                    list, figure names and each file's run context
  report.html       self-contained page: context, figures, tables, failed/skipped

Failed and skipped benchmarks are never plotted or used for thresholds; they are
listed in figure footnotes, summary.json and report.html. Several files are pooled:
the same benchmark name in two files counts as more repetitions.

exit status:
  0  outputs written, no benchmark failed
  1  outputs written, but at least one benchmark failed (skipped ones do not count)
  2  bad input (missing, unreadable or non-Google-Benchmark file) or DIR not writable;
     a one-line error names the file
"""


@dataclass(frozen=True)
class Report:
    """What write_report produced."""

    counts: dict[str, int]
    figures: list[DrawnFigure]
    crossovers: list[Crossover]


def build_parser() -> argparse.ArgumentParser:
    """The command line; --help documents every option, output and exit status."""
    parser = argparse.ArgumentParser(
        prog="ipcatlas-report", epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Turn ipcatlas result files (written by `ipcatlas run --out FILE.json`) into figures, "
                    "crossover thresholds and an HTML report.")
    parser.add_argument("results", nargs="+", type=Path, metavar="RESULT.json",
                        help="one or more ipcatlas result files (Google Benchmark JSON); pass one machine's "
                             "files at a time")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="directory to write the outputs listed below into")
    parser.add_argument("--baseline", default="shm", metavar="MECHANISM",
                        help="mechanism every other one is compared with for crossover sizes and the dotted "
                             "crossover markers on the figures (default: %(default)s)")
    return parser


def write_report(paths: Sequence[Path], out: Path, baseline: str = "shm") -> Report:
    """Write every output into `out`. Raises ResultFileError for a bad input file."""
    rows = load_results(paths)
    contexts = {str(path): load_context(path) for path in paths}
    cells = summarize(rows)
    bad = problems(rows)
    found = crossovers(cells, baseline)
    fastest = fastest_by_size(cells)
    out.mkdir(parents=True, exist_ok=True)
    figures = draw_figures(cells, bad, found, out)
    counts = status_counts(cells)
    (out / "thresholds.md").write_text(to_markdown(found, fastest, baseline), encoding="utf-8")
    summary = {
        "inputs": [str(path) for path in paths],
        "status_counts": counts,
        "baseline": baseline,
        "crossovers": to_records(found),
        "fastest": json_safe(fastest.to_dict(orient="records")),
        "problems": json_safe(bad.to_dict(orient="records")),
        "figures": [figure.path.name for figure in figures],
        "contexts": json_safe(contexts),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    page = PageData(contexts, counts, figures, found, fastest, bad, baseline)
    (out / "report.html").write_text(render_page(page), encoding="utf-8")
    return Report(counts, figures, found)


def draw_figures(cells: pd.DataFrame, bad: pd.DataFrame, found: Sequence[Crossover], out: Path) -> list[DrawnFigure]:
    """A latency and a bandwidth figure per (scenario, placement, wait) that has data for them."""
    colors = mechanism_colors(cells)
    drawn = []
    for group in figure_groups(cells):
        for kind, plot in (("latency", plot_latency), ("bandwidth", plot_bandwidth)):
            figure = plot(cells, bad, found, group, out / f"{kind}-{group.slug()}.png", colors)
            if figure is not None:
                drawn.append(figure)
    return drawn


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        report = write_report(args.results, args.out, args.baseline)
    except ResultFileError as error:
        print(f"ipcatlas-report: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:
        print(f"ipcatlas-report: error: cannot write {error.filename or args.out}: {error.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    counts = report.counts
    print(f"wrote {len(report.figures)} figures, thresholds.md, summary.json and report.html to {args.out}")
    print(f"benchmarks: {counts['ok']} ok, {counts['failed']} failed, {counts['skipped']} skipped")
    return EXIT_FAILURES if counts["failed"] else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
