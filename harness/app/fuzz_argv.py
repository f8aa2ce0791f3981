"""Seeded random argument vectors over every ipcatlas subcommand's real options.

The option tables below are copied from harness/app/cli.cpp (list, doctor, run)
and from the argparse parsers in analysis/ipcatlas_analysis (plot,
thresholds, compare, history, nodes, report); when an option is added there, add it
here. Each option lists values that keep a vector valid (and a run tiny) and
the nasty values (fuzz_values.NASTY) it must refuse with exit 2.

Work stays bounded: a valid `run` measures at most a few tiny benchmarks
(small mechanisms and sizes, --benchmark_min_time=0.001, a short watchdog),
because every option the case does not fuzz gets a small guard value."""
from __future__ import annotations

import random
import signal
from dataclasses import dataclass
from typing import Literal

from fuzz_inputs import AnalysisInputs
from fuzz_values import ALL_NASTY, NASTY, NOT_A_NUMBER, NOT_AN_INT, Case, Sandbox, pick_output_dir, pick_output_file

Kind = Literal["flag", "value", "file_out", "dir_out", "results", "peer", "topology"]


@dataclass(frozen=True)
class Opt:
    name: str
    kind: Kind = "value"
    valid: tuple[str, ...] = ()
    bad: frozenset[str] = frozenset()  # nasty values this option must refuse (exit 2)


def flag(name: str) -> Opt:
    return Opt(name, "flag")


HELP = (flag("--help"), flag("-h"))
LIST = (flag("--json"), flag("--placements"), Opt("--topology", "topology"),
        Opt("--ranks", valid=("2", "4", "8"), bad=NOT_AN_INT))
DOCTOR = (flag("--json"), Opt("--cpus", valid=("0,1", "0", "1"), bad=ALL_NASTY - {"0"}))
RUN = (
    Opt("--mechanisms", valid=("shm", "pipe", "zerocopy", "shm,pipe", "zerocopy,shm", "ptrace"),
        bad=ALL_NASTY),
    Opt("--scenario", valid=("pingpong", "stream", "alltoall", "manytoone", "onetomany"), bad=ALL_NASTY),
    Opt("--sizes", valid=("1", "64", "0,8", "1:64", "4K"), bad=NOT_AN_INT | {"2147483647"}),
    Opt("--ranks", valid=("2", "3", "4"), bad=NOT_AN_INT | {"2147483647"}),
    Opt("--cpus", valid=("0,1", "0", "1,0"), bad=ALL_NASTY - {"0"}),
    Opt("--placement", valid=("l3", "all"), bad=ALL_NASTY),
    Opt("--membind", valid=("local", "0"), bad=ALL_NASTY - {"0"}),
    Opt("--window", valid=("1", "4", "64"), bad=NOT_AN_INT | {"0"}),
    Opt("--segments", valid=("1", "2", "16"), bad=NOT_AN_INT | {"0", "4097"}),
    flag("--bidirectional"),
    Opt("--wait", valid=("spin", "block", "adaptive", "eventfd"), bad=ALL_NASTY),
    Opt("--out", "file_out"),
    # inf (never hung) is debatable; NaN, zero and negative watchdogs are not.
    Opt("--watchdog", valid=("5", "1", "0.5"), bad=(NOT_A_NUMBER - {"inf", "1e999"}) | {"-1", "0"}),
    Opt("--size-cap", valid=("ptrace=4K", "shm=64"), bad=ALL_NASTY),
    Opt("--buffer-offset", valid=("0", "1", "4095"), bad=NOT_AN_INT | {"2147483647"}),
    Opt("--inject-fault", valid=("corrupt", "kill", "delay:300"),  # hang: see run_guards
        bad=ALL_NASTY | {"delay", "delay:-1", "delay:10000001"}),
)
# Google Benchmark's flags pass through `run`: (token, must be refused).
BENCHMARK_FLAGS: tuple[tuple[str, bool], ...] = (
    ("--benchmark_repetitions=-1", True), ("--benchmark_repetitions=abc", True), ("--benchmark_repetitions=", True),
    ("--benchmark_repetitions=2", False), ("--benchmark_format=xml", True), ("--benchmark_format=json", False),
    ("--benchmark_format=csv", False), ("--benchmark_filter=nomatch", True), ("--benchmark_filter=(", True),
    ("--benchmark_filter=shm", False), ("--benchmark_list_tests=true", False),
    ("--benchmark_list_tests=maybe", True), ("--benchmark_min_time=abc", True), ("--benchmark_min_time=-1", True),
    ("--benchmark_min_time=nan", True), ("--benchmark_min_time=5x", False), ("--benchmark_out=x.json", True),
    ("--benchmark_bogus=1", True), ("--benchmark_report_aggregates_only=true", False),
    ("--benchmark_time_unit=fortnight", True), ("--benchmark_context=commit=$x^$", False),
    ("--benchmark_enable_random_interleaving=true", False), ("--benchmark_min_warmup_time=-1", True),
)
ALPHA = Opt("--alpha", valid=("0.05", "0.01"), bad=ALL_NASTY)
PERCENT = ("0", "5", "12.5")
PERCENT_BAD = frozenset({"", "nan", "inf", "-inf", "1e999", "-1", "$x^$", "%s%n", "../", ",", "-"})
INPUTS = (Opt("results", "results"), Opt("--peer", "peer"), Opt("--baseline", valid=("shm", "pipe", "cma-read")),
          ALPHA)
