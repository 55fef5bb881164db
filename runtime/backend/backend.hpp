// The event-loop interface both backends implement: io_uring (uring.cpp) and epoll through libev
// (epoll.cpp). Nothing outside runtime/backend/ includes liburing or libev.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cogent/detail/io_completion.hpp"
#include "cogent/detail/io_operation.hpp"

namespace cogent::detail {

class Backend {
 public:
  virtual ~Backend() = default;

  /// "uring" or "epoll".
  virtual const char* name() const noexcept = 0;
  /// One line on the kernel features in use, for `cogent info` and COGENT_DEBUG.
  virtual std::string features() const = 0;

  /// Submits what is queued, then waits up to `timeout` for completions (negative: no limit,
  /// zero: just poll) and delivers each to its IoCompletion. Returns early after wake().
  virtual void wait(std::chrono::nanoseconds timeout) = 0;
  /// Thread-safe: makes a wait() in progress, or the next one, return.
  virtual void wake() noexcept = 0;

  /// One-shot readiness of `fd` for poll(2) `events`; completes with the revents or -errno.
  /// `owned`: the descriptor is closed through close_fd(), which calls forget_fd(), so the
  /// backend may keep per-descriptor state between waits.
  virtual void poll_fd(int fd, short events, IoCompletion* c, bool owned = false) = 0;
  /// `fd` is being closed: forget what is kept for it (it may come back as another file).
  virtual void forget_fd(int /*fd*/) noexcept {}

  /// Whether submit() works: the kernel performs socket and file operations itself (io_uring).
  virtual bool async_io() const noexcept { return false; }
  /// Hands `r` to the kernel; completes with its result (bytes, a descriptor) or -errno. Only
  /// when async_io(); connects are never submitted (they are polled, then SO_ERROR is read).
  virtual void submit(const IoRequest& r, IoCompletion* c);

  /// Cancels a request; its completion is still delivered, possibly later, with -ECANCELED or
  /// with its result if that won the race.
  virtual void cancel(IoCompletion* c) noexcept = 0;

  /// Hands queued submissions (a cancellation) to the kernel now, without waiting for events,
  /// for when their effect must not wait for the next loop turn.
  virtual void flush() {}

  /// Requests in flight, the wake-up source excluded.
  virtual std::size_t pending() const noexcept = 0;

  /// The descriptors the backend itself holds open (its ring or epoll instance, its wake-up
  /// eventfd), so that a program closing every descriptor it does not know can be kept off
  /// them.
  const std::vector<int>& own_fds() const noexcept { return own_fds_; }

 private:
  friend std::unique_ptr<Backend> select_backend(std::string_view requested);
  std::vector<int> own_fds_;
};

/// io_uring, or null with the reason in `why_not` when the kernel refuses it (sysctl, seccomp,
/// too old).
std::unique_ptr<Backend> make_uring_backend(std::string& why_not);
std::unique_ptr<Backend> make_epoll_backend();

/// The backend for a new hub: `requested` ("uring", "epoll"), else COGENT_BACKEND, else io_uring;
/// a refused io_uring falls back to epoll (said once on stderr when COGENT_DEBUG is set, or
/// when uring was asked for by name). Throws std::invalid_argument for an unknown name.
std::unique_ptr<Backend> select_backend(std::string_view requested);

}  // namespace cogent::detail
