// The steps of ci/small-message-probe: each is one way of doing a small
// ping-pong between the probe's two processes, from the bare cache-line
// bounce up to ipcatlas's own pingpong round trip. Each step adds one
// element of the protocol to the one before it, so the difference between
// two neighbours is what that element costs.
#pragma once

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

// Every step, in ladder order; the first is the bare bounce.
const std::vector<StepInfo>& all_steps();

}  // namespace ipcatlas::probe
