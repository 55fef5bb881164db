// read, write, readv, writev (and the fortified __read_chk) on sockets and pipes, cooperatively:
// each attempt is preadv2/pwritev2 with RWF_NOWAIT, which is exactly the program's call made
// non-blocking for once (zero lengths, MSG_EOR on a SOCK_SEQPACKET write, SIGPIPE, errors: all
// the kernel's own). A kernel that answers EOPNOTSUPP to RWF_NOWAIT for a kind of file gets the
// call with O_NONBLOCK set and cleared around it instead.
//
// When the descriptor is not ready: a socket read is handed to the backend as the equivalent
// receive (recv, or recvmsg for readv; zero-length reads never get there), other waits are for
// readiness followed by a new attempt. A write on a stream (pipe, SOCK_STREAM) goes on until every
// byte is written, as a blocking write does; its later attempts on a socket are sendmsg with
// MSG_NOSIGNAL, since the kernel raises no SIGPIPE for a call that wrote something.
//
// Regular files, ttys, devices, eventfds... and descriptors the program made non-blocking pass
// straight through (fd_call.hpp).
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <climits>
#include <cstddef>
#include <new>
#include <optional>

#include "cogent/detail/io_operation.hpp"
#include "shim/fd_call.hpp"
#include "shim/iov_cursor.hpp"
#include "shim/real.hpp"

extern "C" ssize_t __read_chk(int fd, void* buf, size_t nbytes, size_t buflen);

namespace cogent::shim {
namespace {

long nowait_readv(int fd, const iovec* iov, int count) noexcept {
  const long n = ::preadv2(fd, iov, count, -1, RWF_NOWAIT);
  if (n >= 0 || errno != EOPNOTSUPP) return syscall_result(n);
  return with_nonblocking(fd, [&] { return syscall_result(COGENT_REAL(readv)(fd, iov, count)); });
}

long nowait_writev(int fd, const iovec* iov, int count) noexcept {
  const long n = ::pwritev2(fd, iov, count, -1, RWF_NOWAIT);
  if (n >= 0 || errno != EOPNOTSUPP) return syscall_result(n);
  return with_nonblocking(fd, [&] { return syscall_result(COGENT_REAL(writev)(fd, iov, count)); });
}

long read_vector(int fd, const FdInfo& info, const iovec* iov, int count, const char* api) {
  const long r = nowait_readv(fd, iov, count);
  if (r != -EAGAIN) return r;
  BlockingCall call(fd, info, Direction::kReceive, api);
  if (info.kind == FdKind::kSocket) {
    detail::IoRequest request{detail::IoKind::kRecvv, fd, 0, const_cast<iovec*>(iov),
                              static_cast<std::size_t>(count)};
    if (count == 1) request = {detail::IoKind::kRecv, fd, 0, iov[0].iov_base, iov[0].iov_len};
    return call.receive(request);
  }
  return call.retry(POLLIN, [&] { return nowait_readv(fd, iov, count); });
}

long write_vector(int fd, const FdInfo& info, const iovec* iov, int count, const char* api) {
  BlockingCall call(fd, info, Direction::kSend, api);
  std::optional<IovCursor> rest;  // made at the first partial write
  std::size_t rest_at = 0;
  auto attempt = [&](std::size_t done, bool continuing) -> long {
    if (!continuing) return nowait_writev(fd, iov, count);
    try {
      if (!rest) rest.emplace(iov, count);
    } catch (const std::bad_alloc&) {
      return -ENOMEM;
    }
    rest->advance(done - rest_at);
    rest_at = done;
    if (info.kind != FdKind::kSocket) return nowait_writev(fd, rest->data(), rest->count());
    msghdr m{};
    m.msg_iov = rest->data();
    m.msg_iovlen = static_cast<std::size_t>(rest->count());
    return syscall_result(COGENT_REAL(sendmsg)(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL));
  };
  auto total = [&] {
    std::size_t sum = 0;
    for (int i = 0; i < count; ++i) sum += iov[i].iov_len;
    return sum;
  };
  return send_all(call, streams(info), attempt, total);
}

ssize_t read_cooperatively(int fd, void* buf, size_t count) {
  FdInfo info;
  if (count > SSIZE_MAX || !cooperating(fd, info)) return COGENT_REAL(read)(fd, buf, count);
  const int saved_errno = errno;
  const iovec v{buf, count};
  return libc_result(read_vector(fd, info, &v, 1, "read"), saved_errno);
}

}  // namespace
}  // namespace cogent::shim

using cogent::shim::cooperating;
using cogent::shim::FdInfo;
using cogent::shim::libc_result;

extern "C" {

ssize_t read(int fd, void* buf, size_t count) {
  return cogent::shim::read_cooperatively(fd, buf, count);
}

ssize_t __read_chk(int fd, void* buf, size_t nbytes, size_t buflen) {
  // Too long for the buffer: libc's own check reports it and aborts.
  if (nbytes > buflen) return COGENT_REAL(__read_chk)(fd, buf, nbytes, buflen);
  return cogent::shim::read_cooperatively(fd, buf, nbytes);
}

ssize_t readv(int fd, const iovec* iov, int count) {
  FdInfo info;
  if (!cooperating(fd, info)) return COGENT_REAL(readv)(fd, iov, count);
  const int saved_errno = errno;
  return libc_result(cogent::shim::read_vector(fd, info, iov, count, "readv"), saved_errno);
}

ssize_t write(int fd, const void* buf, size_t count) {
  FdInfo info;
  if (count > SSIZE_MAX || !cooperating(fd, info)) return COGENT_REAL(write)(fd, buf, count);
  const int saved_errno = errno;
  const iovec v{const_cast<void*>(buf), count};
  return libc_result(cogent::shim::write_vector(fd, info, &v, 1, "write"), saved_errno);
}

ssize_t writev(int fd, const iovec* iov, int count) {
  FdInfo info;
  if (!cooperating(fd, info)) return COGENT_REAL(writev)(fd, iov, count);
  const int saved_errno = errno;
  return libc_result(cogent::shim::write_vector(fd, info, iov, count, "writev"), saved_errno);
}

}  // extern "C"
