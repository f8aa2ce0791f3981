"""End-to-end: ipcatlas under a real Slurm cluster (cluster.py: munged, one
slurmctld and three slurmd on this machine). The batch template
(ipcatlas.sbatch) and the plain `srun` path each must write one complete
result file per node, with the Slurm context, and the template must run
`ipcatlas nodes` on them; stopping the cluster must leave nothing behind.

The binary comes from $IPCATLAS_BIN (set by ctest), else build/release.
Without Slurm (or root, which slurmd needs to start jobs) the tests skip;
with IPCATLAS_REQUIRE_SLURM=1 (ci/test) they fail instead."""
from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cluster
from cluster_processes import cluster_processes, is_step_daemon

REPO = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("IPCATLAS_BIN", REPO / "build" / "release" / "ipcatlas"))
TEMPLATE = Path(__file__).resolve().parent / "ipcatlas.sbatch"
MECHANISMS, SIZES, REPETITIONS = ("shm", "pipe"), ("64", "4K"), 3
TINY_MATRIX = [f"--mechanisms={','.join(MECHANISMS)}", f"--sizes={','.join(SIZES)}",
               f"--benchmark_repetitions={REPETITIONS}", "--benchmark_min_time=0.01"]
JOB_TIMEOUT = 180
FINISHED = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE")


def slurm_unusable() -> str | None:
    """Why this machine cannot run the cluster, or None."""
    missing = cluster.missing_binaries()
    if missing:
        return f"Slurm/munge not installed (missing {', '.join(missing)}; ci/setup installs them)"
    if os.geteuid() != 0:
        return "slurmd must run as root to start jobs"
    return None


def require_slurm() -> None:
    """Skip without Slurm; with IPCATLAS_REQUIRE_SLURM=1 (ci/test) fail instead."""
    reason = slurm_unusable()
    if reason is None:
        return
    if os.environ.get("IPCATLAS_REQUIRE_SLURM") == "1":
        pytest.fail(f"{reason}; IPCATLAS_REQUIRE_SLURM=1 forbids skipping")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One cluster for the module; stopped at the end, and nothing of it may be
    left: no daemon, no slurmstepd, no task, and no stray that stop() had to kill."""
    require_slurm()
    root = tmp_path_factory.mktemp("slurm")
    cluster.start(root)
    yield root
    strays = cluster.stop(root)
    assert strays == [], f"processes outlived their job or daemon: {strays}"
    assert cluster_processes(root) == []


def slurm_run(root: Path, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, env=env or cluster.client_env(root),
                          timeout=JOB_TIMEOUT)
    assert proc.returncode == 0, f"{' '.join(argv)}: {proc.stderr}"
    return proc


def job_fields(root: Path, job: str) -> dict[str, str]:
    """`scontrol show job` as key -> value (one line, -o); values hold no blanks for the keys read here."""
    line = slurm_run(root, "scontrol", "--oneliner", "show", "job", job).stdout
    return dict(part.split("=", 1) for part in line.split() if "=" in part)


def wait_for_job(root: Path, job: str, output: Path) -> dict[str, str]:
    """Polls scontrol until the job has finished; its fields then."""
    deadline = time.monotonic() + JOB_TIMEOUT
    while (fields := job_fields(root, job))["JobState"] not in FINISHED:
        if time.monotonic() > deadline:
            slurm_run(root, "scancel", job)
            pytest.fail(f"job {job} still {fields['JobState']} after {JOB_TIMEOUT} s:\n{read(output)}")
        time.sleep(0.5)
    return fields


def read(path: Path, lines: int = 40) -> str:
    """The end of a job's output, for a failure message."""
    if not path.exists():
        return f"({path} not written)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def check_node_result(path: Path, node: str, job: str) -> None:
    """A complete run of the tiny matrix on `node`, every repetition ok, with the Slurm context."""
    assert path.exists(), f"no result from {node}: {sorted(p.name for p in path.parent.iterdir())}"
    result: dict[str, Any] = json.loads(path.read_text())
    context = result["context"]
    assert context["scheduler"] == "slurm"
    assert (context["slurm_job_id"], context["slurm_node"]) == (job, node)
    assert (context["slurm_partition"], context["slurm_cluster"]) == (cluster.PARTITION, cluster.CLUSTER_NAME)
    runs = [b for b in result["benchmarks"] if b.get("run_type") == "iteration"]
    assert [b["name"] for b in runs if b.get("ipcatlas_status") != "ok"] == []
    repetitions = Counter(b["run_name"] for b in runs)
    assert len(repetitions) == len(MECHANISMS) * len(SIZES), sorted(repetitions)
    assert set(repetitions.values()) == {REPETITIONS}


