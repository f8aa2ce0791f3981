// `ipcatlas doctor`: the machine facts as a table (or JSON), with the load
// on the PUs a run would use.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "harness/machine/machine_facts.hpp"

namespace ipcatlas {

// Prints the facts as a table (or JSON); returns the exit status, 0: a
// doctor that finds problems has still done its job.
int print_doctor_report(std::ostream& out, const std::vector<Fact>& facts, bool json);

// What a report should show from the doctor's findings: every warning, and
// every piece of information that comes with a hint (plain facts such as the
// kernel version are left out: the context has them already). A JSON array of
// {"key", "title", "value", "verdict", "hint"} objects, the fields of
// `ipcatlas doctor --json`; "[]" when nothing needs saying.
std::string doctor_warnings_json(const std::vector<Fact>& facts);

}  // namespace ipcatlas
