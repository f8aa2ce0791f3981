"""The matrix a CI regression job runs, and how a time budget becomes its run options.

Why this matrix (measured on the 2-vCPU AMD EPYC KVM guest:
results/reference/kvm-2vcpu-regression-design.txt, and the README's "CI regression graphs"):
  - The host's state is the noise. Between reruns in one state (drift canaries within
    1.25x) the median of a mechanism moved by 0.6-4 % (at most 7.5 %); between states by
    15-160 %. So the gate compares a run with earlier runs in its own state (median:N),
    and a longer run buys nothing: batches of 0.05 s moved no more than batches of 0.2 s.
  - pingpong only: the scenario every transport is first judged by; its one-way time
    moves 1:1 with any work added per message.
  - shm, pipe, cma-read and unix-stream: four paths through the kernel and the harness
    (the mailbox and a user-space copy; a file descriptor and two kernel copies; one system
    call that copies; a socket). The first three moved the least between same-state
    reruns (at most 1-2 %); unix-stream up to 7 %, kept for the socket path. vmsplice
    (as steady) shares pipe's path; zerocopy (up to 7.5 %) adds no kernel path.
  - 8 sizes per mechanism: the gate's signed-rank test per mechanism needs at least 8
    benchmarks to reject at its Holm level (0.5^8 < 0.05/5).
  - 3 repetitions: the gate tests across benchmarks, not repetitions; three give a
    median per benchmark that one outlier cannot move.
"""
from __future__ import annotations

from dataclasses import dataclass

MECHANISMS = ("shm", "pipe", "cma-read", "unix-stream")
SIZES = ("8", "64", "512", "4K", "16K", "64K", "256K", "1M")
REPETITIONS = 3
DEFAULT_BUDGET_S = 30.0

# A run (one repetition of one benchmark) costs about FIXED_S + PER_MIN_TIME x
# --benchmark_min_time: the fork of the ranks, their validation rounds and the
# 5 ms drift canary, then Google Benchmark's calibration batches (which grow
# tenfold until one lasts min_time) and the measured batch.
# Measured on the 2-vCPU AMD EPYC guest, the default matrix (96 runs): 3.3 s at
# min_time 0.01 and 22.6 s at 0.1.
FIXED_S = 0.012
PER_MIN_TIME = 2.2
MIN_TIME_S = (0.005, 1.0)  # shorter batches measure the clock; longer ones buy nothing a CI slot can afford


class BudgetError(ValueError):
    """A budget too small for the matrix."""


@dataclass(frozen=True)
class Matrix:
    """The benchmarks of one CI run."""

    mechanisms: tuple[str, ...] = MECHANISMS
    sizes: tuple[str, ...] = SIZES
    repetitions: int = REPETITIONS

    @property
    def runs(self) -> int:
        return len(self.mechanisms) * len(self.sizes) * self.repetitions

    def min_time_for(self, budget_s: float) -> float:
        """The --benchmark_min_time that makes the whole matrix take about budget_s."""
        per_run = budget_s / self.runs
        min_time = (per_run - FIXED_S) / PER_MIN_TIME
        if min_time < MIN_TIME_S[0]:
            raise BudgetError(f"--budget {budget_s:g}: too small for {self.runs} runs "
                              f"({len(self.mechanisms)} mechanisms x {len(self.sizes)} sizes x {self.repetitions} "
                              f"repetitions); at least {self.budget_for(MIN_TIME_S[0]):.0f} s")
        return min(min_time, MIN_TIME_S[1])

    def budget_for(self, min_time: float) -> float:
        """The time the matrix takes at a given min_time (the inverse of min_time_for)."""
        return self.runs * (FIXED_S + PER_MIN_TIME * min_time)

    def run_options(self, budget_s: float) -> list[str]:
        """`ipcatlas run` options for this matrix within budget_s."""
        return ["--scenario", "pingpong", "--mechanisms", ",".join(self.mechanisms),
                "--sizes", ",".join(self.sizes), f"--benchmark_repetitions={self.repetitions}",
                f"--benchmark_min_time={self.min_time_for(budget_s):.3f}", "--order", "blocked"]


def parse_list(text: str) -> tuple[str, ...]:
    """"a,b,c" -> ("a", "b", "c"); empty items are dropped."""
    return tuple(item.strip() for item in text.split(",") if item.strip())
