#include "harness/machine/topology.hpp"

#include <algorithm>
#include <functional>
#include <set>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "harness/base/error.hpp"
#include "harness/base/sizes.hpp"

namespace ipcatlas {
namespace {

// Creates and loads a topology; `configure` selects the source (system, XML, synthetic).
hwloc_topology_t load_topology(const std::function<int(hwloc_topology_t)>& configure, const std::string& what) {
  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) != 0) throw SysError("hwloc_topology_init", errno);
  hwloc_topology_set_flags(topo, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
  if (configure(topo) != 0 || hwloc_topology_load(topo) != 0) {
    const int err = errno;
    hwloc_topology_destroy(topo);
    throw UsageError("cannot load topology " + what + ": " + errno_name(err));
  }
  return topo;
}

bool allowed(hwloc_topology_t topo, hwloc_obj_t pu) {
  return hwloc_bitmap_isset(hwloc_topology_get_allowed_cpuset(topo), pu->os_index);
}

hwloc_obj_t core_of(hwloc_topology_t topo, hwloc_obj_t pu) {
  hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, pu);
  return core ? core : pu;  // some synthetic topologies have no cores
}

// Smaller is closer: used to pick the default pair.
int closeness(const std::string& placement) {
  static const char* order[] = {"self", "smt", "l2", "l3", "package", "numa", "socket"};
  for (int i = 0; i < 7; ++i)
    if (placement == order[i]) return i;
  return 7;
}

std::string cache_summary(hwloc_topology_t topo, hwloc_obj_type_t type, const char* name) {
  const int count = hwloc_get_nbobjs_by_type(topo, type);
  if (count <= 0) return "";
  hwloc_obj_t first = hwloc_get_obj_by_type(topo, type, 0);
  const int cores = hwloc_get_nbobjs_inside_cpuset_by_type(topo, first->cpuset, HWLOC_OBJ_CORE);
  return fmt::format(", {} {} x{} ({} core{} each)", name,
                     format_size(static_cast<std::size_t>(first->attr->cache.size)), count, cores,
                     cores == 1 ? "" : "s");
}

// hwloc's allowed set is the cgroup cpuset alone. A process that Slurm's
// task/affinity, taskset or numactl bound to some PUs must keep to those as
// well: its ranks pin themselves, and would otherwise leave the CPUs the
// process was given (and measure a neighbour's job, or be measured by it).
void allow_only_bound_pus(hwloc_topology_t topo) {
  HwlocBitmap bound;
  if (hwloc_get_cpubind(topo, bound.set, HWLOC_CPUBIND_PROCESS) != 0) return;  // unknown: the cpuset stands
  HwlocBitmap usable;
  hwloc_bitmap_and(usable.set, bound.set, hwloc_topology_get_allowed_cpuset(topo));
  if (hwloc_bitmap_iszero(usable.set) || hwloc_bitmap_isequal(usable.set, hwloc_topology_get_allowed_cpuset(topo)))
    return;
  hwloc_topology_allow(topo, usable.set, nullptr, HWLOC_ALLOW_FLAG_CUSTOM);
}

}  // namespace

Topology Topology::load_this_machine() {
  hwloc_topology_t topo = load_topology([](hwloc_topology_t) { return 0; }, "of this machine");
  allow_only_bound_pus(topo);
  return Topology(topo, true);
}

Topology Topology::load_xml(const std::string& path) {
  return Topology(load_topology([&](hwloc_topology_t t) { return hwloc_topology_set_xml(t, path.c_str()); },
                                "from XML file '" + path + "'"),
                  false);
}

Topology Topology::load_synthetic(const std::string& description) {
  return Topology(
      load_topology([&](hwloc_topology_t t) { return hwloc_topology_set_synthetic(t, description.c_str()); },
                    "from synthetic description '" + description + "'"),
      false);
}

Topology::Topology(Topology&& other) noexcept
    : topo_(std::exchange(other.topo_, nullptr)), this_machine_(other.this_machine_) {}

Topology& Topology::operator=(Topology&& other) noexcept {
  if (this != &other) {
    if (topo_) hwloc_topology_destroy(topo_);
    topo_ = std::exchange(other.topo_, nullptr);
    this_machine_ = other.this_machine_;
  }
  return *this;
}

Topology::~Topology() {
  if (topo_) hwloc_topology_destroy(topo_);
}

hwloc_obj_t Topology::pu(int os_index) const {
  return os_index < 0 ? nullptr : hwloc_get_pu_obj_by_os_index(topo_, static_cast<unsigned>(os_index));
}

std::vector<int> Topology::allowed_pus() const {
  std::vector<int> pus;
  for (hwloc_obj_t p = hwloc_get_next_obj_by_type(topo_, HWLOC_OBJ_PU, nullptr); p;
       p = hwloc_get_next_obj_by_type(topo_, HWLOC_OBJ_PU, p))
    if (allowed(topo_, p)) pus.push_back(static_cast<int>(p->os_index));
  std::sort(pus.begin(), pus.end());
  return pus;
}

void Topology::validate_pus(const std::vector<int>& pus) const {
  std::set<int> seen;
  for (int p : pus) {
    hwloc_obj_t obj = pu(p);
    if (!obj) throw UsageError(fmt::format("CPU {} does not exist (this machine's PUs: {})", p, join(allowed_pus())));
    if (!allowed(topo_, obj))
      throw UsageError(fmt::format("CPU {} is not allowed for this process (allowed: {}: its cgroup cpuset and CPU "
                                   "binding, as taskset, numactl or Slurm set them)",
                                   p, join(allowed_pus())));
    if (!seen.insert(p).second) throw UsageError(fmt::format("CPU {} is given twice; every rank needs its own PU", p));
  }
}

