"""options.py: every numeric option is checked the same way by every command that has it."""
from __future__ import annotations

from pathlib import Path

import pytest

from ipcatlas_analysis.cli import main
from ipcatlas_analysis.units import parse_count, parse_size

# The arguments each command needs besides the option under test (never read: parsing fails first).
COMMANDS = {
    "plot": ["plot", "r.json", "-o", "d"],
    "thresholds": ["thresholds", "r.json"],
    "report": ["report", "r.json", "-o", "d"],
    "compare": ["compare", "a.json", "b.json"],
    "history": ["history", "a.json", "b.json", "-o", "d"],
}
PERCENT_OPTIONS = [("compare", "--fail-on-regression"), ("compare", "--threshold"), ("history", "--threshold")]


def parse_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one error line argparse prints, after checking it exits 2."""
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize("value", ["5", "-1", "nan", "inf", "-inf", "0", "1", "abc", ""])
@pytest.mark.parametrize("command", COMMANDS)
def test_alpha_must_be_a_probability(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch, command: str, value: str) -> None:
    monkeypatch.chdir(tmp_path)
    error = parse_error([*COMMANDS[command], f"--alpha={value}"], capsys)
    assert error.startswith(f"ipcatlas {command}: error: argument --alpha: '{value}' is not"), error
    assert "0 < A < 1" in error or "number" in error
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "-0.5%", "x"])
@pytest.mark.parametrize(("command", "option"), PERCENT_OPTIONS)
def test_percentages_must_be_finite_and_not_negative(capsys: pytest.CaptureFixture[str], command: str, option: str,
                                                     value: str) -> None:
    error = parse_error([*COMMANDS[command], f"{option}={value}"], capsys)
    assert error.startswith(f"ipcatlas {command}: error: argument {option}: '{value}' is not"), error


@pytest.mark.parametrize("value", ["0", "5", "5%", "2000"])
def test_percentages_accept_finite_values(capsys: pytest.CaptureFixture[str], value: str) -> None:
    # The inputs do not exist, so a valid option gets as far as reading them: exit 2 naming the file.
    assert main([*COMMANDS["compare"], "--fail-on-regression", value]) == 2
    assert "a.json" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["١٢٣", "²", "9" * 30, "64KB", "-1", "1" + "0" * 19])
def test_history_sizes_are_ascii_numbers_that_fit(capsys: pytest.CaptureFixture[str], value: str) -> None:
    error = parse_error([*COMMANDS["history"], "--sizes", f"8,{value}"], capsys)
    assert error.startswith("ipcatlas history: error: argument --sizes: "), error


def test_parse_count_and_size() -> None:
    assert parse_count("9223372036854775807") == 2 ** 63 - 1
    assert parse_size("8G") == 8 << 30
    for bad in ("9223372036854775808", "١٢٣", "-1", " 1", "1.0"):
        with pytest.raises(ValueError):
            parse_count(bad)
    with pytest.raises(ValueError, match="too large"):
        parse_size("9223372036854775807K")
