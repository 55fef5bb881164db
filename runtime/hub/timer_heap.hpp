// The hub's timers: a 4-ary min-heap ordered by (deadline, arming order). Each node remembers
// its index, so cancel is O(log n) without a search. Shared by both backends: the backend only
// ever waits until the earliest deadline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cogent/detail/core.hpp"

namespace cogent::detail {

class TimerHeap {
 public:
  void push(TimerNode& node, TimePoint deadline);
  void erase(TimerNode& node) noexcept;
  TimerNode* top() const noexcept { return heap_.empty() ? nullptr : heap_.front(); }
  /// Removes and returns the earliest timer if it is due at `now`.
  TimerNode* pop_due(TimePoint now) noexcept;
  std::size_t size() const noexcept { return heap_.size(); }
  bool empty() const noexcept { return heap_.empty(); }

 private:
  static constexpr std::size_t kArity = 4;
  static bool before(const TimerNode* a, const TimerNode* b) noexcept {
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
  }
  void place(std::size_t i, TimerNode* n) noexcept {
    heap_[i] = n;
    n->heap_index = i;
  }
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;
  void remove_at(std::size_t i) noexcept;

  std::vector<TimerNode*> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace cogent::detail
