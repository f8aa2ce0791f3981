"""`ipcatlas nodes RESULTS... -o DIR`: one result file per node, the slow (or fast) nodes of each
hardware type (nodes.py), written as nodes.md, nodes.json and one heat map per type."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import options
from .cli import EXIT_FINDING, EXIT_OK
from .nodes import Thresholds, TypeJudgement, judge
from .nodes_figure import MAX_NODE_LABELS, HeatMap, draw_heat_map
from .nodes_load import read_samples
from .nodes_tables import markdown, to_json
from .safe_output import check_directory_target, check_file_target, output_directory, write_text

FIXED_OUTPUTS = ("nodes.md", "nodes.json")
_BARS = Thresholds()

EPILOG = f"""\
what it does:
  Reads one result file per node (the node is the run's Slurm node name, else its host
  name; two files of one node are refused), groups the nodes by hardware type (CPU model,
  topology, kernel, mitigations) and judges each node only against its own type. Per
  benchmark (the scenario's primary metric: one_way_ns, window_ns, round_ns; lower is
  better; bytes_per_second where a scenario has no time: higher is better), a node's value
  is the median of its repetitions, compared with the median across the type's nodes.

how to read it:
  nodes.md      per type: a table of nodes (benchmarks judged; how many slower and faster
                beyond the bars below; "typical": the median node / type ratio over all its
                benchmarks, "deviations": over the deviating ones; its drift canary over the
                type's; the verdict) and a table of benchmarks (the type's median, its
                spread, how many nodes deviate). Also printed on stdout.
  nodes.json    the same with every node's log(node / type median) per benchmark, and the
                thresholds used
  nodes-typeN.png/.svg  heat map per judged type: rows nodes, columns benchmarks, red
                slower and blue faster than the type median (saturates at 4x); outliers are
                starred and framed, deviating cells dotted; above {MAX_NODE_LABELS} nodes only the
                outliers are named, with an arrow beside their row
  A benchmark deviates when the node is beyond {_BARS.spread_k:g} scaled MADs of its type, beyond
  {_BARS.min_factor:g}x, and all its repetitions lie on one side of the type median. A node is an
  OUTLIER when it deviates in one direction in at least {_BARS.fraction:.0%} of its benchmarks and in
  at least {_BARS.min_deviating}: one noisy benchmark never makes an outlier. A type of fewer than
  {_BARS.min_nodes} nodes is listed but not judged. A node whose canary is off was measured while its
  host was slow: rerun it before draining it. On a noisy host (a VM) only large slowdowns
  (2x on this project's 2-vCPU test VM) are found reliably; real nodes are quieter.

exit status:
  0  done (no outlier, or no --fail-on-outlier)
  1  --fail-on-outlier and a node is an outlier (slower or faster)
  2  bad input (a missing or non-ipcatlas file, two files of one node) or an output
     refused or not writable (DIR is then left as it was)
  3  internal error (a bug)

examples:
  sbatch -N 16 ci/slurm/ipcatlas.sbatch          (runs every node, then ipcatlas nodes)
  salloc -N 16 --exclusive srun --ntasks-per-node=1 --whole \\
      ipcatlas run --benchmark_repetitions=5 --out results/cluster/%j/%n.json
  ipcatlas nodes results/cluster/123/*.json -o results/cluster/123/nodes
  ipcatlas nodes results/cluster/123/*.json -o /tmp/check --fail-on-outlier || drain ...
"""


@dataclass(frozen=True)
class NodesResult:
    """What write_nodes produced."""

    judgements: list[TypeJudgement]
    markdown: str
    heat_maps: list[HeatMap]

    @property
    def outliers(self) -> list[str]:
        return [v.run.node for j in self.judgements for v in j.outliers]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `ipcatlas nodes`."""
    parser.epilog = EPILOG
    parser.add_argument("results", nargs="+", type=options.path, metavar="RUN.json",
                        help="one ipcatlas result file per node (`ipcatlas run --out .../%%n.json` under Slurm)")
    parser.add_argument("-o", "--out", type=options.path, required=True, metavar="DIR",
                        help="directory for nodes.md, nodes.json and the heat maps (created if missing)")
    parser.add_argument("--fail-on-outlier", action="store_true",
                        help="exit 1 when a node is an outlier (a health check that drains nodes)")


def run(args: argparse.Namespace) -> int:
    """Judge, write, print the Markdown; exit 1 with --fail-on-outlier when a node is an outlier."""
    result = write_nodes(args.results, args.out)
    print(result.markdown, end="")
    print(f"wrote nodes.md, nodes.json and {len(result.heat_maps)} heat map(s) to {args.out}", file=sys.stderr)
    if args.fail_on_outlier and result.outliers:
        print(f"ipcatlas nodes: outlier node(s): {', '.join(result.outliers)}", file=sys.stderr)
        return EXIT_FINDING
    return EXIT_OK


def write_nodes(results: Sequence[Path], out: Path) -> NodesResult:
    """Write every output into `out`. Raises ResultFileError for a bad input (or two files of one
    node) and OutputError for an output that cannot be written; either way `out` is left as it was."""
    check_directory_target(out)
    if out.is_dir():
        for name in FIXED_OUTPUTS:
            check_file_target(out / name)
    judgements = judge(read_samples(results), _BARS)
    text = markdown(judgements, _BARS)
    with output_directory(out) as staging:
        heat_maps = draw_heat_maps(judgements, staging)
        write_text(staging / "nodes.md", text)
        write_text(staging / "nodes.json", json.dumps(to_json(judgements, _BARS), indent=2) + "\n")
    moved = [HeatMap(out / m.path.name, m.labelled_rows, m.outliers) for m in heat_maps]
    return NodesResult(judgements, text, moved)


def draw_heat_maps(judgements: Sequence[TypeJudgement], directory: Path) -> list[HeatMap]:
    """One heat map per judged type (an unjudged type has no type median worth colouring by)."""
    return [draw_heat_map(j, index, directory) for index, j in enumerate(judgements) if j.judged and j.benchmarks]