def test_sbatch_template_runs_once_per_node_then_compares_the_nodes(slurm: Path, tmp_path: Path) -> None:
    """The template with a tiny matrix, one node after the other: the job
    succeeds, each node wrote a complete result with the Slurm context into
    RESULTS/JOB/NODE.json, and `ipcatlas nodes` wrote its comparison."""
    results, output = tmp_path / "results", tmp_path / "job.out"
    env = cluster.client_env(slurm) | {
        "IPCATLAS": str(BINARY), "IPCATLAS_RESULTS": str(results), "IPCATLAS_RUN_ARGS": " ".join(TINY_MATRIX),
        # The three nodes share this machine's CPUs: at once, they would measure each other.
        "IPCATLAS_ONE_NODE_AT_A_TIME": "1"}
    submitted = slurm_run(slurm, "sbatch", "--parsable", f"--nodes={len(cluster.NODES)}",
                          f"--partition={cluster.PARTITION}", f"--chdir={tmp_path}", f"--output={output}",
                          str(TEMPLATE), env=env)
    job = submitted.stdout.strip().split(";")[0]
    fields = wait_for_job(slurm, job, output)
    assert (fields["JobState"], fields["ExitCode"]) == ("COMPLETED", "0:0"), read(output)
    for node in cluster.NODES:
        check_node_result(results / job / f"{node}.json", node, job)
    comparison = results / job / "nodes"
    assert (comparison / "nodes.md").exists() and (comparison / "nodes.json").exists(), read(output)
    assert all(node in (comparison / "nodes.md").read_text() for node in cluster.NODES)


def test_sbatch_template_fails_and_names_the_nodes_without_a_result(slurm: Path, tmp_path: Path) -> None:
    """The health check's exit status: a run that fails on every node (here a
    bad option; all nodes at once, the template's default) fails the job, and
    the job's output names each node that gave no result."""
    output = tmp_path / "job.out"
    env = cluster.client_env(slurm) | {"IPCATLAS": str(BINARY), "IPCATLAS_RESULTS": str(tmp_path / "results"),
                                       "IPCATLAS_RUN_ARGS": "--sizes=0:abc"}
    submitted = slurm_run(slurm, "sbatch", "--parsable", f"--nodes={len(cluster.NODES)}", f"--output={output}",
                          str(TEMPLATE), env=env)
    fields = wait_for_job(slurm, submitted.stdout.strip().split(";")[0], output)
    assert (fields["JobState"], fields["ExitCode"]) == ("FAILED", "1:0"), read(output)
    assert f"no result from 3 node(s): {' '.join(cluster.NODES)}" in read(output)


def test_plain_srun_runs_one_task_per_node(slurm: Path, tmp_path: Path) -> None:
    """The path without the template: one srun in an exclusive allocation, one
    task on each node at once (the three runs share two cores here, which only
    slows them down)."""
    proc = slurm_run(slurm, "salloc", f"--nodes={len(cluster.NODES)}", "--exclusive",
                     "srun", "--ntasks-per-node=1", "--whole",
                     str(BINARY), "run", *TINY_MATRIX, "--out", f"{tmp_path}/%j/%n.json")
    jobs = [p.name for p in tmp_path.iterdir() if p.is_dir()]
    assert len(jobs) == 1, (jobs, proc.stderr)
    for node in cluster.NODES:
        check_node_result(tmp_path / jobs[0] / f"{node}.json", node, jobs[0])


