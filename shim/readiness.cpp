// See readiness.hpp.
#include "shim/readiness.hpp"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <new>
#include <system_error>

#include "cogent/detail/core.hpp"
#include "cogent/error.hpp"
#include "cogent/hub.hpp"
#include "cogent/sleep.hpp"
#include "cogent/wait_fd.hpp"
#include "shim/cooperative.hpp"
#include "shim/errno_keeper.hpp"
#include "shim/real.hpp"
#include "shim/stuck.hpp"

namespace cogent::shim {
namespace {

// What the hub's own descriptor wait takes on both backends (libev knows read and write only).
bool plain_events(std::uint32_t events) noexcept {
  return events != 0 && (events & ~std::uint32_t{POLLIN | POLLOUT}) == 0;
}

void close_own(int& fd) noexcept {
  if (fd >= 0) COGENT_REAL(close)(fd);
  fd = -1;
}

}  // namespace

ReadinessWait::~ReadinessWait() {
  close_own(epoll_fd_);
  close_own(signal_fd_);
}

void ReadinessWait::watch(int fd, std::uint32_t events, std::uint32_t reported) {
  watches_.push_back(Watch{fd, events, reported});
}

void ReadinessWait::merge_duplicates() {
  merged_ = true;
  if (watches_.size() < 2) return;
  std::sort(watches_.begin(), watches_.end(),
            [](const Watch& a, const Watch& b) { return a.fd < b.fd; });
  std::size_t kept = 0;
  for (std::size_t i = 1; i < watches_.size(); ++i) {
    if (watches_[i].fd == watches_[kept].fd) {
      watches_[kept].events |= watches_[i].events;
      watches_[kept].reported |= watches_[i].reported;
    } else {
      watches_[++kept] = watches_[i];
    }
  }
  watches_.resize(kept + 1);
}

void ReadinessWait::watch_signals_let_in_by(const sigset_t& mask) {
  sigset_t blocked, let_in;
  sigemptyset(&let_in);
  if (::sigprocmask(SIG_BLOCK, nullptr, &blocked) != 0) return;
  bool any = false;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sigismember(&blocked, sig) == 1 && sigismember(&mask, sig) != 1) {
      any = sigaddset(&let_in, sig) == 0 || any;
    }
  }
  if (!any) return;
  // Readable while one of them is pending for this thread (or the process); never read, so the
  // signal stays pending for the real call to deliver.
  signal_fd_ = ::signalfd(-1, &let_in, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) cannot_wait_ = true;
}

bool ReadinessWait::build_epoll() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return false;
  for (const Watch& w : watches_) {
    epoll_event ev{};
    ev.events = w.events;
    ev.data.fd = w.fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, w.fd, &ev) == 0) {
      ++in_epoll_;
    } else if (errno != EPERM) {
      return false;  // ENOMEM, ENOSPC (max_user_watches), a nesting epoll refuses (ELOOP)
    }
  }
  if (signal_fd_ >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = signal_fd_;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, signal_fd_, &ev) != 0) return false;
    ++in_epoll_;
  }
  return true;
}

bool ReadinessWait::target(int& fd, short& events) {
  fd = -1;
  events = POLLIN;
  if (epoll_fd_ < 0) {
    const std::size_t count = watches_.size() + (signal_fd_ >= 0 ? 1 : 0);
    if (count == 0) return true;
    if (count == 1 && signal_fd_ >= 0) {
      fd = signal_fd_;
      return true;
    }
    if (count == 1 && plain_events(watches_.front().events)) {
      fd = watches_.front().fd;
      events = static_cast<short>(watches_.front().events);
      return true;
    }
    if (!build_epoll()) return false;
  }
  if (in_epoll_ > 0) fd = epoll_fd_;
  return true;
}

Woken ReadinessWait::wait(TimePoint deadline, const char* api) {
  if (cannot_wait_) return Woken::kCannotWait;
  ErrnoKeeper keep;
  RuntimeScope scope;
  int fd = -1;
  try {
    if (!call_) {
      // The call registers the waiting greenlet, so the hub must exist first (the main
      // greenlet's first cooperative call makes it).
      Hub::current();
      call_.emplace(Restart::kNever);
    }
    if (!merged_) merge_duplicates();
    short events = 0;
    if (!target(fd, events)) return Woken::kCannotWait;
    bool ready = false;
    const WaitEnd end = call_->run([&] {
      if (fd < 0) {
        sleep_until(deadline);  // nothing can become ready: a sleep (forever for no deadline)
        return;
      }
      // Not wait_fd(): it polls first, and the caller has just done that.
      detail::FdWaitOperation op(fd, events);
      ready = op.result(detail::block_on(op, deadline, api));
    });
    if (end != WaitEnd::kDone) return Woken::kInterrupted;
    return ready ? Woken::kReady : Woken::kDeadline;
  } catch (const LoopExit& e) {
    die_stuck(e);
  } catch (const std::system_error&) {
    // The hub could not watch it. A program descriptor closed under the wait: the retry reports
    // it (POLLNVAL, EBADF); should it not, the call goes on natively rather than spin here.
    cannot_wait_ = true;
    if (fd >= 0 && fd != epoll_fd_ && fd != signal_fd_) return Woken::kReady;
    return Woken::kCannotWait;
  } catch (const std::bad_alloc&) {
    return Woken::kCannotWait;
  }
}

void ReadinessWait::settle() {
  std::vector<pollfd> now;
  now.reserve(watches_.size());
  for (const Watch& w : watches_) {
    now.push_back(pollfd{w.fd, static_cast<short>(w.events), 0});
  }
  if (COGENT_REAL(poll)(now.data(), now.size(), 0) <= 0) return;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < watches_.size(); ++i) {
    const auto revents = static_cast<std::uint16_t>(now[i].revents);
    if (revents != 0 && (revents & watches_[i].reported) == 0) {
      // Level-triggered and lasting (a hang-up): it would wake every wait until the deadline.
      if (epoll_fd_ >= 0 && ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, watches_[i].fd, nullptr) == 0) {
        --in_epoll_;
      }
      continue;
    }
    watches_[kept++] = watches_[i];
  }
  watches_.resize(kept);
}

void aim_signals_at_caller() noexcept {
  if (Hub::existing() != nullptr) aim_next_signal_at(detail::current_core());
}

void aim_signals_at_nobody() noexcept {
  if (Hub::existing() != nullptr) aim_next_signal_at(nullptr);
}

}  // namespace cogent::shim
