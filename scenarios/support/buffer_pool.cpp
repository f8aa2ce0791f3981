#include "scenarios/support/buffer_pool.hpp"

#include <emmintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <numeric>

namespace ipcatlas {

BufferPool::BufferPool(std::size_t bytes, std::size_t count, int numa_node)
    : bytes_(bytes),
      count_(count),
      stride_(round_up_to_pages(bytes)),
      step_(rotation_step(count)),
      memory_(stride_ * count, numa_node) {}

namespace {

constexpr std::size_t kCacheLine = 64;

// memcpy with non-temporal (streaming) stores for the 16-byte-aligned middle:
// the destination's lines are written to memory without staying in the cache.
void copy_bypassing_cache(std::byte* dst, const std::byte* src, std::size_t n) {
  const std::size_t head = std::min(n, (16 - reinterpret_cast<std::uintptr_t>(dst) % 16) % 16);
  std::memcpy(dst, src, head);
  std::size_t done = head;
  for (; done + 16 <= n; done += 16)
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + done),
                     _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + done)));
  std::memcpy(dst + done, src + done, n - done);
}

// Writes back and evicts every cache line that holds part of [p, p + n).
void evict_from_cache(const std::byte* p, std::size_t n) {
  if (n == 0) return;
  const auto first = reinterpret_cast<std::uintptr_t>(p) / kCacheLine * kCacheLine;
  for (std::uintptr_t line = first; line < reinterpret_cast<std::uintptr_t>(p) + n; line += kCacheLine)
    _mm_clflush(reinterpret_cast<const void*>(line));
}

}  // namespace

void BufferPool::copy_body_to_all(std::size_t offset, std::size_t bytes) const {
  if (count_ == 1) return;
  const std::byte* first = at(0).data() + offset;
  for (std::size_t i = 1; i < count_; ++i) copy_bypassing_cache(at(i).data() + offset, first, bytes);
  _mm_sfence();  // the streaming stores are done before the peer reads the buffers
  evict_from_cache(first, bytes);
  _mm_mfence();
}

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
