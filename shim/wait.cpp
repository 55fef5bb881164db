// waitpid, wait, wait3, wait4 and waitid for greenlets: a wait for a child lets the other threads
// run. Each cooperative call first makes the real call with WNOHANG added; when nothing is
// waitable yet (and the program did not ask for WNOHANG itself) the greenlet waits, then makes it
// again, until the real call reports a child or an error. Results, status words, rusage, siginfo
// and errno are the real call's own.
//
// How the greenlet learns that a child may have changed state:
// - A wait for one process (waitpid/wait4 with pid > 0, waitid P_PID, waitid P_PIDFD) waits for
//   its pidfd (pidfd_open, Linux 5.3) to become readable, which it does when the process exits.
//   A pidfd says nothing about stops and continues, so with WUNTRACED/WSTOPPED/WCONTINUED the
//   readiness wait is bounded and the call polls as below.
// - A wait for any child or a process group (pid -1, 0, < -1; P_ALL, P_PGID) polls: the real call
//   with WNOHANG, then a sleep on the hub's timers that doubles from 1 ms up to 50 ms. A child's
//   exit is seen at most one interval late. Why not a thread of the runtime's pool blocking in
//   waitid(..., WNOWAIT) instead: a job running on a pool thread cannot be interrupted, so a
//   greenlet killed in such a wait (every live one is, when the hub winds down at exit) would
//   keep the process from exiting until some child happened to change state. Polling needs no
//   thread and ends with the greenlet. Nor is SIGCHLD used: its disposition is the program's.
//
// A signal handler interrupts the wait as it interrupts the system call: EINTR, unless it was
// installed with SA_RESTART, which resumes it (signal(7)).
//
// wait3 and wait4 are declared noexcept by glibc's C++ headers, but a greenlet parked in one is
// killed (GreenletExit unwinds its stack) when the hub winds down at exit: their bodies are
// defined under internal names and exported under glibc's by assembler aliases.
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <system_error>
#include <utility>

#include "cogent/detail/io_operation.hpp"
#include "cogent/error.hpp"
#include "cogent/sleep.hpp"
#include "cogent/wait_fd.hpp"
#include "shim/cooperative.hpp"
#include "shim/interrupt.hpp"
#include "shim/real.hpp"
#include "shim/stuck.hpp"

namespace cogent::shim {
namespace {

using namespace std::chrono_literals;

constexpr Duration kFirstPoll = 1ms;
constexpr Duration kLongestPoll = 50ms;

// What the greenlet waits on between two real calls: a pidfd, or the poll interval.
class ChildWatch {
 public:
  /// For one process `pid` (> 0): its pidfd when the kernel gives one, else polling.
  static ChildWatch for_process(pid_t pid, bool exits_only) noexcept {
    ChildWatch w;
    w.exits_only_ = exits_only;
    if (pid > 0) {
      const int saved_errno = errno;
      const long fd = ::syscall(SYS_pidfd_open, pid, 0);
      errno = saved_errno;
      if (fd >= 0) {
        w.fd_ = static_cast<int>(fd);
        w.owned_ = true;
      }
    }
    return w;
  }
  /// For a pidfd the program gave (waitid P_PIDFD).
  static ChildWatch for_pidfd(int fd, bool exits_only) noexcept {
    ChildWatch w;
    w.fd_ = fd;
    w.exits_only_ = exits_only;
    return w;
  }
  /// For any child, or a process group: polling.
  static ChildWatch polling() noexcept { return ChildWatch{}; }

  ChildWatch(ChildWatch&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)),
        owned_(other.owned_),
        exits_only_(other.exits_only_),
        readable_seen_(other.readable_seen_),
        interval_(other.interval_) {}
  ChildWatch& operator=(ChildWatch&&) = delete;
  ~ChildWatch() {
    if (owned_ && fd_ >= 0) {
      RuntimeScope scope;
      detail::close_fd(fd_);
    }
  }

  /// Suspends the calling greenlet until the child may have changed state. In a RuntimeScope.
  void wait() {
    try {
      if (fd_ >= 0 && exits_only_ && !readable_seen_) {
        cogent::wait_read(fd_);
        readable_seen_ = true;
        return;
      }
      if (fd_ >= 0 && !readable_seen_) {
        readable_seen_ = cogent::wait_read(fd_, interval_);
      } else {
        cogent::sleep(interval_);
      }
      interval_ = std::min(interval_ * 2, kLongestPoll);
    } catch (const std::system_error&) {
      // The program closed its pidfd under us: the next real call says so (EBADF); until
      // then, poll.
      readable_seen_ = true;
    } catch (const LoopExit& e) {
      die_stuck(e);
    }
  }

 private:
  ChildWatch() = default;

