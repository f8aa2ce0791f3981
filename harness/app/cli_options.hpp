// What cli.cpp and run_command.cpp share: how an option is added and
// checked, and the subcommands parse_command_line() builds. Internal to the
// command line; nothing else includes it.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "harness/app/cli.hpp"

namespace ipcatlas::cli {

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

// Every option of `app` that takes a value refuses an empty one. Appended
// after the option's other checks, whose messages name the option too
// ("--ranks: Value  not in range 2 to 64").
void refuse_empty_values(CLI::App* app);

// An option whose text `parse` turns into `into` while CLI11 parses.
template <class T, class Parse>
CLI::Option* add_parsed(CLI::App* app, const std::string& name, T& into, Parse parse, const std::string& help) {
  return app->add_option_function<std::string>(
      name, [&into, parse](const std::string& text) { into = parse(text); }, help);
}

// A number that is not NaN, next to CLI::Range (which lets NaN through).
extern const CLI::Validator kNotNaN;

// Help before anything else: CLI11 would run the checks and callbacks of the
// other options first, so a bad value next to --help would hide the help.
void help_first(CLI::App* app);

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

// `run` (run_command.cpp): what it measures, then how it goes about it.
void add_run_command(CLI::App& app, Command& cmd, Subcommands& s);
void add_run_conduct_options(Command& cmd, Subcommands& s);
// Checks the Google Benchmark flags, which CLI11 leaves as extras.
void finish_run(RunOptions& run, const std::vector<std::string>& extras);

}  // namespace ipcatlas::cli
