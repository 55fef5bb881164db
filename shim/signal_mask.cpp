// Signal masks per greenlet thread, and sigwait. Natively every thread has its own mask, and a
// process-directed signal goes to a thread that does not block it, the main thread first. Under
// the shim the greenlets share one OS thread, whose mask stays the main greenlet's: the mask of
// a greenlet thread is kept in its record and never applied, so that a worker blocking SIGINT
// or SIGTERM (the usual way to leave signals to the main thread) does not block them for the
// whole process. A new thread inherits its creator's mask, as natively.
//
// sigwait, sigwaitinfo and sigtimedwait wait cooperatively: a signal of the set that is pending
// (one the main greenlet blocks, as the usual "block in main, sigwait in a signal thread"
// pattern has it) is taken with a zero-timeout sigtimedwait; until one is, the greenlet waits
// for a signalfd of the set to become readable while the others run.
#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "cogent/clock.hpp"
#include "cogent/error.hpp"
#include "cogent/wait_fd.hpp"
#include "shim/cooperative.hpp"
#include "shim/interrupt.hpp"
#include "shim/real.hpp"
#include "shim/stuck.hpp"
#include "shim/threads.hpp"

namespace cogent::shim {

sigset_t inherited_signal_mask() noexcept {
  if (const ThreadRecord* parent = calling_thread_record()) return parent->signal_mask;
  sigset_t mask;
  COGENT_REAL(pthread_sigmask)(SIG_BLOCK, nullptr, &mask);
  return mask;
}

namespace {

int change_mask(ThreadRecord& r, int how, const sigset_t* set, sigset_t* old) noexcept {
  const sigset_t previous = r.signal_mask;
  if (set != nullptr) {
    switch (how) {
      case SIG_BLOCK:
        sigorset(&r.signal_mask, &r.signal_mask, set);
        break;
      case SIG_UNBLOCK:
        for (int sig = 1; sig < NSIG; ++sig) {
          if (sigismember(set, sig) == 1) sigdelset(&r.signal_mask, sig);
        }
        break;
      case SIG_SETMASK:
        r.signal_mask = *set;
        break;
      default:
        return EINVAL;
    }
    // As the kernel: these two cannot be blocked.
    sigdelset(&r.signal_mask, SIGKILL);
    sigdelset(&r.signal_mask, SIGSTOP);
  }
  if (old != nullptr) *old = previous;
  return 0;
}

/// Takes a pending signal of `set` (> 0), or waits for one until `deadline`: -1 with EAGAIN
/// when it passed, EINTR when a handler interrupted the wait.
int take_signal(const sigset_t* set, siginfo_t* info, TimePoint deadline) {
  const timespec zero{};
  const int saved_errno = errno;
  if (int sig = COGENT_REAL(sigtimedwait)(set, info, &zero); sig > 0 || errno != EAGAIN) {
    if (sig > 0) errno = saved_errno;
    return sig;
  }
  if (deadline == TimePoint::min()) return -1;  // EAGAIN, from sigtimedwait
  int fd;
  {
    RuntimeScope scope;
    fd = ::signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
  }
  if (fd < 0) {
    // Out of descriptors: wait natively, blocking the thread for this call.
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::max(deadline - Clock::now(), Duration::zero()));
    if (deadline == TimePoint::max()) return COGENT_REAL(sigwaitinfo)(set, info);
    const timespec t{static_cast<time_t>(left.count() / 1'000'000'000),
                     static_cast<long>(left.count() % 1'000'000'000)};
    return COGENT_REAL(sigtimedwait)(set, info, &t);
  }
  int result = -1;
  int error = EAGAIN;
  try {
    InterruptibleCall call(Restart::kNever);
    for (;;) {
      bool ready = true;
      WaitEnd end;
      {
        RuntimeScope scope;
        end = call.run([&] { ready = detail::wait_fd(fd, 0x001, deadline, "sigwait"); });
      }
      if (int sig = COGENT_REAL(sigtimedwait)(set, info, &zero); sig > 0) {
        result = sig;
        break;
      }
      if (end == WaitEnd::kInterrupted) {
        error = EINTR;
        break;
      }
      if (!ready) break;
    }
  } catch (const LoopExit& e) {
    die_stuck(e);
  } catch (...) {
    RuntimeScope scope;
    COGENT_REAL(close)(fd);
    throw;
  }
  {
    RuntimeScope scope;
    COGENT_REAL(close)(fd);
  }
  errno = result > 0 ? saved_errno : error;
  return result;
}

}  // namespace
}  // namespace cogent::shim

extern "C" {

int pthread_sigmask(int how, const sigset_t* set, sigset_t* old) noexcept {
  cogent::shim::ThreadRecord* me = cogent::shim::calling_thread_record();
  if (me == nullptr) return COGENT_REAL(pthread_sigmask)(how, set, old);
  return cogent::shim::change_mask(*me, how, set, old);
}

int sigprocmask(int how, const sigset_t* set, sigset_t* old) noexcept {
  cogent::shim::ThreadRecord* me = cogent::shim::calling_thread_record();
  if (me == nullptr) return COGENT_REAL(sigprocmask)(how, set, old);
  if (int rc = cogent::shim::change_mask(*me, how, set, old); rc != 0) {
    errno = rc;
    return -1;
  }
  return 0;
}

int sigtimedwait(const sigset_t* set, siginfo_t* info, const timespec* timeout) {
  if (!cogent::shim::cooperative()) return COGENT_REAL(sigtimedwait)(set, info, timeout);
  cogent::TimePoint deadline = cogent::TimePoint::max();
  if (timeout != nullptr) {
    if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1'000'000'000) {
      errno = EINVAL;
      return -1;
    }
    deadline = timeout->tv_sec == 0 && timeout->tv_nsec == 0
                   ? cogent::TimePoint::min()
                   : cogent::deadline_after(std::chrono::seconds(timeout->tv_sec) +
                                            std::chrono::nanoseconds(timeout->tv_nsec));
  }
  return cogent::shim::take_signal(set, info, deadline);
}

int sigwaitinfo(const sigset_t* set, siginfo_t* info) {
  if (!cogent::shim::cooperative()) return COGENT_REAL(sigwaitinfo)(set, info);
  return cogent::shim::take_signal(set, info, cogent::TimePoint::max());
}

// glibc's sigwait retries what a handler interrupted, and returns the error instead of setting
// errno.
int sigwait(const sigset_t* set, int* sig) {
  if (!cogent::shim::cooperative()) return COGENT_REAL(sigwait)(set, sig);
  const int saved_errno = errno;
  int got;
  do {
    got = cogent::shim::take_signal(set, nullptr, cogent::TimePoint::max());
  } while (got < 0 && errno == EINTR);
  const int error = got < 0 ? errno : 0;
  errno = saved_errno;
  if (got < 0) return error;
  *sig = got;
  return 0;
}

}  // extern "C"
