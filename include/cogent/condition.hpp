// A condition variable for greenlets, as threading.Condition / std::condition_variable_any: wait
// releases the lock it is given, sleeps until notified, and takes the lock back before returning,
// even when the wait ends by kill, Timeout or its deadline. Works with any lock cogent provides
// (and std::unique_lock of one). Notified waiters are woken in the order they began waiting.
//
//   cogent::Lock m;  cogent::Condition cv;  std::deque<int> items;
//   std::unique_lock g(m);
//   cv.wait(g, [&] { return !items.empty(); });
//   ... elsewhere: { std::lock_guard g(m); items.push_back(1); } cv.notify();
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <limits>
#include <string>
#include <utility>

#include "cogent/clock.hpp"
#include "cogent/detail/signal.hpp"
#include "cogent/error.hpp"
#include "cogent/task.hpp"

namespace cogent {

class Condition {
 public:
  explicit Condition(std::string name = {}) : signal_("Condition", std::move(name)) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  /// Releases `lock`, waits for a notify, re-acquires `lock`.
  template <class L>
  void wait(L& lock) {
    wait_until(lock, TimePoint::max());
  }
  /// As wait(lock), giving up after `timeout`: false when it timed out.
  template <class L, class Rep, class Period>
  bool wait(L& lock, std::chrono::duration<Rep, Period> timeout) {
    return wait_until(lock, deadline_after(timeout));
  }
  template <class L>
  bool wait_until(L& lock, TimePoint deadline) {
    lock.unlock();
    bool notified = false;
    std::exception_ptr error;
    try {
      notified = detail::run_blocking<detail::SignalWait>("wait", deadline, signal_, true);
    } catch (...) {
      error = std::current_exception();
    }
    relock(lock);
    if (error) std::rethrow_exception(error);
    return notified;
  }
  /// Waits until `done()` holds (checked under the lock, before any wait).
  template <class L, class Pred>
  void wait(L& lock, Pred done) {
    while (!done()) wait(lock);
  }
  /// As wait(lock, done) giving up at the deadline: returns done() then.
  template <class L, class Rep, class Period, class Pred>
  bool wait(L& lock, std::chrono::duration<Rep, Period> timeout, Pred done) {
    const TimePoint deadline = deadline_after(timeout);
    while (!done()) {
      if (!wait_until(lock, deadline)) return done();
    }
    return true;
  }

  /// In a task: `co_await cv.async_wait(lock)` (the lock must offer async_acquire()).
  template <class L>
  Task<bool> async_wait(L& lock, TimePoint deadline = TimePoint::max()) {
    lock.unlock();
    bool notified = false;
    std::exception_ptr error;
    try {
      notified = co_await detail::OperationAwaiter<detail::SignalWait>(deadline, signal_, true);
    } catch (...) {
      error = std::current_exception();
    }
    co_await lock.async_acquire();
    if (error) std::rethrow_exception(error);
    co_return notified;
  }

  /// Wakes the `n` longest waiters.
  void notify(std::size_t n = 1) noexcept { signal_.wake(n); }
  void notify_one() noexcept { signal_.wake(1); }
  void notify_all() noexcept { signal_.wake(std::numeric_limits<std::size_t>::max()); }
  std::size_t waiting() const noexcept { return signal_.waiting(); }

 private:
  // The caller expects to hold the lock again whatever ended the wait: a kill or Timeout that
  // arrives while re-acquiring is raised after the lock is back.
  template <class L>
  static void relock(L& lock) {
    std::exception_ptr deferred;
    for (;;) {
      try {
        lock.lock();
        break;
      } catch (const GreenletExit&) {
        deferred = std::current_exception();
      } catch (const TimeoutError&) {
        deferred = std::current_exception();
      }
    }
    if (deferred) std::rethrow_exception(deferred);
  }

  detail::Signal signal_;
};

}  // namespace cogent
