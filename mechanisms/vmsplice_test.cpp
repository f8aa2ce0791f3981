// Focused tests of vmsplice's contract and of unix-seqpacket's records, in
// two forked ranks as in a benchmark. (mechanism_conformance_test.cpp checks
// that every byte of every size arrives, for every mechanism.)
//
// vmsplice leaves references to the sender's pages in the pipe, so its send()
// must not return before the receiver has copied them out. The contract test
// overwrites the sender's buffer the moment send() returns, and the receiver
// waits a little before reading: a send() that returned early hands over the
// garbage. (Checked: with the wait removed from send(), this test fails.)
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness/ranks/launcher.hpp"
#include "harness/ranks/payload.hpp"
#include "harness/machine/shared_memory.hpp"
#include "harness/base/text.hpp"
#include "mechanisms/registry.hpp"

namespace ipcatlas {
namespace {

using RankBody = std::function<void(int rank, Link& link)>;

// Opens the link on the rank's side, then runs body(rank, link) as the batch.
class BodyProgram final : public RankProgram {
 public:
  BodyProgram(int rank, Link& link, const RankBody& body) : rank_(rank), link_(link), body_(body) {}
  void setup(RankEnv& env) override { link_.open(rank_ == 0 ? Side::a : Side::b, env.pid_of(1 - rank_)); }
  void run_batch(RankEnv&, const Batch&) override { body_(rank_, link_); }

 private:
  int rank_;
  Link& link_;
  const RankBody& body_;
};

const Mechanism& mechanism(std::string_view id) {
  const Mechanism* m = find_mechanism(id);
  if (m == nullptr) throw std::runtime_error("not registered: " + std::string(id));
  return *m;
}

std::size_t context_bytes(const Mechanism& m, const std::string& key) {
  const auto context = m.context();
  const auto it = context.find(key);
  if (it == context.end()) throw std::runtime_error(std::string(m.id) + " context lacks " + key);
  return std::stoul(it->second);
}

// Runs body in two forked ranks over a new link of m; returns the failure, "" if none.
std::string run_pair(const Mechanism& m, WaitPolicy wait, std::size_t max_bytes, const RankBody& body) {
  static const Topology topology = Topology::load_this_machine();
  const std::vector<int> pus = topology.allowed_pus();
  std::unique_ptr<Link> link = m.make_link(LinkConfig{max_bytes, wait});
  try {
    RankGroup group(topology, GroupPlan{{pus.front(), pus.back()}, wait, 60.0},
                    [&](int rank) { return std::make_unique<BodyProgram>(rank, *link, body); });
    group.run(Batch{0, 1}, 0);
  } catch (const RankFailure& e) {
    return e.what();
  }
  return "";
}

void expect_exact(std::span<const std::byte> got, PayloadKey key, std::uint64_t message, int from, int to) {
  if (const auto bad = first_mismatch(got, key))
    throw std::runtime_error(describe_mismatch(*bad, message, from, to, got.size()));
}

// --- vmsplice ---------------------------------------------------------------

class VmspliceContract : public ::testing::TestWithParam<WaitPolicy> {};

TEST_P(VmspliceContract, SenderMayOverwriteItsBufferAsSoonAsSendReturns) {
  const Mechanism& m = mechanism("vmsplice");
  const Availability availability = m.probe();
  if (!availability.available) GTEST_SKIP() << "unavailable here: " << availability.reason;

  const std::size_t pipe_size = context_bytes(m, "vmsplice_pipe_size_bytes");
  const std::vector<std::size_t> sizes = {1, 4096, 65536, std::size_t{1} << 20, pipe_size + 1, std::size_t{4} << 20};
  const std::size_t max_size = *std::max_element(sizes.begin(), sizes.end());
  constexpr int kMessages = 20;

  const RankBody body = [&](int rank, Link& link) {
    PrivateBuffer buffer(max_size);
    std::uint64_t message = 0;
    for (std::size_t s = 0; s < sizes.size(); ++s) {
      const std::span<std::byte> msg(buffer.data(), sizes[s]);
      for (int i = 0; i < kMessages; ++i, ++message) {
        const PayloadKey key{payload_seed(7, s, 0), message};  // a new pattern every message
        if (rank == 0) {
          fill_message(msg, key);
          link.send(msg);
          // At once, and tail first: for a message larger than the pipe, the
          // head has been read by the time vmsplice() returns, but up to a
          // pipe's worth of the tail is still referenced by the pipe. Every
          // byte now differs from what was sent.
          for (auto b = msg.rbegin(); b != msg.rend(); ++b) *b = ~*b;
        } else {
          std::fill(msg.begin(), msg.end(), std::byte{0xee});
          // Give a sender that returned early the time to overwrite.
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          expect_exact(link.recv(msg), key, message, 0, 1);
        }
      }
    }
  };
  EXPECT_EQ(run_pair(m, GetParam(), max_size, body), "");
}

INSTANTIATE_TEST_SUITE_P(Waits, VmspliceContract, ::testing::Values(WaitPolicy::spin, WaitPolicy::block),
                         [](const ::testing::TestParamInfo<WaitPolicy>& info) {
                           return std::string(to_string(info.param));
                         });

TEST(Vmsplice, DescribesItselfAsOneCopyAndRecordsItsPipeSize) {
  const Mechanism& m = mechanism("vmsplice");
  EXPECT_EQ(m.copies, 1);
  if (!m.probe().available) GTEST_SKIP() << "unavailable here";
  EXPECT_GE(context_bytes(m, "vmsplice_pipe_size_bytes"), 4096u);
}

// --- unix-seqpacket ---------------------------------------------------------

std::size_t seqpacket_sndbuf() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) != 0) throw std::runtime_error("socketpair");
  int sndbuf = 0;
  socklen_t len = sizeof(sndbuf);
  getsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, &len);
  close(fds[0]);
  close(fds[1]);
  return static_cast<std::size_t>(sndbuf);
}

