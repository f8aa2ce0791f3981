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
// In a timed loop the sender writes only the stamp (two 8-byte stores) and
// the receiver checks only the stamp (two loads). The whole body of the last
// message of every batch is checked byte by byte after the clock stops.
#pragma once

#include <cstddef>
#include <cstdint>
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
void write_stamp(std::span<std::byte> msg, PayloadKey key);
// The cheap per-message check: only the stamp bytes.
bool stamp_matches(std::span<const std::byte> msg, PayloadKey key);

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
