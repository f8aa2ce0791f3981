#include "harness/app/commands.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <random>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex.h>
#include <sys/utsname.h>
#include <fmt/format.h>

#include "harness/app/benchmark_matrix.hpp"
#include "harness/app/descriptors.hpp"
#include "harness/machine/doctor.hpp"
#include "harness/machine/perf_counters.hpp"
#include "harness/machine/placement.hpp"
#include "harness/machine/slurm_job.hpp"
#include "harness/base/child_tracking.hpp"
#include "harness/base/error.hpp"
#include "harness/base/output_file.hpp"
#include "harness/app/reporters.hpp"
#include "harness/base/sizes.hpp"
#include "harness/machine/topology.hpp"
#include "mechanisms/registry.hpp"
#include "scenarios/scenario.hpp"

namespace ipcatlas {

extern const char* const kGitDescribe;

namespace {

constexpr const char* kDefaultMinTime = "--benchmark_min_time=0.1";

// How many benchmarks --benchmark_filter lets through (for the progress
// counter), matched as Google Benchmark does: POSIX extended regex, and a
// leading '-' negates.
int count_selected(const Matrix& matrix, const std::string& filter) {
  if (filter.empty() || filter == "all" || filter == ".") return static_cast<int>(matrix.cells.size());
  const bool negative = filter[0] == '-';
  regex_t re;
  if (regcomp(&re, (negative ? filter.substr(1) : filter).c_str(), REG_EXTENDED | REG_NOSUB) != 0)
    throw UsageError("invalid --benchmark_filter regular expression '" + filter + "'");
  int n = 0;
  for (const MatrixCell& cell : matrix.cells) n += ((regexec(&re, cell.name.c_str(), 0, nullptr, 0) == 0) != negative);
  regfree(&re);
  return n;
}

// results/x.json -> results/x.topology.xml: the machine's topology, beside its results.
std::string topology_path_for(const std::string& out) {
  const std::filesystem::path p(out);
  return (p.parent_path() / (p.stem().string() + ".topology.xml")).string();
}

// One fact per mechanism that cannot run here (its probe's cause and fix), and
// one listing those that can.
std::vector<Fact> mechanism_facts() {
  std::vector<Fact> facts;
  std::vector<std::string> available;
  for (const Mechanism* m : all_mechanisms()) {
    const Availability a = m->probe();
    if (a.available) {
      available.emplace_back(m->id);
      continue;
    }
    // Listed-only mechanisms (no link) are information, not a problem of this machine.
    facts.push_back(Fact{"mechanism_" + std::string(m->id), "Mechanism " + std::string(m->id),
                         (a.failed ? "probe failed: " : "unavailable: ") + a.reason,
                         m->make_link || a.failed ? Fact::Verdict::warn : Fact::Verdict::info, a.fix});
  }
  facts.insert(facts.begin(),
               Fact{"mechanisms_available", "Mechanisms available", join(available), Fact::Verdict::ok, ""});
  return facts;
}

// --cache, and how large a cold pool is (at the first placement, when several are swept).
void add_cache_context(const Matrix& matrix, const RunOptions& options) {
  std::vector<std::string> states;
  for (CacheState cache : options.caches) states.emplace_back(to_string(cache));
  benchmark::AddCustomContext("cache", join(states));
  if (std::find(options.caches.begin(), options.caches.end(), CacheState::cold) == options.caches.end()) return;
  const std::size_t pool = matrix.cells.front().spec.cold_pool_bytes;
  benchmark::AddCustomContext("cold_pool", pool == 0 ? "none: hwloc reports no cache size"
                                                     : format_size(pool) +
                                                           " of buffers per rank and direction (twice the last-level "
                                                           "cache), one page or more each, visited out of order");
}

// Under Slurm: which job and node measured this, and the PUs Slurm let the
// task use (the topology's allowed PUs are the task's cpuset and CPU binding, so
// the ranks stay on them: Topology::load_this_machine).
void add_scheduler_context(const Topology& topology) {
  const std::optional<SlurmJob> job = slurm_job();
  for (const auto& [key, value] : scheduler_context(job)) benchmark::AddCustomContext(key, value);
  if (!job) return;
  const std::string cpus =
      describe_slurm_cpus(*job, topology.allowed_pus(), hwloc_get_nbobjs_by_type(topology.handle(), HWLOC_OBJ_PU));
  benchmark::AddCustomContext("slurm_cpus", cpus);
  std::cerr << "ipcatlas: " << cpus << "\n";
}

void add_context(const Matrix& matrix, const RunOptions& options, const Topology& topology,
                 const std::vector<Fact>& facts) {
  benchmark::AddCustomContext("ipcatlas_version", kGitDescribe);
  for (const Fact& f : facts) benchmark::AddCustomContext(f.key, f.value);
  benchmark::AddCustomContext("topology", topology.summary());
  benchmark::AddCustomContext("cpus", matrix.cells.empty() ? "" : join(matrix.cells.front().spec.cpus));
  benchmark::AddCustomContext("placement", join(matrix.placements));
  benchmark::AddCustomContext("wait", std::string(to_string(matrix.wait)));
  std::vector<std::string> segments;
  for (std::size_t n : options.segments) segments.push_back(std::to_string(n));
  benchmark::AddCustomContext("segments", join(segments));
  benchmark::AddCustomContext("scenario", options.scenario);
  benchmark::AddCustomContext("ranks", std::to_string(matrix.ranks));
  benchmark::AddCustomContext("oversubscribed",
                              matrix.oversubscribed ? "yes: more ranks than PUs, blocking waits" : "no");
  benchmark::AddCustomContext("membind", options.membind.kind == MemoryPolicy::Kind::none ? "none (first touch)"
                                                                                          : to_string(options.membind));
  if (options.fault.kind != FaultPlan::Kind::none)  // results from a fault say so, delay:0 too
    benchmark::AddCustomContext("injected_fault", to_string(options.fault));
  add_cache_context(matrix, options);
  add_scheduler_context(topology);
  const Scenario& scenario = *matrix.cells.front().scenario;
  if (std::find(scenario.name_keys.begin(), scenario.name_keys.end(), "window") != scenario.name_keys.end())
    benchmark::AddCustomContext("window", std::to_string(options.window) + (options.bidirectional ? " both ways" : ""));
  std::vector<std::string> caps;
  for (const auto& [id, cap] : matrix.size_caps) caps.push_back(id + "=" + format_size(cap));
  benchmark::AddCustomContext("size_caps", caps.empty() ? "none" : join(caps));
  benchmark::AddCustomContext("clock", "CLOCK_MONOTONIC");
  benchmark::AddCustomContext("iteration", std::string(scenario.iteration));
  benchmark::AddCustomContext("primary_metric", std::string(scenario.primary_metric));
  for (const Mechanism* m : matrix.mechanisms)
    if (m->context)
      for (const auto& [key, value] : m->context()) benchmark::AddCustomContext(key, value);
  // What `ipcatlas doctor` would flag, so a report can show it beside the
  // results. Its CPU-load check is left out: it samples /proc/stat over half a
  // second, which every run would pay.
  std::vector<Fact> findings = facts;
  for (Fact& f : mechanism_facts()) findings.push_back(std::move(f));
  benchmark::AddCustomContext("doctor_warnings", doctor_warnings_json(findings));
}

// Google Benchmark's argv: our defaults first so that the user's flags override them.
std::vector<std::string> benchmark_argv(const RunOptions& options) {
  std::vector<std::string> args{"ipcatlas", kDefaultMinTime};
  args.insert(args.end(), options.benchmark.passthrough.begin(), options.benchmark.passthrough.end());
  return args;
}

std::unique_ptr<benchmark::BenchmarkReporter> make_display(const RunOptions& options, int total,
                                                           const std::vector<Fact>& facts) {
  const std::string& format = options.benchmark.format;
  if (format == "console") {
    std::vector<Fact> warnings;
    for (const Fact& f : facts)
      if (f.verdict == Fact::Verdict::warn) warnings.push_back(f);
    return std::make_unique<ProgressReporter>(total, warnings);
  }
  if (format == "json") return std::make_unique<benchmark::JSONReporter>();
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  return std::make_unique<benchmark::CSVReporter>();  // parse_benchmark_flags allows nothing else
#pragma GCC diagnostic pop
}

int list_placements(const ListOptions& options) {
  const Topology topology =
      options.topology.empty() ? Topology::load_this_machine() : Topology::load_xml(options.topology);
  if (!options.json) {
    std::cout << describe_placements(topology, options.ranks);
    return 0;
  }
  nlohmann::json doc;
  doc["topology"] = topology.summary();
  doc["ranks"] = options.ranks;
  doc["placements"] = nlohmann::json::array();
  for (const NamedPlacement& p : named_placements(topology, options.ranks))
    doc["placements"].push_back({{"name", p.name}, {"description", p.description}, {"pus", p.pus}});
  std::cout << doc.dump(2) << "\n";
  return 0;
}

}  // namespace

int run_list_command(const ListOptions& options) {
  if (options.placements) return list_placements(options);
  const nlohmann::ordered_json doc = list_document();
  if (options.json) std::cout << doc.dump(2) << "\n";
  else print_list(std::cout, doc);
  return 0;
}

int run_doctor_command(const DoctorOptions& options) {
  const Topology topology = Topology::load_this_machine();
  std::vector<int> cpus = options.cpus.empty() ? topology.default_pair() : options.cpus;
  topology.validate_pus(cpus);
  std::vector<Fact> facts = machine_facts();
  facts.push_back(cpu_load_fact(cpus, 0.5));
  facts.push_back(perf_counters_fact());
  for (Fact& f : mechanism_facts()) facts.push_back(std::move(f));
  return print_doctor_report(std::cout, facts, options.json);
}

namespace {

// Google Benchmark takes its flags through argv; they were checked already.
// It keeps a pointer to argv[0] (the context's "executable"), so the strings
// live as long as the program.
void initialize_benchmark(const RunOptions& options) {
  static std::vector<std::string> args;
  args = benchmark_argv(options);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  int argc = static_cast<int>(argv.size());
  benchmark::Initialize(&argc, argv.data());
  if (benchmark::ReportUnrecognizedArguments(argc, argv.data()))
    throw UsageError("Google Benchmark did not recognise a flag");
}

// Said once at the start: a run with a fault measures no machine as it is.
std::string fault_warning(const FaultPlan& fault) {
  const std::string given = "ipcatlas: warning: --inject-fault " + to_string(fault);
  switch (fault.kind) {
    case FaultPlan::Kind::none: return "";
    case FaultPlan::Kind::delay:
      if (fault.delay_ns == 0) return given + " adds nothing to any message; the results still record it";
      return fmt::format("{} adds {} ns of busy work to every message sent; these results are not this machine's",
                         given, fault.delay_ns);
    case FaultPlan::Kind::corrupt:
      return given + ": from batch 1 on, rank 1's messages arrive corrupted; benchmarks fail";
    case FaultPlan::Kind::kill: return given + ": from batch 1 on, rank 1 kills itself; benchmarks fail";
    case FaultPlan::Kind::hang: return given + ": from batch 1 on, rank 1 hangs; benchmarks fail";
  }
  return "";
}

void print_run_notes(const Matrix& matrix, const RunOptions& options) {
  if (options.fault.kind != FaultPlan::Kind::none) std::cerr << fault_warning(options.fault) << "\n";
  for (const auto& [id, cap] : matrix.size_caps)
    std::cerr << "ipcatlas: " << id << " is measured up to " << format_size(cap) << " (--size-cap " << id
              << "=SIZE changes it)\n";
  if (matrix.oversubscribed)
    std::cerr << "ipcatlas: oversubscribed: " << matrix.ranks << " ranks share fewer PUs; waits are "
              << to_string(matrix.wait) << (options.wait_given ? "" : " (--wait changes it)") << "\n";
}

std::vector<double> canary_values(const std::vector<RunRecord>& records) {
  std::vector<double> values;
  for (const RunRecord& r : records)
    if (r.canary_ns) values.push_back(*r.canary_ns);
  return values;
}

// Everything that can be refused is refused before the first benchmark.
// Google Benchmark must have read its flags: the filter is its own.
int selected_benchmarks(const Matrix& matrix, const RunOptions& options) {
  if (!options.out.empty()) {
    check_output_target("--out", options.out);
    check_output_target("--out (its topology file)", topology_path_for(options.out));
  }
  const std::string filter = benchmark::GetBenchmarkFilter();
  const int selected = count_selected(matrix, filter);
  if (selected == 0)
    throw UsageError(fmt::format("--benchmark_filter='{}' matches none of the {} benchmarks (names look like {})",
                                 filter, matrix.cells.size(), matrix.cells.empty() ? "-" : matrix.cells.front().name));
  return selected * options.benchmark.repetitions;
}

// With --out, results must outlive the console: a reader that went away
// (`| head -1`) makes writes fail with EPIPE instead of killing the run, the
// console goes quiet and the JSON is still written. A file-size limit
// becomes an EFBIG naming the file, not a death by SIGXFSZ.
void protect_results_from_signals(const RunOptions& options) {
  if (options.out.empty()) return;
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);
}

}  // namespace

