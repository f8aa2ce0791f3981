// Scatter/gather helpers for Link::send_segments / recv_segments: a cursor
// that walks a list of segments in windows the kernel accepts (at most
// IOV_MAX iovecs, at most a given number of bytes), and gather/scatter
// copies between segments and contiguous memory (shm's cells).
//
// Why windows: readv/writev, process_vm_readv/writev, vmsplice and sendmsg
// take at most IOV_MAX (1024) iovecs a call and may move fewer bytes than
// asked (a partial transfer). A caller asks for a window, makes one call with
// it and advances by what the call moved; the cursor restarts mid-segment.
#pragma once

#include <sys/uio.h>

#include <array>
#include <climits>
#include <cstddef>
#include <limits>
#include <span>

namespace ipcatlas {

// The kernel's UIO_MAXIOV, which glibc's IOV_MAX names: the most iovecs one call takes.
inline constexpr std::size_t kIovMax = 1024;
#ifdef IOV_MAX
static_assert(IOV_MAX == kIovMax, "the kernel's UIO_MAXIOV has been 1024 since Linux 2.2");
#endif

std::size_t total_bytes(std::span<const iovec> segments);

class SegmentCursor {
 public:
  explicit SegmentCursor(std::span<const iovec> segments) : rest_(segments) { skip_empty(); }

  bool done() const { return rest_.empty(); }
  // The bytes not yet moved.
  std::size_t left() const;
  // The next up to kIovMax iovecs, holding at most max_bytes bytes in all,
  // from where the last advance() stopped. Valid until the next call.
  std::span<const iovec> window(std::size_t max_bytes = std::numeric_limits<std::size_t>::max());
  // Marks `bytes` more as moved.
  void advance(std::size_t bytes);
  // The next contiguous piece of at most max_bytes bytes (its start and length).
  iovec piece(std::size_t max_bytes) const;

 private:
  void skip_empty();

  std::span<const iovec> rest_;
  std::size_t skip_ = 0;  // bytes of rest_[0] already moved
  std::array<iovec, kIovMax> window_{};
};

// Copies dst.size() bytes out of the segments, from the cursor on, and advances it.
void gather(SegmentCursor& from, std::span<std::byte> dst);
// Copies src into the segments, from the cursor on, and advances it.
void scatter(std::span<const std::byte> src, SegmentCursor& into);

}  // namespace ipcatlas
