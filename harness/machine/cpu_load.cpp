// The cpu_load fact of `ipcatlas doctor` (declared in machine_facts.hpp):
// how busy the chosen PUs are, from two samples of /proc/stat. The facts
// read once, from settings, are in machine_facts.cpp.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "harness/base/proc_files.hpp"
#include "harness/base/text.hpp"
#include "harness/machine/fact_making.hpp"
#include "harness/machine/machine_facts.hpp"

namespace ipcatlas {
namespace {

using Verdict = Fact::Verdict;

constexpr FactId kCpuLoad{"cpu_load", "Load on the chosen PUs"};

// Jiffies of one "cpuN" line of /proc/stat. Guest time is already inside user and nice, so it is left out.
struct CpuTimes {
  unsigned long long total = 0, idle = 0, steal = 0;
};

// (PU number, its times) for every "cpuN" line; offline PUs have no line.
std::vector<std::pair<int, CpuTimes>> parse_proc_stat(const std::string& stat) {
  std::vector<std::pair<int, CpuTimes>> pus;
  std::istringstream lines(stat);
  for (std::string line; std::getline(lines, line);) {
    // The aggregate "cpu " line has no number; sscanf's %d would skip the blank and misread it.
    if (line.size() < 4 || line.compare(0, 3, "cpu") != 0 || !std::isdigit(static_cast<unsigned char>(line[3])))
      continue;
    int pu = -1;
    unsigned long long f[8] = {};
    if (std::sscanf(line.c_str(), "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &pu, &f[0], &f[1], &f[2], &f[3],
                    &f[4], &f[5], &f[6], &f[7]) != 9)
      continue;
    CpuTimes times;
    for (unsigned long long v : f) times.total += v;
    times.idle = f[3] + f[4];  // idle + iowait: waiting for I/O leaves the PU free to run us
    times.steal = f[7];
    pus.emplace_back(pu, times);
  }
  return pus;
}

const CpuTimes* find_pu(const std::vector<std::pair<int, CpuTimes>>& pus, int pu) {
  for (const auto& [id, times] : pus)
    if (id == pu) return &times;
  return nullptr;
}

double percent(unsigned long long part, unsigned long long whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

// Counter growth between samples, never negative: iowait is known to step backwards.
unsigned long long growth(unsigned long long before, unsigned long long after) {
  return after > before ? after - before : 0;
}

std::string pu_list(const std::vector<int>& pus) { return (pus.size() == 1 ? "PU " : "PUs ") + join(pus, ", "); }

struct PuLoad {
  double busy_percent;
  unsigned long long steal, elapsed;
};

PuLoad pu_load(const CpuTimes& before, const CpuTimes& after) {
  const unsigned long long elapsed = growth(before.total, after.total), steal = growth(before.steal, after.steal);
  // Stolen time is the host's doing, not another process here: it is reported on its own.
  const unsigned long long not_busy = std::min(growth(before.idle, after.idle) + steal, elapsed);
  return {percent(elapsed - not_busy, elapsed), steal, elapsed};
}

}  // namespace

Fact cpu_load_from_samples(const std::string& before, const std::string& after, const std::vector<int>& pus,
                           double seconds) {
  const auto first = parse_proc_stat(before), second = parse_proc_stat(after);
  std::vector<std::string> loads;
  std::vector<int> busy_pus;
  unsigned long long steal = 0, elapsed = 0;
  for (int pu : pus) {
    const CpuTimes *a = find_pu(first, pu), *b = find_pu(second, pu);
    if (a == nullptr || b == nullptr) {
      loads.push_back(fmt::format("PU {}: not in /proc/stat", pu));
      continue;
    }
    const PuLoad load = pu_load(*a, *b);
    loads.push_back(fmt::format("PU {}: {:.0f}% busy", pu, load.busy_percent));
    if (load.busy_percent > 10.0) busy_pus.push_back(pu);
    steal += load.steal;
    elapsed += load.elapsed;
  }
  const double steal_percent = percent(steal, elapsed);
  std::vector<std::string> hints;
  if (!busy_pus.empty())
    hints.push_back("another process is using " + pu_list(busy_pus) +
                    ": results will be noisy; pick other PUs with --cpus or stop it");
  if (steal_percent > 5.0) hints.push_back("the hypervisor is running other guests on these vCPUs");
  const std::string value = fmt::format("{} (over {:g} s); steal {:.0f}%", join(loads), seconds, steal_percent);
  return make_fact(kCpuLoad, value, hints.empty() ? Verdict::ok : Verdict::warn, join(hints, "; also "));
}

Fact cpu_load_fact(const std::vector<int>& pus, double seconds, const std::string& root) {
  const std::string path = root + "/proc/stat";
  const FileRead before = read_file(path);
  if (!before.ok()) return unreadable_fact(kCpuLoad, before);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const FileRead after = read_file(path);
  if (!after.ok()) return unreadable_fact(kCpuLoad, after);
  return cpu_load_from_samples(before.text, after.text, pus, seconds);
}

}  // namespace ipcatlas
