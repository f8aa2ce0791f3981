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

// Inline, with what it calls: every message makes two stamps (the next one
// out, after a send; the next one in, before a wait), and in a 40 ns
// ping-pong the time between a send and the next wait counts too
// (ci/small-message-probe).
inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The low byte is (seed + seq) mod 256, so even a 1-byte message differs
// from the one before it; the other bytes are a hash.
inline std::uint64_t stamp_value(PayloadKey key) {
  const std::uint64_t hash = splitmix64(key.seed ^ (key.seq * 0xd1b54a32d192ed03ULL));
  return (hash & ~std::uint64_t{0xff}) | ((key.seed + key.seq) & 0xff);
}

inline Stamp make_stamp(std::size_t n, PayloadKey key) {
  // Lay the stamp into a scratch message the way the sender does, then read
  // back its first and last 8 bytes: this handles the overlap below 16 bytes.
  const std::size_t k = n < 8 ? n : 8;
  const std::uint64_t v = stamp_value(key);
  std::byte scratch[16] = {};
  const std::size_t len = n < 16 ? n : 16;
  std::memcpy(scratch, &v, k);
  std::memcpy(scratch + len - k, &v, k);
  Stamp s{n, 0, 0};
  std::memcpy(&s.head, scratch, k);
  if (n >= 8) std::memcpy(&s.tail, scratch + len - 8, 8);
  return s;
}

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
