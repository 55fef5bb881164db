#include "hub/fd_waiters.hpp"

namespace cogent::detail {

void FdWaiters::add(IoOperation& op) {
  const auto fd = static_cast<std::size_t>(op.fd());
  if (fd >= heads_.size()) heads_.resize(fd + 1 + fd / 2, nullptr);
  op.fd_prev_ = nullptr;
  op.fd_next_ = heads_[fd];
  if (op.fd_next_ != nullptr) op.fd_next_->fd_prev_ = &op;
  heads_[fd] = &op;
  op.registered_ = true;
}

void FdWaiters::remove(IoOperation& op) noexcept {
  if (!op.registered_) return;
  if (op.fd_prev_ != nullptr) {
    op.fd_prev_->fd_next_ = op.fd_next_;
  } else {
    heads_[static_cast<std::size_t>(op.fd())] = op.fd_next_;
  }
  if (op.fd_next_ != nullptr) op.fd_next_->fd_prev_ = op.fd_prev_;
  op.fd_prev_ = op.fd_next_ = nullptr;
  op.registered_ = false;
}

std::size_t FdWaiters::fail_all(int fd) noexcept {
  if (fd < 0 || static_cast<std::size_t>(fd) >= heads_.size()) return 0;
  std::size_t failed = 0;
  // fail_closed() may complete (and unlink) the operation at once, as epoll's cancel does.
  for (IoOperation* op = heads_[static_cast<std::size_t>(fd)]; op != nullptr;) {
    IoOperation* next = op->fd_next_;
    op->fail_closed();
    op = next;
    ++failed;
  }
  return failed;
}

}  // namespace cogent::detail
