#include "harness/app/output_pattern.hpp"

#include <gtest/gtest.h>

#include "harness/base/error.hpp"

namespace ipcatlas {
namespace {

OutputNames in_job() { return OutputNames{"vm", SlurmJob{"4242", "node2", "ci", "ipcatlas-ci", "0", "2"}}; }

TEST(OutputPattern, ReplacesEveryPlaceholder) {
  EXPECT_EQ(expand_output_pattern("results/%j/%n-%h.json", in_job()), "results/4242/node2-vm.json");
  EXPECT_EQ(expand_output_pattern("100%%/%h.json", in_job()), "100%/vm.json");
  EXPECT_EQ(expand_output_pattern("plain.json", in_job()), "plain.json");
}

TEST(OutputPattern, HostNameWorksOutsideSlurm) {
  EXPECT_EQ(expand_output_pattern("r/%h.json", OutputNames{"vm", std::nullopt}), "r/vm.json");
}

TEST(OutputPattern, SlurmPlaceholdersOutsideSlurmSayWhatToUse) {
  try {
    expand_output_pattern("r/%n.json", OutputNames{"vm", std::nullopt});
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("%n is the Slurm node name"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("use %h"), std::string::npos) << e.what();
  }
  EXPECT_THROW(expand_output_pattern("r/%j.json", OutputNames{"vm", std::nullopt}), UsageError);
}

TEST(OutputPattern, RefusesUnknownAndDanglingPlaceholders) {
  EXPECT_THROW(expand_output_pattern("r/%x.json", in_job()), UsageError);
  EXPECT_THROW(expand_output_pattern("r/run%", in_job()), UsageError);
}

TEST(OutputPattern, RefusesValuesThatWouldLeaveTheDirectory) {
  OutputNames names = in_job();
  names.slurm->node = "../etc";
  EXPECT_THROW(expand_output_pattern("r/%n.json", names), UsageError);
  EXPECT_THROW(expand_output_pattern("r/%h.json", OutputNames{"", std::nullopt}), UsageError);
}

}  // namespace
}  // namespace ipcatlas
