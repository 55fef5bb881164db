// select and pselect for greenlets. A cooperative call with a timeout other than zero waits in a
// ReadinessWait (readiness.hpp) while the other greenlets run; the answer is always the real
// call's with a zero timeout, made on the sets as the program gave them (kept aside, since each
// real call overwrites them), so the sets returned, the count and the errors (EBADF for a closed
// descriptor in a set, EINVAL for a negative nfds or a bad timeout) are the kernel's.
//
// select's timeout is left holding the time not slept, as Linux does (also on EBADF and EINTR);
// pselect's is const. pselect's signal mask is handled as ppoll's (poll.cpp): not applied to the
// cooperative wait, which also ends when a signal the mask lets in is pending; the real calls
// are made with it, so that signal is delivered and pselect fails with EINTR as natively.
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "shim/cooperative.hpp"
#include "shim/readiness.hpp"
#include "shim/real.hpp"
#include "shim/timeouts.hpp"

namespace cogent::shim {
namespace {

constexpr int kBitsPerWord = CHAR_BIT * sizeof(unsigned long);

// What each set waits for, and what the kernel's select counts as ready in it (fs/select.c:
// POLLIN_SET, POLLOUT_SET, POLLEX_SET). A hang-up is reported in the read set only.
struct SetKind {
  std::uint32_t events;
  std::uint32_t reported;
};
constexpr std::array<SetKind, 3> kKinds{{
    {EPOLLIN | EPOLLRDNORM | EPOLLRDBAND,
     EPOLLIN | EPOLLRDNORM | EPOLLRDBAND | EPOLLHUP | EPOLLERR},
    {EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND, EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND | EPOLLERR},
    {EPOLLPRI, EPOLLPRI},
}};

// The size of this process's descriptor table ("FDSize" in /proc/self/status), -1 if unknown.
int descriptor_table_size() noexcept {
  const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char text[8192];
  std::size_t used = 0;
  for (;;) {
    const ssize_t n = COGENT_REAL(read)(fd, text + used, sizeof text - 1 - used);
    if (n <= 0) break;
    used += static_cast<std::size_t>(n);
  }
  COGENT_REAL(close)(fd);
  text[used] = '\0';
  const char* line = std::strstr(text, "\nFDSize:");
  return line == nullptr ? -1 : static_cast<int>(std::strtol(line + 8, nullptr, 10));
}

// How many bits of each set the kernel reads: nfds, clamped to the descriptor table's size. A
// program may pass an nfds far beyond its sets' storage (getdtablesize() under a high
// RLIMIT_NOFILE) and rely on that clamp, so reading more than the kernel would is not safe.
// Up to FD_SETSIZE the storage is an fd_set. -1 when the table's size cannot be read.
int bits_the_kernel_reads(int nfds) noexcept {
  if (nfds <= FD_SETSIZE) return nfds;
  const int table = descriptor_table_size();
  return table < 0 ? -1 : std::min(nfds, table);
}

// The program's sets as it gave them, to give them back before each real call.
class GivenSets {
 public:
  GivenSets(int bits, const std::array<fd_set*, 3>& sets)
      : bits_(bits), words_((bits + kBitsPerWord - 1) / kBitsPerWord), sets_(sets) {
    for (std::size_t k = 0; k < sets_.size(); ++k) {
      if (sets_[k] == nullptr || words_ == 0) continue;
      copies_[k].resize(words_);
      std::memcpy(copies_[k].data(), sets_[k], words_ * sizeof(unsigned long));
    }
  }

  void restore() const noexcept {
    for (std::size_t k = 0; k < sets_.size(); ++k) {
      if (sets_[k] != nullptr && words_ != 0) {
        std::memcpy(sets_[k], copies_[k].data(), words_ * sizeof(unsigned long));
      }
    }
  }

  void watch_all(ReadinessWait& wait) const {
    for (std::size_t k = 0; k < sets_.size(); ++k) {
      if (sets_[k] == nullptr || words_ == 0) continue;
      for (int fd = 0; fd < bits_; ++fd) {
        if ((copies_[k][fd / kBitsPerWord] >> (fd % kBitsPerWord)) & 1UL) {
          wait.watch(fd, kKinds[k].events, kKinds[k].reported);
        }
      }
    }
  }

