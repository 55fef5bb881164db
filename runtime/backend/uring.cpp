#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

#include "backend/backend.hpp"

namespace cogent::detail {
namespace {

// user_data of requests whose completion nobody waits for (cancellations).
constexpr std::uint64_t kIgnored = 0;

class UringBackend final : public Backend {
 public:
  UringBackend() = default;
  ~UringBackend() override {
    if (ring_ready_) io_uring_queue_exit(&ring_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  int init() {
    // Strongest setup first; each flag set needs a newer kernel than the next. EINVAL means
    // "unknown flag", anything else (EPERM from sysctl or seccomp, ENOSYS, ENOMEM) is final.
    static constexpr unsigned kFlagSets[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,  // 6.1
        IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,    // 5.19
        0,
    };
    int rc = -EINVAL;
    for (unsigned flags : kFlagSets) {
      io_uring_params p{};
      p.flags = flags;
      rc = io_uring_queue_init_params(kEntries, &ring_, &p);
      if (rc == 0) {
        setup_flags_ = flags;
        features_ = p.features;
        break;
      }
      if (rc != -EINVAL) return rc;
    }
    if (rc != 0) return rc;
    ring_ready_ = true;
    defer_taskrun_ = (setup_flags_ & IORING_SETUP_DEFER_TASKRUN) != 0;
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) return -errno;
    arm_wake();
    return 0;
  }

  const char* name() const noexcept override { return "uring"; }

  std::string features() const override {
    std::string s = "io_uring setup:";
    if (setup_flags_ & IORING_SETUP_SINGLE_ISSUER) s += " SINGLE_ISSUER";
    if (setup_flags_ & IORING_SETUP_DEFER_TASKRUN) s += " DEFER_TASKRUN";
    if (setup_flags_ & IORING_SETUP_COOP_TASKRUN) s += " COOP_TASKRUN";
    if (setup_flags_ == 0) s += " (none)";
    s += "; features:";
    if (features_ & IORING_FEAT_EXT_ARG) s += " EXT_ARG";
    if (features_ & IORING_FEAT_NODROP) s += " NODROP";
    if (features_ & IORING_FEAT_FAST_POLL) s += " FAST_POLL";
    s += multishot_poll_ ? " POLL_MULTI" : " (single-shot poll)";
    return s;
  }

  void wait(std::chrono::nanoseconds timeout) override {
    int rc;
    if (timeout.count() == 0) {
      // With DEFER_TASKRUN completions are only posted when we enter the kernel to get events.
      rc = defer_taskrun_ || io_uring_sq_ready(&ring_) > 0 ? io_uring_submit_and_get_events(&ring_)
                                                           : 0;
    } else if (timeout.count() < 0) {
      rc = io_uring_submit_and_wait(&ring_, 1);
    } else {
      __kernel_timespec ts{};
      ts.tv_sec = timeout.count() / 1'000'000'000;
      ts.tv_nsec = timeout.count() % 1'000'000'000;
      io_uring_cqe* cqe = nullptr;
      rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    }
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      throw std::system_error(-rc, std::generic_category(), "cogent: io_uring_enter");
    }
    reap();
  }

  void wake() noexcept override {
    const std::uint64_t one = 1;
    // EAGAIN means the counter is saturated: a wake-up is pending anyway.
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }

  void poll_fd(int fd, short events, IoCompletion* c, bool) override {
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_poll_add(sqe, fd, static_cast<unsigned>(events));
    io_uring_sqe_set_data(sqe, c);
    ++pending_;
  }

  bool async_io() const noexcept override { return true; }

