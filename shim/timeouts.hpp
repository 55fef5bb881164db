// The timeouts of the readiness calls (poll, select, epoll_wait and their variants) as deadlines
// on cogent's clock, and back: what is left of one, in the unit the real call takes, for when
// the real call is made with the time remaining.
//
//   const TimePoint deadline = deadline_in_ms(timeout);   // poll: negative waits forever
//   ... COGENT_REAL(poll)(fds, nfds, ms_until(deadline));
#pragma once

#include <sys/time.h>
#include <time.h>

#include <algorithm>
#include <chrono>

#include "cogent/clock.hpp"

namespace cogent::shim {

/// Nanoseconds as long double: a huge tv_sec saturates in deadline_after instead of overflowing.
using WideNanos = std::chrono::duration<long double, std::nano>;

inline constexpr long kNanosPerSecond = 1'000'000'000;

/// The deadline of a millisecond timeout (poll, epoll_wait); a negative one never passes.
inline TimePoint deadline_in_ms(int timeout) noexcept {
  if (timeout < 0) return TimePoint::max();
  return deadline_after(std::chrono::milliseconds(timeout));
}

/// The kernel's timespec64_valid(): what ppoll, pselect and epoll_pwait2 accept.
inline bool valid_timespec(const timespec& t) noexcept {
  return t.tv_sec >= 0 && t.tv_nsec >= 0 && t.tv_nsec < kNanosPerSecond;
}

/// The deadline of a valid relative timespec; null never passes.
inline TimePoint deadline_in(const timespec* t) noexcept {
  if (t == nullptr) return TimePoint::max();
  return deadline_after(WideNanos(static_cast<long double>(t->tv_sec) * kNanosPerSecond +
                                  static_cast<long double>(t->tv_nsec)));
}

/// What is left until `deadline`, never negative.
inline std::chrono::nanoseconds left_until(TimePoint deadline) noexcept {
  if (deadline == TimePoint::min()) return std::chrono::nanoseconds::zero();
  return std::max(std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - Clock::now()),
                  std::chrono::nanoseconds::zero());
}

/// As a millisecond timeout, rounded up (the real call must not end before the deadline); -1 for
/// a deadline that never passes.
inline int ms_until(TimePoint deadline) noexcept {
  if (deadline == TimePoint::max()) return -1;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left_until(deadline)).count();
  return static_cast<int>(std::min<long long>(ms, 0x7fffffff));
}

inline timespec timespec_until(TimePoint deadline) noexcept {
  const long long ns = left_until(deadline).count();
  return timespec{static_cast<time_t>(ns / kNanosPerSecond),
                  static_cast<long>(ns % kNanosPerSecond)};
}

/// As select() reports the time it did not sleep: microseconds, truncated as glibc converts.
inline timeval timeval_until(TimePoint deadline) noexcept {
  const timespec t = timespec_until(deadline);
  return timeval{t.tv_sec, t.tv_nsec / 1000};
}

}  // namespace cogent::shim
