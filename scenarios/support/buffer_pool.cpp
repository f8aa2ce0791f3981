#include "scenarios/support/buffer_pool.hpp"

#include <algorithm>
#include <numeric>

namespace ipcatlas {

BufferPool::BufferPool(std::size_t bytes, std::size_t count, int numa_node)
    : bytes_(bytes),
      count_(count),
      stride_(round_up_to_pages(bytes)),
      step_(rotation_step(count)),
      memory_(stride_ * count, numa_node) {}

std::size_t cold_pool_bytes(const Topology& topology, const std::vector<int>& pus) {
  return 2 * topology.last_level_cache_bytes(pus);
}

std::size_t cold_pool_count(std::size_t bytes, std::size_t pool_bytes) {
  const std::size_t stride = round_up_to_pages(bytes);
  return std::max<std::size_t>(2, (pool_bytes + stride - 1) / stride);
}

std::size_t rotation_step(std::size_t count) {
  // Near count / golden ratio, successive positions spread most evenly
  // (Fibonacci hashing). Steps 1 and count - 1 go next door; counts 3, 4
  // and 6 have no other step coprime with them.
  const auto suits = [count](std::size_t step) { return step >= 2 && step + 2 <= count && std::gcd(step, count) == 1; };
  const auto ideal = static_cast<std::size_t>(static_cast<double>(count) * 0.618);
  for (std::size_t d = 0; d <= ideal; ++d) {
    if (suits(ideal - d)) return ideal - d;
    if (suits(ideal + d)) return ideal + d;
  }
  return 1;
}

}  // namespace ipcatlas
