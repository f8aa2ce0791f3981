// The one clock every measurement uses: CLOCK_MONOTONIC through the vDSO, in ns.
#pragma once

#include <x86intrin.h>

#include <cstdint>
#include <ctime>

namespace ipcatlas {

inline std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// The time-stamp counter, for per-message intervals only: a third of the
// cost of now_ns() in a KVM guest (12 ns against 31 ns on the AMD EPYC
// development host), which matters where a reading sits between two
// messages of a 40 ns ping-pong. Ticks become ns through a scale measured
// against now_ns() over the same stretch of time (TickScale), so nothing
// depends on the counter's nominal frequency. Not ordered against memory
// accesses (no fence): each reading is taken at the same point of a loop,
// and the intervals between readings telescope to the loop's time.
inline std::uint64_t cpu_ticks() { return __rdtsc(); }

// ns per tick between start() and stop(), from now_ns() and cpu_ticks().
class TickScale {
 public:
  void start() {
    ns_ = now_ns();
    ticks_ = cpu_ticks();
  }
  double stop() const {
    const std::uint64_t ticks = cpu_ticks() - ticks_, ns = now_ns() - ns_;
    return ticks > 0 ? static_cast<double>(ns) / static_cast<double>(ticks) : 0.0;
  }

 private:
  std::uint64_t ns_ = 0, ticks_ = 0;
};

}  // namespace ipcatlas
