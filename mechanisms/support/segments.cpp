#include "mechanisms/support/segments.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "mechanisms/mechanism.hpp"

namespace ipcatlas {

// Reached only if the harness gave segments to a mechanism whose descriptor refuses them.
void Link::send_segments(std::span<const iovec>) {
  throw std::logic_error("this mechanism does not move scatter/gather messages (see its segments_refusal)");
}
void Link::recv_segments(std::span<const iovec>) {
  throw std::logic_error("this mechanism does not move scatter/gather messages (see its segments_refusal)");
}

std::size_t total_bytes(std::span<const iovec> segments) {
  std::size_t total = 0;
  for (const iovec& s : segments) total += s.iov_len;
  return total;
}

std::size_t SegmentCursor::left() const { return total_bytes(rest_) - skip_; }

void SegmentCursor::skip_empty() {
  while (!rest_.empty() && rest_.front().iov_len == skip_) {
    rest_ = rest_.subspan(1);
    skip_ = 0;
  }
}

std::span<const iovec> SegmentCursor::window(std::size_t max_bytes) {
  std::size_t count = 0, bytes = 0;
  for (std::size_t i = 0; i < rest_.size() && count < kIovMax && bytes < max_bytes; ++i) {
    const std::size_t skip = i == 0 ? skip_ : 0;
    const std::size_t len = std::min(rest_[i].iov_len - skip, max_bytes - bytes);
    if (len == 0) continue;
    window_[count++] = iovec{static_cast<std::byte*>(rest_[i].iov_base) + skip, len};
    bytes += len;
  }
  return {window_.data(), count};
}

void SegmentCursor::advance(std::size_t bytes) {
  while (bytes > 0) {
    if (rest_.empty()) throw std::logic_error("SegmentCursor: advanced past the last segment");
    const std::size_t step = std::min(bytes, rest_.front().iov_len - skip_);
    skip_ += step;
    bytes -= step;
    skip_empty();
  }
}

iovec SegmentCursor::piece(std::size_t max_bytes) const {
  if (rest_.empty()) return {nullptr, 0};
  return {static_cast<std::byte*>(rest_.front().iov_base) + skip_, std::min(max_bytes, rest_.front().iov_len - skip_)};
}

void gather(SegmentCursor& from, std::span<std::byte> dst) {
  for (std::size_t done = 0; done < dst.size();) {
    const iovec p = from.piece(dst.size() - done);
    if (p.iov_len == 0) throw std::logic_error("gather: the segments hold fewer bytes than the message");
    std::memcpy(dst.data() + done, p.iov_base, p.iov_len);
    from.advance(p.iov_len);
    done += p.iov_len;
  }
}

void scatter(std::span<const std::byte> src, SegmentCursor& into) {
  for (std::size_t done = 0; done < src.size();) {
    const iovec p = into.piece(src.size() - done);
    if (p.iov_len == 0) throw std::logic_error("scatter: the segments hold fewer bytes than the message");
    std::memcpy(p.iov_base, src.data() + done, p.iov_len);
    into.advance(p.iov_len);
    done += p.iov_len;
  }
}

}  // namespace ipcatlas
