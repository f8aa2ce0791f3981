// Focused tests of unix-seqpacket's records, in two forked ranks as in a
// benchmark: the chunk size it records, messages of several records, and the
// error when a record has the wrong length. (mechanism_conformance_test.cpp
// checks that every byte of every size arrives, for every mechanism.)
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness/machine/shared_memory.hpp"
#include "harness/ranks/payload.hpp"
#include "mechanisms/link_test_support.hpp"

namespace ipcatlas {
namespace {

using namespace link_testing;

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
        fmt::format("record 3 of a {}-byte message has 5 bytes, expected 4", 3 * c + 4),
        fmt::format("record 0 of a {}-byte message has {} bytes, expected {}", c - 1, c, c - 1)};
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
