// One blocking call on a socket or pipe, made cooperative: whether it cooperates at all, its
// attempts (each made non-blocking for that call alone: MSG_DONTWAIT, RWF_NOWAIT, or O_NONBLOCK
// set and cleared around it — never a flag left changed on the program's open file description,
// which a child process may share), and its waits, with the deadline the program's own settings
// give it (SO_RCVTIMEO, SO_SNDTIMEO; none for pipes). A descriptor the program made non-blocking
// itself gets libc's immediate EAGAIN. A signal handler interrupts the waits as it interrupts the
// system calls natively (interrupt.hpp): EINTR, or a new attempt under SA_RESTART — except on a
// socket with a timeout set for that direction, which signal(7) never restarts.
//
//   FdInfo info;
//   if (!cooperating_socket(fd, info)) return COGENT_REAL(accept)(fd, addr, len);
//   const int saved_errno = errno;
//   BlockingCall call(fd, info, Direction::kReceive, "accept");
//   auto accept_now = [&] { return syscall_result(COGENT_REAL(accept)(fd, addr, len)); };
//   auto attempt = [&] { return with_nonblocking(fd, accept_now); };
//   long r = attempt();
//   if (r == -EAGAIN) r = call.retry(POLLIN, attempt);
//   return libc_result(r, saved_errno);
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "cogent/clock.hpp"
#include "cogent/detail/io_operation.hpp"
#include "shim/fd_table.hpp"
#include "shim/interrupt.hpp"

namespace cogent::shim {

/// Whether a call on `fd` cooperates: green-threads mode, a socket or pipe that is blocking as the
/// program sees it (or whose description is shared: the kernel is asked when it would wait), and
/// a cooperative context (cooperative.hpp). `info` receives the descriptor's entry.
bool cooperating(int fd, FdInfo& info) noexcept;

/// The same, for a call only sockets have (recv, send, accept, connect).
inline bool cooperating_socket(int fd, FdInfo& info) noexcept {
  return cooperating(fd, info) && info.kind == FdKind::kSocket;
}

/// O_NONBLOCK on `fd`'s description as the kernel has it now.
bool kernel_nonblocking(int fd) noexcept;

/// A stream: a partial transfer goes on until every byte has moved, as a blocking call does.
inline bool streams(const FdInfo& info) noexcept {
  return info.kind == FdKind::kPipe || info.socket_type == 1 /* SOCK_STREAM */;
}

enum class Direction : bool { kReceive, kSend };

class BlockingCall {
 public:
  BlockingCall(int fd, const FdInfo& info, Direction direction, const char* api) noexcept
      : fd_(fd), info_(info), direction_(direction), api_(api) {}

  /// The call's deadline, decided when it first has to wait; false when it must not wait at
  /// all and fails with EAGAIN (O_NONBLOCK on a shared description, a timeout that never waits).
  bool deadline(TimePoint& deadline) noexcept;

  /// An attempt found the descriptor not ready: waits until it is ready for `events`. 0 to try
  /// again; -EAGAIN when the call may not wait or its deadline passed, -EBADF when the program
  /// closed the descriptor, -EINTR when a signal handler interrupted it.
  long wait(short events);

  /// An attempt found nothing to receive: the backend receives (fd_wait.hpp). Bytes, or -errno
  /// as wait() gives them.
  long receive(const detail::IoRequest& request);

  /// Sleeps until `until` (pacing a call nothing can be waited on for): 0, or -EINTR.
  long pause(TimePoint until);

  /// Waits, then repeats `attempt` (a non-blocking call: >= 0, or -errno) until it is done.
  template <class Attempt>
  long retry(short events, Attempt attempt) {
    for (;;) {
      if (const long w = wait(events); w < 0) return w;
      const long r = attempt();
      if (r != -EAGAIN) {
        if (r >= 0) progressed();
        return r;
      }
    }
  }

  /// An attempt moved data: the next wait is not a spurious wake-up's.
  void progressed() noexcept { ready_without_progress_ = 0; }

 private:
  bool decide() noexcept;
  /// After a wake-up whose attempt could not proceed: does the descriptor still read as ready?
  bool still_ready(short events) const noexcept;
  /// Runs `wait` (returning >= 0 or -errno) as this call's interruptible wait: its result,
  /// -EINTR, or kRestarted when SA_RESTART says to start the attempt again.
  template <class Wait>
  long interruptibly(Wait wait);
  static constexpr long kRestarted = -(1L << 40);

  int fd_;
  const FdInfo& info_;
  Direction direction_;
  const char* api_;
  bool decided_ = false;
  bool may_wait_ = false;
  TimePoint deadline_{};
  std::int64_t timeout_ = kNoTimeout;
  int ready_without_progress_ = 0;
  std::optional<InterruptibleCall> interruptible_;  // from the first wait on
};

/// A libc call's result as the kernel gives it: >= 0, or -errno.
inline long syscall_result(long r) noexcept { return r >= 0 ? r : -errno; }

/// `r` the libc way: returned with errno back to `saved_errno` (a call that succeeds leaves errno
/// alone), or -1 with errno set.
inline ssize_t libc_result(long r, int saved_errno) noexcept {
  if (r >= 0) {
    errno = saved_errno;
    return r;
  }
  errno = static_cast<int>(-r);
  return -1;
}

/// Sets or clears O_NONBLOCK on `fd` with FIONBIO; -errno on failure.
long set_nonblocking(int fd, bool on) noexcept;

/// Runs `call` (returning >= 0 or -errno) with O_NONBLOCK set on `fd`'s description, cleared
/// again right after: nothing can run in between, so the process never sees it.
template <class Call>
long with_nonblocking(int fd, Call call) noexcept {
  if (const long r = set_nonblocking(fd, true); r < 0) return r;
  const long result = call();
  set_nonblocking(fd, false);
  return result;
}

/// A transfer out that may be partial: `attempt(done, continuing)` (non-blocking; `continuing`
/// once some bytes were written) is repeated until `total()` bytes are written on a stream, or
/// once on anything else. An error, the deadline, a signal or a close after a partial write makes
/// the call return what was written, as the kernel does. (On a socket the later attempts are to
/// raise no SIGPIPE, as the kernel raises none for a call that sent something; a pipe raises it
/// even then.)
template <class Attempt, class Total>
long send_all(BlockingCall& call, bool stream, Attempt attempt, Total total) {
  auto first = [&] { return attempt(std::size_t{0}, false); };
  long r = first();
  if (r == -EAGAIN) r = call.retry(POLLOUT, first);
  if (r <= 0 || !stream) return r;
  auto done = static_cast<std::size_t>(r);
  const std::size_t wanted = total();
  while (done < wanted) {
    call.progressed();
    auto more = [&] { return attempt(done, true); };
    long n = more();
    if (n == -EAGAIN) n = call.retry(POLLOUT, more);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  return static_cast<long>(done);
}

}  // namespace cogent::shim