ANALYSIS: dict[str, tuple[Opt, ...]] = {
    "plot": (*INPUTS, Opt("-o", "dir_out"), Opt("--out", "dir_out")),
    "thresholds": (*INPUTS, Opt("--markdown", "file_out"), Opt("--json", "file_out")),
    "compare": (ALPHA, Opt("--threshold", valid=PERCENT, bad=PERCENT_BAD),
                Opt("--fail-on-regression", valid=PERCENT, bad=PERCENT_BAD), Opt("--json", "file_out")),
    "history": (Opt("-o", "dir_out"), Opt("--out", "dir_out"), Opt("--order", valid=("date", "commit", "given"),
                bad=ALL_NASTY), Opt("--repo", valid=(".",)),
                Opt("--metric", valid=("one_way_ns", "bytes_per_second", "p99_ns", "one_way_ns,p99_ns"),
                    bad=ALL_NASTY),
                Opt("--sizes", valid=("64", "8,64K"), bad=NOT_AN_INT), ALPHA,
                Opt("--threshold", valid=PERCENT, bad=PERCENT_BAD), flag("--fail-on-regression"),
                Opt("--baseline", valid=("previous", "median:1", "median:3"), bad=ALL_NASTY),
                Opt("--reports", valid=(".", "../"), bad=frozenset({""}))),
    "nodes": (Opt("results", "results"), Opt("-o", "dir_out"), Opt("--out", "dir_out"), flag("--fail-on-outlier")),
    "report": (*INPUTS, Opt("-o", "dir_out"), Opt("--out", "dir_out")),
}
NATIVE = ("list", "doctor", "run", "run", "run")  # run has most options: drawn 3 times as often
COMMANDS = (*NATIVE, *ANALYSIS)
UNKNOWN = ("--frobnicate", "-x", "--mechanism", "extra-argument", "--outt", "---")


