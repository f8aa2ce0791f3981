// Shared by the scenario tests: start a real session on this machine.
#pragma once

#include <string>

#include "harness/ranks/launcher.hpp"
#include "harness/machine/placement.hpp"
#include "mechanisms/registry.hpp"
#include "scenarios/scenario.hpp"

namespace ipcatlas::testing {

inline const Topology& machine() {
  static const Topology t = Topology::load_this_machine();
  return t;
}

// A cell of `scenario` with `ranks` ranks placed as a run would place them
// (oversubscribed ranks wait blocking).
inline CellSpec cell(const char* mechanism, std::size_t size, int ranks) {
  CellSpec c;
  c.mechanism = find_mechanism(mechanism);
  c.size = size;
  const RankPlacement p = place_ranks(machine(), ranks, {}, "");
  c.cpus = p.pus;
  c.wait = p.oversubscribed ? WaitPolicy::block : WaitPolicy::spin;
  c.watchdog_seconds = 20;
  return c;
}

inline std::unique_ptr<ScenarioSession> start(const char* scenario, const CellSpec& c) {
  return find_scenario(scenario)->start(machine(), c);
}

// The RankFailure message of a few batches, "" if none.
inline std::string failure_of(const char* scenario, const CellSpec& c) {
  auto session = start(scenario, c);
  try {
    for (int batch = 0; batch < 3; ++batch) session->run_batch(5);
  } catch (const RankFailure& e) {
    return e.what();
  }
  return "";
}

}  // namespace ipcatlas::testing
