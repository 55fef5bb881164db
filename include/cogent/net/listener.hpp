// Listening sockets: TCP (IPv4, IPv6; SO_REUSEADDR, SO_REUSEPORT) and Unix-domain. accept()
// suspends the calling greenlet until a connection arrives; async_accept() is the task's face.
// accept() fails with std::system_error: EMFILE/ENFILE when descriptors run out (the
// connection stays queued in the kernel; back off and retry), EBADF after close().
//
//   auto l = cogent::net::TcpListener::bind(SocketAddress::loopback(0));
//   std::uint16_t port = l.local_address().port();
//   for (;;) cogent::spawn(serve, l.accept());
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cogent/net/socket.hpp"
#include "cogent/net/stream.hpp"

namespace cogent::net {

struct ListenOptions {
  int backlog = 4096;  // the kernel caps it at net.core.somaxconn
  bool reuse_address = true;
  /// SO_REUSEPORT: several listeners (one per hub) share the port, the kernel spreads connections.
  bool reuse_port = false;
  /// IPV6_V6ONLY for an IPv6 listener; false accepts IPv4 too on "::".
  bool v6_only = false;
};

template <class Stream>
struct AcceptOutcome {
  static Stream take(const detail::IoOperation& op, long outcome) {
    detail::CountOutcome::take(op, outcome);
    return Stream(static_cast<int>(outcome));
  }
};

class TcpListener : public Socket {
 public:
  TcpListener() noexcept = default;
  /// Binds and listens; port 0 picks a free port (see local_address()).
  static TcpListener bind(const SocketAddress& address, const ListenOptions& options = {});

  TcpStream accept();
  detail::IoAwaiter<AcceptOutcome<TcpStream>> async_accept();

 private:
  explicit TcpListener(int fd) noexcept : Socket(fd) {}
};

class UnixListener : public Socket {
 public:
  UnixListener() noexcept = default;
  /// Binds and listens at `path` (EADDRINUSE when it exists; the caller decides to unlink).
  static UnixListener bind(std::string_view path, int backlog = 4096);

  UnixStream accept();
  detail::IoAwaiter<AcceptOutcome<UnixStream>> async_accept();

 private:
  explicit UnixListener(int fd) noexcept : Socket(fd) {}
};

}  // namespace cogent::net
