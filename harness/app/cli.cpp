#include "harness/app/cli.hpp"

#include <CLI/CLI.hpp>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>

#include "harness/app/analysis_command.hpp"
#include "harness/base/error.hpp"
#include "harness/machine/placement.hpp"
#include "harness/ranks/launcher.hpp"
#include "harness/base/sizes.hpp"
#include "harness/base/text.hpp"

namespace ipcatlas {
namespace {

constexpr off_t kMaxTopologyBytes = 64 << 20;

constexpr const char* kRunFooter = R"(Google Benchmark flags are checked, then applied, for example:
  --benchmark_repetitions=9      repeat every benchmark, 1 to 1000 times; ipcatlas adds
                                 mean/median/stddev/cv over the successful repetitions
  --benchmark_min_time=0.5       seconds each benchmark runs (ipcatlas default: 0.1)
  --benchmark_filter=REGEX       only benchmarks whose name matches, e.g. 'shm|pipe'
  --benchmark_format=json        console output as JSON (or csv) instead of the table
  --benchmark_list_tests         print the benchmark names and run nothing

Benchmark names: SCENARIO/MECHANISM/size:BYTES/ranks:N/placement:CLASS/wait:POLICY
Exit status: 0 all measured or skipped, 1 some benchmark failed, 2 bad input.

Examples:
  ipcatlas run                                   every mechanism, 1 B to 4 MiB
  ipcatlas run --mechanisms shm,pipe --sizes 1,64,4K,1M --out results/local/run.json
  ipcatlas run --cpus 0,1 --wait block --benchmark_repetitions=9
  ipcatlas run --scenario alltoall --ranks 8 --mechanisms shm,cma-read,cma-write --sizes 64K,1M
  ipcatlas run --scenario stream --window 64 --bidirectional --placement all --membind local)";

// Options of `run` that need checking beyond what CLI11 does.
struct RawRun {
  std::string mechanisms, sizes = kDefaultSizes, cpus, wait = "spin", fault, membind, order = "blocked";
  bool mechanisms_given = false, cpus_given = false;
  std::vector<std::string> size_caps;
  int buffer_offset = 0;
};

// "ptrace=1M" -> {"ptrace", 1048576}
std::pair<std::string, std::size_t> parse_size_cap(const std::string& text) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UsageError("invalid --size-cap '" + text + "' (expected MECHANISM=SIZE, e.g. ptrace=1M)");
  const std::size_t cap = parse_size(text.substr(eq + 1));
  if (cap == 0)
    throw UsageError("invalid --size-cap '" + text + "': the cap must be at least 1 byte (up to " +
                     format_size(kMaxMessageBytes) + ")");
  return {text.substr(0, eq), cap};
}

std::map<std::string, std::size_t> parse_size_caps(const std::vector<std::string>& texts) {
  std::map<std::string, std::size_t> caps;
  for (const std::string& text : texts) {
    const auto [id, cap] = parse_size_cap(text);
    if (!caps.emplace(id, cap).second)
      throw UsageError("--size-cap " + id + " given twice ('" + id + "=" + format_size(caps[id]) + "' and '" + text +
                       "'): give it once");
  }
  return caps;
}

// hwloc reads a whole XML file into memory: a device or fifo (/dev/zero)
// would never end, and no real topology is larger than a few megabytes.
const CLI::Validator kTopologyFile(
    [](std::string& path) -> std::string {
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) return "cannot read '" + path + "': " + errno_name(errno);
      if (!S_ISREG(st.st_mode)) return "'" + path + "' is not a regular file";
      if (st.st_size > kMaxTopologyBytes)
        return strfmt("'%s' is %lld bytes; a topology XML is at most %lld", path.c_str(),
                      static_cast<long long>(st.st_size), static_cast<long long>(kMaxTopologyBytes));
      return "";
    },
    "FILE.xml");

// An option given with an empty value ("--out ''") is a mistake, never a default.
void refuse_empty_values(const CLI::App& app) {
  for (const CLI::Option* option : app.get_options()) {
    if (option->count() == 0) continue;
    for (const std::string& value : option->results())
      if (value.empty()) throw UsageError(option->get_name() + ": empty value");
  }
}

