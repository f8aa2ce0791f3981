// The machine's processing units as hwloc sees them: which PUs exist and may be
// used, which pair a default run should use, how two PUs relate (the
// placement class), and pinning a process to one PU.
//
// PUs are always named by their OS index (the number Linux uses, as in
// taskset and /proc/cpuinfo), never by hwloc's logical index.
#pragma once

#include <hwloc.h>

#include <cstddef>
#include <string>
#include <vector>

namespace ipcatlas {

// An hwloc bitmap freed on scope exit.
struct HwlocBitmap {
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  HwlocBitmap() = default;
  HwlocBitmap(const HwlocBitmap&) = delete;
  HwlocBitmap& operator=(const HwlocBitmap&) = delete;
  ~HwlocBitmap() { hwloc_bitmap_free(set); }
};

class Topology {
 public:
  // The topology of this machine, including PUs this process may not use
  // (so that errors can tell "does not exist" from "not allowed"). Allowed
  // are the PUs of its cgroup cpuset that its CPU binding (taskset, numactl,
  // Slurm's task/affinity) includes.
  static Topology load_this_machine();
  // A topology from an XML export or a synthetic description such as
  // "pack:2 numa:2 core:4 pu:2" (for tests and previews).
  static Topology load_xml(const std::string& path);
  static Topology load_synthetic(const std::string& description);

  Topology(Topology&& other) noexcept;
  Topology& operator=(Topology&& other) noexcept;
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;
  ~Topology();

  hwloc_topology_t handle() const { return topo_; }
  bool is_this_machine() const { return this_machine_; }

  std::vector<int> allowed_pus() const;
  // Throws UsageError naming the PU when it does not exist, is not allowed
  // for this process (its cgroup cpuset and CPU binding), or appears twice.
  void validate_pus(const std::vector<int>& pus) const;
  // Two PUs on distinct cores of one package, sharing the closest cache,
  // avoiding the core of PU 0 (where the OS does its housekeeping) when the
  // package has others. Throws UsageError when no package has two usable cores.
  std::vector<int> default_pair() const;

  // How the PUs relate, from their common ancestor: "self" (one PU), "smt"
  // (threads of one core), "l2", "l3" (shared cache), "package" (same package
  // and NUMA node, no shared cache), "numa" (same package, different NUMA
  // nodes) or "socket" (different packages).
  std::string placement_class(const std::vector<int>& pus) const;

  // The largest data or unified cache above any of these PUs, in bytes: the
  // last-level cache that the ranks on them share, or when they share none,
  // the larger of their own. 0 when hwloc reports no cache (some VMs).
  std::size_t last_level_cache_bytes(const std::vector<int>& pus) const;

  // One line: packages, NUMA nodes, cores, PUs, SMT, caches.
  std::string summary() const;

 private:
  Topology(hwloc_topology_t topo, bool this_machine) : topo_(topo), this_machine_(this_machine) {}
  hwloc_obj_t pu(int os_index) const;

  hwloc_topology_t topo_ = nullptr;
  bool this_machine_ = false;
};

// Binds the calling process to one PU and checks that it now runs there.
// Throws SysError/std::runtime_error naming the PU and errno.
// The topology as hwloc XML (loadable with Topology::load_xml or
// `lstopo -i FILE`), for write_output_file. Throws std::runtime_error on failure.
std::string topology_xml(const Topology& topology);

void pin_this_process(const Topology& topo, int os_pu);

// The OS index of the PU this process last ran on.
int current_pu(const Topology& topo);

}  // namespace ipcatlas
