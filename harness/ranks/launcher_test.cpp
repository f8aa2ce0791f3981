// The launcher's contract: ranks run where they are pinned; a rank that
// throws, dies or hangs is reported with what happened; and afterwards
// nothing is left behind (no child process, no file descriptor, no
// /dev/shm object).
#include "harness/ranks/launcher.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <set>

#include "harness/base/clock.hpp"

namespace ipcatlas {
namespace {

std::set<std::string> directory_entries(const char* path) {
  std::set<std::string> names;
  if (DIR* d = opendir(path)) {
    while (dirent* e = readdir(d)) names.insert(e->d_name);
    closedir(d);
  }
  return names;
}

bool has_children() {
  int status;
  return waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD;
}

// Records what the process holds before a test and checks it holds the same after.
class NothingLeftBehind : public ::testing::Test {
 protected:
  void SetUp() override {
    fds_before_ = directory_entries("/proc/self/fd").size();
    shm_before_ = directory_entries("/dev/shm");
  }
  void TearDown() override {
    EXPECT_FALSE(has_children()) << "a rank outlived its group";
    EXPECT_EQ(directory_entries("/proc/self/fd").size(), fds_before_) << "file descriptors leaked";
    EXPECT_EQ(directory_entries("/dev/shm"), shm_before_) << "shared-memory objects left behind";
  }
  std::size_t fds_before_ = 0;
  std::set<std::string> shm_before_;
};

using LauncherTest = NothingLeftBehind;

// A rank program defined by two lambdas.
class LambdaProgram final : public RankProgram {
 public:
  using Step = std::function<void(RankEnv&, const Batch&)>;
  LambdaProgram(std::function<void(RankEnv&)> setup, Step batch) : setup_(std::move(setup)), batch_(std::move(batch)) {}
  void setup(RankEnv& env) override {
    if (setup_) setup_(env);
  }
  void run_batch(RankEnv& env, const Batch& b) override { batch_(env, b); }

