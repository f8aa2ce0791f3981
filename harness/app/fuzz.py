"""The fuzz loop: seeded argument vectors (fuzz_argv.py) run against the
binary and checked (fuzz_check.py). Used by harness/app/ipcatlas_fuzz_e2e_test.py
with a fixed seed set, and by `ci/fuzz [--seed N] [--cases N]` for longer runs:

    ci/fuzz --seed 7 --cases 2000     # prints every failing case and a summary; exit 1 on any failure

A failing case is reproduced by its seed alone: `ci/fuzz --only SEED`."""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from e2e_support import BINARY
from fuzz_argv import ANALYSIS, NATIVE, generate, signal_case
from fuzz_check import Outcome, run_case
from fuzz_inputs import AnalysisInputs, fingerprint, make_inputs
from fuzz_values import Case, Sandbox

# A case's seed says which kind it is (seed % 3), so that `--only SEED` rebuilds the same case.
NATIVE_KIND, ANALYSIS_KIND, SIGNAL_KIND = 0, 1, 2


def plan(seed: int, cases: int) -> list[int]:
    """`cases` seeds from base seed `seed`: 85 % native (list, doctor, run), 12 % analysis,
    3 % signal cases, at least one of each."""
    analysis, signals = max(1, cases * 12 // 100), max(1, cases * 3 // 100)
    start = seed * 1_000_000
    return [*(3 * (start + i) + NATIVE_KIND for i in range(cases - analysis - signals)),
            *(3 * (start + i) + ANALYSIS_KIND for i in range(analysis)),
            *(3 * (start + i) + SIGNAL_KIND for i in range(signals))]


def build_case(seed: int, box: Sandbox, inputs: AnalysisInputs) -> Case:
    kind = seed % 3
    if kind == SIGNAL_KIND:
        return signal_case(seed, box)
    return generate(seed, box, inputs, tuple(ANALYSIS) if kind == ANALYSIS_KIND else NATIVE)


def run_seeds(seeds: Iterable[int], workdir: Path, timeout: float, jobs: int = 4,
              progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Run every seed's case (`jobs` at a time: each case is tracked by its own
    session, so cases do not see each other's processes); return every outcome.
    A last pseudo-outcome reports inputs that a case modified."""
    inputs = make_inputs(workdir / "inputs")
    before = fingerprint(inputs.root)

    def one(seed: int) -> Outcome:
        box = Sandbox(workdir / f"case-{seed}")
        outcome = run_case(build_case(seed, box, inputs), box, timeout)
        if not outcome.problems:
            shutil.rmtree(box.root)  # keep failing cases' sandboxes for a look
        if progress:
            progress(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        outcomes = list(pool.map(one, seeds))
    if fingerprint(inputs.root) != before:
        modified = Outcome(Case(-1, ["(inputs)"]), problems=[f"a case modified the input files in {inputs.root}"])
        outcomes.append(modified)
    return outcomes


def summary(outcomes: list[Outcome], seconds: float) -> str:
    """Counts by command and by kind of problem."""
    failed = [o for o in outcomes if o.problems]
    kinds = Counter(p.split(":")[0].split(" (")[0][:60] for o in failed for p in o.problems)
    by_command = Counter(o.case.command for o in failed)
    lines = [f"fuzz: {len(outcomes)} cases in {seconds:.0f} s, {len(failed)} failed ({BINARY})"]
    lines += [f"  {n:4d} x {kind}" for kind, n in kinds.most_common()]
    if by_command:
        lines.append("  failed by command: " + ", ".join(f"{c or '(none)'} {n}" for c, n in by_command.most_common()))
    busy: Counter[str] = Counter()
    for o in outcomes:
        busy[o.case.command] += o.seconds
    lines.append("  seconds by command: " + ", ".join(f"{c or '(none)'} {t:.0f}" for c, t in busy.most_common()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ci/fuzz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 10_000, help="base seed (default: from the clock)")
    parser.add_argument("--cases", type=int, default=2000, help="number of cases (default: %(default)s)")
    parser.add_argument("--only", type=int, action="append", help="run just this case seed (repeatable)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a case may take (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=4, help="cases at a time (default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory of failing cases")
    args = parser.parse_args(argv)
    seeds = args.only or plan(args.seed, args.cases)
    print(f"fuzz: base seed {args.seed}, {len(seeds)} cases, binary {BINARY}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="ipcatlas-fuzz-"))
    start = time.monotonic()
    try:
        outcomes = run_seeds(seeds, workdir, args.timeout, args.jobs,
                             lambda o: o.problems and print(o.report(), flush=True))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(summary(outcomes, time.monotonic() - start))
    if args.keep:
        print(f"fuzz: sandboxes of failing cases kept in {workdir}")
    return 1 if any(o.problems for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
