// Hardware event counts of one process (cycles, last-level cache misses)
// through perf_event_open, counting the kernel too.
//
// Why not Google Benchmark's counters: they count user space only, in one
// process, so the copy a pipe or process_vm_readv makes inside a system call
// is invisible to them, and so is the peer rank. Each rank opens its own
// group here, on itself (pid 0, any CPU), with exclude_kernel = 0 and
// exclude_hv = 1.
//
// Where the counters cannot be opened (a VM without a virtual PMU: ENOENT;
// perf_event_paranoid too high for kernel counting: EACCES; a seccomp filter:
// EPERM/ENOSYS) open() says why, `doctor` reports it, and the scenarios omit
// the counters instead of reporting zeros. Tests run the same code with
// software events (task clock, context switches), which every kernel has.
#pragma once

#include <linux/perf_event.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harness/machine/machine_facts.hpp"

namespace ipcatlas {

struct PerfEvent {
  std::string_view name;  // for messages: "cycles"
  std::uint32_t type;     // PERF_TYPE_HARDWARE, PERF_TYPE_SOFTWARE, ...
  std::uint64_t config;   // PERF_COUNT_HW_CPU_CYCLES, ...
};

inline constexpr PerfEvent kCyclesEvent{"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES};
inline constexpr PerfEvent kLlcMissesEvent{"last-level cache misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES};
// What the scenarios count: the leader first.
inline constexpr PerfEvent kRankEvents[] = {kCyclesEvent, kLlcMissesEvent};

// One read of a group: a value per event and the group's enabled and running times.
struct PerfReading {
  std::vector<std::uint64_t> values;
  std::uint64_t enabled_ns = 0;
  std::uint64_t running_ns = 0;
};

class PerfCounterGroup {
 public:
  // Opens `events` as one group on the calling process, counting from now.
  // Returns null, with the reason in `why`, when the kernel refuses one.
  static std::unique_ptr<PerfCounterGroup> open(std::span<const PerfEvent> events, std::string& why);
  ~PerfCounterGroup();
  PerfCounterGroup(const PerfCounterGroup&) = delete;
  PerfCounterGroup& operator=(const PerfCounterGroup&) = delete;

  PerfReading read() const;  // throws SysError if the read fails

 private:
  explicit PerfCounterGroup(std::vector<int> fds) : fds_(std::move(fds)) {}
  std::vector<int> fds_;  // the leader first
};

// Counts between two readings of one group. When the kernel multiplexed the
// group (running < enabled), the counts are scaled up by enabled/running, as
// `perf stat` does.
std::vector<double> perf_delta(const PerfReading& before, const PerfReading& after);

// Why an event cannot be opened, from perf_event_open's errno.
std::string perf_open_reason(const PerfEvent& event, int err, const std::string& root = "");

// `doctor`: whether the ranks can count cycles and LLC misses, kernel included, and if not, why.
Fact perf_counters_fact();

}  // namespace ipcatlas
