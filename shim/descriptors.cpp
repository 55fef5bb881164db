// The calls that make descriptors, keeping the descriptor table (fd_table.hpp) right: socket,
// socketpair, pipe and pipe2 make fresh entries (with the O_NONBLOCK the program asked for);
// dup, dup2 and dup3 make the new descriptor share the old one's entry. A descriptor that dup2 or
// dup3 replaced is closed by them: its waiters end with EBADF, as after close().
//
// All pass straight to libc and only record what they made, on any thread (in green-threads
// mode): a descriptor number made or freed by another thread must not leave a stale entry.
// glibc declares them noexcept; none of them waits.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/cooperative.hpp"
#include "shim/fd_table.hpp"
#include "shim/fd_wait.hpp"
#include "shim/real.hpp"

namespace cogent::shim {
namespace {

constexpr int kSocketTypeMask = 0xf;  // SOCK_TYPE_MASK: the type without SOCK_NONBLOCK/CLOEXEC

void created_socket(int fd, int type) noexcept {
  fd_created(fd, FdKind::kSocket, type & kSocketTypeMask, (type & SOCK_NONBLOCK) != 0);
}

void created_pipe(const int fds[2], int flags) noexcept {
  fd_created(fds[0], FdKind::kPipe, 0, (flags & O_NONBLOCK) != 0);
  fd_created(fds[1], FdKind::kPipe, 0, (flags & O_NONBLOCK) != 0);
}

// dup2/dup3 made `to` a duplicate of `from`, closing what `to` was.
void replaced(int from, int to) noexcept {
  fd_duplicated(from, to);
  descriptor_closed(to);
}

}  // namespace
}  // namespace cogent::shim

using cogent::shim::green_threads;

extern "C" {

int socket(int domain, int type, int protocol) noexcept {
  const int fd = COGENT_REAL(socket)(domain, type, protocol);
  if (fd >= 0 && green_threads()) cogent::shim::created_socket(fd, type);
  return fd;
}

int socketpair(int domain, int type, int protocol, int fds[2]) noexcept {
  const int r = COGENT_REAL(socketpair)(domain, type, protocol, fds);
  if (r == 0 && green_threads()) {
    cogent::shim::created_socket(fds[0], type);
    cogent::shim::created_socket(fds[1], type);
  }
  return r;
}

int pipe(int fds[2]) noexcept {
  const int r = COGENT_REAL(pipe)(fds);
  if (r == 0 && green_threads()) cogent::shim::created_pipe(fds, 0);
  return r;
}

int pipe2(int fds[2], int flags) noexcept {
  const int r = COGENT_REAL(pipe2)(fds, flags);
  if (r == 0 && green_threads()) cogent::shim::created_pipe(fds, flags);
  return r;
}

int dup(int fd) noexcept {
  const int r = COGENT_REAL(dup)(fd);
  if (r >= 0 && green_threads()) cogent::shim::fd_duplicated(fd, r);
  return r;
}

int dup2(int from, int to) noexcept {
  const int r = COGENT_REAL(dup2)(from, to);
  // dup2(fd, fd) checks fd and changes nothing.
  if (r >= 0 && from != to && green_threads()) cogent::shim::replaced(from, to);
  return r;
}

int dup3(int from, int to, int flags) noexcept {
  const int r = COGENT_REAL(dup3)(from, to, flags);
  if (r >= 0 && green_threads()) cogent::shim::replaced(from, to);
  return r;
}

}  // extern "C"