void finish_run(Command& cmd, const RawRun& raw, const std::vector<std::string>& extras) {
  RunOptions& run = cmd.run;
  if (raw.mechanisms_given) {
    run.mechanisms = split(raw.mechanisms, ',');
    for (const auto& m : run.mechanisms)
      if (m.empty()) throw UsageError("empty item in --mechanisms '" + raw.mechanisms + "'");
  }
  run.sizes = parse_size_list(raw.sizes);
  if (raw.cpus_given) run.cpus = parse_cpu_list(raw.cpus);
  run.wait = parse_wait_policy(raw.wait);
  if (!raw.membind.empty()) run.membind = parse_membind(raw.membind);
  if (!raw.fault.empty()) run.fault = parse_fault(raw.fault);
  run.size_caps = parse_size_caps(raw.size_caps);
  run.order = parse_run_order(raw.order);
  // Written so that NaN fails too.
  if (!(run.watchdog_seconds >= 0.1 && run.watchdog_seconds <= kMaxWatchdogSeconds))
    throw UsageError(strfmt("--watchdog %g: expected seconds from 0.1 to %g", run.watchdog_seconds,
                            kMaxWatchdogSeconds));
  run.buffer_offset = static_cast<std::size_t>(raw.buffer_offset);
  std::vector<std::string> benchmark_args;
  for (const std::string& extra : extras) {
    if (extra.rfind("--benchmark_", 0) != 0) throw UsageError("unknown option or argument '" + extra + "'");
    benchmark_args.push_back(extra);
  }
  run.benchmark = parse_benchmark_flags(benchmark_args);
  if (run.benchmark.list_tests && !run.out.empty())
    throw UsageError("--benchmark_list_tests only lists the benchmark names and measures nothing: drop --out");
}

// The analysis commands (analysis/ipcatlas_analysis/commands.json): Python
// parses everything after the name, --help included.
std::vector<CLI::App*> add_analysis_commands(CLI::App& app) {
  std::vector<CLI::App*> analysis;
  for (const AnalysisCommandInfo& command : kAnalysisCommands) {
    CLI::App* sub = app.add_subcommand(command.name, command.summary);
    sub->prefix_command();
    sub->allow_extras();
    sub->set_help_flag();
    sub->group("Analysis (Python; 'ipcatlas COMMAND --help' for options)");
    analysis.push_back(sub);
  }
  return analysis;
}

// Every command, in the order --help lists them.
std::vector<std::string> command_names() {
  std::vector<std::string> names{"list", "run", "doctor"};
  for (const AnalysisCommandInfo& command : kAnalysisCommands) names.push_back(command.name);
  return names;
}

}  // namespace

std::vector<int> parse_cpu_list(const std::string& text) {
  std::vector<int> cpus;
  for (const std::string& item : split(text, ',')) {
    int cpu = -1;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), cpu);
    if (item.empty() || ec != std::errc{} || end != item.data() + item.size() || cpu < 0)
      throw UsageError("invalid CPU '" + item + "' in '" + text + "' (expected OS PU numbers such as 0,1)");
    cpus.push_back(cpu);
  }
  return cpus;
}

