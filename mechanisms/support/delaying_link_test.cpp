// DelayingLink (--inject-fault delay:NS): every message sent pays at least NS
// ns before the inner link sees it, every other call is forwarded as it came,
// and over real mechanisms every byte still arrives. Only lower bounds are
// timed: the busy wait guarantees them on any machine, however loaded.
#include "mechanisms/support/delaying_link.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "harness/base/clock.hpp"
#include "harness/machine/shared_memory.hpp"
#include "harness/ranks/payload.hpp"
#include "mechanisms/link_test_support.hpp"

namespace ipcatlas {
namespace {

// Records each call and when it arrived.
class RecordingLink final : public Link {
 public:
  void open(Side, pid_t) override { note("open"); }
  std::span<std::byte> message_memory(std::size_t) override {
    note("message_memory");
    return memory_;
  }
  void send(std::span<const std::byte>) override { note("send"); }
  void send_stamped(std::size_t, std::size_t, const Stamp&) override { note("send_stamped"); }
  std::span<const std::byte> recv(std::span<std::byte> into) override {
    note("recv");
    return into;
  }
  void begin_send(std::span<const std::byte>) override { note("begin_send"); }
  void end_send() override { note("end_send"); }
  void begin_recv(std::span<std::byte>) override { note("begin_recv"); }
  std::span<const std::byte> end_recv() override {
    note("end_recv");
    return memory_;
  }
  void send_segments(std::span<const iovec>) override { note("send_segments"); }
  void recv_segments(std::span<const iovec>) override { note("recv_segments"); }
  void begin_send_segments(std::span<const iovec>) override { note("begin_send_segments"); }
  void end_send_segments() override { note("end_send_segments"); }
  void begin_recv_segments(std::span<const iovec>) override { note("begin_recv_segments"); }
  void end_recv_segments() override { note("end_recv_segments"); }

  std::map<std::string, int> calls;
  std::uint64_t last_call_ns = 0;
  std::array<std::byte, 64> storage{};
  std::span<std::byte> memory_{storage};

