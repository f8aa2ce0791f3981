#include "harness/base/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ipcatlas {
namespace {

// Nearest rank: ceil(p * n) - 1, as a 0-based index.
std::size_t rank_index(double p, std::size_t n) {
  const auto r = static_cast<std::size_t>(std::ceil(p * static_cast<double>(n)));
  return std::clamp<std::size_t>(r, 1, n) - 1;
}

// nth_element on successively smaller suffixes: each call only looks right of
// the previous percentile, so three percentiles cost about one pass.
double select(std::span<double> values, std::size_t& done, std::size_t index) {
  std::nth_element(values.begin() + static_cast<std::ptrdiff_t>(done),
                   values.begin() + static_cast<std::ptrdiff_t>(index), values.end());
  done = index;
  return values[index];
}

}  // namespace

Percentiles percentiles(std::span<double> values) {
  Percentiles p;
  const std::size_t n = values.size();
  p.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(n);
  std::size_t done = 0;
  p.p50 = select(values, done, rank_index(0.50, n));
  p.p99 = select(values, done, rank_index(0.99, n));
  p.p999 = select(values, done, rank_index(0.999, n));
  p.max = *std::max_element(values.begin() + static_cast<std::ptrdiff_t>(done), values.end());
  return p;
}

}  // namespace ipcatlas
