// Order statistics of per-message times.
#pragma once

#include <cstdint>
#include <span>

namespace ipcatlas {

struct Percentiles {
  double p50 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
};

// Percentiles of `values` by the nearest-rank method (the p-th percentile is
// the smallest value with at least p% of the values at or below it).
// Reorders `values`. Requires a non-empty span.
Percentiles percentiles(std::span<double> values);

}  // namespace ipcatlas
