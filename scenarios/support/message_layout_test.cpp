// Where segments lie and how a segmented message is checked: every segment
// byte-exact, every gap untouched.
#include "scenarios/support/message_layout.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ipcatlas {
namespace {

constexpr std::size_t kGap = MessageLayout::kGapBytes;

TEST(MessageLayout, SegmentsAreNearlyEqualAndSeparatedByGaps) {
  const MessageLayout layout(10, 4);  // 3, 3, 2, 2
  EXPECT_EQ(layout.length(0), 3u);
  EXPECT_EQ(layout.length(1), 3u);
  EXPECT_EQ(layout.length(2), 2u);
  EXPECT_EQ(layout.length(3), 2u);
  EXPECT_EQ(layout.offset(0), 0u);
  EXPECT_EQ(layout.offset(1), 3 + kGap);
  EXPECT_EQ(layout.offset(2), 6 + 2 * kGap);
  EXPECT_EQ(layout.offset(3), 8 + 3 * kGap);
  EXPECT_EQ(layout.extent(), 10 + 3 * kGap);
  std::vector<std::byte> buffer(layout.extent());
  const std::vector<iovec> iov = layout.iovecs(buffer);
  ASSERT_EQ(iov.size(), 4u);
  EXPECT_EQ(static_cast<std::byte*>(iov[3].iov_base) + iov[3].iov_len, buffer.data() + buffer.size());
}

TEST(MessageLayout, OneSegmentIsTheContiguousMessage) {
  const MessageLayout layout(4096, 1);
  EXPECT_FALSE(layout.segmented());
  EXPECT_EQ(layout.extent(), 4096u);
}

TEST(MessageLayout, RefusesEmptySegments) {
  EXPECT_THROW(MessageLayout(3, 4), std::invalid_argument);
  EXPECT_THROW(MessageLayout(3, 0), std::invalid_argument);
}

// A message as the sender builds it, received into a buffer whose gaps hold the filler.
struct Delivered {
  MessageLayout layout;
  PayloadKey key{0x1234, 7};
  std::vector<std::byte> buffer;

  Delivered(std::size_t size, std::size_t segments) : layout(size, segments), buffer(layout.extent()) {
    layout.fill_gaps(buffer, MessageLayout::kReceiveGapFiller);
    layout.fill_bodies(buffer, key.seed);
    layout.write_stamps(buffer, layout.make_stamps(key));
  }
  std::optional<MessageLayout::Mismatch> check() const {
    return layout.first_mismatch(buffer, key, MessageLayout::kReceiveGapFiller);
  }
};

TEST(MessageLayout, AnIntactMessagePassesBothChecks) {
  for (auto [size, segments] : {std::pair{64, 4}, {1000, 7}, {16, 16}, {5000, 3}}) {
    const Delivered d(size, segments);
    EXPECT_FALSE(d.check()) << size << " in " << segments;
    EXPECT_TRUE(d.layout.stamps_match(d.buffer, d.layout.make_stamps(d.key)));
    EXPECT_FALSE(d.layout.stamps_match(d.buffer, d.layout.make_stamps({d.key.seed, d.key.seq + 1})));
  }
}

TEST(MessageLayout, AFlippedByteInAMiddleSegmentIsNamed) {
  Delivered d(4000, 8);
  d.buffer[d.layout.offset(4) + 100] ^= std::byte{1};
  const auto bad = d.check();
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->where, "segment 4 of 8");
  EXPECT_EQ(bad->byte.offset, d.layout.offset(4) + 100);
}

TEST(MessageLayout, AnOverwrittenGapFails) {
  Delivered d(4000, 8);
  d.buffer[d.layout.offset(2) + d.layout.length(2) + kGap - 1] = std::byte{0};
  const auto bad = d.check();
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->where, "the gap after segment 2 of 8");
}

TEST(MessageLayout, SwappedSegmentsFail) {
  Delivered d(4000, 8);  // equal segments, so a swap keeps every length
  std::vector<std::byte> three(d.buffer.begin() + static_cast<long>(d.layout.offset(3)),
                               d.buffer.begin() + static_cast<long>(d.layout.offset(3) + d.layout.length(3)));
  std::copy_n(d.buffer.begin() + static_cast<long>(d.layout.offset(5)), d.layout.length(5),
              d.buffer.begin() + static_cast<long>(d.layout.offset(3)));
  std::copy(three.begin(), three.end(), d.buffer.begin() + static_cast<long>(d.layout.offset(5)));
  const auto bad = d.check();
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->where, "segment 3 of 8");
}

TEST(MessageLayout, ContiguousCopyAcrossTheGapsFails) {
  // What a mechanism that ignored the segments and copied the extent would
  // deliver: the sender's gap filler lands in the receiver's gaps.
  Delivered d(256, 4);
  MessageLayout::Stamps stamps = d.layout.make_stamps(d.key);
  std::vector<std::byte> sent(d.layout.extent());
  d.layout.fill_gaps(sent, MessageLayout::kSendGapFiller);
  d.layout.fill_bodies(sent, d.key.seed);
  d.layout.write_stamps(sent, stamps);
  d.buffer = sent;
  const auto bad = d.check();
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->where, "the gap after segment 0 of 4");
}

}  // namespace
}  // namespace ipcatlas