class Generator:
    """Builds one Case from a seed; files it needs go into the case's sandbox."""

    def __init__(self, seed: int, box: Sandbox, inputs: AnalysisInputs, commands: tuple[str, ...]) -> None:
        self.rng = random.Random(seed)
        self.commands = commands
        self.box = box
        self.inputs = inputs
        self.case = Case(seed, [])
        self.given: set[str] = set()
        self.native = False  # list, doctor or run: parsed by CLI11 in the binary
        self.bad_by_dest: dict[str, list[str]] = {}  # the bad values each option added
        # One nasty value stops the parse before later options take effect: many cases have
        # none, so that hostile outputs and valid combinations are reached too.
        self.nasty_rate = self.rng.choice((0.0, 0.0, 0.2, 0.5))
        self.trailing = ""  # an option appended after everything else, without its value

    def value(self, opt: Opt) -> str:
        """A value for one option: valid, or nasty at the case's rate; outputs are sometimes hostile."""
        rng, case = self.rng, self.case
        if opt.kind == "file_out":
            return pick_output_file(rng, self.box, case, ".md" if opt.name == "--markdown" else ".json")
        if opt.kind == "dir_out":
            return pick_output_dir(rng, self.box, case)
        if opt.kind in ("results", "topology"):
            return self.input_file(opt.kind)
        if opt.kind == "peer":
            return self.peer()
        if opt.valid and rng.random() >= self.nasty_rate:
            return rng.choice(opt.valid)
        value = rng.choice((*NASTY, str(self.box.directory), str(self.box.link)))
        if value in opt.bad or (opt.bad and value.startswith("/")):
            case.bad_values.append(value)
        return value

    def input_file(self, kind: str) -> str:
        rng, inputs = self.rng, self.inputs
        if kind == "topology":
            pool = [inputs.topology] * 3 + ["/dev/zero", str(self.box.directory), str(self.box.link), ""]
            value = rng.choice(pool)
            if value != inputs.topology:
                self.case.bad_values.append(value)
            return value
        roll = rng.random()
        if roll < 0.5:
            return rng.choice(inputs.good)
        if roll < 0.8:
            return rng.choice(inputs.odd)
        value = rng.choice((*inputs.bad, rng.choice(NASTY)))
        self.case.bad_values.append(value)
        return value

    def peer(self) -> str:
        rng = self.rng
        path = rng.choice(self.inputs.peers)
        if rng.random() < 0.25:
            path = rng.choice(self.inputs.bad_peers)
            self.case.bad_values.append(path)
        label = rng.choice(("", "", "$x^$=", "=", "%s%n=", "OpenMPI=", "a=b=", "١٢=", "x" * 300 + "="))
        return label + path

    def add(self, opt: Opt, inline: bool = False) -> None:
        """Append one option (as --name value, or --name=value for long options)."""
        dest = "--out" if opt.name == "-o" else opt.name
        if not self.native and opt.kind != "results":
            # argparse keeps the last of a repeated option: an earlier bad value is harmless.
            for value in self.bad_by_dest.pop(dest, []):
                self.case.bad_values.remove(value)
        marked = len(self.case.bad_values)
        self.given.add(opt.name)
        self.add_tokens(opt, inline)
        if opt.kind != "results":
            self.bad_by_dest.setdefault(dest, []).extend(self.case.bad_values[marked:])

    def add_tokens(self, opt: Opt, inline: bool) -> None:
        if opt.kind == "flag":
            self.case.argv.append(opt.name)
            self.case.help_asked |= opt.name in ("--help", "-h")
            return
        value = self.value(opt)
        if opt.kind == "results":
            self.case.argv.append(value)
        elif inline and opt.name.startswith("--"):
            self.case.argv.append(f"{opt.name}={value}")
        else:
            self.case.argv += [opt.name, value]

    def options(self, table: tuple[Opt, ...]) -> None:
        """A few options from the table, then now and then a repeated one, an
        unknown one, --help, or an option whose value is missing."""
        rng, case = self.rng, self.case
        for opt in rng.sample(table, rng.randint(0, min(4, len(table)))):
            self.add(opt, inline=rng.random() < 0.2)
        named = [o for o in table if o.kind != "results"]
        if named and rng.random() < 0.1:
            opt = rng.choice(named)
            # CLI11 refuses a repeated option (argparse takes the last; --size-cap adds up).
            if opt.name in self.given and self.native and opt.kind != "flag" and opt.name != "--size-cap":
                case.bad_values.append(opt.name)
            self.add(opt)
        if rng.random() < 0.08:
            token = rng.choice(UNKNOWN)
            case.argv.append(token)
            case.bad_values.append(token)
        if rng.random() < 0.03:
            self.add(rng.choice(HELP))
        valued = [o for o in named if o.kind != "flag"]
        if valued and rng.random() < 0.08:
            self.trailing = rng.choice(valued).name  # last of all, so its value is missing
            case.bad_values.append(self.trailing)

    def run_guards(self) -> None:
        """Small values for every option that decides how much a valid run measures."""
        rng, argv = self.rng, self.case.argv
        if "--benchmark_min_time" not in " ".join(argv):
            argv.append("--benchmark_min_time=0.001")
        if "--inject-fault" not in self.given and "--watchdog" not in self.given and rng.random() < 0.05:
            argv += ["--inject-fault", "hang", "--watchdog", "1"]  # each hung batch costs a watchdog period
            self.given.add("--watchdog")
        for name, guard in (("--mechanisms", "shm,pipe,zerocopy"), ("--sizes", "1,64"), ("--watchdog", "5")):
            if name not in self.given:
                argv += [name, guard]

    def generate(self) -> Case:
        rng, case = self.rng, self.case
        command = rng.choice(self.commands)
        if rng.random() < 0.02:
            command = rng.choice(("", "frobnicate", "LIST", "r"))  # unknown commands
            case.bad_values.append(command)
        case.argv.append(command)
        self.native = command in NATIVE
        if command == "list":
            self.options(LIST)
        elif command == "doctor":
            self.options(DOCTOR)
        elif command == "run":
            self.options(RUN)
            if rng.random() < 0.3:
                token, bad = rng.choice(BENCHMARK_FLAGS)
                case.argv.append(token)
                if bad:
                    case.bad_values.append(token.split("=", 1)[-1] or token)
            self.run_guards()
        elif command in ANALYSIS:
            self.analysis(command)
        if self.trailing:
            case.argv.append(self.trailing)
        return case

    def analysis(self, command: str) -> None:
        """Positional inputs first (as many as the command needs), then options."""
        rng = self.rng
        count = {"compare": 2, "history": rng.randint(2, 4)}.get(command, rng.randint(1, 2))
        if command == "history" and rng.random() < 0.6:  # mostly the real history runs
            self.case.argv += rng.sample(self.inputs.history, count)
        else:
            for _ in range(count):
                self.add(Opt("results", "results"))
        table = ANALYSIS[command]
        required = next((o for o in table if o.kind == "dir_out"), None)
        if required is not None and rng.random() < 0.9:
            self.add(required)
        self.options(tuple(o for o in table if o.kind != "results"))
        if required is not None and not {"-o", "--out"} & self.given:
            self.case.bad_values.append("-o")  # required, and missing