def cpu_counts(root: Path, *srun: str) -> list[int]:
    """How many CPUs each task may run on under `srun` (+ options), one task per node."""
    proc = slurm_run(root, *srun, f"--nodes={len(cluster.NODES)}", "--ntasks-per-node=1",
                     "grep", "Cpus_allowed_list", "/proc/self/status")
    counts = []
    for line in proc.stdout.splitlines():
        ranges = [part.split("-") for part in line.split(":")[1].strip().split(",")]
        counts.append(sum(int(r[-1]) - int(r[0]) + 1 for r in ranges))
    return counts


def test_a_whole_step_of_an_exclusive_allocation_gets_every_cpu(slurm: Path) -> None:
    """Why the template and the README use `--exclusive` for the allocation and
    `--whole` for the step: ipcatlas needs the node's CPUs for its ranks, and
    `srun --exclusive` alone gives each task one CPU (for a step it means --exact)."""
    every_cpu = [os.cpu_count()] * len(cluster.NODES)
    assert cpu_counts(slurm, "salloc", "--exclusive", f"--nodes={len(cluster.NODES)}", "srun", "--whole") == every_cpu
    assert cpu_counts(slurm, "srun", "--exclusive") == [1] * len(cluster.NODES)


def test_a_task_given_one_cpu_keeps_its_ranks_there_and_says_so(slurm: Path, tmp_path: Path) -> None:
    """Under task/affinity a step's task is bound to its CPUs; ipcatlas's ranks pin themselves,
    so they must stay inside that binding (not escape to the node's other CPUs), and the run
    must say that Slurm gave it part of the node."""
    proc = slurm_run(slurm, "srun", "--nodes=1", "--ntasks=1", "--exclusive", str(BINARY), "run",
                     "--mechanisms=shm", "--sizes=64", "--benchmark_min_time=0.01", "--out", f"{tmp_path}/%n.json")
    [result] = tmp_path.glob("node*.json")
    context = json.loads(result.read_text())["context"]
    assert "1 of" in context["slurm_cpus"] and "srun --whole" in context["slurm_cpus"], context["slurm_cpus"]
    assert context["oversubscribed"].startswith("yes") and len(set(context["cpus"].split(","))) == 1
    assert "Slurm gave this task part of the node" in proc.stderr


def test_without_slurm_the_tests_skip_unless_ci_requires_slurm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "missing_binaries", lambda: ["slurmd"])
    monkeypatch.delenv("IPCATLAS_REQUIRE_SLURM", raising=False)
    with pytest.raises(pytest.skip.Exception, match="missing slurmd"):
        require_slurm()
    monkeypatch.setenv("IPCATLAS_REQUIRE_SLURM", "1")
    with pytest.raises(pytest.fail.Exception, match="IPCATLAS_REQUIRE_SLURM=1 forbids skipping"):
        require_slurm()


def test_stop_ends_running_jobs_and_leaves_nothing(tmp_path: Path) -> None:
    """A cluster stopped while a job runs: the job is cancelled, its
    slurmstepd and task end, every daemon exits, and no process of it is left."""
    require_slurm()
    root = tmp_path / "c"
    with cluster.running_cluster(root):
        slurm_run(root, "sbatch", "--nodes=2", f"--output={tmp_path}/sleep.out", "--wrap", "srun sleep 300")
        deadline = time.monotonic() + 30
        while not any(is_step_daemon(pid) for pid in cluster_processes(root)):
            assert time.monotonic() < deadline, "the job's steps never started"
            time.sleep(0.2)
    assert cluster_processes(root) == []
    assert list((root / "pid").iterdir()) == []
