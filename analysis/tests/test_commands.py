"""commands.json, the one list of the analysis commands: cli.py and the C++ build read it, so its
format is fixed (an array of {"name", "module", "summary"} in --help order) and every module exists."""
from __future__ import annotations

import importlib
import json

import pytest

from ipcatlas_analysis import cli


def test_the_file_is_an_array_of_name_module_summary() -> None:
    entries = json.loads(cli.COMMANDS_FILE.read_text(encoding="utf-8"))
    assert isinstance(entries, list) and entries
    for entry in entries:
        assert list(entry) == ["name", "module", "summary"]
        assert all(isinstance(value, str) and value and "\n" not in value for value in entry.values())
    assert len({entry["name"] for entry in entries}) == len(entries)


@pytest.mark.parametrize("entry", cli.read_commands(), ids=lambda entry: entry["name"])
def test_every_module_exists_and_has_add_arguments_and_run(entry: dict[str, str]) -> None:
    module = importlib.import_module(f"ipcatlas_analysis.{entry['module']}")
    assert callable(module.add_arguments) and callable(module.run)
    assert not hasattr(module, "SUMMARY")  # the summary lives in commands.json only


def test_help_lists_the_commands_in_file_order_with_their_summaries(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps long lines
    positions = [text.index(" ".join(f"{entry['name']} {entry['summary']}".split()))
                 for entry in cli.read_commands()]
    assert positions == sorted(positions)
