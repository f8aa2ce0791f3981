#include "harness/base/stats.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

namespace ipcatlas {
namespace {

TEST(Percentiles, NearestRankOnOneToThousand) {
  std::vector<double> v(1000);
  std::iota(v.begin(), v.end(), 1.0);
  std::shuffle(v.begin(), v.end(), std::mt19937(42));
  const Percentiles p = percentiles(v);
  EXPECT_DOUBLE_EQ(p.p50, 500);
  EXPECT_DOUBLE_EQ(p.p99, 990);
  EXPECT_DOUBLE_EQ(p.p999, 999);
  EXPECT_DOUBLE_EQ(p.max, 1000);
  EXPECT_DOUBLE_EQ(p.mean, 500.5);
}

TEST(Percentiles, SmallSamples) {
  std::vector<double> one{7};
  const Percentiles p1 = percentiles(one);
  EXPECT_DOUBLE_EQ(p1.p50, 7);
  EXPECT_DOUBLE_EQ(p1.max, 7);
  std::vector<double> three{30, 10, 20};
  const Percentiles p3 = percentiles(three);
  EXPECT_DOUBLE_EQ(p3.p50, 20);
  EXPECT_DOUBLE_EQ(p3.p99, 30);
  EXPECT_DOUBLE_EQ(p3.max, 30);
}

TEST(Percentiles, AgreeWithSorting) {
  std::mt19937 rng(1);
  std::lognormal_distribution<double> dist(5, 1);
  std::vector<double> v(12345);
  for (double& x : v) x = dist(rng);
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  const Percentiles p = percentiles(v);
  EXPECT_DOUBLE_EQ(p.p50, sorted[6172]);   // ceil(0.5 * 12345) - 1
  EXPECT_DOUBLE_EQ(p.p99, sorted[12221]);  // ceil(0.99 * 12345) - 1
  EXPECT_DOUBLE_EQ(p.p999, sorted[12332]);
  EXPECT_DOUBLE_EQ(p.max, sorted.back());
}

}  // namespace
}  // namespace ipcatlas
