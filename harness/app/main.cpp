// ipcatlas: entry point. Parses the command line and runs one subcommand
// (the analysis subcommands exec Python and do not return).
// Bad input ends with a one-line error and exit status 2.
#include <iostream>

#include "harness/app/analysis_command.hpp"
#include "harness/app/cli.hpp"
#include "harness/app/commands.hpp"
#include "harness/base/error.hpp"

int main(int argc, char** argv) {
  using namespace ipcatlas;
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    const Command cmd = parse_command_line(args.empty() ? std::vector<std::string>{"--help"} : args);
    switch (cmd.kind) {
      case Command::Kind::help: std::cout << cmd.help_text; return args.empty() ? 2 : 0;
      case Command::Kind::list: return run_list_command(cmd.list);
      case Command::Kind::doctor: return run_doctor_command(cmd.doctor);
      case Command::Kind::run: return run_run_command(cmd.run);
      case Command::Kind::analysis: return run_analysis_command(cmd.analysis.command, cmd.analysis.args);
    }
  } catch (const UsageError& e) {
    std::cerr << "ipcatlas: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ipcatlas: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
