// One conformance suite, instantiated for every registered mechanism: every
// size from 0 to 16 MiB (odd ones and the edges of every internal boundary),
// unaligned buffers on either side, both directions, and buffer reuse with a
// different body every message so that stale bytes cannot pass. Under spin
// and block for every mechanism; under eventfd for those that honour it, with
// a short list of sizes (eventfd_cases()); and cold, with the same short
// list, each side moving to another buffer at every message (--cache cold).
// Links that lend memory (zerocopy) get every other message through
// send_stamped(). Scatter/gather has its own suite (segments_conformance_test.cpp).
//
// The two ends run in two forked ranks, exactly as in a benchmark.
#include <gtest/gtest.h>

#include <algorithm>

#include <fmt/format.h>

#include "harness/ranks/launcher.hpp"
#include "harness/ranks/payload.hpp"
#include "harness/machine/shared_memory.hpp"
#include "mechanisms/registry.hpp"

namespace ipcatlas {
namespace {

constexpr std::size_t kMaxSize = std::size_t{16} << 20;

// Sizes around every boundary a mechanism might have: the 8-byte stamp, the
// 20-byte mailbox slot, cache lines, pages, shm cells (32 KiB), pipe and
// socket buffers, and the maximum.
const std::vector<std::size_t>& sizes() {
  static const std::vector<std::size_t> s = {0,
                                             1,
                                             2,
                                             3,
                                             7,
                                             8,
                                             9,
                                             15,
                                             16,
                                             17,
                                             19,
                                             20,
                                             21,
                                             24,
                                             63,
                                             64,
                                             65,
                                             127,
                                             4095,
                                             4096,
                                             4097,
                                             32767,
                                             32768,
                                             32769,
                                             65535,
                                             65537,
                                             212993,
                                             262145,
                                             1048575,
                                             (1u << 20) + 3,
                                             kMaxSize - 1,
                                             kMaxSize};
  return s;
}

struct Offsets {
  std::size_t send, recv;
};
const Offsets kOffsets[] = {{0, 0}, {1, 3}, {63, 7}, {4093, 1}};

struct Case {
  std::size_t size;
  Offsets offsets;
};

// The eventfd variants run this short list, to keep CI time small: the
// boundaries of the mailbox slot, of shm's direct buffer and its ring
// (fragments through cells), one offset pair, and back down once. The
// waiting is what they test; the full list already covers the copies.
std::vector<Case> eventfd_cases(std::size_t cap) {
  std::vector<Case> all;
  for (std::size_t size : {0, 1, 20, 21, 4096, 4097, 65537, (1 << 20) + 3})
    if (cap == 0 || size <= cap) all.push_back({size, kOffsets[1]});
  const std::vector<Case> up = all;
  all.insert(all.end(), up.rbegin(), up.rend());
  return all;
}

// Every size and offset pair, then large to small again, so that a mechanism
// that leaves bytes of an earlier message behind is caught. A mechanism with
// a size cap (ptrace: 8 bytes per system call) gets the full list up to its
// cap, and above it the two largest kinds of size once, unaligned.
std::vector<Case> cases(std::size_t cap, bool include_large) {
  std::vector<Case> all;
  for (const Offsets& o : kOffsets)
    for (std::size_t size : sizes())
      if (cap == 0 || size <= cap) all.push_back({size, o});
  std::vector<Case> descending = all;
  std::reverse(descending.begin(), descending.end());
  all.insert(all.end(), descending.begin(),
             descending.begin() + std::min<std::ptrdiff_t>(sizes().size(), descending.size()));
  if (cap != 0 && include_large)
    for (std::size_t size : {(std::size_t{1} << 20) + 3, kMaxSize}) all.push_back({size, kOffsets[1]});
  return all;
}

// Both ranks walk the same list of cases; for each, rank 0 sends to rank 1,
// then rank 1 sends to rank 0, each message with its own body and stamp.
class ConformanceProgram final : public RankProgram {
 public:
  // batch_cases[i]: the cases of batch i.
  // With `buffers` > 1 (the cold-cache variant), each side sends from and
  // receives into the next of that many buffers at every message, as a
  // --cache cold run does: a mechanism must not rely on seeing one address.
  ConformanceProgram(int rank, Link& link, std::vector<std::vector<Case>> batch_cases, std::size_t buffers = 1)
      : rank_(rank), link_(link), batch_cases_(std::move(batch_cases)), buffers_(buffers) {}

  void setup(RankEnv& env) override {
    link_.open(rank_ == 0 ? Side::a : Side::b, env.pid_of(1 - rank_));
    out_ = PrivateBuffer(buffers_ * kSlotBytes);
    in_ = PrivateBuffer(buffers_ * kSlotBytes);
  }

  void run_batch(RankEnv&, const Batch& batch) override {
    std::uint64_t message = 0;
    for (const Case& c : batch_cases_.at(batch.index)) {
      for (int sender = 0; sender < 2; ++sender, ++message) {
        const PayloadKey key{payload_seed(42, message, sender), message};
        if (rank_ == sender) send(c, key);
        else receive(c, key, message, sender);
      }
    }
  }

 private:
  // A link that lends memory gets every other message through
  // send_stamped(), which writes the stamp itself: the caller lays down
  // only the body.
  void send(const Case& c, PayloadKey key) {
    std::span<std::byte> memory = link_.message_memory(c.size + c.offsets.send);
    const bool lent = !memory.empty();
    const std::size_t n = sent_++;
    if (!lent) memory = {out_.data() + kSlotBytes * (n % buffers_), kSlotBytes};
    const std::span<std::byte> msg = memory.subspan(c.offsets.send, c.size);
    if (lent && n % 2 == 1) {
      fill_body(msg, key.seed);
      link_.send_stamped(c.offsets.send, c.size, make_stamp(c.size, key));
      return;
    }
    fill_message(msg, key);
    link_.send(msg);
  }

