#include "scenarios/support/message_layout.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace ipcatlas {

std::uint64_t segment_seed(std::uint64_t seed, std::size_t k) {
  return k == 0 ? seed : payload_seed(seed, static_cast<std::uint64_t>(k), 1);
}

MessageLayout::MessageLayout(std::size_t size, std::size_t segments)
    : size_(size), segments_(segments), base_(segments ? size / segments : 0), longer_(segments ? size % segments : 0) {
  if (segments == 0) throw std::invalid_argument("a message has at least one segment");
  if (segments > 1 && size < segments)
    throw std::invalid_argument(fmt::format("{} bytes cannot make {} non-empty segments", size, segments));
}

std::size_t MessageLayout::offset(std::size_t k) const { return k * (base_ + kGapBytes) + std::min(k, longer_); }

std::vector<iovec> MessageLayout::iovecs(std::span<std::byte> buffer) const {
  std::vector<iovec> out(segments_);
  for (std::size_t k = 0; k < segments_; ++k) out[k] = iovec{buffer.data() + offset(k), length(k)};
  return out;
}

void MessageLayout::fill_gaps(std::span<std::byte> buffer, std::byte filler) const {
  for (std::size_t k = 0; k + 1 < segments_; ++k) std::fill_n(buffer.data() + offset(k) + length(k), kGapBytes, filler);
}

void MessageLayout::fill_bodies(std::span<std::byte> buffer, std::uint64_t seed) const {
  for (std::size_t k = 0; k < segments_; ++k) fill_body(segment(buffer, k), segment_seed(seed, k));
}

MessageLayout::Stamps MessageLayout::make_stamps(PayloadKey key) const {
  const std::size_t last = segments_ - 1;
  return {make_stamp(length(0), {segment_seed(key.seed, 0), key.seq}),
          make_stamp(length(last), {segment_seed(key.seed, last), key.seq})};
}

void MessageLayout::write_stamps(std::span<std::byte> buffer, const Stamps& stamps) const {
  write_stamp(segment(buffer, 0), stamps.first);
  write_stamp(segment(buffer, segments_ - 1), stamps.last);
}

bool MessageLayout::stamps_match(std::span<const std::byte> buffer, const Stamps& stamps) const {
  return stamp_matches(segment(buffer, 0), stamps.first) && stamp_matches(segment(buffer, segments_ - 1), stamps.last);
}

// The end segments are whole stamped messages; a middle one is a body only.
std::optional<MessageLayout::Mismatch> MessageLayout::segment_mismatch(std::span<const std::byte> buffer, std::size_t k,
                                                                       PayloadKey key) const {
  const std::span<const std::byte> got = segment(buffer, k);
  std::vector<std::byte> expected(got.size());
  const PayloadKey own{segment_seed(key.seed, k), key.seq};
  if (k == 0 || k + 1 == segments_) fill_message(expected, own);
  else fill_body(expected, own.seed);
  const auto bad = std::mismatch(got.begin(), got.end(), expected.begin());
  if (bad.first == got.end()) return std::nullopt;
  const auto at = static_cast<std::size_t>(bad.first - got.begin());
  return Mismatch{{offset(k) + at, static_cast<std::uint8_t>(*bad.second), static_cast<std::uint8_t>(*bad.first)},
                  fmt::format("segment {} of {}", k, segments_)};
}

std::optional<MessageLayout::Mismatch> MessageLayout::first_mismatch(std::span<const std::byte> buffer, PayloadKey key,
                                                                     std::byte filler) const {
  for (std::size_t k = 0; k < segments_; ++k) {
    if (auto bad = segment_mismatch(buffer, k, key)) return bad;
    if (k + 1 == segments_) break;
    const std::size_t gap = offset(k) + length(k);
    for (std::size_t i = gap; i < gap + kGapBytes; ++i)
      if (buffer[i] != filler)
        return Mismatch{{i, static_cast<std::uint8_t>(filler), static_cast<std::uint8_t>(buffer[i])},
                        fmt::format("the gap after segment {} of {}", k, segments_)};
  }
  return std::nullopt;
}

}  // namespace ipcatlas
