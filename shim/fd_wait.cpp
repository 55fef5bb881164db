// The waits of cooperative descriptor calls (see fd_wait.hpp). Readiness waits are the shim's own
// operation, kept in a list per descriptor so that a close finds them; receives in the backend are
// the runtime's IoOperation, which the hub's own list (FdWaiters) already holds.
#include "shim/fd_wait.hpp"

#include <poll.h>
#include <pthread.h>

#include <algorithm>
#include <cerrno>
#include <new>
#include <string>
#include <system_error>
#include <vector>

#include "cogent/error.hpp"
#include "cogent/hub.hpp"
#include "cogent/sleep.hpp"
#include "hub/scheduler.hpp"
#include "shim/cooperative.hpp"
#include "shim/stuck.hpp"

namespace cogent::shim {
namespace {

class DescriptorReady;

// The hub thread's waits by descriptor. Touched only on the hub thread inside a RuntimeScope (so
// never by a signal handler that interrupted it). Never destroyed: greenlets still wait while the
// process exits.
struct Registry {
  std::vector<DescriptorReady*> heads;  // readiness waits, linked through the waits themselves
  int highest = -1;                     // the largest descriptor anything has waited on
};

Registry& registry() {
  static auto* r = new Registry;
  return *r;
}

void note_descriptor(int fd) noexcept {
  Registry& r = registry();
  if (fd > r.highest) r.highest = fd;
}

// One wait for `fd` to become ready: a one-shot poll in the backend.
class DescriptorReady final : public detail::Operation, private detail::IoCompletion {
 public:
  DescriptorReady(int fd, short events) noexcept : fd_(fd), events_(events) {}
  ~DescriptorReady() { unlink(); }

  void start() override {
    link();
    // `owned`: the descriptor's closing is reported (descriptor_closed → forget_fd), so the
    // epoll backend may keep its watcher between waits.
    detail::current_scheduler().backend().poll_fd(fd_, events_, this, true);
    submitted_ = true;
  }

  void cancel() noexcept override {
    if (submitted_) detail::current_scheduler().backend().cancel(this);
  }

  std::string describe() const override {
    return "fd " + std::to_string(fd_) + ((events_ & POLLOUT) ? " writable" : " readable");
  }

  long result(detail::WakeReason why) const noexcept {
    // Closed: even if readiness won the race, the descriptor is gone (or already another file).
    if (closed_) return -EBADF;
    if (!interrupted()) return 0;
    return why == detail::WakeReason::kDeadline ? -EAGAIN : -EINTR;
  }

  void fail_closed() noexcept {
    closed_ = true;
    unlink();
    cancel();
  }

  DescriptorReady* next() const noexcept { return next_; }

 private:
  void complete(int result, std::uint32_t) noexcept override {
    submitted_ = false;
    // An error of the poll itself (EBADF from epoll, say) counts as ready: the caller's next
    // attempt reports the descriptor's own error.
    if (result == -ECANCELED) {
      finish_interrupted();
    } else {
      finish();
    }
  }

  void link() {
    auto& heads = registry().heads;
    const auto slot = static_cast<std::size_t>(fd_);
    if (slot >= heads.size()) heads.resize(slot + 1 + slot / 2, nullptr);
    prev_ = nullptr;
    next_ = heads[slot];
    if (next_ != nullptr) next_->prev_ = this;
    heads[slot] = this;
    linked_ = true;
  }

  void unlink() noexcept {
    if (!linked_) return;
    if (prev_ != nullptr) {
      prev_->next_ = next_;
    } else {
      registry().heads[static_cast<std::size_t>(fd_)] = next_;
    }
    if (next_ != nullptr) next_->prev_ = prev_;
    prev_ = next_ = nullptr;
    linked_ = false;
  }

