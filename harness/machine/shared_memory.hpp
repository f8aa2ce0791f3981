// Memory that the driver maps before forking the ranks, so that every rank
// sees the same pages. MAP_SHARED | MAP_ANONYMOUS: it has no name, so nothing
// is left in /dev/shm whatever happens, and the kernel frees it when the last
// process that maps it exits.
#pragma once

#include <cstddef>
#include <span>
#include <type_traits>

namespace ipcatlas {

class SharedMapping {
 public:
  SharedMapping() = default;
  // Maps `bytes` (rounded up to whole pages) of zeroed shared memory, bound
  // to NUMA node `numa_node` before any page is touched (-1: the kernel's
  // default, first touch).
  explicit SharedMapping(std::size_t bytes, int numa_node = -1);
  SharedMapping(SharedMapping&& other) noexcept;
  SharedMapping& operator=(SharedMapping&& other) noexcept;
  SharedMapping(const SharedMapping&) = delete;
  SharedMapping& operator=(const SharedMapping&) = delete;
  ~SharedMapping();

  std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::span<std::byte> bytes() const { return {data_, size_}; }

  // The start of the mapping viewed as a T. The pages start zeroed, so T must
  // be a type whose all-zero bytes are a valid initial state (atomics, PODs).
  template <class T>
  T* as() const {
    static_assert(std::is_trivially_destructible_v<T>);
    return reinterpret_cast<T*>(data_);
  }

 private:
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

// Private page-aligned memory for a rank's own buffers, touched once so that
// page faults do not land inside a measurement.
class PrivateBuffer {
 public:
  PrivateBuffer() = default;
  // Bound to NUMA node `numa_node` (-1: default) before the first touch.
  explicit PrivateBuffer(std::size_t bytes, int numa_node = -1);
  PrivateBuffer(PrivateBuffer&& other) noexcept;
  PrivateBuffer& operator=(PrivateBuffer&& other) noexcept;
  PrivateBuffer(const PrivateBuffer&) = delete;
  PrivateBuffer& operator=(const PrivateBuffer&) = delete;
  ~PrivateBuffer();

  std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

std::size_t page_size();
std::size_t round_up_to_pages(std::size_t bytes);

}  // namespace ipcatlas
