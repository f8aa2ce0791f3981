#include "harness/machine/memory_binding.hpp"

#include <numa.h>
#include <numaif.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "harness/base/error.hpp"
#include "harness/machine/shared_memory.hpp"

namespace ipcatlas {
namespace {

// libnuma bitmasks, freed with numa_bitmask_free.
struct BitmaskFree {
  void operator()(bitmask* mask) const {
    if (mask) numa_bitmask_free(mask);
  }
};
using Bitmask = std::unique_ptr<bitmask, BitmaskFree>;

// Why libnuma cannot be used here, or "" when it can. numa_available() is
// get_mempolicy(0, 0, 0, 0, 0) failing with ENOSYS (a kernel without
// CONFIG_NUMA) or EPERM (a seccomp filter, e.g. a container's); every other
// libnuma call is undefined after it fails.
std::string numa_unavailable_reason() {
  errno = 0;
  if (numa_available() >= 0) return "";
  const int err = errno;
  std::string why;
  if (err == ENOSYS) {
    why = "no NUMA support in this kernel";
  } else if (err == EPERM) {
    why = "get_mempolicy: EPERM (Operation not permitted), e.g. by a seccomp filter";
  } else if (err != 0) {
    why = "get_mempolicy: " + errno_name(err) + " (" + std::strerror(err) + ")";
  } else {
    why = "unknown reason";
  }
  return "libnuma: numa_available() failed (" + why + ")";
}

// The nodes set in `mask` (libnuma bitmask of nodes), in increasing order.
std::vector<int> nodes_in(const bitmask* mask) {
  std::vector<int> nodes;
  if (!mask) return nodes;
  for (unsigned long n = 0; n < mask->size; ++n) {
    if (numa_bitmask_isbitset(mask, static_cast<unsigned int>(n))) nodes.push_back(static_cast<int>(n));
  }
  return nodes;
}

// The memory nodes this process may allocate on: its cpuset's mems
// (get_mempolicy MPOL_F_MEMS_ALLOWED), which only ever holds nodes with memory.
std::vector<int> allowed_nodes() {
  const Bitmask mask(numa_get_mems_allowed());
  return nodes_in(mask.get());
}

// The nodes the kernel exposes (/sys/devices/system/node), with or without memory.
std::vector<int> configured_nodes() { return nodes_in(numa_nodes_ptr); }

bool contains(const std::vector<int>& nodes, int node) {
  for (const int n : nodes) {
    if (n == node) return true;
  }
  return false;
}

// {0, 1, 2, 5} -> "0-2,5", as in cpuset lists.
std::string node_list(const std::vector<int>& nodes) {
  if (nodes.empty()) return "none";
  std::string out;
  std::size_t i = 0;
  while (i < nodes.size()) {
    std::size_t j = i;
    while (j + 1 < nodes.size() && nodes[j + 1] == nodes[j] + 1) ++j;
    if (!out.empty()) out.push_back(',');
    out.append(std::to_string(nodes[i]));
    if (j > i) {
      out.push_back('-');
      out.append(std::to_string(nodes[j]));
    }
    i = j + 1;
  }
  return out;
}

// Whole pages covering [addr, addr + bytes): {first page, length in bytes}.
struct PageRange {
  std::uintptr_t start = 0;
  std::size_t length = 0;
};

PageRange pages_of(const void* addr, std::size_t bytes) {
  if (bytes == 0) return {};
  const std::uintptr_t page = page_size();
  const auto begin = reinterpret_cast<std::uintptr_t>(addr);
  const std::uintptr_t start = begin / page * page;
  const std::uintptr_t end = (begin + bytes + page - 1) / page * page;
  return {start, static_cast<std::size_t>(end - start)};
}

}  // namespace

MemoryPolicy parse_membind(std::string_view text) {
  if (text == "local") return {MemoryPolicy::Kind::local, -1};
  if (text == "remote") return {MemoryPolicy::Kind::remote, -1};
  // A node number: digits only (no sign, no spaces), fitting an int.
  int node = -1;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  const bool all_digits = !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  if (all_digits) {
    const auto [end, ec] = std::from_chars(first, last, node);
    if (ec == std::errc() && end == last && node >= 0) return {MemoryPolicy::Kind::node, node};
  }
  throw UsageError("invalid --membind '" + std::string(text) + "' (expected local, remote or a NUMA node number)");
}

std::string membind_unavailable_reason(const MemoryPolicy& policy) {
  if (policy.kind == MemoryPolicy::Kind::none) return "";
  // Even local needs libnuma: the rank's memory is bound with mbind, which
  // fails exactly as get_mempolicy did (ENOSYS or EPERM).
  if (std::string why = numa_unavailable_reason(); !why.empty()) return why;

  switch (policy.kind) {
    case MemoryPolicy::Kind::none:
    case MemoryPolicy::Kind::local: return "";  // the node of any PU the rank may run on is a memory node here
    case MemoryPolicy::Kind::remote: {
      if (numa_num_configured_nodes() <= 1) {
        return "--membind remote: this machine has one NUMA node, so there is no remote memory";
      }
      const std::vector<int> allowed = allowed_nodes();
      if (allowed.size() <= 1) {
        return "--membind remote: this process may only use NUMA node " + node_list(allowed) +
               " (cpuset mems: " + node_list(allowed) + "), so there is no remote memory";
      }
      return "";
    }
    case MemoryPolicy::Kind::node: {
      const int n = policy.node;
      const std::vector<int> configured = configured_nodes();
      if (n < 0 || !contains(configured, n)) {
        return fmt::format("--membind {}: NUMA node {} does not exist (nodes: {})", n, n, node_list(configured));
      }
      const std::vector<int> allowed = allowed_nodes();
      if (!contains(allowed, n)) {
        return fmt::format("--membind {}: NUMA node {} is not allowed for this process (cpuset mems: {})", n, n,
                           node_list(allowed));
      }
      return "";
    }
  }
  return "";
}

int node_for_pu(const MemoryPolicy& policy, int pu) {
  switch (policy.kind) {
    case MemoryPolicy::Kind::none: return -1;
    case MemoryPolicy::Kind::node: return policy.node;
    case MemoryPolicy::Kind::local:
    case MemoryPolicy::Kind::remote: break;
  }
  // local and remote are relative to the PU: an unpinned rank (pu < 0), a PU
  // libnuma does not know, or no libnuma at all leave memory to the kernel.
  if (pu < 0 || numa_available() < 0) return -1;
  const int own = numa_node_of_cpu(pu);
  if (own < 0) return -1;
  if (policy.kind == MemoryPolicy::Kind::local) return own;

  // remote: the nearest allowed memory node other than the PU's own; on equal
  // distance the lowest number (allowed_nodes() is sorted, and only a strictly
  // smaller distance replaces the best so far).
  int best = -1;
  int best_distance = INT_MAX;
  for (const int node : allowed_nodes()) {
    if (node == own) continue;
    int distance = numa_distance(own, node);
    if (distance <= 0) distance = INT_MAX - 1;  // 0: libnuma could not tell
    if (best < 0 || distance < best_distance) {
      best = node;
      best_distance = distance;
    }
  }
  return best;
}

void bind_memory(void* addr, std::size_t bytes, int node) {
  if (node < 0) return;
  const PageRange range = pages_of(addr, bytes);
  if (range.length == 0) return;

  // A nodemask with the one bit `node` set, as many words as that needs.
  constexpr std::size_t kBits = sizeof(unsigned long) * CHAR_BIT;
  const auto bit = static_cast<std::size_t>(node);
  std::vector<unsigned long> mask(bit / kBits + 1, 0UL);
  mask[bit / kBits] |= 1UL << (bit % kBits);
  // The kernel reads maxnode - 1 bits (get_nodes() starts with --maxnode; see
  // BUGS in mbind(2)), so one more than the bits in the mask, as libnuma passes.
  const unsigned long maxnode = mask.size() * kBits + 1;

  // Flags: MPOL_MF_STRICT only.
  //  - No MPOL_MF_MOVE / MPOL_MF_MOVE_ALL: the contract is to bind before the
  //    first touch, when the range has no page yet; every page is then
  //    allocated on `node` by the fault that first touches it, in whichever
  //    process (for MAP_SHARED memory the policy belongs to the shared object,
  //    so a rank forked later that touches the page first obeys it too). MOVE
  //    would hide a caller that touched memory too early by quietly migrating
  //    it (and could not move shared pages mapped by other processes anyway;
  //    MOVE_ALL needs CAP_SYS_NICE).
  //  - MPOL_MF_STRICT makes such a caller fail loudly instead: if a page in the
  //    range is already present on another node, mbind fails with EIO rather
  //    than leaving memory that is not where the benchmark says it is. Pages
  //    already on `node` (or none at all) pass.
  const long rc =
      mbind(reinterpret_cast<void*>(range.start), range.length, MPOL_BIND, mask.data(), maxnode, MPOL_MF_STRICT);
  if (rc != 0) {
    throw SysError(fmt::format("mbind({} bytes at {}, MPOL_BIND, node {})", range.length,
                               reinterpret_cast<void*>(range.start), node),
                   errno);
  }
}

std::vector<int> nodes_of_pages(const void* addr, std::size_t bytes) {
  const PageRange range = pages_of(addr, bytes);
  const std::size_t count = range.length / page_size();
  std::vector<int> status(count, 0);
  if (count == 0) return status;
  std::vector<void*> pages(count);
  for (std::size_t i = 0; i < count; ++i) {
    pages[i] = reinterpret_cast<void*>(range.start + i * page_size());
  }
  // nodes == nullptr: no migration, only the node of each page in `status`.
  // It looks at this process's page tables: a page another process faulted
  // into a shared mapping reads -ENOENT here until this process touches it.
  if (move_pages(0, count, pages.data(), nullptr, status.data(), 0) != 0) {
    throw SysError(fmt::format("move_pages({} pages at {})", count, reinterpret_cast<void*>(range.start)), errno);
  }
  return status;
}

std::string to_string(const MemoryPolicy& policy) {
  switch (policy.kind) {
    case MemoryPolicy::Kind::none: return "";
    case MemoryPolicy::Kind::local: return "local";
    case MemoryPolicy::Kind::remote: return "remote";
    case MemoryPolicy::Kind::node: return "node" + std::to_string(policy.node);
  }
  return "";
}

}  // namespace ipcatlas
