// epoll_wait, epoll_pwait and epoll_pwait2 for greenlets. The program's epoll instance is itself
// a descriptor that polls readable while it has events to report, so a cooperative call with a
// timeout other than zero waits for that (ReadinessWait, readiness.hpp) while the other
// greenlets run, then takes the events with the real call and a zero timeout: the events, their
// order, the count and the errors (EINVAL for maxevents <= 0, a bad timespec or a descriptor
// that is not an epoll instance, EBADF) are the kernel's, and so are edge-triggered and one-shot
// semantics, since only the real call consumes events.
//
// The signal mask of epoll_pwait and epoll_pwait2 is handled as ppoll's (poll.cpp): not applied
// to the cooperative wait, which also ends when a signal the mask lets in is pending; the real
// calls are made with it, so that signal is delivered and the call fails with EINTR as natively.
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <time.h>

#include "shim/cooperative.hpp"
#include "shim/readiness.hpp"
#include "shim/real.hpp"
#include "shim/timeouts.hpp"

namespace cogent::shim {
namespace {

// `real(deadline)` is the real call with the time left until `deadline` (TimePoint::min(): a
// zero timeout).
template <class Real>
int epoll_until(int epfd, TimePoint deadline, const sigset_t* mask, const char* api, Real real) {
  const auto call = [&](TimePoint d) {
    return mask == nullptr ? real(d) : with_own_signals([&] { return real(d); });
  };
  const auto try_now = [&] { return call(TimePoint::min()); };
  if (const int n = try_now(); n != 0) return n;
  ReadinessWait wait;
  wait.watch(epfd, POLLIN, POLLIN | POLLERR | POLLHUP | POLLNVAL);
  if (mask != nullptr) wait.watch_signals_let_in_by(*mask);
  return wait.retry_until(deadline, api, try_now, call);
}

}  // namespace
}  // namespace cogent::shim

extern "C" {

int epoll_wait(int epfd, epoll_event* events, int maxevents, int timeout) {
  if (timeout == 0 || !cogent::shim::cooperative()) {
    return COGENT_REAL(epoll_wait)(epfd, events, maxevents, timeout);
  }
  return cogent::shim::epoll_until(
      epfd, cogent::shim::deadline_in_ms(timeout), nullptr, "epoll_wait", [&](cogent::TimePoint d) {
        return COGENT_REAL(epoll_wait)(epfd, events, maxevents, cogent::shim::ms_until(d));
      });
}

int epoll_pwait(int epfd, epoll_event* events, int maxevents, int timeout, const sigset_t* mask) {
  if (timeout == 0 || !cogent::shim::cooperative()) {
    return COGENT_REAL(epoll_pwait)(epfd, events, maxevents, timeout, mask);
  }
  return cogent::shim::epoll_until(
      epfd, cogent::shim::deadline_in_ms(timeout), mask, "epoll_pwait", [&](cogent::TimePoint d) {
        return COGENT_REAL(epoll_pwait)(epfd, events, maxevents, cogent::shim::ms_until(d), mask);
      });
}

int epoll_pwait2(int epfd, epoll_event* events, int maxevents, const timespec* timeout,
                 const sigset_t* mask) {
  // A bad timespec (EINVAL at once) and a zero one (no wait) go straight to the real call.
  if (!cogent::shim::cooperative() ||
      (timeout != nullptr && (!cogent::shim::valid_timespec(*timeout) ||
                              (timeout->tv_sec == 0 && timeout->tv_nsec == 0)))) {
    return COGENT_REAL(epoll_pwait2)(epfd, events, maxevents, timeout, mask);
  }
  return cogent::shim::epoll_until(
      epfd, cogent::shim::deadline_in(timeout), mask, "epoll_pwait2", [&](cogent::TimePoint d) {
        const timespec left = cogent::shim::timespec_until(d);
        return COGENT_REAL(epoll_pwait2)(epfd, events, maxevents,
                                         d == cogent::TimePoint::max() ? nullptr : &left, mask);
      });
}

}  // extern "C"