def generate(seed: int, box: Sandbox, inputs: AnalysisInputs, commands: tuple[str, ...] = COMMANDS) -> Case:
    """The argument vector (and its expectations) of one seed, for one of `commands`."""
    return Generator(seed, box, inputs, commands).generate()


SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL)


def signal_case(seed: int, box: Sandbox) -> Case:
    """A valid, short `run` that gets a signal at a random moment (before, during
    or after its ranks run): nothing may be left behind, and --out is either
    absent or complete."""
    rng = random.Random(seed)
    out = box.cwd / "interrupted.json"
    planted = []
    if rng.random() < 0.3:
        out.write_text('{"context": {}, "benchmarks": []}\n')  # an earlier result: never truncated
        planted.append("cwd/interrupted.json: an earlier result")
    mechanisms = rng.choice(("shm,pipe,zerocopy", "shm,ptrace", "pipe,zerocopy"))
    argv = ["run", "--mechanisms", mechanisms, "--sizes", "1:4K", "--benchmark_min_time=0.01", "--watchdog", "5",
            "--scenario", rng.choice(("pingpong", "stream", "alltoall")), "--out", str(out)]
    return Case(seed, argv, json_outputs=[out], send_signal=int(rng.choice(SIGNALS)),
                signal_delay=rng.uniform(0.0, 1.5), planted=planted)
