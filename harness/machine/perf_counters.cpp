#include "harness/machine/perf_counters.hpp"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "harness/base/error.hpp"
#include "harness/base/proc_files.hpp"
#include "harness/machine/fact_making.hpp"

namespace ipcatlas {
namespace {

constexpr std::uint64_t kReadFormat =
    PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;

int perf_event_open(const PerfEvent& event, int group_fd) {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = event.type;
  attr.config = event.config;
  attr.read_format = kReadFormat;
  attr.exclude_kernel = 0;  // the copy of a pipe or of process_vm_readv happens in the kernel
  attr.exclude_hv = 1;      // the hypervisor's work is not the rank's
  return static_cast<int>(
      syscall(SYS_perf_event_open, &attr, 0 /* this process */, -1 /* any CPU */, group_fd, PERF_FLAG_FD_CLOEXEC));
}

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

}  // namespace

std::unique_ptr<PerfCounterGroup> PerfCounterGroup::open(std::span<const PerfEvent> events, std::string& why) {
  std::vector<int> fds;
  for (const PerfEvent& event : events) {
    const int fd = perf_event_open(event, fds.empty() ? -1 : fds.front());
    if (fd < 0) {
      why = perf_open_reason(event, errno);
      for (int open_fd : fds) close(open_fd);
      return nullptr;
    }
    fds.push_back(fd);
  }
  return std::unique_ptr<PerfCounterGroup>(new PerfCounterGroup(std::move(fds)));
}

PerfCounterGroup::~PerfCounterGroup() {
  for (int fd : fds_) close(fd);
}

PerfReading PerfCounterGroup::read() const {
  // struct read_format with PERF_FORMAT_GROUP: nr, time_enabled, time_running, value[nr].
  std::vector<std::uint64_t> raw(3 + fds_.size());
  const ssize_t got = ::read(fds_.front(), raw.data(), raw.size() * sizeof raw[0]);
  if (got < 0) throw SysError("read of a perf_event group", errno);
  if (static_cast<std::size_t>(got) != raw.size() * sizeof raw[0] || raw[0] != fds_.size())
    throw SysError("read of a perf_event group (short read)", EIO);
  return PerfReading{std::vector<std::uint64_t>(raw.begin() + 3, raw.end()), raw[1], raw[2]};
}

std::vector<double> perf_delta(const PerfReading& before, const PerfReading& after) {
  const double enabled = static_cast<double>(after.enabled_ns - before.enabled_ns);
  const double running = static_cast<double>(after.running_ns - before.running_ns);
  const double scale = running > 0 && enabled > running ? enabled / running : 1.0;
  std::vector<double> counts;
  for (std::size_t i = 0; i < after.values.size() && i < before.values.size(); ++i)
    counts.push_back(static_cast<double>(after.values[i] - before.values[i]) * scale);
  return counts;
}

std::string perf_open_reason(const PerfEvent& event, int err, const std::string& root) {
  const std::string call = fmt::format("{} from perf_event_open({})", errno_name(err), event.name);
  if (err == ENOENT || err == EOPNOTSUPP || err == ENODEV) {
    const bool pmu =
        exists(root + "/sys/bus/event_source/devices/cpu") || exists(root + "/sys/bus/event_source/devices/cpu_core");
    return call + (pmu ? ": this CPU's PMU does not offer the event"
                       : ": no hardware PMU is exposed (/sys/bus/event_source/devices/cpu is absent; a VM without "
                         "a virtual PMU: not supported in this VM)");
  }
  if (err == EACCES || err == EPERM) {
    const FileRead paranoid = read_first_line(root + "/proc/sys/kernel/perf_event_paranoid");
    return call + fmt::format(": kernel.perf_event_paranoid is {}; counting kernel time needs 1 or less, or "
                              "CAP_PERFMON (or CAP_SYS_ADMIN), or a seccomp filter refuses the call",
                              paranoid.ok() ? paranoid.text : "unreadable");
  }
  if (err == ENOSYS) return call + ": the kernel has no perf events (CONFIG_PERF_EVENTS) or a seccomp filter refuses";
  if (err == EMFILE) return call + ": out of file descriptors (RLIMIT_NOFILE)";
  return call;
}

Fact perf_counters_fact() {
  const FactId id{"perf_counters", "Hardware counters (perf)"};
  std::string why;
  if (PerfCounterGroup::open(kRankEvents, why))
    return make_fact(id, "cycles and LLC misses, user and kernel: available", Fact::Verdict::ok,
                     "each rank reports cycles_r{rank} and llc_misses_r{rank} per message");
  return make_fact(id, "unavailable: " + why, Fact::Verdict::info,
                   "results carry CPU time per message (getrusage) but no cycles or LLC misses");
}

}  // namespace ipcatlas
