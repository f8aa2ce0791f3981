// The cold pool: its rotation, and that it really exceeds the cache hwloc reports.
#include "scenarios/support/buffer_pool.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <set>

#include "scenarios/scenario_test_support.hpp"
#include "scenarios/support/channel.hpp"

namespace ipcatlas {
namespace {

TEST(BufferPool, RotationVisitsEveryBufferNeverTwiceInARowNorNextDoor) {
  for (std::size_t count = 1; count < 300; ++count) {
    const std::size_t step = rotation_step(count);
    ASSERT_EQ(std::gcd(step, count), 1u) << count;
    std::set<std::size_t> seen;
    std::size_t position = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t next = (position + step) % count;
      if (count >= 2) {
        EXPECT_NE(next, position) << count;
      }
      if (count >= 5 && count != 6) {  // next door would let the next-page prefetcher warm the next message's buffer
        EXPECT_NE((next + count - position) % count, 1u) << count;
        EXPECT_NE((position + count - next) % count, 1u) << count;
      }
      seen.insert(position);
      position = next;
    }
    EXPECT_EQ(seen.size(), count) << count;
  }
}

TEST(BufferPool, BuffersStartOnTheirOwnPagesAndAdvanceRotates) {
  BufferPool pool(5000, 3, -1);
  EXPECT_EQ(pool.current().size(), 5000u);
  EXPECT_EQ(pool.at(1).data() - pool.at(0).data(), static_cast<std::ptrdiff_t>(round_up_to_pages(5000)));
  std::set<std::byte*> seen{pool.current().data()};
  for (int i = 0; i < 2; ++i) seen.insert(pool.advance().data());
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_EQ(pool.advance().data(), pool.at(0).data());  // back to the start after count messages
}

TEST(BufferPool, TheBodyReachesEveryBufferWhateverItsAlignment) {
  for (std::size_t offset : {0u, 1u, 13u, 4095u}) {
    BufferPool pool(offset + 1001, 5, -1);  // a byte after the body, to see it untouched
    for (std::size_t b = 0; b < 1000; ++b) pool.at(0)[offset + b] = static_cast<std::byte>(b * 7 + offset);
    pool.copy_body_to_all(offset, 1000);
    for (std::size_t i = 1; i < pool.count(); ++i) {
      EXPECT_EQ(std::memcmp(pool.at(i).data() + offset, pool.at(0).data() + offset, 1000), 0) << i << " " << offset;
      EXPECT_EQ(pool.at(i)[offset + 1000], std::byte{0}) << "the byte after the body";
      if (offset > 0) {
        EXPECT_EQ(pool.at(i)[offset - 1], std::byte{0}) << "the byte before the body";
      }
    }
  }
}

TEST(BufferPool, HotIsOneBufferReused) {
  BufferPool pool(64, 1, -1);
  std::byte* first = pool.current().data();
  EXPECT_EQ(pool.advance().data(), first);
}

// What every rank maps for its sends (and again for its receives), summed over its channels.
std::size_t rank_pool_bytes(const CellSpec& cell, int rank, int channels) {
  const ChannelBuffers b = channel_buffers(cell, rank, channels);
  return static_cast<std::size_t>(channels) * b.count * round_up_to_pages(b.size + b.offset);
}

TEST(BufferPool, AColdPoolExceedsTheLastLevelCacheOfASyntheticMachine) {
  const Topology t = Topology::load_synthetic("pack:2 l3:1(size=32MiB) l2:2(size=1MiB) core:1 pu:1");
  const std::size_t llc = std::size_t{32} << 20;
  CellSpec cell = testing::cell("shm", 0, 2);
  cell.cpus = {0, 1};
  cell.cache = CacheState::cold;
  cell.cold_pool_bytes = cold_pool_bytes(t, cell.cpus);
  EXPECT_EQ(cell.cold_pool_bytes, 2 * llc);
  for (std::size_t size : {std::size_t{1}, std::size_t{4096}, std::size_t{65537}, (std::size_t{4} << 20) + 3}) {
    cell.size = size;
    for (int channels : {1, 7})  // pingpong, and one rank of an 8-rank alltoall
      EXPECT_GE(rank_pool_bytes(cell, 0, channels), 2 * llc) << size << " bytes, " << channels << " channels";
  }
  cell.cache = CacheState::hot;
  EXPECT_EQ(channel_buffers(cell, 0, 1).count, 1u);
}

TEST(BufferPool, AColdPoolExceedsTheLastLevelCacheOfThisMachine) {
  CellSpec cell = testing::cell("shm", 4096, 2);
  const std::size_t llc = testing::machine().last_level_cache_bytes(cell.cpus);
  if (llc == 0) GTEST_SKIP() << "hwloc reports no cache size here";
  cell.cache = CacheState::cold;
  cell.cold_pool_bytes = cold_pool_bytes(testing::machine(), cell.cpus);
  const ChannelBuffers b = channel_buffers(cell, 0, 1);
  const BufferPool pool(b.size + b.offset, b.count, b.numa_node);  // what a rank maps for its sends
  EXPECT_GT(pool.bytes_mapped(), llc);
  EXPECT_GE(pool.bytes_mapped(), 2 * llc);
}

}  // namespace
}  // namespace ipcatlas
