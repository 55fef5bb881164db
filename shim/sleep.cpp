// The sleep family and sched_yield. Cooperative calls park the calling greenlet on the hub's
// timers (cogent::sleep_until) with libc's results: the same return values, the same errno
// (EINVAL for a bad timespec, untouched on success; clock_nanosleep returns the error number
// instead), `rem` left untouched on success as the kernel does. A signal handler interrupts a
// sleep whatever its SA_RESTART (signal(7)): EINTR, the time left in `rem` (relative sleeps) or
// in sleep()'s result. Other calls go to libc.
#include <errno.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "cogent/error.hpp"
#include "cogent/sleep.hpp"
#include "shim/cooperative.hpp"
#include "shim/interrupt.hpp"
#include "shim/real.hpp"

namespace {

using cogent::Clock;
using cogent::TimePoint;

// Nanoseconds as long double: exact for any interval the steady clock can represent (64-bit
// mantissa), and a huge tv_sec saturates in deadline_after instead of overflowing.
using WideNanos = std::chrono::duration<long double, std::nano>;

constexpr long kNanosPerSecond = 1'000'000'000;

/// The kernel's timespec64_valid().
bool valid(const timespec& t) noexcept {
  return t.tv_sec >= 0 && t.tv_nsec >= 0 && t.tv_nsec < kNanosPerSecond;
}

WideNanos to_wide(const timespec& t) noexcept {
  return WideNanos(static_cast<long double>(t.tv_sec) * kNanosPerSecond + t.tv_nsec);
}

/// Parks the calling greenlet until `until` (a yield when that has passed); false when a signal
/// handler interrupted the sleep. errno is left as the caller had it, as the real calls leave it
/// on success.
bool park_until(TimePoint until) {
  const int saved_errno = errno;
  cogent::shim::WaitEnd end;
  {
    cogent::shim::RuntimeScope scope;
    cogent::shim::InterruptibleCall call(cogent::shim::Restart::kNever);
    end = call.run([&] { cogent::sleep_until(until); });
  }
  errno = saved_errno;
  return end == cogent::shim::WaitEnd::kDone;
}

/// The time from now until `until`, as the kernel reports what is left of a sleep.
timespec left_until(TimePoint until) noexcept {
  const auto left = std::max(until - Clock::now(), cogent::Duration::zero());
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  return timespec{static_cast<time_t>(ns / kNanosPerSecond),
                  static_cast<long>(ns % kNanosPerSecond)};
}

/// A relative sleep of `d`: 0, or EINTR with what was left in `rem` (if not null).
int park_for(WideNanos d, timespec* rem) {
  const TimePoint until = cogent::deadline_after(d);
  if (park_until(until)) return 0;
  if (rem != nullptr) *rem = left_until(until);
  return EINTR;
}

/// CLOCK_MONOTONIC is the steady clock's clock (libstdc++ reads it for steady_clock).
TimePoint monotonic_point(const timespec& t) noexcept {
  const WideNanos since_epoch = to_wide(t);
  const WideNanos latest = TimePoint::max().time_since_epoch();
  if (since_epoch >= latest) return TimePoint::max();
  return TimePoint(std::chrono::ceil<cogent::Duration>(since_epoch));
}

/// The absolute CLOCK_REALTIME `t` as a steady deadline: the wall clock is read once, so a wall
/// clock step during the sleep is not followed.
TimePoint realtime_point(const timespec& t) noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return cogent::deadline_after(to_wide(t) - to_wide(now));
}

}  // namespace

extern "C" {

int nanosleep(const timespec* req, timespec* rem) {
  if (!cogent::shim::cooperative()) return COGENT_REAL(nanosleep)(req, rem);
  if (req == nullptr) {
    errno = EFAULT;
    return -1;
  }
  if (!valid(*req)) {
    errno = EINVAL;
    return -1;
  }
  if (int rc = park_for(to_wide(*req), rem); rc != 0) {
    errno = rc;
    return -1;
  }
  return 0;
}

int clock_nanosleep(clockid_t clock, int flags, const timespec* req, timespec* rem) {
  // Other clocks (CPU time, BOOTTIME, TAI, invalid ids) keep libc's behaviour and errors.
  if ((clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) || !cogent::shim::cooperative()) {
    return COGENT_REAL(clock_nanosleep)(clock, flags, req, rem);
  }
  if (req == nullptr) return EFAULT;
  if (!valid(*req)) return EINVAL;
  if ((flags & TIMER_ABSTIME) == 0) return park_for(to_wide(*req), rem);
  const TimePoint until = clock == CLOCK_MONOTONIC ? monotonic_point(*req) : realtime_point(*req);
  return park_until(until) ? 0 : EINTR;
}

unsigned int sleep(unsigned int seconds) {
  if (!cogent::shim::cooperative()) return COGENT_REAL(sleep)(seconds);
  timespec left{};
  if (park_for(std::chrono::seconds(seconds), &left) == 0) return 0;
  // glibc's sleep() reports the whole seconds left of nanosleep's `rem`, with its EINTR.
  errno = EINTR;
  return static_cast<unsigned int>(left.tv_sec);
}

// glibc accepts usec >= 1,000,000 (POSIX allows EINVAL there); so does this.
int usleep(useconds_t usec) {
  if (!cogent::shim::cooperative()) return COGENT_REAL(usleep)(usec);
  if (int rc = park_for(std::chrono::microseconds(usec), nullptr); rc != 0) {
    errno = rc;
    return -1;
  }
  return 0;
}

// Runs the other runnable greenlets and the timers that are due, then comes back. glibc declares
// it noexcept, so a kill that lands during the yield is handed on to the next blocking call.
int sched_yield() noexcept {
  if (!cogent::shim::cooperative()) return COGENT_REAL(sched_yield)();
  const int saved_errno = errno;
  try {
    cogent::shim::RuntimeScope scope;
    cogent::sleep_until(TimePoint::min());
  } catch (const cogent::GreenletExit&) {
    cogent::detail::current_core()->request_kill();
  }
  errno = saved_errno;
  return 0;
}

}  // extern "C"
