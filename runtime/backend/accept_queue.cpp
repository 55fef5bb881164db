#include "backend/accept_queue.hpp"

#include <liburing.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "backend/backend.hpp"
#include "cogent/detail/io_operation.hpp"

namespace cogent::detail {

AcceptQueue::~AcceptQueue() {
  for (int fd : ready_) ::close(fd);
}

int AcceptQueue::take_ready() noexcept {
  if (ready_.empty()) return -1;
  const int fd = ready_.front();
  ready_.pop_front();
  return fd;
}

void AcceptQueue::arm() noexcept {
  try {
    backend_.submit(IoRequest{IoKind::kAcceptMultishot, fd_, flags_}, this);
    armed_ = true;
  } catch (const std::exception&) {
    // The ring refused the submission (out of memory): hand the waiters a retryable error.
    while (!waiters_.empty()) deliver(-ENOMEM);
  }
}

void AcceptQueue::wait(IoOperation& op) {
  waiters_.push_back(&op);
  if (const int fd = take_ready(); fd >= 0) {
    deliver(fd);
    return;
  }
  if (!armed_) arm();
}

bool AcceptQueue::forget(IoOperation& op) noexcept {
  auto it = std::find(waiters_.begin(), waiters_.end(), &op);
  if (it == waiters_.end()) return false;
  waiters_.erase(it);
  return true;
}

void AcceptQueue::deliver(int result) noexcept {
  IoOperation* op = waiters_.front();
  waiters_.pop_front();
  op->complete(result, 0);
}

void AcceptQueue::complete(int result, std::uint32_t flags) noexcept {
  if (!(flags & IORING_CQE_F_MORE)) armed_ = false;
  if (retired_) {
    if (result >= 0) ::close(result);
    if (!armed_) owner_.reap(this);  // deletes this
    return;
  }
  if (result >= 0) {
    accepted_once_ = true;
    if (!waiters_.empty()) {
      deliver(result);
    } else {
      ready_.push_back(result);
      if (ready_.size() >= kMaxUnclaimed && armed_) backend_.cancel(this);
    }
  } else if (result == -EINVAL && !accepted_once_) {
    // Before Linux 5.19 there is no multishot accept: single accepts from now on.
    owner_.mark_unavailable();
    while (!waiters_.empty()) deliver(-EAGAIN);
  } else if (result != -ECANCELED && !waiters_.empty()) {
    deliver(result);  // EMFILE and the like: the caller decides when to try again
  }
  if (!armed_ && !waiters_.empty() && owner_.available()) arm();
}

bool AcceptQueue::retire() noexcept {
  retired_ = true;
  for (int fd : ready_) ::close(fd);
  ready_.clear();
  if (!armed_) return true;
  backend_.cancel(this);
  // The standing request holds the listening socket open: until the cancellation has run, a
  // closed listener would still take connections and keep its port bound.
  try {
    backend_.flush();
  } catch (const std::exception&) {
    // The cancellation stays queued for the next loop turn.
  }
  return false;
}

AcceptQueues::~AcceptQueues() = default;

AcceptQueue& AcceptQueues::of(int fd, int flags) {
  auto& slot = queues_[fd];
  if (!slot) slot = std::make_unique<AcceptQueue>(*this, backend_, fd, flags);
  return *slot;
}

AcceptQueue* AcceptQueues::find(int fd) noexcept {
  auto it = queues_.find(fd);
  return it == queues_.end() ? nullptr : it->second.get();
}

void AcceptQueues::close(int fd) noexcept {
  auto it = queues_.find(fd);
  if (it == queues_.end()) return;
  std::unique_ptr<AcceptQueue> q = std::move(it->second);
  queues_.erase(it);
  if (!q->retire()) retiring_.push_back(std::move(q));
}

void AcceptQueues::reap(AcceptQueue* q) noexcept {
  auto it = std::find_if(retiring_.begin(), retiring_.end(),
                         [q](const std::unique_ptr<AcceptQueue>& p) { return p.get() == q; });
  if (it != retiring_.end()) retiring_.erase(it);
}

std::size_t AcceptQueues::idle() const noexcept {
  std::size_t n = 0;
  for (const auto& [fd, q] : queues_) n += q->idle();
  return n;
}

}  // namespace cogent::detail
