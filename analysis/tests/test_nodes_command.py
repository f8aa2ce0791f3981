"""`ipcatlas nodes` and the report's Nodes section: outputs, exit statuses, refusals."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ipcatlas_analysis.cli import EXIT_BAD_INPUT, EXIT_FINDING, EXIT_OK, build_parser, main
from ipcatlas_analysis import report
from ipcatlas_analysis.report import write_report
from nodes_fixtures import SLOWDOWN, write_nodes


def nodes(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(["nodes", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_outputs_are_written_and_the_markdown_is_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = write_nodes(tmp_path, {3: SLOWDOWN})
    out = tmp_path / "out"
    status, stdout, _ = nodes([*map(str, paths), "-o", str(out)], capsys)
    assert status == EXIT_OK  # an outlier is a finding only with --fail-on-outlier
    assert sorted(p.name for p in out.iterdir()) == ["nodes-type1.png", "nodes-type1.svg", "nodes.json", "nodes.md"]
    assert stdout == (out / "nodes.md").read_text(encoding="utf-8")
    assert "outliers: node3." in stdout and "| node3 | 16 |" in stdout and "OUTLIER: slower" in stdout
    document = json.loads((out / "nodes.json").read_text(encoding="utf-8"))
    assert document["outliers"] == ["node3"] and document["thresholds"]["min_factor"] == 1.25
    [kind] = document["types"]
    assert kind["judged"] and [n["node"] for n in kind["nodes"]] == [f"node{i}" for i in range(1, 6)]
    node3 = kind["nodes"][2]
    assert node3["outlier"] and node3["direction"] == "slower" and len(node3["log_slowness"]) == 16
    assert all(b["metric"] == "one_way_ns" and b["nodes"] == 5 for b in kind["benchmarks"])


@pytest.mark.parametrize(("factors", "flag", "expected"), [
    ({3: SLOWDOWN}, True, EXIT_FINDING), ({}, True, EXIT_OK), ({3: SLOWDOWN}, False, EXIT_OK),
    ({2: 1 / SLOWDOWN}, True, EXIT_FINDING)])
def test_fail_on_outlier_exits_1_only_with_an_outlier(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      factors: dict[int, float], flag: bool, expected: int) -> None:
    paths = write_nodes(tmp_path, factors)
    status, _, err = nodes([*map(str, paths), "-o", str(tmp_path / "out"), *(["--fail-on-outlier"] * flag)], capsys)
    assert status == expected
    assert ("outlier node(s): node" in err) == (expected == EXIT_FINDING)


def test_two_files_of_one_node_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = write_nodes(tmp_path, contexts={4: {"slurm_node": "node2"}})
    status, stdout, err = nodes([*map(str, paths), "-o", str(tmp_path / "out")], capsys)
    assert status == EXIT_BAD_INPUT and stdout == ""
    assert f"{paths[1]} and {paths[3]} are both from node node2" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_another_type_gets_its_own_table_and_is_not_judged(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    paths = write_nodes(tmp_path, {5: SLOWDOWN}, {5: {"cpu_model": "Intel Xeon"}})
    status, stdout, _ = nodes([*map(str, paths), "-o", str(tmp_path / "out"), "--fail-on-outlier"], capsys)
    assert status == EXIT_OK
    assert "## Type 1: AMD EPYC (4 nodes)" in stdout and "## Type 2: Intel Xeon (1 node)" in stdout
    assert "Not judged: 1 node(s) of this type, fewer than 3" in stdout
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == ["nodes-type1.png"]


@pytest.mark.parametrize("kind", ["symlink", "fifo", "dir"])
def test_a_non_regular_output_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], victim: Path,
                                         hostile: Callable[[str, Path], Path], kind: str) -> None:
    paths = write_nodes(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    hostile(kind, out / "nodes.md")
    status, _, err = nodes([*map(str, paths), "-o", str(out)], capsys)
    assert status == EXIT_BAD_INPUT and "nodes.md: refusing to write" in err
    assert victim.read_text() == "precious\n" and not (out / "nodes.json").exists()


def test_help_explains_how_to_read_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["nodes", "--help"])
    text = capsys.readouterr().out
    for needle in ("how to read it:", "OUTLIER", "--fail-on-outlier", "--out results/cluster/%j/%n.json",
                   "ipcatlas nodes results/cluster/123/*.json -o results/cluster/123/nodes"):
        assert needle in text, needle


def test_the_report_has_a_nodes_section_for_several_nodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The size figures and the canary figure are the report's, tested elsewhere: skipped here for time.
    monkeypatch.setattr(report, "draw_figures", lambda *_args: [])
    monkeypatch.setattr(report, "draw_canary", lambda *_args: ([], None))
    paths = write_nodes(tmp_path, {3: SLOWDOWN})
    write_report(paths, tmp_path / "report")
    page = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert '<h2 id="nodes">Nodes</h2>' in page and "OUTLIER: slower" in page and "nodes-type1.png" in page
    summary = json.loads((tmp_path / "report" / "summary.json").read_text(encoding="utf-8"))
    assert summary["nodes"] == {"outliers": ["node3"], "heat_maps": ["nodes-type1.png"]}
    # Its thresholds are the type's, with their spread across the nodes, as `thresholds` gives them.
    assert "## Across 5 nodes of type AMD EPYC" in (tmp_path / "report" / "thresholds.md").read_text(encoding="utf-8")
    assert "nodes" in json.loads((tmp_path / "report" / "thresholds.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("contexts", "message"), [
    ({2: {"slurm_node": "node1"}}, "are both from node node1"),
    ({2: {"cpu_model": "Intel Xeon"}}, "the files come from 2 hardware types"),
])
def test_the_report_refuses_what_thresholds_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    contexts: dict[int, dict[str, str]], message: str) -> None:
    # Settings hold per hardware type and need one file per node: a report of such files would
    # pool what must not be pooled. `ipcatlas nodes` is what compares several types.
    paths = write_nodes(tmp_path, contexts=contexts)
    status = main(["report", *map(str, paths), "-o", str(tmp_path / "report")])
    assert status == EXIT_BAD_INPUT
    assert message in capsys.readouterr().err
    assert not (tmp_path / "report").exists()
