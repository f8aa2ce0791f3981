#include "harness/machine/slurm_job.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace ipcatlas {
namespace {

TEST(SlurmJob, ReadsTheTaskEnvironment) {
  const std::map<std::string, std::string> env{{"SLURM_JOB_ID", "7"},
                                               {"SLURMD_NODENAME", "node3"},
                                               {"SLURM_JOB_PARTITION", "ci"},
                                               {"SLURM_CLUSTER_NAME", "c"},
                                               {"SLURM_CPUS_ON_NODE", "2"}};
  const auto lookup = [&env](const char* name) -> const char* {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  const std::optional<SlurmJob> job = slurm_job(lookup);
  ASSERT_TRUE(job);
  EXPECT_EQ(job->node, "node3");
  const auto context = scheduler_context(job);
  EXPECT_EQ(context.front(), (std::pair<std::string, std::string>{"scheduler", "slurm"}));
  EXPECT_NE(std::find(context.begin(), context.end(),
                      std::pair<std::string, std::string>{"slurm_step_id", "batch script"}),
            context.end());
}

TEST(SlurmJob, NoJobWithoutANodeName) {
  const auto lookup = [](const char* name) -> const char* {
    return std::string(name) == "SLURM_JOB_ID" ? "7" : nullptr;
  };
  EXPECT_FALSE(slurm_job(lookup));
  EXPECT_EQ(scheduler_context(std::nullopt).size(), 1u);
}

TEST(SlurmJob, WarnsWhenTheTaskHoldsPartOfTheNode) {
  const SlurmJob job{"7", "node1", "", "", "0", "1"};
  EXPECT_NE(describe_slurm_cpus(job, {0}, 2).find("--whole"), std::string::npos);
  EXPECT_EQ(describe_slurm_cpus(job, {0, 1}, 2).find("--whole"), std::string::npos);
}

}  // namespace
}  // namespace ipcatlas
