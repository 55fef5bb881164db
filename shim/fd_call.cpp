// See fd_call.hpp.
#include "shim/fd_call.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>

#include "cogent/detail/core.hpp"
#include "shim/cooperative.hpp"
#include "shim/fd_wait.hpp"
#include "shim/real.hpp"

namespace cogent::shim {
namespace {

// SO_RCVTIMEO or SO_SNDTIMEO as the kernel has it now (its jiffies, rounded back to a timeval).
std::int64_t kernel_timeout(int fd, Direction direction) noexcept {
  timeval tv{};
  socklen_t len = sizeof tv;
  const int option = direction == Direction::kReceive ? SO_RCVTIMEO : SO_SNDTIMEO;
  if (::getsockopt(fd, SOL_SOCKET, option, &tv, &len) != 0) return kNoTimeout;
  return timeout_of(tv.tv_sec, tv.tv_usec);
}

// Readiness can say "ready" for good while the call cannot go on: a datagram sent with sendto()
// to a peer whose queue is full (POLLOUT is about the sender's own buffer), a stream connect to a
// full Unix listener. When an attempt made after a wake-up still cannot proceed and the
// descriptor still reads as ready, the next wait would end at once: from the second time in a row
// the waits are paced (1 ms, doubling up to 64 ms). A descriptor no longer ready was taken by
// someone else (several threads accepting on one listener): a plain wait follows.
constexpr int kSpuriousAllowed = 1;
constexpr auto kLongestPace = std::chrono::milliseconds(64);

}  // namespace

bool cooperating(int fd, FdInfo& info) noexcept {
  if (!green_threads()) return false;
  info = fd_info(fd);
  if (info.kind != FdKind::kSocket && info.kind != FdKind::kPipe) return false;
  if (info.nonblocking && !info.shared) return false;
  return cooperative();
}

bool kernel_nonblocking(int fd) noexcept {
  const int flags = COGENT_REAL(fcntl)(fd, F_GETFL);
  return flags >= 0 && (flags & O_NONBLOCK) != 0;
}

long set_nonblocking(int fd, bool on) noexcept {
  int value = on ? 1 : 0;
  return COGENT_REAL(ioctl)(fd, FIONBIO, &value) < 0 ? -errno : 0;
}

bool BlockingCall::decide() noexcept {
  std::int64_t timeout =
      direction_ == Direction::kReceive ? info_.receive_timeout : info_.send_timeout;
  if (info_.shared) {
    if (kernel_nonblocking(fd_)) return false;
    timeout = info_.kind == FdKind::kSocket ? kernel_timeout(fd_, direction_) : kNoTimeout;
  }
  if (info_.kind != FdKind::kSocket) timeout = kNoTimeout;
  timeout_ = timeout;
  if (timeout == kImmediately) return false;
  deadline_ =
      timeout == kNoTimeout ? TimePoint::max() : deadline_after(std::chrono::nanoseconds(timeout));
  return true;
}

bool BlockingCall::deadline(TimePoint& deadline) noexcept {
  if (!decided_) {
    may_wait_ = decide();
    decided_ = true;
  }
  deadline = deadline_;
  return may_wait_;
}

template <class Wait>
long BlockingCall::interruptibly(Wait wait) {
  RuntimeScope scope;
  if (!interruptible_) {
    detail::running_core();  // the main greenlet's first wait makes the hub
    // signal(7): a socket call under SO_RCVTIMEO / SO_SNDTIMEO is never restarted.
    interruptible_.emplace(timeout_ == kNoTimeout ? Restart::kUnderSaRestart : Restart::kNever);
  }
  long r = 0;
  switch (interruptible_->run([&] { r = wait(); })) {
    case WaitEnd::kDone:
      return r;
    case WaitEnd::kRestart:
      return kRestarted;
    case WaitEnd::kInterrupted:
      break;
  }
  return -EINTR;
}

bool BlockingCall::still_ready(short events) const noexcept {
  pollfd p{fd_, events, 0};
  return COGENT_REAL(poll)(&p, 1, 0) > 0;
}

long BlockingCall::wait(short events) {
  TimePoint until;
  if (!deadline(until)) return -EAGAIN;
  if (ready_without_progress_ > 0 && !still_ready(events)) ready_without_progress_ = 0;
  if (ready_without_progress_ > kSpuriousAllowed) {
    const int doublings = std::min(ready_without_progress_ - kSpuriousAllowed - 1, 6);
    const auto pace = std::min<Duration>(std::chrono::milliseconds(1 << doublings), kLongestPace);
    const TimePoint now = Clock::now();
    if (now >= until) return -EAGAIN;
    if (const long p = pause(until - now > pace ? now + pace : until); p < 0) return p;
  }
  const long r = interruptibly([&] { return wait_ready(fd_, events, until, api_); });
  if (r == kRestarted) return 0;  // a restarted call begins with a new attempt
  if (r == 0) ++ready_without_progress_;
  return r;
}

long BlockingCall::receive(const detail::IoRequest& request) {
  TimePoint until;
  if (!deadline(until)) return -EAGAIN;
  for (;;) {
    const long r = interruptibly([&] { return receive_in_backend(request, until, api_); });
    if (r != kRestarted) return r;
  }
}

long BlockingCall::pause(TimePoint until) {
  const long r = interruptibly([&] {
    pause_until(until);
    return 0L;
  });
  return r == kRestarted ? 0 : r;
}

}  // namespace cogent::shim
