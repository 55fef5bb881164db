// The calls that close descriptors: close, close_range, closefrom and fclose forget the
// descriptors' table entries (fd_table.hpp) before libc closes them — a number freed here may be
// made again at once by another thread, whose entry must not be wiped — and then end the waits of
// other greenlets on them with EBADF (fd_wait.hpp). Natively a thread blocked in recv on a
// descriptor another thread closes keeps waiting; under the shim it fails with EBADF, as the
// runtime's own calls do.
//
// fclose closes through an alias inside glibc that the shim cannot see, so the stream's
// descriptor is taken first. The result and errno are always libc's.
//
// The hub's own descriptors (its io_uring ring or epoll instance, its wake-up eventfd) are kept
// from the program: a daemon closing every descriptor it does not know (a loop up to the limit,
// closefrom(3) before an exec) would otherwise take the loop from under its own greenlets.
// Natively those numbers are not open, so close() answers EBADF for them, as it does here.
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "backend/backend.hpp"
#include "cogent/hub.hpp"
#include "hub/scheduler.hpp"

#include "shim/cooperative.hpp"
#include "shim/fd_table.hpp"
#include "shim/fd_wait.hpp"
#include "shim/real.hpp"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

using cogent::shim::green_threads;

namespace {

/// The hub's descriptors, when the program (not the runtime) closes on the hub's thread.
const std::vector<int>* hub_fds() noexcept {
  if (cogent::shim::inside_runtime()) return nullptr;
  cogent::Hub* hub = cogent::Hub::existing();
  if (hub == nullptr) return nullptr;
  const std::vector<int>& fds = hub->scheduler().backend().own_fds();
  return fds.empty() ? nullptr : &fds;
}

bool hub_owned(int fd) noexcept {
  const std::vector<int>* fds = hub_fds();
  return fds != nullptr && std::find(fds->begin(), fds->end(), fd) != fds->end();
}

/// close_range over [first, last] in pieces that leave the hub's descriptors (sorted) open.
int close_range_around(const std::vector<int>& keep, unsigned first, unsigned last, int flags) {
  for (const int fd : keep) {
    const auto k = static_cast<unsigned>(fd);
    if (k < first || k > last) continue;
    if (k > first && COGENT_REAL(close_range)(first, k - 1, flags) != 0) return -1;
    if (k == last) return 0;
    first = k + 1;
  }
  return COGENT_REAL(close_range)(first, last, flags);
}

}  // namespace

extern "C" {

int close(int fd) {
  if (!green_threads()) return COGENT_REAL(close)(fd);
  if (hub_owned(fd)) {
    errno = EBADF;
    return -1;
  }
  cogent::shim::fd_forget(fd);
  const int r = COGENT_REAL(close)(fd);
  // EINTR and EIO still leave the descriptor closed on Linux.
  if (r == 0 || errno != EBADF) cogent::shim::descriptor_closed(fd);
  return r;
}

int close_range(unsigned first, unsigned last, int flags) noexcept {
  // With CLOSE_RANGE_CLOEXEC nothing is closed now; a bad range closes nothing either.
  if (!green_threads() || (flags & CLOSE_RANGE_CLOEXEC) != 0 || first > last) {
    return COGENT_REAL(close_range)(first, last, flags);
  }
  cogent::shim::fd_forget_range(first, last);
  const std::vector<int>* keep = hub_fds();
  const int r = keep != nullptr ? close_range_around(*keep, first, last, flags)
                                : COGENT_REAL(close_range)(first, last, flags);
  if (r == 0) cogent::shim::descriptors_closed(first, last);
  return r;
}

void closefrom(int lowest) noexcept {
  if (!green_threads() || lowest < 0) {
    COGENT_REAL(closefrom)(lowest);
    return;
  }
  const auto first = static_cast<unsigned>(lowest);
  cogent::shim::fd_forget_range(first, ~0U);
  const std::vector<int>* keep = hub_fds();
  if (keep == nullptr || close_range_around(*keep, first, ~0U, 0) != 0) {
    COGENT_REAL(closefrom)(lowest);
  }
  cogent::shim::descriptors_closed(first, ~0U);
}

int fclose(FILE* stream) {
  if (!green_threads() || stream == nullptr) return COGENT_REAL(fclose)(stream);
  const int saved_errno = errno;
  const int fd = fileno_unlocked(stream);  // -1 (and EBADF) for memory streams
  errno = saved_errno;
  if (fd >= 0) cogent::shim::fd_forget(fd);
  const int r = COGENT_REAL(fclose)(stream);
  if (fd >= 0) cogent::shim::descriptor_closed(fd);
  return r;
}

}  // extern "C"