  int fd_;
  short events_;
  bool submitted_ = false;
  bool closed_ = false;
  bool linked_ = false;
  DescriptorReady* prev_ = nullptr;
  DescriptorReady* next_ = nullptr;
};

// The receive's outcome as the runtime reports it: bytes or -errno.
struct RawOutcome {
  static long take(const detail::IoOperation&, long outcome) noexcept { return outcome; }
};

// Wakes every wait on `fd` (inside a RuntimeScope); returns how many there were.
std::size_t fail_waits(detail::Scheduler& s, int fd) noexcept {
  std::size_t woken = 0;
  auto& heads = registry().heads;
  if (static_cast<std::size_t>(fd) < heads.size()) {
    for (DescriptorReady* w = heads[static_cast<std::size_t>(fd)]; w != nullptr;) {
      DescriptorReady* next = w->next();  // fail_closed() unlinks it
      w->fail_closed();
      w = next;
      ++woken;
    }
  }
  woken += s.fd_waiters().fail_all(fd);
  s.accepts().close(fd);
  s.backend().forget_fd(fd);
  return woken;
}

// A requested cancellation must reach the ring now: a receive still in it holds the file open,
// and the peer must see the close when close() returns.
void flush_cancellations(detail::Scheduler& s) noexcept {
  try {
    s.backend().flush();
  } catch (const std::exception&) {
    // They stay queued for the next loop turn.
  }
}

// In a child after fork() the waits belong to greenlets of the parent's hub: forget them.
void forget_waits_in_child() noexcept {
  Registry& r = registry();
  r.heads.assign(r.heads.size(), nullptr);
  r.highest = -1;
}

[[gnu::constructor]] void watch_forks() {
  ::pthread_atfork(nullptr, nullptr, forget_waits_in_child);
}

}  // namespace

long wait_ready(int fd, short events, TimePoint deadline, const char* api) {
  RuntimeScope scope;
  try {
    note_descriptor(fd);
    return detail::run_blocking<DescriptorReady>(api, deadline, fd, events);
  } catch (const LoopExit& e) {
    die_stuck(e);
  } catch (const std::system_error& e) {
    return -e.code().value();
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  }
}

long receive_in_backend(const detail::IoRequest& request, TimePoint deadline, const char* api) {
  RuntimeScope scope;
  try {
    note_descriptor(request.fd);
    const long outcome = detail::run_blocking<detail::IoOp<RawOutcome>>(
        api, deadline, api, request, detail::IoStart::kSubmitFirst, false, nullptr);
    if (outcome == detail::IoOperation::kDeadlinePassed) return -EAGAIN;
    if (outcome == -ECANCELED) return -EINTR;
    return outcome;
  } catch (const LoopExit& e) {
    die_stuck(e);
  } catch (const std::system_error& e) {
    return -e.code().value();
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  }
}

void pause_until(TimePoint until) {
  RuntimeScope scope;
  cogent::sleep_until(until);
}

void descriptor_closed(int fd) noexcept {
  Hub* hub = Hub::existing();
  if (hub == nullptr || fd < 0 || fd > registry().highest || !cooperative()) return;
  const int saved_errno = errno;
  RuntimeScope scope;
  detail::Scheduler& s = hub->scheduler();
  if (fail_waits(s, fd) > 0) flush_cancellations(s);
  errno = saved_errno;
}

void descriptors_closed(unsigned first, unsigned last) noexcept {
  Hub* hub = Hub::existing();
  if (hub == nullptr || registry().highest < 0 || !cooperative()) return;
  const int saved_errno = errno;
  RuntimeScope scope;
  detail::Scheduler& s = hub->scheduler();
  const auto end = std::min<unsigned>(last, static_cast<unsigned>(registry().highest));
  std::size_t woken = 0;
  for (unsigned fd = first; fd <= end; ++fd) woken += fail_waits(s, static_cast<int>(fd));
  if (woken > 0) flush_cancellations(s);
  errno = saved_errno;
}

}  // namespace cogent::shim
