// The steps of ci/small-message-probe: each is one way of doing a small
// (8-byte) ping-pong between the probe's two processes, from the bare
// cache-line bounce up to ipcatlas's own pingpong round trip. Each step adds
// one element to its base step, so the difference between the two is what
// that element costs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace ipcatlas::probe {

// One way of doing round trips, in both processes. Constructed in the parent
// before fork (so that its shared memory is inherited); open() runs in each
// process after fork; round_trips() runs `n` round trips in lockstep with
// the other process (side 0 sends first).
class Step {
 public:
  virtual ~Step() = default;
  virtual void open(int side) = 0;
  virtual void round_trips(std::uint64_t n) = 0;
};

struct StepInfo {
  std::string_view name;
  std::string_view base;  // the step this one adds to ("" for the bounce)
  std::string_view adds;  // what it adds
  std::unique_ptr<Step> (*make)();
};

// Every step, in ladder order; the first is the bare bounce (mailbox_steps.cpp).
const std::vector<StepInfo>& all_steps();

// The steps through a registered mechanism's Link (link_steps.cpp): the Link
// alone, with the stamps the channel would write and check; ipcatlas's
// channel around it; the channel with rank 1's per-message clock.
// `stamped`: a link that lends memory gets its messages with send_stamped().
std::unique_ptr<Step> make_link_step(std::string_view mechanism, bool stamped = false);
std::unique_ptr<Step> make_channel_step(std::string_view mechanism, bool clock);

inline constexpr std::size_t kProbeBytes = 8;

}  // namespace ipcatlas::probe
