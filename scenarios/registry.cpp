#include "scenarios/scenario.hpp"

#include <string>
#include <vector>

#include "harness/base/text.hpp"

namespace ipcatlas {

extern const Scenario kPingPongScenario;
extern const Scenario kStreamScenario;
extern const Scenario kAlltoallScenario;
extern const Scenario kManyToOneScenario;
extern const Scenario kOneToManyScenario;

std::span<const Scenario* const> all_scenarios() {
  static const Scenario* const kAll[] = {&kPingPongScenario, &kStreamScenario, &kAlltoallScenario,
                                         &kManyToOneScenario, &kOneToManyScenario};
  return kAll;
}

std::string scenario_ids() {
  std::vector<std::string> ids;
  for (const Scenario* s : all_scenarios()) ids.emplace_back(s->id);
  return join(ids);
}

const Scenario* find_scenario(std::string_view id) {
  for (const Scenario* s : all_scenarios())
    if (s->id == id) return s;
  return nullptr;
}

}  // namespace ipcatlas
