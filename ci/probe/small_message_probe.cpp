// ci/small-message-probe: where the time of a small ping-pong goes.
//
// Two processes, pinned to two PUs, run every step (protocol_steps.hpp) in
// turn, round after round (forward order in even rounds, backward in odd
// ones), each step a short slice of round trips timed by side 0. The host
// moves this VM's vCPUs between states (one host core, two cores, far
// apart) from one second to the next, so a step is only ever compared with
// the bounce measured in the same round, milliseconds apart: the figures are
// medians over rounds of per-round differences and ratios, never
// differences of medians.
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "protocol_steps.hpp"
#include "harness/base/clock.hpp"
#include "harness/base/error.hpp"
#include "harness/base/output_file.hpp"
#include "harness/machine/shared_memory.hpp"
#include "harness/ranks/wait.hpp"

namespace ipcatlas::probe {
namespace {

struct Options {
  int cpu_a = 0, cpu_b = 1;
  int rounds = 300;
  std::uint64_t round_trips = 2000;  // per step and round: ~0.1-1 ms here
  std::vector<std::string> steps;
  std::string json;
};

// Throws std::invalid_argument (exit status 2) when the PU cannot be used.
void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (cpu < 0 || cpu >= CPU_SETSIZE) throw std::invalid_argument(fmt::format("--cpus: no PU {}", cpu));
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0)
    throw std::invalid_argument(fmt::format("--cpus: cannot run on PU {}: {}", cpu, std::strerror(errno)));
}

// Runs every step's slices in both processes; side 0 writes the time of
// slice (round r, step s) to ns[r * steps + s].
void run_rounds(int side, const Options& o, std::vector<std::unique_ptr<Step>>& steps, std::uint64_t* ns) {
  for (auto& step : steps) step->open(side);
  for (auto& step : steps) step->round_trips(1000);  // warm-up: page faults, branch predictors
  publish_deferred_signals();
  const std::size_t n = steps.size();
  for (int r = 0; r < o.rounds; ++r) {
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t s = r % 2 == 0 ? k : n - 1 - k;
      const std::uint64_t start = now_ns();
      steps[s]->round_trips(o.round_trips);
      if (side == 0) ns[static_cast<std::size_t>(r) * n + s] = now_ns() - start;
      // A consume a step deferred would otherwise be published during the
      // next step's first wait: a store into another line, on its clock.
      publish_deferred_signals();
    }
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// The one-way time of every slice, in ns.
std::vector<std::vector<double>> one_way_ns(const Options& o, std::size_t steps, const std::uint64_t* ns) {
  std::vector<std::vector<double>> t(steps, std::vector<double>(static_cast<std::size_t>(o.rounds)));
  for (std::size_t s = 0; s < steps; ++s)
    for (std::size_t r = 0; r < static_cast<std::size_t>(o.rounds); ++r)
      t[s][r] = static_cast<double>(ns[r * steps + s]) / static_cast<double>(2 * o.round_trips);
  return t;
}

// Per step: the median one-way time, and the medians over rounds of its
// ratio to the bounce, of its excess over the bounce and of what it adds to
// its base step; the last for all rounds, and for the rounds in which the
// bounce was in its fastest and slowest thirds (the host's near and far states).
void print_table(const std::vector<StepInfo>& infos, const std::vector<std::vector<double>>& t) {
  const std::vector<double>& bounce = t[0];
  std::vector<double> sorted = bounce;
  std::sort(sorted.begin(), sorted.end());
  const double near_below = sorted[sorted.size() / 3], far_above = sorted[sorted.size() * 2 / 3];
  fmt::print("bounce one-way: median {:.1f} ns; near third <= {:.1f} ns, far third >= {:.1f} ns\n", median(bounce),
             near_below, far_above);
  fmt::print("{:18} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8}  {:17} {}\n", "step", "one-way", "/bounce", "+bounce", "+base",
             "near", "far", "base", "adds");
  for (std::size_t s = 0; s < t.size(); ++s) {
    std::size_t base = 0;
    for (std::size_t b = 0; b < infos.size(); ++b)
      if (infos[b].name == infos[s].base) base = b;
    std::vector<double> ratio, over_bounce, over_base, base_near, base_far;
    for (std::size_t r = 0; r < bounce.size(); ++r) {
      ratio.push_back(t[s][r] / bounce[r]);
      over_bounce.push_back(t[s][r] - bounce[r]);
      const double added = t[s][r] - t[base][r];
      over_base.push_back(added);
      if (bounce[r] <= near_below) base_near.push_back(added);
      if (bounce[r] >= far_above) base_far.push_back(added);
    }
    fmt::print("{:18} {:8.1f} {:7.2f} {:8.1f} {:8.1f} {:8.1f} {:8.1f}  {:17} {}\n", infos[s].name, median(t[s]),
               median(ratio), median(over_bounce), median(over_base), median(base_near), median(base_far),
               s == 0 ? "" : infos[base].name, infos[s].adds);
  }
}

std::string to_json(const Options& o, const std::vector<StepInfo>& infos, const std::vector<std::vector<double>>& t) {
  std::string out = fmt::format("{{\"cpus\": [{}, {}], \"round_trips_per_slice\": {}, \"one_way_ns\": {{", o.cpu_a,
                                o.cpu_b, o.round_trips);
  for (std::size_t s = 0; s < t.size(); ++s)
    out += fmt::format("{}\"{}\": [{:.2f}]", s ? ", " : "", infos[s].name, fmt::join(t[s], ", "));
  return out + "}}\n";
}

// The bounce, the steps asked for, and the bases they add to.
std::vector<StepInfo> selected_steps(const Options& o) {
  const std::vector<StepInfo>& all = all_steps();
  std::vector<std::string_view> wanted(o.steps.begin(), o.steps.end());
  for (const std::string& name : o.steps)
    if (std::none_of(all.begin(), all.end(), [&](const StepInfo& i) { return i.name == name; }))
      throw std::invalid_argument(fmt::format("--steps: no step '{}' (see --help)", name));
  std::vector<StepInfo> chosen;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {  // bases come before the steps that add to them
    const bool asked =
        o.steps.empty() || it->name == "bounce" || std::find(wanted.begin(), wanted.end(), it->name) != wanted.end();
    if (!asked) continue;
    chosen.insert(chosen.begin(), *it);
    if (!it->base.empty()) wanted.push_back(it->base);
  }
  return chosen;
}

std::string step_list() {
  std::string text;
  for (const StepInfo& info : all_steps()) text += fmt::format("\n  {:18} {}", info.name, info.adds);
  return text;
}

int run(const Options& o) {
  if (!o.json.empty()) check_output_target("--json", o.json);
  const std::vector<StepInfo> infos = selected_steps(o);
  std::vector<std::unique_ptr<Step>> steps;
  for (const StepInfo& info : infos) steps.push_back(info.make());
  SharedMapping results(sizeof(std::uint64_t) * infos.size() * static_cast<std::size_t>(o.rounds));
  auto* ns = results.as<std::uint64_t>();
  pin(o.cpu_b);  // both PUs usable, or a clear error before anything starts
  pin(o.cpu_a);
  const pid_t child = fork();
  if (child < 0) throw std::runtime_error("fork failed");
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    try {
      pin(o.cpu_b);
      run_rounds(1, o, steps, ns);
    } catch (const std::exception& e) {
      // Side 0 would wait for this side forever: stop it too.
      std::fprintf(stderr, "small-message-probe: side 1: %s\n", e.what());
      kill(getppid(), SIGTERM);
      _exit(1);
    }
    _exit(0);
  }
  try {
    pin(o.cpu_a);
    run_rounds(0, o, steps, ns);
  } catch (...) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    throw;
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("probe: side 1 failed");
  const auto t = one_way_ns(o, infos.size(), ns);
  print_table(infos, t);
  if (!o.json.empty()) write_output_file(o.json, to_json(o, infos, t));
  return 0;
}

}  // namespace
}  // namespace ipcatlas::probe

