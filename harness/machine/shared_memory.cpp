#include "harness/machine/shared_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "harness/base/error.hpp"
#include "harness/machine/memory_binding.hpp"

namespace ipcatlas {
namespace {

std::byte* map_pages(std::size_t bytes, int flags, const char* what) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (p == MAP_FAILED) throw SysError(fmt::format("{}: mmap of {} bytes", what, bytes), errno);
  return static_cast<std::byte*>(p);
}

// Maps pages and binds them to `node` before anything touches them.
std::byte* map_bound_pages(std::size_t bytes, int flags, const char* what, int node) {
  std::byte* data = map_pages(bytes, flags, what);
  try {
    bind_memory(data, bytes, node);
  } catch (...) {
    munmap(data, bytes);
    throw;
  }
  return data;
}

// Checks that the kernel honoured the binding: the first and last pages of a
// touched buffer are on `node`.
void check_on_node(const std::byte* data, std::size_t bytes, int node) {
  for (const std::byte* page : {data, data + bytes - page_size()}) {
    const std::vector<int> where = nodes_of_pages(page, 1);
    if (where.empty() || where[0] != node)
      throw std::runtime_error(fmt::format("--membind: a page meant for NUMA node {} is on {} (move_pages)", node,
                                           where.empty() ? -1 : where[0]));
  }
}

}  // namespace

std::size_t page_size() {
  static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

std::size_t round_up_to_pages(std::size_t bytes) {
  const std::size_t page = page_size();
  return (bytes == 0 ? page : (bytes + page - 1) / page * page);
}

SharedMapping::SharedMapping(std::size_t bytes, int numa_node)
    : data_(map_bound_pages(round_up_to_pages(bytes), MAP_SHARED | MAP_ANONYMOUS, "shared memory", numa_node)),
      size_(round_up_to_pages(bytes)) {}

SharedMapping::SharedMapping(SharedMapping&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SharedMapping& SharedMapping::operator=(SharedMapping&& other) noexcept {
  if (this != &other) {
    if (data_) munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SharedMapping::~SharedMapping() {
  if (data_) munmap(data_, size_);
}

PrivateBuffer::PrivateBuffer(std::size_t bytes, int numa_node)
    : data_(map_bound_pages(round_up_to_pages(bytes), MAP_PRIVATE | MAP_ANONYMOUS, "rank buffer", numa_node)),
      size_(round_up_to_pages(bytes)) {
  std::memset(data_, 0, size_);  // fault every page in now, not during a measurement
  if (numa_node >= 0) check_on_node(data_, size_, numa_node);
}

PrivateBuffer::PrivateBuffer(PrivateBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

PrivateBuffer& PrivateBuffer::operator=(PrivateBuffer&& other) noexcept {
  if (this != &other) {
    if (data_) munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

PrivateBuffer::~PrivateBuffer() {
  if (data_) munmap(data_, size_);
}

}  // namespace ipcatlas
