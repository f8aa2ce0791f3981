// Where one channel's messages live at one end: one buffer reused by every
// message (--cache hot), or a pool of buffers that messages rotate through
// (--cache cold).
//
// Why a pool, and how large. A benchmark that reuses one buffer finds it in
// the cache at every message; production traffic rarely does (Intel MPI
// Benchmarks' -off_cache, for the same reason). A cold pool holds at least
// twice the last-level cache that the ranks share, at each end and in each
// direction, so that a buffer has left the cache by the time it comes round
// again, even under a replacement policy that is not strict LRU or a victim
// L3 (AMD). With several channels, a rank's pools share that budget: it
// touches them all in turn, so each needs only its part.
//
// Why a page per buffer and a scrambled order. Buffers start on their own
// page and are visited in a stride that skips around the pool, so neither
// the next-line nor the next-page prefetcher can bring the next message's
// buffer in ahead of time; a rotation through adjacent addresses would look
// cold and measure warm. Every buffer is bound to the rank's node and
// faulted in when the pool is made, never during a measurement.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "harness/machine/shared_memory.hpp"
#include "harness/machine/topology.hpp"

namespace ipcatlas {

class BufferPool {
 public:
  // `count` buffers of `bytes` bytes each (count 1: the hot case).
  BufferPool(std::size_t bytes, std::size_t count, int numa_node);

  std::size_t count() const { return count_; }
  std::size_t bytes_mapped() const { return memory_.size(); }
  std::span<std::byte> at(std::size_t i) const { return {memory_.data() + i * stride_, bytes_}; }
  std::size_t position() const { return position_; }  // of the current buffer
  std::span<std::byte> current() const { return at(position_); }
  // Copies bytes [offset, offset + bytes) of the first buffer into every
  // other one, and leaves none of them in the cache (see above); at most the
  // partial cache lines at either end of each copy stay. Hot pools: nothing.
  void copy_body_to_all(std::size_t offset, std::size_t bytes) const;

  // Moves on to the next buffer of the rotation and returns it.
  std::span<std::byte> advance() {
    position_ += step_;
    if (position_ >= count_) position_ -= count_;
    return current();
  }

 private:
  std::size_t bytes_, count_, stride_;
  std::size_t step_;  // coprime with count_: the rotation visits every buffer
  std::size_t position_ = 0;
  PrivateBuffer memory_;
};

// What a cold pool holds at least, per rank and direction: twice the
// last-level cache above the ranks' PUs (0 when hwloc reports no cache).
std::size_t cold_pool_bytes(const Topology& topology, const std::vector<int>& pus);

// How many buffers of `bytes` a pool needs to hold at least `pool_bytes`
// (at least 2, so that consecutive messages never share a buffer).
std::size_t cold_pool_count(std::size_t bytes, std::size_t pool_bytes);

// A step through `count` buffers that is coprime with it (the rotation
// visits them all) and, where one exists, neither 1 nor count - 1, so that
// consecutive messages never use neighbouring buffers.
std::size_t rotation_step(std::size_t count);

}  // namespace ipcatlas
