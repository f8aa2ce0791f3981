"""inputs.py: peers overlaid where they can be compared, and through the commands."""
from __future__ import annotations

import json
from pathlib import Path

from ipcatlas_analysis.cli import main
from ipcatlas_analysis.inputs import read_inputs


def peer(inputs: Path, name: str) -> str:
    return str(inputs / "peers" / name)


def test_peers_join_every_group_of_their_scenario_and_direction(inputs: Path) -> None:
    rows = read_inputs([inputs / "stream_small.json", inputs / "pingpong_4mech.json"],
                       [peer(inputs, "osu_bw_5.8.txt"), peer(inputs, "osu_bibw_7.5_validation.txt"),
                        f"OpenMPI={peer(inputs, 'NPopenmpi.out')}"]).rows
    placed = rows[rows["mechanism"].str.startswith("peer:")].groupby("mechanism")[
        ["scenario", "placement", "wait", "variant"]].agg(lambda v: sorted(set(v)))
    assert placed.loc["peer:osu_bw"].tolist() == [["stream"], ["l3"], ["spin"], ["ranks:2/window:16/dir:uni"]]
    assert placed.loc["peer:OpenMPI"].tolist() == [["pingpong"], ["l3"], ["spin"], ["ranks:2"]]
    assert "peer:osu_bibw" not in placed.index  # the results have no bidirectional stream to compare with
    names = rows.loc[rows["mechanism"] == "peer:OpenMPI", "name"]
    assert names.is_unique and names.iloc[0] == "pingpong/peer:OpenMPI/size:1/ranks:2/placement:l3/wait:spin"


def test_no_peers_leaves_the_rows_alone(inputs: Path) -> None:
    rows = read_inputs([inputs / "pingpong_4mech.json"]).rows
    assert not rows["mechanism"].str.startswith("peer:").any()


def test_peers_in_thresholds_and_plots(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main(["report", str(inputs / "pingpong_4mech.json"), "--peer", f"OpenMPI={peer(inputs, 'NPopenmpi.out')}",
                 "--peer", peer(inputs, "ucx_tag_lat.csv"), "-o", str(out)]) == 0
    thresholds = json.loads((out / "thresholds.json").read_text())
    challengers = [c["challenger"] for c in thresholds["crossovers"]]
    assert challengers[-2:] == ["peer:OpenMPI", "peer:ucx_perftest tag_lat"]  # peers last
    assert all(not f["mechanism"].startswith("peer:") for f in thresholds["fastest"])
    assert "peer:OpenMPI" in (out / "thresholds.md").read_text()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status_counts"] == {"ok": 92, "failed": 0, "skipped": 0}  # peers are not benchmarks
