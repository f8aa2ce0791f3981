"""What plot, thresholds and report read: result files, plus imported peers.

Peers (NetPIPE, ucx_perftest, OSU output; see peers.py) carry no placement or
wait policy, so each of their rows is copied into every (placement, wait,
variant) of the same scenario in the results: a user sees what their MPI or
UCX gets next to every raw mechanism, and thresholds compare them there.
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import options
from .load import load_context, load_results
from .peers import read_peers

PEER_HELP = ("overlay a peer tool's results: NetPIPE np.out, ucx_perftest -v CSV, or an OSU latency/bandwidth "
             "table (format detected); LABEL names the line (default: from the tool). Repeatable")


@dataclass(frozen=True)
class Inputs:
    """The rows to analyse and each result file's run context."""

    rows: pd.DataFrame  # load_results() rows, plus overlaid peer rows
    contexts: dict[str, dict[str, Any]]  # file name -> its context


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """RUN.json... and --peer, shared by plot, thresholds and report."""
    parser.add_argument("results", nargs="+", type=options.path, metavar="RUN.json",
                        help="ipcatlas result files (`ipcatlas run --out FILE`); several files are pooled: the "
                             "same benchmark name in two files counts as more repetitions")
    parser.add_argument("--peer", action="append", default=[], type=options.nonempty, metavar="[LABEL=]FILE",
                        help=PEER_HELP)


def read_inputs(results: Sequence[Path], peers: Sequence[str] = ()) -> Inputs:
    """Load the result files and the peers. Raises load.ResultFileError naming a bad file."""
    rows = load_results(results)
    contexts = {str(path): load_context(path) for path in results}
    if peers:
        rows = overlay_peers(rows, read_peers(peers))
    return Inputs(rows, contexts)


def overlay_peers(rows: pd.DataFrame, peer_rows: pd.DataFrame) -> pd.DataFrame:
    """Copy each peer row into every (placement, wait, variant) of its scenario in `rows`;
    peer rows of a scenario the results lack are dropped (there is nothing to compare with)."""
    copies = []
    groups = rows[["scenario", "placement", "wait", "variant"]].drop_duplicates()
    for group in groups.itertuples(index=False):
        mine = peer_rows[(peer_rows["scenario"] == group.scenario) & _same_direction(peer_rows, group.variant)]
        if mine.empty:
            continue
        copy = mine.assign(placement=group.placement, wait=group.wait, variant=group.variant)
        copy["name"] = [_peer_name(r, group.variant) for r in copy.itertuples(index=False)]
        copies.append(copy)
    if not copies:
        return rows
    merged = pd.concat([rows, *copies], ignore_index=True)
    return merged.astype({"size": "Int64"})


def _same_direction(peer_rows: pd.DataFrame, variant: str) -> pd.Series:
    """Peer rows whose "dir" (uni or bi, streams only) matches the variant's, or that have none:
    osu_bibw belongs next to `stream --bidirectional`, not next to one-way streams."""
    ours = dict(part.partition(":")[::2] for part in variant.split("/") if part).get("dir", "")
    if "dir" not in peer_rows:
        return pd.Series(True, index=peer_rows.index)
    theirs = peer_rows["dir"].fillna("").astype(str)
    return (theirs == "") | (theirs == ours)


def _peer_name(row: Any, variant: str) -> str:
    parts = [row.scenario, row.mechanism, f"size:{int(row.size)}"]
    parts += [p for p in variant.split("/") if p]
    parts += [f"placement:{row.placement}", f"wait:{row.wait}"]
    return "/".join(parts)
