#include "harness/cli.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>

#include "harness/analysis_command.hpp"
#include "harness/error.hpp"
#include "harness/sizes.hpp"

namespace ipcatlas {
namespace {

constexpr const char* kRunFooter = R"(Google Benchmark flags pass through, for example:
  --benchmark_repetitions=9      repeat every benchmark (enables mean/median/stddev)
  --benchmark_min_time=0.5       seconds each benchmark runs (ipcatlas default: 0.1)
  --benchmark_filter=REGEX       only benchmarks whose name matches, e.g. 'shm|pipe'
  --benchmark_format=json        console output as JSON (or csv) instead of the table

Benchmark names: SCENARIO/MECHANISM/size:BYTES/ranks:N/placement:CLASS/wait:POLICY
Exit status: 0 all measured or skipped, 1 some benchmark failed, 2 bad input.

Examples:
  ipcatlas run                                   every mechanism, 1 B to 4 MiB
  ipcatlas run --mechanisms shm,pipe --sizes 1,64,4K,1M --out results/local/run.json
  ipcatlas run --cpus 0,1 --wait block --benchmark_repetitions=9
  ipcatlas run --scenario alltoall --ranks 8 --mechanisms shm,cma-read,cma-write --sizes 64K,1M
  ipcatlas run --scenario stream --window 64 --bidirectional --placement all --membind local)";

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    items.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

// Options of `run` that need checking beyond what CLI11 does.
struct RawRun {
  std::string mechanisms, sizes = kDefaultSizes, cpus, wait = "spin", fault, membind;
  std::vector<std::string> size_caps;
};

// "ptrace=1M" -> {"ptrace", 1048576}
std::pair<std::string, std::size_t> parse_size_cap(const std::string& text) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UsageError("invalid --size-cap '" + text + "' (expected MECHANISM=SIZE, e.g. ptrace=1M)");
  return {text.substr(0, eq), parse_size(text.substr(eq + 1))};
}

void finish_run(Command& cmd, const RawRun& raw, const std::vector<std::string>& extras) {
  RunOptions& run = cmd.run;
  if (!raw.mechanisms.empty()) {
    run.mechanisms = split_commas(raw.mechanisms);
    for (const auto& m : run.mechanisms)
      if (m.empty()) throw UsageError("empty item in --mechanisms '" + raw.mechanisms + "'");
  }
  run.sizes = parse_size_list(raw.sizes);
  if (!raw.cpus.empty()) run.cpus = parse_cpu_list(raw.cpus);
  run.wait = parse_wait_policy(raw.wait);
  if (!raw.membind.empty()) run.membind = parse_membind(raw.membind);
  if (run.ranks < 0 || run.ranks == 1) throw UsageError(strfmt("--ranks %d: a scenario needs at least 2 ranks", run.ranks));
  if (run.window < 1) throw UsageError(strfmt("--window %d: the window must be at least 1 message", run.window));
  if (!raw.fault.empty()) run.fault = parse_fault(raw.fault);
  for (const std::string& cap : raw.size_caps) run.size_caps.insert(parse_size_cap(cap));
  if (run.watchdog_seconds <= 0) throw UsageError("--watchdog must be positive");
  if (run.buffer_offset >= 4096) throw UsageError("--buffer-offset must be below 4096");
  for (const std::string& extra : extras) {
    if (extra.rfind("--benchmark_", 0) != 0) throw UsageError("unknown option or argument '" + extra + "'");
    if (extra.rfind("--benchmark_out", 0) == 0)
      throw UsageError("'" + extra + "': use --out FILE (ipcatlas writes Google Benchmark JSON there)");
    run.benchmark_flags.push_back(extra);
  }
}

}  // namespace

std::vector<int> parse_cpu_list(const std::string& text) {
  std::vector<int> cpus;
  for (const std::string& item : split_commas(text)) {
    int cpu = -1;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), cpu);
    if (item.empty() || ec != std::errc{} || end != item.data() + item.size() || cpu < 0)
      throw UsageError("invalid CPU '" + item + "' in '" + text + "' (expected OS PU numbers such as 0,1)");
    cpus.push_back(cpu);
  }
  return cpus;
}

