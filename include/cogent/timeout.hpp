// A deadline over a block of code, as gevent.Timeout: while a Timeout is in scope, any blocking
// call of the greenlet or task that created it (sleep, join, read, accept, a queue get...) is
// interrupted when the deadline passes, its operation cancelled in the backend, and
// cogent::TimeoutError raised from that call. A call that completed before the cancellation took
// effect keeps its result (nothing read is lost); the error then comes from the next blocking call.
//
//   {
//     cogent::Timeout t(2s);
//     auto n = stream.read(buf);         // TimeoutError after 2 s
//   }
//   auto v = cogent::with_timeout(100ms, [&] { return q.get(); });
//   auto v = co_await cogent::async_with_timeout(100ms, fetch());   // in a task
#pragma once

#include <chrono>
#include <utility>

#include "cogent/clock.hpp"
#include "cogent/detail/core.hpp"
#include "cogent/error.hpp"
#include "cogent/task.hpp"

namespace cogent {

class Timeout {
 public:
  /// Arms a deadline for the calling greenlet or task. A zero or negative duration expires at the
  /// first blocking call.
  template <class Rep, class Period>
  explicit Timeout(std::chrono::duration<Rep, Period> d) : Timeout(deadline_after(d)) {}
  explicit Timeout(TimePoint deadline);
  ~Timeout();
  Timeout(const Timeout&) = delete;
  Timeout& operator=(const Timeout&) = delete;

  /// Disarms it early; an expiry not raised yet is dropped.
  void cancel() noexcept;
  /// True once the deadline passed while the scope was armed.
  bool expired() const noexcept { return expired_; }
  TimePoint deadline() const noexcept { return timer_.deadline; }

 private:
  struct Timer final : detail::TimerNode {
    Timeout* owner = nullptr;
  };
  static void on_fire(detail::TimerNode* node);

  Timer timer_;
  detail::GreenletCore* core_;
  bool expired_ = false;
};

/// Runs `f()` under a Timeout of `d`: its result, or TimeoutError when a blocking call inside
/// outlived the deadline.
template <class Rep, class Period, class F>
decltype(auto) with_timeout(std::chrono::duration<Rep, Period> d, F&& f) {
  Timeout t(d);
  return std::forward<F>(f)();
}

/// Awaits `task` under a Timeout of `d`.
template <class Rep, class Period, class T>
Task<T> async_with_timeout(std::chrono::duration<Rep, Period> d, Task<T> task) {
  Timeout t(d);
  co_return co_await std::move(task);
}

}  // namespace cogent
