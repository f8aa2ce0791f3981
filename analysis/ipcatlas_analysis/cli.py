"""The analysis half of the `ipcatlas` command: plot, thresholds, compare, history, report.

The C++ binary hands these subcommands to `python -m ipcatlas_analysis COMMAND ...`
(see harness/app/analysis_command.cpp), so users learn one tool. commands.json, next
to this module, lists them once, in the order `--help` shows them: a JSON array of
{"name": ..., "module": ..., "summary": ...}, the summary being the one line of
`ipcatlas --help` (the C++ build reads the same file for its own list). Each
command's module has two names:

    add_arguments(parser: ArgumentParser) -> None  its options; --help must explain them
    run(args: Namespace) -> int                    the exit status

Exit statuses are the same for every command: 0 done, 1 done but the data
says something is wrong (a failed benchmark, a regression), 2 bad input or an
output that cannot be written, 3 an internal error (a bug), 4 a CI gate
(--fail-on-regression of compare and history) that the data cannot decide
(too few benchmarks and repetitions: never reported as passed), 130
interrupted, 141 stdout closed early.
"""
from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pandas as pd

from .load import FAILED, ResultFileError
from .safe_output import OutputError

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3  # a bug: an exception no check foresaw
EXIT_UNDECIDED = 4  # a CI gate the repetitions and benchmarks cannot decide: not a pass, not a regression
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as for a C tool whose reader went away

COMMANDS_FILE = Path(__file__).with_name("commands.json")


def read_commands(path: Path = COMMANDS_FILE) -> list[dict[str, str]]:
    """The entries of commands.json, in `--help` order."""
    entries: list[dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    return entries


# Subcommand -> module, and subcommand -> its line in `--help`, in the order `--help` lists them.
_ENTRIES = read_commands()
COMMANDS = {entry["name"]: entry["module"] for entry in _ENTRIES}
SUMMARIES = {entry["name"]: entry["summary"] for entry in _ENTRIES}


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


class OneLineErrorParser(argparse.ArgumentParser):
    """Bad input is one line naming what is wrong, as everywhere in ipcatlas,
    not argparse's usage dump: `ipcatlas plot: error: ... (see 'ipcatlas plot --help')`."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see '{self.prog} --help')", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def build_parser(prog: str = "ipcatlas") -> argparse.ArgumentParser:
    """The parser for every analysis subcommand."""
    parser = OneLineErrorParser(
        prog=prog, description="Analyse ipcatlas result files (Google Benchmark JSON from `ipcatlas run --out`).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=OneLineErrorParser)
    for name in COMMANDS:
        module = command_module(name)
        sub = commands.add_parser(name, help=SUMMARIES[name], description=SUMMARIES[name],
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "ipcatlas") -> int:
    """Parse and run one subcommand. Every failure ends with one line on stderr, never a traceback:
    bad input files and outputs exit 2; Ctrl-C exits 130 and a closed stdout (`| head`) 141,
    quietly; anything else is a bug, reported in one line with exit 3 (IPCATLAS_DEBUG=1 re-raises)."""
    command = next((word for word in (sys.argv[1:] if argv is None else argv) if word in COMMANDS), "")
    try:
        return _parse_and_run(argv, prog)
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as error:  # the last resort: the failures we know of are handled in _parse_and_run
        if os.environ.get("IPCATLAS_DEBUG") == "1":
            raise
        _error(f"{prog} {command}: internal error: {type(error).__name__}: {error} (a bug in ipcatlas: please "
               "report it with the command line; IPCATLAS_DEBUG=1 shows where it happened)")
        return EXIT_INTERNAL


def _parse_and_run(argv: Sequence[str] | None, prog: str) -> int:
    try:
        return _run(build_parser(prog).parse_args(argv), prog)
    finally:
        # Inside the try of main(): a reader gone from a pipe shows here, not at interpreter exit.
        sys.stdout.flush()


def _run(args: argparse.Namespace, prog: str) -> int:
    try:
        status: int = args.run(args)
        return status
    except (ResultFileError, OutputError) as error:
        _error(f"{prog} {args.command}: error: {error}")
        return EXIT_BAD_INPUT


def one_line(text: str) -> str:
    """Text from input files (names, paths) made safe for a terminal: no line breaks, no
    control characters (escape sequences), each shown escaped instead."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _error(text: str) -> None:
    print(one_line(text), file=sys.stderr)


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so that Python's own flush at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # stdout is not a file (a test's capture): nothing will flush it at exit
