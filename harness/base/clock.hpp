// The one clock every measurement uses: CLOCK_MONOTONIC through the vDSO, in ns.
#pragma once

#include <cstdint>
#include <ctime>

namespace ipcatlas {

inline std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace ipcatlas
