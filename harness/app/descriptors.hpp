// The descriptors of mechanisms (mechanisms/mechanism.hpp) and scenarios
// (scenarios/scenario.hpp) as the outside sees them: in the context of every
// result file, so that the analysis reads the traits of what it analyses
// instead of keeping lists of its own, and in `ipcatlas list`. Ordered JSON,
// so that `list` shows a scenario's counters in its order.
#pragma once

#include <nlohmann/json.hpp>

#include <ostream>

#include "mechanisms/mechanism.hpp"
#include "scenarios/scenario.hpp"

namespace ipcatlas {

// {"summary", "copies", "copies_note", "permissions", "api", "moves" (pull |
// push | both | none), "single_copy", "reference", "one_tracer_per_tracee",
// "wait_policies": ["spin", "block", "adaptive"] (those it honours)}
nlohmann::ordered_json mechanism_json(const Mechanism& mechanism);

// {"summary", "iteration", "primary_metric", "name_keys": [...],
//  "counters": {"one_way_ns": "ns", ...}}
nlohmann::ordered_json scenario_json(const Scenario& scenario);

// Adds context["mechanisms"][ID] for every registered mechanism (the run's
// selection is in its benchmark names) and context["scenarios"][ID] for the
// run's scenario: nested JSON, beside Google Benchmark's string values.
void add_descriptors(nlohmann::json& context, const Scenario& scenario);

// `ipcatlas list --json`: every mechanism, probed here, and every scenario,
// with their descriptors.
nlohmann::ordered_json list_document();
// `ipcatlas list`: the same as tables.
void print_list(std::ostream& out, const nlohmann::ordered_json& doc);

}  // namespace ipcatlas
