// The calls that close descriptors: close, close_range, closefrom and fclose forget the
// descriptors' table entries (fd_table.hpp) before libc closes them — a number freed here may be
// made again at once by another thread, whose entry must not be wiped — and then end the waits of
// other greenlets on them with EBADF (fd_wait.hpp). Natively a thread blocked in recv on a
// descriptor another thread closes keeps waiting; under the shim it fails with EBADF, as the
// runtime's own calls do.
//
// fclose closes through an alias inside glibc that the shim cannot see, so the stream's
// descriptor is taken first. The result and errno are always libc's.
#include <stdio.h>
#include <unistd.h>

#include <cerrno>

#include "shim/cooperative.hpp"
#include "shim/fd_table.hpp"
#include "shim/fd_wait.hpp"
#include "shim/real.hpp"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

using cogent::shim::green_threads;

extern "C" {

int close(int fd) {
  if (!green_threads()) return COGENT_REAL(close)(fd);
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
  const int r = COGENT_REAL(close_range)(first, last, flags);
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
  COGENT_REAL(closefrom)(lowest);
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
