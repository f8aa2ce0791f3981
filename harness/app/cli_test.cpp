#include "harness/app/cli.hpp"

#include <gtest/gtest.h>

#include "harness/app/analysis_command.hpp"
#include "harness/base/error.hpp"

namespace ipcatlas {
namespace {

Command parse(std::vector<std::string> args) { return parse_command_line(args); }

// Expects a UsageError whose one-line message contains `fragment`.
void expect_usage_error(std::vector<std::string> args, const std::string& fragment) {
  try {
    parse(args);
    ADD_FAILURE() << "accepted bad input, expected an error mentioning '" << fragment << "'";
  } catch (const UsageError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << "not one line: " << message;
  }
}

TEST(Cli, RunDefaults) {
  const Command c = parse({"run"});
  ASSERT_EQ(c.kind, Command::Kind::run);
  EXPECT_TRUE(c.run.mechanisms.empty());
  EXPECT_EQ(c.run.scenario, "pingpong");
  EXPECT_EQ(c.run.sizes.front(), 1u);
  EXPECT_EQ(c.run.sizes.back(), 4u << 20);
  EXPECT_TRUE(c.run.cpus.empty());
  EXPECT_EQ(c.run.wait, WaitPolicy::spin);
  EXPECT_TRUE(c.run.out.empty());
}

TEST(Cli, RunOptions) {
  const Command c = parse({"run", "--mechanisms", "shm,pipe", "--sizes", "1,64,4K", "--cpus", "0,1", "--wait", "block",
                           "--out", "x.json", "--watchdog", "3"});
  EXPECT_EQ(c.run.mechanisms, (std::vector<std::string>{"shm", "pipe"}));
  EXPECT_EQ(c.run.sizes, (std::vector<std::size_t>{1, 64, 4096}));
  EXPECT_EQ(c.run.cpus, (std::vector<int>{0, 1}));
  EXPECT_EQ(c.run.wait, WaitPolicy::block);
  EXPECT_EQ(c.run.out, "x.json");
  EXPECT_DOUBLE_EQ(c.run.watchdog_seconds, 3.0);
}

TEST(Cli, CacheStatesAreADimension) {
  EXPECT_EQ(parse({"run"}).run.caches, std::vector<CacheState>{CacheState::hot});
  EXPECT_EQ(parse({"run", "--cache", "cold"}).run.caches, std::vector<CacheState>{CacheState::cold});
  EXPECT_EQ(parse({"run", "--cache", "hot,cold"}).run.caches,
            (std::vector<CacheState>{CacheState::hot, CacheState::cold}));
  expect_usage_error({"run", "--cache", "warm"}, "invalid --cache 'warm' (expected hot, cold, or hot,cold for both)");
  expect_usage_error({"run", "--cache", "cold,,hot"}, "invalid --cache 'cold,,hot'");
  expect_usage_error({"run", "--cache", "cold,cold"}, "--cache 'cold,cold' names cold twice");
}

TEST(Cli, SegmentCountsAreADimension) {
  EXPECT_EQ(parse({"run"}).run.segments, std::vector<std::size_t>{1});
  EXPECT_EQ(parse({"run", "--segments", "1,16,256"}).run.segments, (std::vector<std::size_t>{1, 16, 256}));
}

TEST(Cli, EqualsSyntaxWorksToo) {
  const Command c = parse({"run", "--sizes=1:4", "--wait=adaptive"});
  EXPECT_EQ(c.run.sizes, (std::vector<std::size_t>{1, 2, 4}));
  EXPECT_EQ(c.run.wait, WaitPolicy::adaptive);
}

TEST(Cli, WaitEventfdIsAPolicy) {
  const Command c = parse({"run", "--wait", "eventfd"});
  EXPECT_EQ(c.run.wait, WaitPolicy::eventfd);
  EXPECT_TRUE(c.run.wait_given);
  EXPECT_EQ(to_string(WaitPolicy::eventfd), "eventfd");
  // The rank group's own waits are not links: they block.
  EXPECT_EQ(control_wait_policy(WaitPolicy::eventfd), WaitPolicy::block);
  EXPECT_EQ(control_wait_policy(WaitPolicy::spin), WaitPolicy::spin);
}

TEST(Cli, BenchmarkFlagsAreCheckedAndRepetitionsKeptByIpcatlas) {
  const Command c = parse({"run", "--benchmark_repetitions=3", "--benchmark_filter=shm", "--benchmark_format=json",
                           "--benchmark_report_aggregates_only=true", "--benchmark_min_time=0.01"});
  EXPECT_EQ(c.run.benchmark.passthrough, (std::vector<std::string>{"--benchmark_filter=shm", "--benchmark_format=json",
                                                                   "--benchmark_min_time=0.01"}));
  EXPECT_EQ(c.run.benchmark.repetitions, 3);
  EXPECT_TRUE(c.run.benchmark.report_aggregates_only);
  EXPECT_EQ(c.run.benchmark.format, "json");
  EXPECT_TRUE(parse({"run", "--benchmark_list_tests"}).run.benchmark.list_tests);
  EXPECT_FALSE(parse({"run", "--benchmark_list_tests=no"}).run.benchmark.list_tests);
}

// Google Benchmark would print its usage and exit 0, crash, or read nonsense as true.
TEST(Cli, BadBenchmarkFlagsNameTheValueAndTheRange) {
  expect_usage_error({"run", "--benchmark_repetitions=-1"},
                     "'-1' in '--benchmark_repetitions=-1' (expected a whole number from 1 to 1000)");
  expect_usage_error({"run", "--benchmark_repetitions=0"}, "from 1 to 1000");
  expect_usage_error({"run", "--benchmark_repetitions=1e3"}, "'1e3'");
  expect_usage_error({"run", "--benchmark_format=xml"}, "one of console, json, csv");
  expect_usage_error({"run", "--benchmark_min_time=nan"}, "'nan'");
  expect_usage_error({"run", "--benchmark_min_time=inf"}, "'inf'");
  expect_usage_error({"run", "--benchmark_min_time=0"}, "above 0");
  expect_usage_error({"run", "--benchmark_list_tests=abc"}, "true or false");
  expect_usage_error({"run", "--benchmark_filter=("}, "regular expression");
  expect_usage_error({"run", "--benchmark_filter"}, "needs a value");
  expect_usage_error({"run", "--benchmark_context=novalue"}, "KEY=VALUE");
  expect_usage_error({"run", "--benchmark_time_unit=ms"}, "in ns");
  expect_usage_error({"run", "--benchmark_out_format=csv"}, "always Google Benchmark JSON");
  expect_usage_error({"run", "--benchmark_frobnicate=1"}, "unknown Google Benchmark flag");
  expect_usage_error({"run", "--benchmark_list_tests=true", "--out", "x.json"}, "drop --out");
}

TEST(Cli, NumbersOutsideTheirRangeAreRefused) {
  expect_usage_error({"run", "--watchdog", "nan"}, "--watchdog nan: expected seconds from 0.1 to 3600");
  expect_usage_error({"run", "--watchdog", "inf"}, "--watchdog inf");
  expect_usage_error({"run", "--watchdog", "-1"}, "--watchdog");
  expect_usage_error({"run", "--window", "2147483647"}, "2147483647");
  expect_usage_error({"run", "--window", "0"}, "--window");
  expect_usage_error({"run", "--ranks", "0"}, "--ranks");
  expect_usage_error({"run", "--ranks", "100000000"}, "100000000");
  expect_usage_error({"list", "--placements", "--ranks", "100000000"}, "100000000");
  expect_usage_error({"list", "--placements", "--ranks", "-1"}, "-1");
  expect_usage_error({"run", "--buffer-offset", "-1"}, "-1");
  expect_usage_error({"run", "--buffer-offset", "4096"}, "4096");
  expect_usage_error({"run", "--canary-factor", "nan"}, "--canary-factor: Value nan");  // CLI::Range lets NaN through
  expect_usage_error({"run", "--size-cap", "ptrace=0"}, "at least 1 byte");
  expect_usage_error({"run", "--size-cap", "ptrace=1M", "--size-cap", "ptrace=4K"}, "given twice");
}

TEST(Cli, ListOptionsOfPlacementsNeedPlacementsAndARealFile) {
  expect_usage_error({"list", "--ranks", "4"}, "--ranks goes with --placements");
  expect_usage_error({"list", "--topology", "/proc/self/status"}, "--topology");  // regular, so the size check passes
  expect_usage_error({"list", "--placements", "--topology", "/dev/zero"}, "'/dev/zero' is not a regular file");
  expect_usage_error({"list", "--placements", "--topology", "/nonexistent.xml"}, "cannot read '/nonexistent.xml'");
}

TEST(Cli, EmptyValuesAreRefused) {
  for (const char* option : {"--out", "--cpus", "--ranks", "--mechanisms", "--sizes", "--placement", "--membind",
                             "--inject-fault", "--scenario", "--wait", "--watchdog", "--size-cap", "--segments"})
    expect_usage_error({"run", option, ""}, option);
  expect_usage_error({"doctor", "--cpus", ""}, "--cpus");
  expect_usage_error({"list", "--topology", ""}, "--topology");
}

TEST(Cli, BadInputNamesTheBadValue) {
  expect_usage_error({"run", "--sizes", "0:abc"}, "'abc'");
  expect_usage_error({"run", "--sizes", "8G"}, "'8G'");
  expect_usage_error({"run", "--cpus", "0,x"}, "'x'");
  expect_usage_error({"run", "--cpus", "-1"}, "'-1'");
  expect_usage_error({"run", "--wait", "sometimes"}, "'sometimes'");
  expect_usage_error({"run", "--segments", "0"}, "--segments");
  expect_usage_error({"run", "--segments", "4097"}, "--segments");
  expect_usage_error({"run", "--segments", "1,x"}, "invalid --segments '1,x': 'x' is not a count from 1 to 4096");
  expect_usage_error({"run", "--segments", "16,16"}, "--segments '16,16' names 16 twice");
  expect_usage_error({"run", "--bogus"}, "--bogus");
  expect_usage_error({"run", "stray"}, "stray");
  expect_usage_error({"run", "--benchmark_out=x.json"}, "--out");
  expect_usage_error({"run", "--mechanisms", "shm,,pipe"}, "shm,,pipe");
  expect_usage_error({"run", "--inject-fault", "explode"}, "'explode'");
  expect_usage_error({"run", "--inject-fault", "delay:1.5"},
                     "invalid fault 'delay:1.5': delay:NS takes NS, whole nanoseconds from 0 to 10000000 (10 ms)");
  expect_usage_error({"run", "--watchdog", "0"}, "--watchdog");
  expect_usage_error({"frobnicate"}, "frobnicate");
}

TEST(Cli, InjectFaultDelayIsAFaultOfItsOwn) {
  const FaultPlan delay = parse({"run", "--inject-fault", "delay:300"}).run.fault;
  EXPECT_EQ(delay.kind, FaultPlan::Kind::delay);
  EXPECT_EQ(delay.delay_ns, 300u);
  EXPECT_EQ(parse({"run"}).run.fault.kind, FaultPlan::Kind::none);
  EXPECT_NE(parse({"run", "--help"}).help_text.find("delay:NS"), std::string::npos);
}

TEST(Cli, HelpIsNotAnError) {
  const Command c = parse({"run", "--help"});
  EXPECT_EQ(c.kind, Command::Kind::help);
  EXPECT_NE(c.help_text.find("--sizes"), std::string::npos);
  EXPECT_NE(c.help_text.find("--benchmark_repetitions"), std::string::npos);
  EXPECT_EQ(parse({"--help"}).kind, Command::Kind::help);
  // Help wins over a bad value beside it, whichever comes first.
  EXPECT_EQ(parse({"run", "--wait", "sometimes", "--help"}).kind, Command::Kind::help);
  EXPECT_EQ(parse({"run", "--help", "--window", "0"}).kind, Command::Kind::help);
  EXPECT_EQ(parse({"list", "--topology", "/dev/zero", "-h"}).kind, Command::Kind::help);
}

TEST(Cli, ListAndDoctor) {
  EXPECT_TRUE(parse({"list", "--json"}).list.json);
  const Command d = parse({"doctor", "--cpus", "1,0"});
  EXPECT_EQ(d.kind, Command::Kind::doctor);
  EXPECT_EQ(d.doctor.cpus, (std::vector<int>{1, 0}));
}

// Everything after an analysis command is Python's, verbatim: its --help, and
// options that look like ipcatlas's own (--out, --json, --cpus, --benchmark_*).
TEST(Cli, AnalysisArgumentsPassThroughVerbatim) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"--help"},
      {"-h"},
      {"a.json", "b.json", "--alpha", "0.01", "--threshold=0.05"},
      {"--out", "dir", "--json", "--cpus", "0,1", "--sizes", "0:abc", "--benchmark_filter=shm", "run", "list"},
      {"x.json", "--help", "--", "-h", "--help-all", "--version", ""},
  };
  for (const AnalysisCommandInfo& command : kAnalysisCommands)
    for (const auto& args : cases) {
      const std::string& name = command.name;
      std::vector<std::string> line{name};
      line.insert(line.end(), args.begin(), args.end());
      const Command c = parse(line);
      ASSERT_EQ(c.kind, Command::Kind::analysis) << name;
      EXPECT_EQ(c.analysis.command, name);
      EXPECT_EQ(c.analysis.args, args) << name;
    }
}

TEST(Cli, TopLevelHelpListsTheAnalysisCommands) {
  const Command c = parse({"--help"});
  ASSERT_EQ(c.kind, Command::Kind::help);
  // The names are the user interface, so they are spelt out here and not
  // read from the generated list; the summaries are Python's.
  for (const char* name : {"list", "run", "doctor", "plot", "thresholds", "compare", "history", "nodes", "report"})
    EXPECT_NE(c.help_text.find(std::string("  ").append(name)), std::string::npos) << name << "\n" << c.help_text;
  ASSERT_EQ(kAnalysisCommands.size(), 6u);
  for (const AnalysisCommandInfo& command : kAnalysisCommands)
    EXPECT_NE(c.help_text.find(command.summary), std::string::npos) << command.name << "\n" << c.help_text;
  EXPECT_NE(c.help_text.find("U test per benchmark"), std::string::npos) << c.help_text;
}

TEST(Cli, AnUnknownCommandNamesEveryCommand) {
  expect_usage_error(
      {"plto"},
      "unknown command 'plto' (expected list, run, doctor, plot, thresholds, compare, history, nodes or report)");
}

}  // namespace
}  // namespace ipcatlas