 private:
  void note(const std::string& call) {
    last_call_ns = now_ns();
    ++calls[call];
  }
};

constexpr std::uint64_t kDelayNs = 20'000;

TEST(BusyWait, NeverReturnsEarly) {
  busy_wait_ns(0);
  for (std::uint64_t ns : {1ull, 30ull, 500ull, 20'000ull, 1'000'000ull}) {
    const std::uint64_t start = now_ns();
    busy_wait_ns(ns);
    EXPECT_GE(now_ns() - start, ns);
  }
}

TEST(DelayingLink, EveryMessageSentIsDelayedBeforeTheInnerLinkSeesIt) {
  RecordingLink inner;
  DelayingLink link(inner, kDelayNs);
  std::array<std::byte, 16> buffer{};
  std::array<iovec, 16> segments{};  // one message of 16 segments: still one delay, one call
  for (iovec& s : segments) s = {buffer.data(), 1};
  const std::vector<std::pair<std::string, std::function<void()>>> sends = {
      {"send", [&] { link.send(buffer); }},
      {"send_stamped",
       [&] {
         link.send_stamped(0, 8, make_stamp(8, {1, 2}));
       }},
      {"begin_send", [&] { link.begin_send(buffer); }},
      {"send_segments", [&] { link.send_segments(segments); }},
      {"begin_send_segments", [&] { link.begin_send_segments(segments); }},
  };
  for (const auto& [name, call] : sends) {
    SCOPED_TRACE(name);
    const std::uint64_t start = now_ns();
    call();
    EXPECT_EQ(inner.calls[name], 1);
    EXPECT_GE(inner.last_call_ns - start, kDelayNs);
  }
}

TEST(DelayingLink, NMessagesTakeAtLeastNDelays) {
  RecordingLink inner;
  DelayingLink link(inner, kDelayNs);
  std::array<std::byte, 16> buffer{};
  constexpr int kMessages = 100;
  const std::uint64_t start = now_ns();
  for (int i = 0; i < kMessages; ++i) link.send(buffer);
  EXPECT_GE(now_ns() - start, kMessages * kDelayNs);
  EXPECT_EQ(inner.calls["send"], kMessages);
}

TEST(DelayingLink, ForwardsEveryOtherCallOnceAsItCame) {
  RecordingLink inner;
  DelayingLink link(inner, kDelayNs);
  std::array<std::byte, 8> buffer{};
  std::array<iovec, 2> segments{iovec{buffer.data(), 4}, iovec{buffer.data() + 4, 4}};
  link.open(Side::a, 1);
  EXPECT_EQ(link.message_memory(8).data(), inner.memory_.data());
  EXPECT_EQ(link.recv(buffer).data(), buffer.data());
  link.end_send();
  link.begin_recv(buffer);
  EXPECT_EQ(link.end_recv().data(), inner.memory_.data());
  link.recv_segments(segments);
  link.end_send_segments();
  link.begin_recv_segments(segments);
  link.end_recv_segments();
  const std::map<std::string, int> expected = {{"open", 1},
                                               {"message_memory", 1},
                                               {"recv", 1},
                                               {"end_send", 1},
                                               {"begin_recv", 1},
                                               {"end_recv", 1},
                                               {"recv_segments", 1},
                                               {"end_send_segments", 1},
                                               {"begin_recv_segments", 1},
                                               {"end_recv_segments", 1}};
  EXPECT_EQ(inner.calls, expected);
}

TEST(DelayingLink, OnlyANonZeroDelayInstallsOne) {
  RecordingLink inner;
  EXPECT_EQ(delaying_link_for(FaultPlan{}, inner), nullptr);
  EXPECT_EQ(delaying_link_for(parse_fault("corrupt"), inner), nullptr);
  EXPECT_EQ(delaying_link_for(parse_fault("delay:0"), inner), nullptr);  // delay:0 measures the undelayed code
  EXPECT_NE(delaying_link_for(parse_fault("delay:1"), inner), nullptr);
}

// Over real mechanisms, in two forked ranks: rank 0 sends through a
// DelayingLink (plain and split-phase sends), rank 1 checks every byte.
class DelayedMechanism : public ::testing::TestWithParam<const char*> {};

TEST_P(DelayedMechanism, EveryByteArrivesAndEveryMessagePaysTheDelay) {
  using namespace link_testing;
  const Mechanism& m = mechanism(GetParam());
  const Availability availability = m.probe();
  if (!availability.available) GTEST_SKIP() << "unavailable here: " << availability.reason;
  constexpr std::size_t kSizes[] = {1, 64, 4096 + 13, 65536};
  constexpr int kMessages = 8;  // a size: half sent with send(), half with begin_send()/end_send()
  const RankBody body = [&](int rank, Link& raw) {
    DelayingLink link(raw, kDelayNs);
    PrivateBuffer buffer(kSizes[std::size(kSizes) - 1]);
    std::uint64_t message = 0;
    const std::uint64_t start = now_ns();
    for (std::size_t size : kSizes) {
      const std::span<std::byte> msg(buffer.data(), size);
      for (int i = 0; i < kMessages; ++i, ++message) {
        const PayloadKey key{payload_seed(11, size, 0), message};
        if (rank == 1) {
          expect_exact(link.recv(msg), key, message, 0, 1);
          continue;
        }
        fill_message(msg, key);
        if (i % 2 == 0) {
          link.send(msg);
        } else {
          link.begin_send(msg);
          link.end_send();
        }
      }
    }
    const std::uint64_t elapsed = now_ns() - start;
    if (rank == 0 && elapsed < message * kDelayNs)
      throw std::runtime_error(fmt::format("{} messages took {} ns, less than {} ns each", message, elapsed, kDelayNs));
  };
  EXPECT_EQ(run_pair(m, WaitPolicy::block, kSizes[std::size(kSizes) - 1], body), "");
}

INSTANTIATE_TEST_SUITE_P(Mechanisms, DelayedMechanism, ::testing::Values("shm", "pipe", "cma-read", "unix-stream"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace ipcatlas
