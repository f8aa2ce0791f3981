// Forks the ranks of one benchmark, pins each to its PU, drives them batch by
// batch, and notices when one dies or hangs.
//
// The driver (the process running Google Benchmark) never moves a byte
// itself: every rank is a forked child. A mechanism that crashes or hangs can
// therefore never take the driver down; the driver reports what happened,
// kills the group and goes on with the next benchmark.
//
// Life of a group:
//   1. The driver forks one child per PU. Each child asks for SIGKILL when
//      the driver dies (PR_SET_PDEATHSIG), pins itself with hwloc, checks
//      where it runs, builds its RankProgram and runs setup().
//   2. For each batch the driver posts a command in the shared control block
//      and wakes the ranks (futex). They run the batch and report back.
//   3. The destructor tells the ranks to quit, SIGKILLs any that do not, and
//      reaps them all.
//
// Each rank reports through its own pipe ("ready", "batch done", "error, see
// the control block"). A rank that dies closes its pipe, so the driver sees
// the death at once in poll() with no polling loop; a rank that stays silent
// past the deadline is declared hung.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/machine/shared_memory.hpp"
#include "harness/machine/topology.hpp"
#include "harness/ranks/wait.hpp"

namespace ipcatlas {

inline constexpr int kMaxRanks = 64;

// One command from the driver to every rank.
struct Batch {
  std::uint64_t index = 0;       // 0, 1, 2, ... within the group's life
  std::uint64_t iterations = 0;  // Google Benchmark's iteration count
};

struct ControlBlock;

// What a rank sees of its group, inside the child.
class RankEnv {
 public:
  RankEnv(ControlBlock& control, const Topology& topology, int rank, int size, WaitPolicy wait)
      : control_(control), topology_(topology), rank_(rank), size_(size), wait_(wait) {}

  int rank() const { return rank_; }
  int size() const { return size_; }
  pid_t pid_of(int rank) const;
  WaitPolicy wait_policy() const { return wait_; }
  const Topology& topology() const { return topology_; }
  // Waits until every rank of the group has called it (spin or block per
  // policy; eventfd blocks, see control_wait_policy()).
  void barrier();

 private:
  ControlBlock& control_;
  const Topology& topology_;
  int rank_;
  int size_;
  WaitPolicy wait_;
};

// The code a rank runs after fork. Exceptions it throws end the batch: the
// driver reports their message as the benchmark's error.
class RankProgram {
 public:
  virtual ~RankProgram() = default;
  virtual void setup(RankEnv&) {}
  virtual void run_batch(RankEnv& env, const Batch& batch) = 0;
};

using RankProgramFactory = std::function<std::unique_ptr<RankProgram>(int rank)>;

struct GroupPlan {
  std::vector<int> cpus;  // one OS PU index per rank
  WaitPolicy wait = WaitPolicy::spin;
  double watchdog_seconds = 20.0;  // a batch may run this long beyond its expected time
};

// A rank died, hung, or reported an error. The message says which rank and what happened.
class RankFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class RankGroup {
 public:
  // Forks and sets up the ranks; returns once all are ready. Throws RankFailure
  // (having killed and reaped every rank) when one cannot start.
  RankGroup(const Topology& topology, GroupPlan plan, RankProgramFactory make_program);
  RankGroup(const RankGroup&) = delete;
  RankGroup& operator=(const RankGroup&) = delete;
  ~RankGroup();

  // Runs one batch on every rank. expected_seconds is how long it should take
  // (0 if unknown); the watchdog allows that plus plan.watchdog_seconds.
  // Throws RankFailure, after which the group is dead.
  void run(const Batch& batch, double expected_seconds);

  int size() const { return static_cast<int>(plan_.cpus.size()); }
  pid_t pid(int rank) const { return pids_.at(static_cast<std::size_t>(rank)); }
  bool alive() const { return alive_; }

 private:
  [[noreturn]] void rank_main(int rank, const Topology& topology, RankProgramFactory& make_program, pid_t driver,
                              int notify_fd);
  // Waits until every rank has sent `token`, or throws RankFailure.
  void await_all(char token, double timeout_seconds, const std::string& doing);
  std::string describe_rank(int rank) const;
  int reap_dead_rank(int rank);
  [[noreturn]] void fail(const std::string& message);
  void post(std::uint32_t op, const Batch& batch);
  void kill_and_reap();

  GroupPlan plan_;
  SharedMapping control_memory_;
  ControlBlock* control_ = nullptr;
  std::vector<pid_t> pids_;
  std::vector<int> notify_fds_;  // driver's read ends, one per rank
  bool alive_ = false;
};

}  // namespace ipcatlas
