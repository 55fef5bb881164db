#include "cogent/net/listener.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <system_error>

namespace cogent::net {
namespace {

detail::IoRequest accept_request(int fd) {
  return detail::IoRequest{detail::IoKind::kAccept, fd, SOCK_NONBLOCK | SOCK_CLOEXEC};
}

void bind_and_listen(int fd, const SocketAddress& address, int backlog) {
  if (::bind(fd, address.native(), address.size()) < 0) {
    throw std::system_error(errno, std::generic_category(), "cogent: bind " + address.to_string());
  }
  if (::listen(fd, backlog) < 0) {
    throw std::system_error(errno, std::generic_category(),
                            "cogent: listen on " + address.to_string());
  }
}

}  // namespace

TcpListener TcpListener::bind(const SocketAddress& address, const ListenOptions& options) {
  if (address.family() != AF_INET && address.family() != AF_INET6) {
    throw std::invalid_argument("cogent: a TCP listener needs an IPv4 or IPv6 address, not " +
                                address.to_string());
  }
  TcpListener l(open_socket(address.family(), SOCK_STREAM));
  if (options.reuse_address) l.set_option(SOL_SOCKET, SO_REUSEADDR, 1);
  if (options.reuse_port) l.set_option(SOL_SOCKET, SO_REUSEPORT, 1);
  if (address.family() == AF_INET6) l.set_option(IPPROTO_IPV6, IPV6_V6ONLY, options.v6_only);
  bind_and_listen(l.fd(), address, options.backlog);
  return l;
}

TcpStream TcpListener::accept() {
  return detail::io_blocking<AcceptOutcome<TcpStream>>(
      "accept", accept_request(checked_fd("accept")), detail::IoStart::kRingFirst);
}

detail::IoAwaiter<AcceptOutcome<TcpStream>> TcpListener::async_accept() {
  return detail::io_async<AcceptOutcome<TcpStream>>("accept", accept_request(checked_fd("accept")),
                                                    detail::IoStart::kTryFirst);
}

UnixListener UnixListener::bind(std::string_view path, int backlog) {
  const SocketAddress address = SocketAddress::unix_path(path);
  UnixListener l(open_socket(AF_UNIX, SOCK_STREAM));
  bind_and_listen(l.fd(), address, backlog);
  return l;
}

UnixStream UnixListener::accept() {
  return detail::io_blocking<AcceptOutcome<UnixStream>>(
      "accept", accept_request(checked_fd("accept")), detail::IoStart::kRingFirst);
}

detail::IoAwaiter<AcceptOutcome<UnixStream>> UnixListener::async_accept() {
  return detail::io_async<AcceptOutcome<UnixStream>>("accept", accept_request(checked_fd("accept")),
                                                     detail::IoStart::kTryFirst);
}

}  // namespace cogent::net
