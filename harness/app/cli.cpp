#include "harness/app/cli.hpp"

#include <CLI/CLI.hpp>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "harness/app/analysis_command.hpp"
#include "harness/app/cli_options.hpp"
#include "harness/base/error.hpp"
#include "harness/machine/placement.hpp"
#include "harness/ranks/launcher.hpp"
#include "harness/base/sizes.hpp"
#include "harness/base/text.hpp"

namespace ipcatlas {
namespace cli {

// An option given with an empty value ("--out ''") is a mistake, never a
// default. CLI11 names the option: "--out: empty value".
const CLI::Validator kNotEmpty([](const std::string& text) { return text.empty() ? "empty value" : ""; }, "");

void refuse_empty_values(CLI::App* app) {
  for (CLI::Option* option : app->get_options())
    if (option->get_type_size_max() > 0) option->check(kNotEmpty);
}

const CLI::Validator kNotNaN(
    [](const std::string& text) -> std::string {
      double value = 0;
      return CLI::detail::lexical_cast(text, value) && std::isnan(value) ? "Value " + text + " is not a number" : "";
    },
    "");

void help_first(CLI::App* app) {
  app->get_help_ptr()->each([](const std::string&) { throw CLI::CallForHelp(); })->trigger_on_parse();
}

}  // namespace cli

namespace {

using namespace cli;

constexpr off_t kMaxTopologyBytes = 64 << 20;

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
