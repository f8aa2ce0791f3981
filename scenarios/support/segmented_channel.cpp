// PeerChannel's scatter/gather forms (--segments N > 1): the same sequence
// numbers, seeds and checks as the contiguous ones in channel.cpp, with the
// payload laid out per segment (message_layout.hpp) and moved by the link's
// *_segments calls. Apart so that the contiguous path stays as short as it was.
#include <stdexcept>

#include "scenarios/support/channel.hpp"

namespace ipcatlas {

namespace {
// Where the message lies in one buffer of a pool: from its first segment to its last.
std::span<std::byte> region(std::span<std::byte> buffer, std::size_t offset, const MessageLayout& layout) {
  return buffer.subspan(offset, layout.extent());
}
}  // namespace

// Every buffer of both pools gets its iovecs once, and its gaps their filler.
void PeerChannel::lay_out_segments() {
  for (std::size_t i = 0; i < out_.count(); ++i) {
    out_segments_.push_back(layout_.iovecs(region(out_.at(i), offset_, layout_)));
    in_segments_.push_back(layout_.iovecs(region(in_.at(i), offset_, layout_)));
    layout_.fill_gaps(region(out_.at(i), offset_, layout_), MessageLayout::kSendGapFiller);
    layout_.fill_gaps(region(in_.at(i), offset_, layout_), MessageLayout::kReceiveGapFiller);
  }
}

void PeerChannel::begin_segmented_batch() {
  next_out_segments_ = layout_.make_stamps({seed_out_, sent_});
  // As for contiguous messages: hash the bodies once, copy them (gaps included) to the rest of the pool.
  layout_.fill_bodies(region(out_.at(0), offset_, layout_), seed_out_);
  out_.copy_body_to_all(offset_, layout_.extent());
}

// The blocking forms call the link's blocking calls, as channel.cpp does: one
// virtual call per message, not a begin and an end.
void PeerChannel::send_segmented() {
  layout_.write_stamps(region(out_.current(), offset_, layout_), next_out_segments_);
  ++sent_;
  link_.send_segments(out_segments_[out_.position()]);
  out_.advance();
  next_out_segments_ = layout_.make_stamps({seed_out_, sent_});
}

void PeerChannel::recv_segmented(Check check) {
  expected_in_segments_ = layout_.make_stamps({seed_in_, received_});
  link_.recv_segments(in_segments_[in_.position()]);
  verify_segmented(check);
  in_.advance();
}

void PeerChannel::begin_send_segmented() {
  layout_.write_stamps(region(out_.current(), offset_, layout_), next_out_segments_);
  ++sent_;
  link_.begin_send_segments(out_segments_[out_.position()]);
}

void PeerChannel::end_send_segmented() {
  link_.end_send_segments();
  out_.advance();
  next_out_segments_ = layout_.make_stamps({seed_out_, sent_});
}

void PeerChannel::begin_recv_segmented() {
  expected_in_segments_ = layout_.make_stamps({seed_in_, received_});
  link_.begin_recv_segments(in_segments_[in_.position()]);
}

void PeerChannel::end_recv_segmented(Check check) {
  link_.end_recv_segments();
  verify_segmented(check);
  in_.advance();
}

void PeerChannel::verify_segmented(Check check) {
  const PayloadKey key{seed_in_, received_++};
  const std::span<const std::byte> got = region(in_.current(), offset_, layout_);
  if (check == Check::stamp && layout_.stamps_match(got, expected_in_segments_)) return;
  if (const auto bad = layout_.first_mismatch(got, key, MessageLayout::kReceiveGapFiller))
    throw std::runtime_error(describe_mismatch(bad->byte, key.seq, peer_, me_, layout_.size()) + " (in " + bad->where +
                             ")");
}

}  // namespace ipcatlas
