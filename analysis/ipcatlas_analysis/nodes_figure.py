"""The heat map of `ipcatlas nodes`: one figure per judged hardware type, nodes x benchmarks,
colour = log(node / type median) with slower in red and faster in blue, centred on 0."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .figures import plain_text, save_figure
from .nodes import TypeJudgement
from .nodes_tables import short_labels

MAX_NODE_LABELS = 60  # more rows than this cannot carry a readable name each: outliers only
COLOUR_LIMIT = math.log(4.0)  # the colour saturates at 4x slower or faster: the scale stays readable
KIND = "nodes"


@dataclass(frozen=True)
class HeatMap:
    """One drawn heat map: its file and the nodes it marked as outliers."""

    path: Path  # the PNG; the SVG is next to it
    labelled_rows: bool  # False: too many nodes for a label per row (only outliers are named)
    outliers: list[str]


def heat_map_name(index: int) -> str:
    return f"nodes-type{index + 1}.png"


def draw_heat_map(judgement: TypeJudgement, index: int, directory: Path) -> HeatMap:
    """Draw and save one type's heat map (PNG and SVG) into `directory`."""
    nodes = [v.run.node for v in judgement.verdicts]
    outlier_rows = [row for row, v in enumerate(judgement.verdicts) if v.outlier]
    labelled = len(nodes) <= MAX_NODE_LABELS
    height = 2.5 + (0.22 * len(nodes) if labelled else 9.0)  # an image row per node needs no inch per node
    width = 3.5 + 0.45 * len(judgement.benchmarks)
    with plain_text():
        figure = Figure(figsize=(min(max(width, 7.0), 30.0), height))
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        data = np.clip(np.nan_to_num(judgement.slowness, nan=0.0), -COLOUR_LIMIT, COLOUR_LIMIT)
        image = axes.imshow(data, aspect="auto", interpolation="nearest", cmap="RdBu_r",
                            norm=TwoSlopeNorm(vcenter=0.0, vmin=-COLOUR_LIMIT, vmax=COLOUR_LIMIT))
        _label_axes(axes, judgement, nodes, outlier_rows, labelled)
        bar = figure.colorbar(image, ax=axes, fraction=0.04)
        ticks = [1 / 4, 1 / 2, 1, 2, 4]
        bar.set_ticks([math.log(t) for t in ticks], labels=[f"x{t:g}" if t >= 1 else f"x{1 / t:g} faster"
                                                            for t in ticks])
        bar.set_label("node / type median (red: slower)")
        marks = ("* and framed: outlier; dot: a deviating benchmark" if labelled else
                 f"* and arrow: outlier (only the {len(outlier_rows)} outliers are named)")
        axes.set_title(f"Type {index + 1}: {judgement.hardware.cpu_model}, {len(nodes)} nodes\n{marks}", fontsize=9)
        figure.tight_layout()
        path = directory / heat_map_name(index)
        save_figure(figure, path)
    return HeatMap(path, labelled, [nodes[row] for row in outlier_rows])


def _label_axes(axes: Axes, judgement: TypeJudgement, nodes: list[str], outlier_rows: list[int],
                labelled: bool) -> None:
    """Benchmarks along x; node names along y (only outliers' when there are too many);
    outliers marked with a black frame around their row."""
    columns = len(judgement.benchmarks)
    axes.set_xticks(range(columns), labels=short_labels([b.name for b in judgement.benchmarks]),
                    rotation=60, ha="right", fontsize=7)
    rows = range(len(nodes)) if labelled else outlier_rows
    axes.set_yticks(list(rows), labels=[nodes[row] + (" *" if row in outlier_rows else "") for row in rows],
                    fontsize=7)
    if labelled:  # a dot on each cell that counts as deviating (beyond every bar)
        rows_hit, columns_hit = np.nonzero(judgement.deviates)
        axes.scatter(columns_hit, rows_hit, s=6, color="black", marker="o", linewidths=0)
        for row in outlier_rows:
            axes.add_patch(Rectangle((-0.5, row - 0.5), columns, 1, fill=False, edgecolor="black", linewidth=1.2))
    else:  # a row is a pixel or less: a frame would hide it; a marker beside the map points at it instead
        axes.scatter([columns - 0.5 + 0.02 * columns] * len(outlier_rows), outlier_rows, marker="<", s=30,
                     color="black", clip_on=False)
        axes.set_xlim(-0.5, columns - 0.5)  # the markers sit outside the map, not in a widened one
    axes.set_xlabel("benchmark")
    axes.set_ylabel("node")