int main(int argc, char** argv) {
  using namespace ipcatlas::probe;
  Options o;
  CLI::App app{
      "Where the time of a small ping-pong goes: the bare cache-line bounce and ipcatlas's protocol, one element "
      "at a time, alternated in the same two processes. Prints per step the median one-way time and, paired by "
      "round, its ratio to the bounce and what it adds to the step it builds on."};
  std::string cpus = "0,1";
  app.add_option("--cpus", cpus, "the two PUs, A,B (default 0,1)");
  app.add_option("--rounds", o.rounds, "rounds of every step (default 300)")->check(CLI::Range(1, 100000));
  app.add_option("--round-trips", o.round_trips, "round trips per step and round (default 2000)")
      ->check(CLI::Range(1, 10000000));
  app.add_option("--steps", o.steps,
                 "only these steps (with the bounce and the steps they add to), comma-separated:" + step_list())
      ->delimiter(',');
  app.add_option("--json", o.json, "also write every slice's one-way time to this file");
  CLI11_PARSE(app, argc, argv);
  if (std::sscanf(cpus.c_str(), "%d,%d", &o.cpu_a, &o.cpu_b) != 2) {
    std::fprintf(stderr, "--cpus: expected A,B\n");
    return 2;
  }
  try {
    return run(o);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "small-message-probe: %s\n", e.what());
    return 2;
  } catch (const ipcatlas::UsageError& e) {
    std::fprintf(stderr, "small-message-probe: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "small-message-probe: %s\n", e.what());
    return 1;
  }
}
