// Waiting for a file descriptor to become readable or writable, as gevent.socket.wait_read /
// wait_write do. The fd is polled first; the caller suspends only when it is not ready yet.
//
//   cogent::wait_read(fd);                          // greenlet
//   bool ok = cogent::wait_write(fd, 100ms);        // false when the timeout passed
//   co_await cogent::async_wait_read(fd);           // task
#pragma once

#include <chrono>
#include <string>

#include "cogent/clock.hpp"
#include "cogent/detail/awaitable.hpp"
#include "cogent/detail/core.hpp"
#include "cogent/detail/io_completion.hpp"

namespace cogent {
namespace detail {

/// Readiness of `fd` for `events` (POLLIN / POLLOUT). result(): true when ready, false when the
/// deadline passed; std::system_error for a bad descriptor.
class FdWaitOperation final : public Operation, private IoCompletion {
 public:
  FdWaitOperation(int fd, short events) noexcept : fd_(fd), events_(events) {}
  bool ready_now();
  void start() override;
  void cancel() noexcept override;
  std::string describe() const override;
  bool result(WakeReason why);

 private:
  void complete(int result, std::uint32_t flags) noexcept override;
  int fd_;
  short events_;
  bool submitted_ = false;
  int revents_ = 0;  // or -errno
};

bool wait_fd(int fd, short events, TimePoint deadline, const char* api);

}  // namespace detail

/// Blocks the calling greenlet until `fd` is readable (or has hung up / errored).
void wait_read(int fd);
/// As wait_read(fd), for at most `timeout`; false when it passed.
template <class Rep, class Period>
bool wait_read(int fd, std::chrono::duration<Rep, Period> timeout) {
  return detail::wait_fd(fd, 0x001 /* POLLIN */, deadline_after(timeout), "wait_read");
}
/// Blocks the calling greenlet until `fd` is writable.
void wait_write(int fd);
template <class Rep, class Period>
bool wait_write(int fd, std::chrono::duration<Rep, Period> timeout) {
  return detail::wait_fd(fd, 0x004 /* POLLOUT */, deadline_after(timeout), "wait_write");
}

detail::OperationAwaiter<detail::FdWaitOperation> async_wait_read(int fd);
detail::OperationAwaiter<detail::FdWaitOperation> async_wait_write(int fd);
template <class Rep, class Period>
detail::OperationAwaiter<detail::FdWaitOperation> async_wait_read(
    int fd, std::chrono::duration<Rep, Period> timeout) {
  return detail::OperationAwaiter<detail::FdWaitOperation>(deadline_after(timeout), fd, 0x001);
}
template <class Rep, class Period>
detail::OperationAwaiter<detail::FdWaitOperation> async_wait_write(
    int fd, std::chrono::duration<Rep, Period> timeout) {
  return detail::OperationAwaiter<detail::FdWaitOperation>(deadline_after(timeout), fd, 0x004);
}

}  // namespace cogent