  void receive(const Case& c, PayloadKey key, std::uint64_t message, int sender) {
    const std::span<std::byte> into(in_.data() + kSlotBytes * (received_++ % buffers_) + c.offsets.recv, c.size);
    std::fill(into.begin(), into.end(), std::byte{0xee});  // stale bytes from an earlier message must not survive
    const std::span<const std::byte> got = link_.recv(into);
    if (got.size() != c.size)
      throw std::runtime_error(
          fmt::format("message {}: recv returned {} bytes, expected {}", message, got.size(), c.size));
    if (const auto bad = first_mismatch(got, key))
      throw std::runtime_error(describe_mismatch(*bad, message, sender, rank_, c.size) +
                               fmt::format(" (offsets: send {}, recv {})", c.offsets.send, c.offsets.recv));
  }

  int rank_;
  Link& link_;
  static constexpr std::size_t kSlotBytes = kMaxSize + 4096;
  std::vector<std::vector<Case>> batch_cases_;
  std::size_t buffers_;
  PrivateBuffer out_, in_;
  std::size_t sent_ = 0, received_ = 0;
};

struct Param {
  const Mechanism* mechanism;
  WaitPolicy wait;
  bool cold = false;  // rotate through kColdBuffers buffers at each end (short list of sizes)
};
constexpr std::size_t kColdBuffers = 3;

class MechanismConformance : public ::testing::TestWithParam<Param> {};

TEST_P(MechanismConformance, EveryByteArrivesForEverySizeAndAlignment) {
  const Param p = GetParam();
  const Availability availability = p.mechanism->probe();
  if (!availability.available) GTEST_SKIP() << "unavailable here: " << availability.reason;

  static const Topology topology = Topology::load_this_machine();
  const std::vector<int> pus = topology.allowed_pus();
  std::unique_ptr<Link> link = p.mechanism->make_link(LinkConfig{kMaxSize, p.wait});
  // The second batch runs the same link and buffers again: reuse.
  const std::size_t cap = p.mechanism->default_size_cap;
  const std::vector<std::vector<Case>> batches =
      p.wait == WaitPolicy::eventfd || p.cold
          ? std::vector<std::vector<Case>>{eventfd_cases(cap), eventfd_cases(cap)}
          : std::vector<std::vector<Case>>{cases(cap, p.wait == WaitPolicy::spin), cases(cap, false)};
  RankGroup group(topology, GroupPlan{{pus.front(), pus.back()}, p.wait, 60.0}, [&](int rank) {
    return std::make_unique<ConformanceProgram>(rank, *link, batches, p.cold ? kColdBuffers : 1);
  });
  EXPECT_NO_THROW({
    try {
      group.run(Batch{0, 1}, 0);
      group.run(Batch{1, 1}, 0);
    } catch (const RankFailure& e) {
      ADD_FAILURE() << e.what();
    }
  });
}

std::vector<Param> every_mechanism() {
  std::vector<Param> params;
  for (const Mechanism* m : all_mechanisms())
    for (WaitPolicy w : {WaitPolicy::spin, WaitPolicy::block, WaitPolicy::eventfd})
      if (w != WaitPolicy::eventfd || (m->make_link && m->wait_policies.honours(w))) params.push_back({m, w});
  // Cold caches: every mechanism with a buffer to rotate (zerocopy builds in the link's memory).
  for (const Mechanism* m : all_mechanisms())
    if (m->make_link && m->moves != Moves::none) params.push_back({m, WaitPolicy::block, true});
  return params;
}

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  std::string name = std::string(info.param.mechanism->id) + "_" + std::string(to_string(info.param.wait)) +
                     (info.param.cold ? "_cold" : "");
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(AllMechanisms, MechanismConformance, ::testing::ValuesIn(every_mechanism()), param_name);

TEST(MechanismRegistry, IdsAreUniqueAndDescribed) {
  std::vector<std::string_view> ids;
  for (const Mechanism* m : all_mechanisms()) {
    EXPECT_FALSE(m->summary.empty()) << m->id;
    EXPECT_GE(m->copies, 0) << m->id;
    EXPECT_NE(m->probe, nullptr) << m->id;
    // The traits agree with each other.
    EXPECT_FALSE(m->api.empty()) << m->id;
    const int copies_by_moves = m->moves == Moves::none ? 0 : m->moves == Moves::both ? 2 : 1;
    EXPECT_EQ(m->copies, copies_by_moves) << m->id << " moves " << to_string(m->moves);
    EXPECT_TRUE(!m->single_copy || m->copies == 1) << m->id;
    EXPECT_TRUE(!m->one_tracer_per_tracee || m->moves == Moves::pull || m->moves == Moves::push) << m->id;
    EXPECT_TRUE(m->wait_policies.honours(WaitPolicy::block)) << m->id << ": every mechanism can wait blocking";
    // Listed-only entries (knem, xpmem) have no link and must never claim to be available.
    if (!m->make_link) {
      EXPECT_FALSE(m->probe().available) << m->id;
    }
    EXPECT_EQ(find_mechanism(m->id), m);
    ids.push_back(m->id);
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
  EXPECT_EQ(find_mechanism("no-such-mechanism"), nullptr);
}

}  // namespace
}  // namespace ipcatlas