 private:
  std::function<void(RankEnv&)> setup_;
  Step batch_;
};

const Topology& topology() {
  static const Topology t = Topology::load_this_machine();
  return t;
}

// Two PUs if the machine allows, else the same one twice.
std::vector<int> two_pus() {
  const std::vector<int> pus = topology().allowed_pus();
  return {pus.front(), pus.back()};
}

GroupPlan plan(double watchdog = 5.0, WaitPolicy wait = WaitPolicy::block) {
  return GroupPlan{two_pus(), wait, watchdog};
}

RankProgramFactory programs(LambdaProgram::Step batch, std::function<void(RankEnv&)> setup = {}) {
  return [=](int) { return std::make_unique<LambdaProgram>(setup, batch); };
}

// Runs batch 0 and 1 and returns the RankFailure message ("" if none).
std::string failure_of(RankGroup& group) {
  try {
    group.run(Batch{0, 1}, 0);
    group.run(Batch{1, 1}, 0);
  } catch (const RankFailure& e) {
    return e.what();
  }
  return "";
}

TEST_F(LauncherTest, RanksRunOnTheirPusAndSeeEachOther) {
  SharedMapping seen(4096);
  auto* cpus = seen.as<std::atomic<int>>();
  RankGroup group(topology(), plan(), programs([&](RankEnv& env, const Batch&) {
                    env.barrier();
                    cpus[env.rank()] = current_pu(env.topology());
                    cpus[2 + env.rank()] = env.pid_of(1 - env.rank());
                  }));
  group.run(Batch{0, 1}, 0);
  EXPECT_EQ(cpus[0], two_pus()[0]);
  EXPECT_EQ(cpus[1], two_pus()[1]);
  EXPECT_EQ(cpus[2], group.pid(1));
  EXPECT_EQ(cpus[3], group.pid(0));
}

TEST_F(LauncherTest, BarrierHoldsEveryRankUntilAllArrive) {
  for (WaitPolicy wait : {WaitPolicy::spin, WaitPolicy::block, WaitPolicy::adaptive}) {
    SharedMapping shared(4096);
    auto* counter = shared.as<std::atomic<int>>();
    RankGroup group(topology(), plan(5.0, wait), programs([&](RankEnv& env, const Batch&) {
                      for (int round = 0; round < 200; ++round) {
                        counter[0].fetch_add(1);
                        env.barrier();
                        // Everyone incremented before anyone passed the barrier.
                        if (counter[0].load() < 2 * (round + 1)) counter[1].store(1);
                        env.barrier();
                      }
                    }));
    group.run(Batch{0, 1}, 0);
    EXPECT_EQ(counter[0].load(), 400) << to_string(wait);
    EXPECT_EQ(counter[1].load(), 0) << "a rank passed the barrier early with " << to_string(wait);
  }
}

TEST_F(LauncherTest, AnExceptionInARankIsReportedWithItsMessage) {
  RankGroup group(topology(), plan(), programs([](RankEnv& env, const Batch& b) {
                    if (env.rank() == 1 && b.index == 1) throw std::runtime_error("the mechanism refused: EPERM");
                  }));
  const std::string message = failure_of(group);
  EXPECT_NE(message.find("rank 1 (pid"), std::string::npos) << message;
  EXPECT_NE(message.find("the mechanism refused: EPERM"), std::string::npos) << message;
  EXPECT_FALSE(group.alive());
}

TEST_F(LauncherTest, AKilledRankIsReportedWithItsSignal) {
  RankGroup group(topology(), plan(), programs([](RankEnv& env, const Batch& b) {
                    if (env.rank() == 1 && b.index == 1) raise(SIGKILL);
                    env.barrier();  // rank 0 would wait here forever
                  }));
  const std::string message = failure_of(group);
  EXPECT_NE(message.find("rank 1"), std::string::npos) << message;
  EXPECT_NE(message.find("was killed by signal 9 (SIGKILL)"), std::string::npos) << message;
}

TEST_F(LauncherTest, ARankThatExitsIsReportedWithItsStatus) {
  RankGroup group(topology(), plan(), programs([](RankEnv& env, const Batch& b) {
                    if (env.rank() == 0 && b.index == 1) _exit(7);
                  }));
  const std::string message = failure_of(group);
  EXPECT_NE(message.find("rank 0"), std::string::npos) << message;
  EXPECT_NE(message.find("exited with status 7"), std::string::npos) << message;
}

TEST_F(LauncherTest, AHungRankIsDetectedByTheWatchdog) {
  RankGroup group(topology(), plan(0.5), programs([](RankEnv& env, const Batch& b) {
                    if (env.rank() == 1 && b.index == 1)
                      for (;;) pause();
                  }));
  const std::uint64_t start = now_ns();
  const std::string message = failure_of(group);
  EXPECT_LT(now_ns() - start, 5'000'000'000u) << "the watchdog took too long";
  EXPECT_NE(message.find("hung: no progress after 0.5 s"), std::string::npos) << message;
  EXPECT_NE(message.find("rank 1"), std::string::npos) << message;
  EXPECT_NE(message.find("S (sleeping)"), std::string::npos) << message;
  EXPECT_EQ(message.find("rank 0 ("), std::string::npos) << "rank 0 finished and is not to blame: " << message;
}

TEST_F(LauncherTest, ASpinningHangIsDetectedToo) {
  RankGroup group(topology(), plan(0.5, WaitPolicy::spin), programs([](RankEnv& env, const Batch& b) {
                    if (env.rank() == 0 && b.index == 1) return;  // rank 1 waits in the barrier forever
                    env.barrier();
                  }));
  const std::string message = failure_of(group);
  EXPECT_NE(message.find("hung"), std::string::npos) << message;
  EXPECT_NE(message.find("rank 1"), std::string::npos) << message;
  EXPECT_NE(message.find("R (running)"), std::string::npos) << message;
}

TEST_F(LauncherTest, ASetupFailureFailsTheGroupCleanly) {
  try {
    RankGroup group(topology(), plan(),
                    programs([](RankEnv&, const Batch&) {},
                             [](RankEnv& env) {
                               if (env.rank() == 1) throw std::runtime_error("cannot open link");
                             }));
    ADD_FAILURE() << "the group started";
  } catch (const RankFailure& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open link"), std::string::npos) << e.what();
  }
}

TEST_F(LauncherTest, APinningFailureNamesThePu) {
  GroupPlan bad = plan();
  bad.cpus = {two_pus()[0], 4095};
  try {
    RankGroup group(topology(), bad, programs([](RankEnv&, const Batch&) {}));
    ADD_FAILURE() << "the group started";
  } catch (const RankFailure& e) {
    EXPECT_NE(std::string(e.what()).find("PU 4095"), std::string::npos) << e.what();
  }
}

TEST_F(LauncherTest, DestroyingAGroupReapsEveryRank) {
  std::vector<pid_t> pids;
  {
    RankGroup group(topology(), plan(), programs([](RankEnv&, const Batch&) {}));
    group.run(Batch{0, 1}, 0);
    pids = {group.pid(0), group.pid(1)};
  }
  for (pid_t pid : pids) EXPECT_NE(kill(pid, 0), 0) << "pid " << pid << " still exists";
}

}  // namespace
}  // namespace ipcatlas
