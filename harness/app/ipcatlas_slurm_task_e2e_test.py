"""What a Slurm task sees: `run --out` placeholders, the Slurm context (the task's
environment faked; the real cluster is tested in ci/slurm) and a CPU binding."""
from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from e2e_support import BINARY, QUICK, nothing_left_behind  # noqa: F401

pytestmark = pytest.mark.usefixtures("nothing_left_behind")

TINY = ["--mechanisms", "shm", "--sizes", "64", *QUICK]
NOT_SLURM = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM", "SLURMD"))}
TASK = {**NOT_SLURM, "SLURM_JOB_ID": "4242", "SLURMD_NODENAME": "node7", "SLURM_JOB_PARTITION": "ci",
        "SLURM_CLUSTER_NAME": "atlas", "SLURM_STEP_ID": "0", "SLURM_CPUS_ON_NODE": "2"}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BINARY), "run", *args], capture_output=True, text=True, env=env, timeout=120)


def test_a_slurm_task_writes_its_node_file_with_the_job_in_the_context(tmp_path: Path) -> None:
    proc = run(TASK, *TINY, "--out", str(tmp_path / "cluster" / "%j" / "%n.json"))
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "cluster" / "4242" / "node7.json"
    context = json.loads(out.read_text())["context"]
    assert (tmp_path / "cluster" / "4242" / "node7.topology.xml").exists()
    assert {key: context[key] for key in ("scheduler", "slurm_job_id", "slurm_node", "slurm_partition",
                                          "slurm_cluster")} == {
        "scheduler": "slurm", "slurm_job_id": "4242", "slurm_node": "node7", "slurm_partition": "ci",
        "slurm_cluster": "atlas"}
    assert "Slurm job 4242 on node node7: ranks run on the PUs the task may use" in proc.stderr


def test_outside_slurm_the_host_name_works_and_the_context_says_none(tmp_path: Path) -> None:
    proc = run(NOT_SLURM, *TINY, "--out", str(tmp_path / "%h-100%%.json"))
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / f"{socket.gethostname().split('.')[0]}-100%.json"
    assert json.loads(out.read_text())["context"]["scheduler"] == "none"


@pytest.mark.parametrize("pattern, message", [
    ("%n.json", "%n is the Slurm node name, but this run is not in a Slurm job"),
    ("%j.json", "%j is the Slurm job id"),
    ("%q.json", "'%q' is not a placeholder"),
    ("run%", "ends in a lone '%'"),
])
def test_a_placeholder_that_cannot_be_filled_is_refused_before_running(tmp_path: Path, pattern: str,
                                                                       message: str) -> None:
    proc = run(NOT_SLURM, *TINY, "--out", str(tmp_path / pattern))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_ranks_keep_to_the_cpus_the_process_was_bound_to() -> None:
    # Slurm's task/affinity binds a task as taskset does; hwloc's allowed set (the cgroup
    # cpuset) does not see that binding, so without care the ranks would pin themselves
    # to PUs the task was not given.
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        pytest.skip("needs two allowed PUs to bind the process to one of them")
    proc = subprocess.run(["taskset", "-c", str(allowed[-1]), str(BINARY), "list", "--placements"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert f"PUs {allowed[-1]},{allowed[-1]} (self, oversubscribed)" in proc.stdout
    refused = subprocess.run(["taskset", "-c", str(allowed[-1]), str(BINARY), "run", "--cpus",
                              f"{allowed[0]},{allowed[-1]}", *TINY], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert f"CPU {allowed[0]} is not allowed for this process" in refused.stderr
