// Where buffers and shared rings live, through libnuma: --membind
// local|remote|N. Memory is bound with mbind() before it is first touched,
// which is what places it (MAP_SHARED or memfd memory for anything two ranks
// share: numa_alloc_onnode() memory is private, so after fork it would be
// copy-on-write, not shared).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ipcatlas {

struct MemoryPolicy {
  enum class Kind { none, local, remote, node };
  Kind kind = Kind::none;
  int node = -1;  // for Kind::node
};

// "local", "remote" or a node number; UsageError otherwise (naming the text).
MemoryPolicy parse_membind(std::string_view text);

// "" when the policy can be applied here; otherwise why not, e.g. "--membind
// remote: this machine has one NUMA node, so there is no remote memory" or
// "libnuma: numa_available() failed (no NUMA support in this kernel)".
std::string membind_unavailable_reason(const MemoryPolicy& policy);

// The NUMA node for the memory of a rank running on PU `pu`: its own node
// (local), the nearest other node by numa_distance (remote), the given node,
// or -1 (none: the kernel's default, first touch).
int node_for_pu(const MemoryPolicy& policy, int pu);

// Binds the pages of [addr, addr + bytes) to `node` (MPOL_BIND) before they
// are touched; no-op for node < 0. Throws SysError naming mbind and errno.
void bind_memory(void* addr, std::size_t bytes, int node);

// The NUMA node each page of [addr, addr + bytes) is on (move_pages with no
// target nodes), or a negative errno for a page (e.g. -ENOENT: not present).
std::vector<int> nodes_of_pages(const void* addr, std::size_t bytes);

// "local", "remote", "node0", or "" for none: for benchmark names and context.
std::string to_string(const MemoryPolicy& policy);

}  // namespace ipcatlas