Command parse_command_line(const std::vector<std::string>& args) {
  Command cmd;
  CLI::App app{"ipcatlas: how Linux moves bytes between processes on one node, measured mechanism by mechanism.",
               "ipcatlas"};
  app.require_subcommand(1);
  app.footer("Run 'ipcatlas COMMAND --help' for the options of each command.");

  CLI::App* list = app.add_subcommand("list", "List every mechanism and scenario, whether it works here, and why not");
  list->add_flag("--json", cmd.list.json, "Print JSON instead of a table");
  list->add_flag("--placements", cmd.list.placements, "List the named placements (smt, l2, l3, numa, socket) and their PUs");
  list->add_option("--topology", cmd.list.topology, "With --placements: read the topology from an hwloc XML file")
      ->check(CLI::ExistingFile);
  list->add_option("--ranks", cmd.list.ranks, "With --placements: for this many ranks")->default_val(2);

  CLI::App* doctor = app.add_subcommand("doctor", "Report what on this machine changes results, with a verdict and a hint");
  doctor->add_flag("--json", cmd.doctor.json, "Print JSON instead of a table");
  std::string doctor_cpus;
  doctor->add_option("--cpus", doctor_cpus, "PUs whose load to check (default: the pair a run would use)");

  CLI::App* run = app.add_subcommand("run", "Run a benchmark matrix and report it through Google Benchmark");
  RawRun raw;
  run->add_option("--mechanisms", raw.mechanisms, "Comma-separated mechanism ids (default: all; see 'ipcatlas list')");
  run->add_option("--scenario", cmd.run.scenario,
                  "Communication pattern: pingpong, stream, alltoall, manytoone or onetomany (see 'ipcatlas list')")
      ->default_val("pingpong");
  run->add_option("--sizes", raw.sizes,
                  "Message sizes: a list (1,64,4K,1M) and/or ranges MIN:MAX (MIN, the powers of two between, MAX); "
                  "K/M/G are 2^10/2^20/2^30")
      ->default_val(kDefaultSizes);
  run->add_option("--ranks", cmd.run.ranks, "Ranks (alltoall, manytoone, onetomany; default 4; pingpong and stream use 2)");
  run->add_option("--cpus", raw.cpus,
                  "OS PU numbers, one per rank; fewer PUs than ranks oversubscribes them (default: from --placement, "
                  "else spread with hwloc)");
  run->add_option("--placement", cmd.run.placement,
                  "A named placement (smt, l2, l3, numa, socket; see 'ipcatlas list --placements'), or 'all' to sweep "
                  "every one this machine has");
  run->add_option("--membind", raw.membind,
                  "Where buffers and shared memory go: local (each rank's NUMA node), remote (the nearest other "
                  "node), or a node number");
  run->add_option("--window", cmd.run.window, "stream: messages in flight per window")->default_val(64);
  run->add_flag("--bidirectional", cmd.run.bidirectional, "stream: both ranks send at once (osu_bibw)");
  CLI::Option* wait = run->add_option(
      "--wait", raw.wait,
      "How ranks wait: spin (poll), block (futex), or adaptive (spin, then block); default spin, block when "
      "oversubscribed");
  run->add_option("--out", cmd.run.out, "Write Google Benchmark JSON to FILE (written when the run completes)");
  run->add_option("--watchdog", cmd.run.watchdog_seconds,
                  "Seconds a batch may run beyond its expected time before its ranks are declared hung")
      ->default_val(20.0);
 run->add_option("--size-cap", raw.size_caps,
                  "MECHANISM=SIZE: measure MECHANISM up to SIZE (ptrace is capped at 64K unless raised); repeatable");
  run->add_option("--buffer-offset", cmd.run.buffer_offset, "Bytes to add to page alignment of every buffer (0-4095)")
      ->default_val(0);
  run->add_option("--inject-fault", raw.fault, "Testing: from batch 1, rank 1 dies, hangs, or its messages are corrupted")
      ->group("Testing");
  run->allow_extras();
  run->footer(kRunFooter);

  // The analysis commands: Python parses everything after the name, --help included.
  const std::map<std::string, std::string> analysis_summaries = {
      {"plot", "Figures of latency, bandwidth, tail and scaling from result files"},
      {"thresholds", "Crossover sizes between mechanisms, and MPI/UCX/libfabric settings from them"},
      {"compare", "Compare two runs with a Mann-Whitney U test; a CI gate on regressions"},
      {"history", "One metric over many runs, with regressions marked"},
      {"report", "A self-contained HTML page of one or more runs"},
  };
  std::vector<CLI::App*> analysis;
  for (const std::string& name : kAnalysisCommands) {
    CLI::App* sub = app.add_subcommand(name, analysis_summaries.at(name));
    sub->prefix_command();
    sub->allow_extras();
    sub->set_help_flag();
    sub->group("Analysis (Python; 'ipcatlas COMMAND --help' for options)");
    analysis.push_back(sub);
  }

  const auto is_command = [&](const std::string& name) {
    return name == "list" || name == "run" || name == "doctor" ||
           std::find(kAnalysisCommands.begin(), kAnalysisCommands.end(), name) != kAnalysisCommands.end();
  };
  if (!args.empty() && !args[0].empty() && args[0][0] != '-' && !is_command(args[0]))
    throw UsageError("unknown command '" + args[0] +
                     "' (expected list, run, doctor, plot, thresholds, compare, history or report)");
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    cmd.kind = Command::Kind::help;
    CLI::App* target = &app;
    for (CLI::App* sub : {list, doctor, run})
      if (sub->parsed()) target = sub;
    cmd.help_text = target->help();
    return cmd;
  } catch (const CLI::CallForAllHelp&) {
    cmd.kind = Command::Kind::help;
    cmd.help_text = app.help("", CLI::AppFormatMode::All);
    return cmd;
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    std::replace(message.begin(), message.end(), '\n', ' ');
    throw UsageError(message);
  }

  if (list->parsed()) cmd.kind = Command::Kind::list;
  if (doctor->parsed()) {
    cmd.kind = Command::Kind::doctor;
    if (!doctor_cpus.empty()) cmd.doctor.cpus = parse_cpu_list(doctor_cpus);
  }
  if (run->parsed()) {
    cmd.kind = Command::Kind::run;
    cmd.run.wait_given = wait->count() > 0;
    finish_run(cmd, raw, run->remaining());
  }
  for (CLI::App* sub : analysis)
    if (sub->parsed()) {
      cmd.kind = Command::Kind::analysis;
      cmd.analysis.command = sub->get_name();
      cmd.analysis.args = sub->remaining();
    }
  return cmd;
}

}  // namespace ipcatlas
