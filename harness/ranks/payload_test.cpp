#include "harness/ranks/payload.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ipcatlas {
namespace {

std::vector<std::byte> message(std::size_t n, PayloadKey key) {
  std::vector<std::byte> m(n);
  fill_message(m, key);
  return m;
}

TEST(Payload, FilledMessagesPassBothChecks) {
  for (std::size_t n : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 100u, 4096u, 4099u}) {
    const PayloadKey key{payload_seed(1, 2, 0), 5};
    const auto m = message(n, key);
    EXPECT_TRUE(stamp_matches(m, key)) << n;
    EXPECT_FALSE(first_mismatch(m, key).has_value()) << n;
  }
}

TEST(Payload, TheStampChangesEveryMessage) {
  // Even a 1-byte message must never pass for the one before or after it.
  for (std::uint64_t batch = 0; batch < 64; ++batch) {
    const std::uint64_t seed = payload_seed(1, batch, 0);
    for (std::uint64_t seq = 0; seq < 600; ++seq) {
      for (std::size_t n : {1u, 8u, 64u}) {
        const auto m = message(n, {seed, seq});
        ASSERT_FALSE(stamp_matches(m, PayloadKey{seed, seq + 1})) << n << " " << seq;
        ASSERT_TRUE(first_mismatch(m, PayloadKey{seed, seq + 1}).has_value()) << n << " " << seq;
      }
    }
  }
}

TEST(Payload, TheBodyChangesEveryBatchAndDirection) {
  EXPECT_NE(payload_seed(1, 2, 0), payload_seed(1, 2, 1));
  EXPECT_NE(payload_seed(1, 2, 0), payload_seed(1, 3, 0));
  EXPECT_NE(payload_seed(1, 2, 0), payload_seed(2, 2, 0));
  const auto a = message(64, {payload_seed(1, 2, 0), 0});
  const auto b = message(64, {payload_seed(1, 3, 0), 0});
  EXPECT_NE(std::vector<std::byte>(a.begin() + 8, a.end() - 8), std::vector<std::byte>(b.begin() + 8, b.end() - 8));
}

TEST(Payload, FirstMismatchNamesTheFirstBadByte) {
  const PayloadKey key{payload_seed(7, 0, 1), 3};
  for (std::size_t n : {1u, 9u, 100u, 4096u}) {
    for (std::size_t at : {std::size_t{0}, n / 2, n - 1}) {
      auto m = message(n, key);
      const auto good = std::to_integer<std::uint8_t>(m[at]);
      m[at] ^= std::byte{0x40};
      if (n > at + 1) m[n - 1] ^= std::byte{0x01};  // a later bad byte must not be reported first
      const auto bad = first_mismatch(m, key);
      ASSERT_TRUE(bad.has_value()) << n << " at " << at;
      EXPECT_EQ(bad->offset, at);
      EXPECT_EQ(bad->expected, good);
      EXPECT_EQ(bad->actual, static_cast<std::uint8_t>(good ^ 0x40));
    }
  }
}

TEST(Payload, StampCheckAloneMissesBodyDamageButFullCheckFindsIt) {
  const PayloadKey key{payload_seed(7, 0, 1), 3};
  auto m = message(100, key);
  m[50] ^= std::byte{1};
  EXPECT_TRUE(stamp_matches(m, key));
  EXPECT_EQ(first_mismatch(m, key)->offset, 50u);
}

TEST(Payload, DescriptionNamesMessageRanksAndByte) {
  const std::string text = describe_mismatch({4093, 0x3c, 0x00}, 17, 1, 0, 4096);
  EXPECT_EQ(text, "payload mismatch in message 17 (rank 1 -> rank 0, 4096 bytes): first bad byte at offset 4093: "
                  "expected 0x3c, got 0x00");
}

TEST(Payload, UnalignedViewsCheckTheSame) {
  std::vector<std::byte> storage(200);
  const PayloadKey key{payload_seed(3, 1, 0), 9};
  std::span<std::byte> view(storage.data() + 3, 150);
  fill_message(view, key);
  EXPECT_TRUE(stamp_matches(view, key));
  EXPECT_FALSE(first_mismatch(view, key).has_value());
}

}  // namespace
}  // namespace ipcatlas
