#include "scenarios/scenario.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness/base/text.hpp"

namespace ipcatlas {

extern const Scenario kPingPongScenario;
extern const Scenario kStreamScenario;
extern const Scenario kAlltoallScenario;
extern const Scenario kManyToOneScenario;
extern const Scenario kOneToManyScenario;

std::span<const Scenario* const> all_scenarios() {
  static const Scenario* const kAll[] = {&kPingPongScenario, &kStreamScenario, &kAlltoallScenario, &kManyToOneScenario,
                                         &kOneToManyScenario};
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

const Counter* find_counter(const Scenario& scenario, std::string_view name) {
  for (const Counter& c : scenario.counters)
    if (c.name == name) return &c;
  return nullptr;
}

namespace {

// Whose memory a one-tracer-per-tracee mechanism reaches, and so how many
// peers would reach one rank: a pulling receiver reads its sender (all the
// receivers of one sender reach it), a pushing sender writes its receiver.
int accessors_of_one_rank(const Scenario& s, const Mechanism& m, int ranks) {
  if (m.moves == Moves::pull) return peer_count(s.sends_to, ranks);
  if (m.moves == Moves::push) return peer_count(s.receives_from, ranks);
  return std::max(peer_count(s.sends_to, ranks), peer_count(s.receives_from, ranks));
}

// "pingpong, stream and manytoone"
std::string and_list(const std::vector<std::string>& items) {
  if (items.size() < 2) return join(items);
  const std::vector<std::string> head(items.begin(), items.end() - 1);
  return join(head) + " and " + items.back();
}

}  // namespace

std::string mechanism_cannot_serve(const Scenario& scenario, const Mechanism& mechanism, int ranks) {
  if (!mechanism.one_tracer_per_tracee || accessors_of_one_rank(scenario, mechanism, ranks) <= 1) return "";
  std::vector<std::string> served;
  for (const Scenario* s : all_scenarios())
    if (accessors_of_one_rank(*s, mechanism, s->max_ranks) <= 1) served.emplace_back(s->id);
  const bool pull = mechanism.moves == Moves::pull;
  return std::string(mechanism.id) + " allows one tracer per tracee, and in " + std::string(scenario.id) +
         (pull ? " a sender is read by several receivers" : " a receiver is written by several senders") + " (only " +
         and_list(served) + " can be served)";
}

std::string segments_cannot_run(const Mechanism& mechanism, const CellSpec& cell) {
  if (cell.segments <= 1) return "";
  if (!mechanism.segments_refusal.empty())
    return std::string(mechanism.id) +
           " cannot move scatter/gather messages: " + std::string(mechanism.segments_refusal);
  if (cell.size < cell.segments)
    return fmt::format("{} bytes cannot make {} segments (at least one byte each)", cell.size, cell.segments);
  return "";
}

}  // namespace ipcatlas
