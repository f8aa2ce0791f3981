#include "harness/ranks/payload.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "harness/base/error.hpp"

namespace ipcatlas {
namespace {

// Body word j covers message bytes [8j, 8j+8).
std::uint64_t body_word(std::uint64_t seed, std::size_t j) { return splitmix64(seed + j); }

std::uint8_t byte_of(std::uint64_t word, std::size_t i) { return static_cast<std::uint8_t>(word >> (8 * i)); }

// What byte i of an n-byte message must be.
std::uint8_t expected_byte(std::size_t i, std::size_t n, PayloadKey key) {
  const std::size_t k = std::min<std::size_t>(8, n);
  if (i >= n - k) return byte_of(stamp_value(key), i - (n - k));
  if (i < k) return byte_of(stamp_value(key), i);
  return byte_of(body_word(key.seed, i / 8), i % 8);
}

}  // namespace

std::uint64_t payload_seed(std::uint64_t salt, std::uint64_t batch, int direction) {
  return splitmix64(splitmix64(salt) ^ (batch * 2 + static_cast<std::uint64_t>(direction)));
}

void fill_body(std::span<std::byte> msg, std::uint64_t seed) {
  if (msg.empty()) return;
  const std::size_t whole = msg.size() / 8;
  for (std::size_t j = 0; j < whole; ++j) {
    const std::uint64_t w = body_word(seed, j);
    std::memcpy(msg.data() + 8 * j, &w, 8);
  }
  const std::uint64_t last = body_word(seed, whole);
  std::memcpy(msg.data() + 8 * whole, &last, msg.size() - 8 * whole);
}

void fill_message(std::span<std::byte> msg, PayloadKey key) {
  fill_body(msg, key.seed);
  write_stamp(msg, key);
}

std::optional<PayloadMismatch> first_mismatch(std::span<const std::byte> msg, PayloadKey key) {
  const std::size_t n = msg.size();
  const std::size_t k = std::min<std::size_t>(8, n);
  // Compare whole body words at once; fall back to bytes where they differ
  // and in the stamp regions at both ends.
  for (std::size_t i = 0; i < n;) {
    const bool in_stamp = i < k || i >= n - k;
    if (!in_stamp && i % 8 == 0 && i + 8 <= n - k) {
      const std::uint64_t want = body_word(key.seed, i / 8);
      if (std::memcmp(msg.data() + i, &want, 8) == 0) {
        i += 8;
        continue;
      }
    }
    const std::uint8_t got = std::to_integer<std::uint8_t>(msg[i]);
    const std::uint8_t want = expected_byte(i, n, key);
    if (got != want) return PayloadMismatch{i, want, got};
    ++i;
  }
  return std::nullopt;
}

std::string describe_mismatch(const PayloadMismatch& m, std::uint64_t message, int from_rank, int to_rank,
                              std::size_t size) {
  return fmt::format("payload mismatch in message {} (rank {} -> rank {}, {} bytes): first bad byte at offset {}: "
                     "expected 0x{:02x}, got 0x{:02x}",
                     message, from_rank, to_rank, size, m.offset, m.expected, m.actual);
}

}  // namespace ipcatlas
