// A flag with a wait list, and the operation that waits for it: the core of Event, AsyncResult,
// Condition and JoinableQueue::join. Not public API.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "cogent/detail/awaitable.hpp"
#include "cogent/detail/parked.hpp"

namespace cogent::detail {

class Signal {
 public:
  Signal(const char* kind, std::string name = {}) : kind_(kind), name_(std::move(name)) {}

  bool is_set() const noexcept { return set_; }
  /// Sets the flag and wakes every waiter (they see true even if it is cleared before they run).
  void set() noexcept {
    set_ = true;
    waiters_.finish_all();
  }
  void clear() noexcept { set_ = false; }
  /// Wakes up to `n` waiters without setting the flag (a condition's notify).
  std::size_t wake(std::size_t n) noexcept { return waiters_.finish_first(n); }
  WaitList& waiters() noexcept { return waiters_; }
  std::size_t waiting() const noexcept { return waiters_.size(); }
  std::string name() const { return primitive_name(kind_, name_, this); }

 private:
  const char* kind_;
  std::string name_;
  WaitList waiters_;
  bool set_ = false;
};

/// Waits until the signal is set (or, with `ignore_flag`, until it is woken).
class SignalWait final : public ParkedOperation {
 public:
  explicit SignalWait(Signal& signal, bool ignore_flag = false) noexcept
      : signal_(signal), ignore_flag_(ignore_flag) {}
  bool ready_now() const noexcept { return !ignore_flag_ && signal_.is_set(); }
  void start() override {
    if (ready_now()) {
      finish();
      return;
    }
    park(signal_.waiters());
  }
  std::string describe() const override { return signal_.name(); }
  /// True when woken, false when the wait's own deadline passed.
  bool result(WakeReason) const noexcept { return !interrupted(); }

 private:
  Signal& signal_;
  bool ignore_flag_;
};

inline bool wait_signal(Signal& s, TimePoint deadline, const char* api) {
  if (deadline == TimePoint::min()) return s.is_set();
  return run_blocking<SignalWait>(api, deadline, s);
}

}  // namespace cogent::detail
