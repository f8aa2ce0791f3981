// The drift canary: a real bounce between two PUs gives a plausible figure,
// one PU gives none, and the summary finds two states where there are two.
#include "harness/app/canary.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

namespace ipcatlas {
namespace {

TEST(Canary, BouncesALineBetweenTwoPus) {
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "needs two PUs";
  const std::optional<double> ns = cache_line_bounce_ns(0, 1, 0.002);
  ASSERT_TRUE(ns);
  EXPECT_GT(*ns, 1.0);
  EXPECT_LT(*ns, 1e6) << "a bounce takes nanoseconds to microseconds, not milliseconds";
  EXPECT_FALSE(cache_line_bounce_ns(0, 0)) << "one PU cannot bounce a line with itself";
}

TEST(Canary, OneStateIsOneState) {
  const CanarySummary s = summarize_canaries({50, 52, 49, 55, 51, 60, 48, 53, 50, 54});
  EXPECT_FALSE(s.multimodal);
  EXPECT_EQ(s.count, 10u);
  EXPECT_DOUBLE_EQ(s.min_ns, 48);
  EXPECT_NE(describe(s).find("one state"), std::string::npos);
}

TEST(Canary, TwoStatesAreFoundAndSplit) {
  std::vector<double> v = {50, 48, 52, 250, 51, 245, 49, 260, 53, 47, 240, 50};
  const CanarySummary s = summarize_canaries(v);
  ASSERT_TRUE(s.multimodal);
  EXPECT_EQ(s.low_count, 8u);
  EXPECT_EQ(s.high_count, 4u);
  EXPECT_GT(s.split_ns, 53);
  EXPECT_LT(s.split_ns, 240);
  EXPECT_NEAR(s.low_mode_ns, 50, 1.5);
  EXPECT_NEAR(s.high_mode_ns, 250, 6);
  EXPECT_NE(describe(s).find("two states"), std::string::npos);
}

TEST(Canary, ALoneOutlierIsNotASecondState) {
  const CanarySummary s =
      summarize_canaries({50, 52, 49, 55, 51, 400, 48, 53, 50, 54, 52, 51, 50, 49, 50, 51, 52, 50, 49, 50, 51});
  EXPECT_FALSE(s.multimodal) << "a state needs at least 10% of the runs";
  EXPECT_TRUE(summarize_canaries({}).count == 0);
}

}  // namespace
}  // namespace ipcatlas
