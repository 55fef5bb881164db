#include "cogent/detail/io_operation.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "cogent/error.hpp"
#include "cogent/hub.hpp"
#include "hub/scheduler.hpp"

namespace cogent::detail {
namespace {

bool is_read(IoKind k) noexcept {
  return k == IoKind::kRecv || k == IoKind::kRead || k == IoKind::kRecvv ||
         k == IoKind::kRecvFrom || k == IoKind::kAccept;
}

short poll_events(IoKind k) noexcept { return is_read(k) ? POLLIN : POLLOUT; }

long syscall_result(long r) noexcept { return r >= 0 ? r : -errno; }

long connect_result(int fd) noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return -errno;
  return -err;
}

}  // namespace

long perform_now(const IoRequest& r) noexcept {
  long n;
  do {
    switch (r.kind) {
      case IoKind::kRecv:
        n = ::recv(r.fd, r.buf, r.len, r.flags | MSG_DONTWAIT);
        break;
      case IoKind::kSend:
        n = ::send(r.fd, r.buf, r.len, r.flags | MSG_DONTWAIT | MSG_NOSIGNAL);
        break;
      case IoKind::kRead:
        n = r.offset < 0 ? ::read(r.fd, r.buf, r.len) : ::pread(r.fd, r.buf, r.len, r.offset);
        break;
      case IoKind::kWrite:
        n = r.offset < 0 ? ::write(r.fd, r.buf, r.len) : ::pwrite(r.fd, r.buf, r.len, r.offset);
        break;
      case IoKind::kRecvv: {
        msghdr m{};
        m.msg_iov = static_cast<iovec*>(r.buf);
        m.msg_iovlen = r.len;
        n = ::recvmsg(r.fd, &m, r.flags | MSG_DONTWAIT);
        break;
      }
      case IoKind::kSendv: {
        msghdr m{};
        m.msg_iov = static_cast<iovec*>(r.buf);
        m.msg_iovlen = r.len;
        n = ::sendmsg(r.fd, &m, r.flags | MSG_DONTWAIT | MSG_NOSIGNAL);
        break;
      }
      case IoKind::kRecvFrom:
        n = ::recvmsg(r.fd, static_cast<msghdr*>(r.buf), r.flags | MSG_DONTWAIT);
        break;
      case IoKind::kSendTo:
        n = ::sendmsg(r.fd, static_cast<msghdr*>(r.buf), r.flags | MSG_DONTWAIT | MSG_NOSIGNAL);
        break;
      case IoKind::kAccept:
        n = ::accept4(r.fd, static_cast<sockaddr*>(r.buf), r.addrlen, r.flags);
        break;
      case IoKind::kConnect:
        n = ::connect(r.fd, static_cast<const sockaddr*>(r.buf), static_cast<socklen_t>(r.len));
        // Interrupted, the connection still proceeds in the background: wait for it.
        if (n < 0 && errno == EINTR) return -EINPROGRESS;
        break;
      case IoKind::kFsync:
        n = r.flags ? ::fdatasync(r.fd) : ::fsync(r.fd);
        break;
      case IoKind::kAcceptMultishot:
        return -EINVAL;  // only the ring performs it
      case IoKind::kOpenAt:
        n = ::openat(AT_FDCWD, static_cast<const char*>(r.buf), r.flags | O_CLOEXEC,
                     static_cast<mode_t>(r.len));
        break;
    }
  } while (n < 0 && errno == EINTR);
  n = syscall_result(n);
  return n == -EWOULDBLOCK ? -EAGAIN : n;
}

IoOperation::~IoOperation() {
  if (registered_) current_scheduler().fd_waiters().remove(*this);
}

bool IoOperation::absorb(long result) noexcept {
  if (result < 0 || !exact_) {
    result_ = result;
    return true;
  }
  done_ += static_cast<std::size_t>(result);
  const bool eof = result == 0 && is_read(request_.kind);
  if (eof || done_ >= total_) {
    // Finished, or end of stream: done_ tells how far an exact read got.
    result_ = static_cast<long>(done_);
    return true;
  }
  request_.buf = static_cast<char*>(request_.buf) + result;
  request_.len -= static_cast<std::size_t>(result);
  if (request_.offset >= 0) request_.offset += result;
  return false;
}

bool IoOperation::attempt() noexcept {
  for (;;) {
    long r = connecting_ ? connect_result(request_.fd) : perform_now(request_);
    if (r == -EINPROGRESS && request_.kind == IoKind::kConnect) {
      connecting_ = true;
      return false;
    }
    if (r == -EAGAIN) return false;
    if (absorb(r)) return true;
  }
}

bool IoOperation::ready_now() {
  switch (how_) {
    case IoStart::kTryFirst:
      break;
    case IoStart::kSubmitFirst:
      return false;
    case IoStart::kRingFirst:
      if (current_scheduler().async_io()) return take_accepted();
      break;
    case IoStart::kAdaptive:
      // The socket's last read had to wait: this one most likely would too, and trying it costs
      // a syscall that fails with EAGAIN. The ring runs it instead; on epoll the readiness wait
      // (level-triggered, so data already there is reported by the next turn) comes first.
      if (*waited_hint_) return false;
      break;
  }
  if (!attempt()) return false;
  if (waited_hint_ != nullptr) *waited_hint_ = false;
  return true;
}

