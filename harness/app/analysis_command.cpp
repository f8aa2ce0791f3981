#include "harness/app/analysis_command.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "harness/base/text.hpp"

extern char** environ;

namespace ipcatlas {
namespace {

namespace fs = std::filesystem;

constexpr const char* kInstallPackages = "apt-get install python3-pandas python3-matplotlib python3-scipy";

// What `python -I -c` runs: the package directory (argv[1]) goes first on sys.path and is
// removed from argv, so the package sees `COMMAND ARGS...` exactly as the user typed them.
// -I (isolated) keeps the current directory, PYTHON* variables and the user's site-packages
// off sys.path: `python -m` would put the current directory first, and a scipy.py left there
// by another user would run with our privileges.
constexpr const char* kBootstrap = "import runpy, sys\n"
                                   "sys.path.insert(0, sys.argv.pop(1))\n"
                                   "runpy.run_module('ipcatlas_analysis', run_name='__main__', alter_sys=True)\n";

// An environment variable, "" when unset; set-but-empty counts as unset.
std::string env_value(const LaunchContext& context, const std::string& name) {
  const auto it = context.environment.find(name);
  return it == context.environment.end() ? "" : it->second;
}

bool is_executable_file(const std::string& path) {
  std::error_code ec;
  return !path.empty() && fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

// `python -m ipcatlas_analysis` needs the package's __main__.py.
bool holds_package(const fs::path& dir) {
  std::error_code ec;
  return !dir.empty() && fs::is_regular_file(dir / "ipcatlas_analysis" / "__main__.py", ec);
}

// <prefix>/bin/ipcatlas -> <prefix>/share/ipcatlas/analysis, where `cmake --install` puts the package.
fs::path installed_analysis_dir(const std::string& executable) {
  if (executable.empty()) return {};
  return (fs::path(executable).parent_path() / ".." / "share" / "ipcatlas" / "analysis").lexically_normal();
}

// Chooses the interpreter, or says why there is none.
std::string choose_python(const LaunchContext& context, std::string& error) {
  const std::string chosen = env_value(context, "IPCATLAS_PYTHON");
  if (!chosen.empty()) {
    if (!is_executable_file(chosen))
      error = std::string("IPCATLAS_PYTHON=")
                  .append(chosen)
                  .append(" is not an executable file: set IPCATLAS_PYTHON to a python3 that has pandas, "
                          "matplotlib and scipy, or unset it to use ")
                  .append(context.system_python);
    return chosen;
  }
  // Debian's interpreter, not the python3 first on PATH: that one may be a
  // pyenv, conda or venv build that cannot see python3-pandas,
  // python3-matplotlib and python3-scipy from apt (ci/python makes the same choice).
  if (!is_executable_file(context.system_python))
    error = std::string("no Python interpreter: ")
                .append(context.system_python)
                .append(" does not exist; run ci/setup, or apt-get install python3 python3-pandas "
                        "python3-matplotlib python3-scipy, or set IPCATLAS_PYTHON=/path/to/python3");
  return context.system_python;
}

// Chooses the directory holding the package, or says why there is none.
std::string choose_analysis_dir(const LaunchContext& context, std::string& error) {
  const std::string chosen = env_value(context, "IPCATLAS_ANALYSIS_DIR");
  if (!chosen.empty()) {
    if (!holds_package(chosen))
      error = std::string("IPCATLAS_ANALYSIS_DIR=")
                  .append(chosen)
                  .append(" has no ipcatlas_analysis/__main__.py: set it to the directory holding the "
                          "ipcatlas_analysis package (a checkout's analysis/), or unset it");
    return chosen;
  }
  const fs::path installed = installed_analysis_dir(context.executable);
  if (holds_package(installed)) return installed.string();
  if (holds_package(context.source_analysis_dir)) return context.source_analysis_dir;
  error = std::string("the ipcatlas_analysis package is in neither ")
              .append(installed.empty() ? "<prefix>/share/ipcatlas/analysis" : installed.string())
              .append(" nor ")
              .append(context.source_analysis_dir.empty() ? "the source tree" : context.source_analysis_dir)
              .append(": reinstall ipcatlas (cmake --install), or set IPCATLAS_ANALYSIS_DIR to a checkout's "
                      "analysis/ directory");
  return "";
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Which of pandas, matplotlib and scipy the planned interpreter cannot import.
// importlib.util.find_spec locates a module without importing it, so this
// costs one interpreter start-up (tens of milliseconds), not pandas' import.
// `started` is false when the program did not run as a Python interpreter.
// If the check itself cannot run (no pipe, no fork), it reports nothing
// missing and leaves the exec to say what is wrong.
std::string missing_modules(const AnalysisLaunch& plan, bool& started) {
  std::vector<std::string> argv{plan.python, "-I", "-c",
                                "import importlib.util as u\n"
                                "print('python-ok:' + ', '.join(m for m in ('pandas', 'matplotlib', 'scipy') "
                                "if u.find_spec(m) is None))"};
  std::vector<std::string> env = plan.environment;
  std::vector<char*> c_argv = c_strings(argv), c_env = c_strings(env);
  started = true;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return "";
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return "";
  }
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) ::dup2(null, STDERR_FILENO);
    ::execve(c_argv[0], c_argv.data(), c_env.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string out;
  char buffer[256];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const std::string sentinel = "python-ok:";
  started = WIFEXITED(status) && WEXITSTATUS(status) == 0 && out.rfind(sentinel, 0) == 0;
  if (!started) return "";
  out.erase(0, sentinel.size());
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

const AnalysisCommandInfo* find_analysis_command(const std::string& name) {
  for (const AnalysisCommandInfo& command : kAnalysisCommands)
    if (command.name == name) return &command;
  return nullptr;
}

LaunchContext LaunchContext::of_this_process() {
  LaunchContext context;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string item = *entry;
    const std::size_t eq = item.find('=');
    if (eq != std::string::npos) context.environment.emplace(item.substr(0, eq), item.substr(eq + 1));
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) context.executable = exe.string();
  context.source_analysis_dir = IPCATLAS_SOURCE_ANALYSIS_DIR;
  return context;
}

AnalysisLaunch plan_analysis_launch(const LaunchContext& context, const std::string& command,
                                    const std::vector<std::string>& args) {
  AnalysisLaunch plan;
  plan.python = choose_python(context, plan.error);
  if (!plan.error.empty()) return plan;
  plan.analysis_dir = choose_analysis_dir(context, plan.error);
  if (!plan.error.empty()) return plan;

  plan.argv = {plan.python, "-I", "-c", kBootstrap, plan.analysis_dir, command};
  plan.argv.insert(plan.argv.end(), args.begin(), args.end());

  // PYTHONPATH and the other PYTHON* variables pass through untouched; -I makes Python ignore them.
  std::map<std::string, std::string> environment = context.environment;
  environment["IPCATLAS_PROG"] = "ipcatlas";  // Python's usage lines then say "ipcatlas plot"
  for (const auto& [name, value] : environment) plan.environment.push_back(std::string(name).append("=").append(value));
  return plan;
}

int run_analysis_command(const std::string& command, const std::vector<std::string>& args) {
  const std::string prefix = std::string("ipcatlas ").append(command).append(": ");
  AnalysisLaunch plan = plan_analysis_launch(LaunchContext::of_this_process(), command, args);
  if (!plan.error.empty()) {
    std::cerr << prefix << plan.error << "\n";
    return 2;
  }
  bool started = false;
  const std::string missing = missing_modules(plan, started);
  if (!started) {
    std::cerr << prefix << plan.python << " does not run as a Python interpreter: set IPCATLAS_PYTHON to a python3 "
              << "with pandas, matplotlib and scipy, or run ci/setup\n";
    return 2;
  }
  if (!missing.empty()) {
    std::cerr << prefix << plan.python << " cannot import " << missing << ": run ci/setup, or " << kInstallPackages
              << ", or set IPCATLAS_PYTHON to a python3 that has them\n";
    return 2;
  }
  std::cout.flush();
  std::cerr.flush();
  std::vector<char*> c_argv = c_strings(plan.argv), c_env = c_strings(plan.environment);
  ::execve(c_argv[0], c_argv.data(), c_env.data());
  std::cerr << prefix << "cannot run " << plan.python << ": " << std::strerror(errno) << "\n";
  return 2;
}

}  // namespace ipcatlas
