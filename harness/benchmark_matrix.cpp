#include "harness/benchmark_matrix.hpp"

#include <benchmark/benchmark.h>

#include <memory>

#include "harness/error.hpp"
#include "harness/launcher.hpp"
#include "harness/sizes.hpp"
#include "mechanisms/registry.hpp"

namespace ipcatlas {
namespace {

// The one cell whose ranks are alive, if any.
struct LiveSession {
  const MatrixCell* cell = nullptr;
  std::unique_ptr<ScenarioSession> session;
};
LiveSession g_live;

ScenarioSession& session_for(const MatrixCell& cell, const Topology& topology) {
  if (g_live.cell != &cell) {
    end_live_session();  // the previous cell's ranks go before this cell's arrive
    g_live.session = cell.scenario->start(topology, cell.spec);
    g_live.cell = &cell;
  }
  return *g_live.session;
}

void run_cell(benchmark::State& state, const MatrixCell& cell, const Topology& topology) {
  if (!cell.skip_reason.empty()) {
    state.SkipWithError(("skipped: " + cell.skip_reason).c_str());
    return;
  }
  Measurement m;
  try {
    m = session_for(cell, topology).run_batch(static_cast<std::uint64_t>(state.max_iterations));
  } catch (const std::exception& e) {
    end_live_session();
    state.SkipWithError(e.what());
    return;
  }
  // The ranks measured the batch; Google Benchmark gets their time per iteration.
  for (auto _ : state) state.SetIterationTime(m.seconds_per_iteration);
  for (const auto& [key, value] : m.counters) state.counters[key] = benchmark::Counter(value);
}

std::vector<const Mechanism*> select_mechanisms(const RunOptions& options) {
  std::vector<const Mechanism*> selected;
  if (options.mechanisms.empty()) {
    for (const Mechanism* m : all_mechanisms()) selected.push_back(m);
    return selected;
  }
  for (const std::string& id : options.mechanisms) {
    const Mechanism* m = find_mechanism(id);
    if (!m) throw UsageError("unknown mechanism '" + id + "' (known: " + mechanism_ids() + ")");
    if (std::find(selected.begin(), selected.end(), m) == selected.end()) selected.push_back(m);
  }
  return selected;
}

std::string skip_reason_for(const Mechanism& m, const Availability& availability, const Scenario& scenario, int ranks) {
  if (!availability.available)
    return availability.reason + (availability.fix.empty() ? "" : "; fix: " + availability.fix);
  if (m.cannot_serve) return m.cannot_serve(scenario.id, ranks);
  return "";
}

// "above the size cap of ptrace (64K): 8 bytes per system call; raise it with --size-cap ptrace=SIZE"
std::string size_cap_reason(const Mechanism& m, std::size_t cap) {
  const std::string id(m.id);
  std::string reason = "above the size cap of " + id + " (" + format_size(cap) + ")";
  if (!m.copies_note.empty()) reason += ": " + std::string(m.copies_note);
  return reason + "; raise it with --size-cap " + id + "=SIZE";
}

}  // namespace

std::string benchmark_name(const Scenario& scenario, const Mechanism& mechanism, std::size_t size, int ranks,
                           const std::string& placement, WaitPolicy wait) {
  return strfmt("%.*s/%.*s/size:%zu/ranks:%d/placement:%s/wait:%.*s", static_cast<int>(scenario.id.size()),
                scenario.id.data(), static_cast<int>(mechanism.id.size()), mechanism.id.data(), size, ranks,
                placement.c_str(), static_cast<int>(to_string(wait).size()), to_string(wait).data());
}

Matrix build_matrix(const RunOptions& options, const Topology& topology) {
  const Scenario* scenario = find_scenario(options.scenario);
  if (!scenario) throw UsageError("unknown scenario '" + options.scenario + "' (known: pingpong)");
  Matrix matrix;
  std::vector<int> cpus = options.cpus.empty() ? topology.default_pair() : options.cpus;
  if (static_cast<int>(cpus.size()) != scenario->ranks)
    throw UsageError(strfmt("--cpus gives %zu PUs but %.*s runs %d ranks", cpus.size(),
                            static_cast<int>(scenario->id.size()), scenario->id.data(), scenario->ranks));
  topology.validate_pus(cpus);
  matrix.placement = topology.placement_class(cpus);
  matrix.mechanisms = select_mechanisms(options);

  for (const auto& [id, cap] : options.size_caps)
    if (!find_mechanism(id)) throw UsageError("--size-cap: unknown mechanism '" + id + "' (known: " + mechanism_ids() + ")");
  for (const Mechanism* mechanism : matrix.mechanisms) {
    const Availability availability = mechanism->probe();
    const std::string skip = skip_reason_for(*mechanism, availability, *scenario, scenario->ranks);
    const auto user_cap = options.size_caps.find(std::string(mechanism->id));
    const std::size_t cap = user_cap != options.size_caps.end() ? user_cap->second : mechanism->default_size_cap;
    if (cap > 0) matrix.size_caps[std::string(mechanism->id)] = cap;
    for (std::size_t size : options.sizes) {
      MatrixCell cell;
      cell.scenario = scenario;
      cell.spec.mechanism = mechanism;
      cell.spec.size = size;
      cell.spec.cpus = cpus;
      cell.spec.wait = options.wait;
      cell.spec.watchdog_seconds = options.watchdog_seconds;
      cell.spec.buffer_offset = options.buffer_offset;
      cell.spec.fault = options.fault;
      cell.name = benchmark_name(*scenario, *mechanism, size, scenario->ranks, matrix.placement, options.wait);
      cell.skip_reason = !skip.empty() || cap == 0 || size <= cap ? skip : size_cap_reason(*mechanism, cap);
      matrix.cells.push_back(std::move(cell));
    }
  }
  return matrix;
}

void register_matrix(const Matrix& matrix, const Topology& topology) {
  for (const MatrixCell& cell : matrix.cells) {
    benchmark::RegisterBenchmark(cell.name.c_str(),
                                 [&cell, &topology](benchmark::State& state) { run_cell(state, cell, topology); })
        ->UseManualTime()
        ->Unit(benchmark::kNanosecond);
  }
}

void end_live_session() {
  g_live.session.reset();
  g_live.cell = nullptr;
}

}  // namespace ipcatlas