  void submit(const IoRequest& r, IoCompletion* c) override {
    io_uring_sqe* sqe = next_sqe();
    const auto len = static_cast<unsigned>(r.len);
    const auto offset = static_cast<__u64>(r.offset);  // -1: the file position
    switch (r.kind) {
      case IoKind::kRecv:
        io_uring_prep_recv(sqe, r.fd, r.buf, r.len, r.flags);
        break;
      case IoKind::kSend:
        io_uring_prep_send(sqe, r.fd, r.buf, r.len, r.flags | MSG_NOSIGNAL);
        break;
      case IoKind::kRead:
        io_uring_prep_read(sqe, r.fd, r.buf, len, offset);
        break;
      case IoKind::kWrite:
        io_uring_prep_write(sqe, r.fd, r.buf, len, offset);
        break;
      case IoKind::kRecvFrom:
        io_uring_prep_recvmsg(sqe, r.fd, static_cast<msghdr*>(r.buf),
                              static_cast<unsigned>(r.flags));
        break;
      case IoKind::kSendTo:
        io_uring_prep_sendmsg(sqe, r.fd, static_cast<const msghdr*>(r.buf),
                              static_cast<unsigned>(r.flags | MSG_NOSIGNAL));
        break;
      case IoKind::kAccept:
        io_uring_prep_accept(sqe, r.fd, static_cast<sockaddr*>(r.buf), r.addrlen, r.flags);
        break;
      case IoKind::kFsync:
        io_uring_prep_fsync(sqe, r.fd, r.flags ? IORING_FSYNC_DATASYNC : 0);
        break;
      case IoKind::kAcceptMultishot:
        io_uring_prep_multishot_accept(sqe, r.fd, nullptr, nullptr, r.flags);
        break;
      case IoKind::kOpenAt:
        io_uring_prep_openat(sqe, AT_FDCWD, static_cast<const char*>(r.buf), r.flags | O_CLOEXEC,
                             static_cast<mode_t>(r.len));
        break;
      case IoKind::kConnect:
        throw std::logic_error("cogent: connect is polled, not submitted");
      case IoKind::kRecvv:
      case IoKind::kSendv:
        throw std::logic_error("cogent: vectored socket calls are submitted as msghdr calls");
    }
    io_uring_sqe_set_data(sqe, c);
    ++pending_;
  }

  void cancel(IoCompletion* c) noexcept override {
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_cancel(sqe, c, 0);
    io_uring_sqe_set_data64(sqe, kIgnored);
  }

  void flush() override {
    // get_events also runs the deferred task work (DEFER_TASKRUN) that finishes cancellations.
    const int rc = io_uring_submit_and_get_events(&ring_);
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      throw std::system_error(-rc, std::generic_category(), "cogent: io_uring_enter");
    }
  }

  std::size_t pending() const noexcept override { return pending_; }

 private:
  static constexpr unsigned kEntries = 1024;

  struct WakeCompletion final : IoCompletion {
    UringBackend* owner = nullptr;
    void complete(int result, std::uint32_t flags) noexcept override {
      owner->on_wake(result, flags);
    }
  };

  void arm_wake() {
    wake_.owner = this;
    io_uring_sqe* sqe = next_sqe();
    if (multishot_poll_) {
      io_uring_prep_poll_multishot(sqe, wake_fd_, POLLIN);
    } else {
      io_uring_prep_poll_add(sqe, wake_fd_, POLLIN);
    }
    io_uring_sqe_set_data(sqe, &wake_);
  }

  void on_wake(int result, std::uint32_t flags) {
    std::uint64_t value;
    while (::read(wake_fd_, &value, sizeof value) > 0) {
    }
    // Kernels before 5.13 reject multishot poll with EINVAL: use single-shot from then on.
    if (result == -EINVAL && multishot_poll_) multishot_poll_ = false;
    // A multishot poll ends (no F_MORE) on overflow or error; a single-shot one always does.
    if (!(flags & IORING_CQE_F_MORE) || result < 0) arm_wake();
  }

  io_uring_sqe* next_sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    while (sqe == nullptr) {
      // The SQ ring is full: hand the batch to the kernel now and take a fresh slot.
      int rc = io_uring_submit(&ring_);
      if (rc < 0 && rc != -EAGAIN && rc != -EBUSY) {
        throw std::system_error(-rc, std::generic_category(), "cogent: io_uring_submit");
      }
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  void reap() {
    io_uring_cqe* cqe;
    unsigned head;
    unsigned seen = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      const std::uint64_t data = io_uring_cqe_get_data64(cqe);
      // LIBURING_UDATA_TIMEOUT marks the timeout liburing queues itself on kernels without
      // EXT_ARG (before 5.11) to implement submit_and_wait_timeout.
      if (data == kIgnored || data == LIBURING_UDATA_TIMEOUT) continue;
      auto* c = reinterpret_cast<IoCompletion*>(static_cast<std::uintptr_t>(data));
      if (c != &wake_ && !(cqe->flags & IORING_CQE_F_MORE)) --pending_;
      c->complete(cqe->res, cqe->flags);
    }
    io_uring_cq_advance(&ring_, seen);
  }

  io_uring ring_{};
  bool ring_ready_ = false;
  bool defer_taskrun_ = false;
  bool multishot_poll_ = true;
  unsigned setup_flags_ = 0;
  unsigned features_ = 0;
  int wake_fd_ = -1;
  WakeCompletion wake_;
  std::size_t pending_ = 0;
};

}  // namespace

std::unique_ptr<Backend> make_uring_backend(std::string& why_not) {
  auto backend = std::make_unique<UringBackend>();
  if (int rc = backend->init(); rc < 0) {
    why_not = std::string("io_uring_setup: ") + std::strerror(-rc);
    return nullptr;
  }
  return backend;
}

}  // namespace cogent::detail
