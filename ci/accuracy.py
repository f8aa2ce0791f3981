"""ci/accuracy: ipcatlas against minimal reference programs, as ratios.

Each check pairs one ipcatlas figure with the figure of a tiny C program in
ci/reference/ that does the same thing with nothing around it. Both run on
the same two PUs, interleaved A B B A round after round, so that a change in
the machine (this is often a VM whose vCPUs the host moves) hits both alike.
Two ratios are reported:
  paired  the median, over rounds, of the ratio of the two runs next to each
          other, which saw (nearly) the same state of the machine. The
          verdict uses this ratio.
  best    the ratio of each program's best round (lowest time, highest
          bandwidth), for context: each program with the least interference,
          but possibly in different states of the machine.
On a quiet machine the two agree; on a VM whose vCPUs the host moves they can
differ a lot, and the paired range shows how much.

Absolute values are printed for orientation only; compare ratios."""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "build" / "release"
IPCATLAS = BUILD / "ipcatlas"
REFERENCE = BUILD / "ci" / "reference"


@dataclass(frozen=True)
class Check:
    name: str               # what is compared
    target: str             # the goal, for humans
    ipcatlas: Callable[[list[int]], float]
    reference: Callable[[list[int]], float]
    ratio_limit: float      # ipcatlas / reference must be <= this (or >= for bandwidth)
    higher_is_better: bool = False


def ipcatlas_counter(mechanism: str, size: str, counter: str, min_time: float) -> Callable[[list[int]], float]:
    def measure(cpus: list[int]) -> float:
        out = subprocess.run([str(IPCATLAS), "run", "--mechanisms", mechanism, "--sizes", size,
                              "--cpus", ",".join(map(str, cpus)), f"--benchmark_min_time={min_time}",
                              "--benchmark_format=json"], capture_output=True, text=True, check=True).stdout
        bench = json.loads(out)["benchmarks"][0]
        if bench.get("error_occurred"):
            raise RuntimeError(f"{mechanism} {size}: {bench['error_message']}")
        return float(bench[counter])
    return measure


def reference(program: str, iterations: int, *extra: str, mode: str | None = None) -> Callable[[list[int]], float]:
    def measure(cpus: list[int]) -> float:
        args = [str(REFERENCE / f"ref_{program}")] + ([mode] if mode else [])
        args += [str(cpus[0]), str(cpus[1]), str(iterations), *extra]
        line = subprocess.run(args, capture_output=True, text=True, check=True).stdout.split()
        return float(line[1])
    return measure


def checks(min_time: float) -> list[Check]:
    floor = reference("cacheline_pingpong", 300_000)
    return [
        Check("shm 8 B one-way / cache-line bounce", "<= 1.5", ipcatlas_counter("shm", "8", "one_way_ns", min_time),
              floor, 1.5),
        Check("zerocopy 8 B one-way / cache-line bounce", "<= 1.2",
              ipcatlas_counter("zerocopy", "8", "one_way_ns", min_time), floor, 1.2),
        Check("pipe 1 B one-way / minimal write-read ping-pong", "<= 1.10",
              ipcatlas_counter("pipe", "1", "one_way_ns", min_time),
              reference("fd_pingpong", 2000, "1", mode="pipe"), 1.10),
        Check("unix-stream 1 B one-way / minimal write-read ping-pong", "<= 1.10",
              ipcatlas_counter("unix-stream", "1", "one_way_ns", min_time),
              reference("fd_pingpong", 2000, "1", mode="unix"), 1.10),
        Check("shm 1 MiB bandwidth / single-core memcpy 1 MiB", ">= 0.7",
              ipcatlas_counter("shm", "1M", "bytes_per_second", min_time),
              reference("memcpy_bandwidth", 1500, str(1 << 20)), 0.7, higher_is_better=True),
        Check("shm 1 MiB bandwidth / minimal two-core double-copy ring", ">= 0.9",
              ipcatlas_counter("shm", "1M", "bytes_per_second", min_time),
              reference("ring_bandwidth", 200, str(1 << 20)), 0.9, higher_is_better=True),
        Check("cma-read 1 MiB bandwidth / minimal process_vm_readv loop", ">= 0.9",
              ipcatlas_counter("cma-read", "1M", "bytes_per_second", min_time),
              reference("cma_read_loop", 1500, str(1 << 20)), 0.9, higher_is_better=True),
    ]