class UnixSeqpacket : public ::testing::Test {
 protected:
  void SetUp() override {
    const Availability availability = m_.probe();
    if (!availability.available) GTEST_SKIP() << "unavailable here: " << availability.reason;
    chunk_ = context_bytes(m_, "seqpacket_chunk_bytes");
  }

  const Mechanism& m_ = mechanism("unix-seqpacket");
  std::size_t chunk_ = 0;
};

TEST_F(UnixSeqpacket, ChunkIsHalfTheSendBufferInWholePages) {
  const std::size_t half = seqpacket_sndbuf() / 2;
  EXPECT_EQ(chunk_ % 4096, 0u);
  EXPECT_GE(chunk_, 4096u);
  if (half >= 4096) {
    EXPECT_LE(chunk_, half);
    EXPECT_GT(chunk_ + 4096, half);
  }
  EXPECT_EQ(context_bytes(m_, "seqpacket_sndbuf_bytes"), half * 2);
}

TEST_F(UnixSeqpacket, MessagesOfSeveralRecordsArriveExactly) {
  const std::size_t c = chunk_;
  const std::vector<std::size_t> sizes = {c - 1, c, c + 1, 3 * c, 3 * c + 5};
  const RankBody body = [&](int rank, Link& link) {
    PrivateBuffer buffer(3 * c + 5);
    std::uint64_t message = 0;
    for (std::size_t size : sizes)
      for (int sender = 0; sender < 2; ++sender, ++message) {
        const std::span<std::byte> msg(buffer.data(), size);
        const PayloadKey key{payload_seed(11, message, sender), message};
        if (rank == sender) {
          fill_message(msg, key);
          link.send(msg);
        } else {
          std::fill(msg.begin(), msg.end(), std::byte{0xee});
          expect_exact(link.recv(msg), key, message, sender, rank);
        }
      }
  };
  EXPECT_EQ(run_pair(m_, WaitPolicy::block, 3 * c + 5, body), "");
}

TEST_F(UnixSeqpacket, ARecordOfTheWrongLengthIsAClearError) {
  const std::size_t c = chunk_;
  const RankBody body = [&](int rank, Link& link) {
    PrivateBuffer buffer(3 * c + 5);
    // The receiver expects one byte less than the sender sends: first in the
    // last (short) record, then in the first (full) one.
    const std::size_t sent[] = {3 * c + 5, c};
    const std::string expected_errors[] = {
        strfmt("record 3 of a %zu-byte message has 5 bytes, expected 4", 3 * c + 4),
        strfmt("record 0 of a %zu-byte message has %zu bytes, expected %zu", c - 1, c, c - 1)};
    for (int k = 0; k < 2; ++k) {
      if (rank == 0) {
        link.send({buffer.data(), sent[k]});
        continue;
      }
      try {
        link.recv({buffer.data(), sent[k] - 1});
      } catch (const std::runtime_error& e) {
        if (std::string(e.what()).find(expected_errors[k]) == std::string::npos)
          throw std::runtime_error(std::string("unexpected error: ") + e.what());
        continue;
      }
      throw std::runtime_error("recv accepted a " + std::to_string(sent[k]) + "-byte message as " +
                               std::to_string(sent[k] - 1) + " bytes");
    }
  };
  EXPECT_EQ(run_pair(m_, WaitPolicy::block, 3 * c + 5, body), "");
}

}  // namespace
}  // namespace ipcatlas
