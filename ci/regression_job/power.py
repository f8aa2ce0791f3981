"""ci/regression-power: how small a real slowdown ci/regression's gate catches on this machine,
and how often it fails when nothing changed.

Round after round, in a random order, it runs the CI matrix (ci/regression's, within --budget)
once clean and once per delay with `--inject-fault delay:NS`: NS ns of busy work added to every
message sent, as a slower version of the code would add. Then, with the gate of `ipcatlas
history` (ci/regression's baseline rule and threshold):
  false alarms  every clean run against the clean runs before it: a FAILED gate is a false alarm
  detection     every delayed run against the clean runs before it: a FAILED gate is a catch
A fixed delay is a large share of a small message's time and a small share of a large one's,
so each delay's row gives the slowdown it made of each mechanism (the gate's median ratio over
the mechanism's sizes): the gate acts on those.
Everything stays under --out. Run it on a quiet machine; it takes
(1 + rounds x (1 + delays)) x budget seconds, plus a history per evaluation.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import children
from matrix import DEFAULT_BUDGET_S, Matrix, parse_list
from regression import (DEFAULT_BASELINE, DEFAULT_BINARY, DEFAULT_THRESHOLD_PCT, baseline_option, percent_option,
                        seconds_option)


@dataclass(frozen=True)
class Measured:
    path: Path
    delay_ns: int  # 0: a clean run


@dataclass(frozen=True)
class Verdict:
    status: str  # the gate's: passed, FAILED, cannot decide
    ratios: dict[str, float]  # the gate's median NEW/BASE ratio per group


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ci/regression-power", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6, help="clean + delayed runs per level (default: %(default)s)")
    parser.add_argument("--delays", default="50,200,800", help="ns of work added per message "
                        "(default: %(default)s)")
    parser.add_argument("--budget", type=seconds_option, default=DEFAULT_BUDGET_S,
                        help="seconds per run (default: %(default)g)")
    parser.add_argument("--mechanisms", type=parse_list, default=Matrix().mechanisms, metavar="LIST",
                        help="change the matrix's mechanisms (default: ci/regression's)")
    parser.add_argument("--baseline", type=baseline_option, default=DEFAULT_BASELINE)
    parser.add_argument("--threshold", type=percent_option, default=DEFAULT_THRESHOLD_PCT)
    parser.add_argument("--out", type=Path, default=None, help="a new directory for everything (default: "
                        "results/local/regression-power.XXXXXX)")
    parser.add_argument("--bin", type=Path, default=DEFAULT_BINARY)
    parser.add_argument("--seed", type=int, default=None, help="seed of the order within a round")
    parser.add_argument("run_options", nargs=argparse.REMAINDER, help="more `ipcatlas run` options, after --")
    args = parser.parse_args(argv)
    args.run_options = args.run_options[1:] if args.run_options[:1] == ["--"] else args.run_options
    try:
        args.delays = [int(delay) for delay in args.delays.split(",") if delay.strip()]
    except ValueError:
        parser.error(f"--delays {args.delays}: expected whole nanoseconds, e.g. 50,200,800")
    if args.rounds < 2 or not args.delays or any(delay <= 0 for delay in args.delays):
        parser.error("--rounds must be at least 2, and every delay above 0")
    return args


def main(argv: list[str]) -> int:
    children.exit_on_signals()
    args = parse_arguments(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="regression-power.", dir=_made(Path("results/local"))))
    if args.out is not None:
        if out.exists():
            sys.exit(f"ci/regression-power: --out {out}: exists; give a new directory")
        out.mkdir(parents=True)
    options = Matrix(mechanisms=args.mechanisms).run_options(args.budget)
    order = random.Random(args.seed)
    runs: list[Measured] = []
    for round_ in range(args.rounds + 1):
        plan = [0] + (args.delays if round_ > 0 else [])  # first a clean run, the baseline of the first round
        order.shuffle(plan)
        for delay in plan:
            runs.append(measure(args, options, out / "runs" / f"{len(runs):03d}-delay{delay}.json", delay))
    report(args, out, runs)
    return 0


def measure(args: argparse.Namespace, options: list[str], path: Path, delay_ns: int) -> Measured:
    print(f"ci/regression-power: run {path.name} (delay {delay_ns} ns)", flush=True)
    command = [str(args.bin), "run", *options, "--inject-fault", f"delay:{delay_ns}", "--out", str(path),
               *args.run_options]
    done = children.run(command, stdout=subprocess.DEVNULL)
    if not path.is_file():
        sys.exit(f"ci/regression-power: ipcatlas run exited {done.returncode} and wrote no {path}")
    return Measured(path, delay_ns)


def gate_of_last(args: argparse.Namespace, out: Path, paths: list[Path]) -> Verdict:
    """The gate of `ipcatlas history --order given` on the last of paths."""
    target = out / "history" / paths[-1].stem
    command = [str(args.bin), "history", *(str(p) for p in paths), "--order", "given", "-o", str(target),
               "--threshold", f"{args.threshold:g}", "--baseline", args.baseline]
    done = children.run(command, stdout=subprocess.DEVNULL)
    if done.returncode not in (0, 1, 4):
        sys.exit(f"ci/regression-power: ipcatlas history exited {done.returncode}")
    gate = json.loads((target / "history.json").read_text())["last_run_gate"]
    return Verdict(gate["status"], {test["group"]: test["median_ratio"] for test in gate["tests"]})


def report(args: argparse.Namespace, out: Path, runs: list[Measured]) -> None:
    """Gate every run against the clean runs before it; print and write summary.json."""
    rows = []
    for delay in [0, *args.delays]:
        verdicts = []
        for i, run in enumerate(runs):
            earlier = [r.path for r in runs[:i] if r.delay_ns == 0]
            if run.delay_ns == delay and earlier:
                verdicts.append(gate_of_last(args, out, [*earlier, run.path]))
        rows.append(_row(delay, verdicts))
    header = (f"gate: --baseline {args.baseline} --threshold {args.threshold:g}; ci/regression's matrix "
              f"({','.join(args.mechanisms)}), --budget {args.budget:g} s; {len(runs)} runs in {out}")
    lines = [f"  {'clean rerun' if r['delay_ns'] == 0 else 'delay:' + str(r['delay_ns']):<12} FAILED "
             f"{r['failed']}/{r['decided']} decided ({r['undecided']} undecided); median slowdown "
             + ", ".join(f"{group} {ratio}" for group, ratio in r["slowdowns"].items()) for r in rows]
    print("\n".join([header, *lines]))
    (out / "summary.json").write_text(json.dumps({"header": header, "rows": rows}, indent=2) + "\n")


def _row(delay_ns: int, verdicts: list[Verdict]) -> dict[str, Any]:
    decided = [v for v in verdicts if v.status != "cannot decide"]
    groups = sorted({group for v in verdicts for group in v.ratios})
    slowdowns = {g.split("/")[-1]: f"{statistics.median(v.ratios[g] for v in verdicts if g in v.ratios) - 1:+.1%}"
                 for g in groups}
    return {"delay_ns": delay_ns, "failed": sum(v.status == "FAILED" for v in decided), "decided": len(decided),
            "undecided": len(verdicts) - len(decided), "slowdowns": slowdowns,
            "statuses": [v.status for v in verdicts]}


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
