#include "harness/cli.hpp"

#include <gtest/gtest.h>

#include "harness/analysis_command.hpp"
#include "harness/error.hpp"

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

TEST(Cli, EqualsSyntaxWorksToo) {
  const Command c = parse({"run", "--sizes=1:4", "--wait=adaptive"});
  EXPECT_EQ(c.run.sizes, (std::vector<std::size_t>{1, 2, 4}));
  EXPECT_EQ(c.run.wait, WaitPolicy::adaptive);
}

TEST(Cli, BenchmarkFlagsPassThrough) {
  const Command c = parse({"run", "--benchmark_repetitions=3", "--benchmark_filter=shm", "--benchmark_format=json"});
  EXPECT_EQ(c.run.benchmark_flags,
            (std::vector<std::string>{"--benchmark_repetitions=3", "--benchmark_filter=shm", "--benchmark_format=json"}));
}

TEST(Cli, BadInputNamesTheBadValue) {
  expect_usage_error({"run", "--sizes", "0:abc"}, "'abc'");
  expect_usage_error({"run", "--sizes", "8G"}, "'8G'");
  expect_usage_error({"run", "--cpus", "0,x"}, "'x'");
  expect_usage_error({"run", "--cpus", "-1"}, "'-1'");
  expect_usage_error({"run", "--wait", "sometimes"}, "'sometimes'");
  expect_usage_error({"run", "--bogus"}, "--bogus");
  expect_usage_error({"run", "stray"}, "stray");
  expect_usage_error({"run", "--benchmark_out=x.json"}, "--out");
  expect_usage_error({"run", "--mechanisms", "shm,,pipe"}, "shm,,pipe");
  expect_usage_error({"run", "--inject-fault", "explode"}, "'explode'");
  expect_usage_error({"run", "--watchdog", "0"}, "--watchdog");
  expect_usage_error({"frobnicate"}, "frobnicate");
}

TEST(Cli, HelpIsNotAnError) {
  const Command c = parse({"run", "--help"});
  EXPECT_EQ(c.kind, Command::Kind::help);
  EXPECT_NE(c.help_text.find("--sizes"), std::string::npos);
  EXPECT_NE(c.help_text.find("--benchmark_repetitions"), std::string::npos);
  EXPECT_EQ(parse({"--help"}).kind, Command::Kind::help);
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
  for (const std::string& name : kAnalysisCommands)
    for (const auto& args : cases) {
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
  for (const char* name : {"list", "run", "doctor", "plot", "thresholds", "compare", "history", "report"})
    EXPECT_NE(c.help_text.find(std::string("  ").append(name)), std::string::npos) << name << "\n" << c.help_text;
  EXPECT_NE(c.help_text.find("Mann-Whitney"), std::string::npos) << c.help_text;
}

}  // namespace
}  // namespace ipcatlas
