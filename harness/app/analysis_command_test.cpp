#include "harness/app/analysis_command.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "harness/testing/fake_root.hpp"

namespace ipcatlas {
namespace {

using testing::FakeRoot;

// A throwaway tree with two interpreters, an installed prefix and a checkout,
// each holding (or not) what the plan looks for.
class AnalysisLaunchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    make_executable("usr/bin/python3");
    make_executable("opt/venv/bin/python3");
    root.write("prefix/bin/ipcatlas", "");
    root.write("checkout/analysis/ipcatlas_analysis/__main__.py", "");
    root.write("elsewhere/ipcatlas_analysis/__main__.py", "");
    context.system_python = path("usr/bin/python3");
    context.executable = path("prefix/bin/ipcatlas");
    context.source_analysis_dir = path("checkout/analysis");
    context.environment = {{"HOME", "/root"}, {"PATH", "/usr/bin"}};
  }

  std::string path(const std::string& relative) const { return root.str() + "/" + relative; }

  void make_executable(const std::string& relative) const {
    root.write(relative, "#!/bin/sh\n");
    std::filesystem::permissions(path(relative), std::filesystem::perms::owner_all);
  }

  void install_package() const { root.write("prefix/share/ipcatlas/analysis/ipcatlas_analysis/__main__.py", ""); }

  AnalysisLaunch plan(const std::vector<std::string>& args = {"--help"}) const {
    return plan_analysis_launch(context, "compare", args);
  }

  // The value of NAME in the plan's environment, or "<unset>".
  static std::string env(const AnalysisLaunch& launch, const std::string& name) {
    const std::string prefix = name + "=";
    for (const std::string& item : launch.environment)
      if (item.rfind(prefix, 0) == 0) return item.substr(prefix.size());
    return "<unset>";
  }

  FakeRoot root;
  LaunchContext context;
};

TEST_F(AnalysisLaunchTest, DefaultsToTheSystemPythonAndTheSourceTree) {
  const AnalysisLaunch launch = plan({"a.json", "b.json", "--help"});
  ASSERT_EQ(launch.error, "");
  EXPECT_EQ(launch.python, path("usr/bin/python3"));
  EXPECT_EQ(launch.analysis_dir, path("checkout/analysis"));
  ASSERT_EQ(launch.argv.size(), 9u);
  EXPECT_EQ(launch.argv[0], path("usr/bin/python3"));
  EXPECT_EQ(launch.argv[1], "-I") << "isolated: no current directory, PYTHON* variables or user site on sys.path";
  EXPECT_EQ(launch.argv[2], "-c");
  EXPECT_NE(launch.argv[3].find("sys.path.insert(0, sys.argv.pop(1))"), std::string::npos) << launch.argv[3];
  EXPECT_NE(launch.argv[3].find("run_module('ipcatlas_analysis'"), std::string::npos) << launch.argv[3];
  EXPECT_EQ(std::vector<std::string>(launch.argv.begin() + 4, launch.argv.end()),
            (std::vector<std::string>{path("checkout/analysis"), "compare", "a.json", "b.json", "--help"}));
  EXPECT_EQ(env(launch, "PYTHONPATH"), "<unset>") << "nothing depends on PYTHONPATH any more";
  EXPECT_EQ(env(launch, "IPCATLAS_PROG"), "ipcatlas");
  EXPECT_EQ(env(launch, "HOME"), "/root") << "the rest of the environment passes through";
}

TEST_F(AnalysisLaunchTest, AnInstalledPackageBesideTheBinaryWinsOverTheSourceTree) {
  install_package();
  const AnalysisLaunch launch = plan();
  ASSERT_EQ(launch.error, "");
  EXPECT_EQ(launch.analysis_dir, path("prefix/share/ipcatlas/analysis"));
}

TEST_F(AnalysisLaunchTest, EnvironmentOverridesWinOverEverything) {
  install_package();
  context.environment["IPCATLAS_PYTHON"] = path("opt/venv/bin/python3");
  context.environment["IPCATLAS_ANALYSIS_DIR"] = path("elsewhere");
  const AnalysisLaunch launch = plan();
  ASSERT_EQ(launch.error, "");
  EXPECT_EQ(launch.python, path("opt/venv/bin/python3"));
  EXPECT_EQ(launch.argv.front(), path("opt/venv/bin/python3"));
  EXPECT_EQ(launch.analysis_dir, path("elsewhere"));
  EXPECT_EQ(launch.argv[4], path("elsewhere"));
}

