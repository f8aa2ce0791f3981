// `ipcatlas doctor`: the machine facts as a table (or JSON), with the load
// on the PUs a run would use.
#pragma once

#include <iosfwd>
#include <vector>

#include "harness/machine_facts.hpp"

namespace ipcatlas {

// Prints the facts as a table (or JSON); returns the exit status, 0: a
// doctor that finds problems has still done its job.
int print_doctor_report(std::ostream& out, const std::vector<Fact>& facts, bool json);

}  // namespace ipcatlas