 private:
  int bits_;
  std::size_t words_;
  std::array<fd_set*, 3> sets_;
  std::array<std::vector<unsigned long>, 3> copies_;
};

// The real call with a zero timeout (try_now) or with the time left (block): select's or
// pselect's.
struct RealSelect {
  int nfds;
  std::array<fd_set*, 3> sets;
  bool pselect;
  const sigset_t* mask;

  int call(TimePoint deadline) const {
    const bool forever = deadline == TimePoint::max();
    if (!pselect) {
      timeval left = timeval_until(deadline);
      return COGENT_REAL(select)(nfds, sets[0], sets[1], sets[2], forever ? nullptr : &left);
    }
    const timespec left = timespec_until(deadline);
    const auto real = [&] {
      return COGENT_REAL(pselect)(nfds, sets[0], sets[1], sets[2], forever ? nullptr : &left, mask);
    };
    return mask == nullptr ? real() : with_own_signals(real);
  }
};

int select_until(const RealSelect& real, TimePoint deadline, const char* api) {
  const int bits = bits_the_kernel_reads(real.nfds);
  if (bits < 0) return real.call(deadline);  // cannot keep the sets aside: wait natively
  const GivenSets given(bits, real.sets);
  const auto try_now = [&] {
    given.restore();
    return real.call(TimePoint::min());
  };
  if (const int n = try_now(); n != 0) return n;
  ReadinessWait wait;
  given.watch_all(wait);
  if (real.mask != nullptr) wait.watch_signals_let_in_by(*real.mask);
  return wait.retry_until(
      deadline, api, try_now,
      [&](TimePoint d) {
        given.restore();
        return real.call(d);
      },
      [&] {
        given.restore();  // untouched, as by a call that fails
        errno = EINTR;
        return -1;
      });
}

}  // namespace
}  // namespace cogent::shim

extern "C" {

int select(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds, timeval* timeout) {
  if (!cogent::shim::cooperative() || nfds < 0) {
    return COGENT_REAL(select)(nfds, readfds, writefds, exceptfds, timeout);
  }
  cogent::TimePoint deadline = cogent::TimePoint::max();
  if (timeout != nullptr) {
    // glibc's reading of the timeval (sysdeps/unix/sysv/linux/select.c): tv_usec as 32 bits, a
    // negative field is EINVAL (at once, in the real call), whole seconds in tv_usec carry over.
    const std::int64_t sec = timeout->tv_sec;
    const auto usec = static_cast<std::int32_t>(timeout->tv_usec);
    if (sec < 0 || usec < 0 || (sec == 0 && usec == 0)) {
      return COGENT_REAL(select)(nfds, readfds, writefds, exceptfds, timeout);
    }
    deadline = cogent::deadline_after(cogent::shim::WideNanos(
        static_cast<long double>(sec) * cogent::shim::kNanosPerSecond + usec * 1000.0L));
  }
  const cogent::shim::RealSelect real{nfds, {readfds, writefds, exceptfds}, false, nullptr};
  const int n = cogent::shim::select_until(real, deadline, "select");
  if (timeout != nullptr) *timeout = cogent::shim::timeval_until(deadline);
  return n;
}

int pselect(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds, const timespec* timeout,
            const sigset_t* mask) {
  // A bad timespec (EINVAL at once) and a zero one (no wait) go straight to the real call.
  if (!cogent::shim::cooperative() || nfds < 0 ||
      (timeout != nullptr && (!cogent::shim::valid_timespec(*timeout) ||
                              (timeout->tv_sec == 0 && timeout->tv_nsec == 0)))) {
    return COGENT_REAL(pselect)(nfds, readfds, writefds, exceptfds, timeout, mask);
  }
  const cogent::shim::RealSelect real{nfds, {readfds, writefds, exceptfds}, true, mask};
  return cogent::shim::select_until(real, cogent::shim::deadline_in(timeout), "pselect");
}

}  // extern "C"
