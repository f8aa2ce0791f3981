#include "harness/app/descriptors.hpp"

#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness/base/sizes.hpp"
#include "harness/base/text.hpp"
#include "mechanisms/registry.hpp"
#include "scenarios/support/cpu_meter.hpp"

namespace ipcatlas {

nlohmann::ordered_json mechanism_json(const Mechanism& m) {
  std::vector<std::string> waits;
  for (WaitPolicy p : kAllWaitPolicies)
    if (m.wait_policies.honours(p)) waits.emplace_back(to_string(p));
  return {{"summary", m.summary},
          {"copies", m.copies},
          {"copies_note", m.copies_note},
          {"permissions", m.permissions},
          {"api", m.api},
          {"moves", to_string(m.moves)},
          {"single_copy", m.single_copy},
          {"reference", m.reference},
          {"mapping_page_size", m.mapping_page_size},
          {"one_tracer_per_tracee", m.one_tracer_per_tracee},
          {"wait_policies", waits},
          {"segments", m.segments_refusal.empty() ? std::string("yes") : "no: " + std::string(m.segments_refusal)}};
}

nlohmann::ordered_json scenario_json(const Scenario& s) {
  // "counters": in every ok result; "per_rank_counters": one per rank, the
  // rank's number in place of "{rank}"; "optional_counters": only where the
  // machine allows them (perf_event_open), per rank where the name says so.
  nlohmann::ordered_json counters = nlohmann::ordered_json::object();
  nlohmann::ordered_json per_rank = nlohmann::ordered_json::object();
  nlohmann::ordered_json optional = nlohmann::ordered_json::object();
  for (const Counter& c : s.counters)
    (c.optional ? optional : c.per_rank ? per_rank : counters)[std::string(c.name)] = c.unit;
  std::vector<std::string> keys(s.name_keys.begin(), s.name_keys.end());
  nlohmann::ordered_json json = {{"summary", s.summary},
                                 {"iteration", s.iteration},
                                 {"primary_metric", s.primary_metric},
                                 {"name_keys", keys},
                                 {"counters", counters},
                                 {"per_rank_counters", per_rank},
                                 {"optional_counters", optional}};
  if (find_counter(s, kCpuMetric)) json["cpu_metric"] = kCpuMetric;  // the CPU per message, all ranks together
  return json;
}

void add_descriptors(nlohmann::json& context, const Scenario& scenario) {
  nlohmann::json& mechanisms = context["mechanisms"] = nlohmann::json::object();
  for (const Mechanism* m : all_mechanisms()) mechanisms[std::string(m->id)] = nlohmann::json(mechanism_json(*m));
  context["scenarios"] = nlohmann::json::object();
  context["scenarios"][std::string(scenario.id)] = nlohmann::json(scenario_json(scenario));
}

nlohmann::ordered_json list_document() {
  nlohmann::ordered_json doc;
  for (const Mechanism* m : all_mechanisms()) {
    const Availability a = m->probe();
    nlohmann::ordered_json entry = mechanism_json(*m);
    entry.update({{"id", m->id},
                  {"available", a.available},
                  {"probe_failed", a.failed},
                  {"size_cap", m->default_size_cap},
                  {"reason", a.reason},
                  {"fix", a.fix}});
    doc["mechanisms"].push_back(entry);
  }
  for (const Scenario* s : all_scenarios()) {
    nlohmann::ordered_json entry = scenario_json(*s);
    nlohmann::ordered_json what = nlohmann::ordered_json::object();
    for (const Counter& c : s->counters) what[std::string(c.name)] = c.what;
    entry.update({{"id", s->id},
                  {"counter_descriptions", what},
                  {"ranks", s->ranks},
                  {"min_ranks", s->min_ranks},
                  {"max_ranks", s->max_ranks}});
    doc["scenarios"].push_back(entry);
  }
  return doc;
}

namespace {

constexpr int kIndent = 35;  // where the continuation lines of the mechanism table start

std::string joined(const nlohmann::ordered_json& strings, const std::string& separator) {
  std::vector<std::string> items;
  for (const auto& s : strings) items.push_back(s.get<std::string>());
  return join(items, separator);
}

// "process_vm_readv; the receiver copies; single-copy path; waits: spin, block, adaptive"
// ("memfd_create + mmap/munmap; nobody copies; moves 4K page mappings per message; ...")
std::string traits_line(const nlohmann::ordered_json& m) {
  const std::string moves = m["moves"].get<std::string>();
  std::string line = m["api"].get<std::string>() + "; " +
                     (moves == "pull"   ? "the receiver copies"
                      : moves == "push" ? "the sender copies"
                      : moves == "both" ? "each side copies"
                                        : "nobody copies");
  if (m["single_copy"].get<bool>()) line += "; single-copy path of MPI/UCX";
  if (const auto page = m.value("mapping_page_size", std::size_t{0}); page > 0)
    line += "; moves " + format_size(page) + " page mappings per message";
  if (m["reference"].get<bool>()) line += "; a reference, not a transport";
  if (m["one_tracer_per_tracee"].get<bool>()) line += "; one tracer per tracee";
  line += "; waits: " + joined(m["wait_policies"], ", ");
  return m.value("segments", "yes") == "yes" ? line : line + "; no scatter/gather (--segments)";
}

void print_mechanism(std::ostream& out, const nlohmann::ordered_json& m) {
  const std::string id = m["id"].get<std::string>(), note = m["copies_note"].get<std::string>();
  const std::string copies = std::to_string(m["copies"].get<int>()) + (note.empty() ? "" : "*");
  out << fmt::format("{:<16} {:<10} {:<7} {}\n", id, m["available"].get<bool>() ? "yes" : "NO", copies,
                     m["summary"].get<std::string>());
  out << fmt::format("{:<{}} {}\n", "", kIndent, traits_line(m));
  if (!note.empty()) out << fmt::format("{:<{}} * copies: {}\n", "", kIndent, note);
  if (const auto cap = m["size_cap"].get<std::size_t>(); cap > 0)
    out << fmt::format("{:<{}} measured up to {} unless raised with --size-cap {}=SIZE\n", "", kIndent,
                       format_size(cap), id);
  if (!m["available"].get<bool>())
    out << fmt::format("{:<{}} why: {}\n{:<{}} fix: {}\n", "", kIndent, m["reason"].get<std::string>(), "", kIndent,
                       m["fix"].get<std::string>());
}

// "one_way_ns (ns), bytes_per_second (B/s), ..."
std::string counters_line(const nlohmann::ordered_json& counters) {
  std::vector<std::string> items;
  for (const auto& [name, unit] : counters.items()) items.push_back(name + " (" + unit.get<std::string>() + ")");
  return join(items);
}

}  // namespace

void print_list(std::ostream& out, const nlohmann::ordered_json& doc) {
  out << "MECHANISM        AVAILABLE  COPIES  HOW THE BYTES MOVE\n";
  for (const auto& m : doc["mechanisms"]) print_mechanism(out, m);
  out << "\nSCENARIO         RANKS  ITERATION        WHAT IT MEASURES\n";
  for (const auto& s : doc["scenarios"]) {
    out << fmt::format("{:<16} {:<6} {:<16} {}\n", s["id"].get<std::string>(), s["ranks"].get<int>(),
                       s["iteration"].get<std::string>(), s["summary"].get<std::string>());
    out << fmt::format("{:<{}} counters: {}\n", "", 40, counters_line(s["counters"]));
    out << fmt::format("{:<{}} per rank: {}\n", "", 40, counters_line(s["per_rank_counters"]));
    out << fmt::format("{:<{}} where perf_event_open works: {}\n", "", 40, counters_line(s["optional_counters"]));
  }
}

}  // namespace ipcatlas
