"""ipcatlas as a ReFrame check, one run per node with `--distribute`, the way
many sites wrap OSU today. An example for sites that use ReFrame (>= 4.0);
ReFrame is not packaged in Debian, so nothing here tests it.

    reframe -C SITE_CONFIG -c ci/slurm/reframe_ipcatlas.py --distribute=idle -r
    ipcatlas nodes results/reframe/*.json -o results/reframe/nodes --fail-on-outlier

--distribute makes one copy of the check per node of each valid partition
(in the given state) and pins each copy to its node, so every node writes
RESULTS/NODE.json. The comparison of the nodes is then `ipcatlas nodes`:
ReFrame's per-test references cannot judge a node against its peers.
RESULTS must be a directory every node shares (IPCATLAS_RESULTS, else
results/reframe under the directory reframe runs in).
"""
from __future__ import annotations

import os

import reframe as rfm
import reframe.utility.sanity as sn
from reframe.core.builtins import run_after, run_before, sanity_function, variable


@rfm.simple_test
class IpcatlasNodeCheck(rfm.RunOnlyRegressionTest):
    descr = "ipcatlas IPC matrix on one node (one task; ipcatlas forks its own ranks)"
    valid_systems = ["*"]           # e.g. ["mycluster:compute"]
    valid_prog_environs = ["*"]
    # One task with the whole node: a measurement beside another job measures that job.
    num_tasks = 1
    num_tasks_per_node = 1
    exclusive_access = True
    time_limit = "30m"
    executable = variable(str, value=os.environ.get("IPCATLAS", "ipcatlas"))
    results = variable(str, value=os.environ.get("IPCATLAS_RESULTS", os.path.abspath("results/reframe")))
    # The matrix: the same on every node, as in ci/slurm/ipcatlas.sbatch.
    run_args = variable(list, value=["--sizes", "8,4K,64K,1M", "--benchmark_repetitions=5"])

    @run_after("init")
    def write_one_file_per_node(self) -> None:
        # %n is the Slurm node name (SLURMD_NODENAME): one file per node, whatever the job id.
        self.executable_opts = ["run", *self.run_args, "--out", f"{self.results}/%n.json"]

    @run_before("run")
    def give_the_task_every_cpu(self) -> None:
        # ipcatlas forks its ranks inside this one task: it needs all the node's CPUs, not one.
        self.job.launcher.options += ["--whole"]

    @sanity_function
    def every_benchmark_ran(self) -> object:
        # ipcatlas's summary on stderr: "ipcatlas: N measured, F failed, S skipped; results in FILE".
        return sn.assert_found(r"ipcatlas: \d+ measured, 0 failed", self.stderr)
