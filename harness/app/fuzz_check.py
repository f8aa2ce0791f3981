"""Runs one fuzz case (fuzz_argv.Case) against the binary and lists every way
it broke the contract:

- no death by a signal other than the one the case sent, exit status 0, 1 or 2 (4 for
  compare and history: their gate could not decide);
- no sanitizer report, no Python traceback, no Google Benchmark usage text;
- bad input: exit 2 and at most 2 lines on stderr, naming the bad value, no usage dump;
- done within the timeout, and within a memory limit (reading /dev/zero to
  the end would otherwise take the machine's memory before the timeout);
- no process of the case left (nor a stopped tracee), no /dev/shm object;
- no hostile file replaced, the victim unchanged, no output truncated."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from e2e_support import BINARY, describe, kill_session, session_members, shm_entries, wait_for_session_to_end
from fuzz_values import LONG, Case, Sandbox, damage, snapshot

MEMORY_LIMIT = 1 << 30  # resident bytes of the whole case (Python with pandas: ~200 MB)
CRASH_PATTERNS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                  "Traceback (most recent call last)", "terminate called", "Segmentation fault")
GOOGLE_BENCHMARK_USAGE = "benchmark [--benchmark_list_tests"


@dataclass
class Outcome:
    case: Case
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    pid: int = 0  # also the id of the session of everything the case started

    def report(self) -> str:
        """One failing case, reproducible: seed, argv, exit status, what broke, stderr's first lines."""
        argv = repr(self.case.argv).replace(repr(LONG)[1:-1], "<'x'*10000>")
        lines = [f"seed {self.case.seed}: ipcatlas {argv}"]
        if self.case.send_signal:
            lines[0] += f"  (+{signal.Signals(self.case.send_signal).name} at {self.case.signal_delay:.2f} s)"
        if self.case.planted:
            lines.append("  planted: " + ", ".join(self.case.planted))
        lines.append(f"  exit {self.returncode} after {self.seconds:.1f} s: " + "; ".join(self.problems))
        stderr = self.stderr.splitlines()
        if len(stderr) > 4:  # a traceback's last line names the exception
            stderr = [*stderr[:3], "...", stderr[-1]]
        lines += [f"  | {line[:300]}" for line in stderr]
        return "\n".join(lines)


def resident_bytes(session: int) -> int:
    """Resident memory of every process of the session."""
    total = 0
    for pid in session_members(session):
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