bool IoOperation::take_accepted() noexcept {
  if (request_.kind != IoKind::kAccept) return false;
  AcceptQueue* q = current_scheduler().accepts().find(request_.fd);
  const int fd = q != nullptr ? q->take_ready() : -1;
  if (fd < 0) return false;
  result_ = fd;
  return true;
}

void IoOperation::start() {
  if (waited_hint_ != nullptr) *waited_hint_ = true;
  if (request_.fd >= 0) current_scheduler().fd_waiters().add(*this);  // openat has none
  arm();
}

void IoOperation::arm() {
  Scheduler& hub = current_scheduler();
  polling_ = connecting_ || force_poll_ || !hub.async_io() || request_.kind == IoKind::kConnect;
  if (polling_) {
    hub.backend().poll_fd(request_.fd, poll_events(request_.kind), this, true);
  } else if (request_.kind == IoKind::kAccept && hub.accepts().available()) {
    in_flight_ = in_accept_queue_ = true;  // wait() may complete us at once
    hub.accepts().of(request_.fd, request_.flags).wait(*this);
    return;
  } else if (request_.kind == IoKind::kRecvv || request_.kind == IoKind::kSendv) {
    vector_msg_.msg_iov = static_cast<iovec*>(request_.buf);
    vector_msg_.msg_iovlen = request_.len;
    const IoKind kind = request_.kind == IoKind::kRecvv ? IoKind::kRecvFrom : IoKind::kSendTo;
    hub.backend().submit(IoRequest{kind, request_.fd, request_.flags, &vector_msg_}, this);
  } else {
    hub.backend().submit(request_, this);
  }
  in_flight_ = true;
}

void IoOperation::complete(int result, std::uint32_t) noexcept {
  in_flight_ = in_accept_queue_ = false;
  if (result == -ECANCELED) {
    result_ = result;
    end();
    finish_interrupted();
    return;
  }
  bool finished;
  if (polling_) {
    // Readiness (or an error on the descriptor): do the call ourselves, here in the hub.
    finished = result < 0 ? absorb(result) : attempt();
  } else if (result == -EAGAIN) {
    force_poll_ = true;  // a descriptor the ring will not wait on for us
    finished = false;
  } else {
    finished = absorb(result);
  }
  if (!finished && cancelling_) {
    // The cancellation crossed a partial transfer (or a readiness) on its way: re-arming would
    // wait on with nobody left to cancel it. What was transferred is reported as interrupted.
    end();
    finish_interrupted();
    return;
  }
  if (!finished && !closed_) {
    try {
      arm();
      return;
    } catch (const std::system_error& e) {
      result_ = -e.code().value();
    }
  }
  end();
  finish();
}

void IoOperation::end() noexcept {
  if (registered_) current_scheduler().fd_waiters().remove(*this);
}

void IoOperation::cancel() noexcept {
  if (!in_flight_) return;
  cancelling_ = true;
  Scheduler& hub = current_scheduler();
  if (in_accept_queue_) {
    AcceptQueue* q = hub.accepts().find(request_.fd);
    if (q != nullptr && q->forget(*this)) complete(-ECANCELED, 0);
    return;
  }
  hub.backend().cancel(this);
}

void IoOperation::fail_closed() noexcept {
  closed_ = true;
  end();
  cancel();
}

std::string IoOperation::describe() const {
  return std::string(api_) + " on fd " + std::to_string(request_.fd);
}

long IoOperation::outcome(WakeReason why) const noexcept {
  if (closed_ && (interrupted() || result_ < 0)) return -EBADF;
  if (interrupted()) return why == WakeReason::kDeadline ? kDeadlinePassed : -ECANCELED;
  return result_;
}

void throw_io_error(const IoOperation& op, long outcome) {
  const std::string what = "cogent: " + std::string(op.api()) + " on fd " + std::to_string(op.fd());
  if (outcome == IoOperation::kDeadlinePassed) throw TimeoutError(what + " timed out");
  if (outcome == -EBADF) {
    throw std::system_error(EBADF, std::generic_category(), what + " (descriptor closed)");
  }
  throw std::system_error(static_cast<int>(-outcome), std::generic_category(), what);
}

std::size_t CountOutcome::take(const IoOperation& op, long outcome) {
  if (outcome < 0) throw_io_error(op, outcome);
  return static_cast<std::size_t>(outcome);
}

void ExactOutcome::take(const IoOperation& op, long outcome) {
  if (outcome < 0) throw_io_error(op, outcome);
  if (static_cast<std::size_t>(outcome) < op.total()) {
    throw EndOfStream("cogent: " + std::string(op.api()) + " on fd " + std::to_string(op.fd()) +
                      ": the peer closed the stream after " + std::to_string(outcome) + " of " +
                      std::to_string(op.total()) + " bytes");
  }
}

void DoneOutcome::take(const IoOperation& op, long outcome) {
  if (outcome < 0) throw_io_error(op, outcome);
}

int close_fd(int fd) noexcept {
  if (Hub* hub = Hub::existing()) {
    Scheduler& s = hub->scheduler();
    const bool cancelled = s.fd_waiters().fail_all(fd) > 0;
    s.accepts().close(fd);
    s.backend().forget_fd(fd);
    // A request still in the ring holds the file open: run the cancellations now, so that the
    // peer sees the close when close() returns, not at the next loop turn.
    if (cancelled) {
      try {
        s.backend().flush();
      } catch (const std::exception&) {
        // They stay queued for the next loop turn.
      }
    }
  }
  return ::close(fd) < 0 ? -errno : 0;
}

}  // namespace cogent::detail
