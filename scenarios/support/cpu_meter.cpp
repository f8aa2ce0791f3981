#include "scenarios/support/cpu_meter.hpp"

#include <sys/resource.h>

#include <cerrno>

#include "harness/base/error.hpp"

namespace ipcatlas {
namespace {

std::uint64_t to_ns(const timeval& t) {
  return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(t.tv_usec) * 1000u;
}

// This thread's user and system time. Linux measures the thread's total
// runtime exactly but splits it into user and system by the ticks that
// sampled it since the thread started (scaled to the exact total, and never
// decreasing), so over a short region the split is coarse, and just after
// setup it leans towards setup's split, while user + system is exact.
void thread_cpu(std::uint64_t& user_ns, std::uint64_t& sys_ns) {
  rusage usage;
  check_sys(getrusage(RUSAGE_THREAD, &usage), "getrusage(RUSAGE_THREAD)");
  user_ns = to_ns(usage.ru_utime);
  sys_ns = to_ns(usage.ru_stime);
}

double per(double value, std::uint64_t messages) { return messages ? value / static_cast<double>(messages) : 0; }

}  // namespace

CpuMeter::CpuMeter(std::span<const PerfEvent> events) {
  std::string why;  // `doctor` reports it; a rank that cannot count simply reports no events
  perf_ = PerfCounterGroup::open(events, why);
}

void CpuMeter::start() {
  thread_cpu(user_ns_, sys_ns_);
  if (perf_) events_ = perf_->read();
}

RankCpu CpuMeter::stop(std::uint64_t messages) const {
  RankCpu cpu;
  if (perf_) {
    const std::vector<double> counts = perf_delta(events_, perf_->read());
    cpu.cycles = counts.at(0);
    cpu.llc_misses = counts.at(1);
    cpu.counted = true;
  }
  std::uint64_t user_ns = 0, sys_ns = 0;
  thread_cpu(user_ns, sys_ns);
  cpu.user_ns = user_ns - user_ns_;
  cpu.sys_ns = sys_ns - sys_ns_;
  cpu.messages = messages;
  return cpu;
}

std::string rank_counter_name(std::string_view pattern, int rank) {
  std::string name(pattern);
  const std::size_t at = name.find("{rank}");
  if (at != std::string::npos) name.replace(at, 6, std::to_string(rank));
  return name;
}

void add_cpu_counters(Measurement& m, std::span<const RankCpu> ranks) {
  bool counted = !ranks.empty();
  double user = 0, sys = 0, cycles = 0, misses = 0;
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    const RankCpu& c = ranks[r];
    const int rank = static_cast<int>(r);
    m.counters[rank_counter_name("cpu_user_r{rank}_ns", rank)] = per(static_cast<double>(c.user_ns), c.messages);
    m.counters[rank_counter_name("cpu_sys_r{rank}_ns", rank)] = per(static_cast<double>(c.sys_ns), c.messages);
    user += per(static_cast<double>(c.user_ns), c.messages);
    sys += per(static_cast<double>(c.sys_ns), c.messages);
    cycles += per(c.cycles, c.messages);
    misses += per(c.llc_misses, c.messages);
    counted = counted && c.counted;
  }
  m.counters["cpu_user_ns"] = user;
  m.counters["cpu_sys_ns"] = sys;
  m.counters[std::string(kCpuMetric)] = user + sys;
  if (!counted) return;
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    m.counters[rank_counter_name("cycles_r{rank}", static_cast<int>(r))] = per(ranks[r].cycles, ranks[r].messages);
    m.counters[rank_counter_name("llc_misses_r{rank}", static_cast<int>(r))] =
        per(ranks[r].llc_misses, ranks[r].messages);
  }
  m.counters["cycles"] = cycles;
  m.counters["llc_misses"] = misses;
}

}  // namespace ipcatlas