namespace {

// The subcommands parse_command_line builds, what CLI11 writes into that is
// not a Command field yet, and the options whose presence is read after the parse.
struct Subcommands {
  CLI::App* list = nullptr;
  CLI::Option* topology = nullptr;
  CLI::Option* list_ranks = nullptr;
  CLI::App* doctor = nullptr;
  std::string doctor_cpus;
  CLI::App* run = nullptr;
  RawRun raw;
  CLI::Option *mechanisms = nullptr, *cpus = nullptr, *wait = nullptr, *seed = nullptr;
  std::vector<CLI::App*> analysis;
};

void add_list_command(CLI::App& app, Command& cmd, Subcommands& s) {
  CLI::App* list = app.add_subcommand("list", "List every mechanism and scenario, whether it works here, and why not");
  list->add_flag("--json", cmd.list.json, "Print JSON instead of a table");
  list->add_flag("--placements", cmd.list.placements,
                 "List the named placements (" + join(placement_class_names()) + ") and their PUs");
  CLI::Option* topology =
      list->add_option("--topology", cmd.list.topology, "With --placements: read the topology from an hwloc XML file")
          ->check(kTopologyFile);
  CLI::Option* list_ranks = list->add_option("--ranks", cmd.list.ranks, "With --placements: for this many ranks (2 to 64)")
      ->default_val(2)
      ->check(CLI::Range(2, kMaxRanks));
  s.list = list;
  s.topology = topology;
  s.list_ranks = list_ranks;
}

void add_doctor_command(CLI::App& app, Command& cmd, Subcommands& s) {
  CLI::App* doctor = app.add_subcommand("doctor", "Report what on this machine changes results, with a verdict and a hint");
  doctor->add_flag("--json", cmd.doctor.json, "Print JSON instead of a table");
  std::string& doctor_cpus = s.doctor_cpus;
  doctor->add_option("--cpus", doctor_cpus, "PUs whose load to check (default: the pair a run would use)");
  s.doctor = doctor;
}

// What `run` measures: the matrix of mechanisms, sizes and placements.
void add_run_command(CLI::App& app, Command& cmd, Subcommands& s) {
  CLI::App* run = app.add_subcommand("run", "Run a benchmark matrix and report it through Google Benchmark");
  RawRun& raw = s.raw;
  CLI::Option* mechanisms =
      run->add_option("--mechanisms", raw.mechanisms, "Comma-separated mechanism ids (default: all; see 'ipcatlas list')");
  run->add_option("--scenario", cmd.run.scenario,
                  "Communication pattern: pingpong, stream, alltoall, manytoone or onetomany (see 'ipcatlas list')")
      ->default_val("pingpong");
  run->add_option("--sizes", raw.sizes,
                  "Message sizes: a list (1,64,4K,1M) and/or ranges MIN:MAX (MIN, the powers of two between, MAX); "
                  "K/M/G are 2^10/2^20/2^30")
      ->default_val(kDefaultSizes);
  run->add_option("--ranks", cmd.run.ranks,
                  "Ranks, 2 to 64 (alltoall, manytoone, onetomany; default 4; pingpong and stream use 2)")
      ->check(CLI::Range(2, kMaxRanks));
  CLI::Option* cpus = run->add_option("--cpus", raw.cpus,
                  "OS PU numbers, one per rank; fewer PUs than ranks oversubscribes them (default: from --placement, "
                  "else spread with hwloc)");
  run->add_option("--placement", cmd.run.placement,
                  "A named placement (" + join(placement_class_names()) +
                      "; see 'ipcatlas list --placements'), or 'all' to sweep every one this machine has");
  run->add_option("--membind", raw.membind,
                  "Where buffers and shared memory go: local (each rank's NUMA node), remote (the nearest other "
                  "node), or a node number");
  run->add_option("--window", cmd.run.window, "stream: messages in flight per window (1 to 4096)")
      ->default_val(64)
      ->check(CLI::Range(1, kMaxWindow));
  run->add_flag("--bidirectional", cmd.run.bidirectional, "stream: both ranks send at once (osu_bibw)");
  CLI::Option* wait = run->add_option(
      "--wait", raw.wait,
      "How ranks wait: spin (poll), block (futex), or adaptive (spin, then block); default spin, block when "
      "oversubscribed");
  s.run = run;
  s.mechanisms = mechanisms;
  s.cpus = cpus;
  s.wait = wait;
}

// How `run` goes about it: output, watchdog, run order, canary, fault injection.
void add_run_conduct_options(Command& cmd, Subcommands& s) {
  CLI::App* run = s.run;
  RawRun& raw = s.raw;
  run->add_option("--out", cmd.run.out,
                  "Write Google Benchmark JSON to FILE when the run completes (checked before it starts; only a "
                  "regular file is ever replaced)");
  run->add_option("--watchdog", cmd.run.watchdog_seconds,
                  "Seconds (0.1 to 3600) a batch may run beyond its expected time before its ranks are declared hung")
      ->default_val(20.0);
 run->add_option("--size-cap", raw.size_caps,
                  "MECHANISM=SIZE: measure MECHANISM up to SIZE (ptrace is capped at 64K unless raised); repeatable");
  run->add_option("--buffer-offset", raw.buffer_offset, "Bytes to add to page alignment of every buffer (0 to 4095)")
      ->default_val(0)
      ->check(CLI::Range(0, 4095));
  run->add_option("--order", raw.order,
                  "With repetitions: blocked (each repetition runs every size's mechanisms back to back in a fresh "
                  "random order), interleaved (all runs in one random order) or sequential (each benchmark's "
                  "repetitions back to back)")
      ->default_val("blocked");
  CLI::Option* seed = run->add_option("--seed", cmd.run.seed, "Seed of the random run order (default: drawn; recorded in the JSON context as order_seed)");
  run->add_option("--canary-retries", cmd.run.canary_retries,
                  "While the drift canary (the bare cache-line bounce, measured before every run) is off from the "
                  "run's usual state by more than --canary-factor, measure it again up to N times, 100 ms apart, "
                  "before measuring; then mark the run (0 to 10)")
      ->default_val(0)
      ->check(CLI::Range(0, 10));
  run->add_option("--canary-factor", cmd.run.canary_factor, "How far off the canary may be, as a ratio (1.1 to 10)")
      ->default_val(2.0)
      ->check(CLI::Range(1.1, 10.0));
  run->add_option("--inject-fault", raw.fault, "Testing: from batch 1, rank 1 dies, hangs, or its messages are corrupted")
      ->group("Testing");
  run->allow_extras();
  run->footer(kRunFooter);
  s.seed = seed;
}

// A first argument that is neither a command nor an option is refused before
// CLI11 parses, with the list of the commands there are.
void refuse_unknown_command(const std::vector<std::string>& args) {
  const std::vector<std::string> commands = command_names();
  if (!args.empty() && !args[0].empty() && args[0][0] != '-' &&
      std::find(commands.begin(), commands.end(), args[0]) == commands.end()) {
    const std::vector<std::string> others(commands.begin(), commands.end() - 1);
    throw UsageError("unknown command '" + args[0] + "' (expected " + join(others) + " or " + commands.back() + ")");
  }
}

// Checks and completes cmd for the subcommand that was parsed.
void finish_command(Command& cmd, Subcommands& s) {
  if (s.list->parsed()) cmd.kind = Command::Kind::list;
  if (s.list->parsed()) {
    refuse_empty_values(*s.list);
    for (const CLI::Option* option : {s.topology, s.list_ranks})
      if (option->count() > 0 && !cmd.list.placements)
        throw UsageError(option->get_name() + " goes with --placements (ipcatlas list --placements " +
                         option->get_name() + " ...)");
  }
  if (s.doctor->parsed()) {
    refuse_empty_values(*s.doctor);
    cmd.kind = Command::Kind::doctor;
    if (!s.doctor_cpus.empty()) cmd.doctor.cpus = parse_cpu_list(s.doctor_cpus);
  }
  if (s.run->parsed()) {
    cmd.kind = Command::Kind::run;
    refuse_empty_values(*s.run);
    cmd.run.wait_given = s.wait->count() > 0;
    s.raw.mechanisms_given = s.mechanisms->count() > 0;
    s.raw.cpus_given = s.cpus->count() > 0;
    cmd.run.seed_given = s.seed->count() > 0;
    finish_run(cmd, s.raw, s.run->remaining());
  }
  for (CLI::App* sub : s.analysis)
    if (sub->parsed()) {
      cmd.kind = Command::Kind::analysis;
      cmd.analysis.command = sub->get_name();
      cmd.analysis.args = sub->remaining();
    }
}

}  // namespace

Command parse_command_line(const std::vector<std::string>& args) {
  Command cmd;
  CLI::App app{"ipcatlas: how Linux moves bytes between processes on one node, measured mechanism by mechanism.",
               "ipcatlas"};
  app.require_subcommand(1);
  app.footer("Run 'ipcatlas COMMAND --help' for the options of each command.");
  Subcommands s;
  add_list_command(app, cmd, s);
  add_doctor_command(app, cmd, s);
  add_run_command(app, cmd, s);
  add_run_conduct_options(cmd, s);
  s.analysis = add_analysis_commands(app);

  refuse_unknown_command(args);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    cmd.kind = Command::Kind::help;
    CLI::App* target = &app;
    for (CLI::App* sub : {s.list, s.doctor, s.run})
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
  finish_command(cmd, s);
  return cmd;
}

}  // namespace ipcatlas
