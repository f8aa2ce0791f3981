// What on this machine changes IPC results: read from /proc and /sys, each
// with a verdict and a hint. `ipcatlas doctor` prints them; every result
// file carries them in its context.
//
// Every path is read under `root` ("" for the real machine), so tests can
// point the readers at a fake /proc and /sys tree.
#pragma once

#include <string>
#include <vector>

namespace ipcatlas {

struct Fact {
  enum class Verdict { ok, info, warn };
  std::string key;    // stable id, also the key in the JSON context: "kernel", "ptrace_scope", ...
  std::string title;  // for humans: "Yama ptrace_scope"
  std::string value;  // what was read: "1 (restricted: only descendants)"
  Verdict verdict = Verdict::info;
  std::string hint;  // what it means for results and what to do; empty when nothing to do
};

std::string to_string(Fact::Verdict verdict);

// Kernel, CPU model, hypervisor, Yama ptrace_scope, seccomp mode, THP,
// frequency governor, turbo, SMT, CPU vulnerability mitigations, clock
// source, NUMA balancing; in this order.
std::vector<Fact> machine_facts(const std::string& root = "");

// Busy share of each PU over `seconds`, from two samples of /proc/stat
// (cpu_load.cpp; the facts above are read in machine_facts.cpp).
Fact cpu_load_fact(const std::vector<int>& pus, double seconds, const std::string& root = "");

// The same verdict from two /proc/stat texts taken `seconds` apart (tests supply both samples).
Fact cpu_load_from_samples(const std::string& before, const std::string& after, const std::vector<int>& pus,
                           double seconds);

}  // namespace ipcatlas
