// What every coordination primitive (lock, event, queue, pool) is built on: a FIFO list of the
// operations parked on it, and the parked operation itself. A primitive serves its waiters by
// handing them what they wait for (the lock, an item, the signal) in arrival order, then
// finish()ing them; a cancelled waiter (kill, Timeout, deadline) unlinks itself. Not public API.
#pragma once

#include <cstddef>
#include <string>

#include "cogent/detail/core.hpp"

namespace cogent::detail {

class WaitList;

/// An operation waiting in a primitive's WaitList until the primitive serves it.
class ParkedOperation : public Operation {
 public:
  void cancel() noexcept override;
  bool parked() const noexcept { return list_ != nullptr; }
  /// The primitive served it (after unlinking it): wakes the waiter.
  void serve() noexcept { finish(); }

 protected:
  ~ParkedOperation() {
    if (list_ != nullptr) unlink();
  }
  /// Called from start() when the operation cannot complete at once.
  void park(WaitList& list) noexcept;

 private:
  friend class WaitList;
  void unlink() noexcept;
  ParkedOperation* prev_ = nullptr;
  ParkedOperation* next_ = nullptr;
  WaitList* list_ = nullptr;
};

/// Intrusive FIFO of parked operations.
class WaitList {
 public:
  WaitList() = default;
  WaitList(const WaitList&) = delete;
  WaitList& operator=(const WaitList&) = delete;
  ~WaitList();

  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept { return size_; }
  ParkedOperation* front() const noexcept { return head_; }
  static ParkedOperation* next(const ParkedOperation* op) noexcept { return op->next_; }

  void push_back(ParkedOperation& op) noexcept;
  void erase(ParkedOperation& op) noexcept;
  /// Unlinks the first waiter and returns it (null when empty); the caller serves and finishes it.
  ParkedOperation* pop_front() noexcept;
  /// Finishes every waiter, in arrival order.
  void finish_all() noexcept;
  /// Finishes the first `n` waiters; returns how many there were.
  std::size_t finish_first(std::size_t n) noexcept;

 private:
  ParkedOperation* head_ = nullptr;
  ParkedOperation* tail_ = nullptr;
  std::size_t size_ = 0;
};

/// "Lock 0x55d0c1a0" or "Lock A": how a primitive is named in LoopExit reports.
std::string primitive_name(const char* kind, const std::string& name, const void* address);

}  // namespace cogent::detail
