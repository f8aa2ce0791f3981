"""Nasty values and hostile files for the argument fuzzer (fuzz_argv.py).

Every case gets its own sandbox directory. The binary runs with the sandbox's
cwd/ as its working directory, so relative nasty values ('../', '$x^$', '-1')
land inside the sandbox too: tests run as root, and no case may name an
output outside it. The victim file is only reachable through symlinks; its
content must be unchanged after every case."""
from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

LONG = "x" * 10_000
# Values that have broken argument parsers before: empty, signs, overflow of
# int32 and int64, IEEE specials, hex, non-ASCII digits, format strings,
# regex and shell metacharacters, a parent directory, separators alone.
NASTY: tuple[str, ...] = ("", "-1", "0", "2147483647", "9223372036854775808", "nan", "inf", "-inf", "1e999",
                          "0x10", "١٢", LONG, "$x^$", "%s%n", "../", ",", "1,,2", " 1", "-")
ALL_NASTY = frozenset(NASTY)
# Nasty values that are no number at all (nor a list of numbers).
NOT_A_NUMBER = frozenset({"", "nan", "inf", "-inf", "1e999", "١٢", LONG, "$x^$", "%s%n", "../", ",", "1,,2", "-"})
# ...nor an integer that fits an int32 and is not negative.
NOT_AN_INT = NOT_A_NUMBER | {"-1", "9223372036854775808", "1,,2"}
VICTIM_TEXT = "victim: must never change\n"
PRIOR_RESULTS = '{"context": {"date": "2000-01-01"}, "benchmarks": []}\n'