def scenario_counter(scenario: str, mechanism: str, size: str, counter: str, *extra: str) -> Callable[[list[int]], float]:
    """One counter of one ipcatlas benchmark of any scenario."""
    def measure(cpus: list[int]) -> float:
        out = subprocess.run([str(IPCATLAS), "run", "--scenario", scenario, "--mechanisms", mechanism, "--sizes", size,
                              "--cpus", ",".join(map(str, cpus)), "--benchmark_min_time=0.1", "--benchmark_format=json",
                              *extra], capture_output=True, text=True, check=True).stdout
        bench = json.loads(out)["benchmarks"][0]
        if bench.get("error_occurred"):
            raise RuntimeError(f"{scenario} {mechanism} {size}: {bench['error_message']}")
        return float(bench[counter])
    return measure


def alltoall_overhead_checks() -> list[Check]:
    """alltoall at 2 ranks is one exchange per round: its per-message cost
    must match the ping-pong's one-way time (the scenario adds nothing)."""
    cases = [("shm", "64"), ("shm", "65536"), ("cma-read", "65536"), ("pipe", "4096")]
    return [Check(f"alltoall (2 ranks) per message / pingpong one-way, {m} {s} B", "<= 1.15",
                  scenario_counter("alltoall", m, s, "per_message_ns", "--ranks", "2"),
                  scenario_counter("pingpong", m, s, "one_way_ns"), 1.15) for m, s in cases]


def manytoone_write_over_read(rounds: int) -> dict[str, float]:
    """Aggregate bandwidth of cma-write over cma-read, 4 ranks, in manytoone
    (many writers into one address space vs one reader in turn) and in
    onetomany (one writer in turn vs many readers of one address space)."""
    ratios: dict[str, list[float]] = {}
    for _ in range(rounds):
        for scenario in ("manytoone", "onetomany"):
            out = subprocess.run([str(IPCATLAS), "run", "--scenario", scenario, "--ranks", "4",
                                  "--mechanisms", "cma-write,cma-read", "--sizes", "65536,1048576",
                                  "--benchmark_min_time=0.1", "--benchmark_format=json"],
                                 capture_output=True, text=True, check=True).stdout
            bw = {(b["name"].split("/")[1], b["name"].split("size:")[1].split("/")[0]): b["bytes_per_second"]
                  for b in json.loads(out)["benchmarks"]}
            for size in ("65536", "1048576"):
                ratios.setdefault(f"{scenario} {int(size) >> 10}K", []).append(
                    bw[("cma-write", size)] / bw[("cma-read", size)])
    return {key: statistics.median(r) for key, r in ratios.items()}


def vmsplice_over_pipe(cpus: list[int], rounds: int, wait: str) -> dict[str, float]:
    """Median over rounds of pipe one-way / vmsplice one-way per size, both
    measured in the same ipcatlas run (> 1: vmsplice is faster)."""
    sizes = ["65536", "262144", "1048576", "4194304"]
    ratios: dict[str, list[float]] = {size: [] for size in sizes}
    for _ in range(rounds):
        out = subprocess.run([str(IPCATLAS), "run", "--mechanisms", "pipe,vmsplice", "--sizes", ",".join(sizes),
                              "--cpus", ",".join(map(str, cpus)), "--wait", wait, "--benchmark_min_time=0.1",
                              "--benchmark_format=json"], capture_output=True, text=True, check=True).stdout
        one_way = {(b["name"].split("/")[1], b["name"].split("size:")[1].split("/")[0]): b["one_way_ns"]
                   for b in json.loads(out)["benchmarks"]}
        for size in sizes:
            ratios[size].append(one_way[("pipe", size)] / one_way[("vmsplice", size)])
    return {size: statistics.median(r) for size, r in ratios.items()}


PROBE = BUILD / "ci" / "probe" / "small_message_probe"
# The host states the bounce shows on a KVM guest, by its one-way time: the
# two vCPUs on one host core (hardware threads), on two cores, far apart.
STATES = (("one host core (bounce < 20 ns)", 0.0, 20.0), ("two cores (20-100 ns)", 20.0, 100.0),
          ("far apart (> 100 ns)", 100.0, float("inf")))


