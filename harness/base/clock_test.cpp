#include "harness/base/clock.hpp"

#include <gtest/gtest.h>

namespace ipcatlas {
namespace {

std::uint64_t busy_for_ns(std::uint64_t ns) {
  const std::uint64_t start = now_ns();
  std::uint64_t now = start;
  while (now - start < ns) now = now_ns();
  return now - start;
}

// pingpong's per-message intervals are ticks scaled by a TickScale taken over
// the batch: ticks of a later stretch, so scaled, must read as its ns.
TEST(TickScale, ScaledTicksAgreeWithTheMonotonicClock) {
  TickScale scale;
  scale.start();
  busy_for_ns(2'000'000);
  const double ns_per_tick = scale.stop();
  ASSERT_GT(ns_per_tick, 0.01);   // a counter of at most 100 GHz
  ASSERT_LT(ns_per_tick, 100.0);  // and at least 10 MHz

  const std::uint64_t ticks_before = cpu_ticks();
  const std::uint64_t ns = busy_for_ns(2'000'000);
  const double scaled = static_cast<double>(cpu_ticks() - ticks_before) * ns_per_tick;
  EXPECT_NEAR(scaled / static_cast<double>(ns), 1.0, 0.05);
}

}  // namespace
}  // namespace ipcatlas
