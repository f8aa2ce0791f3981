"""Collapse repetitions into one row per benchmark (a "cell" of the matrix).

Figures and thresholds work on cells: the median over a cell's ok repetitions,
which, unlike the mean, a few preempted repetitions do not drag.
"""
from __future__ import annotations

import pandas as pd

from .descriptors import LEGACY, Descriptors
from .load import FAILED, OK, SKIPPED, STATUSES, metric_columns, name_key_columns
from .schema import NOT_METRICS  # the drift canary: it measures the host, never a mechanism

BANDWIDTH = "bytes_per_second"
PREFERRED_TIME = "one_way_ns"


def cell_status(statuses: pd.Series) -> str:
    """Worst status over a cell's rows.

    One failed repetition (say a payload mismatch) makes the whole cell's numbers
    suspect, so the cell is failed. A skip is a property of the machine, so a
    cell with an ok row and a skipped one (two files from different hosts) is ok.
    """
    present = set(statuses)
    if FAILED in present:
        return FAILED
    return OK if OK in present else SKIPPED


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per benchmark name: its name keys, status, message, the number of
    ok repetitions ("repetitions") and the median of each metric over them.

    Rows with the same name in several files are pooled as repetitions, so pass
    one machine's files at a time. Metrics are NaN unless the cell is ok.
    """
    keys = name_key_columns(rows)
    metrics = measured_metrics(rows)
    records = []
    for name, group in rows.groupby("name", sort=True):
        status = cell_status(group["status"])
        ok = group[group["status"] == OK]
        first = group.iloc[0]
        record = {"name": name, "scenario": first["scenario"], "mechanism": first["mechanism"]}
        record.update({key: first[key] for key in keys})
        record.update(variant=first["variant"], status=status, message=_first_message(group, status),
                      repetitions=len(ok))
        record.update({m: ok[m].median() if status == OK and ok[m].notna().any() else float("nan")
                       for m in metrics})
        records.append(record)
    columns = ["name", "scenario", "mechanism", *keys, "variant", "status", "message", "repetitions", *metrics]
    cells = pd.DataFrame(records, columns=columns)
    return cells.astype({key: rows[key].dtype for key in keys})


def problems(rows: pd.DataFrame) -> pd.DataFrame:
    """The failed and skipped rows, one per (benchmark, status, message), with the
    files they came from; sorted so a listing reads mechanism by mechanism."""
    bad = rows[rows["status"] != OK]
    columns = ["name", "scenario", "mechanism", *name_key_columns(rows), "variant", "status", "message"]
    listing = bad.groupby(columns, sort=False, dropna=False)["file"].agg(lambda files: ", ".join(dict.fromkeys(files)))
    table = listing.reset_index().rename(columns={"file": "files"})
    return table.sort_values(["scenario", "mechanism", "variant", "size", "status"], kind="stable", ignore_index=True)


def metric_spread(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per benchmark name (the index, sorted): n, median, low and high of `metric` over its ok
    repetitions; n 0 and NaN where the cell is not ok (see cell_status) or has no value of it."""
    names = sorted(set(rows["name"]))
    usable = [name for name, statuses in rows.groupby("name")["status"] if cell_status(statuses) == OK]
    ok = rows[(rows["status"] == OK) & rows["name"].isin(usable)]
    if metric in ok:
        found = ok[ok[metric].notna()].groupby("name")[metric].agg(["size", "median", "min", "max"])
    else:
        found = pd.DataFrame(columns=["size", "median", "min", "max"], dtype=float)
    spread = found.set_axis(["n", "median", "low", "high"], axis=1).reindex(names)
    return spread.assign(n=spread["n"].fillna(0).astype(int))


def status_counts(cells: pd.DataFrame) -> dict[str, int]:
    """How many benchmarks ended ok, failed or skipped (every status present, even at 0)."""
    counts = cells["status"].value_counts()
    return {status: int(counts.get(status, 0)) for status in STATUSES}


def ok_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells that may produce numbers: ok and with a known size."""
    return cells[(cells["status"] == OK) & cells["size"].notna()]


def measured_metrics(table: pd.DataFrame) -> list[str]:
    """The metric columns of a table, without those that measure the host (NOT_METRICS)."""
    return [m for m in metric_columns(table) if m not in NOT_METRICS]


def time_metric(table: pd.DataFrame, descriptors: Descriptors = LEGACY) -> str | None:
    """The primary metric of the table's scenario (the first, sorted, if it mixes several), as
    the runs' descriptors declare it; None when the table has no value of it (a bandwidth-only
    benchmark). Never guessed from the columns: their order says nothing (alltoall's
    fastest_rank_ns sorts before its round_ns, and the round is what a user waits for)."""
    scenarios = sorted(str(s) for s in table["scenario"].dropna().unique()) if "scenario" in table else []
    if not scenarios:
        return None
    metric = descriptors.primary_metric(scenarios[0])
    return metric if metric is not None and metric in table and table[metric].notna().any() else None


def _first_message(group: pd.DataFrame, status: str) -> str:
    messages = [m for m in group.loc[group["status"] == status, "message"] if m]
    return str(messages[0]) if messages else ""