PROBE_MECHANISMS = ("shm", "zerocopy")


def probe_check_name(mechanism: str) -> str:
    return f"{mechanism} 8 B pingpong / bounce, paired in one process pair"


def probe_by_state(cpus: list[int], runs: int) -> list[dict[str, object]]:
    """shm and zerocopy 8 B against the bounce, paired within one pair of
    processes every millisecond (ci/small-message-probe), per host state.
    The verdict is the two-core state's: that is where the targets were
    set, and the one state whose bounce is a transfer between two cores."""
    ratios: dict[str, dict[str, list[float]]] = {m: {name: [] for name, _, _ in STATES} for m in PROBE_MECHANISMS}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(runs):
            out = Path(tmp) / f"probe-{run}.json"
            subprocess.run([str(PROBE), "--cpus", f"{cpus[0]},{cpus[1]}", "--rounds", "1000", "--round-trips", "1000",
                            "--steps", "shm-pingpong,zerocopy-pingpong", "--json", str(out)],
                           capture_output=True, text=True, check=True)
            one_way = json.loads(out.read_text())["one_way_ns"]
            for r, bounce in enumerate(one_way["bounce"]):
                state = next(name for name, low, high in STATES if low <= bounce < high)
                for m in ratios:
                    ratios[m][state].append(one_way[f"{m}-pingpong"][r] / bounce)
    results = []
    for m, limit in (("shm", 1.5), ("zerocopy", 1.2)):
        per_state = {state: (statistics.median(r), len(r)) for state, r in ratios[m].items() if r}
        two_cores = per_state.get(STATES[1][0])
        verdict = "not seen" if two_cores is None or two_cores[1] < 100 else (
            "met" if two_cores[0] <= limit else "MISSED")
        results.append({"check": probe_check_name(m), "target": f"<= {limit}",
                        "per_state": per_state, "verdict": verdict})
    return results


def run_check(check: Check, cpus: list[int], rounds: int) -> dict[str, object]:
    ratios, ours, refs = [], [], []
    for r in range(rounds):
        order = [check.reference, check.ipcatlas] if r % 2 == 0 else [check.ipcatlas, check.reference]
        values = {f: f(cpus) for f in order}
        ours.append(values[check.ipcatlas])
        refs.append(values[check.reference])
        ratios.append(ours[-1] / refs[-1])
    best = max if check.higher_is_better else min
    best_ratio = best(ours) / best(refs)
    paired = statistics.median(ratios)
    met = paired >= check.ratio_limit if check.higher_is_better else paired <= check.ratio_limit
    return {"check": check.name, "target": check.target, "best_ratio": best_ratio,
            "paired_median": paired, "paired_min": min(ratios), "paired_max": max(ratios),
            "ipcatlas_best": best(ours), "reference_best": best(refs),
            "verdict": "context" if check.ratio_limit == 0 else ("met" if met else "MISSED")}


def default_run_seconds(mechanisms: str) -> float:
    """Wall time of `ipcatlas run` with default sizes ("" = every mechanism)."""
    start = time.monotonic()
    args = [str(IPCATLAS), "run"] + (["--mechanisms", mechanisms] if mechanisms else [])
    subprocess.run(args, capture_output=True, check=True)
    return time.monotonic() - start


