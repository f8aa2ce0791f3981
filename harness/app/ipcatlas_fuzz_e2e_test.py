"""The fuzz loop in the test suite: a fixed set of seeded random argument
vectors over every subcommand's real options with nasty values and hostile
output files (harness/app/fuzz_argv.py), a few runs interrupted by a signal at a
random moment, each checked for crashes, tracebacks, hangs, leftover
processes and /dev/shm objects, replaced files and truncated results
(harness/app/fuzz_check.py). Under the asan preset the binary is the ASan/UBSan build.

$IPCATLAS_FUZZ_CASES changes the number of cases (default 350: about 300
list/doctor/run vectors, 40 analysis vectors, 10 signals); `ci/fuzz` runs
longer sets. A failure lists every failing case with its seed:
`ci/fuzz --only SEED` runs that case again."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from e2e_support import BINARY, describe, processes_running
from fuzz import plan, run_seeds

CASES = int(os.environ.get("IPCATLAS_FUZZ_CASES", "350"))
# A case takes well under a second (an analysis command a few seconds); past this it hangs.
TIMEOUT = float(os.environ.get("IPCATLAS_FUZZ_TIMEOUT", "15"))
# Cases at a time: a case mostly waits (Python imports, the doctor's load sample), so 4 on 2 cores.
JOBS = int(os.environ.get("IPCATLAS_FUZZ_JOBS", "4"))


def test_fuzzed_argument_vectors_break_nothing(tmp_path: Path) -> None:
    outcomes = run_seeds(plan(0, CASES), tmp_path, TIMEOUT, JOBS)
    failed = [o for o in outcomes if o.problems]
    if failed:
        pytest.fail(f"{len(failed)} of {len(outcomes)} fuzz cases failed (run one again with `ci/fuzz --only SEED`):\n"
                    + "\n".join(o.report() for o in failed), pytrace=False)
    assert processes_running(BINARY) == [], describe(processes_running(BINARY))
