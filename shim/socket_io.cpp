// recv, recvfrom, recvmsg, send, sendto, sendmsg (and the fortified __recv_chk, __recvfrom_chk)
// on sockets, cooperatively. Each attempt is the program's own call with MSG_DONTWAIT added.
//
// Receives that find nothing are handed to the backend with the program's flags (in the io_uring
// ring; by readiness then a MSG_DONTWAIT receive on epoll). MSG_WAITALL on a SOCK_STREAM socket
// is a loop of receives until the buffer is full, the stream ends, an error, the deadline or a
// close stops it (the count so far is returned then, as the kernel does); with MSG_PEEK it is not
// (the same bytes would be counted again), and such a call returns what it could peek. Calls with
// MSG_DONTWAIT, MSG_ERRQUEUE or MSG_OOB never wait natively and pass straight through.
//
// Sends wait for writability and try again. On a SOCK_STREAM socket a partial send goes on until
// every byte is sent, its later attempts with MSG_NOSIGNAL (the kernel raises no SIGPIPE for a
// call that sent something); the first attempt raises SIGPIPE exactly as the program's call would,
// and MSG_NOSIGNAL is never added to it.
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <new>
#include <optional>

#include "cogent/detail/io_operation.hpp"
#include "shim/fd_call.hpp"
#include "shim/iov_cursor.hpp"
#include "shim/real.hpp"

extern "C" {
ssize_t __recv_chk(int fd, void* buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void* buf, size_t len, size_t buflen, int flags, sockaddr* addr,
                       socklen_t* addrlen);
}

namespace cogent::shim {
namespace {

// Receives that never wait natively: MSG_ERRQUEUE and MSG_OOB answer EAGAIN when there is
// nothing yet.
constexpr int kNeverWaits = MSG_DONTWAIT | MSG_ERRQUEUE | MSG_OOB;

// MSG_WAITALL is a loop here on a stream (the backend would not repeat a short receive on epoll,
// and io_uring would repeat one on SOCK_SEQPACKET, where the kernel ignores the flag). With
// MSG_PEEK the same bytes would be counted again: such a call returns what it could peek.
bool waits_for_all(const FdInfo& info, int flags) noexcept {
  return (flags & MSG_WAITALL) != 0 && (flags & MSG_PEEK) == 0 && info.socket_type == SOCK_STREAM;
}

long receive_once(BlockingCall& call, int fd, void* buf, std::size_t len, int flags, sockaddr* addr,
                  socklen_t* addrlen) {
  auto attempt = [&] {
    return syscall_result(COGENT_REAL(recvfrom)(fd, buf, len, flags | MSG_DONTWAIT, addr, addrlen));
  };
  long r = attempt();
  if (r != -EAGAIN) return r;
  // An address without its length is the kernel's EFAULT once the data is taken: its own call.
  if (addr != nullptr && addrlen == nullptr) return call.retry(POLLIN, attempt);
  if (addr == nullptr) return call.receive({detail::IoKind::kRecv, fd, flags, buf, len});
  iovec v{buf, len};
  msghdr m{};
  m.msg_name = addr;
  m.msg_namelen = *addrlen;
  m.msg_iov = &v;
  m.msg_iovlen = 1;
  r = call.receive({detail::IoKind::kRecvFrom, fd, flags, &m});
  if (r >= 0) *addrlen = m.msg_namelen;  // as recvfrom fills it: the full length, even if cut
  return r;
}

long receive(int fd, const FdInfo& info, void* buf, std::size_t len, int flags, sockaddr* addr,
             socklen_t* addrlen, const char* api) {
  BlockingCall call(fd, info, Direction::kReceive, api);
  const bool all = waits_for_all(info, flags);
  flags &= ~MSG_WAITALL;
  if (!all) return receive_once(call, fd, buf, len, flags, addr, addrlen);
  std::size_t done = 0;
  while (done < len) {
    const long n =
        receive_once(call, fd, static_cast<char*>(buf) + done, len - done, flags, addr, addrlen);
    if (n <= 0) return done > 0 ? static_cast<long>(done) : n;
    done += static_cast<std::size_t>(n);
    call.progressed();
  }
  return static_cast<long>(done);
}

long message_once(BlockingCall& call, int fd, msghdr* msg, int flags) {
  const long r = syscall_result(COGENT_REAL(recvmsg)(fd, msg, flags | MSG_DONTWAIT));
  if (r != -EAGAIN) return r;
  return call.receive({detail::IoKind::kRecvFrom, fd, flags, msg});
}

long receive_message(int fd, const FdInfo& info, msghdr* msg, int flags) {
  BlockingCall call(fd, info, Direction::kReceive, "recvmsg");
  const bool all = waits_for_all(info, flags);
  flags &= ~MSG_WAITALL;
  const long first = message_once(call, fd, msg, flags);
  if (!all || first <= 0) return first;
  // The rest goes into what is left of the program's buffers; the address, ancillary data and
  // msg_flags are those of the first part.
  try {
    IovCursor rest(msg->msg_iov, static_cast<int>(msg->msg_iovlen));
    const std::size_t total = rest.remaining();
    auto done = static_cast<std::size_t>(first);
    rest.advance(done);
    while (done < total) {
      call.progressed();
      msghdr piece{};
      piece.msg_iov = rest.data();
      piece.msg_iovlen = static_cast<std::size_t>(rest.count());
      const long n = message_once(call, fd, &piece, flags);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
      rest.advance(static_cast<std::size_t>(n));
    }
    return static_cast<long>(done);
  } catch (const std::bad_alloc&) {
    return first;
  }
}

ssize_t recvfrom_cooperatively(int fd, void* buf, size_t len, int flags, sockaddr* addr,
                               socklen_t* addrlen, const char* api) {
  FdInfo info;
  if ((flags & kNeverWaits) != 0 || !cooperating_socket(fd, info)) {
    return COGENT_REAL(recvfrom)(fd, buf, len, flags, addr, addrlen);
  }
  const int saved_errno = errno;
  return libc_result(receive(fd, info, buf, len, flags, addr, addrlen, api), saved_errno);
}

long send_message(int fd, const FdInfo& info, const msghdr* msg, int flags) {
  BlockingCall call(fd, info, Direction::kSend, "sendmsg");
  std::optional<IovCursor> rest;
  std::size_t rest_at = 0;
  auto attempt = [&](std::size_t done, bool continuing) -> long {
    if (!continuing) return syscall_result(COGENT_REAL(sendmsg)(fd, msg, flags | MSG_DONTWAIT));
    try {
      if (!rest) rest.emplace(msg->msg_iov, static_cast<int>(msg->msg_iovlen));
    } catch (const std::bad_alloc&) {
      return -ENOMEM;
    }
    rest->advance(done - rest_at);
    rest_at = done;
    // The address and the ancillary data went with the first part.
    msghdr piece{};
    piece.msg_iov = rest->data();
    piece.msg_iovlen = static_cast<std::size_t>(rest->count());
    return syscall_result(COGENT_REAL(sendmsg)(fd, &piece, flags | MSG_DONTWAIT | MSG_NOSIGNAL));
  };
  auto total = [&] {
    std::size_t sum = 0;
    for (std::size_t i = 0; i < msg->msg_iovlen; ++i) sum += msg->msg_iov[i].iov_len;
    return sum;
  };
  return send_all(call, streams(info), attempt, total);
}

}  // namespace
}  // namespace cogent::shim

