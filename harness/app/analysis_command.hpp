// `ipcatlas plot|thresholds|compare|history|report ...`: the analysis half of
// the tool, written in Python (analysis/ipcatlas_analysis). The binary execs
// `PYTHON -I -c BOOTSTRAP ANALYSIS_DIR COMMAND ARGS...`, which runs the package
// found in ANALYSIS_DIR as `python -m ipcatlas_analysis COMMAND ARGS...` would,
// so the Python program's own exit status, signals, stdout and stderr are the
// command's. The interpreter is isolated (-I): neither the current directory,
// nor PYTHONPATH or other PYTHON* variables, nor the user's site-packages can
// put a module in front of the package or of pandas, matplotlib and scipy.
//
// Which interpreter and which copy of the package run is decided by
// plan_analysis_launch(), a pure function of the environment and of what
// exists on disk, so tests can check the precedence without exec'ing anything.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ipcatlas {

struct AnalysisCommandInfo {
  std::string name;     // plot, thresholds, compare, history, report
  std::string summary;  // the Python module's SUMMARY: one line for `ipcatlas --help`
};

// The analysis subcommands, in the order `ipcatlas --help` lists them.
// Generated at configure time (cmake/analysis_commands.cmake) from
// analysis/ipcatlas_analysis/commands.json, the list the Python package reads.
extern const std::vector<AnalysisCommandInfo> kAnalysisCommands;
const AnalysisCommandInfo* find_analysis_command(const std::string& name);

// What the plan is made from: the process's environment and where things are.
struct LaunchContext {
  std::map<std::string, std::string> environment;  // the whole environment, passed on to Python
  std::string executable;                          // this binary (from /proc/self/exe): finds an installed package
  std::string source_analysis_dir;                 // the checkout's analysis/ directory, baked in at compile time
  std::string system_python = "/usr/bin/python3";

  // The running process's environment and executable, and the compiled-in source directory.
  static LaunchContext of_this_process();
};

struct AnalysisLaunch {
  std::string error;                     // non-empty: nothing to run; one line saying what is missing and the fix
  std::string python;                    // the interpreter
  std::string analysis_dir;              // the directory holding the ipcatlas_analysis package
  std::vector<std::string> argv;         // PYTHON -I -c BOOTSTRAP ANALYSIS_DIR COMMAND ARGS...
  std::vector<std::string> environment;  // KEY=VALUE: the context's, with IPCATLAS_PROG set
};

// The interpreter is $IPCATLAS_PYTHON, else context.system_python if it is
// executable. The package directory is $IPCATLAS_ANALYSIS_DIR, else
// <dir of the executable>/../share/ipcatlas/analysis if it holds the package
// (the installed layout), else context.source_analysis_dir if it holds it.
// A directory "holds the package" when it has ipcatlas_analysis/__main__.py.
AnalysisLaunch plan_analysis_launch(const LaunchContext& context, const std::string& command,
                                    const std::vector<std::string>& args);

// Runs the plan for this process: on success it does not return (execve);
// when the interpreter, the package or the interpreter's pandas, matplotlib
// or scipy is missing (asked of the interpreter run with -I too), prints one
// line naming it and the fix and returns 2.
int run_analysis_command(const std::string& command, const std::vector<std::string>& args);

}  // namespace ipcatlas
