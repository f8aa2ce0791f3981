#include "harness/app/canary.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include <fmt/format.h>

#include "harness/base/text.hpp"

namespace ipcatlas {
namespace {

using Clock = std::chrono::steady_clock;

bool pin_this_thread(int pu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(pu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

// The line both threads write, alone in its cache line.
struct alignas(64) Line {
  std::atomic<std::uint64_t> value{0};
  std::atomic<bool> stop{false};
};

constexpr std::uint64_t kWarmup = 200;
constexpr std::uint64_t kCheckEvery = 256;  // round trips between two reads of the clock

// The answering side: waits for each odd value and writes the next even one.
void answer(Line& line, int pu, std::atomic<bool>& pinned) {
  pinned = pin_this_thread(pu);
  for (std::uint64_t i = 0;; ++i) {
    std::uint64_t v;
    while ((v = line.value.load(std::memory_order_acquire)) != 2 * i + 1)
      if (line.stop.load(std::memory_order_relaxed)) return;
    line.value.store(v + 1, std::memory_order_release);
  }
}

double percentile(const std::vector<double>& sorted, double p) {
  const std::size_t i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

double median_of(std::vector<double>::const_iterator begin, std::vector<double>::const_iterator end) {
  const std::vector<double> part(begin, end);
  return percentile(part, 0.5);
}

}  // namespace

std::optional<double> cache_line_bounce_ns(int pu_a, int pu_b, double seconds) {
  if (pu_a == pu_b) return std::nullopt;
  Line line;
  std::atomic<bool> answerer_pinned{false};
  std::optional<double> result;
  std::thread asker([&] {
    if (!pin_this_thread(pu_a)) return;
    const auto budget = std::chrono::duration<double>(seconds);
    Clock::time_point start;
    std::uint64_t timed = 0;
    for (std::uint64_t i = 0;; ++i) {
      if (i == kWarmup) start = Clock::now();
      line.value.store(2 * i + 1, std::memory_order_release);
      while (line.value.load(std::memory_order_acquire) != 2 * i + 2) {
      }
      if (i >= kWarmup && (i - kWarmup + 1) % kCheckEvery == 0 && Clock::now() - start >= budget) {
        timed = i - kWarmup + 1;
        break;
      }
    }
    const double elapsed = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    result = elapsed / static_cast<double>(timed) / 2;
  });
  std::thread answerer([&] { answer(line, pu_b, answerer_pinned); });
  asker.join();
  line.stop = true;
  answerer.join();
  if (!answerer_pinned) return std::nullopt;
  return result;
}

CanarySummary summarize_canaries(std::vector<double> values) {
  CanarySummary s;
  s.count = values.size();
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.median_ns = percentile(values, 0.5);
  s.p10_ns = percentile(values, 0.1);
  s.p90_ns = percentile(values, 0.9);
  s.min_ns = values.front();
  s.max_ns = values.back();
  // The widest ratio between neighbours, each side keeping at least 10% of the values.
  const std::size_t least = std::max<std::size_t>(1, (values.size() + 9) / 10);
  double widest = 1;
  std::size_t split = 0;
  for (std::size_t i = least; i + least <= values.size(); ++i)
    if (values[i - 1] > 0 && values[i] / values[i - 1] > widest) {
      widest = values[i] / values[i - 1];
      split = i;
    }
  if (widest < kModeGap) return s;
  s.multimodal = true;
  s.low_mode_ns = median_of(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(split));
  s.high_mode_ns = median_of(values.begin() + static_cast<std::ptrdiff_t>(split), values.end());
  s.split_ns = std::sqrt(values[split - 1] * values[split]);
  s.low_count = split;
  s.high_count = values.size() - split;
  return s;
}

std::string describe(const CanarySummary& s) {
  if (s.count == 0) return "no canary (the ranks share one PU)";
  std::string text = fmt::format("canary (cache-line bounce) {:.0f} ns median, p10 {:.0f}, p90 {:.0f} over {} runs",
                                 s.median_ns, s.p10_ns, s.p90_ns, s.count);
  if (s.multimodal)
    text +=
        fmt::format("; the host was in two states: ~{:.0f} ns ({} runs) and ~{:.0f} ns ({} runs), split at {:.0f} ns",
                    s.low_mode_ns, s.low_count, s.high_mode_ns, s.high_count, s.split_ns);
  else text += "; one state";
  return text;
}

}  // namespace ipcatlas
