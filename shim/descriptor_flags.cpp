// The program's own settings on its descriptors, recorded in the descriptor table
// (fd_table.hpp) as the calls that make them pass through to libc: O_NONBLOCK from fcntl F_SETFL
// and ioctl FIONBIO, SO_RCVTIMEO and SO_SNDTIMEO from setsockopt, and the duplicates fcntl
// F_DUPFD / F_DUPFD_CLOEXEC makes. The shim never changes a flag for good, so F_GETFL and
// getsockopt need nothing: the kernel's answer is the program's own view.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstdarg>
#include <cstdint>
#include <cstring>

#include "shim/cooperative.hpp"
#include "shim/fd_table.hpp"
#include "shim/real.hpp"

namespace cogent::shim {
namespace {

// fcntl and fcntl64 are one function in glibc on 64-bit targets; both names are exported.
using Fcntl = int (*)(int, int, ...);

int fcntl_recorded(Fcntl real, int fd, int cmd, void* arg) {
  const int r = real(fd, cmd, arg);
  if (r < 0 || !green_threads()) return r;
  switch (cmd) {
    case F_SETFL:
      fd_set_nonblocking(fd, (reinterpret_cast<std::intptr_t>(arg) & O_NONBLOCK) != 0);
      break;
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
      fd_duplicated(fd, r);
      break;
    default:
      break;
  }
  return r;
}

// The timeval given to SO_RCVTIMEO / SO_SNDTIMEO: the C library's struct timeval for the _OLD
// option, a pair of 64-bit integers (__kernel_sock_timeval) for the _NEW one. The kernel has
// checked its length already.
std::int64_t timeout_given(int name, const void* value) noexcept {
  if (name == SO_RCVTIMEO_OLD || name == SO_SNDTIMEO_OLD) {
    timeval tv{};
    std::memcpy(&tv, value, sizeof tv);
    return timeout_of(tv.tv_sec, tv.tv_usec);
  }
  std::int64_t tv[2] = {};
  std::memcpy(tv, value, sizeof tv);
  return timeout_of(tv[0], tv[1]);
}

}  // namespace
}  // namespace cogent::shim

extern "C" {

int fcntl(int fd, int cmd, ...) {
  // Every command's argument is an int or a pointer, as glibc reads it.
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return cogent::shim::fcntl_recorded(COGENT_REAL(fcntl), fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return cogent::shim::fcntl_recorded(COGENT_REAL(fcntl64), fd, cmd, arg);
}

int ioctl(int fd, unsigned long request, ...) noexcept {
  va_list ap;
  va_start(ap, request);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  const int r = COGENT_REAL(ioctl)(fd, request, arg);
  if (r == 0 && request == FIONBIO && cogent::shim::green_threads()) {
    cogent::shim::fd_set_nonblocking(fd, *static_cast<const int*>(arg) != 0);
  }
  return r;
}

int setsockopt(int fd, int level, int name, const void* value, socklen_t len) noexcept {
  const int r = COGENT_REAL(setsockopt)(fd, level, name, value, len);
  if (r != 0 || level != SOL_SOCKET || !cogent::shim::green_threads()) return r;
  switch (name) {
    case SO_RCVTIMEO_OLD:
    case SO_RCVTIMEO_NEW:
      cogent::shim::fd_set_timeout(fd, true, cogent::shim::timeout_given(name, value));
      break;
    case SO_SNDTIMEO_OLD:
    case SO_SNDTIMEO_NEW:
      cogent::shim::fd_set_timeout(fd, false, cogent::shim::timeout_given(name, value));
      break;
    default:
      break;
  }
  return r;
}

}  // extern "C"