  int fd_ = -1;
  bool owned_ = false;
  bool exits_only_ = true;
  // The pidfd became readable: the process has exited. A real call that still finds nothing
  // (another thread reaped it, or the flags exclude it) must not spin on it: poll from then on.
  bool readable_seen_ = false;
  Duration interval_ = kFirstPoll;
};

/// The cooperative form of one wait call without WNOHANG. `probe()` makes the real call with
/// WNOHANG added: -1 (errno set) for an error, 0 when nothing is waitable yet, else the call's
/// result. `make_watch()` says what to wait on in between; it is only asked when the first real
/// call found nothing. Errno is as the real calls leave it.
template <class MakeWatch, class Probe>
long wait_cooperatively(MakeWatch make_watch, Probe probe) {
  const int saved_errno = errno;
  long r = probe();
  if (r != 0) return r;
  ChildWatch watch = make_watch();
  RuntimeScope scope;
  InterruptibleCall call(Restart::kUnderSaRestart);
  for (;;) {
    if (call.run([&] { watch.wait(); }) == WaitEnd::kInterrupted) {
      errno = EINTR;
      return -1;
    }
    errno = saved_errno;
    r = probe();
    if (r != 0) return r;
  }
}

bool exits_only(int options) noexcept { return (options & (WUNTRACED | WCONTINUED)) == 0; }

ChildWatch watch_for(pid_t pid, int options) noexcept {
  return pid > 0 ? ChildWatch::for_process(pid, exits_only(options)) : ChildWatch::polling();
}

pid_t wait4_cooperatively(pid_t pid, int* status, int options, rusage* usage) {
  if ((options & WNOHANG) != 0) return COGENT_REAL(wait4)(pid, status, options, usage);
  return static_cast<pid_t>(wait_cooperatively(
      [&] { return watch_for(pid, options); },
      [&]() -> long { return COGENT_REAL(wait4)(pid, status, options | WNOHANG, usage); }));
}

ChildWatch watch_for(idtype_t idtype, id_t id, int options) noexcept {
  const bool exits_only = (options & (WSTOPPED | WCONTINUED)) == 0;
  switch (idtype) {
    case P_PID:
      return ChildWatch::for_process(static_cast<pid_t>(id), exits_only);
    case P_PIDFD:
      return ChildWatch::for_pidfd(static_cast<int>(id), exits_only);
    default:
      return ChildWatch::polling();
  }
}

}  // namespace
}  // namespace cogent::shim

extern "C" {

pid_t waitpid(pid_t pid, int* status, int options) {
  if (!cogent::shim::cooperative() || (options & WNOHANG) != 0) {
    return COGENT_REAL(waitpid)(pid, status, options);
  }
  return static_cast<pid_t>(cogent::shim::wait_cooperatively(
      [&] { return cogent::shim::watch_for(pid, options); },
      [&]() -> long { return COGENT_REAL(waitpid)(pid, status, options | WNOHANG); }));
}

pid_t wait(int* status) {
  if (!cogent::shim::cooperative()) return COGENT_REAL(wait)(status);
  return waitpid(-1, status, 0);
}

int waitid(idtype_t idtype, id_t id, siginfo_t* info, int options) {
  if (!cogent::shim::cooperative() || (options & WNOHANG) != 0) {
    return COGENT_REAL(waitid)(idtype, id, info, options);
  }
  // The kernel fills the whole siginfo, si_signo 0 when WNOHANG found nothing. A program that
  // passes none cannot tell the difference; the probe needs one.
  siginfo_t own{};
  siginfo_t* out = info != nullptr ? info : &own;
  const long r = cogent::shim::wait_cooperatively(
      [&] { return cogent::shim::watch_for(idtype, id, options); },
      [&]() -> long {
        if (COGENT_REAL(waitid)(idtype, id, out, options | WNOHANG) < 0) return -1;
        return out->si_signo != 0 ? 1 : 0;
      });
  return r < 0 ? -1 : 0;
}

__attribute__((used)) pid_t cogent_shim_wait4(pid_t pid, int* status, int options, rusage* usage) {
  if (!cogent::shim::cooperative()) return COGENT_REAL(wait4)(pid, status, options, usage);
  return cogent::shim::wait4_cooperatively(pid, status, options, usage);
}

__attribute__((used)) pid_t cogent_shim_wait3(int* status, int options, rusage* usage) {
  if (!cogent::shim::cooperative()) return COGENT_REAL(wait3)(status, options, usage);
  return cogent::shim::wait4_cooperatively(-1, status, options, usage);
}

}  // extern "C"

asm(R"(
  .globl wait4
  .type wait4, @function
  .set wait4, cogent_shim_wait4
  .globl wait3
  .type wait3, @function
  .set wait3, cogent_shim_wait3
)");
