// How the fact readers build a Fact: shared by machine_facts.cpp (the
// machine's settings) and cpu_load.cpp (the load on the chosen PUs), so that
// every fact says "unreadable" the same way. Not part of the harness interface.
#pragma once

#include <string>

#include "harness/base/proc_files.hpp"
#include "harness/machine/machine_facts.hpp"

namespace ipcatlas {

// A fact's stable key and its title for humans (see Fact).
struct FactId {
  const char* key;
  const char* title;
};

Fact make_fact(FactId id, std::string value, Fact::Verdict verdict, std::string hint = "");

// The fact when its file cannot be read: "unreadable: PATH: ENOENT", info.
Fact unreadable_fact(FactId id, const FileRead& file);

}  // namespace ipcatlas