using cogent::shim::BlockingCall;
using cogent::shim::cooperating_socket;
using cogent::shim::Direction;
using cogent::shim::FdInfo;
using cogent::shim::libc_result;
using cogent::shim::syscall_result;

extern "C" {

ssize_t recv(int fd, void* buf, size_t len, int flags) {
  return cogent::shim::recvfrom_cooperatively(fd, buf, len, flags, nullptr, nullptr, "recv");
}

ssize_t __recv_chk(int fd, void* buf, size_t len, size_t buflen, int flags) {
  if (len > buflen) return COGENT_REAL(__recv_chk)(fd, buf, len, buflen, flags);
  return cogent::shim::recvfrom_cooperatively(fd, buf, len, flags, nullptr, nullptr, "recv");
}

ssize_t recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* addr, socklen_t* addrlen) {
  return cogent::shim::recvfrom_cooperatively(fd, buf, len, flags, addr, addrlen, "recvfrom");
}

ssize_t __recvfrom_chk(int fd, void* buf, size_t len, size_t buflen, int flags, sockaddr* addr,
                       socklen_t* addrlen) {
  if (len > buflen) {
    return COGENT_REAL(__recvfrom_chk)(fd, buf, len, buflen, flags, addr, addrlen);
  }
  return cogent::shim::recvfrom_cooperatively(fd, buf, len, flags, addr, addrlen, "recvfrom");
}

ssize_t recvmsg(int fd, msghdr* msg, int flags) {
  FdInfo info;
  if ((flags & cogent::shim::kNeverWaits) != 0 || !cooperating_socket(fd, info)) {
    return COGENT_REAL(recvmsg)(fd, msg, flags);
  }
  const int saved_errno = errno;
  return libc_result(cogent::shim::receive_message(fd, info, msg, flags), saved_errno);
}

ssize_t send(int fd, const void* buf, size_t len, int flags) {
  FdInfo info;
  if ((flags & MSG_DONTWAIT) != 0 || !cooperating_socket(fd, info)) {
    return COGENT_REAL(send)(fd, buf, len, flags);
  }
  const int saved_errno = errno;
  BlockingCall call(fd, info, Direction::kSend, "send");
  auto attempt = [&](std::size_t done, bool continuing) {
    const int extra = MSG_DONTWAIT | (continuing ? MSG_NOSIGNAL : 0);
    return syscall_result(
        COGENT_REAL(send)(fd, static_cast<const char*>(buf) + done, len - done, flags | extra));
  };
  return libc_result(
      cogent::shim::send_all(call, cogent::shim::streams(info), attempt, [&] { return len; }),
      saved_errno);
}

ssize_t sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* addr,
               socklen_t addrlen) {
  FdInfo info;
  if ((flags & MSG_DONTWAIT) != 0 || !cooperating_socket(fd, info)) {
    return COGENT_REAL(sendto)(fd, buf, len, flags, addr, addrlen);
  }
  const int saved_errno = errno;
  BlockingCall call(fd, info, Direction::kSend, "sendto");
  auto attempt = [&](std::size_t done, bool continuing) {
    const int extra = MSG_DONTWAIT | (continuing ? MSG_NOSIGNAL : 0);
    return syscall_result(COGENT_REAL(sendto)(fd, static_cast<const char*>(buf) + done, len - done,
                                              flags | extra, addr, addrlen));
  };
  return libc_result(
      cogent::shim::send_all(call, cogent::shim::streams(info), attempt, [&] { return len; }),
      saved_errno);
}

ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
  FdInfo info;
  if ((flags & MSG_DONTWAIT) != 0 || !cooperating_socket(fd, info)) {
    return COGENT_REAL(sendmsg)(fd, msg, flags);
  }
  const int saved_errno = errno;
  return libc_result(cogent::shim::send_message(fd, info, msg, flags), saved_errno);
}

}  // extern "C"
