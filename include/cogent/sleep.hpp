// Sleeping without blocking the thread: the greenlet or task is parked on the hub's timer heap
// while others run. sleep(0s) (or any non-positive duration) just yields to the other runnable
// greenlets, as gevent.sleep(0) does.
//
//   cogent::sleep(10ms);                    // in a greenlet (main() included)
//   co_await cogent::async_sleep(10ms);     // in a cogent::Task
#pragma once

#include <chrono>
#include <string>

#include "cogent/clock.hpp"
#include "cogent/detail/awaitable.hpp"
#include "cogent/detail/core.hpp"

namespace cogent {
namespace detail {

class SleepOperation final : public Operation {
 public:
  explicit SleepOperation(TimePoint until) noexcept : until_(until) {}
  void start() override;
  void cancel() noexcept override;
  std::string describe() const override;
  void result(WakeReason) const noexcept {}

 private:
  struct Timer final : TimerNode {
    SleepOperation* op = nullptr;
  };
  static void on_timer(TimerNode* node);
  TimePoint until_;
  Timer timer_;
};

}  // namespace detail

/// Suspends the calling greenlet until `until`; yields when that is already past.
inline void sleep_until(TimePoint until) {
  detail::run_blocking<detail::SleepOperation>("sleep", TimePoint::max(), until);
}

/// Suspends the calling greenlet for `d`; a zero or negative `d` yields to other greenlets.
template <class Rep, class Period>
void sleep(std::chrono::duration<Rep, Period> d) {
  sleep_until(deadline_after(d));
}

inline auto async_sleep_until(TimePoint until) {
  return detail::OperationAwaiter<detail::SleepOperation>(TimePoint::max(), until);
}

/// Awaitable sleep for tasks: `co_await cogent::async_sleep(5ms)`.
template <class Rep, class Period>
auto async_sleep(std::chrono::duration<Rep, Period> d) {
  return async_sleep_until(deadline_after(d));
}

}  // namespace cogent
