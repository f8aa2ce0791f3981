#include "harness/app/cli.hpp"

#include <CLI/CLI.hpp>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

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

// How the options are checked. CLI11 runs every check while it parses, in
// the order the options are defined: its own (CLI::Range), the validators
// below, then each option's callback, which turns the text into its value
// with one of our parsers (parse_wait_policy, parse_size_list, ...).
// Our parsers and validators throw UsageError, which passes through CLI11
// untouched, rather than return a message: their one-line message already
// names the option or the value, and CLI11 would put "--option: " before a
// returned one.
//
// Lists are comma-separated text split by our parsers, not by CLI11's
// ->delimiter(','): CLI11 2.1 drops empty items ("shm,,pipe" would quietly
// mean shm,pipe, and "," no mechanism at all, i.e. every one) and lets a
// delimited option be given twice, while a typo in a list must be refused.

// An option given with an empty value ("--out ''") is a mistake, never a
// default. CLI11 names the option: "--out: empty value".
const CLI::Validator kNotEmpty([](const std::string& text) { return text.empty() ? "empty value" : ""; }, "");

// Every option of `app` that takes a value refuses an empty one. Appended
// after the option's other checks, whose messages name the option too
// ("--ranks: Value  not in range 2 to 64").
void refuse_empty_values(CLI::App* app) {
  for (CLI::Option* option : app->get_options())
    if (option->get_type_size_max() > 0) option->check(kNotEmpty);
}

// An option whose text `parse` turns into `into` while CLI11 parses.
template <class T, class Parse>
CLI::Option* add_parsed(CLI::App* app, const std::string& name, T& into, Parse parse, const std::string& help) {
  return app->add_option_function<std::string>(
      name, [&into, parse](const std::string& text) { into = parse(text); }, help);
}

// --watchdog from 0.1 to 3600 seconds. Not CLI::Range, which lets NaN
// through (every comparison with it is false), and a NaN watchdog never
// fires. It reads the text as CLI11 will, and leaves text that is no number
// to CLI11's own conversion error ("Could not convert: --watchdog = abc").
const CLI::Validator kWatchdogSeconds(
    [](const std::string& text) -> std::string {
      double seconds = 0;
      if (!CLI::detail::lexical_cast(text, seconds)) return "";
      if (!(seconds >= 0.1 && seconds <= kMaxWatchdogSeconds))
        throw UsageError(
            fmt::format("--watchdog {:g}: expected seconds from 0.1 to {:g}", seconds, kMaxWatchdogSeconds));
      return "";
    },
    "");

// A number that is not NaN, next to CLI::Range (which lets NaN through).
const CLI::Validator kNotNaN(
    [](const std::string& text) -> std::string {
      double value = 0;
      return CLI::detail::lexical_cast(text, value) && std::isnan(value) ? "Value " + text + " is not a number" : "";
    },
    "");

// "shm,pipe" -> {"shm", "pipe"}; the ids are checked against the registry later.
std::vector<std::string> parse_mechanism_list(const std::string& text) {
  std::vector<std::string> ids = split(text, ',');
  for (const std::string& id : ids)
    if (id.empty()) throw UsageError("empty item in --mechanisms '" + text + "'");
  return ids;
}

// Help before anything else: CLI11 would run the checks and callbacks of the
// other options first, so a bad value next to --help would hide the help.
void help_first(CLI::App* app) {
  app->get_help_ptr()->each([](const std::string&) { throw CLI::CallForHelp(); })->trigger_on_parse();
}

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
        return fmt::format("'{}' is {} bytes; a topology XML is at most {}", path, st.st_size, kMaxTopologyBytes);
      return "";
    },
    "FILE.xml");

