// Where a queue keeps the items nobody has taken yet, and in which order get() returns them:
// first in first out, last in first out, or smallest first. A storage policy has empty(),
// size(), push(T&&), pop() -> T and front() -> const T& (the item pop() would return). Items
// only ever move, so move-only payloads work. Not public API.
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <utility>
#include <vector>

namespace cogent::detail {

template <class T>
class FifoStorage {
 public:
  bool empty() const noexcept { return items_.empty(); }
  std::size_t size() const noexcept { return items_.size(); }
  void push(T&& item) { items_.push_back(std::move(item)); }
  T pop() {
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }
  const T& front() const { return items_.front(); }

 private:
  std::deque<T> items_;
};

template <class T>
class LifoStorage {
 public:
  bool empty() const noexcept { return items_.empty(); }
  std::size_t size() const noexcept { return items_.size(); }
  void push(T&& item) { items_.push_back(std::move(item)); }
  T pop() {
    T item = std::move(items_.back());
    items_.pop_back();
    return item;
  }
  const T& front() const { return items_.back(); }

 private:
  std::vector<T> items_;
};

/// A binary heap whose top is the smallest item under `Compare`. std::priority_queue would do,
/// but its top() is const and a move-only item could not be taken out of it.
template <class T, class Compare>
class HeapStorage {
 public:
  explicit HeapStorage(Compare less = Compare()) : after_{std::move(less)} {}

  bool empty() const noexcept { return items_.empty(); }
  std::size_t size() const noexcept { return items_.size(); }
  void push(T&& item) {
    items_.push_back(std::move(item));
    std::push_heap(items_.begin(), items_.end(), after_);
  }
  T pop() {
    std::pop_heap(items_.begin(), items_.end(), after_);
    T item = std::move(items_.back());
    items_.pop_back();
    return item;
  }
  const T& front() const { return items_.front(); }

 private:
  // The std heap algorithms keep the largest on top; ordering by "comes after" puts the smallest
  // there.
  struct After {
    Compare less;
    bool operator()(const T& a, const T& b) const { return less(b, a); }
  };

  std::vector<T> items_;
  After after_;
};

}  // namespace cogent::detail
