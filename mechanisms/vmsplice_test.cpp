// Focused tests of vmsplice's contract, in two forked ranks as in a benchmark.
// (mechanism_conformance_test.cpp checks that every byte of every size
// arrives, for every mechanism; unix_seqpacket_test.cpp, that mechanism's records.)
//
// vmsplice leaves references to the sender's pages in the pipe, so its send()
// must not return before the receiver has copied them out. The contract test
// overwrites the sender's buffer the moment send() returns, and the receiver
// waits a little before reading: a send() that returned early hands over the
// garbage. (Checked: with the wait removed from send(), this test fails.)
#include <gtest/gtest.h>

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
#include "mechanisms/link_test_support.hpp"
#include "mechanisms/registry.hpp"

namespace ipcatlas {
namespace {

using namespace link_testing;

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

}  // namespace
}  // namespace ipcatlas