// The Google Benchmark flags, which CLI11 leaves as extras.
void finish_run(RunOptions& run, const std::vector<std::string>& extras) {
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

// The subcommands parse_command_line builds, and the options whose presence
// is read after the parse.
struct Subcommands {
  CLI::App* list = nullptr;
  CLI::Option* topology = nullptr;
  CLI::Option* list_ranks = nullptr;
  CLI::App* doctor = nullptr;
  CLI::App* run = nullptr;
  CLI::Option *wait = nullptr, *seed = nullptr;
  std::vector<CLI::App*> analysis;
};

void add_list_command(CLI::App& app, Command& cmd, Subcommands& s) {
  CLI::App* list = app.add_subcommand("list", "List every mechanism and scenario, whether it works here, and why not");
  help_first(list);
  list->add_flag("--json", cmd.list.json, "Print JSON instead of a table");
  list->add_flag("--placements", cmd.list.placements,
                 "List the named placements (" + join(placement_class_names()) + ") and their PUs");
  CLI::Option* topology =
      list->add_option("--topology", cmd.list.topology, "With --placements: read the topology from an hwloc XML file")
          ->check(kTopologyFile);
  CLI::Option* list_ranks =
      list->add_option("--ranks", cmd.list.ranks, "With --placements: for this many ranks (2 to 64)")
          ->default_val(2)
          ->check(CLI::Range(2, kMaxRanks));
  refuse_empty_values(list);
  s.list = list;
  s.topology = topology;
  s.list_ranks = list_ranks;
}

void add_doctor_command(CLI::App& app, Command& cmd, Subcommands& s) {
  CLI::App* doctor =
      app.add_subcommand("doctor", "Report what on this machine changes results, with a verdict and a hint");
  help_first(doctor);
  doctor->add_flag("--json", cmd.doctor.json, "Print JSON instead of a table");
  add_parsed(doctor, "--cpus", cmd.doctor.cpus, parse_cpu_list,
             "PUs whose load to check (default: the pair a run would use)");
  refuse_empty_values(doctor);
  s.doctor = doctor;
}

// What `run` measures: the matrix of mechanisms, sizes and placements.
void add_run_command(CLI::App& app, Command& cmd, Subcommands& s) {
  CLI::App* run = app.add_subcommand("run", "Run a benchmark matrix and report it through Google Benchmark");
  help_first(run);
  add_parsed(run, "--mechanisms", cmd.run.mechanisms, parse_mechanism_list,
             "Comma-separated mechanism ids (default: all; see 'ipcatlas list')");
  run->add_option("--scenario", cmd.run.scenario,
                  "Communication pattern: pingpong, stream, alltoall, manytoone or onetomany (see 'ipcatlas list')")
      ->default_val("pingpong");
  // The callback also parses the default, so cmd.run.sizes holds it when --sizes is not given.
  add_parsed(run, "--sizes", cmd.run.sizes, parse_size_list,
             "Message sizes: a list (1,64,4K,1M) and/or ranges MIN:MAX (MIN, the powers of two between, MAX); "
             "K/M/G are 2^10/2^20/2^30")
      ->run_callback_for_default()
      ->default_val(kDefaultSizes);
  run->add_option("--ranks", cmd.run.ranks,
                  "Ranks, 2 to 64 (alltoall, manytoone, onetomany; default 4; pingpong and stream use 2)")
      ->check(CLI::Range(2, kMaxRanks));
  add_parsed(run, "--cpus", cmd.run.cpus, parse_cpu_list,
             "OS PU numbers, one per rank; fewer PUs than ranks oversubscribes them (default: from --placement, "
             "else spread with hwloc)");
  run->add_option("--placement", cmd.run.placement,
                  "A named placement (" + join(placement_class_names()) +
                      "; see 'ipcatlas list --placements'), or 'all' to sweep every one this machine has");
  add_parsed(run, "--membind", cmd.run.membind, parse_membind,
             "Where buffers and shared memory go: local (each rank's NUMA node), remote (the nearest other "
             "node), or a node number");
  run->add_option("--window", cmd.run.window, "stream: messages in flight per window (1 to 4096)")
      ->default_val(64)
      ->check(CLI::Range(1, kMaxWindow));
  run->add_flag("--bidirectional", cmd.run.bidirectional, "stream: both ranks send at once (osu_bibw)");
  CLI::Option* wait =
      add_parsed(run, "--wait", cmd.run.wait, parse_wait_policy,
                 "How ranks wait: spin (poll), block (futex), or adaptive (spin, then block); default spin, block when "
                 "oversubscribed");
  s.run = run;
  s.wait = wait;
}

// How `run` goes about it: output, watchdog, run order, canary, fault injection.
void add_run_conduct_options(Command& cmd, Subcommands& s) {
  CLI::App* run = s.run;
  run->add_option("--out", cmd.run.out,
                  "Write Google Benchmark JSON to FILE when the run completes (checked before it starts; only a "
                  "regular file is ever replaced)");
  run->add_option("--watchdog", cmd.run.watchdog_seconds,
                  "Seconds (0.1 to 3600) a batch may run beyond its expected time before its ranks are declared hung")
      ->default_val(20.0)
      ->check(kWatchdogSeconds);
  run->add_option_function<std::vector<std::string>>(
      "--size-cap", [&cmd](const std::vector<std::string>& texts) { cmd.run.size_caps = parse_size_caps(texts); },
      "MECHANISM=SIZE: measure MECHANISM up to SIZE (ptrace is capped at 64K unless raised); repeatable");
  run->add_option("--buffer-offset", cmd.run.buffer_offset,
                  "Bytes to add to page alignment of every buffer (0 to 4095)")
      ->default_val(0)
      ->check(CLI::Range(0, 4095));
  add_parsed(run, "--order", cmd.run.order, parse_run_order,
             "With repetitions: blocked (each repetition runs every size's mechanisms back to back in a fresh "
             "random order), interleaved (all runs in one random order) or sequential (each benchmark's "
             "repetitions back to back)")
      ->default_val("blocked");
  CLI::Option* seed =
      run->add_option("--seed", cmd.run.seed,
                      "Seed of the random run order (default: drawn; recorded in the JSON context as order_seed)");
  run->add_option("--canary-retries", cmd.run.canary_retries,
                  "While the drift canary (the bare cache-line bounce, measured before every run) is off from the "
                  "run's usual state by more than --canary-factor, measure it again up to N times, 100 ms apart, "
                  "before measuring; then mark the run (0 to 10)")
      ->default_val(0)
      ->check(CLI::Range(0, 10));
  run->add_option("--canary-factor", cmd.run.canary_factor, "How far off the canary may be, as a ratio (1.1 to 10)")
      ->default_val(2.0)
      ->check(CLI::Range(1.1, 10.0))
      ->check(kNotNaN);
  add_parsed(run, "--inject-fault", cmd.run.fault, parse_fault,
             "Testing: from batch 1, rank 1 dies, hangs, or its messages are corrupted")
      ->group("Testing");
  refuse_empty_values(run);
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
    // Not CLI11's ->needs(): its message ("--ranks requires --placements") does not show the command to type.
    for (const CLI::Option* option : {s.topology, s.list_ranks})
      if (option->count() > 0 && !cmd.list.placements)
        throw UsageError(option->get_name() + " goes with --placements (ipcatlas list --placements " +
                         option->get_name() + " ...)");
  }
  if (s.doctor->parsed()) cmd.kind = Command::Kind::doctor;
  if (s.run->parsed()) {
    cmd.kind = Command::Kind::run;
    cmd.run.wait_given = s.wait->count() > 0;
    cmd.run.seed_given = s.seed->count() > 0;
    finish_run(cmd.run, s.run->remaining());
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
  help_first(&app);
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
