"""The "Nodes" section of `ipcatlas report` when its inputs come from several nodes: the tables
and heat maps of `ipcatlas nodes`, in the report's HTML."""
from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .nodes import Thresholds, judge
from .nodes_command import draw_heat_maps
from .nodes_figure import heat_map_name
from .nodes_load import read_samples
from .nodes_tables import benchmark_table, how_to_read, node_table, type_description, type_title
from .page import figure
from .plots import DrawnFigure
from .tables import to_html

KIND = "nodes"


@dataclass(frozen=True)
class NodeSection:
    """The section's HTML, and the heat maps it drew (in the directory it was given)."""

    html: list[str]
    heat_maps: list[Path]
    outliers: list[str]


def node_section(results: Sequence[Path], directory: Path) -> NodeSection:
    """Judge the nodes and draw their heat maps into `directory`. The report has refused two
    files of one node already (its thresholds need one file per node, as `thresholds` does)."""
    bars = Thresholds()
    judgements = judge(read_samples(results), bars)
    maps = draw_heat_maps(judgements, directory)
    by_type = {m.path.name: m for m in maps}
    parts = ["<h2 id=\"nodes\">Nodes</h2>", f"<p class=\"note\">{html.escape(how_to_read(bars))}</p>"]
    for index, judgement in enumerate(judgements):
        parts += [f"<h3>{html.escape(type_title(index, judgement))}</h3>",
                  f"<p>{html.escape(type_description(judgement, bars))}</p>",
                  to_html(node_table(judgement), level=4), to_html(benchmark_table(judgement), level=4)]
        drawn = by_type.get(heat_map_name(index))
        if drawn is not None:
            parts.append(figure(DrawnFigure(drawn.path, KIND, [], {}, [], [])))
    outliers = [v.run.node for j in judgements for v in j.outliers]
    return NodeSection(parts, [m.path for m in maps], outliers)
