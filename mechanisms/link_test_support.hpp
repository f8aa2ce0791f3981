// Shared by the focused mechanism tests (vmsplice_test.cpp,
// unix_seqpacket_test.cpp): one link of a mechanism between two forked
// ranks, as in a benchmark, running a test's body as the batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "harness/machine/topology.hpp"
#include "harness/ranks/launcher.hpp"
#include "harness/ranks/payload.hpp"
#include "mechanisms/mechanism.hpp"
#include "mechanisms/registry.hpp"

// Not ipcatlas::testing: inside namespace ipcatlas that name would hide GoogleTest's.
namespace ipcatlas::link_testing {

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

inline const Mechanism& mechanism(std::string_view id) {
  const Mechanism* m = find_mechanism(id);
  if (m == nullptr) throw std::runtime_error("not registered: " + std::string(id));
  return *m;
}

inline std::size_t context_bytes(const Mechanism& m, const std::string& key) {
  const auto context = m.context();
  const auto it = context.find(key);
  if (it == context.end()) throw std::runtime_error(std::string(m.id) + " context lacks " + key);
  return std::stoul(it->second);
}

// Runs body in two forked ranks over a new link of m; returns the failure, "" if none.
inline std::string run_pair(const Mechanism& m, WaitPolicy wait, std::size_t max_bytes, const RankBody& body) {
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

inline void expect_exact(std::span<const std::byte> got, PayloadKey key, std::uint64_t message, int from, int to) {
  if (const auto bad = first_mismatch(got, key))
    throw std::runtime_error(describe_mismatch(*bad, message, from, to, got.size()));
}

}  // namespace ipcatlas::link_testing
