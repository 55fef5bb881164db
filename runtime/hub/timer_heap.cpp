#include "hub/timer_heap.hpp"

namespace cogent::detail {

void TimerHeap::push(TimerNode& node, TimePoint deadline) {
  if (node.armed()) erase(node);
  node.deadline = deadline;
  node.seq = next_seq_++;
  heap_.push_back(&node);
  node.heap_index = heap_.size() - 1;
  sift_up(node.heap_index);
}

void TimerHeap::erase(TimerNode& node) noexcept {
  if (!node.armed()) return;
  remove_at(node.heap_index);
}

TimerNode* TimerHeap::pop_due(TimePoint now) noexcept {
  if (heap_.empty() || heap_.front()->deadline > now) return nullptr;
  TimerNode* n = heap_.front();
  remove_at(0);
  return n;
}

void TimerHeap::remove_at(std::size_t i) noexcept {
  TimerNode* gone = heap_[i];
  TimerNode* last = heap_.back();
  heap_.pop_back();
  gone->heap_index = TimerNode::kDisarmed;
  if (i == heap_.size()) return;
  place(i, last);
  if (i > 0 && before(last, heap_[(i - 1) / kArity])) {
    sift_up(i);
  } else {
    sift_down(i);
  }
}

void TimerHeap::sift_up(std::size_t i) noexcept {
  TimerNode* n = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / kArity;
    if (!before(n, heap_[parent])) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, n);
}

void TimerHeap::sift_down(std::size_t i) noexcept {
  TimerNode* n = heap_[i];
  const std::size_t size = heap_.size();
  for (;;) {
    const std::size_t first = i * kArity + 1;
    if (first >= size) break;
    std::size_t best = first;
    const std::size_t end = first + kArity < size ? first + kArity : size;
    for (std::size_t c = first + 1; c < end; ++c) {
      if (before(heap_[c], heap_[best])) best = c;
    }
    if (!before(heap_[best], n)) break;
    place(i, heap_[best]);
    i = best;
  }
  place(i, n);
}

}  // namespace cogent::detail