std::vector<int> Topology::default_pair() const {
  // One PU per core (the first allowed one), in core order.
  std::vector<hwloc_obj_t> cores;
  for (int p : allowed_pus()) {
    hwloc_obj_t core = core_of(topo_, pu(p));
    if (std::find(cores.begin(), cores.end(), core) == cores.end()) cores.push_back(core);
  }
  auto first_pu = [&](hwloc_obj_t core) {
    for (int p : allowed_pus())
      if (core_of(topo_, pu(p)) == core) return p;
    return -1;
  };
  const hwloc_obj_t core_of_pu0 = pu(0) ? core_of(topo_, pu(0)) : nullptr;
  std::vector<int> best;
  int best_score = 1 << 30;
  for (std::size_t i = 0; i < cores.size(); ++i) {
    for (std::size_t j = i + 1; j < cores.size(); ++j) {
      const std::vector<int> pair{first_pu(cores[i]), first_pu(cores[j])};
      const int c = closeness(placement_class(pair));
      if (c >= closeness("numa")) continue;  // must share a package
      const int score = c * 2 + ((cores[i] == core_of_pu0 || cores[j] == core_of_pu0) ? 1 : 0);
      if (score < best_score) {
        best_score = score;
        best = pair;
      }
    }
  }
  if (best.empty())
    throw UsageError("no package has two usable cores (allowed PUs: " + join(allowed_pus()) +
                     "); give two PUs with --cpus");
  return best;
}

std::string Topology::placement_class(const std::vector<int>& pus) const {
  if (pus.empty()) return "none";
  hwloc_obj_t ancestor = pu(pus[0]);
  for (int p : pus) {
    if (!pu(p)) throw UsageError(fmt::format("CPU {} does not exist", p));
    ancestor = hwloc_get_common_ancestor_obj(topo_, ancestor, pu(p));
  }
  if (ancestor->type == HWLOC_OBJ_PU) return "self";
  if (ancestor->type == HWLOC_OBJ_CORE) return "smt";
  for (hwloc_obj_t o = ancestor; o; o = o->parent) {
    if (o->type == HWLOC_OBJ_L1CACHE || o->type == HWLOC_OBJ_L2CACHE) return "l2";
    if (o->type == HWLOC_OBJ_L3CACHE) return "l3";
    if (o->type == HWLOC_OBJ_PACKAGE) {
      // NUMA nodes hang off the tree as memory children; compare nodesets.
      for (int p : pus)
        if (!hwloc_bitmap_isequal(pu(p)->nodeset, pu(pus[0])->nodeset)) return "numa";
      return "package";
    }
  }
  return "socket";
}

std::size_t Topology::last_level_cache_bytes(const std::vector<int>& pus) const {
  std::size_t largest = 0;
  for (int p : pus) {
    if (!pu(p)) throw UsageError(fmt::format("CPU {} does not exist", p));
    for (hwloc_obj_t o = pu(p)->parent; o; o = o->parent)
      if (hwloc_obj_type_is_dcache(o->type) && o->attr->cache.type != HWLOC_OBJ_CACHE_INSTRUCTION)
        largest = std::max(largest, static_cast<std::size_t>(o->attr->cache.size));
  }
  return largest;
}

std::string Topology::summary() const {
  const int packages = hwloc_get_nbobjs_by_type(topo_, HWLOC_OBJ_PACKAGE);
  const int numa = hwloc_get_nbobjs_by_type(topo_, HWLOC_OBJ_NUMANODE);
  const int cores = hwloc_get_nbobjs_by_type(topo_, HWLOC_OBJ_CORE);
  const int pus = hwloc_get_nbobjs_by_type(topo_, HWLOC_OBJ_PU);
  std::string s =
      fmt::format("{} package{}, {} NUMA node{}, {} cores, {} PUs (SMT {})", packages, packages == 1 ? "" : "s", numa,
                  numa == 1 ? "" : "s", cores, pus, pus > cores ? "on" : "off");
  s += cache_summary(topo_, HWLOC_OBJ_L2CACHE, "L2");
  s += cache_summary(topo_, HWLOC_OBJ_L3CACHE, "L3");
  return s;
}

void pin_this_process(const Topology& topo, int os_pu) {
  HwlocBitmap target;
  hwloc_bitmap_only(target.set, static_cast<unsigned>(os_pu));
  if (hwloc_set_cpubind(topo.handle(), target.set, HWLOC_CPUBIND_PROCESS | HWLOC_CPUBIND_STRICT) != 0)
    throw SysError(fmt::format("hwloc_set_cpubind(PU {}, PROCESS|STRICT)", os_pu), errno);
  // sched_setaffinity migrates the caller before returning; check that it did.
  const int now = current_pu(topo);
  if (now != os_pu)
    throw std::runtime_error(
        fmt::format("bound to PU {} but running on PU {} (hwloc_get_last_cpu_location)", os_pu, now));
}

int current_pu(const Topology& topo) {
  HwlocBitmap where;
  if (hwloc_get_last_cpu_location(topo.handle(), where.set, HWLOC_CPUBIND_THREAD) != 0)
    throw SysError("hwloc_get_last_cpu_location", errno);
  return hwloc_bitmap_first(where.set);
}

std::string topology_xml(const Topology& topology) {
  char* buffer = nullptr;
  int length = 0;
  if (hwloc_topology_export_xmlbuffer(topology.handle(), &buffer, &length, 0) != 0)
    throw SysError("hwloc_topology_export_xmlbuffer", errno);
  // length counts the terminating NUL.
  std::string xml(buffer, static_cast<std::size_t>(length > 0 ? length - 1 : 0));
  hwloc_free_xmlbuffer(topology.handle(), buffer);
  return xml;
}

}  // namespace ipcatlas
