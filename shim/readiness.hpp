// Waiting cooperatively until one of several descriptors is ready: the part poll, select and
// epoll_wait (and their variants) have in common.
//
// Each of those calls is answered by the real call made with a zero timeout, so what the program
// gets (revents, fd_sets, epoll events, return values, errors) is the kernel's own. When that
// finds nothing ready, the calling greenlet waits here while the others run, until one of the
// watched descriptors is ready, a signal the call's mask lets in is pending, a signal handler
// interrupts the call (EINTR, as poll, select and epoll_wait are never restarted: signal(7)), or
// the deadline passes; then the real call is made again with a zero timeout.
//
//   int n = COGENT_REAL(poll)(fds, nfds, 0);
//   if (n != 0) return n;
//   ReadinessWait wait;
//   wait.watch(fds[0].fd, fds[0].events, fds[0].events | POLLERR | POLLHUP | POLLNVAL);
//   return wait.retry_until(deadline, "poll", try_now, block);
//
// How the hub waits: a lone descriptor waiting for POLLIN and/or POLLOUT is handed to the hub as
// it is (detail::wait_fd's operation, on either backend). Anything else (several descriptors,
// other events, a signal set) goes into a temporary epoll instance, itself one readable
// descriptor for the hub, closed when the call returns. Files epoll refuses (EPERM: regular
// files, directories) are always ready in poll's sense, so they never need watching.
#pragma once

#include <signal.h>

#include <cerrno>
#include <cstdint>
#include <optional>
#include <vector>

#include "cogent/clock.hpp"
#include "shim/interrupt.hpp"

namespace cogent::shim {

/// How one wait ended.
enum class Woken : unsigned char {
  kReady,        // something watched is ready (or was: another greenlet may have taken it)
  kDeadline,     // the deadline passed
  kInterrupted,  // a signal handler interrupted the call: EINTR
  kCannotWait,   // no descriptor left for a temporary epoll instance, or the hub cannot watch
};

class ReadinessWait {
 public:
  ReadinessWait() = default;
  ~ReadinessWait();
  ReadinessWait(const ReadinessWait&) = delete;
  ReadinessWait& operator=(const ReadinessWait&) = delete;

  /// Wakes when `fd` has any of `events` (poll/epoll bits; POLLERR and POLLHUP always count).
  /// `reported`: the bits the calling function reports for it, so that a state it does not
  /// report (a lasting hang-up of a descriptor in select's write set) is dropped instead of
  /// waking the wait again and again. The same fd twice is watched once, for both.
  void watch(int fd, std::uint32_t events, std::uint32_t reported);

  /// Also wakes when a signal that `mask` (ppoll's, pselect's, epoll_pwait's) lets in but the
  /// thread blocks now is pending: the real call with that mask then delivers it.
  void watch_signals_let_in_by(const sigset_t& mask);

  /// The wait-and-retry loop. `try_now()` is the real call with a zero timeout (> 0 or < 0: the
  /// call's result). `block(deadline)` is the real call with what is left of the timeout, for when
  /// this cannot wait cooperatively (it blocks the thread, with libc's results). A handler that
  /// interrupts the wait makes `interrupted()` the result (EINTR by default).
  template <class TryNow, class Block, class Interrupted>
  int retry_until(TimePoint deadline, const char* api, TryNow try_now, Block block,
                  Interrupted interrupted);
  template <class TryNow, class Block>
  int retry_until(TimePoint deadline, const char* api, TryNow try_now, Block block) {
    return retry_until(deadline, api, try_now, block, [] {
      errno = EINTR;
      return -1;
    });
  }

 private:
  struct Watch {
    int fd;
    std::uint32_t events;
    std::uint32_t reported;
  };

  Woken wait(TimePoint deadline, const char* api);
  void merge_duplicates();
  /// The descriptor and events the hub waits for (-1: nothing, sleep until the deadline).
  bool target(int& fd, short& events);
  bool build_epoll();
  /// After a wake-up the retry found nothing to report: drops what woke it without mattering.
  void settle();

  std::vector<Watch> watches_;
  bool merged_ = false;
  int signal_fd_ = -1;
  bool cannot_wait_ = false;
  int epoll_fd_ = -1;
  std::size_t in_epoll_ = 0;  // descriptors the temporary instance holds
  std::optional<InterruptibleCall> call_;
};

/// While a real call that installs the program's signal mask (ppoll, pselect, epoll_pwait) runs
/// on behalf of the calling greenlet: a signal that mask lets in is delivered during that call and
/// ends it with EINTR, so the delivery must not also interrupt another greenlet's call.
void aim_signals_at_caller() noexcept;
void aim_signals_at_nobody() noexcept;

/// Runs `real_call` (see above) with the signals aimed at the caller; errno is the call's.
template <class RealCall>
int with_own_signals(RealCall real_call) {
  aim_signals_at_caller();
  const int n = real_call();
  const int saved_errno = errno;
  aim_signals_at_nobody();
  errno = saved_errno;
  return n;
}

template <class TryNow, class Block, class Interrupted>
int ReadinessWait::retry_until(TimePoint deadline, const char* api, TryNow try_now, Block block,
                               Interrupted interrupted) {
  for (;;) {
    switch (wait(deadline, api)) {
      case Woken::kCannotWait:
        return block(deadline);
      case Woken::kInterrupted:
        return interrupted();
      case Woken::kDeadline:
        return try_now();
      case Woken::kReady:
        break;
    }
    if (const int n = try_now(); n != 0 || Clock::now() >= deadline) return n;
    settle();
  }
}

}  // namespace cogent::shim
