// The deferred-signal rule of the Link contract (mechanisms/mechanism.hpp),
// checked for every registered mechanism: a Link call that waits for the
// peer first publishes the signals its process defers (DeferredSignal,
// harness/ranks/wait.hpp).
//
// One rank defers a signal of its own (a token in shared memory), then makes
// a call that may wait; the other rank makes the move that call waits for only
// once it has seen the token. A mechanism that waited without publishing
// would leave both waiting: the peer gives up after kPatience and names the
// call. A call that completes without waiting is fine; the test publishes
// after it.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "harness/machine/shared_memory.hpp"
#include "harness/ranks/launcher.hpp"
#include "mechanisms/registry.hpp"

namespace ipcatlas {
namespace {

constexpr auto kPatience = std::chrono::seconds(10);
constexpr std::size_t kMaxSize = std::size_t{4} << 20;  // beyond every pipe and socket buffer: a send waits

// Sizes that wait in different places: the mailbox slot, one fragment, more
// than a socket buffer, more than a pipe.
constexpr std::size_t kSizes[] = {0, 8, 4096, 300000, kMaxSize};

// The last token each rank's signal published.
struct Tokens {
  std::atomic<std::uint32_t> published[2];
};

class TokenSignal final : public DeferredSignal {
 public:
  TokenSignal(std::atomic<std::uint32_t>& word, std::uint32_t token) : word_(word), token_(token) {
    defer_signal(this);
  }
  ~TokenSignal() { forget_deferred_signal(this); }
  void publish_now() override { word_.store(token_, std::memory_order_release); }

 private:
  std::atomic<std::uint32_t>& word_;
  std::uint32_t token_;
};

class DeferringProgram final : public RankProgram {
 public:
  DeferringProgram(int rank, Link& link, Tokens& tokens, std::size_t cap)
      : rank_(rank), link_(link), tokens_(tokens), cap_(cap) {}

  void setup(RankEnv& env) override {
    link_.open(rank_ == 0 ? Side::a : Side::b, env.pid_of(1 - rank_));
    buffer_ = PrivateBuffer(kMaxSize);
  }

  // For every size: rank 1 receives while holding a signal (its recv() waits
  // for rank 0's send), then rank 0 sends while holding one (a send that
  // waits for the receiver).
  void run_batch(RankEnv&, const Batch&) override {
    std::uint32_t token = 0;
    for (std::size_t size : kSizes) {
      if (cap_ != 0 && size > cap_) continue;
      waiter_holds_signal(1, ++token, size, "recv()");
      waiter_holds_signal(0, ++token, size, "send()");
    }
  }

 private:
  // Rank `waiter` holds a deferred signal through its call; the other rank
  // makes its own call only once the signal has been published.
  void waiter_holds_signal(int waiter, std::uint32_t token, std::size_t size, const char* call) {
    const bool sends = rank_ == 0;  // messages go from rank 0 to rank 1 in both cases
    if (rank_ == waiter) {
      TokenSignal signal(tokens_.published[waiter], token);
      transfer(sends, size);
      publish_deferred_signals();  // the call did not wait: nothing was owed during it
      return;
    }
    await_token(waiter, token, size, call);
    transfer(sends, size);
  }

  void transfer(bool sends, std::size_t size) {
    if (!sends) {
      link_.recv({buffer_.data(), size});
      return;
    }
    std::span<std::byte> memory = link_.message_memory(size);
    if (memory.empty()) memory = {buffer_.data(), size};
    link_.send(memory.first(size));
  }

  void await_token(int waiter, std::uint32_t token, std::size_t size, const char* call) const {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (tokens_.published[waiter].load(std::memory_order_acquire) < token) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error(fmt::format("rank {}'s {} of {} bytes waited for its peer without publishing its "
                                             "deferred signals first",
                                             waiter, call, size));
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  int rank_;
  Link& link_;
  Tokens& tokens_;
  std::size_t cap_;
  PrivateBuffer buffer_;
};

struct Param {
  const Mechanism* mechanism;
  WaitPolicy wait;  // block for every mechanism; eventfd for those that honour it
};

class DeferredSignalRule : public ::testing::TestWithParam<Param> {};

TEST_P(DeferredSignalRule, EveryWaitPublishesTheDeferredSignalsFirst) {
  const Mechanism& m = *GetParam().mechanism;
  const WaitPolicy wait = GetParam().wait;
  const Availability availability = m.probe();
  if (!availability.available) GTEST_SKIP() << "unavailable here: " << availability.reason;

  static const Topology topology = Topology::load_this_machine();
  const std::vector<int> pus = topology.allowed_pus();
  SharedMapping memory(sizeof(Tokens));
  Tokens& tokens = *memory.as<Tokens>();
  // Sleeping waits (futex, or epoll on the link's eventfds): the ranks sleep
  // instead of spinning against each other on a small machine.
  std::unique_ptr<Link> link = m.make_link(LinkConfig{kMaxSize, wait});
  RankGroup group(topology, GroupPlan{{pus.front(), pus.back()}, wait, 60.0}, [&](int rank) {
    return std::make_unique<DeferringProgram>(rank, *link, tokens, m.default_size_cap);
  });
  try {
    group.run(Batch{0, 1}, 0);
  } catch (const RankFailure& e) {
    ADD_FAILURE() << e.what();
  }
}

std::vector<Param> linked_mechanisms() {
  std::vector<Param> linked;
  for (const Mechanism* m : all_mechanisms())
    if (m->make_link) linked.push_back({m, WaitPolicy::block});
  for (const Mechanism* m : all_mechanisms())
    if (m->make_link && m->wait_policies.honours(WaitPolicy::eventfd)) linked.push_back({m, WaitPolicy::eventfd});
  return linked;
}

// "shm" under block (the names from before the policy was a parameter), "shm_eventfd".
std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  std::string name(info.param.mechanism->id);
  if (info.param.wait != WaitPolicy::block) name.append("_").append(to_string(info.param.wait));
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(AllMechanisms, DeferredSignalRule, ::testing::ValuesIn(linked_mechanisms()), param_name);

}  // namespace
}  // namespace ipcatlas
