"""The cost of segmentation (`ipcatlas run --segments N`): a mechanism's time at N segments
against its time for the same contiguous message (N = 1), per message size.

A run measures one segment count; the user runs `--segments 1` and `--segments 16` (say) into
two files and passes both to `ipcatlas plot`. Names carry `segments:N` only when N > 1, so
load.py reads an absent key as 1 once any file has it; the variant (and so every figure line,
crossover and comparison) keeps the counts apart, and this figure is where they meet.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .cells import ok_cells, time_metric
from .figures import FigureGroup, legend_outside, log_y, save_figure, slug
from .plots import _VARIANT_STYLES, DrawnFigure, Kind, PlotData, _new_figure, _style_size_axes, footnote_lines

SEGMENTS = "segments"
RATIO = "segmentation_ratio"


def without_segments(variant: str) -> str:
    """The variant minus its segments:N part: what the counts of one comparison share."""
    return "/".join(part for part in variant.split("/") if part and not part.startswith(f"{SEGMENTS}:"))


def segmentation_groups(cells: pd.DataFrame) -> list[tuple[FigureGroup, str]]:
    """(group, variant without segments) measured contiguous (N = 1) and at another count."""
    if SEGMENTS not in cells:
        return []
    ok = ok_cells(cells)
    found = []
    for key, rows in ok.groupby(["scenario", "placement", "wait"], sort=True):
        others = rows["variant"].map(without_segments)
        for variant in sorted(set(others)):
            counts = set(rows.loc[others == variant, SEGMENTS].dropna().astype(int))
            if 1 in counts and len(counts) > 1:
                found.append((FigureGroup(*key), variant))
    return found


def segmentation_ratios(cells: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per (mechanism, segments > 1, size): the time at N over the time at 1 (medians over
    repetitions); sizes measured at only one of the two are left out."""
    keyed = cells.assign(**{SEGMENTS: cells[SEGMENTS].astype(int)})
    contiguous = keyed[keyed[SEGMENTS] == 1].set_index(["mechanism", "size"])[metric]
    segmented = keyed[keyed[SEGMENTS] > 1]
    pairs = zip(segmented["mechanism"], segmented["size"])
    base = pd.Series([contiguous.get(pair, float("nan")) for pair in pairs], index=segmented.index, dtype=float)
    ratios = segmented.assign(**{RATIO: segmented[metric] / base.where(base > 0)})
    return ratios[ratios[RATIO].notna()][["mechanism", SEGMENTS, "size", RATIO]]


def plot_segmentation(data: PlotData, group: FigureGroup, variant: str, path: Path) -> DrawnFigure | None:
    """One line per (mechanism, N): time at N segments / time at 1, against message size."""
    cells = ok_cells(group.select(data.cells))
    cells = cells[cells["variant"].map(without_segments) == variant]
    metric = time_metric(cells, data.descriptors)
    if metric is None:
        return None
    ratios = segmentation_ratios(cells, metric)
    if ratios.empty:
        return None
    note = (f"Lines: {metric} at N segments / {metric} of the same contiguous message (N = 1), medians over "
            "repetitions;\n1 = segmentation costs nothing, 2 = it doubles the time. Segments are separated by "
            "64-byte gaps; one colour per mechanism, one line style per N.")
    not_plotted = footnote_lines(data.problems, group)
    figure, axes = _new_figure(note, not_plotted)
    counts = sorted(set(ratios[SEGMENTS]))
    lines = []
    for (mechanism, count), series in ratios.groupby(["mechanism", SEGMENTS], sort=True):
        series = series.sort_values("size")
        label = f"{mechanism} N={count}"
        axes.plot(series["size"].astype(float), series[RATIO], _VARIANT_STYLES[counts.index(count) % 4],
                  marker="o", markersize=3, color=data.colors[mechanism], label=label)
        lines.append(label)
    axes.axhline(1.0, color="black", linewidth=0.8, alpha=0.5)
    kind = Kind("segmentation", RATIO, f"time at N segments / time at 1 ({metric}, log scale)",
                "", "", None)
    title = (f"{group.scenario}: cost of segmentation{' (' + variant + ')' if variant else ''}\n"
             f"placement {group.placement or 'any'}, wait {group.wait or 'any'}")
    _style_size_axes(axes, ratios, kind, title)
    log_y(axes, ratios[RATIO], lambda value: f"{value:g}x")
    legend_outside(axes)
    save_figure(figure, path)
    return DrawnFigure(path, "segmentation", lines, {}, [], not_plotted)


def draw_segmentation(data: PlotData, out: Path) -> list[DrawnFigure]:
    """Every segmentation figure the data supports: segmentation-SCENARIO-PLACEMENT-WAIT[-VARIANT].png."""
    drawn = []
    for group, variant in segmentation_groups(data.cells):
        name = f"segmentation-{group.slug()}" + (f"-{slug(variant)}" if variant else "")
        figure = plot_segmentation(data, group, variant, out / f"{name}.png")
        if figure is not None:
            drawn.append(figure)
    return drawn
