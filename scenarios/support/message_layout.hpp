// Where the segments of a scatter/gather message (--segments N) lie in a
// buffer, and the bytes they carry.
//
// SIZE is split into N segments in order, the first SIZE mod N one byte
// longer than the others (so equal when N divides SIZE), each followed by a
// gap of kGapBytes that belongs to no segment. Why 64 bytes, one cache line:
// no two segments are adjacent, so no mechanism can merge them into one
// copy, yet the pages and lines the message touches stay about those of the
// contiguous message; the time against N then shows the cost per segment
// (iovecs, calls, short copies), not that of touching more memory.
//
// The payload per segment follows payload.hpp: segment k's body comes from
// its own seed (so a segment delivered to another's place is caught), and the
// first and last segments carry the message's stamps, as a contiguous
// message carries them in its first and last bytes; every message is
// stamp-checked, and the full check compares every segment byte by byte and
// every gap of the receive buffer against its filler (a mechanism that copies
// across the gaps, or one segment too far, overwrites it).
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "harness/ranks/payload.hpp"

namespace ipcatlas {

class MessageLayout {
 public:
  static constexpr std::size_t kGapBytes = 64;
  static constexpr std::byte kSendGapFiller{0xc3}, kReceiveGapFiller{0xa5};

  // segments >= 1; with more than one, size >= segments (no empty segment).
  MessageLayout(std::size_t size, std::size_t segments);

  std::size_t size() const { return size_; }
  std::size_t segments() const { return segments_; }
  bool segmented() const { return segments_ > 1; }
  // The bytes from the first segment's start to the last one's end.
  std::size_t extent() const { return size_ + (segments_ - 1) * kGapBytes; }
  std::size_t offset(std::size_t k) const;
  std::size_t length(std::size_t k) const { return base_ + (k < longer_ ? 1 : 0); }

  // The segments of the message laid in `buffer` (extent() bytes).
  std::vector<iovec> iovecs(std::span<std::byte> buffer) const;
  void fill_gaps(std::span<std::byte> buffer, std::byte filler) const;

  // The payload (see the header comment).
  void fill_bodies(std::span<std::byte> buffer, std::uint64_t seed) const;
  struct Stamps {
    Stamp first, last;
  };
  Stamps make_stamps(PayloadKey key) const;
  void write_stamps(std::span<std::byte> buffer, const Stamps& stamps) const;
  bool stamps_match(std::span<const std::byte> buffer, const Stamps& stamps) const;
  // Empty if every segment holds what `key` implies and every gap `filler`;
  // otherwise where the first bad byte is, for describe_mismatch().
  struct Mismatch {
    PayloadMismatch byte;  // offset from the first segment's start
    std::string where;     // "segment 3 of 16" or "the gap after segment 3 of 16"
  };
  std::optional<Mismatch> first_mismatch(std::span<const std::byte> buffer, PayloadKey key, std::byte filler) const;

 private:
  std::span<std::byte> segment(std::span<std::byte> buffer, std::size_t k) const {
    return buffer.subspan(offset(k), length(k));
  }
  std::span<const std::byte> segment(std::span<const std::byte> buffer, std::size_t k) const {
    return buffer.subspan(offset(k), length(k));
  }
  std::optional<Mismatch> segment_mismatch(std::span<const std::byte> buffer, std::size_t k, PayloadKey key) const;

  std::size_t size_, segments_, base_, longer_;
};

// Segment k's body seed; segment 0 keeps the message's.
std::uint64_t segment_seed(std::uint64_t seed, std::size_t k);

}  // namespace ipcatlas