int run_run_command(const RunOptions& options) {
  // From the start, not from the first launch: building the matrix probes the
  // mechanisms, which forks sibling processes, and a SIGTERM then must kill
  // them and say so, as it does while ranks run.
  install_interrupt_handlers();
  const Topology topology = Topology::load_this_machine();
  const Matrix matrix = build_matrix(options, topology);
  initialize_benchmark(options);
  const int total = selected_benchmarks(matrix, options);
  protect_results_from_signals(options);
  const std::uint64_t seed = options.seed_given ? options.seed : std::random_device{}();
  register_matrix(matrix, topology,
                  schedule_runs(block_keys(matrix), options.benchmark.repetitions, options.order, seed),
                  CanaryPolicy{options.canary_retries, options.canary_factor});
  if (options.benchmark.list_tests) {
    benchmark::RunSpecifiedBenchmarks();  // prints the names and runs nothing
    benchmark::Shutdown();
    return 0;
  }
  print_run_notes(matrix, options);

  std::vector<Fact> facts = machine_facts();
  facts.push_back(perf_counters_fact());  // the context says why results have no cycles
  add_context(matrix, options, topology, facts);
  benchmark::AddCustomContext("order", to_string(options.order));
  benchmark::AddCustomContext("order_seed", std::to_string(seed));
  benchmark::AddCustomContext("repetitions", std::to_string(options.benchmark.repetitions));
  std::unique_ptr<benchmark::BenchmarkReporter> display = make_display(options, total, facts);
  TeeReporter tee(*display, RepetitionOutput{options.benchmark.repetitions, options.benchmark.report_aggregates_only,
                                             options.benchmark.display_aggregates_only});
  benchmark::RunSpecifiedBenchmarks(&tee);
  end_live_session();
  benchmark::Shutdown();

  const RunTally& t = tee.tally();
  const CanarySummary canary = summarize_canaries(canary_values(run_records()));
  std::cerr << "ipcatlas: " << describe(canary) << "\n";
  if (!options.out.empty()) {
    write_output_file(options.out, annotate_json(tee.json(), run_records(), canary, *matrix.cells.front().scenario));
    write_output_file(topology_path_for(options.out), topology_xml(topology));
  }
  std::cerr << fmt::format("ipcatlas: {} measured, {} failed, {} skipped", t.ok, t.failed, t.skipped)
            << (options.out.empty() ? "" : "; results in " + options.out) << "\n";
  return t.failed > 0 ? 1 : 0;
}

}  // namespace ipcatlas
