// Where a run's ranks go: explicit PUs, a named placement, or the unnamed
// default spread (see placement.hpp); and the text of `list --placements`.
// The search for named placements is in placement.cpp.
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness/base/error.hpp"
#include "harness/machine/placement.hpp"
#include "harness/machine/placement_search.hpp"
#include "harness/base/text.hpp"

namespace ipcatlas {
namespace {

std::vector<std::string> names(const std::vector<NamedPlacement>& placements) {
  std::vector<std::string> out;
  for (const NamedPlacement& p : placements) out.push_back(p.name);
  return out;
}

std::string has_list(const std::vector<NamedPlacement>& placements) {
  return placements.empty() ? "none" : join(names(placements));
}

// The distinct PUs, in first-use order.
std::vector<int> distinct(const std::vector<int>& pus) {
  std::vector<int> out;
  for (int p : pus)
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  return out;
}

RankPlacement make_placement(const Topology& topology, std::vector<int> pus) {
  RankPlacement r;
  const std::vector<int> unique = distinct(pus);
  r.oversubscribed = unique.size() < pus.size();
  r.placement = topology.placement_class(unique);
  r.pus = std::move(pus);
  return r;
}

std::vector<int> round_robin(const std::vector<int>& pus, int ranks) {
  std::vector<int> out;
  for (int r = 0; r < ranks; ++r) out.push_back(pus[static_cast<std::size_t>(r) % pus.size()]);
  return out;
}

// The unnamed default for `ranks` ranks (no --cpus, no --placement).
std::vector<int> default_pus(const Topology& topology, int ranks) {
  const std::vector<int> allowed = topology.allowed_pus();
  if (allowed.empty()) throw UsageError("no PU is allowed for this process");
  if (ranks == 2) {
    try {
      return topology.default_pair();
    } catch (const UsageError&) {
      // No package has two usable cores: fall through to the general spread
      // (smt or socket, or oversubscription on a single PU).
    }
  }
  if (ranks > static_cast<int>(allowed.size())) return round_robin(allowed, ranks);
  std::vector<int> pus = spread_over_machine(topology, ranks);
  return pus.empty() ? round_robin(allowed, ranks) : pus;  // empty is not reached: the last pass has every allowed PU
}

}  // namespace

RankPlacement place_ranks(const Topology& topology, int ranks, const std::vector<int>& cpus,
                          const std::string& placement_name) {
  if (ranks < 1) throw UsageError(fmt::format("a scenario needs at least one rank (got {})", ranks));
  if (!cpus.empty() && !placement_name.empty()) throw UsageError("give either --cpus or --placement, not both");

  if (!cpus.empty()) {
    topology.validate_pus(cpus);
    if (static_cast<int>(cpus.size()) > ranks)
      throw UsageError(fmt::format("--cpus gives {} PUs but the scenario runs {} rank{}", cpus.size(), ranks,
                                   ranks == 1 ? "" : "s"));
    return make_placement(topology, round_robin(cpus, ranks));
  }

  if (!placement_name.empty()) {
    const std::vector<NamedPlacement> available = named_placements(topology, ranks);
    for (const NamedPlacement& p : available)
      if (p.name == placement_name) return make_placement(topology, p.pus);
    if (!is_placement_class(placement_name))
      throw UsageError(fmt::format("unknown placement '{}' (placements: {}; this machine has: {})", placement_name,
                                   join(placement_class_names()), has_list(available)));
    if (ranks < 2)
      throw UsageError(
          fmt::format("placement '{}' needs 2 or more ranks; the scenario runs {}", placement_name, ranks));
    // Absent altogether, or only too small for this many ranks?
    const std::vector<NamedPlacement> for_two = named_placements(topology, 2);
    const bool has_for_two =
        std::any_of(for_two.begin(), for_two.end(), [&](const NamedPlacement& p) { return p.name == placement_name; });
    if (!has_for_two)
      throw UsageError(
          fmt::format("placement '{}' does not exist on this machine (it has: {})", placement_name, has_list(for_two)));
    throw UsageError(fmt::format("placement '{}' cannot host {} ranks on this machine: {} (for {} ranks it has: {})",
                                 placement_name, ranks, placement_absent_reason(topology, placement_name, ranks), ranks,
                                 has_list(available)));
  }

  return make_placement(topology, default_pus(topology, ranks));
}

std::string describe_placements(const Topology& topology, int ranks) {
  const std::vector<NamedPlacement> available = named_placements(topology, ranks);
  std::string out = fmt::format("Placements for {} rank{} on: {}\n", ranks, ranks == 1 ? "" : "s", topology.summary());
  std::size_t width = 0;
  for (const NamedPlacement& p : available) width = std::max(width, join(p.pus).size());
  for (const NamedPlacement& p : available)
    out += fmt::format("  {:<7} PUs {:<{}}  {}\n", p.name, join(p.pus), width, p.description);
  if (available.empty()) out += fmt::format("  (no named placement for {} rank{})\n", ranks, ranks == 1 ? "" : "s");

  const std::vector<std::string> absent = absent_placements(topology, available, ranks);
  if (!absent.empty()) out += "Not on this machine: " + join(absent) + "\n";

  try {
    const RankPlacement d = place_ranks(topology, ranks, {}, "");
    out += fmt::format("Without --placement or --cpus: PUs {} ({}{})\n", join(d.pus), d.placement,
                       d.oversubscribed ? ", oversubscribed" : "");
  } catch (const UsageError& e) {
    out += std::string("Without --placement or --cpus: ") + e.what() + "\n";
  }
  return out;
}

}  // namespace ipcatlas
