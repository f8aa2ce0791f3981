// `ipcatlas doctor`: the machine facts as a table (or JSON), with the load
// on the PUs a run would use.
#pragma once

#include <iosfwd>
#include <vector>

#include "harness/machine_facts.hpp"

namespace ipcatlas {

// Prints the facts; returns the process exit status (0, or 1 if a fact could not be read at all).
int print_doctor_report(std::ostream& out, const std::vector<Fact>& facts, bool json);

}  // namespace ipcatlas
