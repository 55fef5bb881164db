#include <ev.h>
#include <poll.h>

#include <cerrno>
#include <cmath>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "backend/backend.hpp"

namespace cogent::detail {
namespace {

class EpollBackend final : public Backend {
 public:
  EpollBackend() {
    // NOSIGMASK: libev must not touch the signal mask, which belongs to the program.
    loop_ = ev_loop_new(unsigned{EVBACKEND_EPOLL} | unsigned{EVFLAG_NOENV} |
                        unsigned{EVFLAG_NOSIGMASK});
    if (loop_ == nullptr) {
      throw std::system_error(errno ? errno : ENOSYS, std::generic_category(),
                              "cogent: ev_loop_new(EVBACKEND_EPOLL)");
    }
    ev_set_userdata(loop_, this);
    ev_async_init(&wake_, [](struct ev_loop*, ev_async*, int) {});
    ev_async_start(loop_, &wake_);
    ev_unref(loop_);  // the wake-up source alone must not keep ev_run busy
    ev_init(&deadline_, [](struct ev_loop*, ev_timer*, int) {});
  }

  ~EpollBackend() override {
    ev_ref(loop_);
    ev_async_stop(loop_, &wake_);
    ev_timer_stop(loop_, &deadline_);
    for (Watcher* w : free_) delete w;
    for (Watcher* w : idle_by_fd_) delete w;
    ev_loop_destroy(loop_);
  }

  const char* name() const noexcept override { return "epoll"; }
  std::string features() const override {
    return "libev " + std::to_string(ev_version_major()) + "." +
           std::to_string(ev_version_minor()) + " on epoll";
  }

  void wait(std::chrono::nanoseconds timeout) override {
    if (timeout.count() == 0) {
      ev_run(loop_, EVRUN_NOWAIT);
      return;
    }
    if (timeout.count() > 0) {
      // libev measures timers from its cached "now", which may be stale after a long turn.
      ev_now_update(loop_);
      ev_timer_set(&deadline_, std::chrono::duration<double>(timeout).count(), 0.);
      ev_timer_start(loop_, &deadline_);
    }
    // The async watcher is unref'ed, so with nothing else active ev_run would return at once;
    // keep it referenced while we block so a wake() can end the wait.
    ev_ref(loop_);
    ev_run(loop_, EVRUN_ONCE);
    ev_unref(loop_);
    ev_timer_stop(loop_, &deadline_);
  }

  void wake() noexcept override { ev_async_send(loop_, &wake_); }

  void poll_fd(int fd, short events, IoCompletion* c, bool owned) override {
    int ev_events = 0;
    if (events & POLLIN) ev_events |= EV_READ;
    if (events & POLLOUT) ev_events |= EV_WRITE;
    Watcher* w = take_watcher(fd, ev_events);
    w->completion = c;
    w->keep = owned;
    c->backend_data = w;
    ev_io_start(loop_, &w->io);
    ++pending_;
  }

  void forget_fd(int fd) noexcept override {
    if (fd < 0 || static_cast<std::size_t>(fd) >= idle_by_fd_.size()) return;
    if (Watcher* w = std::exchange(idle_by_fd_[static_cast<std::size_t>(fd)], nullptr)) {
      free_.push_back(w);
    }
  }

  void cancel(IoCompletion* c) noexcept override {
    auto* w = static_cast<Watcher*>(c->backend_data);
    if (w == nullptr) return;
    finish(w, -ECANCELED);
  }

  std::size_t pending() const noexcept override { return pending_; }

 private:
  struct Watcher {
    ev_io io;
    IoCompletion* completion = nullptr;
    bool keep = false;  // the descriptor's closing will be reported (forget_fd)
  };

  static void on_io(struct ev_loop* loop, ev_io* io, int revents) {
    auto* self = static_cast<EpollBackend*>(ev_userdata(loop));
    auto* w = reinterpret_cast<Watcher*>(io);
    // libev reports EV_ERROR when epoll refused the fd (closed, or a kind epoll cannot watch).
    int result = 0;
    if (revents & EV_ERROR) {
      result = -EBADF;
    } else {
      if (revents & EV_READ) result |= POLLIN;
      if (revents & EV_WRITE) result |= POLLOUT;
    }
    self->finish(w, result);
  }

  void finish(Watcher* w, int result) noexcept {
    ev_io_stop(loop_, &w->io);
    IoCompletion* c = w->completion;
    c->backend_data = nullptr;
    w->completion = nullptr;
    if (w->keep) {
      keep_idle(w);
    } else {
      free_.push_back(w);
    }
    --pending_;
    c->complete(result, 0);
  }

  // A watcher re-started on the same descriptor with the same events costs libev no epoll_ctl;
  // a fresh one (ev_io_set) always does. So each descriptor keeps its last watcher while idle,
  // until close_fd() says the descriptor is gone (forget_fd).
  Watcher* take_watcher(int fd, int ev_events) {
    const auto slot = static_cast<std::size_t>(fd);
    if (slot < idle_by_fd_.size()) {
      if (Watcher* w = std::exchange(idle_by_fd_[slot], nullptr)) {
        if ((w->io.events & ~EV__IOFDSET) == ev_events) return w;
        free_.push_back(w);
      }
    }
    Watcher* w;
    if (free_.empty()) {
      w = new Watcher;
    } else {
      w = free_.back();
      free_.pop_back();
    }
    ev_io_init(&w->io, &EpollBackend::on_io, fd, ev_events);
    return w;
  }

  void keep_idle(Watcher* w) {
    const auto slot = static_cast<std::size_t>(w->io.fd);
    if (slot >= idle_by_fd_.size()) idle_by_fd_.resize(slot + 1 + slot / 2, nullptr);
    if (Watcher* old = std::exchange(idle_by_fd_[slot], w)) free_.push_back(old);
  }

  struct ev_loop* loop_ = nullptr;
  ev_async wake_;
  ev_timer deadline_;
  std::vector<Watcher*> free_;
  std::vector<Watcher*> idle_by_fd_;
  std::size_t pending_ = 0;
};

}  // namespace

std::unique_ptr<Backend> make_epoll_backend() { return std::make_unique<EpollBackend>(); }

}  // namespace cogent::detail