def default_cpus() -> list[int]:
    out = subprocess.run([str(IPCATLAS), "run", "--mechanisms", "zerocopy", "--sizes", "1",
                          "--benchmark_min_time=0.001", "--benchmark_format=json"],
                         capture_output=True, text=True, check=True).stdout
    return [int(c) for c in json.loads(out)["context"]["cpus"].split(",")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=11, help="interleaved rounds per check (default 11)")
    parser.add_argument("--min-time", type=float, default=0.1, help="seconds per ipcatlas measurement")
    parser.add_argument("--cpus", help="two PUs (default: the pair ipcatlas picks)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--only", metavar="TEXT",
                        help="run only the ratio checks whose name contains TEXT (e.g. '8 B', '1 MiB'), "
                             "skipping the vmsplice, alltoall, contention and duration checks")
    args = parser.parse_args()
    if not IPCATLAS.exists():
        print(f"ci/accuracy: {IPCATLAS} missing; run ci/build first", file=sys.stderr)
        return 2
    cpus = [int(c) for c in args.cpus.split(",")] if args.cpus else default_cpus()
    print(f"ci/accuracy: PUs {cpus[0]},{cpus[1]}, {args.rounds} interleaved rounds per check; ratio = ipcatlas / reference")
    print("  paired: median (and range) of the ratios of adjacent runs; best: ratio of each side's best run")
    print(f"{'check':58} {'target':>8} {'paired (range)':>20} {'best':>6} {'ipcatlas':>10} {'reference':>10}  verdict")
    results = []
    for check in checks(args.min_time):
        if args.only and args.only not in check.name:
            continue
        res = run_check(check, cpus, args.rounds)
        results.append(res)
        paired = f"{res['paired_median']:.2f} ({res['paired_min']:.2f}-{res['paired_max']:.2f})"
        print(f"{res['check']:58} {res['target']:>8} {paired:>20} {res['best_ratio']:6.2f} "
              f"{res['ipcatlas_best']:10.4g} {res['reference_best']:10.4g}  {res['verdict']}", flush=True)
    if not args.only or any(args.only in probe_check_name(m) for m in PROBE_MECHANISMS):
        for res in probe_by_state(cpus, 3):
            results.append(res)
            text = "  ".join(f"{state.split(' (')[0]}: {median:.2f} ({n} rounds)"
                             for state, (median, n) in res["per_state"].items())
            print(f"{res['check']:58} {res['target']:>8}  {text}  {res['verdict']}", flush=True)
    if args.only:
        return write_json(args.json, cpus, results)
    for wait in ("spin", "block"):
        per_size = vmsplice_over_pipe(cpus, max(3, args.rounds // 2), wait)
        met = all(r > 1 for r in per_size.values())
        results.append({"check": f"pipe / vmsplice one-way, 64K-4M, --wait {wait}", "target": "> 1 (vmsplice faster)",
                        "per_size": per_size, "verdict": "met" if met else "MISSED"})
        text = "  ".join(f"{int(k) >> 10}K:{v:.2f}" for k, v in per_size.items())
        print(f"{'pipe / vmsplice one-way, --wait ' + wait:58} {'> 1':>8}  {text}  {results[-1]['verdict']}", flush=True)
    for check in alltoall_overhead_checks():
        res = run_check(check, cpus, max(5, args.rounds // 2))
        results.append(res)
        paired = f"{res['paired_median']:.2f} ({res['paired_min']:.2f}-{res['paired_max']:.2f})"
        print(f"{res['check']:58} {res['target']:>8} {paired:>20} {res['best_ratio']:6.2f} "
              f"{res['ipcatlas_best']:10.4g} {res['reference_best']:10.4g}  {res['verdict']}", flush=True)
    contention = manytoone_write_over_read(max(3, args.rounds // 3))
    results.append({"check": "cma-write / cma-read aggregate bandwidth, 4 ranks", "target": "(recorded)",
                    "per_case": contention, "verdict": "context"})
    print(f"{'cma-write / cma-read bandwidth, 4 ranks (oversubscribed)':58} {'record':>8}  "
          + "  ".join(f"{k}:{v:.2f}" for k, v in contention.items()), flush=True)
    for label, mechanisms, limit in (("4 mechanisms", "shm,zerocopy,pipe,unix-stream", 60), ("all mechanisms", "", 120)):
        seconds = default_run_seconds(mechanisms)
        results.append({"check": f"default run, {label}, 1 B - 4 MiB", "target": f"< {limit} s", "seconds": seconds,
                        "verdict": "met" if seconds < limit else "MISSED"})
        print(f"{'default run, ' + label + ' (1 B - 4 MiB)':58} {'< ' + str(limit) + ' s':>8} {seconds:6.1f} s"
              f"{'':42}{results[-1]['verdict']}", flush=True)
    return write_json(args.json, cpus, results)


def write_json(path: Path | None, cpus: list[int], results: list[dict[str, object]]) -> int:
    if path:
        path.write_text(json.dumps({"cpus": cpus, "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
