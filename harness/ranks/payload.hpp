// The bytes every test message carries, and how a receiver checks them.
//
// A message of n bytes holds:
//   - a body: a pseudo-random pattern derived from a seed. The seed changes
//     every batch and every direction, so stale bytes from an earlier batch
//     never pass for fresh ones;
//   - a stamp: 8 bytes derived from (seed, sequence number), written over the
//     first and the last min(8, n) bytes. It changes every message, so a
//     mechanism that delivers an old message, or only part of a new one, fails.
//
// In a timed loop both stamps are computed before the message is due
// (make_stamp), so that after it arrives the receiver only loads and compares
// two words, and the sender only stores two: hashing on the critical path
// measurably slows a 100 ns round trip. Whole messages are checked byte by
// byte (first_mismatch) outside the timed path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>

namespace ipcatlas {

struct PayloadKey {
  std::uint64_t seed;  // the batch and direction
  std::uint64_t seq;   // the message within the batch
};

// Seed for one direction of one batch: distinct for every (salt, batch, direction).
std::uint64_t payload_seed(std::uint64_t salt, std::uint64_t batch, int direction);

void fill_body(std::span<std::byte> msg, std::uint64_t seed);

// The first and last 8 bytes of an n-byte message (for n < 8, its n bytes in
// `head`), as write_stamp() lays them down.
struct Stamp {
  std::size_t n = 0;
  std::uint64_t head = 0;
  std::uint64_t tail = 0;
};
Stamp make_stamp(std::size_t n, PayloadKey key);

inline void write_stamp(std::span<std::byte> msg, const Stamp& s) {
  if (s.n >= 8) {
    std::memcpy(msg.data(), &s.head, 8);
    std::memcpy(msg.data() + s.n - 8, &s.tail, 8);
  } else {
    for (std::size_t i = 0; i < s.n; ++i) msg[i] = static_cast<std::byte>(s.head >> (8 * i));
  }
}

// The cheap per-message check: only the stamp bytes.
inline bool stamp_matches(std::span<const std::byte> msg, const Stamp& s) {
  if (s.n >= 8) {
    std::uint64_t head, tail;
    std::memcpy(&head, msg.data(), 8);
    std::memcpy(&tail, msg.data() + s.n - 8, 8);
    return head == s.head && tail == s.tail;
  }
  for (std::size_t i = 0; i < s.n; ++i)
    if (msg[i] != static_cast<std::byte>(s.head >> (8 * i))) return false;
  return true;
}

inline void write_stamp(std::span<std::byte> msg, PayloadKey key) { write_stamp(msg, make_stamp(msg.size(), key)); }
inline bool stamp_matches(std::span<const std::byte> msg, PayloadKey key) {
  return stamp_matches(msg, make_stamp(msg.size(), key));
}

// fill_body + write_stamp.
void fill_message(std::span<std::byte> msg, PayloadKey key);

struct PayloadMismatch {
  std::size_t offset;
  std::uint8_t expected;
  std::uint8_t actual;
};

// The full check: the first byte that differs from what (key) implies.
std::optional<PayloadMismatch> first_mismatch(std::span<const std::byte> msg, PayloadKey key);

// "payload mismatch in message 17 (rank 1 -> rank 0, 4096 bytes): first bad
// byte at offset 4093: expected 0x3c, got 0x00"
std::string describe_mismatch(const PayloadMismatch& m, std::uint64_t message, int from_rank, int to_rank,
                              std::size_t size);

}  // namespace ipcatlas
