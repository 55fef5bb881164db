#include "cogent/net/stream.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

namespace cogent::net {

using detail::CountOutcome;
using detail::DoneOutcome;
using detail::ExactOutcome;
using detail::IoKind;
using detail::IoRequest;
using detail::IoStart;

namespace {

constexpr TimePoint kNoDeadline = TimePoint::max();

IoRequest request(IoKind kind, int fd, const void* buf, std::size_t len) {
  return IoRequest{kind, fd, 0, const_cast<void*>(buf), len};
}

IoRequest vector_request(IoKind kind, int fd, std::span<const iovec> iov, std::size_t max) {
  if (iov.size() > max) {
    throw std::invalid_argument("cogent: readv/writev take at most " + std::to_string(max) +
                                " buffers, not " + std::to_string(iov.size()));
  }
  return IoRequest{kind, fd, 0, const_cast<iovec*>(iov.data()), iov.size()};
}

IoRequest connect_request(int fd, const SocketAddress& peer) {
  return IoRequest{IoKind::kConnect, fd, 0, const_cast<sockaddr*>(peer.native()), peer.size()};
}

void require_address(const SocketAddress& peer) {
  if (peer.family() == AF_UNSPEC)
    throw std::invalid_argument("cogent: connect to an empty address");
}

}  // namespace

std::size_t StreamSocket::read(void* buf, std::size_t len) {
  return detail::io_blocking<CountOutcome>("read",
                                           request(IoKind::kRecv, checked_fd("read"), buf, len),
                                           IoStart::kAdaptive, false, kNoDeadline, &read_waited_);
}

void StreamSocket::read_exact(void* buf, std::size_t len) {
  detail::io_blocking<ExactOutcome>("read_exact",
                                    request(IoKind::kRecv, checked_fd("read_exact"), buf, len),
                                    IoStart::kAdaptive, true, kNoDeadline, &read_waited_);
}

std::size_t StreamSocket::write(const void* buf, std::size_t len) {
  return detail::io_blocking<CountOutcome>(
      "write", request(IoKind::kSend, checked_fd("write"), buf, len), IoStart::kRingFirst);
}

void StreamSocket::write_all(const void* buf, std::size_t len) {
  detail::io_blocking<ExactOutcome>("write_all",
                                    request(IoKind::kSend, checked_fd("write_all"), buf, len),
                                    IoStart::kRingFirst, true);
}

std::size_t StreamSocket::readv(std::span<const iovec> iov) {
  return detail::io_blocking<CountOutcome>(
      "readv", vector_request(IoKind::kRecvv, checked_fd("readv"), iov, kMaxIov),
      IoStart::kTryFirst);
}

std::size_t StreamSocket::writev(std::span<const iovec> iov) {
  return detail::io_blocking<CountOutcome>(
      "writev", vector_request(IoKind::kSendv, checked_fd("writev"), iov, kMaxIov),
      IoStart::kTryFirst);
}

detail::IoAwaiter<CountOutcome> StreamSocket::async_read(void* buf, std::size_t len) {
  return detail::io_async<CountOutcome>("read",
                                        request(IoKind::kRecv, checked_fd("read"), buf, len),
                                        IoStart::kAdaptive, false, kNoDeadline, &read_waited_);
}

detail::IoAwaiter<ExactOutcome> StreamSocket::async_read_exact(void* buf, std::size_t len) {
  return detail::io_async<ExactOutcome>("read_exact",
                                        request(IoKind::kRecv, checked_fd("read_exact"), buf, len),
                                        IoStart::kAdaptive, true, kNoDeadline, &read_waited_);
}

detail::IoAwaiter<CountOutcome> StreamSocket::async_write(const void* buf, std::size_t len) {
  return detail::io_async<CountOutcome>(
      "write", request(IoKind::kSend, checked_fd("write"), buf, len), IoStart::kRingFirst);
}

detail::IoAwaiter<ExactOutcome> StreamSocket::async_write_all(const void* buf, std::size_t len) {
  return detail::io_async<ExactOutcome>("write_all",
                                        request(IoKind::kSend, checked_fd("write_all"), buf, len),
                                        IoStart::kRingFirst, true);
}

detail::IoAwaiter<CountOutcome> StreamSocket::async_readv(std::span<const iovec> iov) {
  return detail::io_async<CountOutcome>(
      "readv", vector_request(IoKind::kRecvv, checked_fd("readv"), iov, kMaxIov),
      IoStart::kTryFirst);
}

detail::IoAwaiter<CountOutcome> StreamSocket::async_writev(std::span<const iovec> iov) {
  return detail::io_async<CountOutcome>(
      "writev", vector_request(IoKind::kSendv, checked_fd("writev"), iov, kMaxIov),
      IoStart::kTryFirst);
}

void StreamSocket::shutdown(int how) {
  if (::shutdown(checked_fd("shutdown"), how) < 0) {
    throw std::system_error(errno, std::generic_category(), "cogent: shutdown");
  }
}

SocketAddress StreamSocket::peer_address() const {
  SocketAddress a;
  if (::getpeername(checked_fd("getpeername"), a.native(), a.size_slot()) < 0) {
    throw std::system_error(errno, std::generic_category(), "cogent: getpeername");
  }
  return a;
}

TcpStream TcpStream::connect(const SocketAddress& peer) {
  return connect_until(peer, TimePoint::max());
}

TcpStream TcpStream::connect_until(const SocketAddress& peer, TimePoint deadline) {
  require_address(peer);
  TcpStream s(open_socket(peer.family(), SOCK_STREAM));
  detail::io_blocking<DoneOutcome>("connect", connect_request(s.fd(), peer), IoStart::kTryFirst,
                                   false, deadline);
  return s;
}

Task<TcpStream> TcpStream::async_connect(SocketAddress peer) {
  return async_connect_until(std::move(peer), TimePoint::max());
}

Task<TcpStream> TcpStream::async_connect_until(SocketAddress peer, TimePoint deadline) {
  require_address(peer);
  TcpStream s(open_socket(peer.family(), SOCK_STREAM));
  const IoRequest r = connect_request(s.fd(), peer);
  co_await detail::io_async<DoneOutcome>("connect", r, IoStart::kTryFirst, false, deadline);
  co_return s;
}

void TcpStream::set_nodelay(bool on) { set_option(IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0); }

bool TcpStream::nodelay() const { return option(IPPROTO_TCP, TCP_NODELAY) != 0; }

UnixStream UnixStream::connect(std::string_view path) {
  const SocketAddress peer = SocketAddress::unix_path(path);
  UnixStream s(open_socket(AF_UNIX, SOCK_STREAM));
  detail::io_blocking<DoneOutcome>("connect", connect_request(s.fd(), peer), IoStart::kTryFirst);
  return s;
}

Task<UnixStream> UnixStream::async_connect(std::string path) {
  const SocketAddress peer = SocketAddress::unix_path(path);
  UnixStream s(open_socket(AF_UNIX, SOCK_STREAM));
  const IoRequest r = connect_request(s.fd(), peer);
  co_await detail::io_async<DoneOutcome>("connect", r, IoStart::kTryFirst);
  co_return s;
}

std::pair<UnixStream, UnixStream> UnixStream::pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0) {
    throw std::system_error(errno, std::generic_category(), "cogent: socketpair");
  }
  return {UnixStream(fds[0]), UnixStream(fds[1])};
}

}  // namespace cogent::net
