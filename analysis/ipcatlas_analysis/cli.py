"""The analysis half of the `ipcatlas` command: plot, thresholds, compare, history, report.

The C++ binary hands these subcommands to `python -m ipcatlas_analysis COMMAND ...`
(see harness/analysis_command.cpp), so users learn one tool. Each command is a
module with three names:

    SUMMARY: str                                   one line for `ipcatlas --help`
    add_arguments(parser: ArgumentParser) -> None  its options; --help must explain them
    run(args: Namespace) -> int                    the exit status

Exit statuses are the same for every command: 0 done, 1 done but the data
says something is wrong (a failed benchmark, a regression), 2 bad input.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

import pandas as pd

from .load import FAILED, ResultFileError
from .safe_output import OutputError

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_BAD_INPUT = 2

# Subcommand -> module, in the order `--help` lists them.
COMMANDS = {
    "plot": "plot_command",
    "thresholds": "thresholds_command",
    "compare": "compare",
    "history": "history_command",
    "report": "report",
}


def exit_for_failures(problems: pd.DataFrame, command: str, consequence: str) -> int:
    """EXIT_FINDING, with one line on stderr, when the input holds a failed benchmark
    (skips are a property of the machine, not a finding); else EXIT_OK."""
    failed = int((problems["status"] == FAILED).sum()) if not problems.empty else 0
    if failed:
        print(f"ipcatlas {command}: {failed} benchmark(s) failed; {consequence}", file=sys.stderr)
    return EXIT_FINDING if failed else EXIT_OK


def command_module(name: str) -> ModuleType:
    """The module that implements one subcommand."""
    return importlib.import_module(f".{COMMANDS[name]}", __package__)


def build_parser(prog: str = "ipcatlas") -> argparse.ArgumentParser:
    """The parser for every analysis subcommand."""
    parser = argparse.ArgumentParser(
        prog=prog, description="Analyse ipcatlas result files (Google Benchmark JSON from `ipcatlas run --out`).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = command_module(name)
        sub = commands.add_parser(name, help=module.SUMMARY, description=module.SUMMARY,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "ipcatlas") -> int:
    """Parse and run one subcommand; bad input files end with one line on stderr and exit 2."""
    args = build_parser(prog).parse_args(argv)
    try:
        status: int = args.run(args)
        return status
    except ResultFileError as error:
        print(f"{prog} {args.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OutputError as error:
        print(f"{prog} {args.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
