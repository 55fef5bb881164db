// accept, accept4 and connect on blocking sockets, cooperatively. Neither call has a per-call
// non-blocking flag, so each attempt runs with O_NONBLOCK set on the socket and cleared right
// after (FIONBIO): nothing runs in between, and a listener accepts into sockets that do not
// inherit the flag (Linux never copies file status flags to an accepted socket).
//
// accept waits for readability and tries again; SO_RCVTIMEO bounds it with EAGAIN, as natively.
// connect answers EINPROGRESS when the connection cannot complete at once: the greenlet waits
// for writability, then connect again gives the outcome (0, ECONNREFUSED, ETIMEDOUT...). When
// SO_SNDTIMEO passes first the call fails with EINPROGRESS and the connection goes on, as Linux
// does. A Unix stream connect to a listener whose backlog is full answers EAGAIN and is tried
// again, paced, until it gets in or SO_SNDTIMEO passes.
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>

#include "shim/cooperative.hpp"
#include "shim/fd_call.hpp"
#include "shim/real.hpp"

namespace cogent::shim {
namespace {

long connect_once(int fd, const sockaddr* addr, socklen_t len) noexcept {
  return with_nonblocking(fd, [&] { return syscall_result(COGENT_REAL(connect)(fd, addr, len)); });
}

// The connection is under way: once the socket is writable, connect is called again, which is
// what ends a blocking connect in the kernel too: 0 with the socket marked connected (a later
// connect says EISCONN), or the connection's error with the socket back to unconnected (a later
// connect starts afresh; reading SO_ERROR instead would leave it "connecting", and the next
// connect would say ECONNABORTED). EALREADY: not done yet.
long finish_connect(BlockingCall& call, int fd, const sockaddr* addr, socklen_t len) {
  for (;;) {
    const long w = call.wait(POLLOUT);
    if (w == -EAGAIN) return -EINPROGRESS;  // SO_SNDTIMEO passed: Linux's answer
    if (w < 0) return w;
    const long r = connect_once(fd, addr, len);
    if (r == -EISCONN) return 0;  // what some protocols answer once connected
    if (r != -EALREADY) return r;
  }
}

// A full Unix listener backlog: nothing to wait on but time.
long connect_again(BlockingCall& call, int fd, const sockaddr* addr, socklen_t len) {
  TimePoint deadline;
  if (!call.deadline(deadline)) return -EAGAIN;
  Duration pace = std::chrono::milliseconds(1);
  for (;;) {
    const TimePoint now = Clock::now();
    if (now >= deadline) return -EAGAIN;
    if (const long p = call.pause(deadline - now > pace ? now + pace : deadline); p < 0) return p;
    pace = std::min<Duration>(pace * 2, std::chrono::milliseconds(64));
    const long r = connect_once(fd, addr, len);
    if (r == -EINPROGRESS) return finish_connect(call, fd, addr, len);
    if (r != -EAGAIN) return r;
  }
}

long connect_cooperatively(int fd, const FdInfo& info, const sockaddr* addr, socklen_t len) {
  BlockingCall call(fd, info, Direction::kSend, "connect");
  const long r = connect_once(fd, addr, len);
  if (r == -EINPROGRESS) return finish_connect(call, fd, addr, len);
  if (r == -EAGAIN) return connect_again(call, fd, addr, len);
  return r;
}

}  // namespace

// The table entry of a socket `listener` just accepted: its type, a fresh description.
void accepted(int fd, const FdInfo& listener, int flags) noexcept {
  if (fd < 0 || !green_threads()) return;
  if (listener.kind == FdKind::kSocket) {
    fd_created(fd, FdKind::kSocket, listener.socket_type, (flags & SOCK_NONBLOCK) != 0);
  } else {
    fd_forget(fd);  // classified on first use
  }
}

namespace {

template <class Accept>
long accept_cooperatively(int fd, const FdInfo& info, Accept accept, int flags) {
  BlockingCall call(fd, info, Direction::kReceive, "accept");
  auto attempt = [&] { return with_nonblocking(fd, [&] { return syscall_result(accept()); }); };
  long r = attempt();
  if (r == -EAGAIN) r = call.retry(POLLIN, attempt);
  accepted(static_cast<int>(r), info, flags);
  return r;
}

// A socket whose description is shared may have been made non-blocking elsewhere: then the call
// is the program's own (and the flag must not be cleared after it).
bool blocking_now(int fd, const FdInfo& info) noexcept {
  return !info.shared || !kernel_nonblocking(fd);
}

}  // namespace
}  // namespace cogent::shim

using cogent::shim::cooperating_socket;
using cogent::shim::FdInfo;
using cogent::shim::libc_result;

extern "C" {

int accept(int fd, sockaddr* addr, socklen_t* addrlen) {
  FdInfo info;
  if (!cooperating_socket(fd, info) || !cogent::shim::blocking_now(fd, info)) {
    const int r = COGENT_REAL(accept)(fd, addr, addrlen);
    cogent::shim::accepted(r, info, 0);
    return r;
  }
  const int saved_errno = errno;
  auto call = [&] { return COGENT_REAL(accept)(fd, addr, addrlen); };
  return static_cast<int>(
      libc_result(cogent::shim::accept_cooperatively(fd, info, call, 0), saved_errno));
}

int accept4(int fd, sockaddr* addr, socklen_t* addrlen, int flags) {
  FdInfo info;
  if (!cooperating_socket(fd, info) || !cogent::shim::blocking_now(fd, info)) {
    const int r = COGENT_REAL(accept4)(fd, addr, addrlen, flags);
    cogent::shim::accepted(r, info, flags);
    return r;
  }
  const int saved_errno = errno;
  auto call = [&] { return COGENT_REAL(accept4)(fd, addr, addrlen, flags); };
  return static_cast<int>(
      libc_result(cogent::shim::accept_cooperatively(fd, info, call, flags), saved_errno));
}

int connect(int fd, const sockaddr* addr, socklen_t len) {
  FdInfo info;
  if (!cooperating_socket(fd, info) || !cogent::shim::blocking_now(fd, info)) {
    return COGENT_REAL(connect)(fd, addr, len);
  }
  const int saved_errno = errno;
  return static_cast<int>(
      libc_result(cogent::shim::connect_cooperatively(fd, info, addr, len), saved_errno));
}

}  // extern "C"
