#include "harness/app/reporters.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

#include <fmt/format.h>

#include "harness/app/descriptors.hpp"
#include "harness/base/error.hpp"

namespace ipcatlas {
namespace {

constexpr const char* kSkipPrefix = "skipped: ";

// 1234.5 -> "1.23 us"; keeps the console readable across 9 orders of magnitude.
std::string format_ns(double ns) {
  if (ns < 1e3) return fmt::format("{:.1f} ns", ns);
  if (ns < 1e6) return fmt::format("{:.2f} us", ns / 1e3);
  if (ns < 1e9) return fmt::format("{:.2f} ms", ns / 1e6);
  return fmt::format("{:.2f} s", ns / 1e9);
}

std::string format_rate(double bytes_per_second) {
  if (bytes_per_second >= 1e9) return fmt::format("{:.2f} GB/s", bytes_per_second / 1e9);
  if (bytes_per_second >= 1e6) return fmt::format("{:.1f} MB/s", bytes_per_second / 1e6);
  return fmt::format("{:.1f} kB/s", bytes_per_second / 1e3);
}

const double* counter(const benchmark::BenchmarkReporter::Run& run, std::string_view name) {
  const auto it = run.counters.find(std::string(name));
  return it == run.counters.end() ? nullptr : &it->second.value;
}

// The scenario a benchmark belongs to: the first part of its name.
const Scenario* scenario_of(const std::string& name) { return find_scenario(name.substr(0, name.find('/'))); }

std::string format_value(double value, std::string_view unit) {
  if (unit == "ns") return format_ns(value);
  if (unit == "B/s") return format_rate(value);
  return fmt::format("{:.3g}", value);
}

}  // namespace

std::string strip_time_type(std::string name) {
  static const std::string kSuffix = "/manual_time";
  if (const auto at = name.find(kSuffix); at != std::string::npos) name.erase(at, kSuffix.size());
  return name;
}

std::string console_counters(const benchmark::BenchmarkReporter::Run& run, const Scenario& scenario) {
  std::string text;
  bool in_aside = false;
  for (const Counter& c : scenario.counters) {
    const double* value = counter(run, c.name);
    if (c.console.empty() || !value) continue;
    if (c.aside) {
      text += in_aside ? ", " : " (";
    } else {
      if (in_aside) text += ")";
      if (!text.empty()) text += "  ";
    }
    in_aside = c.aside;
    std::string shown(c.console);
    shown.replace(shown.find("{}"), 2, format_value(*value, c.unit));
    text += shown;
  }
  return in_aside ? text + ")" : text;
}

RunStatus status_of(const benchmark::BenchmarkReporter::Run& run) {
  if (!run.error_occurred) return RunStatus::ok;
  return run.error_message.rfind(kSkipPrefix, 0) == 0 ? RunStatus::skipped : RunStatus::failed;
}

void RunTally::add(RunStatus s) { (s == RunStatus::ok ? ok : s == RunStatus::failed ? failed : skipped) += 1; }

bool ProgressReporter::ReportContext(const Context&) {
  for (const Fact& f : warnings_)
    GetErrorStream() << "warning: " << f.title << ": " << f.value << (f.hint.empty() ? "" : " - " + f.hint) << "\n";
  GetOutputStream() << "ipcatlas: running " << total_ << " benchmark" << (total_ == 1 ? "" : "s") << "\n";
  return true;
}

namespace {

// With repetitions Google Benchmark reports a benchmark twice: its runs,
// then their aggregates. Only the first counts as progress.
bool is_aggregates_only(const std::vector<benchmark::BenchmarkReporter::Run>& runs) {
  return std::all_of(runs.begin(), runs.end(),
                     [](const auto& r) { return r.run_type == benchmark::BenchmarkReporter::Run::RT_Aggregate; });
}

}  // namespace

void ProgressReporter::ReportRuns(const std::vector<Run>& runs) {
  if (!is_aggregates_only(runs)) ++done_;
  for (const Run& run : runs) print_run(run);
  GetOutputStream().flush();
}

namespace {

// "pingpong/knem/size:64/..." -> "pingpong/knem": the benchmarks one skip reason usually covers.
std::string scenario_and_mechanism(const std::string& name) {
  const std::size_t first = name.find('/');
  return name.substr(0, first == std::string::npos ? first : name.find('/', first + 1));
}

}  // namespace

bool ProgressReporter::skip_already_shown(const Run& run) {
  if (status_of(run) != RunStatus::skipped) return false;
  return !skips_shown_.emplace(scenario_and_mechanism(run.benchmark_name()), run.error_message).second;
}

void ProgressReporter::print_run(const Run& run) {
  if (skip_already_shown(run)) return;
  std::ostream& out = GetOutputStream();
  const int width = static_cast<int>(std::to_string(total_).size());
  const std::string name = strip_time_type(run.benchmark_name());
  out << fmt::format("[{:{}}/{}] {:<60} ", done_, width, total_, name);
  const Scenario* scenario = scenario_of(name);
  if (run.run_type == Run::RT_Aggregate && run.aggregate_unit == benchmark::kPercentage) {
    if (const double* cv = scenario ? counter(run, scenario->primary_metric) : nullptr)
      out << fmt::format("cv {:.1f}%", *cv * 100);
    out << "\n";
    return;
  }
  switch (status_of(run)) {
    case RunStatus::skipped:
      out << "SKIPPED " << run.error_message.substr(std::string(kSkipPrefix).size()) << "\n";
      return;
    case RunStatus::failed: out << "FAILED  " << run.error_message << "\n"; return;
    case RunStatus::ok: break;
  }
  if (scenario) out << console_counters(run, *scenario);
  out << "\n";
}

TeeReporter::TeeReporter(benchmark::BenchmarkReporter& display, RepetitionOutput output)
    : display_(display), output_(output), repetitions_(output.count) {
  if (output_.count < 2) output_.report_aggregates_only = output_.display_aggregates_only = false;
  json_.SetOutputStream(&json_text_);
  json_.SetErrorStream(&json_text_);
}

bool TeeReporter::ReportContext(const Context& context) {
  json_.ReportContext(context);
  return display_.ReportContext(context);
}

void TeeReporter::ReportRuns(const std::vector<Run>& runs) {
  for (const Run& run : runs) report_repetition(run);
}

void TeeReporter::report_repetition(const Run& run) {
  const std::vector<Run> numbered{repetitions_.number(run)};
  if (!output_.report_aggregates_only) json_.ReportRuns(numbered);
  if (!output_.report_aggregates_only && !output_.display_aggregates_only) display_.ReportRuns(numbered);
  const std::optional<Repetitions::Completed> done = repetitions_.take_completed(run.run_name.str());
  if (!done) return;
  if (!done->aggregates.empty()) {
    json_.ReportRuns(done->aggregates);
    display_.ReportRuns(done->aggregates);
  }
  // One benchmark, all its repetitions: it failed if any repetition failed.
  RunStatus worst = RunStatus::ok;
  for (const Run& r : done->repetitions) {
    const RunStatus s = status_of(r);
    if (s == RunStatus::failed || (s == RunStatus::skipped && worst == RunStatus::ok)) worst = s;
  }
  tally_.add(worst);
}

void TeeReporter::Finalize() {
  json_.Finalize();
  display_.Finalize();
}

namespace {

void add_record(nlohmann::json& entry, const RunRecord& r, const CanarySummary& canary) {
  entry["block"] = r.block;
  entry["block_position"] = r.position;
  entry["start_unix_s"] = r.start_unix_s;
  if (!r.canary_ns) return;
  entry["canary_ns"] = *r.canary_ns;
  entry["canary_outlier"] = r.canary_outlier;
  if (canary.multimodal) entry["canary_state"] = *r.canary_ns < canary.split_ns ? 0 : 1;
}

// Context values are strings in Google Benchmark's JSON.
void add_canary_context(nlohmann::json& context, const CanarySummary& c) {
  context["canary"] = describe(c);
  if (c.count == 0) return;
  context["canary_median_ns"] = fmt::format("{:.1f}", c.median_ns);
  context["canary_p10_ns"] = fmt::format("{:.1f}", c.p10_ns);
  context["canary_p90_ns"] = fmt::format("{:.1f}", c.p90_ns);
  context["canary_states"] = c.multimodal ? "2" : "1";
  if (!c.multimodal) return;
  context["canary_split_ns"] = fmt::format("{:.1f}", c.split_ns);
  context["canary_state_ns"] = fmt::format("{:.1f},{:.1f}", c.low_mode_ns, c.high_mode_ns);
  context["canary_state_runs"] = fmt::format("{},{}", c.low_count, c.high_count);
}

}  // namespace

std::string annotate_json(const std::string& gbench_json, const std::vector<RunRecord>& records,
                          const CanarySummary& canary, const Scenario& scenario) {
  nlohmann::json doc = nlohmann::json::parse(gbench_json);
  add_canary_context(doc["context"], canary);
  add_descriptors(doc["context"], scenario);
  std::size_t next_record = 0;
  for (nlohmann::json& b : doc["benchmarks"]) {
    for (const char* key : {"name", "run_name"})
      if (b.contains(key)) b[key] = strip_time_type(b[key].get<std::string>());
    const bool error = b.value("error_occurred", false);
    const std::string message = b.value("error_message", "");
    const bool skipped = error && message.rfind(kSkipPrefix, 0) == 0;
    b["ipcatlas_status"] = !error ? "ok" : skipped ? "skipped" : "failed";
    if (skipped) {
      b["skipped"] = true;
      b["skip_message"] = message.substr(std::string(kSkipPrefix).size());
    }
    const bool repetition = b.value("run_type", "") == "iteration";
    if (repetition && next_record < records.size() && records[next_record].name == b.value("run_name", "")) {
      add_record(b, records[next_record++], canary);
    }
  }
  return doc.dump(2) + "\n";
}

}  // namespace ipcatlas
