// poll and ppoll (and their _FORTIFY_SOURCE entry points) for greenlets. A cooperative call with
// a timeout other than zero waits in a ReadinessWait (readiness.hpp) while the other greenlets
// run; the answer is always the real call's with a zero timeout, so revents, POLLNVAL for a
// closed descriptor, the count and the errors (EINVAL for nfds over RLIMIT_NOFILE or a bad
// timespec, EFAULT) are the kernel's. A negative fd is ignored, as by the kernel.
//
// ppoll's signal mask: natively it is in force, atomically, only while the call waits. Under the
// shim the other greenlets run on the same OS thread meanwhile, so the mask is not installed for
// the cooperative wait (it would hold for all of them). Instead the wait also ends when a signal
// the mask lets in (one the thread blocks) is pending, and every real call is made with the mask,
// so the kernel delivers that signal inside it and ppoll fails with EINTR as natively. A signal
// the mask would hold back but the thread does not block is not held back: its handler runs
// during the wait and interrupts it (EINTR).
#include <poll.h>
#include <signal.h>
#include <time.h>

#include <cstddef>
#include <cstdint>

#include "shim/cooperative.hpp"
#include "shim/readiness.hpp"
#include "shim/real.hpp"
#include "shim/timeouts.hpp"

extern "C" {
// Declared by <bits/poll2.h> only under _FORTIFY_SOURCE.
int __poll_chk(pollfd* fds, nfds_t nfds, int timeout, std::size_t fdslen);
int __ppoll_chk(pollfd* fds, nfds_t nfds, const timespec* timeout, const sigset_t* mask,
                std::size_t fdslen);
}

namespace cogent::shim {
namespace {

int poll_until(pollfd* fds, nfds_t nfds, TimePoint deadline, const sigset_t* mask,
               const char* api) {
  constexpr timespec kZero{0, 0};
  const auto try_now = [&] {
    if (mask == nullptr) return COGENT_REAL(poll)(fds, nfds, 0);
    return with_own_signals([&] { return COGENT_REAL(ppoll)(fds, nfds, &kZero, mask); });
  };
  if (const int n = try_now(); n != 0) return n;
  ReadinessWait wait;
  for (nfds_t i = 0; i < nfds; ++i) {
    if (fds[i].fd < 0) continue;
    const std::uint32_t events = static_cast<std::uint16_t>(fds[i].events);
    wait.watch(fds[i].fd, events, events | POLLERR | POLLHUP | POLLNVAL);
  }
  if (mask != nullptr) wait.watch_signals_let_in_by(*mask);
  return wait.retry_until(deadline, api, try_now, [&](TimePoint d) {
    if (mask == nullptr) return COGENT_REAL(poll)(fds, nfds, ms_until(d));
    const timespec left = timespec_until(d);
    return with_own_signals([&] {
      return COGENT_REAL(ppoll)(fds, nfds, d == TimePoint::max() ? nullptr : &left, mask);
    });
  });
}

}  // namespace
}  // namespace cogent::shim

extern "C" {

int poll(pollfd* fds, nfds_t nfds, int timeout) {
  if (timeout == 0 || !cogent::shim::cooperative()) return COGENT_REAL(poll)(fds, nfds, timeout);
  return cogent::shim::poll_until(fds, nfds, cogent::shim::deadline_in_ms(timeout), nullptr,
                                  "poll");
}

int ppoll(pollfd* fds, nfds_t nfds, const timespec* timeout, const sigset_t* mask) {
  // A bad timespec (EINVAL at once) and a zero one (no wait) go straight to the real call.
  if (!cogent::shim::cooperative() ||
      (timeout != nullptr && (!cogent::shim::valid_timespec(*timeout) ||
                              (timeout->tv_sec == 0 && timeout->tv_nsec == 0)))) {
    return COGENT_REAL(ppoll)(fds, nfds, timeout, mask);
  }
  return cogent::shim::poll_until(fds, nfds, cogent::shim::deadline_in(timeout), mask, "ppoll");
}

// The fortified entry points check the array's size as glibc does; glibc's own then reports an
// overflow and aborts.
int __poll_chk(pollfd* fds, nfds_t nfds, int timeout, std::size_t fdslen) {
  if (fdslen / sizeof(*fds) < nfds) return COGENT_REAL(__poll_chk)(fds, nfds, timeout, fdslen);
  return poll(fds, nfds, timeout);
}

int __ppoll_chk(pollfd* fds, nfds_t nfds, const timespec* timeout, const sigset_t* mask,
                std::size_t fdslen) {
  if (fdslen / sizeof(*fds) < nfds) {
    return COGENT_REAL(__ppoll_chk)(fds, nfds, timeout, mask, fdslen);
  }
  return ppoll(fds, nfds, timeout, mask);
}

}  // extern "C"
