#include "harness/app/benchmark_matrix.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "harness/app/canary.hpp"
#include "harness/base/error.hpp"
#include "harness/ranks/launcher.hpp"
#include "harness/machine/memory_binding.hpp"
#include "harness/machine/placement.hpp"
#include "harness/base/sizes.hpp"
#include "mechanisms/registry.hpp"
#include "scenarios/support/buffer_pool.hpp"

namespace ipcatlas {
namespace {

// The one cell whose ranks are alive, if any.
struct LiveSession {
  const MatrixCell* cell = nullptr;
  std::unique_ptr<ScenarioSession> session;
};
LiveSession g_live;

std::vector<ScheduledRun> g_schedule;
CanaryPolicy g_canary_policy;
std::vector<RunRecord> g_records;
const ScheduledRun* g_last_started = nullptr;

// The median of the canaries measured so far in this run.
std::optional<double> running_canary_median() {
  std::vector<double> seen;
  for (const RunRecord& r : g_records)
    if (r.canary_ns) seen.push_back(*r.canary_ns);
  if (seen.size() < 5) return std::nullopt;  // too few to say what is usual
  std::nth_element(seen.begin(), seen.begin() + static_cast<std::ptrdiff_t>(seen.size() / 2), seen.end());
  return seen[seen.size() / 2];
}

bool canary_is_off(double canary, double usual) {
  return canary > usual * g_canary_policy.factor || canary * g_canary_policy.factor < usual;
}

// Measures the canary; while it is off from the run's usual state, waits and
// measures again, up to the policy's retries, then marks the record.
void measure_canary(RunRecord& record, int pu_a, int pu_b) {
  record.canary_ns = cache_line_bounce_ns(pu_a, pu_b);
  const std::optional<double> usual = running_canary_median();
  if (!record.canary_ns || !usual) return;
  for (int retry = 0; retry < g_canary_policy.retries && canary_is_off(*record.canary_ns, *usual); ++retry) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    record.canary_ns = cache_line_bounce_ns(pu_a, pu_b).value_or(*record.canary_ns);
  }
  record.canary_outlier = canary_is_off(*record.canary_ns, *usual);
}

// Google Benchmark calls a run's function once per calibration round: the
// first call starts the run.
void record_start(const ScheduledRun& run, const MatrixCell& cell) {
  if (g_last_started == &run) return;
  g_last_started = &run;
  RunRecord record{cell.name, run.repetition, run.block, run.position, 0, {}, false};
  if (cell.skip_reason.empty() && cell.failure.empty() && cell.spec.cpus.size() >= 2)
    measure_canary(record, cell.spec.cpus[0], cell.spec.cpus[1]);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  record.start_unix_s = std::chrono::duration<double>(now).count();
  g_records.push_back(std::move(record));
}

ScenarioSession& session_for(const MatrixCell& cell, const Topology& topology) {
  if (g_live.cell != &cell) {
    end_live_session();  // the previous cell's ranks go before this cell's arrive
    g_live.session = cell.scenario->start(topology, cell.spec);
    g_live.cell = &cell;
  }
  return *g_live.session;
}

// A measurement that fails, fails inside the timing loop, so that its entry
// keeps the iteration count it was given (an error before the loop reports 0,
// which Google Benchmark's own repetitions could not aggregate; ipcatlas
// aggregates its repetitions itself, see repetitions.hpp, but the entry stays
// what Google Benchmark's tools expect).
void fail_measurement(benchmark::State& state, const std::string& why) {
  for (auto _ : state) {
    state.SkipWithError(why.c_str());
    break;
  }
}

void run_cell(benchmark::State& state, const MatrixCell& cell, const ScheduledRun& run, const Topology& topology) {
  record_start(run, cell);
  if (!cell.skip_reason.empty()) {
    state.SkipWithError(("skipped: " + cell.skip_reason).c_str());
    return;
  }
  if (!cell.failure.empty()) {
    state.SkipWithError(cell.failure.c_str());  // no "skipped: " prefix: reporters count it as failed
    return;
  }
  Measurement m;
  try {
    m = session_for(cell, topology).run_batch(static_cast<std::uint64_t>(state.max_iterations));
  } catch (const std::exception& e) {
    end_live_session();
    fail_measurement(state, e.what());
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

// "above the size cap of ptrace (64K): 8 bytes per system call; raise it with --size-cap ptrace=SIZE"
std::string size_cap_reason(const Mechanism& m, std::size_t cap) {
  const std::string id(m.id);
  std::string reason = "above the size cap of " + id + " (" + format_size(cap) + ")";
  if (!m.copies_note.empty()) reason += ": " + std::string(m.copies_note);
  return reason + "; raise it with --size-cap " + id + "=SIZE";
}

// The value of one name key (Scenario::name_keys) in this cell; "" leaves the key out.
std::string name_value(std::string_view key, const CellSpec& cell, const std::string& placement) {
  if (key == "size") return std::to_string(cell.size);
  if (key == "ranks") return std::to_string(cell.cpus.size());
  if (key == "window") return std::to_string(cell.stream.window);
  if (key == "dir") return cell.stream.bidirectional ? "bi" : "uni";
  if (key == "placement") return placement;
  if (key == "wait") return std::string(to_string(cell.wait));
  if (key == "membind") return cell.membind.kind == MemoryPolicy::Kind::none ? "" : to_string(cell.membind);
  if (key == "cache") return cell.cache == CacheState::hot ? "" : std::string(to_string(cell.cache));
  if (key == "segments") return cell.segments > 1 ? std::to_string(cell.segments) : "";
  throw std::logic_error("benchmark_name: no value for the name key '" + std::string(key) + "'");
}

}  // namespace

std::string benchmark_name(const Scenario& scenario, const CellSpec& cell, const std::string& placement) {
  std::string name = std::string(scenario.id) + "/" + std::string(cell.mechanism->id);
  for (std::string_view key : scenario.name_keys) {
    const std::string value = name_value(key, cell, placement);
    if (!value.empty()) name.append("/").append(key).append(":").append(value);
  }
  return name;
}

namespace {

int rank_count(const RunOptions& options, const Scenario& scenario) {
  const int ranks = options.ranks > 0 ? options.ranks : scenario.ranks;
  if (ranks < scenario.min_ranks || ranks > scenario.max_ranks)
    throw UsageError(fmt::format("--ranks {}: {} runs with {} to {} ranks", ranks, scenario.id, scenario.min_ranks,
                                 scenario.max_ranks));
  return ranks;
}

std::vector<RankPlacement> placements_for(const RunOptions& options, const Topology& topology, int ranks) {
  if (!options.cpus.empty() && !options.placement.empty()) throw UsageError("give --cpus or --placement, not both");
  if (options.placement != "all") return {place_ranks(topology, ranks, options.cpus, options.placement)};
  std::vector<RankPlacement> all;
  for (const NamedPlacement& named : named_placements(topology, ranks))
    all.push_back(place_ranks(topology, ranks, {}, named.name));
  if (all.empty())
    throw UsageError(fmt::format("--placement all: this machine has no named placement for {} ranks", ranks));
  return all;
}

// What a probe that did not find its mechanism available says: its cause and fix.
std::string probe_message(const Availability& a) { return a.reason + (a.fix.empty() ? "" : "; fix: " + a.fix); }

// The first reason, if any, why this cell cannot run.
std::string skip_reason(const Mechanism& m, const Availability& availability, const Scenario& scenario,
                        const CellSpec& cell, const std::string& membind_problem, std::size_t cap) {
  if (!availability.available) return probe_message(availability);
  if (std::string why = mechanism_cannot_serve(scenario, m, static_cast<int>(cell.cpus.size())); !why.empty())
    return why;
  if (std::string why = wait_policy_cannot_serve(m, cell.wait); !why.empty()) return why;
  if (!membind_problem.empty()) return membind_problem;
  if (std::string why = cache_cannot_serve(cell); !why.empty()) return why;
  if (std::string why = segments_cannot_run(m, cell); !why.empty()) return why;
  if (scenario.cannot_run) {
    std::string why = scenario.cannot_run(cell);
    if (!why.empty()) return why;
  }
  if (cap > 0 && cell.size > cap) return size_cap_reason(m, cap);
  return "";
}

CellSpec cell_spec(const RunOptions& options, const Mechanism& mechanism, const RankPlacement& placement,
                   std::size_t size, WaitPolicy wait) {
  CellSpec spec;
  spec.mechanism = &mechanism;
  spec.size = size;
  spec.cpus = placement.pus;
  spec.wait = wait;
  spec.membind = options.membind;
  spec.watchdog_seconds = options.watchdog_seconds;
  spec.stream = StreamOptions{options.window, options.bidirectional};
  spec.test = TestHooks{options.buffer_offset, options.fault};
  return spec;
}

// The dimensions of the matrix beside size: every --cache state with every --segments count.
std::vector<std::pair<CacheState, std::size_t>> cache_and_segments(const RunOptions& options) {
  std::vector<std::pair<CacheState, std::size_t>> all;
  for (CacheState cache : options.caches)
    for (std::size_t segments : options.segments) all.emplace_back(cache, segments);
  return all;
}

}  // namespace

Matrix build_matrix(const RunOptions& options, const Topology& topology) {
  const Scenario* scenario = find_scenario(options.scenario);
  if (!scenario) throw UsageError("unknown scenario '" + options.scenario + "' (known: " + scenario_ids() + ")");
  for (const auto& [id, cap] : options.size_caps)
    if (!find_mechanism(id))
      throw UsageError("--size-cap: unknown mechanism '" + id + "' (known: " + mechanism_ids() + ")");
  const std::string membind_problem = membind_unavailable_reason(options.membind);
  if (options.membind.kind == MemoryPolicy::Kind::node && !membind_problem.empty()) throw UsageError(membind_problem);

  Matrix matrix;
  matrix.ranks = rank_count(options, *scenario);
  const std::vector<RankPlacement> placements = placements_for(options, topology, matrix.ranks);
  for (const RankPlacement& p : placements) {
    matrix.placements.push_back(p.placement);
    matrix.oversubscribed = matrix.oversubscribed || p.oversubscribed;
  }
  // Spinning ranks that share a PU would only burn each other's time slices.
  matrix.wait = matrix.oversubscribed && !options.wait_given ? WaitPolicy::block : options.wait;
  matrix.mechanisms = select_mechanisms(options);

  for (const Mechanism* mechanism : matrix.mechanisms) {
    const Availability availability = mechanism->probe();
    const auto user_cap = options.size_caps.find(std::string(mechanism->id));
    const std::size_t cap = user_cap != options.size_caps.end() ? user_cap->second : mechanism->default_size_cap;
    if (cap > 0) matrix.size_caps[std::string(mechanism->id)] = cap;
    for (const RankPlacement& placement : placements) {
      for (const auto& [cache, segments] : cache_and_segments(options)) {
        for (std::size_t size : options.sizes) {
          MatrixCell cell;
          cell.scenario = scenario;
          cell.spec = cell_spec(options, *mechanism, placement, size, matrix.wait);
          cell.spec.cache = cache;
          cell.spec.segments = segments;
          cell.spec.cold_pool_bytes = cold_pool_bytes(topology, placement.pus);
          cell.name = benchmark_name(*scenario, cell.spec, placement.placement);
          cell.block_key = std::string(scenario->id) + cell.name.substr(cell.name.find('/', scenario->id.size() + 1));
          // A probe that ran out of a resource is a failure of this run, never a skip.
          if (availability.failed) cell.failure = "probe failed: " + probe_message(availability);
          else cell.skip_reason = skip_reason(*mechanism, availability, *scenario, cell.spec, membind_problem, cap);
          matrix.cells.push_back(std::move(cell));
        }
      }
    }
  }
  return matrix;
}

void register_matrix(const Matrix& matrix, const Topology& topology, const std::vector<ScheduledRun>& schedule,
                     CanaryPolicy canary) {
  g_schedule = schedule;
  g_canary_policy = canary;
  for (const ScheduledRun& run : g_schedule) {
    const MatrixCell& cell = matrix.cells.at(run.cell);
    benchmark::RegisterBenchmark(
        cell.name.c_str(), [&cell, &run, &topology](benchmark::State& state) { run_cell(state, cell, run, topology); })
        ->UseManualTime()
        ->Unit(benchmark::kNanosecond);
  }
}

std::vector<std::string> block_keys(const Matrix& matrix) {
  std::vector<std::string> keys;
  for (const MatrixCell& cell : matrix.cells) keys.push_back(cell.block_key);
  return keys;
}

const std::vector<RunRecord>& run_records() { return g_records; }

void end_live_session() {
  g_live.session.reset();
  g_live.cell = nullptr;
}

}  // namespace ipcatlas
