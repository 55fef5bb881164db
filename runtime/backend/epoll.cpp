#include <ev.h>
#include <poll.h>

#include <cerrno>
#include <cmath>
#include <string>
#include <system_error>
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

  void poll_fd(int fd, short events, IoCompletion* c) override {
    Watcher* w = take_watcher();
    w->completion = c;
    c->backend_data = w;
    int ev_events = 0;
    if (events & POLLIN) ev_events |= EV_READ;
    if (events & POLLOUT) ev_events |= EV_WRITE;
    ev_io_init(&w->io, &EpollBackend::on_io, fd, ev_events);
    ev_io_start(loop_, &w->io);
    ++pending_;
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
    free_.push_back(w);
    --pending_;
    c->complete(result, 0);
  }

  Watcher* take_watcher() {
    if (free_.empty()) return new Watcher;
    Watcher* w = free_.back();
    free_.pop_back();
    return w;
  }

  struct ev_loop* loop_ = nullptr;
  ev_async wake_;
  ev_timer deadline_;
  std::vector<Watcher*> free_;
  std::size_t pending_ = 0;
};

}  // namespace

std::unique_ptr<Backend> make_epoll_backend() { return std::make_unique<EpollBackend>(); }

}  // namespace cogent::detail
