#include "cogent/net/udp.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <system_error>

#include "cogent/detail/io_operation.hpp"

namespace cogent::net {
namespace {

/// One datagram's message header; lives as long as the call that uses it.
struct Datagram {
  iovec iov{};
  msghdr msg{};
  Datagram(const void* buf, std::size_t len, const sockaddr* name, socklen_t name_len) {
    iov.iov_base = const_cast<void*>(buf);
    iov.iov_len = len;
    msg.msg_name = const_cast<sockaddr*>(name);
    msg.msg_namelen = name_len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
  }
  detail::IoRequest request(detail::IoKind kind, int fd) { return {kind, fd, 0, &msg, 0}; }
};

}  // namespace

UdpSocket UdpSocket::bind(const SocketAddress& address) {
  UdpSocket s(open_socket(address.family(), SOCK_DGRAM));
  if (::bind(s.fd(), address.native(), address.size()) < 0) {
    throw std::system_error(errno, std::generic_category(), "cogent: bind " + address.to_string());
  }
  return s;
}

UdpSocket UdpSocket::open(int family) { return UdpSocket(open_socket(family, SOCK_DGRAM)); }

std::size_t UdpSocket::send_to(const void* buf, std::size_t len, const SocketAddress& to) {
  Datagram d(buf, len, to.native(), to.size());
  return detail::io_blocking<detail::CountOutcome>(
      "send_to", d.request(detail::IoKind::kSendTo, checked_fd("send_to")),
      detail::IoStart::kTryFirst);
}

std::size_t UdpSocket::recv_from(void* buf, std::size_t len, SocketAddress& from) {
  sockaddr_storage name{};
  Datagram d(buf, len, reinterpret_cast<sockaddr*>(&name), sizeof name);
  const std::size_t n = detail::io_blocking<detail::CountOutcome>(
      "recv_from", d.request(detail::IoKind::kRecvFrom, checked_fd("recv_from")),
      detail::IoStart::kTryFirst);
  from = SocketAddress::from_native(reinterpret_cast<sockaddr*>(&name), d.msg.msg_namelen);
  return n;
}

Task<std::size_t> UdpSocket::async_send_to(const void* buf, std::size_t len, SocketAddress to) {
  Datagram d(buf, len, to.native(), to.size());
  const detail::IoRequest r = d.request(detail::IoKind::kSendTo, checked_fd("send_to"));
  co_return co_await detail::io_async<detail::CountOutcome>("send_to", r,
                                                            detail::IoStart::kTryFirst);
}

Task<std::size_t> UdpSocket::async_recv_from(void* buf, std::size_t len, SocketAddress& from) {
  sockaddr_storage name{};
  Datagram d(buf, len, reinterpret_cast<sockaddr*>(&name), sizeof name);
  const detail::IoRequest r = d.request(detail::IoKind::kRecvFrom, checked_fd("recv_from"));
  const std::size_t n =
      co_await detail::io_async<detail::CountOutcome>("recv_from", r, detail::IoStart::kTryFirst);
  from = SocketAddress::from_native(reinterpret_cast<sockaddr*>(&name), d.msg.msg_namelen);
  co_return n;
}

}  // namespace cogent::net