TEST_F(AnalysisLaunchTest, EmptyOverridesCountAsUnset) {
  context.environment["IPCATLAS_PYTHON"] = "";
  context.environment["IPCATLAS_ANALYSIS_DIR"] = "";
  const AnalysisLaunch launch = plan();
  ASSERT_EQ(launch.error, "");
  EXPECT_EQ(launch.python, path("usr/bin/python3"));
  EXPECT_EQ(launch.analysis_dir, path("checkout/analysis"));
}

TEST_F(AnalysisLaunchTest, APythonpathIsPassedOnButTheIsolatedInterpreterIgnoresIt) {
  context.environment["PYTHONPATH"] = "/mine:/theirs";
  const AnalysisLaunch launch = plan();
  EXPECT_EQ(env(launch, "PYTHONPATH"), "/mine:/theirs");
  EXPECT_EQ(launch.argv[1], "-I");
  for (const std::string& arg : launch.argv) EXPECT_EQ(arg.find("/mine"), std::string::npos) << arg;
}

TEST_F(AnalysisLaunchTest, AMissingOrBadInterpreterIsOneLineNamingItAndTheFix) {
  context.environment["IPCATLAS_PYTHON"] = "/nonexistent/python3";
  AnalysisLaunch launch = plan();
  EXPECT_NE(launch.error.find("IPCATLAS_PYTHON=/nonexistent/python3"), std::string::npos) << launch.error;
  EXPECT_TRUE(launch.argv.empty());

  context.environment["IPCATLAS_PYTHON"] = path("checkout/analysis");  // a directory
  EXPECT_NE(plan().error.find("not an executable file"), std::string::npos);

  root.write("not-executable", "");
  context.environment["IPCATLAS_PYTHON"] = path("not-executable");
  EXPECT_NE(plan().error.find("not an executable file"), std::string::npos);

  context.environment.erase("IPCATLAS_PYTHON");
  context.system_python = path("usr/bin/python9");
  launch = plan();
  EXPECT_NE(launch.error.find(path("usr/bin/python9")), std::string::npos) << launch.error;
  EXPECT_NE(launch.error.find("ci/setup"), std::string::npos) << launch.error;
  EXPECT_NE(launch.error.find("IPCATLAS_PYTHON"), std::string::npos) << launch.error;
  EXPECT_EQ(launch.error.find('\n'), std::string::npos);
}

TEST_F(AnalysisLaunchTest, AMissingPackageIsOneLineNamingWhereItLooked) {
  context.environment["IPCATLAS_ANALYSIS_DIR"] = path("prefix");
  AnalysisLaunch launch = plan();
  EXPECT_NE(launch.error.find("IPCATLAS_ANALYSIS_DIR=" + path("prefix")), std::string::npos) << launch.error;

  context.environment.erase("IPCATLAS_ANALYSIS_DIR");
  context.source_analysis_dir = path("gone/analysis");
  launch = plan();
  EXPECT_NE(launch.error.find(path("prefix/share/ipcatlas/analysis")), std::string::npos) << launch.error;
  EXPECT_NE(launch.error.find(path("gone/analysis")), std::string::npos) << launch.error;
  EXPECT_NE(launch.error.find("IPCATLAS_ANALYSIS_DIR"), std::string::npos) << launch.error;
  EXPECT_EQ(launch.error.find('\n'), std::string::npos);
}

TEST(AnalysisLaunch, ThisProcessKnowsItsExecutableAndTheSourceTree) {
  const LaunchContext context = LaunchContext::of_this_process();
  EXPECT_FALSE(context.executable.empty());
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(context.source_analysis_dir) / "ipcatlas_analysis"))
      << context.source_analysis_dir;
  EXPECT_FALSE(context.environment.empty());
}

}  // namespace
}  // namespace ipcatlas