def execute(case: Case, box: Sandbox, timeout: float, outcome: Outcome) -> None:
    """Run the binary in a session of its own, send the case's signal, enforce time and memory."""
    proc = subprocess.Popen([str(BINARY.absolute()), *case.argv], cwd=box.cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    outcome.pid = proc.pid
    start = time.monotonic()
    sent = False
    output: tuple[bytes, bytes] = (b"", b"")
    while True:
        try:
            # Retrying communicate() after its timeout loses no output.
            output = proc.communicate(timeout=0.05)
            break
        except subprocess.TimeoutExpired:
            pass
        elapsed = time.monotonic() - start
        if case.send_signal and not sent and elapsed >= case.signal_delay:
            proc.send_signal(case.send_signal)
            sent = True
        if elapsed > timeout:
            outcome.problems.append(f"hang: still running after {timeout:.0f} s")
        elif resident_bytes(proc.pid) > MEMORY_LIMIT:
            outcome.problems.append(f"memory: more than {MEMORY_LIMIT >> 30} GiB resident after {elapsed:.1f} s")
        else:
            continue
        kill_session(proc.pid)
        try:
            output = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            output = proc.communicate()
        break
    outcome.seconds = time.monotonic() - start
    outcome.returncode = proc.returncode
    outcome.stdout = output[0].decode(errors="backslashreplace")
    outcome.stderr = output[1].decode(errors="backslashreplace")
    if not sent and case.send_signal:
        case.send_signal = 0  # it ended before the signal was due


# Commands whose --fail-on-regression gate may answer "cannot decide" (exit 4).
GATED_COMMANDS = ("compare", "history")


def check_status(outcome: Outcome) -> None:
    """Exit status, crash reports and the shape of a bad-input message."""
    case, rc, problems = outcome.case, outcome.returncode, outcome.problems
    if problems or rc is None:
        return  # hung or blew up: already said
    allowed = {0, 1, 2}
    if case.argv and case.argv[0] in GATED_COMMANDS:
        allowed.add(4)  # the regression gate could not decide (README, compare)
    if case.send_signal:
        allowed |= {-case.send_signal, 128 + case.send_signal}
    if rc not in allowed:
        problems.append(f"killed by {signal.Signals(-rc).name}" if rc < 0 else f"exit status {rc}")
    both = outcome.stdout + outcome.stderr
    problems += [f"{pattern!r} in the output" for pattern in CRASH_PATTERNS if pattern in both]
    if GOOGLE_BENCHMARK_USAGE in both and not case.help_asked:
        problems.append("Google Benchmark's usage text in the output")
    lines = outcome.stderr.strip().splitlines()
    if rc == 2 and len(lines) > 2:
        problems.append(f"bad input took {len(lines)} lines of stderr (at most 2)")
    if rc == 2 and any(line.startswith("usage:") for line in lines):
        problems.append("a usage dump for bad input")
    if case.bad_values and not case.help_asked and rc not in (2, None) and not case.send_signal:
        problems.append(f"accepted bad value(s) {short(case.bad_values)}: exit {rc}")
    if rc == 2 and case.bad_values and not names_a_value(case, outcome.stderr):
        problems.append(f"the error does not name the bad value {short(case.bad_values)}")


def short(values: list[str]) -> str:
    return ", ".join(repr(v) if len(v) <= 60 else repr(v[:20] + "...") for v in values)


def names_a_value(case: Case, stderr: str) -> bool:
    """Whether stderr names one of the bad values (a path by its name is enough), or
    else some other argument: the generator does not know every bad combination
    (--ranks 4 with pingpong), so naming any argument of 2 characters or more counts.
    True when a bad value cannot be named sensibly (empty or very long)."""
    if any(not v.strip() or len(v) > 200 for v in case.bad_values):
        return True
    if any(v in stderr or (v.startswith("/") and Path(v).name in stderr) for v in case.bad_values):
        return True
    tokens = [part for token in case.argv[1:] for part in token.split("=", 1)]
    return any(len(t) >= 2 and t in stderr for t in tokens)


def check_leftovers(outcome: Outcome, box: Sandbox, before: dict[str, tuple[str, str]],
                    shm_before: set[str]) -> None:
    """Processes, /dev/shm objects, replaced files and truncated outputs."""
    case, problems = outcome.case, outcome.problems
    left = wait_for_session_to_end(outcome.pid)
    if left:
        stopped = [pid for pid, state in left.items() if state in "tT"]
        problems.append(f"left {len(left)} process(es) running" + (f", {len(stopped)} stopped" if stopped else "")
                        + f": {describe(list(left))}")
        kill_session(outcome.pid)
    new_shm = shm_entries() - shm_before
    if new_shm:
        time.sleep(0.2)  # another test's object would be gone by now; ipcatlas's would not
        new_shm &= shm_entries()
    if new_shm:
        problems.append(f"left /dev/shm objects: {sorted(new_shm)}")
    problems += [f"replaced or changed {d}" for d in damage(box.root, before)]
    for path in case.json_outputs:
        if path.is_file() and not path.is_symlink():
            try:
                json.loads(path.read_text())
            except (ValueError, UnicodeDecodeError) as error:
                problems.append(f"{path.name} is not complete JSON ({error})")
        tmp = Path(f"{path}.tmp")
        killed = case.send_signal == signal.SIGKILL or any(p.startswith(("hang", "memory")) for p in problems)
        if tmp.exists() and not tmp.is_symlink() and not killed:
            problems.append(f"left {tmp.name} behind")


def run_case(case: Case, box: Sandbox, timeout: float) -> Outcome:
    """Run one case and check everything; outcome.problems is empty when it passed."""
    outcome = Outcome(case)
    before, shm_before = snapshot(box.root), shm_entries()
    execute(case, box, timeout, outcome)
    check_status(outcome)
    check_leftovers(outcome, box, before, shm_before)
    return outcome
