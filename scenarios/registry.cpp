#include "scenarios/scenario.hpp"

namespace ipcatlas {

extern const Scenario kPingPongScenario;

std::span<const Scenario* const> all_scenarios() {
  static const Scenario* const kAll[] = {&kPingPongScenario};
  return kAll;
}

const Scenario* find_scenario(std::string_view id) {
  for (const Scenario* s : all_scenarios())
    if (s->id == id) return s;
  return nullptr;
}

}  // namespace ipcatlas