@dataclass
class Sandbox:
    """One case's directory: the hostile files and the working directory of the binary."""

    root: Path
    cwd: Path = field(init=False)
    victim: Path = field(init=False)
    fifo: Path = field(init=False)
    link: Path = field(init=False)
    directory: Path = field(init=False)
    plain: Path = field(init=False)

    def __post_init__(self) -> None:
        self.cwd = self.root / "cwd"
        self.victim = self.root / "victim.txt"
        self.fifo = self.root / "fifo"
        self.link = self.root / "link-to-victim"
        self.directory = self.root / "dir"
        self.plain = self.root / "plain.txt"
        self.cwd.mkdir(parents=True)
        self.directory.mkdir()
        self.victim.write_text(VICTIM_TEXT)
        self.plain.write_text("a regular file\n")
        os.mkfifo(self.fifo)
        self.link.symlink_to(self.victim)

    def hostile_link(self, path: Path, case: Case) -> None:
        """Plant a symlink to the victim at `path` (e.g. OUT.tmp, DIR/report.html)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_symlink():
            path.symlink_to(self.victim)
            case.planted.append(f"{path.relative_to(self.root)} -> victim")


@dataclass
class Case:
    """One argument vector and what its run must satisfy."""

    seed: int
    argv: list[str]
    # Values in argv that make it bad input: exit 2 with one line is required.
    bad_values: list[str] = field(default_factory=list)
    # Files that, if they exist afterwards, must be complete JSON (never truncated).
    json_outputs: list[Path] = field(default_factory=list)
    send_signal: int = 0  # sent at signal_delay seconds after the start; 0: none
    signal_delay: float = 0.0
    help_asked: bool = False
    planted: list[str] = field(default_factory=list)  # hostile files made for this case, for its report

    @property
    def command(self) -> str:
        return self.argv[0] if self.argv else ""


def pick_output_file(rng: random.Random, box: Sandbox, case: Case, suffix: str = ".json") -> str:
    """An output FILE inside the sandbox, sometimes a hostile one."""
    fresh = box.cwd / f"out{suffix}"
    choice = rng.randrange(12)
    if choice == 0:
        case.bad_values.append(str(box.link))  # writing through it would change the victim
        return str(box.link)
    if choice == 1:
        case.bad_values.append(str(box.fifo))  # opening it for writing blocks without a reader
        return str(box.fifo)
    if choice == 2:
        case.bad_values.append(str(box.directory))
        return str(box.directory)
    if choice == 3:  # a symlink where the temporary file goes, to the victim
        box.hostile_link(Path(f"{fresh}.tmp"), case)
    elif choice == 4 and case.command == "run":  # the topology beside run results (x.json -> x.topology.xml)
        box.hostile_link(fresh.with_name("out.topology.xml"), case)
    elif choice == 5:  # an earlier result: it may be replaced, never truncated
        fresh.write_text(PRIOR_RESULTS)
        case.planted.append(f"{fresh.relative_to(box.root)}: an earlier result")
    elif choice == 6:
        fresh = box.cwd / "new" / "sub" / f"out{suffix}"
    elif choice == 7:
        value = rng.choice(NASTY)
        if value in ("", LONG, "../", "-"):
            case.bad_values.append(value)
        return value
    if suffix == ".json":
        case.json_outputs.append(fresh)
    return str(fresh)


# Files the analysis commands write into their -o DIR; a hostile DIR has them as symlinks.
DIR_OUTPUTS = ("report.html", "thresholds.md", "thresholds.json", "summary.json", "history.json", "history.html",
               "nodes.md", "nodes.json")


def pick_output_dir(rng: random.Random, box: Sandbox, case: Case) -> str:
    """An output DIR inside the sandbox, sometimes a hostile one."""
    choice = rng.randrange(9)
    if choice == 0:
        case.bad_values.append(str(box.link))  # a symlink to a regular file is no directory
        return str(box.link)
    if choice == 1:
        case.bad_values.append(str(box.fifo))
        return str(box.fifo)
    if choice == 2:
        case.bad_values.append(str(box.plain))
        return str(box.plain)
    if choice == 3:  # every output name already a symlink to the victim, and their .tmp too
        for name in DIR_OUTPUTS:
            box.hostile_link(box.directory / name, case)
            box.hostile_link(box.directory / f"{name}.tmp", case)
        del case.planted[-2 * len(DIR_OUTPUTS):]
        case.planted.append(f"dir/{{{','.join(DIR_OUTPUTS)}}}[.tmp] -> victim")
        return str(box.directory)
    if choice == 4:
        return str(box.cwd / "a" / "b" / "c")
    if choice == 5:
        return rng.choice(("", "-1", "$x^$", "%s%n", "١٢"))
    return str(box.cwd / "out")


def snapshot(root: Path) -> dict[str, tuple[str, str]]:
    """Every node under root before a case: relative path -> (kind, link target or content).
    A regular file's content is kept only for the victim; others may be replaced."""
    nodes: dict[str, tuple[str, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            nodes[str(path.relative_to(root))] = describe_node(path, root)
    return nodes


def describe_node(path: Path, root: Path) -> tuple[str, str]:
    """(kind, detail) of one node, without following symlinks."""
    if path.is_symlink():
        return "symlink", os.readlink(path)
    if path.is_fifo():
        return "fifo", ""
    if path.is_dir():
        return "directory", ""
    if not path.exists():
        return "absent", ""
    content = path.read_text(errors="replace") if path == root / "victim.txt" else ""
    return "file", content


def damage(root: Path, before: dict[str, tuple[str, str]]) -> list[str]:
    """Pre-existing nodes that were replaced (a symlink, fifo or directory that is no
    longer one) and the victim if its content changed."""
    problems = []
    for relative, (kind, detail) in before.items():
        now = describe_node(root / relative, root)
        if kind == "file" and now[0] == "file" and now[1] == detail:
            continue
        if kind == "file" and relative != "victim.txt" and now[0] == "file":
            continue  # an ordinary earlier output may be overwritten
        if kind == "symlink" and relative.endswith(".tmp") and now[0] == "absent":
            continue  # removing a stale temporary name is fine; following it is not
        if (kind, detail) != now:
            problems.append(f"{relative}: was {kind}{' -> ' + detail if kind == 'symlink' else ''}, now {now[0]}"
                            + (" with changed content" if relative == "victim.txt" else ""))
    return problems
