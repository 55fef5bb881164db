#include "cogent/wait_fd.hpp"

#include <poll.h>

#include <cerrno>
#include <system_error>

#include "hub/scheduler.hpp"

namespace cogent {
namespace detail {

bool FdWaitOperation::ready_now() {
  pollfd p{fd_, events_, 0};
  int n;
  do {
    n = ::poll(&p, 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw std::system_error(errno, std::generic_category(), "cogent: poll");
  if (p.revents & POLLNVAL) {
    throw std::system_error(EBADF, std::generic_category(),
                            "cogent: wait on fd " + std::to_string(fd_));
  }
  return n > 0;
}

void FdWaitOperation::start() {
  current_scheduler().backend().poll_fd(fd_, events_, this);
  submitted_ = true;
}

void FdWaitOperation::complete(int result, std::uint32_t) noexcept {
  submitted_ = false;
  revents_ = result;
  if (result == -ECANCELED) {
    finish_interrupted();
  } else {
    finish();
  }
}

void FdWaitOperation::cancel() noexcept {
  if (submitted_) current_scheduler().backend().cancel(this);
}

std::string FdWaitOperation::describe() const {
  return "fd " + std::to_string(fd_) + ((events_ & POLLOUT) ? " writable" : " readable");
}

bool FdWaitOperation::result(WakeReason why) {
  if (why == WakeReason::kDeadline && (revents_ == -ECANCELED || revents_ == 0)) return false;
  if (revents_ < 0 && revents_ != -ECANCELED) {
    throw std::system_error(-revents_, std::generic_category(),
                            "cogent: wait on fd " + std::to_string(fd_));
  }
  return true;
}

bool wait_fd(int fd, short events, TimePoint deadline, const char* api) {
  return run_blocking<FdWaitOperation>(api, deadline, fd, events);
}

}  // namespace detail

void wait_read(int fd) { detail::wait_fd(fd, POLLIN, TimePoint::max(), "wait_read"); }
void wait_write(int fd) { detail::wait_fd(fd, POLLOUT, TimePoint::max(), "wait_write"); }

detail::OperationAwaiter<detail::FdWaitOperation> async_wait_read(int fd) {
  return detail::OperationAwaiter<detail::FdWaitOperation>(TimePoint::max(), fd, short{POLLIN});
}
detail::OperationAwaiter<detail::FdWaitOperation> async_wait_write(int fd) {
  return detail::OperationAwaiter<detail::FdWaitOperation>(TimePoint::max(), fd, short{POLLOUT});
}

}  // namespace cogent
