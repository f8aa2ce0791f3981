// The conformance suite's scatter/gather half: every mechanism that honours
// --segments moves segmented messages byte-exact, through its blocking and
// split-phase calls, with segment counts up to 2000 (past the kernel's
// IOV_MAX of 1024, so that CMA, pipes, sockets and vmsplice loop over it),
// odd sizes that N does not divide, and a receiver whose segments are laid
// out differently from the sender's. Gaps between segments are filled on
// both sides and must come out untouched.
#include <gtest/gtest.h>

#include <algorithm>

#include <fmt/format.h>

#include "harness/machine/shared_memory.hpp"
#include "harness/ranks/launcher.hpp"
#include "harness/ranks/payload.hpp"
#include "mechanisms/registry.hpp"
#include "mechanisms/support/segments.hpp"

namespace ipcatlas {
namespace {

constexpr std::size_t kGap = 64;
constexpr std::byte kSendGap{0xc3}, kRecvGap{0xa5};

struct SegCase {
  std::size_t size, send_segments, recv_segments;
  bool split_phase;
};

// Near-equal segments (the first size % n one byte longer) with kGap between, from `base`.
std::vector<iovec> lay_out(std::byte* base, std::size_t size, std::size_t n) {
  std::vector<iovec> iov(n);
  for (std::size_t k = 0, at = 0; k < n; ++k) {
    const std::size_t len = size / n + (k < size % n ? 1 : 0);
    iov[k] = iovec{base + at, len};
    at += len + kGap;
  }
  return iov;
}

std::size_t extent(std::size_t size, std::size_t n) { return size + (n - 1) * kGap; }

std::vector<SegCase> seg_cases(bool same_layout_only, std::size_t cap) {
  std::vector<SegCase> all = {{2, 2, 2, false},           {7, 3, 3, false},         {100, 7, 7, true},
                              {4096, 16, 16, false},      {65537, 5, 5, true},      {2000, 2000, 2000, false},
                              {300001, 1500, 1500, true}, {1u << 20, 64, 64, false}};
  if (!same_layout_only) all.insert(all.end(), {{5000, 16, 3, false}, {70000, 1, 1100, true}});
  std::erase_if(all, [cap](const SegCase& c) { return cap != 0 && c.size > cap; });
  return all;
}

class SegmentsProgram final : public RankProgram {
 public:
  SegmentsProgram(int rank, Link& link, std::vector<SegCase> cases)
      : rank_(rank), link_(link), cases_(std::move(cases)) {}

  void setup(RankEnv& env) override {
    link_.open(rank_ == 0 ? Side::a : Side::b, env.pid_of(1 - rank_));
    out_ = PrivateBuffer(kBytes);
    in_ = PrivateBuffer(kBytes);
    logical_.resize(kBytes);
  }

  void run_batch(RankEnv&, const Batch&) override {
    std::uint64_t message = 0;
    for (const SegCase& c : cases_)
      for (int sender = 0; sender < 2; ++sender, ++message) {
        const PayloadKey key{payload_seed(7, message, sender), message};
        if (rank_ == sender) send(c, key);
        else receive(c, key, message);
      }
  }

 private:
  static constexpr std::size_t kBytes = (std::size_t{1} << 20) + 2048 * kGap;

  void send(const SegCase& c, PayloadKey key) {
    std::fill_n(out_.data(), extent(c.size, c.send_segments), kSendGap);
    const std::vector<iovec> iov = lay_out(out_.data(), c.size, c.send_segments);
    fill_message({logical_.data(), c.size}, key);
    SegmentCursor cursor(iov);
    scatter({logical_.data(), c.size}, cursor);
    if (!c.split_phase) return link_.send_segments(iov);
    link_.begin_send_segments(iov);
    link_.end_send_segments();
  }

  void receive(const SegCase& c, PayloadKey key, std::uint64_t message) {
    const std::size_t span = extent(c.size, c.recv_segments);
    std::fill_n(in_.data(), span, kRecvGap);
    const std::vector<iovec> iov = lay_out(in_.data(), c.size, c.recv_segments);
    if (c.split_phase) {
      link_.begin_recv_segments(iov);
      link_.end_recv_segments();
    } else {
      link_.recv_segments(iov);
    }
    SegmentCursor cursor(iov);
    gather(cursor, {logical_.data(), c.size});
    const std::string what =
        fmt::format("message {} ({} bytes, {} -> {} segments)", message, c.size, c.send_segments, c.recv_segments);
    if (const auto bad = first_mismatch({logical_.data(), c.size}, key))
      throw std::runtime_error(what + fmt::format(": byte {} of the message is 0x{:02x}, expected 0x{:02x}",
                                                  bad->offset, bad->actual, bad->expected));
    for (std::size_t k = 0; k + 1 < iov.size(); ++k) {
      const std::byte* gap = static_cast<std::byte*>(iov[k].iov_base) + iov[k].iov_len;
      if (std::any_of(gap, gap + kGap, [](std::byte b) { return b != kRecvGap; }))
        throw std::runtime_error(what + fmt::format(": the gap after segment {} was written", k));
    }
  }

  int rank_;
  Link& link_;
  std::vector<SegCase> cases_;
  PrivateBuffer out_, in_;
  std::vector<std::byte> logical_;
};

class SegmentsConformance : public ::testing::TestWithParam<const Mechanism*> {};

TEST_P(SegmentsConformance, EverySegmentArrivesAndNoGapIsTouched) {
  const Mechanism& m = *GetParam();
  if (!m.segments_refusal.empty()) GTEST_SKIP() << "refuses segments: " << m.segments_refusal;
  const Availability availability = m.probe();
  if (!availability.available) GTEST_SKIP() << "unavailable here: " << availability.reason;
  static const Topology topology = Topology::load_this_machine();
  const std::vector<int> pus = topology.allowed_pus();
  // seqpacket cuts records by the sender's segments: the receiver's must match (unix_seqpacket.cpp).
  const std::vector<SegCase> cases = seg_cases(m.id == "unix-seqpacket", m.default_size_cap);
  std::unique_ptr<Link> link = m.make_link(LinkConfig{std::size_t{1} << 20, WaitPolicy::spin, -1, 2048});
  RankGroup group(topology, GroupPlan{{pus.front(), pus.back()}, WaitPolicy::spin, 60.0},
                  [&](int rank) { return std::make_unique<SegmentsProgram>(rank, *link, cases); });
  try {
    group.run(Batch{0, 1}, 0);
  } catch (const RankFailure& e) {
    ADD_FAILURE() << e.what();
  }
}

std::vector<const Mechanism*> linked_mechanisms() {
  std::vector<const Mechanism*> out;
  for (const Mechanism* m : all_mechanisms())
    if (m->make_link) out.push_back(m);
  return out;
}

std::string mechanism_name(const ::testing::TestParamInfo<const Mechanism*>& info) {
  std::string name(info.param->id);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(AllMechanisms, SegmentsConformance, ::testing::ValuesIn(linked_mechanisms()), mechanism_name);

}  // namespace
}  // namespace ipcatlas
