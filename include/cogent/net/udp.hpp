// UDP sockets: datagrams to and from any peer.
//
//   auto u = cogent::net::UdpSocket::bind(SocketAddress::loopback(0));
//   u.send_to("hi", 2, peer);
//   SocketAddress from;
//   std::size_t n = u.recv_from(buf, sizeof buf, from);
#pragma once

#include <cstddef>

#include "cogent/net/socket.hpp"
#include "cogent/task.hpp"

namespace cogent::net {

class UdpSocket : public Socket {
 public:
  UdpSocket() noexcept = default;
  /// A socket bound to `address` (port 0 picks one).
  static UdpSocket bind(const SocketAddress& address);
  /// An unbound socket of `family` (AF_INET, AF_INET6); the kernel binds it on first send.
  static UdpSocket open(int family);

  /// Sends one datagram; returns its size. EMSGSIZE when it is too large.
  std::size_t send_to(const void* buf, std::size_t len, const SocketAddress& to);
  /// Receives one datagram into `buf` (truncated to `len`), its sender into `from`.
  std::size_t recv_from(void* buf, std::size_t len, SocketAddress& from);

  Task<std::size_t> async_send_to(const void* buf, std::size_t len, SocketAddress to);
  Task<std::size_t> async_recv_from(void* buf, std::size_t len, SocketAddress& from);

 private:
  explicit UdpSocket(int fd) noexcept : Socket(fd) {}
};

}  // namespace cogent::net
